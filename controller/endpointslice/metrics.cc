#include "controller/endpointslice/metrics.h"

#include <string>
#include <utility>
#include <vector>

namespace kslice::endpointslice {

namespace cm = ::kslice::controller::metrics;

namespace {

constexpr char kSubsystem[] = "endpoint_slice_controller_";

// Upstream numDesiredSlices: 0 for no endpoints, else ceil(endpoints / max).
int NumDesiredSlices(int endpoints, int max_per_slice) {
  if (endpoints == 0) return 0;
  if (endpoints <= max_per_slice) return 1;
  return (endpoints + max_per_slice - 1) / max_per_slice;
}

struct Totals {
  int64_t actual = 0, desired = 0, endpoints = 0;
};

// Upstream ServicePortCache.totals: a service counts at least one desired slice (the
// placeholder).
Totals TotalsOf(const ServicePortCache& cache, int max_per_slice) {
  Totals t;
  for (const auto& [key, info] : cache) {
    t.endpoints += info.endpoints;
    t.actual += info.slices;
    t.desired += NumDesiredSlices(info.endpoints, max_per_slice);
  }
  if (t.desired == 0) t.desired = 1;
  return t;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Create(cm::Registry& registry,
                                                         int32_t max_endpoints_per_slice) {
  std::unique_ptr<Metrics> m(new Metrics());
  m->max_endpoints_per_slice_ = max_endpoints_per_slice > 0 ? max_endpoints_per_slice : 100;
  auto name = [](const char* n) { return std::string(kSubsystem) + n; };
  // Help texts as upstream, without component-base's "[BETA] "/"[ALPHA] " prefix (as
  // the work queue metrics, docs/workqueue.md).
  std::vector<double> sync_buckets = cm::ExponentialBuckets(2, 2, 15);

  auto added = registry.NewHistogram(
      {.name = name("endpoints_added_per_sync"),
       .help = "Number of endpoints added on each Service sync"},
      sync_buckets);
  if (!added.ok()) return added.status();
  m->endpoints_added_per_sync = *added;

  auto removed = registry.NewHistogram(
      {.name = name("endpoints_removed_per_sync"),
       .help = "Number of endpoints removed on each Service sync"},
      sync_buckets);
  if (!removed.ok()) return removed.status();
  m->endpoints_removed_per_sync = *removed;

  auto desired = registry.NewGauge(
      {.name = name("endpoints_desired"), .help = "Number of endpoints desired"});
  if (!desired.ok()) return desired.status();
  m->endpoints_desired = *desired;

  auto num_slices = registry.NewGauge(
      {.name = name("num_endpoint_slices"), .help = "Number of EndpointSlices"});
  if (!num_slices.ok()) return num_slices.status();
  m->num_endpoint_slices = *num_slices;

  auto desired_slices = registry.NewGauge(
      {.name = name("desired_endpoint_slices"),
       .help = "Number of EndpointSlices that would exist with perfect endpoint allocation"});
  if (!desired_slices.ok()) return desired_slices.status();
  m->desired_endpoint_slices = *desired_slices;

  auto changes = registry.NewCounterVec(
      {.name = name("changes"), .help = "Number of EndpointSlice changes"}, {"operation"});
  if (!changes.ok()) return changes.status();
  m->changes = *changes;

  auto changed_per_sync = registry.NewHistogramVec(
      {.name = name("endpointslices_changed_per_sync"),
       .help = "Number of EndpointSlices changed on each Service sync"},
      cm::DefaultBuckets(), {"topology", "traffic_distribution"});
  if (!changed_per_sync.ok()) return changed_per_sync.status();
  m->endpointslices_changed_per_sync = *changed_per_sync;

  auto syncs = registry.NewCounterVec(
      {.name = name("syncs"), .help = "Number of EndpointSlice syncs"}, {"result"});
  if (!syncs.ok()) return syncs.status();
  m->syncs = *syncs;

  auto by_td = registry.NewGaugeVec(
      {.name = name("services_count_by_traffic_distribution"),
       .help = "Number of Services using some specific trafficDistribution"},
      {"traffic_distribution"});
  if (!by_td.ok()) return by_td.status();
  m->services_count_by_traffic_distribution = *by_td;
  return m;
}

void Metrics::UpdateServicePortCache(const std::string& service_key,
                                     const ServicePortCache& cache) {
  std::lock_guard<std::mutex> lock(mu_);
  Totals prev;
  auto it = by_service_.find(service_key);
  if (it != by_service_.end()) prev = TotalsOf(it->second, max_endpoints_per_slice_);
  Totals curr = TotalsOf(cache, max_endpoints_per_slice_);
  num_endpoints_ += curr.endpoints - prev.endpoints;
  num_slices_actual_ += curr.actual - prev.actual;
  num_slices_desired_ += curr.desired - prev.desired;
  by_service_[service_key] = cache;
  UpdateGaugesLocked();
}

void Metrics::UpdateTrafficDistributionForService(
    const std::string& service_key, std::optional<std::string> traffic_distribution) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = traffic_distribution_.find(service_key);
  if (it != traffic_distribution_.end()) {
    --services_by_traffic_distribution_[it->second];
    traffic_distribution_.erase(it);
  }
  if (traffic_distribution.has_value()) {
    ++services_by_traffic_distribution_[*traffic_distribution];
    traffic_distribution_[service_key] = *std::move(traffic_distribution);
  }
  UpdateGaugesLocked();
}

void Metrics::DeleteService(const std::string& service_key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto td = traffic_distribution_.find(service_key);
  if (td != traffic_distribution_.end()) {
    --services_by_traffic_distribution_[td->second];
    traffic_distribution_.erase(td);
  }
  // Upstream refreshes the gauges only when the service had a port cache entry.
  auto it = by_service_.find(service_key);
  if (it == by_service_.end()) return;
  Totals t = TotalsOf(it->second, max_endpoints_per_slice_);
  num_endpoints_ -= t.endpoints;
  num_slices_actual_ -= t.actual;
  num_slices_desired_ -= t.desired;
  by_service_.erase(it);
  UpdateGaugesLocked();
}

void Metrics::UpdateGaugesLocked() {
  num_endpoint_slices->Set(static_cast<double>(num_slices_actual_));
  desired_endpoint_slices->Set(static_cast<double>(num_slices_desired_));
  endpoints_desired->Set(static_cast<double>(num_endpoints_));

  // Upstream resets the vector and sets one series per traffic distribution it has
  // ever seen (its per-value sets are never dropped, so a value no longer used reads 0).
  for (const auto& [td, n] : services_by_traffic_distribution_) {
    services_count_by_traffic_distribution->WithLabelValues({td}).Set(n);
  }
}

}  // namespace kslice::endpointslice
