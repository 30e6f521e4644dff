// The mirroring controller's Prometheus metrics with upstream's names (subsystem
// endpoint_slice_mirroring_controller; kubernetes/kubernetes
// pkg/controller/endpointslicemirroring/metrics/metrics.go) and the per-Endpoints cache
// behind the three gauges (metrics/cache.go). Thread-safe.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_METRICS_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_METRICS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "controller/metrics/metrics.h"

namespace kslice::endpointslicemirroring {

// Per (address type, port set) key of one Endpoints: desired endpoints and the slices
// that exist after the sync's writes.
struct EfficiencyInfo {
  int endpoints = 0;
  int slices = 0;
};
using EndpointPortCache = std::map<std::string, EfficiencyInfo>;

class Metrics {
 public:
  // Registers (or finds, when the definitions are identical) the families in
  // `registry`. `max_endpoints_per_subset` divides endpoints into desired slices.
  static absl::StatusOr<std::unique_ptr<Metrics>> Create(controller::metrics::Registry& registry,
                                                         int32_t max_endpoints_per_subset);

  // Histograms, buckets 2, 4, ..., 32768 (sync duration: 0.001 s * 2^k, k = 0..14).
  controller::metrics::Histogram* endpoints_added_per_sync = nullptr;
  controller::metrics::Histogram* endpoints_updated_per_sync = nullptr;
  controller::metrics::Histogram* endpoints_removed_per_sync = nullptr;
  controller::metrics::Histogram* addresses_skipped_per_sync = nullptr;
  controller::metrics::Histogram* endpoints_sync_duration = nullptr;
  controller::metrics::Gauge* endpoints_desired = nullptr;
  controller::metrics::Gauge* num_endpoint_slices = nullptr;
  controller::metrics::Gauge* desired_endpoint_slices = nullptr;
  controller::metrics::CounterVec* changes = nullptr;  // {operation}: create/update/delete

  // Replaces the cache entry of an Endpoints ("ns/name") and recomputes the gauges.
  void UpdateEndpointPortCache(const std::string& endpoints_key, EndpointPortCache cache);
  // Forgets an Endpoints (no-op when unknown).
  void DeleteEndpoints(const std::string& endpoints_key);

 private:
  Metrics() = default;
  void UpdateGaugesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  int32_t max_per_slice_ = 1000;
  std::mutex mu_;
  int64_t num_endpoints_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, EndpointPortCache> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kslice::endpointslicemirroring

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_METRICS_H_
