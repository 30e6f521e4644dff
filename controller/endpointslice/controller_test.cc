// The EndpointSlice controller against the embedded API server: what it writes for
// services and pods, how it follows pod changes, and how it repairs slices others
// touch. Each test has its own namespace and its own manager on one shared server.
#include "controller/endpointslice/controller.h"

#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "client/errors/errors.h"
#include "client/rest/client.h"
#include "controller/endpointslice/controller_test_util.h"
#include "controller/endpointslice/memory_writer.h"
#include "controller/endpointslice/reconciler.h"
#include "controller/endpointslice/slice_tracker.h"
#include "controller/manager/manager.h"
#include "controller/metrics/metrics.h"
#include "envtest/environment/environment.h"
#include "gtest/gtest.h"

namespace kslice::endpointslice {
namespace {

using api::core::v1::NodeList;
using api::core::v1::PodList;
using api::core::v1::ServiceList;
using api::discovery::v1::EndpointSliceList;
using testutil::CreateRunningPod;
using testutil::EndpointCount;
using testutil::MakeService;
using testutil::SlicesOf;
using testutil::WaitUntil;

constexpr absl::Duration kTimeout = absl::Seconds(20);

class ControllerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto env = envtest::Environment::Start();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = env->release();
    auto c = client::RestClient::Create(env_->config());
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = c->release();
  }
  static void TearDownTestSuite() {
    delete client_;
    delete env_;
  }

  void SetUp() override {
    auto ns = env_->CreateNamespace("esc-");
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_ = *ns;
    // Pods on a node the cache does not know are skipped (and the sync retried), as
    // upstream: every test's pods run on this node.
    node_ = ns_ + "-node";
    api::core::v1::Node node;
    node.mutable_metadata()->set_name(node_);
    (*node.mutable_metadata()->mutable_labels())[kLabelTopologyZone] = "zone-a";
    client::Typed<Node, NodeList> nodes(c());
    ASSERT_TRUE(nodes.Create(node).ok());
  }

  // A Running pod with `ip` on this test's node.
  void RunPod(const std::string& name, const std::map<std::string, std::string>& labels,
              const std::string& ip, bool ready = true) {
    auto p = CreateRunningPod(c(), ns_, name, labels, ip, ready, node_);
    ASSERT_TRUE(p.ok()) << p.status();
  }

  void StartController(EndpointSliceControllerOptions options = {}) {
    controller::ManagerOptions o;
    o.name = "endpointslice-controller";
    o.health_bind_address = "";
    o.registry = &registry_;
    auto mgr = controller::Manager::Create(env_->config(), o);
    ASSERT_TRUE(mgr.ok()) << mgr.status();
    mgr_ = *std::move(mgr);
    auto esc = SetUpEndpointSliceController(*mgr_, options);
    ASSERT_TRUE(esc.ok()) << esc.status();
    esc_ = *std::move(esc);
    run_ = std::thread([this] { EXPECT_TRUE(mgr_->Run(stop_.get_token()).ok()); });
  }

  void TearDown() override {
    stop_.request_stop();
    if (run_.joinable()) run_.join();
    esc_.reset();
    mgr_.reset();
  }

  client::RestClient& c() { return *client_; }

  // Creates the service and returns it as stored.
  api::core::v1::Service CreateService(const api::core::v1::Service& svc) {
    auto created = client::Typed<Service, ServiceList>(c()).Create(svc);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : svc;
  }

  // The slices of `service` once `pred` holds for them.
  std::vector<EndpointSlice> WaitForSlices(
      const std::string& service, const std::function<bool(const std::vector<EndpointSlice>&)>& pred,
      absl::Duration timeout = kTimeout) {
    std::vector<EndpointSlice> last;
    bool ok = WaitUntil(
        [&] {
          auto s = SlicesOf(c(), ns_, service);
          if (!s.ok()) return false;
          last = *s;
          return pred(last);
        },
        timeout);
    EXPECT_TRUE(ok) << "slices of " << service << " never matched; last: " << last.size()
                    << " slices, " << EndpointCount(last) << " endpoints";
    return last;
  }

  static const api::discovery::v1::Endpoint* FindEndpoint(const std::vector<EndpointSlice>& slices,
                                                          const std::string& pod) {
    for (const EndpointSlice& s : slices) {
      for (const auto& ep : s.endpoints()) {
        if (ep.targetref().name() == pod) return &ep;
      }
    }
    return nullptr;
  }

