#include "proxy/endpoints_change_tracker.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kslice::proxy {
namespace {

using api::discovery::v1::EndpointSlice;

struct Ep {
  std::string ip{};
  std::optional<bool> ready{};
  std::optional<bool> serving{};
  std::optional<bool> terminating{};
  std::string node{};
  std::vector<std::string> zone_hints{};
  std::vector<std::string> node_hints{};
};

std::shared_ptr<const EndpointSlice> Slice(const std::string& ns, const std::string& svc,
                                           const std::string& name, const std::vector<Ep>& eps,
                                           int port = 80, const std::string& port_name = "http",
                                           const std::string& type = "IPv4") {
  auto s = std::make_shared<EndpointSlice>();
  s->mutable_metadata()->set_namespace_(ns);
  s->mutable_metadata()->set_name(name);
  if (!svc.empty()) (*s->mutable_metadata()->mutable_labels())[kServiceNameLabel] = svc;
  s->set_addresstype(type);
  auto* p = s->add_ports();
  p->set_name(port_name);
  p->set_protocol("TCP");
  p->set_port(port);
  for (const Ep& e : eps) {
    auto* ep = s->add_endpoints();
    ep->add_addresses(e.ip);
    if (e.ready) ep->mutable_conditions()->set_ready(*e.ready);
    if (e.serving) ep->mutable_conditions()->set_serving(*e.serving);
    if (e.terminating) ep->mutable_conditions()->set_terminating(*e.terminating);
    if (!e.node.empty()) ep->set_nodename(e.node);
    for (const auto& z : e.zone_hints) ep->mutable_hints()->add_forzones()->set_name(z);
    for (const auto& n : e.node_hints) ep->mutable_hints()->add_fornodes()->set_name(n);
  }
  return s;
}

ServicePortName Spn(const std::string& ns, const std::string& name, const std::string& port) {
  return ServicePortName{ns, name, port, "TCP"};
}

std::vector<std::string> Strings(const EndpointsMap& m, const ServicePortName& spn) {
  std::vector<std::string> out;
  auto it = m.find(spn);
  if (it == m.end()) return out;
  for (const auto& ep : *it->second) out.push_back(ep.String());
  return out;
}

EndpointsChangeTracker NewTracker(IPFamily family = IPFamily::kIPv4) {
  return EndpointsChangeTracker(EndpointsTrackerOptions{
      "node-a", family, absl::FromUnixSeconds(1000), true});
}

TEST(EndpointsChangeTrackerTest, LabCaseTwoEndpoints) {
  EndpointsChangeTracker t = NewTracker();
  EXPECT_TRUE(t.EndpointSliceUpdate(
      Slice("default", "nginx-service", "nginx-service-abcde",
            {{.ip = "192.168.202.196", .node = "k8-services-worker"},
             {.ip = "192.168.156.5", .node = "k8-services-worker2"}}),
      false));
  EndpointsMap m;
  std::set<ServicePortName> changed;
  auto r = t.Apply(m, &changed);
  EXPECT_EQ(r.updated_services, std::set<std::string>{"default/nginx-service"});
  EXPECT_EQ(changed, std::set<ServicePortName>{Spn("default", "nginx-service", "http")});
  EXPECT_EQ(Strings(m, Spn("default", "nginx-service", "http")),
            (std::vector<std::string>{"192.168.156.5:80", "192.168.202.196:80"}));
  const EndpointInfo& ep = m.begin()->second->front();
  EXPECT_TRUE(ep.ready);
  EXPECT_TRUE(ep.serving);
  EXPECT_FALSE(ep.terminating);
  EXPECT_FALSE(ep.is_local);
  EXPECT_EQ(ep.node_name, "k8-services-worker2");
}

TEST(EndpointsChangeTrackerTest, IgnoredSlices) {
  EndpointsChangeTracker t = NewTracker();
  // Other family, FQDN, and no service-name label.
  EXPECT_FALSE(t.EndpointSliceUpdate(Slice("ns", "s", "v6", {{.ip = "fd00::1"}}, 80, "http", "IPv6"), false));
  EXPECT_FALSE(t.EndpointSliceUpdate(Slice("ns", "s", "fqdn", {{.ip = "a.example"}}, 80, "http", "FQDN"), false));
  EXPECT_FALSE(t.EndpointSliceUpdate(Slice("ns", "", "orphan", {{.ip = "10.0.0.1"}}), false));
  // Deleting a slice never seen is no change.
  EXPECT_FALSE(t.EndpointSliceUpdate(Slice("ns", "s", "unknown", {{.ip = "10.0.0.1"}}), true));
  EXPECT_EQ(t.PendingCount(), 0u);
}

TEST(EndpointsChangeTrackerTest, SameSliceTwiceIsOneChange) {
  EndpointsChangeTracker t = NewTracker();
  auto s = Slice("ns", "s", "s-1", {{.ip = "10.0.0.1"}});
  EXPECT_TRUE(t.EndpointSliceUpdate(s, false));
  EXPECT_FALSE(t.EndpointSliceUpdate(Slice("ns", "s", "s-1", {{.ip = "10.0.0.1"}}), false));
  EndpointsMap m;
  t.Apply(m, nullptr);
  EXPECT_FALSE(t.EndpointSliceUpdate(Slice("ns", "s", "s-1", {{.ip = "10.0.0.1"}}), false));
  EXPECT_TRUE(t.EndpointSliceUpdate(Slice("ns", "s", "s-1", {{.ip = "10.0.0.2"}}), false));
}

TEST(EndpointsChangeTrackerTest, MergesSlicesSortsAsStrings) {
  EndpointsChangeTracker t = NewTracker();
  t.EndpointSliceUpdate(Slice("ns", "s", "s-1", {{.ip = "10.0.0.2"}, {.ip = "10.0.0.10"}}), false);
  t.EndpointSliceUpdate(Slice("ns", "s", "s-2", {{.ip = "10.0.0.1"}, {.ip = "10.0.0.2"}}), false);
  EndpointsMap m;
  t.Apply(m, nullptr);
  EXPECT_EQ(Strings(m, Spn("ns", "s", "http")),
            (std::vector<std::string>{"10.0.0.10:80", "10.0.0.1:80", "10.0.0.2:80"}));  // ':' > '0'
  // Removing one slice keeps the other's endpoints.
  std::set<ServicePortName> changed;
  EXPECT_TRUE(t.EndpointSliceUpdate(Slice("ns", "s", "s-1", {}), true));
  t.Apply(m, &changed);
  EXPECT_EQ(Strings(m, Spn("ns", "s", "http")),
            (std::vector<std::string>{"10.0.0.1:80", "10.0.0.2:80"}));
  EXPECT_EQ(changed.size(), 1u);
  // Removing the last slice removes the port.
  t.EndpointSliceUpdate(Slice("ns", "s", "s-2", {}), true);
  t.Apply(m, nullptr);
  EXPECT_TRUE(m.empty());
}

TEST(EndpointsChangeTrackerTest, NonTerminatingDuplicateWins) {
  EndpointsChangeTracker t = NewTracker();
  // The terminating copy is in the slice visited last; the running one still wins.
  t.EndpointSliceUpdate(Slice("ns", "s", "a", {{.ip = "10.0.0.1", .node = "n1"}}), false);
  t.EndpointSliceUpdate(
      Slice("ns", "s", "b",
            {{.ip = "10.0.0.1", .ready = false, .terminating = true, .node = "n2"}}),
      false);
  EndpointsMap m;
  t.Apply(m, nullptr);
  ASSERT_EQ(m.begin()->second->size(), 1u);
  EXPECT_TRUE(m.begin()->second->front().ready);
  EXPECT_EQ(m.begin()->second->front().node_name, "n1");

  // Terminating first, running later: the running one still wins.
  EndpointsChangeTracker t2 = NewTracker();
  t2.EndpointSliceUpdate(
      Slice("ns", "s", "a", {{.ip = "10.0.0.1", .ready = false, .terminating = true}}), false);
  t2.EndpointSliceUpdate(Slice("ns", "s", "b", {{.ip = "10.0.0.1", .node = "n3"}}), false);
  EndpointsMap m2;
  t2.Apply(m2, nullptr);
  EXPECT_FALSE(m2.begin()->second->front().terminating);
  EXPECT_EQ(m2.begin()->second->front().node_name, "n3");
}

TEST(EndpointsChangeTrackerTest, ConditionsHintsLocalityAndCanonicalIPs) {
  EndpointsChangeTracker t = NewTracker();
  t.EndpointSliceUpdate(
      Slice("ns", "s", "a",
            {{.ip = "10.000.0.1", .ready = false, .serving = true, .terminating = true,
              .node = "node-a", .zone_hints = {"zone-a"}, .node_hints = {"node-a"}},
             {.ip = "10.0.0.2", .node = "node-b", .zone_hints = {"zone-b", "zone-c"}}}),
      false);
  EndpointsMap m;
  t.Apply(m, nullptr);
  const EndpointList& l = *m.begin()->second;
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].String(), "10.0.0.1:80");
  EXPECT_FALSE(l[0].ready);
  EXPECT_TRUE(l[0].serving);
  EXPECT_TRUE(l[0].terminating);
  EXPECT_TRUE(l[0].is_local);
  EXPECT_EQ(l[0].zone_hints, std::set<std::string>{"zone-a"});
  EXPECT_EQ(l[0].node_hints, std::set<std::string>{"node-a"});
  EXPECT_FALSE(l[1].is_local);
  EXPECT_EQ(l[1].zone_hints, (std::set<std::string>{"zone-b", "zone-c"}));

  EndpointsChangeTracker v6 = NewTracker(IPFamily::kIPv6);
  v6.EndpointSliceUpdate(Slice("ns", "s", "a", {{.ip = "fd00:10:180:0::1"}}, 80, "", "IPv6"), false);
  EndpointsMap m6;
  v6.Apply(m6, nullptr);
  EXPECT_EQ(Strings(m6, Spn("ns", "s", "")), std::vector<std::string>{"[fd00:10:180::1]:80"});
}

