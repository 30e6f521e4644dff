#include "proxy/iptables/iptables_backend.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "proxy/iptables/chain_names.h"

namespace kslice::proxy::iptables {
namespace {

constexpr char kCanaryChain[] = "KUBE-PROXY-CANARY";

// A jump from a built-in chain into one of ours, as kube-proxy installs it.
struct JumpRule {
  const char* table;
  const char* dst;  // our chain
  const char* src;  // built-in chain
  const char* comment;
  bool ctstate_new;  // extra match "-m conntrack --ctstate NEW"
};

// kube-proxy's iptablesJumpChains, in its order (each is prepended, so later entries
// end up first in the built-in chain).
constexpr JumpRule kJumpRules[] = {
    {"filter", "KUBE-EXTERNAL-SERVICES", "INPUT", "kubernetes externally-visible service portals",
     true},
    {"filter", "KUBE-EXTERNAL-SERVICES", "FORWARD", "kubernetes externally-visible service portals",
     true},
    {"filter", "KUBE-NODEPORTS", "INPUT", "kubernetes health check service ports", false},
    {"filter", "KUBE-SERVICES", "FORWARD", "kubernetes service portals", true},
    {"filter", "KUBE-SERVICES", "OUTPUT", "kubernetes service portals", true},
    {"filter", "KUBE-FORWARD", "FORWARD", "kubernetes forwarding rules", false},
    {"filter", "KUBE-PROXY-FIREWALL", "INPUT", "kubernetes load balancer firewall", true},
    {"filter", "KUBE-PROXY-FIREWALL", "OUTPUT", "kubernetes load balancer firewall", true},
    {"filter", "KUBE-PROXY-FIREWALL", "FORWARD", "kubernetes load balancer firewall", true},
    {"nat", "KUBE-SERVICES", "OUTPUT", "kubernetes service portals", false},
    {"nat", "KUBE-SERVICES", "PREROUTING", "kubernetes service portals", false},
    {"nat", "KUBE-POSTROUTING", "POSTROUTING", "kubernetes postrouting rules", false},
};

// kubelet's anti-martian chain: ensured like the others, never removed by Cleanup.
constexpr JumpRule kKubeletJumpRules[] = {
    {"filter", "KUBE-FIREWALL", "INPUT", "", false},
    {"filter", "KUBE-FIREWALL", "OUTPUT", "", false},
};

std::vector<std::string> JumpArgs(const JumpRule& jump) {
  std::vector<std::string> args;
  if (jump.ctstate_new) args.insert(args.end(), {"-m", "conntrack", "--ctstate", "NEW"});
  if (jump.comment[0] != '\0')
    args.insert(args.end(), {"-m", "comment", "--comment", jump.comment});
  args.insert(args.end(), {"-j", jump.dst});
  return args;
}

absl::Status CommandError(const std::vector<std::string>& argv, const CommandResult& r) {
  return absl::UnavailableError(absl::StrCat(CommandString(argv), ": exit status ", r.exit_code,
                                             ": ", absl::StripAsciiWhitespace(r.stderr_data)));
}

}  // namespace

bool IptablesVersion::AtLeast(int ma, int mi, int pa) const {
  return std::tie(major, minor, patch) >= std::tie(ma, mi, pa);
}

absl::StatusOr<IptablesVersion> ParseIptablesVersion(absl::string_view output) {
  size_t v = output.find(" v");
  if (v == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("no version in \"", output, "\""));
  }
  absl::string_view rest = output.substr(v + 2);
  rest = rest.substr(0, rest.find_first_not_of("0123456789."));
  std::vector<absl::string_view> parts = absl::StrSplit(rest, '.');
  IptablesVersion out;
  int* fields[] = {&out.major, &out.minor, &out.patch};
  if (parts.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat("bad version in \"", output, "\""));
  }
  for (size_t i = 0; i < parts.size() && i < 3; ++i) {
    if (!absl::SimpleAtoi(parts[i], fields[i])) {
      return absl::InvalidArgumentError(absl::StrCat("bad version in \"", output, "\""));
    }
  }
  out.nf_tables = absl::StrContains(output, "(nf_tables)");
  return out;
}