  static envtest::Environment* env_;
  static client::RestClient* client_;
  std::string ns_;
  std::string node_;
  controller::metrics::Registry registry_;
  std::unique_ptr<controller::Manager> mgr_;
  std::unique_ptr<EndpointSliceController> esc_;
  std::stop_source stop_;
  std::thread run_;
};

envtest::Environment* ControllerTest::env_ = nullptr;
client::RestClient* ControllerTest::client_ = nullptr;

TEST(ValidateOptionsTest, FlagRanges) {
  EXPECT_TRUE(ValidateOptions({}).ok());
  EndpointSliceControllerOptions o;
  o.workers = 0;
  EXPECT_EQ(ValidateOptions(o).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ValidateOptions(o).message().find("concurrent-service-endpoint-syncs"),
            std::string::npos);
  o.workers = 51;
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.workers = 50;
  EXPECT_TRUE(ValidateOptions(o).ok());
  o.max_endpoints_per_slice = 0;
  EXPECT_NE(ValidateOptions(o).message().find("max-endpoints-per-slice"), std::string::npos);
  o.max_endpoints_per_slice = 1001;
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.max_endpoints_per_slice = 1000;
  EXPECT_TRUE(ValidateOptions(o).ok());
}

TEST_F(ControllerTest, SlicesForServiceAndPodsFollowReadiness) {
  StartController();
  Service svc = CreateService(MakeService(ns_, "web", {{"app", "web"}},
                                          {{.name = "http", .port = 80, .target_name = "http"}}));
  RunPod("web-0", {{"app", "web"}}, "10.1.0.1", true);
  RunPod("web-1", {{"app", "web"}}, "10.1.0.2", true);
  RunPod("web-2", {{"app", "web"}}, "10.1.0.3", false);
  // Not selected.
  RunPod("db-0", {{"app", "db"}}, "10.1.0.9", true);

  std::vector<EndpointSlice> slices =
      WaitForSlices("web", [](const auto& s) { return EndpointCount(s) == 3; });
  ASSERT_EQ(slices.size(), 1u);
  const EndpointSlice slice = slices[0];
  EXPECT_EQ(slice.addresstype(), "IPv4");
  EXPECT_EQ(slice.metadata().generatename(), "web-");
  ASSERT_EQ(slice.ports_size(), 1);
  EXPECT_EQ(slice.ports(0).name(), "http");
  EXPECT_EQ(slice.ports(0).port(), 8080);
  EXPECT_EQ(slice.ports(0).protocol(), "TCP");
  const auto& labels = slice.metadata().labels();
  EXPECT_EQ(labels.at(kLabelServiceName), "web");
  EXPECT_EQ(labels.at(kLabelManagedBy), kControllerName);
  EXPECT_EQ(labels.count(kLabelHeadless), 0u);
  ASSERT_EQ(slice.metadata().ownerreferences_size(), 1);
  const auto& owner = slice.metadata().ownerreferences(0);
  EXPECT_EQ(owner.apiversion(), "v1");
  EXPECT_EQ(owner.kind(), "Service");
  EXPECT_EQ(owner.name(), "web");
  EXPECT_EQ(owner.uid(), svc.metadata().uid());
  EXPECT_TRUE(owner.controller());
  EXPECT_TRUE(owner.blockownerdeletion());
  EXPECT_EQ(slice.metadata().annotations().count(kAnnotationTriggerTime), 1u);

  const auto* ep0 = FindEndpoint(slices, "web-0");
  ASSERT_NE(ep0, nullptr);
  ASSERT_EQ(ep0->addresses_size(), 1);
  EXPECT_EQ(ep0->addresses(0), "10.1.0.1");
  EXPECT_TRUE(ep0->conditions().ready());
  EXPECT_TRUE(ep0->conditions().serving());
  EXPECT_FALSE(ep0->conditions().terminating());
  EXPECT_EQ(ep0->nodename(), node_);
  EXPECT_EQ(ep0->zone(), "zone-a");
  EXPECT_EQ(ep0->targetref().kind(), "Pod");
  EXPECT_EQ(ep0->targetref().namespace_(), ns_);
  const auto* ep2 = FindEndpoint(slices, "web-2");
  ASSERT_NE(ep2, nullptr);
  EXPECT_FALSE(ep2->conditions().ready());
  EXPECT_EQ(FindEndpoint(slices, "db-0"), nullptr);

  // web-2 becomes ready (status subresource), web-0 stops being ready.
  client::Typed<Pod, PodList> pods(c());
  auto p2 = pods.Get(ns_, "web-2");
  ASSERT_TRUE(p2.ok());
  ASSERT_TRUE(testutil::SetPodStatus(c(), *p2, "10.1.0.3", true).ok());
  auto p0 = pods.Get(ns_, "web-0");
  ASSERT_TRUE(p0.ok());
  ASSERT_TRUE(testutil::SetPodStatus(c(), *p0, "10.1.0.1", false).ok());
  slices = WaitForSlices("web", [&](const auto& s) {
    const auto* a = FindEndpoint(s, "web-2");
    const auto* b = FindEndpoint(s, "web-0");
    return a != nullptr && a->conditions().ready() && b != nullptr && !b->conditions().ready();
  });
  EXPECT_EQ(slices.size(), 1u) << "updated in place";
  EXPECT_EQ(slices[0].metadata().name(), slice.metadata().name());

  // A pod being deleted (grace period) stays as a terminating endpoint; once gone it
  // leaves the slice.
  ASSERT_TRUE(pods.Delete(ns_, "web-1").ok());
  WaitForSlices("web", [&](const auto& s) {
    const auto* e = FindEndpoint(s, "web-1");
    return e != nullptr && e->conditions().terminating() && !e->conditions().ready();
  });
  api::meta::v1::DeleteOptions now;
  now.set_graceperiodseconds(0);
  ASSERT_TRUE(pods.Delete(ns_, "web-1", &now).ok());
  WaitForSlices("web", [&](const auto& s) { return FindEndpoint(s, "web-1") == nullptr; });

  // Writes are counted; syncs succeeded.
  EXPECT_GE(testutil::MetricSum(registry_, "endpoint_slice_controller_changes"), 2);
  EXPECT_GE(testutil::MetricSum(registry_, "endpoint_slice_controller_syncs"), 1);
  EXPECT_NE(registry_.Expose().find("workqueue_adds_total{name=\"endpoint_slice\"}"),
            std::string::npos);
}

