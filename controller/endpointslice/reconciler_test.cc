// Reconciler tests against the in-memory writer. Scenarios follow upstream's
// reconciler_test.go (docs: spec §15) plus the rules of spec §4-§8 and §11.
#include "controller/endpointslice/reconciler.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "controller/endpointslice/memory_writer.h"
#include "controller/endpointslice/metrics.h"
#include "controller/endpointslice/slice_tracker.h"
#include "controller/endpointslice/topologycache/topology_cache.h"
#include "controller/endpointslice/utils.h"
#include "controller/metrics/metrics.h"
#include "gtest/gtest.h"

namespace kslice::endpointslice {
namespace {

using api::discovery::v1::Endpoint;
using api::discovery::v1::EndpointPort;
using Kind = Action::Kind;

constexpr char kNs[] = "test";

std::string IP(int n) {
  return absl::StrCat("10.", (n >> 16) & 255, ".", (n >> 8) & 255, ".", n & 255);
}

// Upstream's newServiceAndEndpointMeta: selector foo=bar, IPv4, port "foo" TCP -> 80.
Service NewService(const std::string& name = "foo") {
  Service svc;
  svc.mutable_metadata()->set_name(name);
  svc.mutable_metadata()->set_namespace_(kNs);
  svc.mutable_metadata()->set_uid(absl::StrCat(kNs, "-", name));
  (*svc.mutable_spec()->mutable_selector())["foo"] = "bar";
  svc.mutable_spec()->add_ipfamilies("IPv4");
  auto* port = svc.mutable_spec()->add_ports();
  port->set_name(name);
  port->set_protocol("TCP");
  port->mutable_targetport()->set_type(0);
  port->mutable_targetport()->set_intval(80);
  return svc;
}

Pod NewPodValue(int n, bool ready, bool terminating = false) {
  Pod p;
  p.mutable_metadata()->set_namespace_(kNs);
  p.mutable_metadata()->set_name(absl::StrCat("pod", n));
  p.mutable_metadata()->set_uid(absl::StrCat("uid-pod", n));
  p.mutable_metadata()->set_resourceversion(absl::StrCat(n));
  (*p.mutable_metadata()->mutable_labels())["foo"] = "bar";
  if (terminating) p.mutable_metadata()->mutable_deletiontimestamp()->set_seconds(1000);
  p.mutable_spec()->add_containers()->set_name("container-1");
  p.mutable_spec()->set_nodename("node-1");
  p.mutable_status()->set_podip(IP(n));
  p.mutable_status()->add_podips()->set_ip(IP(n));
  auto* c = p.mutable_status()->add_conditions();
  c->set_type("Ready");
  c->set_status(ready ? "True" : "False");
  return p;
}

std::shared_ptr<const Pod> NewPod(int n, bool ready, bool terminating = false) {
  return std::make_shared<const Pod>(NewPodValue(n, ready, terminating));
}

// Upstream's 250 pods, every third not ready.
std::vector<std::shared_ptr<const Pod>> Pods(int count, int first = 0) {
  std::vector<std::shared_ptr<const Pod>> out;
  for (int i = first; i < first + count; ++i) out.push_back(NewPod(i, i % 3 != 0));
  return out;
}

EndpointPorts Port80(const std::string& name = "foo") {
  EndpointPorts ports;
  auto* p = ports.Add();
  p->set_name(name);
  p->set_port(80);
  p->set_protocol("TCP");
  return ports;
}

// Upstream's newEmptyEndpointSlice: name "<svc>-<n>", ownerRef, no labels.
EndpointSlice EmptySlice(int n, const Service& svc, const std::string& type = "IPv4",
                         const EndpointPorts& ports = Port80()) {
  EndpointSlice s;
  s.mutable_metadata()->set_name(absl::StrCat(svc.metadata().name(), "-", n));
  s.mutable_metadata()->set_namespace_(kNs);
  auto* o = s.mutable_metadata()->add_ownerreferences();
  o->set_apiversion("v1");
  o->set_kind("Service");
  o->set_name(svc.metadata().name());
  o->set_uid(svc.metadata().uid());
  o->set_controller(true);
  o->set_blockownerdeletion(true);
  s.set_addresstype(type);
  *s.mutable_ports() = ports;
  return s;
}

void AddEndpoint(EndpointSlice* s, const Pod& pod, const Service& svc) {
  PodToEndpoint(pod, nullptr, svc, kAddressTypeIPv4, s->add_endpoints());
}

struct Event {
  std::string type, reason, message;
};

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto node = std::make_shared<Node>();
    node->mutable_metadata()->set_name("node-1");
    nodes_["node-1"] = node;
  }

  void MakeReconciler(int32_t max = 100, topologycache::TopologyCache* topology = nullptr) {
    registry_ = std::make_unique<controller::metrics::Registry>();
    metrics_ = *Metrics::Create(*registry_, max);
    reconciler_ = std::make_unique<Reconciler>(
        &writer_,
        [this](const std::string& name) -> absl::StatusOr<std::shared_ptr<const Node>> {
          auto it = nodes_.find(name);
          if (it == nodes_.end()) return absl::NotFoundError(absl::StrCat("node ", name));
          return std::shared_ptr<const Node>(it->second);
        },
        &tracker_, topology, metrics_.get(),
        [this](const Service&, std::string_view type, std::string_view reason,
               std::string_view message) {
          events_.push_back({std::string(type), std::string(reason), std::string(message)});
        },
        ReconcilerOptions{.max_endpoints_per_slice = max,
                          .prefer_same_traffic_distribution = true,
                          .controller_name = kControllerName});
  }

  // Seeds the writer and returns the stored copies (as an informer would list them).
  std::vector<std::shared_ptr<const EndpointSlice>> Seed(const std::vector<EndpointSlice>& slices) {
    std::vector<std::shared_ptr<const EndpointSlice>> out;
    for (const EndpointSlice& s : slices) {
      writer_.Seed(s);
      out.push_back(std::make_shared<const EndpointSlice>(
          writer_.slices().at({s.metadata().namespace_(), s.metadata().name()})));
    }
    return out;
  }

  absl::Status Run(const Service& svc, const std::vector<std::shared_ptr<const Pod>>& pods,
                   const std::vector<std::shared_ptr<const EndpointSlice>>& existing,
                   absl::Time trigger = absl::FromUnixSeconds(1700000000)) {
    if (reconciler_ == nullptr) MakeReconciler();
    return reconciler_->Reconcile(svc, pods, existing, trigger);
  }
  // Reconciles against what the writer holds for the service.
  absl::Status RunStored(const Service& svc, const std::vector<std::shared_ptr<const Pod>>& pods) {
    return Run(svc, pods, writer_.SlicesOf(kNs, svc.metadata().name()));
  }