std::string WithWholeTableCache(absl::string_view payload, size_t min_chains) {
  // Section boundaries: where each "*table" line ends, and its declared-chain count.
  struct Section {
    size_t header_end = 0;  // offset just past the "*table\n" line
    size_t chains = 0;
  };
  std::vector<Section> sections;
  size_t pos = 0;
  while (pos < payload.size()) {
    size_t end = payload.find('\n', pos);
    size_t next = end == absl::string_view::npos ? payload.size() : end + 1;
    char c = payload[pos];
    if (c == '*') {
      sections.push_back(Section{next, 0});
    } else if (c == ':' && !sections.empty()) {
      ++sections.back().chains;
    }
    pos = next;
  }
  std::string out;
  size_t copied = 0;
  for (const Section& s : sections) {
    if (min_chains == 0 || s.chains < min_chains) continue;
    if (out.empty()) out.reserve(payload.size() + 3 * sections.size());
    absl::StrAppend(&out, payload.substr(copied, s.header_end - copied));
    if (!out.empty() && out.back() != '\n') out.push_back('\n');
    out.append("-S\n");
    copied = s.header_end;
  }
  if (copied == 0) return std::string(payload);
  absl::StrAppend(&out, payload.substr(copied));
  return out;
}

ChainFilterResult FilterUnchangedChains(absl::string_view payload, const ChainDigests* previous) {
  struct ChainState {
    ChainDigest digest;
    size_t rules = 0;
    bool declared = false;
    bool forget = false;  // deleted, or changed by something other than -A
    bool skip = false;
  };
  using TableChains = absl::flat_hash_map<absl::string_view, ChainState>;
  // Keys are views into `payload`.
  std::vector<std::pair<absl::string_view, TableChains>> tables;

  // Calls fn(line) for each line of the payload (without its newline).
  auto for_each_line = [payload](auto&& fn) {
    size_t pos = 0;
    while (pos < payload.size()) {
      size_t end = payload.find('\n', pos);
      if (end == absl::string_view::npos) end = payload.size();
      fn(payload.substr(pos, end - pos));
      pos = end + 1;
    }
  };
  // "-A NAME ..." -> NAME; "" when the line is not of the form "-<op> NAME...".
  auto rule_chain = [](absl::string_view line) -> absl::string_view {
    if (line.size() < 4 || line[0] != '-' || line[2] != ' ') return "";
    absl::string_view rest = line.substr(3);
    return rest.substr(0, rest.find(' '));
  };
  auto declared_chain = [](absl::string_view line) {
    absl::string_view rest = line.substr(1);
    return rest.substr(0, rest.find(' '));
  };

  // Pass 1: digest every chain's rules.
  {
    TableChains* cur = nullptr;
    // The chain of the previous rule line; rules of a chain mostly come in runs. Any
    // insertion into *cur may move entries, so this is reset after every lookup.
    ChainState* last = nullptr;
    absl::string_view last_name;
    for_each_line([&](absl::string_view line) {
      if (line.empty()) return;
      if (line[0] == '*') {
        tables.emplace_back(line.substr(1), TableChains());
        cur = &tables.back().second;
        last = nullptr;
        return;
      }
      if (cur == nullptr) return;
      if (line[0] == ':') {
        (*cur)[declared_chain(line)].declared = true;
        last = nullptr;
        return;
      }
      absl::string_view name = rule_chain(line);
      if (name.empty()) return;
      if (last == nullptr || last_name != name) {
        last = &(*cur)[name];
        last_name = name;
      }
      if (line[1] == 'A') {
        last->digest.hash = absl::HashOf(last->digest.hash, line);
        last->digest.length += line.size() + 1;
        ++last->rules;
      } else {
        last->forget = true;
      }
    });
  }

  ChainFilterResult out;
  for (auto& [table, chains] : tables) {
    const absl::flat_hash_map<std::string, ChainDigest>* before = nullptr;
    if (previous != nullptr) {
      auto it = previous->find(table);
      if (it != previous->end()) before = &it->second;
    }
    absl::flat_hash_map<std::string, ChainDigest>& declared = out.declared[table];
    for (auto& [name, c] : chains) {
      if (c.forget || !c.declared) {
        // Deleted, or changed in a way not digested here (rules appended to an
        // undeclared chain): what it holds afterwards is unknown.
        out.forget[table].emplace_back(name);
        continue;
      }
      declared.emplace(name, c.digest);
      if (before == nullptr) continue;
      auto it = before->find(name);
      if (it == before->end() || !(it->second == c.digest)) continue;
      c.skip = true;
      ++out.skipped_chains;
      (table == "nat" ? out.skipped_nat_rules : out.skipped_filter_rules) += c.rules;
    }
  }
  if (out.skipped_chains == 0) return out;

  // Pass 2: copy the payload without the skipped chains.
  out.payload.reserve(payload.size());
  size_t table_index = 0;
  TableChains* cur = nullptr;
  for_each_line([&](absl::string_view line) {
    if (!line.empty() && cur != nullptr) {
      absl::string_view name;
      if (line[0] == ':') {
        name = declared_chain(line);
      } else if (line[0] == '-' && line.size() > 1 && line[1] == 'A') {
        name = rule_chain(line);
      }
      if (!name.empty()) {
        auto it = cur->find(name);
        if (it != cur->end() && it->second.skip) return;
      }
    }
    if (!line.empty() && line[0] == '*') cur = &tables[table_index++].second;
    out.payload.append(line.data(), line.size());
    out.payload.push_back('\n');
  });
  return out;
}