TEST_F(ControllerTest, PodLabelChangeMovesItBetweenServices) {
  StartController();
  CreateService(MakeService(ns_, "a", {{"app", "a"}}, {{.name = "", .port = 80, .target_number = 8080}}));
  CreateService(MakeService(ns_, "b", {{"app", "b"}}, {{.name = "", .port = 80, .target_number = 8080}}));
  RunPod("p", {{"app", "a"}}, "10.2.0.1", true);
  WaitForSlices("a", [](const auto& s) { return EndpointCount(s) == 1; });
  // b has its placeholder: one slice, no endpoints.
  std::vector<EndpointSlice> b =
      WaitForSlices("b", [](const auto& s) { return s.size() == 1 && EndpointCount(s) == 0; });

  client::Typed<Pod, PodList> pods(c());
  auto p = pods.Get(ns_, "p");
  ASSERT_TRUE(p.ok());
  (*p->mutable_metadata()->mutable_labels())["app"] = "b";
  ASSERT_TRUE(pods.Update(*p).ok());
  WaitForSlices("b", [](const auto& s) { return EndpointCount(s) == 1; });
  WaitForSlices("a", [](const auto& s) { return EndpointCount(s) == 0; });
}

TEST_F(ControllerTest, DeletedServiceSlicesAreGarbageCollected) {
  StartController();
  CreateService(MakeService(ns_, "gone", {{"app", "g"}}, {{.name = "", .port = 80, .target_number = 8080}}));
  RunPod("g-0", {{"app", "g"}}, "10.3.0.1", true);
  WaitForSlices("gone", [](const auto& s) { return EndpointCount(s) == 1; });
  client::Typed<Service, ServiceList> services(c());
  ASSERT_TRUE(services.Delete(ns_, "gone").ok());
  WaitForSlices("gone", [](const auto& s) { return s.empty(); });
}

