// Two EndpointSlice controller managers with leader election on one server: only the
// leader writes; when it stops, the other takes over and converges a change made after.
#include <memory>
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

using testutil::CreateRunningPod;
using testutil::EndpointCount;
using testutil::MetricSum;
using testutil::SlicesOf;
using testutil::WaitUntil;

constexpr char kChanges[] = "endpoint_slice_controller_changes";

struct Candidate {
  controller::metrics::Registry registry;
  std::unique_ptr<controller::Manager> mgr;
  std::unique_ptr<EndpointSliceController> esc;
  std::stop_source stop;
  std::thread thread;
  absl::Status result;
};

std::unique_ptr<Candidate> StartCandidate(const client::RestConfig& config, const std::string& id) {
  auto cand = std::make_unique<Candidate>();
  controller::ManagerOptions o;
  o.name = "endpointslice-controller";
  o.identity = id;
  o.leader_elect = true;
  o.lease_duration = absl::Seconds(3);
  o.renew_deadline = absl::Seconds(2);
  o.retry_period = absl::Milliseconds(400);
  o.release_on_cancel = false;  // the follower must wait out the lease, as after a crash
  o.health_bind_address = "";
  o.registry = &cand->registry;
  auto m = controller::Manager::Create(config, o);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return nullptr;
  cand->mgr = *std::move(m);
  auto esc = SetUpEndpointSliceController(*cand->mgr, {});
  EXPECT_TRUE(esc.ok()) << esc.status();
  if (!esc.ok()) return nullptr;
  cand->esc = *std::move(esc);
  Candidate* raw = cand.get();
  cand->thread = std::thread([raw] { raw->result = raw->mgr->Run(raw->stop.get_token()); });
  return cand;
}

TEST(LeaderElectionTest, OnlyTheLeaderWritesAndTheFollowerTakesOver) {
  auto env = envtest::Environment::Start();
  ASSERT_TRUE(env.ok()) << env.status();
  auto ns = (*env)->CreateNamespace("esc-le-");
  ASSERT_TRUE(ns.ok());
  auto cl = client::RestClient::Create((*env)->config());
  ASSERT_TRUE(cl.ok());
  client::RestClient& c = **cl;
  api::core::v1::Node node;
  node.mutable_metadata()->set_name("node-1");
  client::Typed<Node, api::core::v1::NodeList> nodes(c);
  ASSERT_TRUE(nodes.Create(node).ok());

  auto a = StartCandidate((*env)->config(), "a");
  auto b = StartCandidate((*env)->config(), "b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  client::Typed<Service, api::core::v1::ServiceList> services(c);
  ASSERT_TRUE(services
                  .Create(testutil::MakeService(*ns, "web", {{"app", "web"}},
                                                {{.name = "", .port = 80, .target_number = 8080}}))
                  .ok());
  ASSERT_TRUE(CreateRunningPod(c, *ns, "web-0", {{"app", "web"}}, "10.9.0.1", true, "node-1").ok());
  ASSERT_TRUE(CreateRunningPod(c, *ns, "web-1", {{"app", "web"}}, "10.9.0.2", true, "node-1").ok());
  auto endpoints_are = [&](int n) {
    return [&c, &ns, n] {
      auto s = SlicesOf(c, *ns, "web");
      return s.ok() && EndpointCount(*s) == n;
    };
  };
  ASSERT_TRUE(WaitUntil(endpoints_are(2), absl::Seconds(20)));
  ASSERT_TRUE(WaitUntil([&] { return a->mgr->IsLeader() || b->mgr->IsLeader(); },
                        absl::Seconds(10)));
  ASSERT_NE(a->mgr->IsLeader(), b->mgr->IsLeader());
  Candidate* leader = a->mgr->IsLeader() ? a.get() : b.get();
  Candidate* follower = leader == a.get() ? b.get() : a.get();
  EXPECT_TRUE(WaitUntil([&] { return MetricSum(leader->registry, kChanges) >= 1; },
                        absl::Seconds(5)));
  EXPECT_EQ(MetricSum(follower->registry, kChanges), 0) << "the follower wrote";
  // The follower's informers are running (it would take over with a warm cache), but
  // its queue is not worked.
  EXPECT_EQ(MetricSum(follower->registry, "endpoint_slice_controller_syncs"), 0);

  // The leader goes away; a change made now is converged by the other.
  leader->stop.request_stop();
  leader->thread.join();
  EXPECT_TRUE(leader->result.ok()) << leader->result;
  ASSERT_TRUE(CreateRunningPod(c, *ns, "web-2", {{"app", "web"}}, "10.9.0.3", true, "node-1").ok());
  EXPECT_TRUE(WaitUntil(endpoints_are(3), absl::Seconds(20)));
  EXPECT_TRUE(follower->mgr->IsLeader());
  // The counter moves once the write has returned, possibly after we saw the slice.
  EXPECT_TRUE(WaitUntil([&] { return MetricSum(follower->registry, kChanges) >= 1; },
                        absl::Seconds(5)));
  auto slices = SlicesOf(c, *ns, "web");
  ASSERT_TRUE(slices.ok());
  EXPECT_EQ(slices->size(), 1u) << "took over the existing slice instead of adding one";

  follower->stop.request_stop();
  follower->thread.join();
}

}  // namespace
}  // namespace kslice::endpointslice
