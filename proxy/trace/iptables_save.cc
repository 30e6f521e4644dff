#include "proxy/trace/iptables_save.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kslice::proxy::trace {
namespace {

absl::Status LineError(int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", what));
}

// One option of a match or target: [!] --name values...
struct OptionGroup {
  bool negated = false;
  std::string name;
  std::vector<std::string> values;
};

std::vector<OptionGroup> Groups(const std::vector<std::string>& args) {
  std::vector<OptionGroup> out;
  bool negate_next = false;
  for (const std::string& a : args) {
    if (a == "!") {
      negate_next = true;
    } else if (absl::StartsWith(a, "--") || out.empty()) {
      out.push_back(OptionGroup{negate_next, a, {}});
      negate_next = false;
    } else {
      out.back().values.push_back(a);
    }
  }
  return out;
}

// "0x00004000" -> "0x4000", "0x00004000/0x00004000" -> "0x4000/0x4000".
std::string NormalizeHex(const std::string& v) {
  std::vector<std::string> parts = absl::StrSplit(v, '/');
  for (std::string& p : parts) {
    if (!absl::StartsWithIgnoreCase(p, "0x") || p.size() < 3) return v;
    uint64_t n = 0;
    if (!absl::SimpleHexAtoi(p.substr(2), &n)) return v;
    p = absl::StrFormat("0x%x", n);
  }
  return absl::StrJoin(parts, "/");
}

std::string WithMask(const std::string& addr) {
  if (addr.empty() || absl::StrContains(addr, '/')) return addr;
  return absl::StrCat(addr, absl::StrContains(addr, ':') ? "/128" : "/32");
}

// Basic address match: canonical with mask; "any" ("0.0.0.0/0", "::/0") is absent.
std::string CanonicalAddress(const std::string& v) {
  bool neg = absl::StartsWith(v, "!");
  std::string a = WithMask(neg ? v.substr(1) : v);
  if (a == "0.0.0.0/0" || a == "::/0") return "";
  return neg ? absl::StrCat("!", a) : a;
}

// Normalises one option group of `module` (a match name, or "-j TARGET" for targets);
// returns false when the group is a default that the kernel adds (dropped).
bool NormalizeGroup(absl::string_view module, OptionGroup& g) {
  for (std::string& v : g.values) v = NormalizeHex(v);
  if (module == "statistic" && g.name == "--probability" && g.values.size() == 1) {
    if (std::optional<std::string> p = KernelProbability(g.values[0])) g.values[0] = *p;
  }
  if ((module == "tcp" || module == "udp" || module == "sctp")) {
    if (g.name == "--destination-port") g.name = "--dport";
    if (g.name == "--source-port") g.name = "--sport";
  }
  if (module == "recent") {
    if (g.name == "--rsource") return false;
    if (g.name == "--mask" && g.values.size() == 1 &&
        (g.values[0] == "255.255.255.255" ||
         absl::AsciiStrToLower(g.values[0]) == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")) {
      return false;
    }
  }
  if (module == "-j MARK" && g.values.size() == 1) {
    if (g.name == "--or-mark") {
      g.name = "--set-xmark";
      g.values[0] = absl::StrCat(g.values[0], "/", g.values[0]);
    } else if (g.name == "--xor-mark") {
      g.name = "--set-xmark";
      g.values[0] = absl::StrCat(g.values[0], "/0x0");
    } else if (g.name == "--set-mark" && !absl::StrContains(g.values[0], '/')) {
      g.name = "--set-xmark";
      g.values[0] = absl::StrCat(g.values[0], "/0xffffffff");
    }
  }
  return true;
}

std::string Quote(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string GroupString(const OptionGroup& g, bool quote_values) {
  std::string s = g.negated ? absl::StrCat("! ", g.name) : g.name;
  for (const std::string& v : g.values) {
    bool quote = quote_values || v.empty() || absl::StrContains(v, ' ') ||
                 absl::StrContains(v, '"');
    absl::StrAppend(&s, " ", quote ? Quote(v) : v);
  }
  return s;
}

// The normalised groups of a module, in input order.
std::vector<OptionGroup> NormalizedGroups(absl::string_view module,
                                          const std::vector<std::string>& args) {
  std::vector<OptionGroup> groups = Groups(args);
  std::vector<OptionGroup> out;
  for (OptionGroup& g : groups) {
    if (NormalizeGroup(module, g)) out.push_back(std::move(g));
  }
  return out;
}

bool IsProtocolModule(absl::string_view name) {
  return name == "tcp" || name == "udp" || name == "sctp" || name == "icmp" || name == "icmpv6";
}

absl::Status ParseRuleArgs(const std::vector<std::string>& t, size_t start, int line,
                           SavedRule& r) {
  bool negate = false;
  SavedModule* current = nullptr;  // the module options attach to
  bool in_target = false;
  auto need_value = [&](size_t& i) -> absl::StatusOr<std::string> {
    if (i + 1 >= t.size()) return LineError(line, absl::StrCat("option ", t[i], " needs a value"));
    return t[++i];
  };
  for (size_t i = start; i < t.size(); ++i) {
    const std::string& a = t[i];
    if (in_target) {
      r.target_args.push_back(a);
      continue;
    }
    if (a == "!") {
      if (negate) return LineError(line, "double \"!\"");
      negate = true;
      // A negated module option ("-m conntrack ! --ctstate X") stays with the module.
      if (current != nullptr && i + 1 < t.size() && absl::StartsWith(t[i + 1], "--")) {
        current->args.push_back(a);
        negate = false;
      }
      continue;
    }
    std::string* basic = nullptr;
    if (a == "-s" || a == "--source" || a == "--src") basic = &r.source;
    if (a == "-d" || a == "--destination" || a == "--dst") basic = &r.destination;
    if (a == "-p" || a == "--protocol") basic = &r.protocol;
    if (a == "-i" || a == "--in-interface") basic = &r.in_interface;
    if (a == "-o" || a == "--out-interface") basic = &r.out_interface;
    if (basic != nullptr) {
      absl::StatusOr<std::string> v = need_value(i);
      if (!v.ok()) return v.status();
      if (basic == &r.protocol) *v = absl::AsciiStrToLower(*v);
      *basic = negate ? absl::StrCat("!", *v) : *v;
      negate = false;
      continue;
    }
    if (negate) return LineError(line, absl::StrCat("\"!\" before ", a, " is not supported"));
    if (a == "-m" || a == "--match") {
      absl::StatusOr<std::string> v = need_value(i);
      if (!v.ok()) return v.status();
      r.matches.push_back(SavedModule{*v, {}});
      current = &r.matches.back();
      continue;
    }
    if (a == "-j" || a == "--jump" || a == "-g" || a == "--goto") {
      absl::StatusOr<std::string> v = need_value(i);
      if (!v.ok()) return v.status();
      r.target = *v;
      r.go_to = a == "-g" || a == "--goto";
      in_target = true;
      continue;
    }
    if (absl::StartsWith(a, "--")) {
      if (current == nullptr) {
        // `-p tcp --dport 80`: the protocol's implicit match.
        std::string proto = absl::StrContains(r.protocol, '!') ? "" : r.protocol;
        if (!IsProtocolModule(proto)) {
          return LineError(line, absl::StrCat("option ", a, " outside a match"));
        }
        r.matches.push_back(SavedModule{proto, {}});
        current = &r.matches.back();
      }
      current->args.push_back(a);
      continue;
    }
    if (absl::StartsWith(a, "-") && a.size() > 1 && !absl::ascii_isdigit(a[1])) {
      return LineError(line, absl::StrCat("unknown option ", a));
    }
    if (current == nullptr) return LineError(line, absl::StrCat("unexpected argument \"", a, "\""));
    current->args.push_back(a);
  }
  if (negate) return LineError(line, "\"!\" at the end of the rule");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SplitRuleArgs(absl::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, any = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted && c == '\\' && i + 1 < line.size()) {
      cur.push_back(line[++i]);
    } else if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if ((c == ' ' || c == '\t') && !quoted) {
      if (any) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur.push_back(c);
      any = true;
    }
  }
  if (quoted) return absl::InvalidArgumentError("unterminated quote");
  if (any) out.push_back(cur);
  return out;
}

std::optional<double> KernelProbabilityValue(absl::string_view text) {
  double p = 0;
  if (!absl::SimpleAtod(text, &p) || !(p >= 0.0 && p <= 1.0)) return std::nullopt;
  // xt_statistic: probability = lround(p * 0x80000000), shown as value / 0x80000000.
  double q = static_cast<double>(std::lround(p * 2147483648.0));
  return q / 2147483648.0;
}

std::optional<std::string> KernelProbability(absl::string_view text) {
  std::optional<double> v = KernelProbabilityValue(text);
  if (!v) return std::nullopt;
  return absl::StrFormat("%.11f", *v);
}

std::optional<std::string> SavedRule::MatchOption(absl::string_view module,
                                                  absl::string_view option) const {
  for (const SavedModule& m : matches) {
    if (m.name != module) continue;
    for (const OptionGroup& g : Groups(m.args)) {
      if (g.name == option) return g.values.empty() ? "" : absl::StrJoin(g.values, " ");
    }
  }
  return std::nullopt;
}

bool SavedRule::HasMatch(absl::string_view module) const {
  for (const SavedModule& m : matches) {
    if (m.name == module) return true;
  }
  return false;
}

std::optional<std::string> SavedRule::TargetOption(absl::string_view option) const {
  for (const OptionGroup& g : Groups(target_args)) {
    if (g.name == option) return g.values.empty() ? "" : absl::StrJoin(g.values, " ");
  }
  return std::nullopt;
}

std::string SavedRule::Comment() const { return MatchOption("comment", "--comment").value_or(""); }

std::optional<std::string> SavedRule::Probability() const {
  return MatchOption("statistic", "--probability");
}

std::string SavedRule::Key() const {
  std::vector<std::string> parts;
  parts.push_back(absl::StrCat("s=", CanonicalAddress(source)));
  parts.push_back(absl::StrCat("d=", CanonicalAddress(destination)));
  parts.push_back(absl::StrCat("p=", protocol));
  parts.push_back(absl::StrCat("i=", in_interface));
  parts.push_back(absl::StrCat("o=", out_interface));
  std::vector<std::string> modules;
  for (const SavedModule& m : matches) {
    if (m.name == "nfacct") continue;
    std::vector<std::string> groups;
    for (const OptionGroup& g : NormalizedGroups(m.name, m.args)) {
      groups.push_back(GroupString(g, /*quote_values=*/true));
    }
    std::sort(groups.begin(), groups.end());
    modules.push_back(absl::StrCat("-m ", m.name, " ", absl::StrJoin(groups, " ")));
  }
  std::sort(modules.begin(), modules.end());
  parts.push_back(absl::StrJoin(modules, " | "));
  std::vector<std::string> targs;
  for (const OptionGroup& g : NormalizedGroups(absl::StrCat("-j ", target), target_args)) {
    targs.push_back(GroupString(g, true));
  }
  std::sort(targs.begin(), targs.end());
  parts.push_back(absl::StrCat(go_to ? "-g " : "-j ", target, " ", absl::StrJoin(targs, " ")));
  return absl::StrJoin(parts, " ; ");
}

std::string SavedRule::Render() const {
  std::string s = absl::StrCat("-A ", chain);
  auto basic = [&](absl::string_view flag, const std::string& v, bool address) {
    if (v.empty()) return;
    std::string value = address ? CanonicalAddress(v) : v;
    if (value.empty()) return;
    if (absl::StartsWith(value, "!")) {
      absl::StrAppend(&s, " ! ", flag, " ", value.substr(1));
    } else {
      absl::StrAppend(&s, " ", flag, " ", value);
    }
  };
  basic("-s", source, true);
  basic("-d", destination, true);
  basic("-i", in_interface, false);
  basic("-o", out_interface, false);
  basic("-p", protocol, false);
  for (const SavedModule& m : matches) {
    absl::StrAppend(&s, " -m ", m.name);
    for (const OptionGroup& g : NormalizedGroups(m.name, m.args)) {
      absl::StrAppend(&s, " ", GroupString(g, m.name == "comment"));
    }
  }
  if (!target.empty()) {
    absl::StrAppend(&s, go_to ? " -g " : " -j ", target);
    for (const OptionGroup& g : NormalizedGroups(absl::StrCat("-j ", target), target_args)) {
      absl::StrAppend(&s, " ", GroupString(g, false));
    }
  }
  return s;
}

const SavedChain* SavedRuleset::Find(absl::string_view table, absl::string_view chain) const {
  auto t = tables.find(std::string(table));
  if (t == tables.end()) return nullptr;
  auto c = t->second.chains.find(std::string(chain));
  return c == t->second.chains.end() ? nullptr : &c->second;
}

void SavedRuleset::Merge(SavedRuleset other) {
  for (auto& [name, table] : other.tables) tables[name] = std::move(table);
}

absl::StatusOr<SavedRuleset> ParseIptablesSave(absl::string_view text) {
  SavedRuleset out;
  SavedTable* table = nullptr;
  int line_number = 0;
  auto chain_of = [&](const std::string& name) -> SavedChain& {
    auto [it, added] = table->chains.try_emplace(name);
    if (added) {
      it->second.name = name;
      it->second.policy = "-";
      table->chain_order.push_back(name);
    }
    return it->second;
  };
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '*') {
      if (table != nullptr) return LineError(line_number, "table started before COMMIT");
      std::string name(absl::StripAsciiWhitespace(line.substr(1)));
      if (name.empty()) return LineError(line_number, "table without a name");
      table = &out.tables[name];
      table->name = name;
      continue;
    }
    if (line == "COMMIT") {
      if (table == nullptr) return LineError(line_number, "COMMIT outside a table");
      table = nullptr;
      continue;
    }
    if (table == nullptr) {
      return LineError(line_number, absl::StrCat("\"", line.substr(0, 40), "\" outside a table"));
    }
    if (line[0] == ':') {
      std::vector<std::string> f = absl::StrSplit(line.substr(1), ' ', absl::SkipWhitespace());
      if (f.empty() || f.size() > 3) return LineError(line_number, "bad chain declaration");
      SavedChain& c = chain_of(f[0]);
      if (f.size() > 1) c.policy = f[1];
      continue;
    }
    absl::StatusOr<std::vector<std::string>> t = SplitRuleArgs(line);
    if (!t.ok()) return LineError(line_number, t.status().message());
    size_t i = 0;
    // `iptables-save -c`: "[packets:bytes] -A ..."
    if (i < t->size() && absl::StartsWith((*t)[i], "[")) ++i;
    if (i + 1 >= t->size()) return LineError(line_number, "command without a chain");
    const std::string& cmd = (*t)[i];
    if (cmd == "-X" || cmd == "-F" || cmd == "-N" || cmd == "--delete-chain" ||
        cmd == "--flush" || cmd == "--new-chain") {
      // Restore payload commands: -X deletes the chain (stale chains), -F empties it.
      const std::string& name = (*t)[i + 1];
      if (cmd == "-X" || cmd == "--delete-chain") {
        table->chains.erase(name);
        table->chain_order.erase(
            std::remove(table->chain_order.begin(), table->chain_order.end(), name),
            table->chain_order.end());
      } else if (cmd == "-F" || cmd == "--flush") {
        chain_of(name).rules.clear();
      } else {
        chain_of(name);
      }
      continue;
    }
    if (cmd != "-A" && cmd != "--append") {
      return LineError(line_number, absl::StrCat("unknown command \"", cmd, "\""));
    }
    SavedRule r;
    r.chain = (*t)[i + 1];
    r.line_number = line_number;
    if (absl::Status s = ParseRuleArgs(*t, i + 2, line_number, r); !s.ok()) return s;
    chain_of(r.chain).rules.push_back(std::move(r));
  }
  if (table != nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("table ", table->name, " has no COMMIT (truncated input?)"));
  }
  return out;
}

}  // namespace kslice::proxy::trace
