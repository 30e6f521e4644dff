// The gauges from the per-service cache (upstream metrics/cache.go and cache_test.go).
#include "controller/endpointslice/metrics.h"

#include "controller/metrics/metrics.h"
#include "gtest/gtest.h"

namespace kslice::endpointslice {
namespace {

struct Gauges {
  double actual, desired, endpoints;
  bool operator==(const Gauges&) const = default;
};

Gauges Read(const Metrics& m) {
  return {m.num_endpoint_slices->Value(), m.desired_endpoint_slices->Value(),
          m.endpoints_desired->Value()};
}

TEST(MetricsTest, FamiliesHaveUpstreamNames) {
  controller::metrics::Registry registry;
  auto m = Metrics::Create(registry, 100);
  ASSERT_TRUE(m.ok()) << m.status();
  (*m)->endpoints_added_per_sync->Observe(3);
  (*m)->syncs->WithLabelValues({"success"}).Inc();
  (*m)->endpointslices_changed_per_sync->WithLabelValues({"Disabled", ""}).Observe(1);
  EXPECT_EQ((*m)->endpoints_added_per_sync->upper_bounds().size(), 15u);
  EXPECT_EQ((*m)->endpoints_added_per_sync->upper_bounds().front(), 2);
  EXPECT_EQ((*m)->endpoints_added_per_sync->upper_bounds().back(), 32768);
  std::string text = registry.Expose();
  for (const char* name :
       {"endpoint_slice_controller_endpoints_added_per_sync_bucket",
        "endpoint_slice_controller_syncs{result=\"success\"} 1",
        "endpoint_slice_controller_endpointslices_changed_per_sync_count{topology=\"Disabled\","
        "traffic_distribution=\"\"} 1",
        "endpoint_slice_controller_num_endpoint_slices 0"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name << "\n" << text;
  }
  // A second controller in the process shares the families.
  auto again = Metrics::Create(registry, 100);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->syncs, (*m)->syncs);
}

TEST(MetricsTest, ServicePortCacheTotals) {
  controller::metrics::Registry registry;
  auto m = *Metrics::Create(registry, 100);
  // cache_test.go: two services, several port groups.
  m->UpdateServicePortCache("ns/svc1", {{"a", {.endpoints = 1, .slices = 1}},
                                        {"b", {.endpoints = 100, .slices = 1}},
                                        {"c", {.endpoints = 101, .slices = 2}}});
  m->UpdateServicePortCache("ns/svc2", {{"a", {.endpoints = 500, .slices = 9}}});
  EXPECT_EQ(Read(*m), (Gauges{13, 9, 702}));  // desired 1+1+2 + 5
  // Replacing a service's cache replaces its share.
  m->UpdateServicePortCache("ns/svc2", {{"a", {.endpoints = 0, .slices = 1}}});
  EXPECT_EQ(Read(*m), (Gauges{5, 5, 202}));  // an empty service still wants 1 slice
  m->DeleteService("ns/svc2");
  EXPECT_EQ(Read(*m), (Gauges{4, 4, 202}));
  m->DeleteService("ns/unknown");
  EXPECT_EQ(Read(*m), (Gauges{4, 4, 202}));
}

TEST(MetricsTest, TrafficDistributionCounts) {
  controller::metrics::Registry registry;
  auto m = *Metrics::Create(registry, 100);
  auto count = [&](const std::string& td) {
    return m->services_count_by_traffic_distribution->WithLabelValues({td}).Value();
  };
  m->UpdateTrafficDistributionForService("ns/a", "PreferClose");
  m->UpdateTrafficDistributionForService("ns/b", "PreferClose");
  m->UpdateTrafficDistributionForService("ns/c", "PreferSameNode");
  EXPECT_EQ(count("PreferClose"), 2);
  EXPECT_EQ(count("PreferSameNode"), 1);
  m->UpdateTrafficDistributionForService("ns/c", "PreferClose");
  EXPECT_EQ(count("PreferClose"), 3);
  EXPECT_EQ(count("PreferSameNode"), 0);  // seen before: reads 0, as upstream
  m->UpdateTrafficDistributionForService("ns/a", std::nullopt);
  EXPECT_EQ(count("PreferClose"), 2);
  // DeleteService refreshes the gauges only for services in the port cache (upstream).
  m->UpdateServicePortCache("ns/b", {});
  m->DeleteService("ns/b");
  EXPECT_EQ(count("PreferClose"), 1);
}

}  // namespace
}  // namespace kslice::endpointslice