TEST_F(ControllerTest, ForeignEditsAreCorrectedAndDeletedSlicesRecreated) {
  StartController();
  CreateService(MakeService(ns_, "fix", {{"app", "f"}}, {{.name = "", .port = 80, .target_number = 8080}}));
  RunPod("f-0", {{"app", "f"}}, "10.4.0.1", true);
  RunPod("f-1", {{"app", "f"}}, "10.4.0.2", true);
  std::vector<EndpointSlice> slices =
      WaitForSlices("fix", [](const auto& s) { return EndpointCount(s) == 2; });
  ASSERT_EQ(slices.size(), 1u);

  // Someone else drops an endpoint: the generation moves past ours, so it is re-synced.
  client::Typed<EndpointSlice, EndpointSliceList> es(c());
  EndpointSlice edited = slices[0];
  edited.mutable_endpoints()->RemoveLast();
  auto updated = es.Update(edited);
  ASSERT_TRUE(updated.ok()) << updated.status();
  ASSERT_EQ(updated->endpoints_size(), 1);
  slices = WaitForSlices("fix", [&](const auto& s) {
    return EndpointCount(s) == 2 && s.size() == 1 &&
           s[0].metadata().generation() > updated->metadata().generation();
  });

  // Someone else deletes it: an unexpected deletion, so it is recreated.
  const std::string old_name = slices[0].metadata().name();
  ASSERT_TRUE(es.Delete(ns_, old_name).ok());
  slices = WaitForSlices("fix", [&](const auto& s) {
    return s.size() == 1 && s[0].metadata().name() != old_name && EndpointCount(s) == 2;
  });
}

TEST_F(ControllerTest, ExternalNameSelectorlessAndInvalidServicesGetNoSlices) {
  StartController();
  RunPod("x-0", {{"app", "x"}}, "10.5.0.1", true);
  Service ext = MakeService(ns_, "ext", {{"app", "x"}}, {{.name = "", .port = 80, .target_number = 8080}});
  ext.mutable_spec()->set_type("ExternalName");
  ext.mutable_spec()->set_externalname("example.com");
  CreateService(ext);
  CreateService(MakeService(ns_, "manual", {}, {{.name = "", .port = 80, .target_number = 8080}}));
  // A selector value the API refuses never reaches the controller.
  auto bad = client::Typed<Service, ServiceList>(c()).Create(
      MakeService(ns_, "bad", {{"app", "not a label value!"}}, {{.name = "", .port = 80, .target_number = 8080}}));
  EXPECT_TRUE(client::IsInvalid(bad.status())) << bad.status();

  // A later service selecting the same pod gets its slice; by then the earlier ones
  // have been synced (the queue is FIFO) and must still have none.
  CreateService(MakeService(ns_, "marker", {{"app", "x"}}, {{.name = "", .port = 80, .target_number = 8080}}));
  WaitForSlices("marker", [](const auto& s) { return EndpointCount(s) == 1; });
  absl::SleepFor(absl::Milliseconds(500));
  auto ext_slices = SlicesOf(c(), ns_, "ext");
  ASSERT_TRUE(ext_slices.ok());
  EXPECT_TRUE(ext_slices->empty());
  auto manual_slices = SlicesOf(c(), ns_, "manual");
  ASSERT_TRUE(manual_slices.ok());
  EXPECT_TRUE(manual_slices->empty());
}

TEST_F(ControllerTest, HeadlessServiceWithoutPortsGetsEndpointsWithoutPorts) {
  StartController();
  Service svc = MakeService(ns_, "headless", {{"app", "h"}}, {});
  svc.mutable_spec()->set_clusterip("None");
  CreateService(svc);
  RunPod("h-0", {{"app", "h"}}, "10.6.0.1", true);
  std::vector<EndpointSlice> slices =
      WaitForSlices("headless", [](const auto& s) { return EndpointCount(s) == 1; });
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(slices[0].ports_size(), 0);
  EXPECT_EQ(slices[0].metadata().labels().count(kLabelHeadless), 1u);
}

TEST_F(ControllerTest, SmallMaxEndpointsPerSliceSplitsAndBatches) {
  EndpointSliceControllerOptions o;
  o.max_endpoints_per_slice = 2;
  o.endpoint_updates_batch_period = absl::Milliseconds(200);
  StartController(o);
  CreateService(MakeService(ns_, "many", {{"app", "m"}}, {{.name = "", .port = 80, .target_number = 8080}}));
  for (int i = 0; i < 5; ++i) {
    RunPod(absl::StrCat("m-", i), {{"app", "m"}}, absl::StrCat("10.7.0.", i + 1));
  }
  std::vector<EndpointSlice> slices =
      WaitForSlices("many", [](const auto& s) { return EndpointCount(s) == 5; });
  EXPECT_EQ(slices.size(), 3u);
  for (const EndpointSlice& s : slices) EXPECT_LE(s.endpoints_size(), 2);
}