  std::vector<int> Lengths(const std::string& type = "") const {
    std::vector<int> out;
    for (const auto& [key, s] : writer_.slices()) {
      if (type.empty() || s.addresstype() == type) out.push_back(s.endpoints_size());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  int Count(Kind kind) const {
    int n = 0;
    for (const Action& a : writer_.actions()) n += a.kind == kind;
    return n;
  }
  std::vector<Kind> Kinds() const {
    std::vector<Kind> out;
    for (const Action& a : writer_.actions()) out.push_back(a.kind);
    return out;
  }

  struct Expected {
    double desired_slices, actual_slices, desired_endpoints, added, removed;
    double created, updated, deleted, changed_per_sync;
  };
  void ExpectMetrics(const Expected& e) {
    EXPECT_EQ(metrics_->desired_endpoint_slices->Value(), e.desired_slices);
    EXPECT_EQ(metrics_->num_endpoint_slices->Value(), e.actual_slices);
    EXPECT_EQ(metrics_->endpoints_desired->Value(), e.desired_endpoints);
    EXPECT_EQ(metrics_->endpoints_added_per_sync->Read().sum, e.added);
    EXPECT_EQ(metrics_->endpoints_removed_per_sync->Read().sum, e.removed);
    EXPECT_EQ(metrics_->changes->WithLabelValues({"create"}).Value(), e.created);
    EXPECT_EQ(metrics_->changes->WithLabelValues({"update"}).Value(), e.updated);
    EXPECT_EQ(metrics_->changes->WithLabelValues({"delete"}).Value(), e.deleted);
    EXPECT_EQ(metrics_->endpointslices_changed_per_sync->WithLabelValues({"Disabled", ""}).Read().sum,
              e.changed_per_sync);
  }

  MemoryWriter writer_;
  SliceTracker tracker_;
  std::map<std::string, std::shared_ptr<Node>> nodes_;
  std::unique_ptr<controller::metrics::Registry> registry_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Reconciler> reconciler_;
  std::vector<Event> events_;
};

// ---- Placeholder (§7.5, §15.1) -----------------------------------------------------

TEST_F(ReconcilerTest, NoPodsNoSlicesCreatesPlaceholder) {
  Service svc = NewService();
  ASSERT_TRUE(Run(svc, {}, {}).ok());
  ASSERT_EQ(writer_.actions().size(), 1u);
  const Action& a = writer_.actions()[0];
  EXPECT_EQ(a.kind, Kind::kCreate);
  EXPECT_EQ(a.slice.metadata().generatename(), "foo-");
  EXPECT_EQ(a.slice.metadata().name(), "");
  EXPECT_EQ(a.slice.metadata().labels().size(), 3u);
  EXPECT_EQ(a.slice.metadata().labels().at(kLabelServiceName), "foo");
  EXPECT_EQ(a.slice.metadata().labels().at(kLabelManagedBy), kControllerName);
  EXPECT_EQ(a.slice.metadata().labels().at(kLabelHeadless), "");
  EXPECT_EQ(a.slice.ports_size(), 0);
  EXPECT_EQ(a.slice.endpoints_size(), 0);
  EXPECT_EQ(a.slice.addresstype(), "IPv4");
  ASSERT_EQ(a.slice.metadata().ownerreferences_size(), 1);
  const auto& o = a.slice.metadata().ownerreferences(0);
  EXPECT_EQ(o.apiversion(), "v1");
  EXPECT_EQ(o.kind(), "Service");
  EXPECT_EQ(o.name(), "foo");
  EXPECT_EQ(o.uid(), "test-foo");
  EXPECT_TRUE(o.controller());
  EXPECT_TRUE(o.blockownerdeletion());
  auto stored = writer_.SlicesOf(kNs, "foo");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_TRUE(tracker_.Has(*stored[0]));
  EXPECT_FALSE(tracker_.ShouldSync(*stored[0]));  // generation 1 recorded
  ExpectMetrics({1, 1, 0, 0, 0, 1, 0, 0, 1});
}

TEST_F(ReconcilerTest, SamePlaceholderNoWrites) {
  Service svc = NewService();
  EndpointSlice placeholder = NewEndpointSlice(svc, "IPv4", EndpointPorts(), kControllerName);
  placeholder.mutable_metadata()->set_name("foo-abcde");
  auto existing = Seed({placeholder});
  ASSERT_TRUE(Run(svc, {}, existing).ok());
  EXPECT_TRUE(writer_.actions().empty());
  ExpectMetrics({1, 1, 0, 0, 0, 0, 0, 0, 0});
}

TEST_F(ReconcilerTest, DifferentPlaceholderIsUpdatedInPlace) {
  Service svc = NewService();
  EndpointSlice s = EmptySlice(1, svc);
  (*s.mutable_metadata()->mutable_labels())["bar"] = "baz";
  auto existing = Seed({s});
  ASSERT_TRUE(Run(svc, {}, existing).ok());
  ASSERT_EQ(writer_.actions().size(), 1u);
  const Action& a = writer_.actions()[0];
  EXPECT_EQ(a.kind, Kind::kUpdate);
  EXPECT_EQ(a.slice.metadata().name(), "foo-1");
  EXPECT_EQ(a.slice.ports_size(), 0);
  EXPECT_EQ(a.slice.metadata().labels().count("bar"), 0u);
  EXPECT_EQ(a.slice.metadata().labels().at(kLabelServiceName), "foo");
  ExpectMetrics({1, 1, 0, 0, 0, 0, 1, 0, 1});
}

TEST_F(ReconcilerTest, PlaceholderRecycledIntoFirstRealSlice) {
  Service svc = NewService();
  ASSERT_TRUE(RunStored(svc, {}).ok());
  writer_.ClearActions();
  ASSERT_TRUE(RunStored(svc, {NewPod(1, true)}).ok());
  EXPECT_EQ(Kinds(), std::vector<Kind>{Kind::kUpdate});
  EXPECT_EQ(Lengths(), std::vector<int>{1});
}

// ---- Pods and endpoint fields (§4, §5) --------------------------------------------

TEST_F(ReconcilerTest, OnePodEndpointFields) {
  Service svc = NewService();
  (*nodes_["node-1"]->mutable_metadata()->mutable_labels())[kLabelTopologyZone] = "zone-a";
  absl::Time trigger = absl::FromUnixNanos(1784670565123400000);  // 2026-07-21T21:49:25.1234Z
  ASSERT_TRUE(Run(svc, {NewPod(1, true)}, {}, trigger).ok());
  ASSERT_EQ(writer_.actions().size(), 1u);
  const EndpointSlice& s = writer_.actions()[0].slice;
  EXPECT_EQ(s.metadata().annotations().at(kAnnotationTriggerTime), "2026-07-21T21:49:25.1234Z");
  ASSERT_EQ(s.ports_size(), 1);
  EXPECT_EQ(s.ports(0).name(), "foo");
  EXPECT_EQ(s.ports(0).port(), 80);
  EXPECT_EQ(s.ports(0).protocol(), "TCP");
  EXPECT_FALSE(s.ports(0).has_appprotocol());
  ASSERT_EQ(s.endpoints_size(), 1);
  const Endpoint& ep = s.endpoints(0);
  ASSERT_EQ(ep.addresses_size(), 1);
  EXPECT_EQ(ep.addresses(0), IP(1));
  EXPECT_TRUE(ep.conditions().ready());
  EXPECT_TRUE(ep.conditions().serving());
  EXPECT_TRUE(ep.conditions().has_terminating());
  EXPECT_FALSE(ep.conditions().terminating());
  EXPECT_EQ(ep.nodename(), "node-1");
  EXPECT_EQ(ep.zone(), "zone-a");
  EXPECT_FALSE(ep.has_hostname());
  EXPECT_FALSE(ep.has_hints());
  EXPECT_EQ(ep.targetref().kind(), "Pod");
  EXPECT_EQ(ep.targetref().namespace_(), kNs);
  EXPECT_EQ(ep.targetref().name(), "pod1");
  EXPECT_EQ(ep.targetref().uid(), "uid-pod1");
  EXPECT_FALSE(ep.targetref().has_apiversion());
  EXPECT_FALSE(ep.targetref().has_resourceversion());
}

// The reconciler refills the same endpoint objects on every call of a thread: nothing
// of an earlier, richer pod (hostname, zone, second address, long name) may leak into a
// later one.
TEST_F(ReconcilerTest, NothingCarriesOverBetweenReconciles) {
  Service svc = NewService();
  svc.mutable_spec()->clear_ipfamilies();
  svc.mutable_spec()->set_clusterip("None");  // headless: both families
  (*nodes_["node-1"]->mutable_metadata()->mutable_labels())[kLabelTopologyZone] = "zone-a";
  Pod rich = NewPodValue(1, true);
  rich.mutable_metadata()->set_name("a-rather-long-pod-name-beyond-small-string-size");
  rich.mutable_metadata()->set_uid("0b1d2c3e-4f50-6172-8394-a5b6c7d8e9f0");
  rich.mutable_spec()->set_hostname("h1");
  rich.mutable_spec()->set_subdomain("foo");
  rich.mutable_status()->add_podips()->set_ip("fd00::1");
  ASSERT_TRUE(Run(svc, {std::make_shared<Pod>(rich)}, {}).ok());
  ASSERT_EQ(writer_.actions().size(), 2u);  // one slice per family

  // Another service, a plain pod on a node without a zone, not ready.
  MemoryWriter other;
  Reconciler second(
      &other,
      [](const std::string& name) -> absl::StatusOr<std::shared_ptr<const Node>> {
        auto node = std::make_shared<Node>();
        node->mutable_metadata()->set_name(name);
        return std::shared_ptr<const Node>(node);
      },
      &tracker_, nullptr, nullptr,
      [](const Service&, std::string_view, std::string_view, std::string_view) {},
      ReconcilerOptions{});
  Service plain = NewService("bar");
  ASSERT_TRUE(second.Reconcile(plain, {NewPod(2, false)}, {}, absl::InfinitePast()).ok());
  ASSERT_EQ(other.actions().size(), 1u);
  const EndpointSlice& s = other.actions()[0].slice;
  ASSERT_EQ(s.endpoints_size(), 1);
  const Endpoint& ep = s.endpoints(0);
  EXPECT_EQ(ep.addresses().size(), 1);
  EXPECT_EQ(ep.addresses(0), IP(2));
  EXPECT_FALSE(ep.has_hostname());
  EXPECT_FALSE(ep.has_zone());
  EXPECT_FALSE(ep.conditions().ready());
  EXPECT_EQ(ep.targetref().name(), "pod2");
  EXPECT_EQ(ep.targetref().uid(), "uid-pod2");
  EXPECT_FALSE(s.metadata().annotations().contains(kAnnotationTriggerTime));
}

TEST_F(ReconcilerTest, TerminalAndIPlessPodsAreSkipped) {
  Service svc = NewService();
  Pod succeeded = NewPodValue(1, true);
  succeeded.mutable_status()->set_phase("Succeeded");
  Pod failed = NewPodValue(2, true);
  failed.mutable_status()->set_phase("Failed");
  Pod no_ip = NewPodValue(3, true);
  no_ip.mutable_status()->clear_podip();
  no_ip.mutable_status()->clear_podips();
  Pod podip_only = NewPodValue(4, true);  // eligible but no address: no endpoint
  podip_only.mutable_status()->clear_podips();
  ASSERT_TRUE(Run(svc,
                  {std::make_shared<Pod>(succeeded), std::make_shared<Pod>(failed),
                   std::make_shared<Pod>(no_ip), std::make_shared<Pod>(podip_only), NewPod(5, false)},
                  {})
                  .ok());
  EXPECT_EQ(Lengths(), std::vector<int>{1});
  const EndpointSlice& s = writer_.actions()[0].slice;
  EXPECT_EQ(s.endpoints(0).targetref().name(), "pod5");
  EXPECT_FALSE(s.endpoints(0).conditions().ready());
  EXPECT_FALSE(s.endpoints(0).conditions().serving());
  EXPECT_FALSE(s.endpoints(0).conditions().terminating());
}

TEST_F(ReconcilerTest, TerminatingPods) {
  struct Case {
    bool ready, publish_not_ready;
    bool want_ready, want_serving;
  };
  for (const Case& c : std::vector<Case>{{true, false, false, true},
                                         {false, false, false, false},
                                         {true, true, true, true},
                                         {false, true, true, false}}) {
    SCOPED_TRACE(absl::StrCat("ready=", c.ready, " publish=", c.publish_not_ready));
    MemoryWriter fresh;
    std::swap(writer_, fresh);
    reconciler_.reset();
    Service svc = NewService();
    svc.mutable_spec()->set_publishnotreadyaddresses(c.publish_not_ready);
    ASSERT_TRUE(Run(svc, {NewPod(1, c.ready, /*terminating=*/true)}, {}).ok());
    ASSERT_EQ(writer_.actions().size(), 1u);
    const Endpoint& ep = writer_.actions()[0].slice.endpoints(0);
    EXPECT_EQ(ep.conditions().ready(), c.want_ready);
    EXPECT_EQ(ep.conditions().serving(), c.want_serving);
    EXPECT_TRUE(ep.conditions().terminating());
  }
}

TEST_F(ReconcilerTest, HostnameOnlyWithMatchingSubdomain) {
  Service svc = NewService();
  Pod with = NewPodValue(1, true);
  with.mutable_spec()->set_hostname("h1");
  with.mutable_spec()->set_subdomain("foo");
  Pod other_subdomain = NewPodValue(2, true);
  other_subdomain.mutable_spec()->set_hostname("h2");
  other_subdomain.mutable_spec()->set_subdomain("bar");
  ASSERT_TRUE(
      Run(svc, {std::make_shared<Pod>(with), std::make_shared<Pod>(other_subdomain)}, {}).ok());
  const EndpointSlice& s = writer_.actions()[0].slice;
  ASSERT_EQ(s.endpoints_size(), 2);
  for (const Endpoint& ep : s.endpoints()) {
    if (ep.targetref().name() == "pod1") {
      EXPECT_EQ(ep.hostname(), "h1");
    } else {
      EXPECT_FALSE(ep.has_hostname());
    }
  }
}

TEST_F(ReconcilerTest, MissingNodeSkipsPodAndReturnsErrorAfterWrites) {
  Service svc = NewService();
  Pod lost = NewPodValue(2, true);
  lost.mutable_spec()->set_nodename("node-gone");
  absl::Status s = Run(svc, {NewPod(1, true), std::make_shared<Pod>(lost)}, {});
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "skipping Pod pod2 for Service test/foo: Node node-gone Not Found");
  EXPECT_EQ(Lengths(), std::vector<int>{1});  // the slice was still written
  EXPECT_EQ(writer_.actions()[0].slice.endpoints(0).targetref().name(), "pod1");
}

TEST_F(ReconcilerTest, MissingNodeKeptWithPublishNotReadyAddresses) {
  Service svc = NewService();
  svc.mutable_spec()->set_publishnotreadyaddresses(true);
  (*nodes_["node-1"]->mutable_metadata()->mutable_labels())[kLabelTopologyZone] = "zone-a";
  Pod lost = NewPodValue(2, true);
  lost.mutable_spec()->set_nodename("node-gone");
  ASSERT_TRUE(Run(svc, {NewPod(1, true), std::make_shared<Pod>(lost)}, {}).ok());
  const EndpointSlice& s = writer_.actions()[0].slice;
  ASSERT_EQ(s.endpoints_size(), 2);
  for (const Endpoint& ep : s.endpoints()) {
    EXPECT_EQ(ep.has_zone(), ep.targetref().name() == "pod1");
    EXPECT_TRUE(ep.has_nodename());
  }
}

TEST_F(ReconcilerTest, NodeLookupErrorAbortsAddressType) {
  Service svc = NewService();
  registry_ = std::make_unique<controller::metrics::Registry>();
  metrics_ = *Metrics::Create(*registry_, 100);
  reconciler_ = std::make_unique<Reconciler>(
      &writer_,
      [](const std::string&) -> absl::StatusOr<std::shared_ptr<const Node>> {
        return absl::InternalError("lister broken");
      },
      &tracker_, nullptr, metrics_.get(),
      [](const Service&, std::string_view, std::string_view, std::string_view) {},
      ReconcilerOptions{});
  absl::Status s = Run(svc, {NewPod(1, true)}, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(writer_.actions().empty());
}

TEST_F(ReconcilerTest, MalformedIPsDoNotCrash) {
  Service svc = NewService();
  Pod bad = NewPodValue(1, true);
  bad.mutable_status()->mutable_podips(0)->set_ip("not-an-ip");
  Pod sloppy = NewPodValue(2, true);
  sloppy.mutable_status()->mutable_podips(0)->set_ip("010.001.002.003");
  ASSERT_TRUE(Run(svc, {std::make_shared<Pod>(bad), std::make_shared<Pod>(sloppy)}, {}).ok());
  const EndpointSlice& s = writer_.actions()[0].slice;
  std::vector<std::string> addrs;
  for (const Endpoint& ep : s.endpoints()) addrs.push_back(ep.addresses(0));
  std::sort(addrs.begin(), addrs.end());
  // Upstream: an unparsable IP counts as IPv4 and prints as Go's nil IP.
  EXPECT_EQ(addrs, (std::vector<std::string>{"10.1.2.3", "<nil>"}));
}

// ---- Ports and address types (§6) ---------------------------------------------------

TEST_F(ReconcilerTest, NamedPortsSplitSlices) {
  Service svc = NewService("named-port-example");
  auto* port = svc.mutable_spec()->mutable_ports(0);
  port->set_name("");
  port->mutable_targetport()->set_type(1);
  port->mutable_targetport()->set_strval("http");
  std::vector<std::shared_ptr<const Pod>> pods;
  for (int i = 0; i < 300; ++i) {
    Pod p = NewPodValue(i, i % 3 != 0);
    auto* cp = p.mutable_spec()->mutable_containers(0)->add_ports();
    cp->set_name("http");
    cp->set_containerport(8080 + i % 5);
    cp->set_protocol("TCP");
    pods.push_back(std::make_shared<Pod>(p));
  }
  ASSERT_TRUE(Run(svc, pods, {}).ok());
  EXPECT_EQ(Count(Kind::kCreate), 5);
  EXPECT_EQ(Lengths(), std::vector<int>(5, 60));
  std::vector<int> ports;
  for (const auto& [key, s] : writer_.slices()) {
    ASSERT_EQ(s.ports_size(), 1);
    EXPECT_EQ(s.ports(0).name(), "");
    EXPECT_TRUE(s.ports(0).has_name());
    EXPECT_EQ(s.ports(0).protocol(), "TCP");
    EXPECT_EQ(s.addresstype(), "IPv4");
    ports.push_back(s.ports(0).port());
  }
  std::sort(ports.begin(), ports.end());
  EXPECT_EQ(ports, (std::vector<int>{8080, 8081, 8082, 8083, 8084}));
}

TEST_F(ReconcilerTest, ServiceWithoutPorts) {
  Service svc = NewService();
  svc.mutable_spec()->clear_ports();
  svc.mutable_spec()->set_clusterip("10.0.0.1");
  ASSERT_TRUE(Run(svc, Pods(3), {}).ok());
  EXPECT_EQ(Lengths(), std::vector<int>{3});
  EXPECT_EQ(writer_.actions()[0].slice.ports_size(), 0);
  EXPECT_EQ(writer_.actions()[0].slice.metadata().labels().count(kLabelHeadless), 0u);
  // A second pass changes nothing.
  writer_.ClearActions();
  ASSERT_TRUE(RunStored(svc, Pods(3)).ok());
  EXPECT_TRUE(writer_.actions().empty());
}

TEST_F(ReconcilerTest, DualStackOneSlicePerFamily) {
  Service svc = NewService();
  svc.mutable_spec()->add_ipfamilies("IPv6");
  std::vector<std::shared_ptr<const Pod>> pods;
  for (int i = 0; i < 3; ++i) {
    Pod p = NewPodValue(i, true);
    p.mutable_status()->add_podips()->set_ip(absl::StrCat("fd00::", i + 1));
    pods.push_back(std::make_shared<Pod>(p));
  }
  ASSERT_TRUE(Run(svc, pods, {}).ok());
  EXPECT_EQ(Lengths("IPv4"), std::vector<int>{3});
  EXPECT_EQ(Lengths("IPv6"), std::vector<int>{3});
  for (const auto& [key, s] : writer_.slices()) {
    for (const Endpoint& ep : s.endpoints()) {
      ASSERT_EQ(ep.addresses_size(), 1);
      EXPECT_EQ(ep.addresses(0).find(':') != std::string::npos, s.addresstype() == "IPv6");
    }
  }
  writer_.ClearActions();
  ASSERT_TRUE(RunStored(svc, pods).ok());
  EXPECT_TRUE(writer_.actions().empty());
}

TEST_F(ReconcilerTest, LegacyHeadlessServiceGetsBothFamilies) {
  Service svc = NewService();
  svc.mutable_spec()->clear_ipfamilies();
  svc.mutable_spec()->set_clusterip("None");
  ASSERT_TRUE(Run(svc, Pods(2), {}).ok());
  EXPECT_EQ(Lengths("IPv4"), std::vector<int>{2});
  EXPECT_EQ(Lengths("IPv6"), std::vector<int>{0});  // placeholder
}

TEST_F(ReconcilerTest, LegacyClusterIPFamily) {
  Service svc = NewService();
  svc.mutable_spec()->clear_ipfamilies();
  svc.mutable_spec()->set_clusterip("fd00::10");
  ASSERT_TRUE(Run(svc, Pods(2), {}).ok());
  EXPECT_EQ(Lengths("IPv4"), std::vector<int>{});
  EXPECT_EQ(Lengths("IPv6"), std::vector<int>{0});
}

TEST_F(ReconcilerTest, LegacyIPTypeSlicesAreReplaced) {
  Service svc = NewService();
  EndpointSlice s1 = EmptySlice(1, svc, "IP");
  EndpointSlice s2 = EmptySlice(2, svc, "IP");
  std::vector<std::shared_ptr<const Pod>> pods;
  for (int i = 0; i < 80; ++i) {
    pods.push_back(NewPod(i, true));
    AddEndpoint(&s1, *pods.back(), Service());
  }
  for (int i = 100; i < 150; ++i) {
    pods.push_back(NewPod(i, true));
    AddEndpoint(&s2, *pods.back(), Service());
  }
  auto existing = Seed({s1, s2});
  ASSERT_TRUE(Run(svc, pods, existing).ok());
  EXPECT_EQ(Count(Kind::kDelete), 2);
  EXPECT_EQ(Count(Kind::kCreate), 2);
  EXPECT_EQ(Lengths(), (std::vector<int>{30, 100}));
  for (const auto& [key, s] : writer_.slices()) EXPECT_EQ(s.addresstype(), "IPv4");
  // The IP deletes come after the IPv4 writes.
  EXPECT_EQ(Kinds(), (std::vector<Kind>{Kind::kCreate, Kind::kCreate, Kind::kDelete, Kind::kDelete}));
}

// ---- Packing (§7, §15) ------------------------------------------------------------

TEST_F(ReconcilerTest, ManyPodsFromScratch) {
  ASSERT_TRUE(Run(NewService(), Pods(250), {}).ok());
  EXPECT_EQ(Count(Kind::kCreate), 3);
  EXPECT_EQ(Lengths(), (std::vector<int>{50, 100, 100}));
  ExpectMetrics({3, 3, 250, 250, 0, 3, 0, 0, 3});
}

TEST_F(ReconcilerTest, ReadinessFlipUpdatesExactlyOneSlice) {
  Service svc = NewService();
  auto pods = Pods(250);
  ASSERT_TRUE(RunStored(svc, pods).ok());
  writer_.ClearActions();
  ASSERT_TRUE(RunStored(svc, pods).ok());
  EXPECT_TRUE(writer_.actions().empty()) << "no-op resync must not write";
  pods[7] = NewPod(7, false);
  ASSERT_TRUE(RunStored(svc, pods).ok());
  ASSERT_EQ(Kinds(), std::vector<Kind>{Kind::kUpdate});
  bool found = false;
  for (const Endpoint& ep : writer_.actions()[0].slice.endpoints()) {
    if (ep.targetref().name() == "pod7") {
      found = true;
      EXPECT_FALSE(ep.conditions().ready());
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(Lengths(), (std::vector<int>{50, 100, 100}));
}

TEST_F(ReconcilerTest, FillBestUntouchedSlice) {
  Service svc = NewService();
  auto pods = Pods(250);
  EndpointSlice s1 = EmptySlice(1, svc), s2 = EmptySlice(2, svc);
  for (int i = 1; i < 246; i += 4) AddEndpoint(&s1, *pods[i], svc);
  for (int i = 3; i < 246; i += 4) AddEndpoint(&s2, *pods[i], svc);
  ASSERT_EQ(s1.endpoints_size(), 62);
  ASSERT_EQ(s2.endpoints_size(), 61);
  auto existing = Seed({s1, s2});
  ASSERT_TRUE(Run(svc, pods, existing).ok());
  EXPECT_EQ(Kinds(), (std::vector<Kind>{Kind::kCreate, Kind::kUpdate}));
  EXPECT_EQ(writer_.actions()[1].slice.metadata().name(), "foo-1");
  EXPECT_EQ(Lengths(), (std::vector<int>{61, 89, 100}));
  ExpectMetrics({3, 3, 250, 127, 0, 1, 1, 0, 2});
}

TEST_F(ReconcilerTest, PreferNewSliceOverSplitting) {
  Service svc = NewService();
  auto pods = Pods(300);
  EndpointSlice s1 = EmptySlice(1, svc), s2 = EmptySlice(2, svc);
  for (int i = 1; i < 296; i += 4) AddEndpoint(&s1, *pods[i], svc);
  for (int i = 3; i < 296; i += 4) AddEndpoint(&s2, *pods[i], svc);
  auto existing = Seed({s1, s2});
  ASSERT_TRUE(Run(svc, pods, existing).ok());
  EXPECT_EQ(Kinds(), (std::vector<Kind>{Kind::kCreate, Kind::kCreate}));
  EXPECT_EQ(Lengths(), (std::vector<int>{52, 74, 74, 100}));
  ExpectMetrics({3, 4, 300, 152, 0, 2, 0, 0, 2});
}

TEST_F(ReconcilerTest, RecyclingOnPortChange) {
  Service svc = NewService();
  auto pods = Pods(300);
  std::vector<EndpointSlice> slices;
  for (int i = 0; i < 300; ++i) {
    if (i % 30 == 0) slices.push_back(EmptySlice(i / 30, svc));
    AddEndpoint(&slices.back(), *pods[i], svc);
  }
  auto existing = Seed(slices);
  ASSERT_TRUE(Run(svc, pods, existing).ok());
  EXPECT_TRUE(writer_.actions().empty());
  svc.mutable_spec()->mutable_ports(0)->mutable_targetport()->set_intval(81);
  ASSERT_TRUE(Run(svc, pods, existing).ok());
  EXPECT_EQ(Count(Kind::kUpdate), 3);
  EXPECT_EQ(Count(Kind::kDelete), 7);
  EXPECT_EQ(Count(Kind::kCreate), 0);
  EXPECT_EQ(Lengths(), (std::vector<int>{100, 100, 100}));
  for (const auto& [key, s] : writer_.slices()) EXPECT_EQ(s.ports(0).port(), 81);
  ExpectMetrics({3, 3, 300, 300, 0, 0, 3, 7, 10});
}

TEST_F(ReconcilerTest, PortChangeUpdatesAllSlicesInPlace) {
  Service svc = NewService();
  auto pods = Pods(250);
  ASSERT_TRUE(RunStored(svc, pods).ok());
  writer_.ClearActions();
  svc.mutable_spec()->mutable_ports(0)->mutable_targetport()->set_intval(81);
  ASSERT_TRUE(RunStored(svc, pods).ok());
  EXPECT_EQ(Kinds(), std::vector<Kind>(3, Kind::kUpdate));
  EXPECT_EQ(Lengths(), (std::vector<int>{50, 100, 100}));
}

TEST_F(ReconcilerTest, UpdatePackingFillsFullerSlice) {
  Service svc = NewService();
  std::vector<std::shared_ptr<const Pod>> pods;
  EndpointSlice s1 = EmptySlice(1, svc), s2 = EmptySlice(2, svc);
  for (int i = 0; i < 80; ++i) {
    pods.push_back(NewPod(i, true));
    AddEndpoint(&s1, *pods.back(), svc);
  }
  for (int i = 100; i < 120; ++i) {
    pods.push_back(NewPod(i, true));
    AddEndpoint(&s2, *pods.back(), svc);
  }
  auto existing = Seed({s1, s2});
  for (size_t i = 0; i < pods.size(); i += 10) {
    Pod p = *pods[i];
    p.mutable_status()->mutable_conditions(0)->set_status("False");
    pods[i] = std::make_shared<Pod>(p);
  }
  for (int i = 200; i < 215; ++i) pods.push_back(NewPod(i, true));
  ASSERT_TRUE(Run(svc, pods, existing).ok());
  EXPECT_EQ(Kinds(), std::vector<Kind>(2, Kind::kUpdate));
  EXPECT_EQ(Lengths(), (std::vector<int>{20, 95}));
  ExpectMetrics({2, 2, 115, 15, 0, 0, 2, 0, 2});
}

TEST_F(ReconcilerTest, MaxEndpointsPerSlice) {
  struct Case {
    int32_t max;
    int pods;
    std::vector<int> lengths;
  };
  for (const Case& c : std::vector<Case>{{50, 250, {50, 50, 50, 50, 50}},
                                         {80, 250, {10, 80, 80, 80}},
                                         {150, 250, {100, 150}},
                                         {500, 250, {250}},
                                         {1, 5, {1, 1, 1, 1, 1}},
                                         {1000, 2500, {500, 1000, 1000}}}) {
    SCOPED_TRACE(c.max);
    MemoryWriter fresh;
    std::swap(writer_, fresh);
    MakeReconciler(c.max);
    ASSERT_TRUE(Run(NewService(), Pods(c.pods), {}).ok());
    EXPECT_EQ(Lengths(), c.lengths);
    EXPECT_EQ(metrics_->desired_endpoint_slices->Value(), c.lengths.size());
    EXPECT_EQ(metrics_->num_endpoint_slices->Value(), c.lengths.size());
  }
}

TEST_F(ReconcilerTest, TenThousandPods) {
  Service svc = NewService();
  auto pods = Pods(10000);
  ASSERT_TRUE(RunStored(svc, pods).ok());
  EXPECT_EQ(Count(Kind::kCreate), 100);
  EXPECT_EQ(Lengths(), std::vector<int>(100, 100));
  writer_.ClearActions();
  pods.erase(pods.begin() + 5000);
  ASSERT_TRUE(RunStored(svc, pods).ok());
  EXPECT_EQ(Kinds(), std::vector<Kind>{Kind::kUpdate});
}

// ---- Foreign changes, ownership, labels (§7.2, §8, §11) -----------------------------

TEST_F(ReconcilerTest, SliceEditedBySomeoneElseIsCorrected) {
  Service svc = NewService();
  auto pods = Pods(10);
  ASSERT_TRUE(RunStored(svc, pods).ok());
  writer_.ClearActions();
  EndpointSlice edited = *writer_.SlicesOf(kNs, "foo")[0];
  edited.mutable_endpoints(0)->mutable_conditions()->set_ready(
      !edited.endpoints(0).conditions().ready());
  edited.mutable_endpoints()->RemoveLast();
  writer_.Seed(edited);
  ASSERT_TRUE(RunStored(svc, pods).ok());
  ASSERT_EQ(Kinds(), std::vector<Kind>{Kind::kUpdate});
  EXPECT_EQ(Lengths(), std::vector<int>{10});
  writer_.ClearActions();
  ASSERT_TRUE(RunStored(svc, pods).ok());
  EXPECT_TRUE(writer_.actions().empty());
}

TEST_F(ReconcilerTest, DuplicateEndpointsAreDropped) {
  Service svc = NewService();
  auto pods = Pods(3);
  EndpointSlice s1 = EmptySlice(1, svc);
  for (const auto& p : pods) AddEndpoint(&s1, *p, svc);
  EndpointSlice s2 = EmptySlice(2, svc);
  AddEndpoint(&s2, *pods[0], svc);
  AddEndpoint(&s2, *pods[1], svc);
  auto existing = Seed({s1, s2});
  ASSERT_TRUE(Run(svc, pods, existing).ok());
  EXPECT_EQ(Kinds(), std::vector<Kind>{Kind::kDelete});
  EXPECT_EQ(Lengths(), std::vector<int>{3});
  ExpectMetrics({1, 1, 3, 0, 2, 0, 0, 1, 1});
}

TEST_F(ReconcilerTest, SliceOwnedByOtherUIDIsReplacedNotRecycled) {
  Service svc = NewService();
  auto pod = NewPod(1, true);
  EndpointSlice s = EmptySlice(1, svc);
  AddEndpoint(&s, *pod, svc);
  s.mutable_metadata()->mutable_ownerreferences(0)->set_uid("different");
  auto existing = Seed({s});
  ASSERT_TRUE(Run(svc, {pod}, existing).ok());
  EXPECT_EQ(Kinds(), (std::vector<Kind>{Kind::kCreate, Kind::kDelete}));
  EXPECT_EQ(writer_.actions()[1].slice.metadata().name(), "foo-1");
  EXPECT_EQ(writer_.slices().size(), 1u);
}

TEST_F(ReconcilerTest, SliceOwnedByServiceIsKept) {
  Service svc = NewService();
  auto pod = NewPod(1, true);
  EndpointSlice s = EmptySlice(1, svc);
  AddEndpoint(&s, *pod, svc);
  ASSERT_TRUE(Run(svc, {pod}, Seed({s})).ok());
  EXPECT_TRUE(writer_.actions().empty());
}

TEST_F(ReconcilerTest, ServiceLabelChangeUpdatesSlices) {
  Service svc = NewService();
  auto pods = Pods(250);
  ASSERT_TRUE(RunStored(svc, pods).ok());
  writer_.ClearActions();
  (*svc.mutable_metadata()->mutable_labels())["foo"] = "bar";
  ASSERT_TRUE(RunStored(svc, pods).ok());
  EXPECT_EQ(Kinds(), std::vector<Kind>(3, Kind::kUpdate));
  for (const auto& [key, s] : writer_.slices()) {
    EXPECT_EQ(s.metadata().labels().at("foo"), "bar");
    EXPECT_EQ(s.metadata().labels().at(kLabelServiceName), "foo");
  }
  EXPECT_EQ(Lengths(), (std::vector<int>{50, 100, 100}));
}

TEST_F(ReconcilerTest, ReservedServiceLabelsCauseNoWrites) {
  Service svc = NewService();
  auto pods = Pods(250);
  ASSERT_TRUE(RunStored(svc, pods).ok());
  writer_.ClearActions();
  auto* labels = svc.mutable_metadata()->mutable_labels();
  (*labels)[kLabelServiceName] = "bad";
  (*labels)[kLabelManagedBy] = "actor";
  (*labels)[kLabelHeadless] = "invalid";
  ASSERT_TRUE(RunStored(svc, pods).ok());
  EXPECT_TRUE(writer_.actions().empty());
}

// ---- Trigger time, deletion, errors (§7.4, §8.3) --------------------------------------

TEST_F(ReconcilerTest, TriggerTimeAnnotation) {
  Service svc = NewService();
  auto pods = Pods(2);
  ASSERT_TRUE(Run(svc, pods, {}, absl::FromUnixSeconds(1784670565)).ok());
  EXPECT_EQ(writer_.actions()[0].slice.metadata().annotations().at(kAnnotationTriggerTime),
            "2026-07-21T21:49:25Z");
  writer_.ClearActions();
  // A write with no trigger time removes the annotation.
  pods.push_back(NewPod(5, true));
  ASSERT_TRUE(Run(svc, pods, writer_.SlicesOf(kNs, "foo"), absl::InfinitePast()).ok());
  ASSERT_EQ(Kinds(), std::vector<Kind>{Kind::kUpdate});
  EXPECT_EQ(writer_.actions()[0].slice.metadata().annotations().count(kAnnotationTriggerTime), 0u);
  // The trigger time alone never causes a write.
  writer_.ClearActions();
  ASSERT_TRUE(Run(svc, pods, writer_.SlicesOf(kNs, "foo"), absl::FromUnixSeconds(1)).ok());
  EXPECT_TRUE(writer_.actions().empty());
}

TEST_F(ReconcilerTest, OtherAnnotationsPreservedOnUpdate) {
  Service svc = NewService();
  auto pod = NewPod(1, true);
  EndpointSlice s = EmptySlice(1, svc);
  (*s.mutable_metadata()->mutable_annotations())["keep"] = "me";
  auto existing = Seed({s});
  ASSERT_TRUE(Run(svc, {pod}, existing).ok());
  ASSERT_EQ(Kinds(), std::vector<Kind>{Kind::kUpdate});
  EXPECT_EQ(writer_.actions()[0].slice.metadata().annotations().at("keep"), "me");
  EXPECT_FALSE(writer_.actions()[0].slice.metadata().resourceversion().empty());
}

TEST_F(ReconcilerTest, ServiceBeingDeletedGetsNoCreates) {
  Service svc = NewService();
  svc.mutable_metadata()->mutable_deletiontimestamp()->set_seconds(5);
  auto pods = Pods(150);
  EndpointSlice s = EmptySlice(1, svc);
  for (int i = 0; i < 10; ++i) AddEndpoint(&s, *pods[i], svc);
  pods[0] = NewPod(0, true);  // forces an update of foo-1
  ASSERT_TRUE(Run(svc, pods, Seed({s})).ok());
  EXPECT_EQ(Kinds(), std::vector<Kind>{Kind::kUpdate});
}

class FailingWriter : public MemoryWriter {
 public:
  absl::StatusOr<EndpointSlice> Create(const EndpointSlice&) override {
    return absl::UnavailableError("boom");
  }
};

TEST_F(ReconcilerTest, WriteErrorIsReturnedAndNotTracked) {
  FailingWriter failing;
  registry_ = std::make_unique<controller::metrics::Registry>();
  metrics_ = *Metrics::Create(*registry_, 100);
  Reconciler r(&failing,
               [](const std::string&) -> absl::StatusOr<std::shared_ptr<const Node>> {
                 return std::make_shared<Node>();
               },
               &tracker_, nullptr, metrics_.get(),
               [](const Service&, std::string_view, std::string_view, std::string_view) {},
               ReconcilerOptions{});
  absl::Status s = r.Reconcile(NewService(), Pods(3), {}, absl::InfinitePast());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "failed to create EndpointSlice for Service test/foo: boom");
  EXPECT_EQ(metrics_->changes->WithLabelValues({"create"}).Value(), 0);
}

// ---- Hints (§9, §10) --------------------------------------------------------------

TEST_F(ReconcilerTest, TrafficDistributionPreferCloseSetsZoneHints) {
  topologycache::TopologyCache topology;
  MakeReconciler(100, &topology);
  (*nodes_["node-1"]->mutable_metadata()->mutable_labels())[kLabelTopologyZone] = "zone-a";
  Service svc = NewService();
  svc.mutable_spec()->set_trafficdistribution("PreferClose");
  ASSERT_TRUE(Run(svc, {NewPod(1, true), NewPod(2, false)}, {}).ok());
  const EndpointSlice& s = writer_.actions()[0].slice;
  for (const Endpoint& ep : s.endpoints()) {
    if (ep.conditions().ready()) {
      ASSERT_EQ(ep.hints().forzones_size(), 1);
      EXPECT_EQ(ep.hints().forzones(0).name(), "zone-a");
    } else {
      EXPECT_FALSE(ep.has_hints());
    }
  }
  EXPECT_EQ(metrics_->services_count_by_traffic_distribution->WithLabelValues({"PreferClose"})
                .Value(),
            1);
  EXPECT_EQ(metrics_->endpointslices_changed_per_sync->WithLabelValues({"Disabled", "PreferClose"})
                .Read()
                .count,
            1u);
  // Dropping trafficDistribution removes the hints with one update.
  writer_.ClearActions();
  svc.mutable_spec()->clear_trafficdistribution();
  ASSERT_TRUE(RunStored(svc, {NewPod(1, true), NewPod(2, false)}).ok());
  ASSERT_EQ(Kinds(), std::vector<Kind>{Kind::kUpdate});
  for (const Endpoint& ep : writer_.actions()[0].slice.endpoints()) EXPECT_FALSE(ep.has_hints());
  EXPECT_EQ(metrics_->services_count_by_traffic_distribution->WithLabelValues({"PreferClose"})
                .Value(),
            0);
}

TEST_F(ReconcilerTest, TopologyAutoWithoutNodeInfoWarnsAndWritesNoHints) {
  topologycache::TopologyCache topology;  // SetNodes never ran: no zone ratios
  MakeReconciler(100, &topology);
  (*nodes_["node-1"]->mutable_metadata()->mutable_labels())[kLabelTopologyZone] = "zone-a";
  Service svc = NewService();
  (*svc.mutable_metadata()->mutable_annotations())[topologycache::kAnnotationTopologyMode] = "Auto";
  svc.mutable_spec()->set_trafficdistribution("PreferClose");  // the annotation wins
  ASSERT_TRUE(Run(svc, Pods(5), {}).ok());
  ASSERT_EQ(Count(Kind::kCreate), 1);
  for (const Endpoint& ep : writer_.actions()[0].slice.endpoints()) EXPECT_FALSE(ep.has_hints());
  ASSERT_FALSE(events_.empty());
  EXPECT_EQ(events_[0].type, "Warning");
  EXPECT_NE(events_[0].message.find("addressType: IPv4"), std::string::npos);
  EXPECT_EQ(
      metrics_->endpointslices_changed_per_sync->WithLabelValues({"Auto", ""}).Read().count, 1u);
  EXPECT_EQ(metrics_->services_count_by_traffic_distribution->WithLabelValues({"PreferClose"})
                .Value(),
            0);
}

// Different services reconciled at once on shared tracker, metrics and topology cache
// (the controller's workers); meant for --config=tsan as well.
TEST_F(ReconcilerTest, ConcurrentReconcilesOfDifferentServices) {
  MakeReconciler();
  constexpr int kThreads = 4;
  std::vector<MemoryWriter> writers(kThreads);
  std::vector<std::thread> threads;
  topologycache::TopologyCache topology;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Reconciler r(
          &writers[t],
          [this](const std::string& name) -> absl::StatusOr<std::shared_ptr<const Node>> {
            return std::shared_ptr<const Node>(nodes_.at(name));
          },
          &tracker_, &topology, metrics_.get(),
          [](const Service&, std::string_view, std::string_view, std::string_view) {},
          ReconcilerOptions{});
      Service svc = NewService(absl::StrCat("svc", t));
      for (int round = 0; round < 5; ++round) {
        ASSERT_TRUE(r.Reconcile(svc, Pods(150 + 50 * round),
                                writers[t].SlicesOf(kNs, svc.metadata().name()),
                                absl::InfinitePast())
                        .ok());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const MemoryWriter& w : writers) {
    std::vector<int> lengths;
    for (const auto& [key, s] : w.slices()) lengths.push_back(s.endpoints_size());
    std::sort(lengths.begin(), lengths.end());
    EXPECT_EQ(lengths, (std::vector<int>{50, 100, 100, 100}));
  }
  EXPECT_EQ(metrics_->endpoints_desired->Value(), kThreads * 350);
}

}  // namespace
}  // namespace kslice::endpointslice
