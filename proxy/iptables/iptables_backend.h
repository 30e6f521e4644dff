// IptablesBackend: the "iptables" proxy mode. Programs one IP family's iptables with
// kube-proxy's ruleset (ruleset.h), the way kube-proxy's iptables proxier does:
//
//  - Full syncs first ensure kube-proxy's jump rules from the built-in chains
//    (`iptables -N KUBE-...`, then `-C` and, when missing, `-I <chain> 1`: PREROUTING and
//    OUTPUT -> KUBE-SERVICES, INPUT -> KUBE-NODEPORTS, ...) and the KUBE-PROXY-CANARY
//    chains in the mangle, nat and filter tables.
//  - Every sync writes the whole payload in one `iptables-restore -w 5 -W 100000
//    --noflush --counters` (ip6tables-restore for IPv6): atomic per table, other chains
//    untouched.
//  - Partial syncs (hint not full) rewrite only the changed services' chains.
//  - Unchanged chains are skipped (options.skip_unchanged_chains, on by default): the
//    backend remembers, per table and chain, a 64-bit hash and the length of the rule
//    lines it last applied successfully, and on a partial sync leaves out of the payload
//    every chain (fixed ones such as KUBE-SERVICES included) whose rules are
//    byte-identical to those. With --noflush an undeclared chain is left as it is, so
//    a one-service endpoint change writes only that service's chains instead of also
//    flushing and refilling KUBE-SERVICES with a rule per service (docs/proxy.md,
//    "Apply time"). Full syncs write everything and reset what is remembered.
//  - Stale chains: the backend remembers the per-service chains it programmed and
//    deletes those no longer used; on a full sync it also reads `iptables-save -t nat`
//    so that chains left by an earlier process (or kube-proxy) are removed too.
//  - A failed restore is counted (kubeproxy_sync_proxy_rules_iptables_restore_failures
//    _total, and ..._partial_... for partial syncs), and the next sync is full whatever
//    the hint says. On partial syncs at most once per sync period the mangle canary is
//    checked; if something flushed iptables, the sync is upgraded to a full one.
//  - Cleanup() removes the jump rules and every KUBE chain kube-proxy would remove.
//
// Thread-compatible: Sync and Cleanup are called from one thread at a time (backend.h).
#ifndef KSLICE_PROXY_IPTABLES_IPTABLES_BACKEND_H_
#define KSLICE_PROXY_IPTABLES_IPTABLES_BACKEND_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proxy/backend.h"
#include "proxy/iptables/ruleset.h"
#include "proxy/iptables/runner.h"
#include "proxy/metrics.h"

