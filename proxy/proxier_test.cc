// The proxier without a server: handlers fed directly, SyncOnce called by the test.
#include "proxy/proxier.h"

#include <memory>
#include <utility>
#include <vector>

#include "controller/metrics/metrics.h"
#include "gtest/gtest.h"
#include "proxy/testing/fake_backend.h"

namespace kslice::proxy {
namespace {

using api::core::v1::Node;
using api::core::v1::Service;
using api::discovery::v1::EndpointSlice;
using testing::FakeBackend;

std::shared_ptr<const Service> MakeService(const std::string& name, const std::string& ip,
                                           int port = 80) {
  auto s = std::make_shared<Service>();
  s->mutable_metadata()->set_namespace_("default");
  s->mutable_metadata()->set_name(name);
  s->mutable_spec()->set_clusterip(ip);
  s->mutable_spec()->add_clusterips(ip);
  auto* p = s->mutable_spec()->add_ports();
  p->set_name("http");
  p->set_protocol("TCP");
  p->set_port(port);
  return s;
}

std::shared_ptr<const EndpointSlice> MakeSlice(const std::string& svc, const std::string& name,
                                               const std::vector<std::string>& ips,
                                               const std::string& trigger = "") {
  auto s = std::make_shared<EndpointSlice>();
  s->mutable_metadata()->set_namespace_("default");
  s->mutable_metadata()->set_name(name);
  (*s->mutable_metadata()->mutable_labels())[kServiceNameLabel] = svc;
  if (!trigger.empty()) {
    (*s->mutable_metadata()->mutable_annotations())[kLastChangeTriggerTimeAnnotation] = trigger;
  }
  s->set_addresstype("IPv4");
  auto* p = s->add_ports();
  p->set_name("http");
  p->set_protocol("TCP");
  p->set_port(80);
  for (const auto& ip : ips) s->add_endpoints()->add_addresses(ip);
  return s;
}

ServicePortName Spn(const std::string& name) { return {"default", name, "http", "TCP"}; }

class ProxierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = ProxyMetrics::Create(registry_);
    ASSERT_TRUE(m.ok());
    metrics_ = std::move(*m);
    ProxierOptions o;
    o.node_name = "node-a";
    o.clock = &clock_;
    o.metrics = metrics_.get();
    auto p = Proxier::Create(backend_, o);
    ASSERT_TRUE(p.ok()) << p.status();
    proxier_ = std::move(*p);
  }

  client::flowcontrol::FakeClock clock_;
  controller::metrics::Registry registry_;
  std::unique_ptr<ProxyMetrics> metrics_;
  FakeBackend backend_;
  std::unique_ptr<Proxier> proxier_;
};

