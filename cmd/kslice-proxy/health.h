// kube-proxy's proxy health server (pkg/proxy/healthcheck/proxy_health.go; spec
// shared/spec/kube-proxy.md §8) on --healthz-bind-address:
//
//   GET /healthz  200 or 503, Content-Type application/json, X-Content-Type-Options nosniff,
//                 {"lastUpdated": "<time>","currentTime": "<time>", "nodeEligible": true}
//   GET /livez    the same without nodeEligible, and ignoring the node
//
// Health: the proxy is unhealthy once a change has been queued (QueuedUpdate, called by
// the proxier whenever it requests a sync) and not applied by a successful sync
// (Updated) for `health_timeout` (kube-proxy: 2 x --iptables-sync-period). Before the
// first successful sync it counts as healthy, as upstream (the family is not known yet).
// /healthz also needs this node to be eligible: not deleted, no deletionTimestamp, no
// ToBeDeletedByClusterAutoscaler taint. On 200, lastUpdated is reported as now (as
// upstream does for compatibility with older releases). Times are Go's time.Time
// String() in UTC without the monotonic suffix ("2026-11-27 16:45:34.5 +0000 UTC").
// Answers are counted in kubeproxy_proxy_healthz_total / kubeproxy_proxy_livez_total
// {code}.
//
// ProxyHealth is the state and the answers (unit-tested with a fake clock);
// HealthServer serves them over plain HTTP/1.1 (one thread, Connection: close).
#ifndef KSLICE_CMD_KSLICE_PROXY_HEALTH_H_
#define KSLICE_CMD_KSLICE_PROXY_HEALTH_H_

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "controller/metrics/metrics.h"
#include "proxy/backend.h"
#include "proxy/types.h"

namespace kslice::proxy::cmd {

inline constexpr char kToBeDeletedTaint[] = "ToBeDeletedByClusterAutoscaler";

struct HealthAnswer {
  int status = 200;
  std::string body;
};

class ProxyHealth {
 public:
  // `now` is the wall clock (absl::Now; tests pass a fake). `registry` may be null (no
  // metrics); it is not owned and must outlive this object.
  ProxyHealth(absl::Duration health_timeout, std::function<absl::Time()> now,
              controller::metrics::Registry* registry);

  // A change of `family`'s proxier waits for the next sync (the first call since that
  // family's last Updated counts). A dual-stack proxy reports both families here and is
  // healthy only when both are (upstream's per-family maps).
  void QueuedUpdate(IPFamily family = IPFamily::kIPv4);
  // A sync of `family` succeeded: nothing of that family is pending any more.
  void Updated(IPFamily family = IPFamily::kIPv4);
  // This node's Node object; null when it was deleted.
  void SyncNode(const api::core::v1::Node* node);

  bool IsHealthy() const;  // ignoring the node, as upstream's IsHealthy
  bool NodeEligible() const;

  HealthAnswer Healthz();
  HealthAnswer Livez();

 private:
  // Healthy, and the last update time (InfinitePast: never).
  std::pair<bool, absl::Time> Check(absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  static size_t Index(IPFamily family) { return family == IPFamily::kIPv6 ? 1 : 0; }

  const absl::Duration timeout_;
  const std::function<absl::Time()> now_;
  controller::metrics::CounterVec* healthz_total_ = nullptr;
  controller::metrics::CounterVec* livez_total_ = nullptr;
  mutable std::mutex mu_;
  // Per family (Index): InfinitePast = never / nothing pending.
  std::array<absl::Time, 2> last_updated_ ABSL_GUARDED_BY(mu_) = {absl::InfinitePast(),
                                                                  absl::InfinitePast()};
  std::array<absl::Time, 2> oldest_pending_ ABSL_GUARDED_BY(mu_) = {absl::InfinitePast(),
                                                                    absl::InfinitePast()};
  bool node_eligible_ ABSL_GUARDED_BY(mu_) = true;
};

// Go's time.Time.String() of `t` in UTC, without the monotonic clock reading;
// InfinitePast gives Go's zero time "0001-01-01 00:00:00 +0000 UTC".
std::string GoTimeString(absl::Time t);

// A Backend that reports successful syncs to ProxyHealth::Updated(family) and otherwise
// forwards to `inner` (not owned).
class HealthReportingBackend : public Backend {
 public:
  HealthReportingBackend(Backend& inner, ProxyHealth& health,
                         IPFamily family = IPFamily::kIPv4)
      : inner_(inner), health_(health), family_(family) {}
  absl::string_view name() const override { return inner_.name(); }
  absl::Status Sync(const ProxyState& state, const SyncHint& hint) override;
  absl::Status Cleanup() override { return inner_.Cleanup(); }

 private:
  Backend& inner_;
  ProxyHealth& health_;
  const IPFamily family_;
};

// The HTTP side: /healthz and /livez of a ProxyHealth, 404 for other paths.
class HealthServer {
 public:
  // `address` is "host:port" / "[v6]:port" (port 0: any free port). `health` is not
  // owned and must outlive the server.
  static absl::StatusOr<std::unique_ptr<HealthServer>> Start(const std::string& address,
                                                             ProxyHealth& health);
  ~HealthServer();  // Stop()
  int port() const;
  void Stop();

  struct Impl;

 private:
  explicit HealthServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kslice::proxy::cmd

#endif  // KSLICE_CMD_KSLICE_PROXY_HEALTH_H_
