// Golden tests of the nftables ruleset: the exact `nft -f` text one full sync writes.
// Goldens live in testdata/; a failing run writes <name>.actual under
// TEST_UNDECLARED_OUTPUTS_DIR (bazel-testlogs/.../test.outputs) to compare or adopt.
#include "proxy/nftables/ruleset.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/nftables/test_util.h"

namespace kslice::proxy::nftables {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadGolden;
using testing::SaveActual;
using testing::StateBuilder;

std::string Text(const RulesetOptions& options, const ProxyState& state) {
  absl::StatusOr<RulesetGenerator> g = RulesetGenerator::Create(options);
  EXPECT_TRUE(g.ok()) << g.status();
  std::vector<PortUnit> units;
  for (const auto& [name, info] : *state.services) {
    units.push_back(g->Unit(name, *info, state.EndpointsOf(name), state.node));
  }
  return g->FullText(units, /*recreate=*/false);
}

void ExpectGolden(const std::string& name, const std::string& actual) {
  SaveActual(name, actual);
  EXPECT_EQ(actual, ReadGolden(name)) << "golden " << name << " differs";
}

// The lab seed: default/nginx-service:http (10.96.204.67:80) with the two nginx pods.
ProxyState LabState() {
  StateBuilder b("k8-services-worker");
  b.Service("default", "nginx-service", "http", "10.96.204.67", 80);
  b.Endpoint("default", "nginx-service", "http", "192.168.156.5", 80, "k8-services-worker");
  b.Endpoint("default", "nginx-service", "http", "192.168.202.196", 80, "k8-services-worker2");
  return b.Build();
}

TEST(NamesTest, UpstreamHashes) {
  ServicePortName lab{"default", "nginx-service", "http", "TCP"};
  EXPECT_EQ(ServicePortChainSuffix(lab), "PIOJ4VP5-default/nginx-service/tcp/http");
  EndpointInfo ep;
  ep.ip = "192.168.156.5";
  ep.port = 80;
  EXPECT_EQ(EndpointChainSuffix(lab, ep),
            "4U5T3CSB-default/nginx-service/tcp/http__192.168.156.5/80");
  ep.ip = "192.168.202.196";
  EXPECT_EQ(EndpointChainSuffix(lab, ep),
            "QYMIBJBU-default/nginx-service/tcp/http__192.168.202.196/80");
  ServicePortName svc1{"ns1", "svc1", "p80", "TCP"};
  EXPECT_EQ(ServicePortChainSuffix(svc1), "ULMVA6XW-ns1/svc1/tcp/p80");
  // IPv6 colons become dots; unnamed ports end in "tcp/".
  ServicePortName unnamed{"ns", "s", "", "TCP"};
  ep.ip = "fd00::1";
  EXPECT_THAT(EndpointChainSuffix(unnamed, ep), HasSubstr("-ns/s/tcp/__fd00..1/80"));
  // Over-long names are cut to 240 characters.
  ServicePortName longname{std::string(63, 'n'), std::string(63, 's'), std::string(63, 'p'), "TCP"};
  ep.ip = "fd00:1234:5678:9abc:def0:1234:5678:9abc";
  std::string cut = EndpointChainSuffix(longname, ep);
  EXPECT_EQ(cut.size(), 240u);
  EXPECT_TRUE(absl::EndsWith(cut, "..."));
}

TEST(RulesetTest, LabSeed) {
  RulesetOptions o;
  o.cluster_cidr = "192.168.0.0/16";
  ExpectGolden("lab_nginx_service.golden", Text(o, LabState()));
}

TEST(RulesetTest, LabSeedUpstreamVmap) {
  RulesetOptions o;
  o.cluster_cidr = "192.168.0.0/16";
  o.numgen_vmap = true;
  std::string text = Text(o, LabState());
  EXPECT_THAT(
      text,
      HasSubstr(
          "add rule ip kube-proxy service-PIOJ4VP5-default/nginx-service/tcp/http numgen random "
          "mod 2 "
          "vmap { 0 : goto endpoint-4U5T3CSB-default/nginx-service/tcp/http__192.168.156.5/80 , "
          "1 : goto endpoint-QYMIBJBU-default/nginx-service/tcp/http__192.168.202.196/80 }\n"));
}

// Upstream's TestOverallNFTablesRules services (node test-node, 192.168.0.2, pod CIDR
// 10.0.0.0/8): ClusterIP; ETP=Local with external IP, LB IP and NodePort but no local
// endpoint; NodePort; two endpoints and an external IP; LB with source range, NodePort
// and ClientIP affinity; no endpoints.
ProxyState OverallState() {
  StateBuilder b("test-node");
  b.Service("ns1", "svc1", "p80", "172.30.0.41", 80);
  b.Endpoint("ns1", "svc1", "p80", "10.180.0.1", 80);
  ServicePortInfo& s2 = b.Service("ns2", "svc2", "p80", "172.30.0.42", 80);
  s2.service_type = "LoadBalancer";
  s2.external_ips = {"192.168.99.22"};
  s2.load_balancer_vips = {"1.2.3.4"};
  s2.node_port = 3001;
  s2.health_check_node_port = 30000;
  s2.external_policy_local = true;
  b.Endpoint("ns2", "svc2", "p80", "10.180.0.2", 80, "other-node");
  ServicePortInfo& s3 = b.Service("ns3", "svc3", "p80", "172.30.0.43", 80);
  s3.service_type = "NodePort";
  s3.node_port = 3003;
  b.Endpoint("ns3", "svc3", "p80", "10.180.0.3", 80);
  ServicePortInfo& s4 = b.Service("ns4", "svc4", "p80", "172.30.0.44", 80);
  s4.external_ips = {"192.168.99.33"};
  b.Endpoint("ns4", "svc4", "p80", "10.180.0.4", 80);
  b.Endpoint("ns4", "svc4", "p80", "10.180.0.5", 80);
  ServicePortInfo& s5 = b.Service("ns5", "svc5", "p80", "172.30.0.45", 80);
  s5.service_type = "LoadBalancer";
  s5.load_balancer_vips = {"5.6.7.8"};
  s5.load_balancer_source_ranges = {"203.0.113.0/25"};
  s5.node_port = 3002;
  s5.session_affinity = SessionAffinity::kClientIP;
  s5.sticky_max_age_seconds = 10800;
  b.Endpoint("ns5", "svc5", "p80", "10.180.0.3", 80);
  b.Service("ns6", "svc6", "p80", "172.30.0.46", 80);
  return b.Build();
}

RulesetOptions OverallOptions() {
  RulesetOptions o;
  o.cluster_cidr = "10.0.0.0/8";
  o.node_ip = "192.168.0.2";
  o.nodeport_ips = {"192.168.0.2"};
  o.service_cidrs = {"172.30.0.0/16"};
  return o;
}

TEST(RulesetTest, OverallUpstreamServices) {
  ExpectGolden("overall.golden", Text(OverallOptions(), OverallState()));
}

TEST(RulesetTest, OverallUpstreamVmapLines) {
  RulesetOptions o = OverallOptions();
  o.numgen_vmap = true;
  std::string text = Text(o, OverallState());
  EXPECT_THAT(
      text,
      HasSubstr(
          "add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 numgen random mod 2 vmap { "
          "0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , "
          "1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }\n"));
  EXPECT_THAT(text, Not(HasSubstr("== 0 goto")));
}

TEST(RulesetTest, NodePortsOnAllLocalAddressesAndMasqueradeAll) {
  RulesetOptions o;
  o.masquerade_all = true;
  std::string text = Text(o, OverallState());
  EXPECT_THAT(text, HasSubstr("add rule ip kube-proxy services fib daddr type local ip daddr != "
                              "127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports\n"));
  EXPECT_THAT(text, Not(HasSubstr("nodeport-ips")));
  EXPECT_THAT(text, HasSubstr("add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr "
                              "172.30.0.41 jump mark-for-masquerade\n"));
  // ETP=Local without a cluster CIDR: no pod short-circuit rule.
  EXPECT_THAT(text, Not(HasSubstr("short-circuit pod traffic")));
}

TEST(RulesetTest, EtpLocalWithLocalEndpoint) {
  StateBuilder b("test-node");
  ServicePortInfo& s = b.Service("ns", "web", "http", "172.30.1.1", 80);
  s.service_type = "NodePort";
  s.node_port = 30080;
  s.external_policy_local = true;
  b.Endpoint("ns", "web", "http", "10.1.0.1", 8080, "test-node");
  b.Endpoint("ns", "web", "http", "10.2.0.1", 8080, "other-node");
  RulesetOptions o;
  o.cluster_cidr = "10.0.0.0/8";
  ExpectGolden("etp_local.golden", Text(o, b.Build()));
}

TEST(RulesetTest, DualStackIPv6) {
  StateBuilder b("test-node", IPFamily::kIPv6);
  ServicePortInfo& s = b.Service("ns", "web", "http", "fd00:30::1", 80);
  s.service_type = "LoadBalancer";
  s.node_port = 30080;
  s.load_balancer_vips = {"2001:db8::5"};
  s.load_balancer_source_ranges = {"2001:db8:1::/48"};
  s.session_affinity = SessionAffinity::kClientIP;
  s.sticky_max_age_seconds = 60;
  b.Endpoint("ns", "web", "http", "fd00:10::1", 8080);
  b.Endpoint("ns", "web", "http", "fd00:10::2", 8080);
  b.Service("ns", "empty", "", "fd00:30::2", 53, "UDP");
  RulesetOptions o;
  o.family = IPFamily::kIPv6;
  o.cluster_cidr = "fd00:10::/64";
  ExpectGolden("dualstack_ipv6.golden", Text(o, b.Build()));
}

TEST(RulesetTest, NoEndpointsRejectsAndLocalPolicyDrops) {
  StateBuilder b("test-node");
  b.Service("ns", "none", "", "172.30.2.1", 80);
  ServicePortInfo& local = b.Service("ns", "local", "", "172.30.2.2", 80);
  local.internal_policy_local = true;
  b.Endpoint("ns", "local", "", "10.9.0.1", 80, "other-node");
  RulesetOptions o;
  o.cluster_cidr = "10.0.0.0/8";
  std::string text = Text(o, b.Build());
  EXPECT_THAT(text, HasSubstr("add element ip kube-proxy no-endpoint-services { 172.30.2.1 . tcp "
                              ". 80 comment \"ns/none\" : goto reject-chain }\n"));
  EXPECT_THAT(text, HasSubstr("add element ip kube-proxy no-endpoint-services { 172.30.2.2 . tcp "
                              ". 80 comment \"ns/local\" : drop }\n"));
  EXPECT_THAT(text, Not(HasSubstr("add chain ip kube-proxy endpoint-")));
  EXPECT_THAT(text, Not(HasSubstr("-ns/none/")));
}

TEST(RulesetTest, MultiPortServiceSharesItsClusterIP) {
  StateBuilder b("test-node");
  b.Service("ns", "multi", "a", "172.30.3.1", 80);
  b.Service("ns", "multi", "b", "172.30.3.1", 81);
  std::string text = Text(RulesetOptions(), b.Build());
  size_t n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line == "add element ip kube-proxy cluster-ips { 172.30.3.1 }") ++n;
  }
  EXPECT_EQ(n, 1u);
}

TEST(RulesetTest, BadOptions) {
  RulesetOptions o;
  o.masquerade_bit = 32;
  EXPECT_FALSE(RulesetGenerator::Create(o).ok());
  o = RulesetOptions();
  o.cluster_cidr = "fd00::/64";
  EXPECT_FALSE(RulesetGenerator::Create(o).ok());
  o.cluster_cidr = "10.0.0.0";
  EXPECT_FALSE(RulesetGenerator::Create(o).ok());
  o = RulesetOptions();
  o.nodeport_ips = {"not-an-ip"};
  EXPECT_FALSE(RulesetGenerator::Create(o).ok());
  o = RulesetOptions();
  o.cluster_cidr = "10.1.2.3/8";  // host bits are cleared
  absl::StatusOr<RulesetGenerator> g = RulesetGenerator::Create(o);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->options().cluster_cidr, "10.0.0.0/8");
}

}  // namespace
}  // namespace kslice::proxy::nftables
