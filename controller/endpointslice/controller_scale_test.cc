// One service selecting 10,000 pods: the controller writes ceil(10000 / 100) slices
// holding every pod once, and a second controller over the converged state writes
// nothing.
#include <cstdio>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <thread>

#include "api/core/v1/core.pb.h"
#include "client/rest/client.h"
#include "controller/endpointslice/controller.h"
#include "controller/endpointslice/controller_test_util.h"
#include "controller/endpointslice/reconciler.h"
#include "controller/manager/manager.h"
#include "controller/metrics/metrics.h"
#include "envtest/environment/environment.h"
#include "gtest/gtest.h"

namespace kslice::endpointslice {
namespace {

using testutil::EndpointCount;
using testutil::MetricSum;
using testutil::SlicesOf;
using testutil::WaitUntil;

constexpr int kPods = 10000;

// Runs a manager with the controller until destroyed.
struct Running {
  controller::metrics::Registry registry;
  std::unique_ptr<controller::Manager> mgr;
  std::unique_ptr<EndpointSliceController> esc;
  std::stop_source stop;
  std::thread thread;
  ~Running() {
    stop.request_stop();
    if (thread.joinable()) thread.join();
  }
};

std::unique_ptr<Running> Start(const client::RestConfig& config) {
  auto r = std::make_unique<Running>();
  controller::ManagerOptions o;
  o.name = "endpointslice-controller";
  o.health_bind_address = "";
  o.registry = &r->registry;
  auto m = controller::Manager::Create(config, o);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return nullptr;
  r->mgr = *std::move(m);
  auto esc = SetUpEndpointSliceController(*r->mgr, {});
  EXPECT_TRUE(esc.ok()) << esc.status();
  if (!esc.ok()) return nullptr;
  r->esc = *std::move(esc);
  Running* raw = r.get();
  r->thread = std::thread([raw] { EXPECT_TRUE(raw->mgr->Run(raw->stop.get_token()).ok()); });
  return r;
}

TEST(ScaleTest, TenThousandPodsInOneService) {
  const absl::Time start = absl::Now();
  envtest::EnvironmentOptions eo;
  eo.embedded.worker_threads = 16;
  auto env = envtest::Environment::Start(eo);
  ASSERT_TRUE(env.ok()) << env.status();
  auto ns = (*env)->CreateNamespace("esc-scale-");
  ASSERT_TRUE(ns.ok());
  client::RestConfig fast = (*env)->config();
  fast.qps = 100000;
  fast.burst = 100000;
  auto cl = client::RestClient::Create(fast);
  ASSERT_TRUE(cl.ok());
  client::RestClient& c = **cl;
  api::core::v1::Node node;
  node.mutable_metadata()->set_name("node-1");
  client::Typed<Node, api::core::v1::NodeList> nodes(c);
  ASSERT_TRUE(nodes.Create(node).ok());
  client::Typed<Service, api::core::v1::ServiceList> services(c);
  ASSERT_TRUE(services
                  .Create(testutil::MakeService(*ns, "big", {{"app", "big"}},
                                                {{.name = "", .port = 80, .target_number = 8080}}))
                  .ok());
  ASSERT_TRUE(
      testutil::CreateRunningPods(c, *ns, "big-", kPods, {{"app", "big"}}, "node-1", 1, 32).ok());
  const absl::Duration filled = absl::Now() - start;

  const absl::Time converge_start = absl::Now();
  auto first = Start((*env)->config());
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto s = SlicesOf(c, *ns, "big");
        return s.ok() && EndpointCount(*s) == kPods;
      },
      absl::Seconds(40)));
  std::printf("fill %s, converge %s\n", absl::FormatDuration(filled).c_str(),
              absl::FormatDuration(absl::Now() - converge_start).c_str());
  auto slices = SlicesOf(c, *ns, "big");
  ASSERT_TRUE(slices.ok());
  EXPECT_EQ(slices->size(), static_cast<size_t>(kPods / 100));
  std::set<std::string> addresses;
  for (const EndpointSlice& s : *slices) {
    EXPECT_LE(s.endpoints_size(), 100);
    for (const auto& ep : s.endpoints()) addresses.insert(ep.addresses(0));
  }
  EXPECT_EQ(addresses.size(), static_cast<size_t>(kPods)) << "an endpoint twice";
  // The counter moves after each write returns: wait for the last one, then a moment
  // for any extra write to show.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return MetricSum(first->registry, "endpoint_slice_controller_changes") >= kPods / 100;
      },
      absl::Seconds(5)));
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(MetricSum(first->registry, "endpoint_slice_controller_changes"), kPods / 100)
      << "one create per slice, nothing more";
  first.reset();

  // A restarted controller finds everything in place.
  auto second = Start((*env)->config());
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(WaitUntil(
      [&] { return MetricSum(second->registry, "endpoint_slice_controller_syncs") >= 2; },
      absl::Seconds(20)));
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(MetricSum(second->registry, "endpoint_slice_controller_changes"), 0);
}

}  // namespace
}  // namespace kslice::endpointslice
