#include "controller/endpointslice/utils.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kslice::endpointslice {
namespace {

using api::core::v1::Pod;
using api::core::v1::Service;
using api::core::v1::ServicePort;
using api::discovery::v1::Endpoint;
using api::discovery::v1::EndpointPort;
using api::discovery::v1::EndpointSlice;

Service Svc(const std::string& name = "foo") {
  Service s;
  s.mutable_metadata()->set_name(name);
  s.mutable_metadata()->set_namespace_("ns");
  s.mutable_metadata()->set_uid("svc-uid");
  return s;
}

Pod ReadyPod(const std::string& name, bool ready = true) {
  Pod p;
  p.mutable_metadata()->set_name(name);
  p.mutable_metadata()->set_namespace_("ns");
  p.mutable_metadata()->set_resourceversion("1");
  auto* c = p.mutable_status()->add_conditions();
  c->set_type("Ready");
  c->set_status(ready ? "True" : "False");
  p.mutable_status()->add_podips()->set_ip("10.0.0.1");
  return p;
}

TEST(UtilsTest, CanonicalIP) {
  struct Case {
    std::string in;
    bool v6;
    std::string out;
  };
  for (const Case& c : std::vector<Case>{
           {"1.2.3.4", false, "1.2.3.4"},
           {"010.001.002.003", false, "10.1.2.3"},
           {"::ffff:1.2.3.4", false, "1.2.3.4"},
           {"::ffff:0102:0304", false, "1.2.3.4"},
           {"FD00:0:0:0:0:0:0:1", true, "fd00::1"},
           {"2001:db8:0:0:1:0:0:1", true, "2001:db8::1:0:0:1"},
           {"2001:0db8:0000:0001:0001:0001:0001:0001", true, "2001:db8:0:1:1:1:1:1"},
           {"::", true, "::"},
           {"::1", true, "::1"},
           {"1::", true, "1::"},
           {"::1.2.3.4", true, "::102:304"},
           {"1.2.3", false, "<nil>"},
           {"1.2.3.256", false, "<nil>"},
           {"not-an-ip", false, "<nil>"},
           {"", false, "<nil>"},
           {"fe80::1%eth0", false, "<nil>"},
           {"1:2:3:4:5:6:7:8:9", false, "<nil>"},
           {"1::2::3", false, "<nil>"},
       }) {
    SCOPED_TRACE(c.in);
    auto [v6, out] = CanonicalIP(c.in);
    EXPECT_EQ(v6, c.v6);
    EXPECT_EQ(out, c.out);
  }
}

// EndpointAddresses copies canonical IPv4 text as is and parses everything else: both
// paths must agree with CanonicalIP.
TEST(UtilsTest, EndpointAddressesMatchCanonicalIP) {
  for (const char* ip :
       {"10.0.0.1", "0.0.0.0", "255.255.255.255", "1.2.3.4", "010.0.0.1", "1.2.3.04",
        "1.2.3.256", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.4.", ".1.2.3", "1234.1.1.1",
        "00.1.2.3", "::ffff:1.2.3.4", "fe80::1", "::", "", "a.b.c.d", "1.2.3.4 "}) {
    SCOPED_TRACE(ip);
    Pod p;
    p.mutable_status()->add_podips()->set_ip(ip);
    auto [v6, canonical] = CanonicalIP(ip);
    for (const char* type : {kAddressTypeIPv4, kAddressTypeIPv6}) {
      google::protobuf::RepeatedPtrField<std::string> out;
      EndpointAddresses(p, type, &out);
      const bool want = (type == std::string(kAddressTypeIPv6)) == v6;
      ASSERT_EQ(out.size(), want ? 1 : 0) << type;
      if (want) {
        EXPECT_EQ(out[0], canonical);
      }
    }
  }
}

TEST(UtilsTest, PodReadinessAndEligibility) {
  Pod p = ReadyPod("a");
  EXPECT_TRUE(IsPodReady(p));
  EXPECT_TRUE(ShouldPodBeInEndpoints(p, true));
  p.mutable_status()->mutable_conditions(0)->set_status("False");
  EXPECT_FALSE(IsPodReady(p));
  EXPECT_TRUE(ShouldPodBeInEndpoints(p, true));
  p.mutable_metadata()->mutable_deletiontimestamp()->set_seconds(1);
  EXPECT_TRUE(ShouldPodBeInEndpoints(p, true));
  EXPECT_FALSE(ShouldPodBeInEndpoints(p, false));
  Pod q = ReadyPod("b");
  q.mutable_status()->set_phase("Failed");
  EXPECT_FALSE(ShouldPodBeInEndpoints(q, true));
  Pod r = ReadyPod("c");
  r.mutable_status()->clear_podips();
  EXPECT_FALSE(ShouldPodBeInEndpoints(r, true));
  r.mutable_status()->set_podip("10.0.0.2");
  EXPECT_TRUE(ShouldPodBeInEndpoints(r, true));
  Pod none;
  EXPECT_FALSE(IsPodReady(none));
}

TEST(UtilsTest, PodToEndpointDualStackAddresses) {
  Pod p = ReadyPod("a");
  p.mutable_status()->add_podips()->set_ip("fd00::0001");
  Endpoint v4, v6;
  Service svc = Svc();
  PodToEndpoint(p, nullptr, svc, kAddressTypeIPv4, &v4);
  PodToEndpoint(p, nullptr, svc, kAddressTypeIPv6, &v6);
  ASSERT_EQ(v4.addresses_size(), 1);
  EXPECT_EQ(v4.addresses(0), "10.0.0.1");
  ASSERT_EQ(v6.addresses_size(), 1);
  EXPECT_EQ(v6.addresses(0), "fd00::1");
  EXPECT_FALSE(v4.has_nodename());
  EXPECT_FALSE(v4.has_zone());
}

ServicePort NamedTarget(const std::string& target, const std::string& protocol = "TCP") {
  ServicePort sp;
  sp.set_name("web");
  sp.set_protocol(protocol);
  sp.mutable_targetport()->set_type(1);
  sp.mutable_targetport()->set_strval(target);
  return sp;
}

TEST(UtilsTest, FindPort) {
  Pod p;
  auto* c = p.mutable_spec()->add_containers();
  auto* port = c->add_ports();
  port->set_name("http");
  port->set_containerport(8080);
  port->set_protocol("TCP");
  auto* sidecar = p.mutable_spec()->add_initcontainers();
  sidecar->set_restartpolicy("Always");
  auto* sp = sidecar->add_ports();
  sp->set_name("metrics");
  sp->set_containerport(9090);
  sp->set_protocol("TCP");
  auto* init = p.mutable_spec()->add_initcontainers();  // not a sidecar
  auto* ip = init->add_ports();
  ip->set_name("setup");
  ip->set_containerport(7070);
  ip->set_protocol("TCP");

  EXPECT_EQ(*FindPort(p, NamedTarget("http")), 8080);
  EXPECT_FALSE(FindPort(p, NamedTarget("http", "UDP")).ok());
  EXPECT_EQ(*FindPort(p, NamedTarget("metrics")), 9090);
  EXPECT_FALSE(FindPort(p, NamedTarget("setup")).ok());
  EXPECT_FALSE(FindPort(p, NamedTarget("nope")).ok());
  ServicePort numeric;
  numeric.mutable_targetport()->set_intval(81);
  EXPECT_EQ(*FindPort(p, numeric), 81);
}

TEST(UtilsTest, GetEndpointPorts) {
  Service svc = Svc();
  auto* a = svc.mutable_spec()->add_ports();
  a->set_name("a");
  a->set_protocol("TCP");
  a->set_appprotocol("http");
  a->mutable_targetport()->set_intval(80);
  *svc.mutable_spec()->add_ports() = NamedTarget("missing");
  Pod p;
  EndpointPorts ports = GetEndpointPorts(svc, p);
  ASSERT_EQ(ports.size(), 1);  // the unresolvable named port is left out
  EXPECT_EQ(ports[0].name(), "a");
  EXPECT_EQ(ports[0].port(), 80);
  EXPECT_EQ(ports[0].appprotocol(), "http");

  Service headless = Svc();
  headless.mutable_spec()->set_clusterip("None");
  EXPECT_TRUE(GetEndpointPorts(headless, p).empty());
}

TEST(UtilsTest, PortMapKeyIsOrderInsensitiveAndPresenceSensitive) {
  EndpointPorts ab, ba, unnamed;
  auto add = [](EndpointPorts* ps, const char* name, int port, bool with_name = true) {
    auto* p = ps->Add();
    if (with_name) p->set_name(name);
    p->set_port(port);
    p->set_protocol("TCP");
  };
  add(&ab, "a", 1);
  add(&ab, "b", 2);
  add(&ba, "b", 2);
  add(&ba, "a", 1);
  EXPECT_EQ(PortMapKey(ab), PortMapKey(ba));
  add(&unnamed, "", 1, /*with_name=*/false);
  EndpointPorts empty_name;
  add(&empty_name, "", 1);
  EXPECT_NE(PortMapKey(unnamed), PortMapKey(empty_name));
  EXPECT_EQ(PortMapKey(EndpointPorts()), "");
  EndpointPorts app = ab;
  app[0].set_appprotocol("h2c");
  EXPECT_NE(PortMapKey(app), PortMapKey(ab));
  SortEndpointPorts(&ba);
  EXPECT_EQ(ba[0].name(), "a");
}

TEST(UtilsTest, AddressTypesForService) {
  Service s = Svc();
  s.mutable_spec()->add_ipfamilies("IPv6");
  EXPECT_EQ(AddressTypesForService(s), std::vector<std::string>{"IPv6"});
  s.mutable_spec()->add_ipfamilies("IPv4");
  EXPECT_EQ(AddressTypesForService(s), (std::vector<std::string>{"IPv4", "IPv6"}));
  Service legacy = Svc();
  legacy.mutable_spec()->set_clusterip("10.0.0.1");
  EXPECT_EQ(AddressTypesForService(legacy), std::vector<std::string>{"IPv4"});
  legacy.mutable_spec()->set_clusterip("fd00::1");
  EXPECT_EQ(AddressTypesForService(legacy), std::vector<std::string>{"IPv6"});
  legacy.mutable_spec()->set_clusterip("None");
  EXPECT_EQ(AddressTypesForService(legacy), (std::vector<std::string>{"IPv4", "IPv6"}));
  legacy.mutable_spec()->clear_clusterip();
  EXPECT_EQ(AddressTypesForService(legacy), (std::vector<std::string>{"IPv4", "IPv6"}));
}

TEST(UtilsTest, EndpointSliceLabels) {
  Service s = Svc();
  s.mutable_spec()->set_clusterip("10.0.0.1");
  (*s.mutable_metadata()->mutable_labels())["app"] = "web";
  (*s.mutable_metadata()->mutable_labels())["kubernetes.io/service-name"] = "bad";
  LabelMap slice;
  slice["kubernetes.io/service-name"] = "foo";
  slice["old"] = "x";
  bool changed = false;
  LabelMap out = EndpointSliceLabels(slice, s, "ctrl", &changed);
  EXPECT_TRUE(changed);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(out.at("app"), "web");
  EXPECT_EQ(out.at("kubernetes.io/service-name"), "foo");
  EXPECT_EQ(out.at("endpointslice.kubernetes.io/managed-by"), "ctrl");
  EXPECT_EQ(out.count("service.kubernetes.io/headless"), 0u);

  // Reserved-label drift alone is not a change.
  LabelMap same;
  same["app"] = "web";
  same["endpointslice.kubernetes.io/managed-by"] = "someone-else";
  EndpointSliceLabels(same, s, "ctrl", &changed);
  EXPECT_FALSE(changed);

  Service headless = Svc();
  LabelMap h = EndpointSliceLabels(LabelMap(), headless, "ctrl", &changed);
  EXPECT_FALSE(changed);
  EXPECT_EQ(h.at("service.kubernetes.io/headless"), "");
}

TEST(UtilsTest, EndpointSlicePrefixAndNewSlice) {
  EXPECT_EQ(EndpointSlicePrefix("foo"), "foo-");
  std::string long_name(253, 'a');
  EXPECT_EQ(EndpointSlicePrefix(long_name), long_name);
  EXPECT_EQ(EndpointSlicePrefix(std::string(252, 'a')), std::string(252, 'a') + "-");

  Service s = Svc();
  EndpointSlice slice = NewEndpointSlice(s, "IPv6", EndpointPorts(), "ctrl");
  EXPECT_EQ(slice.metadata().generatename(), "foo-");
  EXPECT_EQ(slice.metadata().namespace_(), "ns");
  EXPECT_EQ(slice.addresstype(), "IPv6");
  EXPECT_TRUE(OwnedBy(slice, s));
  Service other = Svc();
  other.mutable_metadata()->set_uid("x");
  EXPECT_FALSE(OwnedBy(slice, other));
  EXPECT_EQ(*ServiceControllerKey(slice), "ns/foo");
  slice.mutable_metadata()->mutable_labels()->erase("kubernetes.io/service-name");
  EXPECT_FALSE(ServiceControllerKey(slice).ok());
}

TEST(UtilsTest, TriggerTime) {
  EXPECT_EQ(FormatRFC3339Nano(absl::FromUnixNanos(1784670565123400000)),
            "2026-07-21T21:49:25.1234Z");
  EXPECT_EQ(FormatRFC3339Nano(absl::FromUnixNanos(1784670565000000001)),
            "2026-07-21T21:49:25.000000001Z");
  EXPECT_EQ(FormatRFC3339Nano(absl::FromUnixSeconds(0)), "1970-01-01T00:00:00Z");
  EndpointSlice s;
  SetTriggerTimeAnnotation(&s, absl::FromUnixSeconds(0));
  EXPECT_EQ(s.metadata().annotations().at("endpoints.kubernetes.io/last-change-trigger-time"),
            "1970-01-01T00:00:00Z");
  SetTriggerTimeAnnotation(&s, absl::InfinitePast());
  EXPECT_TRUE(s.metadata().annotations().empty());
}

TEST(UtilsTest, EndpointsEqualBeyondHash) {
  Endpoint a;
  a.add_addresses("10.0.0.1");
  a.mutable_conditions()->set_ready(true);
  a.mutable_targetref()->set_name("p");
  a.mutable_targetref()->set_uid("u1");
  Endpoint b = a;
  b.add_addresses("10.0.0.9");  // addresses are identity, not compared here
  b.mutable_hints()->add_forzones()->set_name("z");
  b.mutable_targetref()->set_resourceversion("7");
  EXPECT_TRUE(EndpointsEqualBeyondHash(a, b));
  Endpoint c = a;
  c.mutable_targetref()->set_uid("u2");
  EXPECT_FALSE(EndpointsEqualBeyondHash(a, c));
  Endpoint d = a;
  d.mutable_conditions()->clear_ready();
  EXPECT_FALSE(EndpointsEqualBeyondHash(a, d));
  Endpoint e = a;
  e.set_zone("");
  EXPECT_FALSE(EndpointsEqualBeyondHash(a, e));
  Endpoint f = a;
  f.set_nodename("n");
  EXPECT_FALSE(EndpointsEqualBeyondHash(a, f));
}

TEST(UtilsTest, PlaceholderSliceEqual) {
  Service s = Svc();
  EndpointSlice a = NewEndpointSlice(s, "IPv4", EndpointPorts(), "ctrl");
  EndpointSlice b = a;
  b.mutable_metadata()->set_name("foo-xyz");
  (*b.mutable_metadata()->mutable_annotations())["x"] = "y";
  b.mutable_metadata()->clear_ownerreferences();
  EXPECT_TRUE(PlaceholderSliceEqual(a, b));
  EndpointSlice c = a;
  (*c.mutable_metadata()->mutable_labels())["extra"] = "1";
  EXPECT_FALSE(PlaceholderSliceEqual(a, c));
  EndpointSlice d = a;
  d.set_addresstype("IPv6");
  EXPECT_FALSE(PlaceholderSliceEqual(a, d));
  EndpointSlice e = a;
  e.add_ports()->set_port(80);
  EXPECT_FALSE(PlaceholderSliceEqual(a, e));
}

TEST(UtilsTest, PodChangedHelper) {
  Pod old_pod = ReadyPod("a");
  Pod new_pod = old_pod;
  EXPECT_FALSE(PodChangedHelper(old_pod, new_pod).pod_changed);
  EXPECT_FALSE(PodChangedHelper(old_pod, new_pod).labels_changed);
  new_pod.mutable_status()->mutable_conditions(0)->set_status("False");
  EXPECT_TRUE(PodChangedHelper(old_pod, new_pod).pod_changed);
  new_pod = old_pod;
  new_pod.mutable_status()->mutable_podips(0)->set_ip("10.0.0.2");
  EXPECT_TRUE(PodChangedHelper(old_pod, new_pod).pod_changed);
  new_pod = old_pod;
  new_pod.mutable_status()->add_podips()->set_ip("fd00::1");
  EXPECT_TRUE(PodChangedHelper(old_pod, new_pod).pod_changed);
  new_pod = old_pod;
  new_pod.mutable_metadata()->mutable_deletiontimestamp()->set_seconds(1);
  EXPECT_TRUE(PodChangedHelper(old_pod, new_pod).pod_changed);
  // Same timestamp on both sides still counts (upstream compares pointers).
  EXPECT_TRUE(PodChangedHelper(new_pod, new_pod).pod_changed);
  new_pod = old_pod;
  (*new_pod.mutable_metadata()->mutable_labels())["x"] = "y";
  PodChange c = PodChangedHelper(old_pod, new_pod);
  EXPECT_TRUE(c.labels_changed);
  EXPECT_FALSE(c.pod_changed);
  new_pod = old_pod;
  new_pod.mutable_spec()->set_subdomain("s");
  EXPECT_TRUE(PodChangedHelper(old_pod, new_pod).labels_changed);
  new_pod = old_pod;
  new_pod.mutable_spec()->set_nodename("other");  // not checked
  EXPECT_FALSE(PodChangedHelper(old_pod, new_pod).pod_changed);
}

std::shared_ptr<const Service> Selecting(const std::string& name,
                                         std::map<std::string, std::string> selector,
                                         const std::string& ns = "ns") {
  auto s = std::make_shared<Service>(Svc(name));
  s->mutable_metadata()->set_namespace_(ns);
  for (auto& [k, v] : selector) (*s->mutable_spec()->mutable_selector())[k] = v;
  return s;
}

TEST(UtilsTest, ServicesToUpdateOnPodChange) {
  std::vector<std::shared_ptr<const Service>> services = {
      Selecting("web", {{"app", "web"}}),
      Selecting("v1", {{"app", "web"}, {"v", "1"}}),
      Selecting("v2", {{"app", "web"}, {"v", "2"}}),
      Selecting("none", {}),                               // no selector: never matches
      Selecting("elsewhere", {{"app", "web"}}, "other"),  // other namespace
  };
  Pod old_pod = ReadyPod("a");
  (*old_pod.mutable_metadata()->mutable_labels())["app"] = "web";
  (*old_pod.mutable_metadata()->mutable_labels())["v"] = "1";

  // Add and delete: the pod's labels.
  EXPECT_EQ(ServicesToUpdateOnPodChange(services, nullptr, &old_pod),
            (std::set<std::string>{"ns/v1", "ns/web"}));
  EXPECT_EQ(ServicesToUpdateOnPodChange(services, &old_pod, nullptr),
            (std::set<std::string>{"ns/v1", "ns/web"}));

  // Resync (same resourceVersion) and irrelevant updates: nothing.
  Pod new_pod = old_pod;
  EXPECT_TRUE(ServicesToUpdateOnPodChange(services, &old_pod, &new_pod).empty());
  new_pod.mutable_metadata()->set_resourceversion("2");
  EXPECT_TRUE(ServicesToUpdateOnPodChange(services, &old_pod, &new_pod).empty());

  // Labels only: symmetric difference.
  (*new_pod.mutable_metadata()->mutable_labels())["v"] = "2";
  EXPECT_EQ(ServicesToUpdateOnPodChange(services, &old_pod, &new_pod),
            (std::set<std::string>{"ns/v1", "ns/v2"}));
  std::optional<PodProjectionKey> key = PodUpdateProjectionKey(&old_pod, &new_pod);
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(key->old_labels.has_value());
  EXPECT_FALSE(key->pod_changed);

  // Labels and readiness: union.
  new_pod.mutable_status()->mutable_conditions(0)->set_status("False");
  EXPECT_EQ(ServicesToUpdateOnPodChange(services, &old_pod, &new_pod),
            (std::set<std::string>{"ns/v1", "ns/v2", "ns/web"}));

  // Readiness only: the new labels' services.
  Pod ready_flip = old_pod;
  ready_flip.mutable_metadata()->set_resourceversion("3");
  ready_flip.mutable_status()->mutable_conditions(0)->set_status("False");
  key = PodUpdateProjectionKey(&old_pod, &ready_flip);
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(key->old_labels.has_value());
  EXPECT_EQ(ServicesToUpdate(services, *key), (std::set<std::string>{"ns/v1", "ns/web"}));
}

}  // namespace
}  // namespace kslice::endpointslice