TEST(EndpointsChangeTrackerTest, InvalidPortsAndEndpointsSkipped) {
  EndpointsChangeTracker t = NewTracker();
  auto s = std::make_shared<EndpointSlice>(*Slice("ns", "s", "a", {{.ip = "10.0.0.1"}}));
  s->mutable_ports(0)->clear_name();  // null name: skipped
  auto* zero = s->add_ports();
  zero->set_name("zero");
  zero->set_port(0);
  auto* ok = s->add_ports();
  ok->set_name("ok");
  ok->set_protocol("UDP");
  ok->set_port(53);
  s->add_endpoints();  // no addresses
  t.EndpointSliceUpdate(s, false);
  EndpointsMap m;
  t.Apply(m, nullptr);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m.begin()->first, (ServicePortName{"ns", "s", "ok", "UDP"}));
  EXPECT_EQ(m.begin()->second->size(), 1u);
}

TEST(EndpointsChangeTrackerTest, UnchangedPortsKeepTheirList) {
  EndpointsChangeTracker t = NewTracker();
  t.EndpointSliceUpdate(Slice("ns", "s", "a", {{.ip = "10.0.0.1"}}), false);
  EndpointsMap m;
  t.Apply(m, nullptr);
  EndpointListPtr before = m.begin()->second;
  // Same endpoints, different annotation: a slice change, but no endpoint change.
  auto s = std::make_shared<EndpointSlice>(*Slice("ns", "s", "a", {{.ip = "10.0.0.1"}}));
  (*s->mutable_metadata()->mutable_annotations())["x"] = "y";
  EXPECT_TRUE(t.EndpointSliceUpdate(s, false));
  std::set<ServicePortName> changed;
  auto r = t.Apply(m, &changed);
  EXPECT_EQ(r.updated_services.size(), 1u);
  EXPECT_TRUE(changed.empty());
  EXPECT_EQ(m.begin()->second, before);
}

