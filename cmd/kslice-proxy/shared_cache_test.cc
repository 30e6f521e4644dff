// The shared-cache mode in process (RunProxy with --run-endpointslice-controller) against
// the embedded API server: the EndpointSlice controller and the proxy share one informer
// factory, so the server sees exactly one watch per resource (services, endpointslices,
// nodes, pods — not two of the first three), and both consumers see every change: a pod
// becomes ready -> the controller (leader-elected) writes the slice -> the proxy's state
// has the endpoint, through the same EndpointSlice informer.
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "client/rest/client.h"
#include "cmd/kslice-proxy/flags.h"
#include "cmd/kslice-proxy/run.h"
#include "controller/endpointslice/controller_test_util.h"
#include "envtest/environment/environment.h"
#include "gtest/gtest.h"
#include "proxy/backend.h"
#include "proxy/testing/fake_backend.h"

namespace kslice::proxy::cmd {
namespace {

namespace testutil = ::kslice::endpointslice::testutil;

// The backend of --proxy-mode=shared-cache-test: records every state in one FakeBackend.
testing::FakeBackend& Recorded() {
  static testing::FakeBackend* backend = new testing::FakeBackend();
  return *backend;
}

class ForwardingBackend : public Backend {
 public:
  absl::string_view name() const override { return "shared-cache-test"; }
  absl::Status Sync(const ProxyState& state, const SyncHint& hint) override {
    return Recorded().Sync(state, hint);
  }
  absl::Status Cleanup() override { return Recorded().Cleanup(); }
};

KSLICE_REGISTER_PROXY_BACKEND(shared_cache_test, [](const BackendOptions&)
                                  -> absl::StatusOr<std::unique_ptr<Backend>> {
  return std::make_unique<ForwardingBackend>();
});

TEST(SharedCacheMode, OneWatchPerResourceAndBothConsumersSeeEveryChange) {
  auto env = envtest::Environment::Start();
  ASSERT_TRUE(env.ok()) << env.status();
  envtest::apiserver::HttpServer& http = (*env)->embedded()->http();
  const int baseline = http.active_watches();
  auto ns = (*env)->CreateNamespace("shared-");
  ASSERT_TRUE(ns.ok()) << ns.status();
  auto c = client::RestClient::Create((*env)->config());
  ASSERT_TRUE(c.ok()) << c.status();

  api::core::v1::Node node;
  node.mutable_metadata()->set_name("node-a");
  ASSERT_TRUE((client::Typed<api::core::v1::Node, api::core::v1::NodeList>(**c).Create(node).ok()));

  absl::StatusOr<ProxyFlags> flags = ParseProxyFlags(
      {"--run-endpointslice-controller", "--proxy-mode=shared_cache_test",
       "--hostname-override=node-a", "--healthz-bind-address=127.0.0.1:0",
       "--metrics-bind-address=", "--iptables-min-sync-period=0",
       "--leader-elect-lease-duration=3s", "--leader-elect-renew-deadline=2s",
       "--leader-elect-retry-period=400ms", "--leader-elect-resource-namespace=kube-system"},
      "ignored");
  ASSERT_TRUE(flags.ok()) << flags.status();
  std::stop_source stop;
  absl::Status result;
  std::thread run([&] { result = RunProxy(*flags, (*env)->config(), stop.get_token()); });

  // Both consumers: Services, EndpointSlices and Nodes (proxy and controller) and Pods
  // (controller) — four resources, one watch each.
  ASSERT_TRUE(testutil::WaitUntil([&] { return http.active_watches() >= baseline + 4; },
                                  absl::Seconds(30)))
      << "watches: " << http.active_watches() - baseline;

  ASSERT_TRUE((client::Typed<api::core::v1::Service, api::core::v1::ServiceList>(**c)
                   .Create(testutil::MakeService(*ns, "web", {{"app", "web"}},
                                                 {{"http", 80, "", 8080}}))
                   .ok()));
  auto pod = testutil::CreateRunningPod(**c, *ns, "web-0", {{"app", "web"}}, "10.1.0.5",
                                        /*ready=*/false, "node-a");
  ASSERT_TRUE(pod.ok()) << pod.status();

  const ServicePortName spn{*ns, "web", "http", "TCP"};
  // Not ready yet: the controller writes the endpoint as not ready; the proxy sees it so.
  testing::FakeBackend::Call call;
  ASSERT_TRUE(Recorded().WaitFor(
      [&](const testing::FakeBackend::Call& x) {
        return x.state.services->count(spn) > 0 && x.state.EndpointsOf(spn).size() == 1;
      },
      &call))
      << "the proxy never saw the slice the controller should have written";
  EXPECT_FALSE(call.state.EndpointsOf(spn)[0].ready);

  // The pod becomes ready: controller -> slice update -> proxy state, same informers.
  ASSERT_TRUE(testutil::SetPodStatus(**c, *pod, "10.1.0.5", /*ready=*/true).ok());
  ASSERT_TRUE(Recorded().WaitFor(
      [&](const testing::FakeBackend::Call& x) {
        const EndpointList& eps = x.state.EndpointsOf(spn);
        return eps.size() == 1 && eps[0].ready;
      },
      &call));
  const EndpointInfo& ep = call.state.EndpointsOf(spn)[0];
  EXPECT_EQ(ep.String(), "10.1.0.5:8080");
  EXPECT_TRUE(ep.is_local);
  EXPECT_EQ(ep.node_name, "node-a");

  // The slice in the server is the controller's.
  auto slices = testutil::SlicesOf(**c, *ns, "web");
  ASSERT_TRUE(slices.ok()) << slices.status();
  ASSERT_EQ(slices->size(), 1u);
  EXPECT_EQ((*slices)[0].metadata().labels().at("endpointslice.kubernetes.io/managed-by"),
            "endpointslice-controller.k8s.io");

  // Still one watch per resource: nothing re-listed or watched a second time.
  EXPECT_EQ(http.active_watches() - baseline, 4);

  stop.request_stop();
  run.join();
  EXPECT_TRUE(result.ok()) << result;
}

}  // namespace
}  // namespace kslice::proxy::cmd
