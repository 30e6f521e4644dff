#include "proxy/service_change_tracker.h"

#include <string>

#include "gtest/gtest.h"

namespace kslice::proxy {
namespace {

using api::core::v1::Service;

Service MakeService(const std::string& ns, const std::string& name, const std::string& ip,
                    int port = 80, const std::string& port_name = "http") {
  Service s;
  s.mutable_metadata()->set_namespace_(ns);
  s.mutable_metadata()->set_name(name);
  s.mutable_spec()->set_clusterip(ip);
  if (!ip.empty() && ip != "None") s.mutable_spec()->add_clusterips(ip);
  s.mutable_spec()->set_type("ClusterIP");
  auto* p = s.mutable_spec()->add_ports();
  p->set_name(port_name);
  p->set_protocol("TCP");
  p->set_port(port);
  return s;
}

ServicePortName Spn(const std::string& ns, const std::string& name, const std::string& port,
                    const std::string& proto = "TCP") {
  return ServicePortName{ns, name, port, proto};
}

TEST(ServicePortNameTest, StringOmitsEmptyPortAndProtocol) {
  EXPECT_EQ(Spn("default", "nginx-service", "http").String(), "default/nginx-service:http");
  EXPECT_EQ(Spn("default", "kubernetes", "").String(), "default/kubernetes");
  EXPECT_NE(Spn("a", "b", "dns", "TCP"), Spn("a", "b", "dns", "UDP"));
}

TEST(ServiceToServicePortMapTest, LabCase) {
  Service s = MakeService("default", "nginx-service", "10.96.204.67");
  ServicePortMap m = ServiceToServicePortMap(s, IPFamily::kIPv4);
  ASSERT_EQ(m.size(), 1u);
  const ServicePortInfo& info = *m.at(Spn("default", "nginx-service", "http"));
  EXPECT_EQ(info.cluster_ip, "10.96.204.67");
  EXPECT_EQ(info.port, 80);
  EXPECT_EQ(info.protocol, "TCP");
  EXPECT_EQ(info.node_port, 0);
  EXPECT_EQ(info.session_affinity, SessionAffinity::kNone);
  EXPECT_EQ(info.String(), "10.96.204.67:80/TCP");
  EXPECT_FALSE(info.ExternallyAccessible());
  EXPECT_TRUE(info.UsesClusterEndpoints());
  EXPECT_FALSE(info.UsesLocalEndpoints());
}

TEST(ServiceToServicePortMapTest, SkippedServices) {
  EXPECT_TRUE(ServiceToServicePortMap(MakeService("d", "headless", "None"), IPFamily::kIPv4).empty());
  EXPECT_TRUE(ServiceToServicePortMap(MakeService("d", "noip", ""), IPFamily::kIPv4).empty());
  Service ext = MakeService("d", "ext", "10.0.0.1");
  ext.mutable_spec()->set_type("ExternalName");
  EXPECT_TRUE(ServiceToServicePortMap(ext, IPFamily::kIPv4).empty());
  // No cluster IP of the proxy's family.
  EXPECT_TRUE(ServiceToServicePortMap(MakeService("d", "v4", "10.0.0.1"), IPFamily::kIPv6).empty());
}

TEST(ServiceToServicePortMapTest, DualStackPicksOwnFamily) {
  Service s = MakeService("d", "dual", "10.0.0.1");
  s.mutable_spec()->add_clusterips("fd00:0::0001");
  ServicePortMap v6 = ServiceToServicePortMap(s, IPFamily::kIPv6);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6.begin()->second->cluster_ip, "fd00::1");
  EXPECT_EQ(v6.begin()->second->String(), "[fd00::1]:80/TCP");
  EXPECT_EQ(ServiceToServicePortMap(s, IPFamily::kIPv4).begin()->second->cluster_ip, "10.0.0.1");
}

TEST(ServiceToServicePortMapTest, OnePerPortWithProtocolInKey) {
  Service s = MakeService("kube-system", "dns", "10.0.0.10", 53, "dns");
  auto* udp = s.mutable_spec()->add_ports();
  udp->set_name("dns");
  udp->set_protocol("UDP");
  udp->set_port(53);
  ServicePortMap m = ServiceToServicePortMap(s, IPFamily::kIPv4);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at(Spn("kube-system", "dns", "dns", "UDP"))->protocol, "UDP");
  EXPECT_EQ(m.at(Spn("kube-system", "dns", "dns", "TCP"))->protocol, "TCP");
}