absl::flat_hash_set<std::string> ChainsFromSave(absl::string_view save_output) {
  absl::flat_hash_set<std::string> chains;
  for (absl::string_view line : absl::StrSplit(save_output, '\n')) {
    if (line.empty() || line[0] != ':') continue;
    line.remove_prefix(1);
    chains.insert(std::string(line.substr(0, line.find(' '))));
  }
  return chains;
}

absl::StatusOr<std::unique_ptr<IptablesBackend>> IptablesBackend::Create(
    IptablesBackendOptions options, std::unique_ptr<Runner> runner) {
  if (options.dry_run) {
    if (options.dry_run_output == nullptr) {
      return absl::InvalidArgumentError("dry run without an output stream");
    }
    options.detect_version = false;
  } else if (runner == nullptr) {
    return absl::InvalidArgumentError("iptables backend without a runner");
  }
  const bool ipv6 = options.ruleset.family == IPFamily::kIPv6;
  if (options.detect_version) {
    std::vector<std::string> argv = {ipv6 ? "ip6tables" : "iptables", "--version"};
    absl::StatusOr<CommandResult> r = runner->Run(argv, "");
    if (!r.ok()) return r.status();
    if (r->exit_code != 0) return CommandError(argv, *r);
    absl::StatusOr<IptablesVersion> version = ParseIptablesVersion(r->stdout_data);
    if (!version.ok()) return version.status();
    // Both the restore wait flags and --random-fully arrived in iptables 1.6.2.
    options.wait_flags = version->AtLeast(1, 6, 2);
    options.ruleset.random_fully = version->AtLeast(1, 6, 2);
    options.nft_flavor = version->nf_tables;
  }
  absl::StatusOr<std::unique_ptr<RulesetGenerator>> generator =
      RulesetGenerator::Create(options.ruleset);
  if (!generator.ok()) return generator.status();
  return std::unique_ptr<IptablesBackend>(
      new IptablesBackend(std::move(options), std::move(runner), *std::move(generator)));
}

IptablesBackend::IptablesBackend(IptablesBackendOptions options, std::unique_ptr<Runner> runner,
                                 std::unique_ptr<RulesetGenerator> generator)
    : options_(std::move(options)),
      runner_(std::move(runner)),
      generator_(std::move(generator)),
      ipv6_(options_.ruleset.family == IPFamily::kIPv6) {}

std::string IptablesBackend::Binary(absl::string_view suffix) const {
  return absl::StrCat(ipv6_ ? "ip6tables" : "iptables", suffix);
}

std::vector<std::string> IptablesBackend::IptablesCommand(std::vector<std::string> args) const {
  std::vector<std::string> argv = {Binary("")};
  if (options_.wait_flags) argv.insert(argv.end(), {"-w", "5", "-W", "100000"});
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  return argv;
}

absl::StatusOr<CommandResult> IptablesBackend::RunCommand(const std::vector<std::string>& argv,
                                                          absl::string_view input) {
  return runner_->Run(argv, input);
}

absl::Status IptablesBackend::EnsureChain(absl::string_view table, absl::string_view chain) {
  std::vector<std::string> argv =
      IptablesCommand({"-t", std::string(table), "-N", std::string(chain)});
  absl::StatusOr<CommandResult> r = RunCommand(argv);
  if (!r.ok()) return r.status();
  // Exit status 1 is "Chain already exists".
  if (r->exit_code != 0 && r->exit_code != 1) return CommandError(argv, *r);
  return absl::OkStatus();
}

