// Backend: one dataplane the proxy programs (iptables, nftables, a remote agent over
// gRPC, ...), and the registry that --proxy-mode picks one from.
//
// The proxy core owns all Kubernetes-facing work: informers, change trackers, the sync
// loop (sync_runner.h) and metrics common to every mode. A backend only turns a
// ProxyState snapshot (types.h) into its dataplane:
//
//   class MyBackend : public Backend {
//    public:
//     absl::string_view name() const override { return "mine"; }
//     absl::Status Sync(const ProxyState& state, const SyncHint& hint) override;
//     absl::Status Cleanup() override;
//   };
//   KSLICE_REGISTER_PROXY_BACKEND(mine, [](const BackendOptions& o)
//       -> absl::StatusOr<std::unique_ptr<Backend>> { return std::make_unique<MyBackend>(o); });
//
//   absl::StatusOr<std::unique_ptr<Backend>> b = NewBackend("mine", options);
//
// Contract of Sync:
//  - Called from one thread at a time (the sync runner's), never concurrently with
//    itself or Cleanup.
//  - `state` is complete: every tracked service port and its endpoints. `hint` says
//    which part changed since the state of the last *successful* Sync
//    (hint.previous_version). A backend may always do more than the hint asks (a
//    partial hint may be served by a full rewrite), never less.
//  - hint.full is set on the first sync, periodically (--sync-period based resync),
//    after any failed Sync, and when the node context changed. A full sync must make
//    the dataplane equal to `state` whatever it held before (stale objects removed).
//  - On error the runner retries later with a full hint; the backend must leave the
//    dataplane usable (atomic apply, as iptables-restore gives). Use status codes as
//    absl documents: Unavailable for transient failures, FailedPrecondition when
//    retrying cannot help until something changes (both are retried by the runner;
//    the code is logged and counted).
//  - Snapshots are immutable and shared: a backend may keep `state` (a cheap copy) to
//    diff the next one against, which is how a streaming backend produces deltas
//    with version numbers (see docs/proxy.md).
//
// Cleanup removes everything the backend ever installed (kube-proxy --cleanup, or
// switching modes). It must work on a fresh backend with no prior Sync.
#ifndef KSLICE_PROXY_BACKEND_H_
#define KSLICE_PROXY_BACKEND_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proxy/types.h"

namespace kslice::proxy {

class ProxyMetrics;  // proxy/metrics.h

// What changed between the state of the last successful Sync and the state passed now.
struct SyncHint {
  // Rewrite everything. When set, the sets below may be empty and must be ignored.
  bool full = true;
  // Version of the state last applied successfully; 0 before the first success.
  uint64_t previous_version = 0;
  // "<namespace>/<name>" of Services whose Service object or EndpointSlices changed
  // (kube-proxy's partial sync rewrites these services' chains only).
  std::set<std::string> changed_services;
  // Service ports added, removed, or whose ServicePortInfo or endpoint list changed.
  // A removed port appears here but not in the new state.
  std::set<ServicePortName> changed_ports;

  // True when `port` must be (re)written by this sync.
  bool NeedsSync(const ServicePortName& port) const {
    return full || changed_services.count(port.NamespacedName()) > 0;
  }
};

// Settings every backend may read; a backend ignores what does not apply to it.
// Node name and IP family are fixed for a backend's lifetime.
struct BackendOptions {
  std::string node_name;
  IPFamily family = IPFamily::kIPv4;
  // --cluster-cidr entries of this family ("192.168.0.0/16"); empty: no local detection.
  std::vector<std::string> cluster_cidrs;
  bool masquerade_all = false;        // --masquerade-all
  int masquerade_bit = 14;            // --iptables-masquerade-bit (mark = 1 << bit)
  bool localhost_nodeports = true;    // --iptables-localhost-nodeports
  absl::Duration sync_period = absl::Seconds(30);      // --iptables-sync-period
  absl::Duration min_sync_period = absl::Seconds(1);   // --iptables-min-sync-period
  // Do not touch the dataplane: write what would be applied to `dry_run_output`.
  bool dry_run = false;
  std::ostream* dry_run_output = nullptr;  // not owned; used only with dry_run
  // Metrics of the proxy; backends record their own families here (e.g. iptables
  // restore failures). Not owned; may be null (then record nothing).
  ProxyMetrics* metrics = nullptr;
  // Backend-specific settings ("grpc.listen" = "unix:/run/kslice-proxy/grpc.sock", ...).
  std::map<std::string, std::string> extra;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // The registered name ("iptables", "nftables", "grpc").
  virtual absl::string_view name() const = 0;
  // Makes the dataplane match `state`; see the file comment for the contract.
  virtual absl::Status Sync(const ProxyState& state, const SyncHint& hint) = 0;
  // Removes everything this backend (or a previous run of it) installed.
  virtual absl::Status Cleanup() = 0;
};

using BackendFactory =
    std::function<absl::StatusOr<std::unique_ptr<Backend>>(const BackendOptions&)>;

// Adds a backend under `name`. AlreadyExists if the name is taken, InvalidArgument for
// an empty name or factory. Thread-safe.
absl::Status RegisterBackend(absl::string_view name, BackendFactory factory);

// Builds the backend registered as `name` (the --proxy-mode value). NotFound lists the
// registered names. Thread-safe.
absl::StatusOr<std::unique_ptr<Backend>> NewBackend(absl::string_view name,
                                                   const BackendOptions& options);

// Registered names, sorted.
std::vector<std::string> RegisteredBackends();

namespace internal {
struct BackendRegistrar {
  BackendRegistrar(const char* name, BackendFactory factory);
};
}  // namespace internal

// Registers a backend at static-initialization time. Put it in a small `cc_library`
// with `alwayslink = True` so that linking the target is what enables the mode.
#define KSLICE_REGISTER_PROXY_BACKEND(name, factory)                          \
  static const ::kslice::proxy::internal::BackendRegistrar                   \
      kslice_proxy_backend_registrar_##name(#name, factory)

}  // namespace kslice::proxy

#endif  // KSLICE_PROXY_BACKEND_H_