TEST(ServiceToServicePortMapTest, LoadBalancerFields) {
  Service s = MakeService("d", "lb", "172.30.0.41");
  auto* spec = s.mutable_spec();
  spec->set_type("LoadBalancer");
  spec->mutable_ports(0)->set_nodeport(3001);
  spec->set_externaltrafficpolicy("Local");
  spec->set_healthchecknodeport(30000);
  spec->set_sessionaffinity("ClientIP");
  spec->mutable_sessionaffinityconfig()->mutable_clientip()->set_timeoutseconds(10800);
  spec->add_externalips("192.168.99.11");
  spec->add_externalips("2001:db8::1");
  spec->add_loadbalancersourceranges(" 203.0.113.0/25 ");
  spec->add_loadbalancersourceranges("2001:db8::/64");
  auto* lb = s.mutable_status()->mutable_loadbalancer();
  lb->add_ingress()->set_ip("1.2.3.4");
  auto* proxied = lb->add_ingress();
  proxied->set_ip("5.6.7.8");
  proxied->set_ipmode("Proxy");
  auto* vip = lb->add_ingress();
  vip->set_ip("9.9.9.9");
  vip->set_ipmode("VIP");
  lb->add_ingress()->set_hostname("lb.example.com");
  ServicePortMap m = ServiceToServicePortMap(s, IPFamily::kIPv4);
  ASSERT_EQ(m.size(), 1u);
  const ServicePortInfo& info = *m.begin()->second;
  EXPECT_EQ(info.node_port, 3001);
  EXPECT_EQ(info.session_affinity, SessionAffinity::kClientIP);
  EXPECT_EQ(info.sticky_max_age_seconds, 10800);
  EXPECT_EQ(info.external_ips, std::vector<std::string>{"192.168.99.11"});
  EXPECT_EQ(info.load_balancer_source_ranges, std::vector<std::string>{"203.0.113.0/25"});
  EXPECT_EQ(info.load_balancer_vips, (std::vector<std::string>{"1.2.3.4", "9.9.9.9"}));
  EXPECT_TRUE(info.external_policy_local);
  EXPECT_EQ(info.health_check_node_port, 30000);
  EXPECT_TRUE(info.UsesLocalEndpoints());
  EXPECT_TRUE(info.UsesClusterEndpoints());
}

TEST(ServiceToServicePortMapTest, TrafficPolicies) {
  // ETP=Local on a plain ClusterIP service does not apply.
  Service s = MakeService("d", "s", "10.0.0.1");
  s.mutable_spec()->set_externaltrafficpolicy("Local");
  s.mutable_spec()->set_healthchecknodeport(30000);
  const ServicePortInfo a = *ServiceToServicePortMap(s, IPFamily::kIPv4).begin()->second;
  EXPECT_FALSE(a.external_policy_local);
  EXPECT_EQ(a.health_check_node_port, 0);
  // ...but does with externalIPs; healthCheckNodePort only for LoadBalancer.
  s.mutable_spec()->add_externalips("192.168.99.1");
  const ServicePortInfo b = *ServiceToServicePortMap(s, IPFamily::kIPv4).begin()->second;
  EXPECT_TRUE(b.external_policy_local);
  EXPECT_EQ(b.health_check_node_port, 0);
  // ITP=Local alone: local endpoints only.
  Service i = MakeService("d", "i", "10.0.0.2");
  i.mutable_spec()->set_internaltrafficpolicy("Local");
  const ServicePortInfo c = *ServiceToServicePortMap(i, IPFamily::kIPv4).begin()->second;
  EXPECT_TRUE(c.internal_policy_local);
  EXPECT_FALSE(c.UsesClusterEndpoints());
  EXPECT_TRUE(c.UsesLocalEndpoints());
}

