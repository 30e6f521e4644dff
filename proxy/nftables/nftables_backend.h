// NftablesBackend: the "nftables" proxy mode. Programs one IP family's `kube-proxy` table
// with kube-proxy's nftables layout (ruleset.h) through `nft -f -`, one transaction per
// sync (atomic: on any error the kernel keeps the table as it was).
//
// The backend keeps its own model of what it programmed — per service port the chains,
// affinity sets and map elements (PortUnit), and a reference count per map/set element —
// and never lists the kernel's table:
//
//  - First sync, and any sync after a failure or Cleanup ("untrusted" model): the whole
//    table is recreated in one transaction (`add table`, `delete table`, everything).
//    Whatever the table held before — drift, objects of an earlier process — is gone.
//  - Other full syncs (periodic resync, node change): everything is rewritten in place
//    in one transaction: every chain of the model flushed and refilled, the global
//    sets/maps flushed and refilled, chains and sets no longer used deleted. Rules or
//    elements changed by hand are overwritten; affinity sets keep their entries, as in
//    kube-proxy (so ClientIP stickiness survives resyncs). Objects added by hand that
//    nothing jumps to are left alone.
//  - Partial syncs: only the service ports the hint names are rebuilt and compared with
//    the model; the transaction adds new chains and sets, flushes and refills changed
//    chains, deletes and adds the elements that differ, then flushes and deletes the
//    chains and sets that are gone. An unchanged service costs nothing. With
//    partial_via_netlink (kslice-proxy's setting) that transaction goes to the kernel
//    as one netlink batch (netlink_applier.h) instead of through nft, whose cache
//    fetch would cost a dump of the whole table.
//
// Thread-compatible: Sync and Cleanup are called from one thread at a time (backend.h).
#ifndef KSLICE_PROXY_NFTABLES_NFTABLES_BACKEND_H_
#define KSLICE_PROXY_NFTABLES_NFTABLES_BACKEND_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proxy/backend.h"
#include "proxy/iptables/runner.h"
#include "proxy/metrics.h"
#include "proxy/nftables/netlink_applier.h"
#include "proxy/nftables/ruleset.h"
#include "proxy/types.h"

namespace kslice::proxy::nftables {

struct NftablesBackendOptions {
  RulesetOptions ruleset;
  // The nft binary ("nft", looked up in PATH and the sbin directories).
  std::string nft = "nft";
  // Dry run: nothing is executed; each transaction is written to `dry_run_output` (not
  // owned, must outlive the backend).
  bool dry_run = false;
  std::ostream* dry_run_output = nullptr;
  // Send partial syncs as one nf_tables netlink batch (netlink_applier.h) instead of
  // through nft, whose cache fetch makes a one-service change cost a dump of the whole
  // table. Transactions the applier cannot express (affinity sets, firewall chains,
  // fib rules) still go through nft. Ignored in dry-run mode.
  bool partial_via_netlink = false;
  // kubeproxy_sync_proxy_rules_no_local_endpoints_total is set after each successful
  // sync. Not owned; may be null.
  ProxyMetrics* metrics = nullptr;
};

// What the last Sync sent (for tests, benchmarks and logs).
struct SyncStats {
  enum class Kind { kRecreate, kInPlace, kPartial };
  Kind kind = Kind::kRecreate;
  size_t ports_examined = 0;  // service ports rebuilt and compared
  size_t ports_changed = 0;   // of those, with a different unit
  size_t bytes = 0;           // size of the transaction text
  bool netlink = false;       // applied as a netlink batch, not by nft
  absl::Duration apply_time =
      absl::ZeroDuration();  // running nft or the netlink batch (the rest is ours)
};

class NftablesBackend : public Backend {
 public:
  // `runner` runs nft (not used in dry-run mode; may be null then). InvalidArgument for
  // bad ruleset options.
  static absl::StatusOr<std::unique_ptr<NftablesBackend>> Create(
      NftablesBackendOptions options, std::unique_ptr<iptables::Runner> runner);

  absl::string_view name() const override { return "nftables"; }
  absl::Status Sync(const ProxyState& state, const SyncHint& hint) override;
  // Deletes the `kube-proxy` table of this backend's family (no error when absent).
  absl::Status Cleanup() override;

  const std::string& last_transaction() const { return last_text_; }
  const SyncStats& last_stats() const { return stats_; }
  uint64_t sync_failures() const { return failures_; }
  // The model: service port -> its unit as programmed by the last successful sync.
  const std::map<ServicePortName, PortUnit>& programmed() const { return programmed_; }
  const RulesetGenerator& generator() const { return generator_; }

 private:
  struct ElementState {
    std::string rest;
    int refs = 0;
  };

  NftablesBackend(NftablesBackendOptions options, std::unique_ptr<iptables::Runner> runner,
                  RulesetGenerator generator);

  absl::Status Apply(const std::string& text);  // nft -f (or the dry-run stream)
  absl::Status ApplyText(const std::string& text);
  // A partial transaction: through netlink when enabled and expressible, else nft.
  absl::Status ApplyPartial(const std::string& text);
  absl::Status SyncRecreate(const ProxyState& state);
  absl::Status SyncInPlace(const ProxyState& state);
  // NotFound-like FailedPrecondition when the change cannot be expressed as a delta
  // (then the caller recreates).
  absl::Status SyncPartial(const ProxyState& state, const SyncHint& hint, bool* need_recreate);

  NftablesBackendOptions options_;
  std::unique_ptr<iptables::Runner> runner_;
  std::unique_ptr<NetlinkApplier> netlink_;  // created at the first partial sync
  RulesetGenerator generator_;
  bool trusted_ = false;
  std::map<ServicePortName, PortUnit> programmed_;
  // "set\nkey" -> element as programmed.
  absl::flat_hash_map<std::string, ElementState> elements_;
  std::string last_text_;
  SyncStats stats_;
  uint64_t failures_ = 0;
};

}  // namespace kslice::proxy::nftables

#endif  // KSLICE_PROXY_NFTABLES_NFTABLES_BACKEND_H_