TEST_F(ProxierTest, RequiresNodeName) {
  FakeBackend b;
  EXPECT_EQ(Proxier::Create(b, ProxierOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ProxierTest, FullThenPartialSyncs) {
  proxier_->OnServiceUpdate(nullptr, MakeService("nginx-service", "10.96.204.67"));
  proxier_->OnServiceUpdate(nullptr, MakeService("other", "10.96.0.20"));
  proxier_->OnEndpointSliceUpdate(
      MakeSlice("nginx-service", "nginx-1", {"192.168.156.5", "192.168.202.196"}), false);
  ASSERT_TRUE(proxier_->SyncOnce().ok());
  auto calls = backend_.calls();
  ASSERT_EQ(calls.size(), 1u);
  const ProxyState& s1 = calls[0].state;
  EXPECT_TRUE(calls[0].hint.full);
  EXPECT_EQ(s1.version, 1u);
  EXPECT_EQ(calls[0].hint.previous_version, 0u);
  EXPECT_EQ(s1.services->size(), 2u);
  EXPECT_EQ(s1.EndpointsOf(Spn("nginx-service")).size(), 2u);
  EXPECT_TRUE(s1.EndpointsOf(Spn("other")).empty());
  EXPECT_EQ(s1.node.name, "node-a");

  // An endpoint removed: partial sync naming only that service.
  proxier_->OnEndpointSliceUpdate(MakeSlice("nginx-service", "nginx-1", {"192.168.156.5"}),
                                  false);
  ASSERT_TRUE(proxier_->SyncOnce().ok());
  calls = backend_.calls();
  ASSERT_EQ(calls.size(), 2u);
  const SyncHint& h = calls[1].hint;
  EXPECT_FALSE(h.full);
  EXPECT_EQ(h.previous_version, 1u);
  EXPECT_EQ(h.changed_services, std::set<std::string>{"default/nginx-service"});
  EXPECT_EQ(h.changed_ports, std::set<ServicePortName>{Spn("nginx-service")});
  EXPECT_TRUE(h.NeedsSync(Spn("nginx-service")));
  EXPECT_FALSE(h.NeedsSync(Spn("other")));
  EXPECT_EQ(calls[1].state.EndpointsOf(Spn("nginx-service")).size(), 1u);
  // The previous snapshot is untouched (immutable, shared).
  EXPECT_EQ(calls[0].state.EndpointsOf(Spn("nginx-service")).size(), 2u);
  // Unchanged parts are shared between snapshots.
  EXPECT_EQ(calls[0].state.services, calls[1].state.services);

  // Nothing pending: still a sync (periodic), partial and empty.
  ASSERT_TRUE(proxier_->SyncOnce().ok());
  calls = backend_.calls();
  EXPECT_FALSE(calls[2].hint.full);
  EXPECT_TRUE(calls[2].hint.changed_services.empty());
}

TEST_F(ProxierTest, FailureMakesNextSyncFull) {
  proxier_->OnServiceUpdate(nullptr, MakeService("a", "10.0.0.1"));
  ASSERT_TRUE(proxier_->SyncOnce().ok());
  backend_.FailNext(1);
  proxier_->OnServiceUpdate(nullptr, MakeService("b", "10.0.0.2"));
  EXPECT_FALSE(proxier_->SyncOnce().ok());
  EXPECT_EQ(proxier_->LastAppliedVersion(), 1u);
  ASSERT_TRUE(proxier_->SyncOnce().ok());
  auto calls = backend_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_FALSE(calls[1].hint.full);
  EXPECT_TRUE(calls[2].hint.full);
  EXPECT_EQ(calls[2].hint.previous_version, 1u);
  EXPECT_EQ(calls[2].state.services->size(), 2u);
  EXPECT_EQ(proxier_->LastAppliedVersion(), 3u);
}

TEST(ProxierHooks, AfterSyncGetsPreviousAndCurrentAppliedStates) {
  FakeBackend backend;
  client::flowcontrol::FakeClock clock;
  std::vector<std::pair<ProxyState, ProxyState>> seen;
  ProxierOptions o;
  o.node_name = "node-a";
  o.clock = &clock;
  o.after_sync = [&seen](const ProxyState& previous, const ProxyState& current) {
    seen.emplace_back(previous, current);
  };
  auto p = Proxier::Create(backend, o);
  ASSERT_TRUE(p.ok());
  Proxier& proxier = **p;

  proxier.OnServiceUpdate(nullptr, MakeService("a", "10.0.0.1"));
  ASSERT_TRUE(proxier.SyncOnce().ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first.version, 0u);  // nothing applied before
  EXPECT_TRUE(seen[0].first.services->empty());
  EXPECT_EQ(seen[0].second.version, 1u);
  EXPECT_EQ(seen[0].second.services->count(Spn("a")), 1u);

  // A failed sync calls nothing; the next success gets the last *applied* state.
  backend.FailNext(1);
  proxier.OnServiceUpdate(nullptr, MakeService("b", "10.0.0.2"));
  EXPECT_FALSE(proxier.SyncOnce().ok());
  EXPECT_EQ(seen.size(), 1u);
  proxier.OnEndpointSliceUpdate(MakeSlice("a", "a-1", {"10.1.0.1"}), false);
  ASSERT_TRUE(proxier.SyncOnce().ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].first.version, 1u);
  EXPECT_TRUE(seen[1].first.EndpointsOf(Spn("a")).empty());
  EXPECT_EQ(seen[1].second.version, 3u);
  EXPECT_EQ(seen[1].second.services->size(), 2u);
  EXPECT_EQ(seen[1].second.EndpointsOf(Spn("a")).size(), 1u);
}

TEST_F(ProxierTest, NodeLabelsAndPeriodicFullSync) {
  ASSERT_TRUE(proxier_->SyncOnce().ok());
  auto node = std::make_shared<Node>();
  node->mutable_metadata()->set_name("node-a");
  (*node->mutable_metadata()->mutable_labels())["topology.kubernetes.io/zone"] = "zone-a";
  auto other = std::make_shared<Node>();
  other->mutable_metadata()->set_name("node-b");
  (*other->mutable_metadata()->mutable_labels())["topology.kubernetes.io/zone"] = "zone-b";
  proxier_->OnNodeUpdate(other);  // ignored
  proxier_->OnNodeUpdate(node);
  ASSERT_TRUE(proxier_->SyncOnce().ok());
  auto calls = backend_.calls();
  EXPECT_TRUE(calls[1].hint.full);
  EXPECT_EQ(calls[1].state.node.Zone(), "zone-a");
  // Same labels again: no full sync.
  proxier_->OnNodeUpdate(node);
  ASSERT_TRUE(proxier_->SyncOnce().ok());
  EXPECT_FALSE(backend_.calls()[2].hint.full);
  // An hour after the last full sync.
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(proxier_->SyncOnce().ok());
  EXPECT_TRUE(backend_.calls()[3].hint.full);
}

TEST_F(ProxierTest, IgnoresServicesOfOtherProxiesAndHeadless) {
  auto s = std::make_shared<Service>(*MakeService("a", "10.0.0.1"));
  (*s->mutable_metadata()->mutable_labels())[kServiceProxyNameLabel] = "other-proxy";
  proxier_->OnServiceUpdate(nullptr, s);
  auto slice = std::make_shared<EndpointSlice>(*MakeSlice("a", "a-1", {"10.1.0.1"}));
  (*slice->mutable_metadata()->mutable_labels())[kHeadlessLabel] = "";
  proxier_->OnEndpointSliceUpdate(slice, false);
  ASSERT_TRUE(proxier_->SyncOnce().ok());
  EXPECT_TRUE(backend_.calls()[0].state.services->empty());
  EXPECT_TRUE(backend_.calls()[0].state.endpoints->empty());
}

TEST_F(ProxierTest, Metrics) {
  proxier_->OnServiceUpdate(nullptr, MakeService("a", "10.0.0.1"));
  // A trigger time in the (real) past after the tracker started: observed once synced.
  const std::string when = absl::FormatTime(absl::RFC3339_full, absl::Now() + absl::Milliseconds(1),
                                            absl::UTCTimeZone());
  proxier_->OnEndpointSliceUpdate(MakeSlice("a", "a-1", {"10.1.0.1"}, when), false);
  ASSERT_TRUE(proxier_->SyncOnce().ok());
  std::string text = registry_.Expose();
  EXPECT_NE(text.find("kubeproxy_sync_proxy_rules_duration_seconds_count 1"), std::string::npos);
  EXPECT_NE(text.find("kubeproxy_sync_full_proxy_rules_duration_seconds_count 1"), std::string::npos);
  EXPECT_NE(text.find("kubeproxy_network_programming_duration_seconds_count 1"), std::string::npos);
  EXPECT_NE(text.find("kubeproxy_sync_proxy_rules_service_changes_total 1"), std::string::npos);
  EXPECT_NE(text.find("kubeproxy_sync_proxy_rules_endpoint_changes_total 1"), std::string::npos);
  EXPECT_GT(metrics_->sync_proxy_rules_last_timestamp->Value(), 1.7e9);
  // Exponential buckets from 1 ms: the first bound is 0.001.
  EXPECT_NE(text.find("kubeproxy_sync_proxy_rules_duration_seconds_bucket{le=\"0.001\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace kslice::proxy
