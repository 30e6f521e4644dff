#include "proxy/iptables/fake_runner.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kslice::proxy::iptables {
namespace {

bool IsBuiltin(absl::string_view chain) {
  return chain == "INPUT" || chain == "OUTPUT" || chain == "FORWARD" || chain == "PREROUTING" ||
         chain == "POSTROUTING";
}

// The "-j TARGET" of a rule, or "".
std::string JumpTarget(absl::string_view rule) {
  size_t pos = rule.rfind(" -j ");
  if (pos == absl::string_view::npos) return "";
  absl::string_view rest = rule.substr(pos + 4);
  return std::string(rest.substr(0, rest.find(' ')));
}

bool IsChainTarget(absl::string_view target) { return absl::StartsWith(target, "KUBE-"); }

CommandResult Exit(int code, std::string err = "") {
  CommandResult r;
  r.exit_code = code;
  r.stderr_data = std::move(err);
  return r;
}

}  // namespace

FakeIptables::FakeIptables(std::string version) : version_(std::move(version)) {}

void FakeIptables::FailNextRestores(int n) {
  absl::MutexLock l(&mu_);
  fail_restores_ = n;
}

void FakeIptables::AppendRule(const std::string& table, const std::string& chain,
                              const std::string& rule) {
  absl::MutexLock l(&mu_);
  tables_[table][chain].push_back(rule);
}

void FakeIptables::FlushAll() {
  absl::MutexLock l(&mu_);
  tables_.clear();
  jumps_.clear();
}

bool FakeIptables::HasChain(const std::string& table, const std::string& chain) const {
  absl::MutexLock l(&mu_);
  auto t = tables_.find(table);
  return t != tables_.end() && t->second.count(chain) > 0;
}

std::vector<std::string> FakeIptables::Rules(const std::string& table,
                                             const std::string& chain) const {
  absl::MutexLock l(&mu_);
  auto t = tables_.find(table);
  if (t == tables_.end()) return {};
  auto c = t->second.find(chain);
  return c == t->second.end() ? std::vector<std::string>() : c->second;
}

std::set<std::string> FakeIptables::JumpRules() const {
  absl::MutexLock l(&mu_);
  return jumps_;
}

std::vector<FakeIptables::Call> FakeIptables::calls() const {
  absl::MutexLock l(&mu_);
  return calls_;
}

std::vector<std::string> FakeIptables::restore_inputs() const {
  absl::MutexLock l(&mu_);
  std::vector<std::string> out;
  for (const Call& c : calls_) {
    if (absl::EndsWith(c.argv[0], "-restore")) out.push_back(c.input);
  }
  return out;
}

absl::StatusOr<CommandResult> FakeIptables::Run(const std::vector<std::string>& argv,
                                                absl::string_view input) {
  absl::MutexLock l(&mu_);
  calls_.push_back(Call{argv, std::string(input)});
  const std::string& bin = argv.at(0);
  if (bin != "iptables" && bin != "ip6tables" && bin != "iptables-save" &&
      bin != "ip6tables-save" && bin != "iptables-restore" && bin != "ip6tables-restore") {
    return absl::NotFoundError(absl::StrCat(bin, ": not found in PATH"));
  }
  if (absl::EndsWith(bin, "-restore")) return Restore(input);
  if (absl::EndsWith(bin, "-save")) {
    if (argv.size() != 3 || argv[1] != "-t") return absl::UnimplementedError(CommandString(argv));
    CommandResult r;
    absl::StrAppend(&r.stdout_data, "*", argv[2], "\n");
    for (const auto& [chain, rules] : tables_[argv[2]]) {
      absl::StrAppend(&r.stdout_data, ":", chain, IsBuiltin(chain) ? " ACCEPT" : " -", " [0:0]\n");
    }
    for (const auto& [chain, rules] : tables_[argv[2]]) {
      for (const std::string& rule : rules) absl::StrAppend(&r.stdout_data, rule, "\n");
    }
    r.stdout_data.append("COMMIT\n");
    return r;
  }
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  if (args.size() == 1 && args[0] == "--version") {
    CommandResult r;
    r.stdout_data = absl::StrCat(bin, " ", version_, "\n");
    return r;
  }
  return Iptables(args);
}