absl::Status IptablesBackend::EnsureJumpRules() {
  auto ensure = [&](const JumpRule& jump) -> absl::Status {
    if (absl::Status s = EnsureChain(jump.table, jump.dst); !s.ok()) return s;
    std::vector<std::string> args = JumpArgs(jump);
    std::vector<std::string> check = {"-t", jump.table, "-C", jump.src};
    check.insert(check.end(), args.begin(), args.end());
    std::vector<std::string> check_argv = IptablesCommand(std::move(check));
    absl::StatusOr<CommandResult> r = RunCommand(check_argv);
    if (!r.ok()) return r.status();
    if (r->exit_code == 0) return absl::OkStatus();  // already there
    std::vector<std::string> insert = {"-t", jump.table, "-I", jump.src};
    insert.insert(insert.end(), args.begin(), args.end());
    std::vector<std::string> insert_argv = IptablesCommand(std::move(insert));
    r = RunCommand(insert_argv);
    if (!r.ok()) return r.status();
    if (r->exit_code != 0) return CommandError(insert_argv, *r);
    return absl::OkStatus();
  };
  for (const JumpRule& jump : kJumpRules) {
    if (absl::Status s = ensure(jump); !s.ok()) return s;
  }
  for (const JumpRule& jump : kKubeletJumpRules) {
    if (absl::Status s = ensure(jump); !s.ok()) return s;
  }
  for (const char* table : {"mangle", "nat", "filter"}) {
    if (absl::Status s = EnsureChain(table, kCanaryChain); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::flat_hash_set<std::string>> IptablesBackend::SaveChains(
    absl::string_view table) {
  std::vector<std::string> argv = {Binary("-save"), "-t", std::string(table)};
  absl::StatusOr<CommandResult> r = RunCommand(argv);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return CommandError(argv, *r);
  return ChainsFromSave(r->stdout_data);
}

absl::Status IptablesBackend::Restore(const std::string& payload) {
  std::vector<std::string> argv = {Binary("-restore")};
  if (options_.wait_flags) argv.insert(argv.end(), {"-w", "5", "-W", "100000"});
  argv.insert(argv.end(), {"--noflush", "--counters"});
  absl::StatusOr<CommandResult> r =
      options_.nft_flavor && options_.nft_whole_table_min_chains > 0
          ? RunCommand(argv, WithWholeTableCache(payload, options_.nft_whole_table_min_chains))
          : RunCommand(argv, payload);
  if (!r.ok()) return absl::UnavailableError(r.status().message());
  if (r->exit_code != 0) return CommandError(argv, *r);
  return absl::OkStatus();
}

bool IptablesBackend::CanaryMissing() {
  absl::Time now = absl::Now();
  if (now - last_canary_check_ < options_.sync_period) return false;
  last_canary_check_ = now;
  absl::StatusOr<CommandResult> r =
      RunCommand(IptablesCommand({"-t", "mangle", "-S", kCanaryChain, "1"}));
  return !r.ok() || r->exit_code != 0;
}

absl::Status IptablesBackend::Sync(const ProxyState& state, const SyncHint& hint) {
  if (state.family != options_.ruleset.family) {
    return absl::FailedPreconditionError(
        absl::StrCat("iptables backend for ", IPFamilyName(options_.ruleset.family),
                     " got a state of family ", IPFamilyName(state.family)));
  }
  bool full = hint.full || need_full_sync_;
  if (!full && !options_.dry_run && CanaryMissing()) full = true;
  last_sync_full_ = full;

  // From here on a failure means the next sync must be full.
  need_full_sync_ = true;
  if (full && !options_.dry_run) {
    if (absl::Status s = EnsureJumpRules(); !s.ok()) return s;
    // Chains an earlier process left behind are stale too. (If the save fails, only
    // the chains this backend remembers are cleaned up this time.)
    absl::StatusOr<absl::flat_hash_set<std::string>> saved = SaveChains("nat");
    if (saved.ok()) {
      for (const std::string& chain : *saved) {
        if (IsServiceChainName(chain)) programmed_.insert(chain);
      }
    }
    last_canary_check_ = absl::Now();
  }

  GenerateRequest request;
  request.full = full;
  request.changed_services = &hint.changed_services;
  // A partial sync follows a successful one, so the generator's own previous state is
  // what the kernel holds; a full sync compares with everything known to exist.
  request.existing_nat_chains = full ? &programmed_ : nullptr;
  Ruleset ruleset = generator_->Generate(state, request);

  // Leave out what the kernel already holds (partial syncs only; a full sync digests
  // its payload so that the next partial sync can compare).
  ChainFilterResult filtered;
  if (options_.skip_unchanged_chains) {
    filtered = FilterUnchangedChains(ruleset.payload, full ? nullptr : &applied_);
    if (filtered.skipped_chains > 0) ruleset.payload = std::move(filtered.payload);
  }
  last_skipped_chains_ = filtered.skipped_chains;

  absl::Status applied = absl::OkStatus();
  if (options_.dry_run) {
    *options_.dry_run_output << ruleset.payload;
  } else {
    applied = Restore(ruleset.payload);
  }
  last_payload_ = std::move(ruleset.payload);
  ProxyMetrics* m = options_.metrics;
  if (!applied.ok()) {
    applied_.clear();  // the next sync is full and writes everything
    ++restore_failures_;
    if (m != nullptr) m->iptables_restore_failures_total->Inc();
    if (!full) {
      ++partial_restore_failures_;
      if (m != nullptr) m->iptables_partial_restore_failures_total->Inc();
    }
    return applied;
  }
  need_full_sync_ = false;
  if (options_.skip_unchanged_chains) {
    if (full) {
      applied_ = std::move(filtered.declared);
    } else {
      for (auto& [table, chains] : filtered.declared) {
        auto& known = applied_[table];
        for (auto& [chain, digest] : chains) known.insert_or_assign(chain, digest);
      }
    }
    for (const auto& [table, chains] : filtered.forget) {
      auto it = applied_.find(table);
      if (it == applied_.end()) continue;
      for (const std::string& chain : chains) it->second.erase(chain);
    }
  }
  for (const std::string& chain : ruleset.deleted_chains) programmed_.erase(chain);
  for (std::string& chain : ruleset.new_chains) programmed_.insert(std::move(chain));
  if (m != nullptr) {
    const double filter_rules = static_cast<double>(ruleset.filter_rule_lines);
    m->iptables_rules_total->WithLabelValues({"filter"}).Set(filter_rules);
    m->iptables_rules_last->WithLabelValues({"filter"})
        .Set(filter_rules - static_cast<double>(filtered.skipped_filter_rules));
    m->iptables_rules_total->WithLabelValues({"nat"}).Set(
        static_cast<double>(ruleset.NatRulesTotal()));
    m->iptables_rules_last->WithLabelValues({"nat"}).Set(
        static_cast<double>(ruleset.nat_rule_lines - ruleset.deleted_chains.size() -
                            filtered.skipped_nat_rules));
    m->no_local_endpoints_total->WithLabelValues({"internal"})
        .Set(ruleset.no_local_endpoints_internal);
    m->no_local_endpoints_total->WithLabelValues({"external"})
        .Set(ruleset.no_local_endpoints_external);
  }
  return absl::OkStatus();
}

absl::Status IptablesBackend::Cleanup() {
  programmed_.clear();
  applied_.clear();
  need_full_sync_ = true;
  if (options_.dry_run) return absl::OkStatus();
  absl::Status result = absl::OkStatus();
  auto keep_first_error = [&](absl::Status s) {
    if (result.ok() && !s.ok()) result = std::move(s);
  };

  // Unlink our chains from the built-in ones (a missing rule is not an error).
  for (const JumpRule& jump : kJumpRules) {
    std::vector<std::string> args = {"-t", jump.table, "-D", jump.src};
    std::vector<std::string> jump_args = JumpArgs(jump);
    args.insert(args.end(), jump_args.begin(), jump_args.end());
    absl::StatusOr<CommandResult> r = RunCommand(IptablesCommand(std::move(args)));
    if (!r.ok()) keep_first_error(r.status());
  }

  // Flush and delete our chains, one restore per table.
  struct TableChains {
    const char* table;
    std::vector<const char*> fixed;
    bool service_chains;
  };
  const TableChains tables[] = {
      {"nat",
       {"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ", kCanaryChain},
       true},
      {"filter",
       {"KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS",
        "KUBE-PROXY-FIREWALL", kCanaryChain},
       false},
  };
  for (const TableChains& t : tables) {
    absl::StatusOr<absl::flat_hash_set<std::string>> existing = SaveChains(t.table);
    if (!existing.ok()) {
      keep_first_error(existing.status());
      continue;
    }
    std::vector<std::string> remove;
    for (const char* chain : t.fixed) {
      if (existing->contains(chain)) remove.push_back(chain);
    }
    if (t.service_chains) {
      std::vector<std::string> service;
      for (const std::string& chain : *existing) {
        if (IsServiceChainName(chain)) service.push_back(chain);
      }
      std::sort(service.begin(), service.end());
      remove.insert(remove.end(), service.begin(), service.end());
    }
    std::string payload = absl::StrCat("*", t.table, "\n");
    for (const std::string& chain : remove) absl::StrAppend(&payload, ":", chain, " - [0:0]\n");
    for (const std::string& chain : remove) absl::StrAppend(&payload, "-X ", chain, "\n");
    payload.append("COMMIT\n");
    if (absl::Status s = Restore(payload); !s.ok()) {
      ++restore_failures_;
      if (options_.metrics != nullptr) options_.metrics->iptables_restore_failures_total->Inc();
      keep_first_error(std::move(s));
    }
  }
  // The mangle canary; it may not exist.
  (void)RunCommand(IptablesCommand({"-t", "mangle", "-X", kCanaryChain}));
  return result;
}

}  // namespace kslice::proxy::iptables