TEST(EndpointsChangeTrackerTest, TriggerTimes) {
  EndpointsChangeTracker t = NewTracker();  // started at Unix 1000
  auto with_time = [](const std::string& name, const std::string& ip, const std::string& when) {
    auto s = std::make_shared<EndpointSlice>(*Slice("ns", "s", name, {{.ip = ip}}));
    (*s->mutable_metadata()->mutable_annotations())[kLastChangeTriggerTimeAnnotation] = when;
    return s;
  };
  t.EndpointSliceUpdate(with_time("a", "10.0.0.1", "1970-01-01T00:20:00Z"), false);  // 1200
  t.EndpointSliceUpdate(with_time("b", "10.0.0.2", "1970-01-01T00:30:00.5Z"), false);
  t.EndpointSliceUpdate(with_time("c", "10.0.0.3", "1970-01-01T00:01:00Z"), false);  // too old
  t.EndpointSliceUpdate(with_time("d", "10.0.0.4", "not a time"), false);
  EndpointsMap m;
  auto r = t.Apply(m, nullptr);
  ASSERT_EQ(r.last_change_trigger_times.count("ns/s"), 1u);
  EXPECT_EQ(r.last_change_trigger_times["ns/s"],
            (std::vector<absl::Time>{absl::FromUnixSeconds(1200),
                                     absl::FromUnixMillis(1800500)}));
  // Handed out once.
  EXPECT_TRUE(t.Apply(m, nullptr).last_change_trigger_times.empty());
  // A deletion drops the service's queued times.
  t.EndpointSliceUpdate(with_time("a", "10.0.0.9", "1970-01-01T00:40:00Z"), false);
  t.EndpointSliceUpdate(Slice("ns", "s", "b", {}), true);
  EXPECT_TRUE(t.Apply(m, nullptr).last_change_trigger_times.empty());
}

}  // namespace
}  // namespace kslice::proxy