CommandResult FakeIptables::Iptables(const std::vector<std::string>& in) {
  std::vector<std::string> args = in;
  // Drop the wait flags.
  if (args.size() >= 4 && args[0] == "-w" && args[2] == "-W")
    args.erase(args.begin(), args.begin() + 4);
  std::string table = "filter";
  if (args.size() >= 2 && args[0] == "-t") {
    table = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.size() < 2) return Exit(2, "bad command");
  const std::string op = args[0], chain = args[1];
  Table& t = tables_[table];
  std::string rule_args = absl::StrJoin(args.begin() + 2, args.end(), " ");
  std::string key = absl::StrCat(table, " ", chain, " ", rule_args);
  if (op == "-N") {
    if (t.count(chain)) return Exit(1, "iptables: Chain already exists.");
    t[chain];
    return Exit(0);
  }
  if (op == "-X") {
    if (!t.count(chain)) return Exit(1, "iptables: No chain/target/match by that name.");
    t.erase(chain);
    return Exit(0);
  }
  if (op == "-S") return Exit(t.count(chain) ? 0 : 1);
  if (op == "-C") return Exit(jumps_.count(key) ? 0 : 1);
  if (op == "-I") {
    jumps_.insert(key);
    return Exit(0);
  }
  if (op == "-D") return Exit(jumps_.erase(key) ? 0 : 1, "Bad rule");
  return Exit(2, absl::StrCat("unsupported: ", op));
}

CommandResult FakeIptables::Restore(absl::string_view input) {
  if (fail_restores_ > 0) {
    --fail_restores_;
    return Exit(2, "iptables-restore: line 3 failed");
  }
  std::map<std::string, Table> next = tables_;
  Table* t = nullptr;
  std::string table;
  std::set<std::string> flushed;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(input, '\n', absl::SkipEmpty())) {
    ++line_no;
    if (line[0] == '*') {
      table = std::string(line.substr(1));
      t = &next[table];
      flushed.clear();
      continue;
    }
    if (t == nullptr) return Exit(2, absl::StrCat("line ", line_no, ": no table"));
    if (line == "COMMIT") {
      // References must resolve once the table is complete.
      for (const auto& [chain, rules] : *t) {
        for (const std::string& rule : rules) {
          std::string target = JumpTarget(rule);
          if (IsChainTarget(target) && !t->count(target)) {
            return Exit(2, absl::StrCat("line ", line_no, ": chain ", target, " does not exist"));
          }
        }
      }
      t = nullptr;
      continue;
    }
    if (line[0] == ':') {
      std::string chain(line.substr(1, line.find(' ') - 1));
      (*t)[chain].clear();  // create or flush
      continue;
    }
    if (absl::StartsWith(line, "-A ")) {
      absl::string_view rest = line.substr(3);
      std::string chain(rest.substr(0, rest.find(' ')));
      if (!t->count(chain)) {
        return Exit(2, absl::StrCat("line ", line_no, ": chain ", chain, " does not exist"));
      }
      (*t)[chain].push_back(std::string(line));
      continue;
    }
    if (line == "-S") continue;  // lists the table: changes nothing
    if (absl::StartsWith(line, "-X ")) {
      std::string chain(line.substr(3));
      if (!t->count(chain)) {
        return Exit(2, absl::StrCat("line ", line_no, ": no chain ", chain));
      }
      for (const auto& [other, rules] : *t) {
        for (const std::string& rule : rules) {
          if (JumpTarget(rule) == chain) {
            return Exit(2, absl::StrCat("line ", line_no, ": chain ", chain, " is in use"));
          }
        }
      }
      t->erase(chain);
      continue;
    }
    return Exit(2, absl::StrCat("line ", line_no, ": cannot parse \"", line, "\""));
  }
  tables_ = std::move(next);
  return Exit(0);
}

}  // namespace kslice::proxy::iptables
