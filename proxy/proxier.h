// Proxier: the proxy core. It feeds Services, EndpointSlices and this node's Node from
// shared informers into the change trackers, and a SyncRunner calls SyncOnce(), which
// applies the pending changes into a new immutable ProxyState and hands it, with a
// SyncHint, to the Backend (the dataplane: iptables, nftables, gRPC, ...).
//
//   ProxyMetrics metrics = ...;  Backend& backend = ...;
//   auto proxier = Proxier::Create(backend, {.node_name = "node-a", .metrics = metrics});
//   informers::SharedInformerFactory factory(client, {.tweak = ProxyListOptionsTweak()});
//   (*proxier)->AttachInformers(factory);
//   factory.Start(stop);
//   (*proxier)->Run(stop);   // waits for the caches, then syncs until stop
//
// Full or partial: the first sync, the one after a failed sync, one after this node's
// labels changed, and the first one FullSyncPeriod (1 h) after the last full sync are
// full; the others are partial and name the Services whose Service or slices changed
// since the last successful sync.
//
// Metrics (ProxyMetrics, optional): sync duration (all, full, partial), the last
// successful sync timestamp, the last queued timestamp, network programming latency
// (now - each queued last-change-trigger-time, after a successful sync), service and
// endpoint change counts.
//
// The On* handlers are public so that a program without a server (the dry-run mode)
// can feed objects directly, then call SyncOnce().
//
// Thread-safety: handlers may be called from any thread; SyncOnce() must not run
// concurrently with itself (the runner guarantees that; do not call it while Run() is
// running).
#ifndef KSLICE_PROXY_PROXIER_H_
#define KSLICE_PROXY_PROXIER_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "client/flowcontrol/clock.h"
#include "informers/factory.h"
#include "proxy/backend.h"
#include "proxy/endpoints_change_tracker.h"
#include "proxy/metrics.h"
#include "proxy/service_change_tracker.h"
#include "proxy/sync_runner.h"
#include "proxy/types.h"

namespace kslice::proxy {

// Labels that take a Service (and its slices) away from this proxy, as kube-proxy's
// informer selector "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless".
inline constexpr char kServiceProxyNameLabel[] = "service.kubernetes.io/service-proxy-name";
inline constexpr char kHeadlessLabel[] = "service.kubernetes.io/headless";

// A factory tweak that sets that label selector. Use it for the factory whose Service
// and EndpointSlice informers the proxier attaches to (the proxier also filters).
informers::TweakListOptionsFunc ProxyListOptionsTweak();

struct ProxierOptions {
  std::string node_name;
  IPFamily family = IPFamily::kIPv4;
  absl::Duration min_sync_period = absl::Seconds(1);  // --iptables-min-sync-period
  absl::Duration sync_period = absl::Seconds(30);     // --iptables-sync-period
  absl::Duration full_sync_period = absl::Hours(1);   // periodic full sync
  // Time source of scheduling and durations. Not owned.
  client::flowcontrol::Clock* clock = &client::flowcontrol::Clock::Real();
  // Not owned; may be null.
  ProxyMetrics* metrics = nullptr;
  // Feature gate PreferSameTrafficDistribution (read node hints).
  bool node_hints = true;
  // Called (on the handler's thread, no lock held) whenever a change is queued for the
  // next sync: kube-proxy's ProxyHealthServer.QueuedUpdate hook. May be empty.
  std::function<void()> on_sync_queued{};
  // Called after every successful backend Sync, on the sync thread with no lock held, with
  // the state the backend held before (the last state it accepted; version 0 and empty
  // maps before the first success) and the one it holds now. The place for work that
  // must follow the dataplane and does not depend on the backend: service health-check
  // ports (healthcheck/service_health.h), stale UDP conntrack entries
  // (conntrack/cleanup.h). It must not block for long (the next sync waits) and cannot
  // fail the sync: it logs its own errors. May be empty.
  std::function<void(const ProxyState& previous, const ProxyState& current)> after_sync{};
};

class Proxier {
 public:
  // `backend` is not owned and must outlive the proxier. InvalidArgument without a node
  // name.
  static absl::StatusOr<std::unique_ptr<Proxier>> Create(Backend& backend,
                                                         ProxierOptions options);
  ~Proxier();

  // Registers handlers on the factory's Service, EndpointSlice and Node informers
  // (creating them). Call before factory.Start().
  absl::Status AttachInformers(informers::SharedInformerFactory& factory);

  // Waits for the attached informers to sync, then runs syncs until `stop`.
  // FailedPrecondition when AttachInformers was not called.
  absl::Status Run(std::stop_token stop);

  // Event handlers (the informers call these; usable directly without informers).
  void OnServiceUpdate(const std::shared_ptr<const api::core::v1::Service>& previous,
                       const std::shared_ptr<const api::core::v1::Service>& current);
  void OnEndpointSliceUpdate(const std::shared_ptr<const api::discovery::v1::EndpointSlice>& slice,
                             bool remove);
  // This node's Node (objects of other nodes are ignored); null when deleted.
  void OnNodeUpdate(const std::shared_ptr<const api::core::v1::Node>& node);

  // Applies pending changes and syncs the backend once (the runner's function).
  absl::Status SyncOnce();

  // The state last handed to the backend (version 0 before the first sync).
  ProxyState LastState() const;
  // Version of the last state the backend accepted (0: none yet).
  uint64_t LastAppliedVersion() const;

 private:
  Proxier(Backend& backend, ProxierOptions options);
  void RequestSync();

  Backend& backend_;  // not owned
  const ProxierOptions options_;
  ServiceChangeTracker services_tracker_;
  EndpointsChangeTracker endpoints_tracker_;
  SyncRunner runner_;

  std::mutex mu_;  // node and initialization; never held while syncing
  bool initialized_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<std::map<std::string, std::string>> pending_node_labels_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<bool()>> synced_ ABSL_GUARDED_BY(mu_);
  informers::SharedInformerFactory* factory_ ABSL_GUARDED_BY(mu_) = nullptr;

  // Owned by the sync thread (SyncOnce); `state_mu_` guards reads from other threads.
  mutable std::mutex state_mu_;
  ProxyState state_ ABSL_GUARDED_BY(state_mu_);
  uint64_t applied_version_ ABSL_GUARDED_BY(state_mu_) = 0;
  // Accumulated since the last successful sync.
  // The state of the last successful Sync (after_sync's `previous`).
  ProxyState applied_state_;
  std::set<std::string> changed_services_;
  std::set<ServicePortName> changed_ports_;
  std::map<std::string, std::vector<absl::Time>> trigger_times_;
  bool need_full_sync_ = true;
  absl::Time last_full_sync_ = absl::InfinitePast();
};

}  // namespace kslice::proxy

#endif  // KSLICE_PROXY_PROXIER_H_