namespace kslice::proxy::iptables {

struct IptablesBackendOptions {
  RulesetConfig ruleset;
  // Ask `iptables --version` whether the wait flags and MASQUERADE --random-fully are
  // supported (iptables >= 1.6.2). When false, `wait_flags` and
  // ruleset.random_fully are used as given.
  bool detect_version = true;
  bool wait_flags = true;  // pass -w 5 -W 100000 (iptables) / -w 5 -W 100000 (restore)
  absl::Duration sync_period = absl::Seconds(30);  // canary check interval
  ProxyMetrics* metrics = nullptr;                 // not owned; may be null
  // Dry run: nothing is executed; each payload is written to `dry_run_output` (not
  // owned, must outlive the backend) instead of being restored.
  bool dry_run = false;
  std::ostream* dry_run_output = nullptr;
  // On partial syncs, leave out the chains whose rules are byte-identical to what the
  // last successful restore wrote (see the class comment). When false every payload
  // is exactly the generator's, i.e. kube-proxy's.
  bool skip_unchanged_chains = true;
  // iptables-nft only (set by version detection when `iptables --version` says
  // "(nf_tables)"): a table section of a restore payload that declares at least this
  // many chains starts with a chain-less `-S`. iptables 1.8.x's nf_tables restore keeps
  // the chains a --noflush batch names in a sorted linked list, one insertion per
  // command, which is quadratic (1,000 services x 10 endpoints: 4.8 s; 3,000: minutes);
  // a command naming no chain makes it cache the whole table instead, and the restore
  // becomes linear (1.1 s; 3,000: 2.5 s). `-S` only lists the table (its output is
  // discarded), so nothing else changes. 0 turns this off.
  bool nft_flavor = false;
  size_t nft_whole_table_min_chains = 1000;
};

// A parsed `iptables --version` ("iptables v1.8.9 (nf_tables)" -> {1, 8, 9}).
struct IptablesVersion {
  int major = 0, minor = 0, patch = 0;
  bool nf_tables = false;  // "(nf_tables)" after the version: the iptables-nft flavour
  bool AtLeast(int ma, int mi, int pa) const;
};
absl::StatusOr<IptablesVersion> ParseIptablesVersion(absl::string_view output);

// The rules of one chain as last applied: a hash of its rule lines (in order) and their
// total length in bytes, newlines included.
struct ChainDigest {
  uint64_t hash = 0;
  uint64_t length = 0;
  bool operator==(const ChainDigest& o) const { return hash == o.hash && length == o.length; }
};
// table -> chain -> digest.
using ChainDigests =
    absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, ChainDigest>>;

// Result of FilterUnchangedChains.
struct ChainFilterResult {
  // The payload without the skipped chains' declarations and rules; empty when nothing
  // was skipped (then the input payload is to be used as is).
  std::string payload;
  // Digests of the chains the input payload declares (skipped ones included), except
  // those it deletes with -X.
  ChainDigests declared;
  // Per table, the chains whose content after the restore is not known from the
  // payload alone: those it deletes (-X) and those it changes without declaring them.
  absl::flat_hash_map<std::string, std::vector<std::string>> forget;
  size_t skipped_chains = 0;
  size_t skipped_filter_rules = 0;
  size_t skipped_nat_rules = 0;
};

// Digests the chains of a restore payload and, when `previous` is not null, leaves out
// each chain that the payload declares (":NAME ..."), fills only with "-A NAME" lines,
// does not delete, and whose digest equals previous[table][NAME]. Lines of other kinds
// are always kept, and so is any chain they name other than with -A or -X.
ChainFilterResult FilterUnchangedChains(absl::string_view payload, const ChainDigests* previous);

// `payload` with a `-S` line right after the "*table" line of every table section that
// declares at least `min_chains` chains (see IptablesBackendOptions::nft_flavor); the
// payload unchanged when no section does.
std::string WithWholeTableCache(absl::string_view payload, size_t min_chains);

// The chains `iptables-save` output declares (":NAME POLICY [p:b]" lines).
absl::flat_hash_set<std::string> ChainsFromSave(absl::string_view save_output);

class IptablesBackend : public Backend {
 public:
  // `runner` is used for every command (not used in dry-run mode; may be null then).
  static absl::StatusOr<std::unique_ptr<IptablesBackend>> Create(IptablesBackendOptions options,
                                                                 std::unique_ptr<Runner> runner);

  absl::string_view name() const override { return "iptables"; }
  absl::Status Sync(const ProxyState& state, const SyncHint& hint) override;
  absl::Status Cleanup() override;

  // Introspection for tests, benchmarks and the dry-run binary.
  const std::string& last_payload() const { return last_payload_; }
  bool last_sync_was_full() const { return last_sync_full_; }
  uint64_t restore_failures() const { return restore_failures_; }
  uint64_t partial_restore_failures() const { return partial_restore_failures_; }
  // Chains the last sync left out of its payload as unchanged (0 for full syncs).
  size_t last_skipped_chains() const { return last_skipped_chains_; }
  // Per-service nat chains programmed by the last successful sync.
  const absl::flat_hash_set<std::string>& programmed_chains() const { return programmed_; }
  const RulesetConfig& ruleset_config() const { return generator_->config(); }

 private:
  IptablesBackend(IptablesBackendOptions options, std::unique_ptr<Runner> runner,
                  std::unique_ptr<RulesetGenerator> generator);

  std::string Binary(absl::string_view base) const;  // "iptables" / "ip6tables" + suffix
  std::vector<std::string> IptablesCommand(std::vector<std::string> args) const;
  absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                           absl::string_view input = "");
  absl::Status EnsureChain(absl::string_view table, absl::string_view chain);
  absl::Status EnsureJumpRules();
  absl::StatusOr<absl::flat_hash_set<std::string>> SaveChains(absl::string_view table);
  absl::Status Restore(const std::string& payload);
  bool CanaryMissing();

  IptablesBackendOptions options_;
  std::unique_ptr<Runner> runner_;
  std::unique_ptr<RulesetGenerator> generator_;
  bool ipv6_ = false;
  bool need_full_sync_ = true;
  bool last_sync_full_ = false;
  absl::Time last_canary_check_ = absl::InfinitePast();
  absl::flat_hash_set<std::string> programmed_;
  std::string last_payload_;
  size_t last_skipped_chains_ = 0;
  // What the last successful restores left in each chain (skip_unchanged_chains only).
  ChainDigests applied_;
  uint64_t restore_failures_ = 0;
  uint64_t partial_restore_failures_ = 0;
};

}  // namespace kslice::proxy::iptables

#endif  // KSLICE_PROXY_IPTABLES_IPTABLES_BACKEND_H_
