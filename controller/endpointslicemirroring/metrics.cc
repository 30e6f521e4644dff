#include "controller/endpointslicemirroring/metrics.h"

#include <string>
#include <utility>
#include <vector>

namespace kslice::endpointslicemirroring {

namespace cm = ::kslice::controller::metrics;

namespace {

constexpr char kSubsystem[] = "endpoint_slice_mirroring_controller_";

// ceil(endpoints / max), 0 for none (upstream numDesiredSlices).
int64_t NumDesiredSlices(int endpoints, int max_per_slice) {
  if (endpoints <= 0) return 0;
  return (static_cast<int64_t>(endpoints) + max_per_slice - 1) / max_per_slice;
}

int64_t EndpointsOf(const EndpointPortCache& cache) {
  int64_t n = 0;
  for (const auto& [key, info] : cache) n += info.endpoints;
  return n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Create(cm::Registry& registry,
                                                         int32_t max_endpoints_per_subset) {
  std::unique_ptr<Metrics> m(new Metrics());
  m->max_per_slice_ = max_endpoints_per_subset > 0 ? max_endpoints_per_subset : 1000;
  auto name = [](const char* n) { return std::string(kSubsystem) + n; };
  // Help texts as upstream, without component-base's "[ALPHA] " prefix (as the other
  // kslice metrics).
  const std::vector<double> count_buckets = cm::ExponentialBuckets(2, 2, 15);

  struct HistogramDef {
    const char* name;
    const char* help;
    std::vector<double> buckets;
    cm::Histogram** out;
  };
  const HistogramDef histograms[] = {
      {"endpoints_added_per_sync", "Number of endpoints added on each Endpoints sync",
       count_buckets, &m->endpoints_added_per_sync},
      {"endpoints_updated_per_sync", "Number of endpoints updated on each Endpoints sync",
       count_buckets, &m->endpoints_updated_per_sync},
      {"endpoints_removed_per_sync", "Number of endpoints removed on each Endpoints sync",
       count_buckets, &m->endpoints_removed_per_sync},
      {"addresses_skipped_per_sync",
       "Number of addresses skipped on each Endpoints sync due to being invalid or exceeding "
       "MaxEndpointsPerSubset",
       count_buckets, &m->addresses_skipped_per_sync},
      {"endpoints_sync_duration", "Duration of syncEndpoints() in seconds",
       cm::ExponentialBuckets(0.001, 2, 15), &m->endpoints_sync_duration},
  };
  for (const HistogramDef& h : histograms) {
    auto made = registry.NewHistogram({.name = name(h.name), .help = h.help}, h.buckets);
    if (!made.ok()) return made.status();
    *h.out = *made;
  }

  struct GaugeDef {
    const char* name;
    const char* help;
    cm::Gauge** out;
  };
  const GaugeDef gauges[] = {
      {"endpoints_desired", "Number of endpoints desired", &m->endpoints_desired},
      {"num_endpoint_slices", "Number of EndpointSlices", &m->num_endpoint_slices},
      {"desired_endpoint_slices",
       "Number of EndpointSlices that would exist with perfect endpoint allocation",
       &m->desired_endpoint_slices},
  };
  for (const GaugeDef& g : gauges) {
    auto made = registry.NewGauge({.name = name(g.name), .help = g.help});
    if (!made.ok()) return made.status();
    *g.out = *made;
  }

  auto changes = registry.NewCounterVec(
      {.name = name("changes"), .help = "Number of EndpointSlice changes"}, {"operation"});
  if (!changes.ok()) return changes.status();
  m->changes = *changes;
  return m;
}

void Metrics::UpdateEndpointPortCache(const std::string& endpoints_key, EndpointPortCache cache) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t prev = 0;
  auto it = cache_.find(endpoints_key);
  if (it != cache_.end()) prev = EndpointsOf(it->second);
  num_endpoints_ += EndpointsOf(cache) - prev;
  cache_[endpoints_key] = std::move(cache);
  UpdateGaugesLocked();
}

void Metrics::DeleteEndpoints(const std::string& endpoints_key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(endpoints_key);
  if (it == cache_.end()) return;
  num_endpoints_ -= EndpointsOf(it->second);
  cache_.erase(it);
  UpdateGaugesLocked();
}

void Metrics::UpdateGaugesLocked() {
  // Upstream sums over every cached Endpoints on each update.
  int64_t actual = 0, desired = 0;
  for (const auto& [key, cache] : cache_) {
    for (const auto& [port_key, info] : cache) {
      actual += info.slices;
      desired += NumDesiredSlices(info.endpoints, max_per_slice_);
    }
  }
  num_endpoint_slices->Set(static_cast<double>(actual));
  desired_endpoint_slices->Set(static_cast<double>(desired));
  endpoints_desired->Set(static_cast<double>(num_endpoints_));
}

}  // namespace kslice::endpointslicemirroring
