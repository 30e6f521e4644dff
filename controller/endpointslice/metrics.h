// The controller's Prometheus metrics with upstream's names (subsystem
// endpoint_slice_controller; k8s.io/endpointslice metrics/metrics.go) and the
// per-service cache behind the gauges (metrics/cache.go).
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICE_METRICS_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICE_METRICS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "controller/metrics/metrics.h"

namespace kslice::endpointslice {

// Per port group of one service: how many endpoints, how many slices exist.
struct EfficiencyInfo {
  int endpoints = 0;
  int slices = 0;
};
// Port-mapping key -> efficiency, for one service (ServicePortCache).
using ServicePortCache = std::map<std::string, EfficiencyInfo>;

class Metrics {
 public:
  // Registers (or finds) the families in `registry`.
  static absl::StatusOr<std::unique_ptr<Metrics>> Create(controller::metrics::Registry& registry,
                                                         int32_t max_endpoints_per_slice);

  controller::metrics::Histogram* endpoints_added_per_sync = nullptr;
  controller::metrics::Histogram* endpoints_removed_per_sync = nullptr;
  controller::metrics::Gauge* endpoints_desired = nullptr;
  controller::metrics::Gauge* num_endpoint_slices = nullptr;
  controller::metrics::Gauge* desired_endpoint_slices = nullptr;
  controller::metrics::CounterVec* changes = nullptr;  // {operation}
  // {topology, traffic_distribution}
  controller::metrics::HistogramVec* endpointslices_changed_per_sync = nullptr;
  controller::metrics::CounterVec* syncs = nullptr;  // {result}
  controller::metrics::GaugeVec* services_count_by_traffic_distribution = nullptr;

  // The cache (service key "ns/name"): each update recomputes the three gauges.
  void UpdateServicePortCache(const std::string& service_key, const ServicePortCache& cache);
  // nullopt: the service uses no (valid) traffic distribution.
  void UpdateTrafficDistributionForService(const std::string& service_key,
                                           std::optional<std::string> traffic_distribution);
  void DeleteService(const std::string& service_key);

 private:
  Metrics() = default;
  void UpdateGaugesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int32_t max_endpoints_per_slice_ = 100;
  std::mutex mu_;
  std::map<std::string, ServicePortCache> by_service_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> traffic_distribution_ ABSL_GUARDED_BY(mu_);
  // Running sums over by_service_ (upstream keeps them the same way).
  int64_t num_endpoints_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t num_slices_actual_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t num_slices_desired_ ABSL_GUARDED_BY(mu_) = 0;
  // Services per traffic distribution value; values are never removed (as upstream).
  std::map<std::string, int> services_by_traffic_distribution_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kslice::endpointslice

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICE_METRICS_H_
