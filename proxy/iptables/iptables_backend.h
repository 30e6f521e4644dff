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
};

// A parsed `iptables --version` ("iptables v1.8.9 (nf_tables)" -> {1, 8, 9}).
struct IptablesVersion {
  int major = 0, minor = 0, patch = 0;
  bool AtLeast(int ma, int mi, int pa) const;
};
absl::StatusOr<IptablesVersion> ParseIptablesVersion(absl::string_view output);

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
  uint64_t restore_failures_ = 0;
  uint64_t partial_restore_failures_ = 0;
};

}  // namespace kslice::proxy::iptables

#endif  // KSLICE_PROXY_IPTABLES_IPTABLES_BACKEND_H_
