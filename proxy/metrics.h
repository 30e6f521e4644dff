// kube-proxy's metrics (pkg/proxy/metrics/metrics.go), registered on a
// controller::metrics::Registry and served on --metrics-bind-address /metrics.
//
// The core (proxier.h) records the sync-duration, timestamp, network-programming and
// change-tracker families; backends record their own (iptables restore failures, rule
// counts) through BackendOptions::metrics. Names and buckets follow upstream
// (~v1.31, without the ip_family label newer releases add).
#ifndef KSLICE_PROXY_METRICS_H_
#define KSLICE_PROXY_METRICS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "controller/metrics/metrics.h"

namespace kslice::proxy {

class ProxyMetrics {
 public:
  // Registers every family on `registry` (not owned; must outlive this object).
  // Creating twice on one registry shares the families (identical definitions).
  static absl::StatusOr<std::unique_ptr<ProxyMetrics>> Create(
      controller::metrics::Registry& registry);

  using Counter = controller::metrics::Counter;
  using Gauge = controller::metrics::Gauge;
  using Histogram = controller::metrics::Histogram;
  using GaugeVec = controller::metrics::GaugeVec;

  // The registry the families live on (not owned): backends register their own families
  // there (e.g. the gRPC backend's kslice_proxy_grpc_*). Never null after Create.
  controller::metrics::Registry* registry = nullptr;

  // All pointers are owned by the registry and never null after Create.
  Histogram* sync_proxy_rules_duration = nullptr;           // every sync
  Histogram* sync_full_proxy_rules_duration = nullptr;
  Histogram* sync_partial_proxy_rules_duration = nullptr;
  Gauge* sync_proxy_rules_last_timestamp = nullptr;         // on success
  Gauge* sync_proxy_rules_last_queued_timestamp = nullptr;  // on a sync request
  Histogram* network_programming_duration = nullptr;
  Gauge* endpoint_changes_pending = nullptr;
  Counter* endpoint_changes_total = nullptr;
  Gauge* service_changes_pending = nullptr;
  Counter* service_changes_total = nullptr;
  Counter* iptables_restore_failures_total = nullptr;          // iptables backend
  Counter* iptables_partial_restore_failures_total = nullptr;  // iptables backend
  GaugeVec* iptables_rules_total = nullptr;                    // label "table"
  GaugeVec* iptables_rules_last = nullptr;                     // label "table"
  GaugeVec* no_local_endpoints_total = nullptr;                // label "traffic_policy"

 private:
  ProxyMetrics() = default;
};

}  // namespace kslice::proxy

#endif  // KSLICE_PROXY_METRICS_H_