TEST_F(ControllerTest, PodOnMissingNodeIsSkippedAndReported) {
  StartController();
  CreateService(MakeService(ns_, "lost", {{"app", "l"}}, {{.name = "", .port = 80, .target_number = 8080}}));
  RunPod("l-0", {{"app", "l"}}, "10.8.0.1");
  auto orphan = CreateRunningPod(c(), ns_, "l-1", {{"app", "l"}}, "10.8.0.2", true,
                                 ns_ + "-no-such-node");
  ASSERT_TRUE(orphan.ok()) << orphan.status();
  // The pod on the known node is published; the other is skipped (upstream publishes a
  // pod of an unknown node only with publishNotReadyAddresses) and the sync error is
  // reported on the Service.
  std::vector<EndpointSlice> slices =
      WaitForSlices("lost", [](const auto& s) { return EndpointCount(s) == 1; });
  EXPECT_NE(FindEndpoint(slices, "l-0"), nullptr);
  client::Typed<api::core::v1::Event, api::core::v1::EventList> events(c());
  bool reported = WaitUntil(
      [&] {
        auto list = events.List(ns_);
        if (!list.ok()) return false;
        for (const auto& e : list->items()) {
          if (e.reason() == "FailedToUpdateEndpointSlices" && e.type() == "Warning" &&
              e.involvedobject().kind() == "Service" && e.involvedobject().name() == "lost" &&
              e.source().component() == "endpoint-slice-controller" &&
              e.message().find("Error updating Endpoint Slices for Service " + ns_ + "/lost: ") == 0) {
            return true;
          }
        }
        return false;
      },
      kTimeout);
  EXPECT_TRUE(reported);
  // Counted once the sync has returned (after the event).
  EXPECT_TRUE(WaitUntil(
      [&] {
        return registry_.Expose().find("endpoint_slice_controller_syncs{result=\"error\"}") !=
               std::string::npos;
      },
      absl::Seconds(5)));
}

// Pods with malformed IPs cannot be stored (the server validates status.podIPs), so
// they go through the reconcile path directly: no crash, the other pods still become
// endpoints.
TEST(ReconcilePathTest, MalformedPodIPDoesNotBreakTheService) {
  Service svc = MakeService("ns", "svc", {{"app", "a"}}, {{.name = "", .port = 80, .target_number = 8080}});
  svc.mutable_metadata()->set_uid("svc-uid");
  svc.mutable_spec()->set_clusterip("10.96.0.10");
  std::vector<std::shared_ptr<const Pod>> pods;
  auto add = [&](const std::string& name, const std::string& ip) {
    Pod p = testutil::MakePod("ns", name, {{"app", "a"}}, "node-1");
    p.mutable_metadata()->set_uid(name + "-uid");
    p.mutable_status()->set_phase("Running");
    p.mutable_status()->set_podip(ip);
    p.mutable_status()->add_podips()->set_ip(ip);
    auto* cond = p.mutable_status()->add_conditions();
    cond->set_type("Ready");
    cond->set_status("True");
    pods.push_back(std::make_shared<const Pod>(std::move(p)));
  };
  add("good", "10.0.0.1");
  add("bad", "not-an-ip");
  add("worse", "999.1.2.3.4");
  MemoryWriter writer;
  SliceTracker tracker;
  Reconciler r(
      &writer, [](const std::string& name) -> absl::StatusOr<std::shared_ptr<const Node>> {
        auto node = std::make_shared<Node>();
        node->mutable_metadata()->set_name(name);
        return node;
      },
      &tracker, nullptr, nullptr, [](const Service&, std::string_view, std::string_view, std::string_view) {},
      {});
  (void)r.Reconcile(svc, pods, {}, absl::InfinitePast());
  bool found = false;
  for (const auto& [key, slice] : writer.slices()) {
    for (const auto& ep : slice.endpoints()) {
      if (ep.targetref().name() == "good") {
        found = true;
        ASSERT_EQ(ep.addresses_size(), 1);
        EXPECT_EQ(ep.addresses(0), "10.0.0.1");
      }
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace kslice::endpointslice