TEST(ServiceChangeTrackerTest, AddUpdateDeleteAndApply) {
  ServiceChangeTracker t(IPFamily::kIPv4);
  Service s1 = MakeService("ns", "a", "10.0.0.1");
  EXPECT_TRUE(t.Update(nullptr, &s1));
  EXPECT_EQ(t.PendingCount(), 1u);
  ServicePortMap map;
  std::set<ServicePortName> changed;
  ServiceChangeTracker::Result r = t.Apply(map, &changed);
  EXPECT_EQ(r.updated_services, std::set<std::string>{"ns/a"});
  EXPECT_EQ(changed, std::set<ServicePortName>{Spn("ns", "a", "http")});
  ASSERT_EQ(map.size(), 1u);
  EXPECT_EQ(t.PendingCount(), 0u);

  // Change the port name: old port removed, new one added.
  Service s2 = MakeService("ns", "a", "10.0.0.1", 80, "web");
  EXPECT_TRUE(t.Update(&s1, &s2));
  changed.clear();
  t.Apply(map, &changed);
  EXPECT_EQ(changed, (std::set<ServicePortName>{Spn("ns", "a", "http"), Spn("ns", "a", "web")}));
  ASSERT_EQ(map.size(), 1u);
  EXPECT_EQ(map.begin()->first, Spn("ns", "a", "web"));

  // Delete.
  EXPECT_TRUE(t.Update(&s2, nullptr));
  changed.clear();
  t.Apply(map, &changed);
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(changed, std::set<ServicePortName>{Spn("ns", "a", "web")});
}

TEST(ServiceChangeTrackerTest, ChangesThatCancelOutAreDropped) {
  ServiceChangeTracker t(IPFamily::kIPv4);
  Service s = MakeService("ns", "a", "10.0.0.1");
  EXPECT_TRUE(t.Update(nullptr, &s));
  EXPECT_FALSE(t.Update(&s, nullptr));  // added then deleted before a sync
  EXPECT_EQ(t.PendingCount(), 0u);

  ServicePortMap map;
  t.Update(nullptr, &s);
  t.Apply(map, nullptr);
  Service changed = s;
  changed.mutable_spec()->mutable_ports(0)->set_port(8080);
  EXPECT_TRUE(t.Update(&s, &changed));
  EXPECT_FALSE(t.Update(&changed, &s));  // changed back
  // An update that changes nothing the proxy tracks is no change at all.
  Service relabelled = s;
  (*relabelled.mutable_metadata()->mutable_labels())["x"] = "y";
  EXPECT_FALSE(t.Update(&s, &relabelled));
  // A headless service is not tracked.
  Service headless = MakeService("ns", "h", "None");
  EXPECT_FALSE(t.Update(nullptr, &headless));
}

TEST(ServiceChangeTrackerTest, UnchangedPortsOfChangedServiceAreNotReported) {
  ServiceChangeTracker t(IPFamily::kIPv4);
  Service s = MakeService("ns", "a", "10.0.0.1");
  auto* p2 = s.mutable_spec()->add_ports();
  p2->set_name("https");
  p2->set_protocol("TCP");
  p2->set_port(443);
  ServicePortMap map;
  t.Update(nullptr, &s);
  t.Apply(map, nullptr);
  Service s2 = s;
  s2.mutable_spec()->mutable_ports(1)->set_port(8443);
  t.Update(&s, &s2);
  std::set<ServicePortName> changed;
  auto r = t.Apply(map, &changed);
  EXPECT_EQ(r.updated_services, std::set<std::string>{"ns/a"});
  EXPECT_EQ(changed, std::set<ServicePortName>{Spn("ns", "a", "https")});
  EXPECT_EQ(map.at(Spn("ns", "a", "https"))->port, 8443);
}

}  // namespace
}  // namespace kslice::proxy
