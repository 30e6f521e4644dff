#include "proxy/iptables/ruleset.h"

#include <memory>
#include <set>
#include <string>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/iptables/dump_sort.h"
#include "proxy/iptables/test_util.h"

namespace kslice::proxy::iptables {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadGolden;
using testing::SaveActual;
using testing::StateBuilder;

// kube-proxy's test fixture (NewFakeProxier): pod CIDR 10.0.0.0/8 as the local
// detector, node IP 192.168.0.2, localhost NodePorts on, nfacct counters present, and a
// fake iptables without --random-fully.
RulesetConfig UpstreamTestConfig() {
  RulesetConfig c;
  c.node_ip = "192.168.0.2";
  c.local_detector = LocalTrafficDetector::ClusterCIDR("10.0.0.0/8");
  c.random_fully = false;
  return c;
}

std::unique_ptr<RulesetGenerator> NewGenerator(RulesetConfig config) {
  absl::StatusOr<std::unique_ptr<RulesetGenerator>> g = RulesetGenerator::Create(config);
  EXPECT_TRUE(g.ok()) << g.status();
  return *std::move(g);
}

// Upstream's fake proxier hard-codes the mark as "0x4000"; kube-proxy itself (and so
// this generator) prints Go's %#08x, "0x00004000". Everything else is compared as is.
std::string AsUpstreamTestPrints(const std::string& payload) {
  absl::StatusOr<std::string> sorted =
      SortRestorePayload(absl::StrReplaceAll(payload, {{"0x00004000", "0x4000"}}));
  EXPECT_TRUE(sorted.ok()) << sorted.status();
  return sorted.value_or("");
}

void ExpectGolden(const std::string& golden, const std::string& payload) {
  std::string actual = AsUpstreamTestPrints(payload);
  SaveActual(golden, actual);
  EXPECT_EQ(actual, ReadGolden(golden)) << "golden " << golden;
}

TEST(ComputeProbabilityTest, FormatsLikeGo) {
  EXPECT_EQ(ComputeProbability(2), "0.5000000000");
  EXPECT_EQ(ComputeProbability(3), "0.3333333333");
  EXPECT_EQ(ComputeProbability(4), "0.2500000000");
  EXPECT_EQ(ComputeProbability(6), "0.1666666667");
  EXPECT_EQ(ComputeProbability(7), "0.1428571429");
  EXPECT_EQ(ComputeProbability(1), "1.0000000000");
  EXPECT_EQ(ComputeProbability(1000), "0.0010000000");
}

TEST(MasqueradeMarkTest, GoHashFormat) {
  EXPECT_EQ(MasqueradeMark(14), "0x00004000");
  EXPECT_EQ(MasqueradeMark(0), "0x00000001");
  EXPECT_EQ(MasqueradeMark(31), "0x80000000");
}

TEST(RulesetGeneratorTest, RejectsBadConfig) {
  RulesetConfig c;
  c.masquerade_bit = 32;
  EXPECT_FALSE(RulesetGenerator::Create(c).ok());
  c = RulesetConfig();
  c.local_detector = LocalTrafficDetector::ClusterCIDR("fd00::/48");
  EXPECT_FALSE(RulesetGenerator::Create(c).ok());
  c.local_detector = LocalTrafficDetector::ClusterCIDR("10.0.0.0/33");
  EXPECT_FALSE(RulesetGenerator::Create(c).ok());
}

// The lab case of shared/seed: one ClusterIP service with two endpoints, cluster CIDR
// 192.168.0.0/16, a real kube-proxy's mark and --random-fully. Exact bytes, emission
// order included.
TEST(RulesetGeneratorTest, LabNginxServiceExact) {
  StateBuilder b("k8-services-worker");
  b.Service("default", "nginx-service", "http", "10.96.204.67", 80);
  b.Endpoint("default", "nginx-service", "http", "192.168.202.196", 80, "k8-services-worker");
  b.Endpoint("default", "nginx-service", "http", "192.168.156.5", 80, "k8-services-worker2");
  RulesetConfig c;
  c.local_detector = LocalTrafficDetector::ClusterCIDR("192.168.0.0/16");
  std::unique_ptr<RulesetGenerator> g = NewGenerator(c);
  Ruleset r = g->Generate(b.Build(), GenerateRequest{});
  SaveActual("lab_nginx_service.golden", r.payload);
  EXPECT_EQ(r.payload, ReadGolden("lab_nginx_service.golden"));
  EXPECT_EQ(r.active_chain_count, 3u);
  EXPECT_THAT(r.new_chains,
              ::testing::ElementsAre("KUBE-SEP-M6MI3YLHVX7DA53R", "KUBE-SEP-MJ46KNWYZBDUIDMY",
                                     "KUBE-SVC-6IM33IEVEEV7U3GP"));
  EXPECT_EQ(g->active_nat_chains().size(), 3u);
  EXPECT_TRUE(g->active_nat_chains().contains("KUBE-SVC-6IM33IEVEEV7U3GP"));
  EXPECT_EQ(r.filter_rule_lines, 4u);
  EXPECT_EQ(r.nat_rule_lines, 13u);  // 3 POSTROUTING, MARK-MASQ, 1+3 service, 4 SEP, tail
  EXPECT_FALSE(r.large_cluster_mode);
}

// The seed shows `iptables -S`/`-L` of the lab node; these are the rules it lists, in
// restore syntax (iptables-save reorders matches, which the seed reflects).
TEST(RulesetGeneratorTest, LabVariants) {
  StateBuilder b("k8-services-worker");
  b.Service("default", "nginx-service", "http", "10.96.204.67", 80);
  b.Endpoint("default", "nginx-service", "http", "192.168.156.5", 80);
  b.Endpoint("default", "nginx-service", "http", "192.168.202.196", 80);
  ProxyState state = b.Build();
  const std::string masq_rule =
      "-A KUBE-SVC-6IM33IEVEEV7U3GP -m comment --comment \"default/nginx-service:http "
      "cluster IP\" -m tcp -p tcp -d 10.96.204.67 --dport 80";

  RulesetConfig c;
  c.local_detector = LocalTrafficDetector::ClusterCIDR("192.168.0.0/16");
  c.nfacct_ct_state_invalid = false;
  c.random_fully = false;
  std::string p = NewGenerator(c)->Generate(state, {}).payload;
  EXPECT_THAT(p, HasSubstr("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"));
  EXPECT_THAT(p, HasSubstr("-j MASQUERADE\n"));

  c.conntrack_tcp_be_liberal = true;
  EXPECT_THAT(NewGenerator(c)->Generate(state, {}).payload, Not(HasSubstr("INVALID")));

  c = RulesetConfig();
  c.local_detector = LocalTrafficDetector::ClusterCIDR("192.168.0.0/16");
  c.masquerade_all = true;
  p = NewGenerator(c)->Generate(state, {}).payload;
  EXPECT_THAT(p, HasSubstr(masq_rule + " -j KUBE-MARK-MASQ\n"));

  c.masquerade_all = false;
  c.local_detector = LocalTrafficDetector::None();
  p = NewGenerator(c)->Generate(state, {}).payload;
  EXPECT_THAT(p, Not(HasSubstr(masq_rule)));
  EXPECT_THAT(p, HasSubstr("-A KUBE-SVC-6IM33IEVEEV7U3GP -m comment"));

  c.local_detector.mode = LocalTrafficDetector::Mode::kInterfaceNamePrefix;
  c.local_detector.value = "veth";
  p = NewGenerator(c)->Generate(state, {}).payload;
  EXPECT_THAT(p, HasSubstr(masq_rule + " ! -i veth+ -j KUBE-MARK-MASQ\n"));

  c = RulesetConfig();
  c.masquerade_bit = 0;
  p = NewGenerator(c)->Generate(state, {}).payload;
  EXPECT_THAT(p, HasSubstr("-A KUBE-MARK-MASQ -j MARK --or-mark 0x00000001\n"));
  c.localhost_nodeports = false;
  p = NewGenerator(c)->Generate(state, {}).payload;
  EXPECT_THAT(p, Not(HasSubstr("KUBE-FIREWALL")));
  EXPECT_THAT(p, HasSubstr("-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS\n"));
}

// kube-proxy's TestOverallIPTablesRules: ClusterIP, LoadBalancer with ETP=Local and no
// local endpoint, NodePort, external IPs with two endpoints, LoadBalancer with source
// ranges and ClientIP affinity, and a service without endpoints.
ProxyState OverallState() {
  StateBuilder b;
  b.Service("ns1", "svc1", "p80", "172.30.0.41", 80);
  b.Endpoint("ns1", "svc1", "p80", "10.180.0.1", 80);

  ServicePortInfo& svc2 = b.Service("ns2", "svc2", "p80", "172.30.0.42", 80);
  svc2.service_type = "LoadBalancer";
  svc2.node_port = 3001;
  svc2.external_ips = {"192.168.99.22"};
  svc2.load_balancer_vips = {"1.2.3.4"};
  svc2.external_policy_local = true;
  svc2.health_check_node_port = 30000;
  b.Endpoint("ns2", "svc2", "p80", "10.180.0.2", 80, "host2");

  ServicePortInfo& svc3 = b.Service("ns3", "svc3", "p80", "172.30.0.43", 80);
  svc3.service_type = "NodePort";
  svc3.node_port = 3003;
  b.Endpoint("ns3", "svc3", "p80", "10.180.0.3", 80);

  ServicePortInfo& svc4 = b.Service("ns4", "svc4", "p80", "172.30.0.44", 80);
  svc4.service_type = "NodePort";
  svc4.external_ips = {"192.168.99.33"};
  b.Endpoint("ns4", "svc4", "p80", "10.180.0.4", 80);
  b.Endpoint("ns4", "svc4", "p80", "10.180.0.5", 80, "host2");

  ServicePortInfo& svc5 = b.Service("ns5", "svc5", "p80", "172.30.0.45", 80);
  svc5.service_type = "LoadBalancer";
  svc5.node_port = 3002;
  svc5.load_balancer_vips = {"5.6.7.8"};
  svc5.load_balancer_source_ranges = {"203.0.113.0/25"};
  svc5.session_affinity = SessionAffinity::kClientIP;
  svc5.sticky_max_age_seconds = 10800;
  b.Endpoint("ns5", "svc5", "p80", "10.180.0.3", 80);

  b.Service("ns6", "svc6", "p80", "172.30.0.46", 80);
  return b.Build();
}

TEST(RulesetGeneratorTest, OverallRulesMatchUpstream) {
  std::unique_ptr<RulesetGenerator> g = NewGenerator(UpstreamTestConfig());
  Ruleset r = g->Generate(OverallState(), GenerateRequest{});
  ExpectGolden("overall_rules.golden", r.payload);
  EXPECT_EQ(r.no_local_endpoints_internal, 0);
  EXPECT_EQ(r.no_local_endpoints_external, 1);  // svc2
  EXPECT_EQ(r.total_endpoints, 6u);
  // Deterministic: the same input gives the same bytes, also from the name caches.
  EXPECT_EQ(g->Generate(OverallState(), GenerateRequest{}).payload, r.payload);
}

// kube-proxy's TestSyncProxyRulesRepeated: a full sync, then partial syncs that only
// rewrite the changed services' chains and delete stale ones, then a full sync.
//
// Run twice: partial syncs given the set of programmed chains, and partial syncs that
// leave the comparison to the generator's memory of its previous call.
class RepeatedSyncsTest : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(ExistingChains, RepeatedSyncsTest, ::testing::Bool());

TEST_P(RepeatedSyncsTest, MatchUpstream) {
  const bool incremental = GetParam();
  std::unique_ptr<RulesetGenerator> g = NewGenerator(UpstreamTestConfig());
  absl::flat_hash_set<std::string> programmed;  // what the kernel holds
  auto sync = [&](StateBuilder& b, bool full, std::set<std::string> changed) {
    std::set<std::string> changed_services = std::move(changed);
    GenerateRequest req;
    req.full = full;
    req.changed_services = &changed_services;
    req.existing_nat_chains = incremental && !full ? nullptr : &programmed;
    Ruleset r = g->Generate(b.Build(), req);
    for (const std::string& c : r.deleted_chains) programmed.erase(c);
    for (const std::string& c : r.new_chains) programmed.insert(c);
    EXPECT_EQ(programmed.size(), r.active_chain_count);
    return r;
  };

  StateBuilder b;
  b.Service("ns1", "svc1", "p80", "172.30.0.41", 80);
  b.Service("ns2", "svc2", "p8080", "172.30.0.42", 8080);
  b.Endpoint("ns1", "svc1", "p80", "10.0.1.1", 80);
  b.Endpoint("ns2", "svc2", "p8080", "10.0.2.1", 8080);
  ExpectGolden("repeated_1_initial.golden", sync(b, true, {}).payload);

  b.Service("ns3", "svc3", "p80", "172.30.0.43", 80);
  b.Endpoint("ns3", "svc3", "p80", "10.0.3.1", 80);
  Ruleset r = sync(b, false, {"ns3/svc3"});
  ExpectGolden("repeated_2_add_svc3.golden", r.payload);
  // svc1 and svc2 were skipped: 2 rules each (masquerade, dispatch) + 2 per endpoint.
  EXPECT_EQ(r.skipped_nat_rules, 8u);

  // The service goes; its EndpointSlice stays (as in the upstream test).
  b.RemoveService("ns2", "svc2", "p8080");
  r = sync(b, false, {"ns2/svc2"});
  ExpectGolden("repeated_3_delete_svc2.golden", r.payload);
  EXPECT_THAT(r.deleted_chains,
              ::testing::ElementsAre("KUBE-SEP-UHEGFW77JX3KXTOV", "KUBE-SVC-2VJB64SDSIJUP5T6"));

  b.Service("ns4", "svc4", "p80", "172.30.0.44", 80);
  ExpectGolden("repeated_4_add_svc4_without_endpoints.golden",
               sync(b, false, {"ns4/svc4"}).payload);

  b.Endpoint("ns4", "svc4", "p80", "10.0.4.1", 80);
  ExpectGolden("repeated_5_svc4_endpoints.golden", sync(b, false, {"ns4/svc4"}).payload);

  b.ClearEndpoints("ns3", "svc3", "p80");
  b.Endpoint("ns3", "svc3", "p80", "10.0.3.2", 80);
  ExpectGolden("repeated_6_svc3_endpoint_changed.golden", sync(b, false, {"ns3/svc3"}).payload);

  b.Endpoint("ns3", "svc3", "p80", "10.0.3.3", 80);
  ExpectGolden("repeated_7_svc3_endpoint_added.golden", sync(b, false, {"ns3/svc3"}).payload);

  ExpectGolden("repeated_8_no_changes.golden", sync(b, false, {}).payload);

  b.RemoveService("ns4", "svc4", "p80");
  ExpectGolden("repeated_9_full_after_failed_partial.golden", sync(b, true, {}).payload);
}

// The generator reuses the rendering of unchanged service ports; whatever changes
// between states (service fields, endpoints, node, cluster size), a long-lived
// generator must produce what a fresh one produces.
TEST(RulesetGeneratorTest, CachedRenderingEqualsFreshRendering) {
  std::unique_ptr<RulesetGenerator> cached = NewGenerator(UpstreamTestConfig());
  StateBuilder b;
  // With an explicit (empty) set of existing chains both delete nothing; the cached
  // generator's memory of its previous call would otherwise add `-X` lines.
  const absl::flat_hash_set<std::string> none;
  GenerateRequest req;
  req.existing_nat_chains = &none;
  auto check = [&](const std::string& step, ProxyState state) {
    std::string fresh = NewGenerator(UpstreamTestConfig())->Generate(state, req).payload;
    EXPECT_EQ(cached->Generate(state, req).payload, fresh) << step;
  };
  b.Service("ns1", "svc1", "p80", "172.30.0.41", 80);
  b.Endpoint("ns1", "svc1", "p80", "10.0.1.1", 80);
  b.Service("ns2", "svc2", "p80", "172.30.0.42", 80).node_port = 3001;
  b.Endpoint("ns2", "svc2", "p80", "10.0.2.1", 80, "test-node");
  check("initial", b.Build());
  b.Service("ns1", "svc1", "p80", "172.30.0.41", 8080);  // port changes
  check("port", b.Build());
  b.Service("ns2", "svc2", "p80", "172.30.0.42", 80).external_policy_local = true;
  check("policy", b.Build());
  b.Endpoint("ns2", "svc2", "p80", "10.0.2.2", 80, "host2").zone_hints = {"zone-a"};
  check("endpoint", b.Build());
  ProxyState zoned = b.Build();
  zoned.node.labels["topology.kubernetes.io/zone"] = "zone-a";
  check("node labels", zoned);
  check("node labels back", b.Build());
  for (int i = 0; i < 1001; ++i) {
    b.Endpoint("ns1", "svc1", "p80", absl::StrCat("10.1.", i / 250, ".", i % 250), 80);
  }
  check("large cluster", b.Build());
  b.ClearEndpoints("ns1", "svc1", "p80");
  check("small again", b.Build());
  b.RemoveService("ns2", "svc2", "p80");
  check("removed", b.Build());
}

TEST(RulesetGeneratorTest, InternalTrafficPolicyLocalWithoutLocalEndpointsDrops) {
  StateBuilder b;
  ServicePortInfo& svc = b.Service("ns1", "svc1", "", "172.30.1.1", 80);
  svc.internal_policy_local = true;
  b.Endpoint("ns1", "svc1", "", "10.0.1.2", 80, "host1");
  Ruleset r = NewGenerator(UpstreamTestConfig())->Generate(b.Build(), {});
  EXPECT_THAT(r.payload, HasSubstr("-A KUBE-SERVICES -m comment --comment \"ns1/svc1 has no local "
                                   "endpoints\" -m tcp -p tcp -d 172.30.1.1 --dport 80 -j DROP\n"));
  EXPECT_THAT(r.payload, Not(HasSubstr("KUBE-SVL-")));
  EXPECT_THAT(r.payload, Not(HasSubstr("KUBE-SEP-")));
  EXPECT_EQ(r.no_local_endpoints_internal, 1);

  // With a local endpoint: ClusterIP traffic goes to the SVL chain, local endpoint only.
  b.Endpoint("ns1", "svc1", "", "10.0.1.1", 80, "test-node");
  r = NewGenerator(UpstreamTestConfig())->Generate(b.Build(), {});
  EXPECT_THAT(r.payload, HasSubstr("\"ns1/svc1 cluster IP\" -m tcp -p tcp -d 172.30.1.1 "
                                   "--dport 80 -j KUBE-SVL-"));
  EXPECT_THAT(r.payload, HasSubstr("\"ns1/svc1 -> 10.0.1.1:80\" -j KUBE-SEP-"));
  EXPECT_THAT(r.payload, Not(HasSubstr("10.0.1.2:80")));
  EXPECT_THAT(r.payload, Not(HasSubstr("KUBE-SVC-")));
}

TEST(RulesetGeneratorTest, ExternalTrafficPolicyLocalWithLocalEndpoint) {
  StateBuilder b;
  ServicePortInfo& svc = b.Service("ns1", "svc1", "p80", "172.30.0.41", 80);
  svc.service_type = "NodePort";
  svc.node_port = 3001;
  svc.external_policy_local = true;
  b.Endpoint("ns1", "svc1", "p80", "10.180.0.1", 80, "test-node");
  b.Endpoint("ns1", "svc1", "p80", "10.180.0.2", 80, "host2");
  Ruleset r = NewGenerator(UpstreamTestConfig())->Generate(b.Build(), {});
  const std::string svc_chain = "KUBE-SVC-XPGD46QRK7WJZT7O";
  const std::string svl_chain = "KUBE-SVL-XPGD46QRK7WJZT7O";
  const std::string ext_chain = "KUBE-EXT-XPGD46QRK7WJZT7O";
  EXPECT_THAT(r.payload, HasSubstr("-A " + ext_chain + " -j " + svl_chain + "\n"));
  EXPECT_THAT(r.payload, HasSubstr("-A " + svl_chain +
                                   " -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -j "));
  EXPECT_THAT(r.payload, HasSubstr("-A " + svc_chain +
                                   " -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -m "
                                   "statistic --mode random --probability 0.5000000000 -j "));
  EXPECT_TRUE(absl::c_linear_search(r.new_chains, svl_chain));
  EXPECT_EQ(r.no_local_endpoints_external, 0);
}

TEST(RulesetGeneratorTest, ProbabilitiesAndAffinityForManyEndpoints) {
  StateBuilder b;
  ServicePortInfo& svc = b.Service("ns1", "svc1", "p80", "172.30.0.41", 80);
  svc.session_affinity = SessionAffinity::kClientIP;
  svc.sticky_max_age_seconds = 300;
  for (int i = 1; i <= 4; ++i) b.Endpoint("ns1", "svc1", "p80", "10.0.0." + std::to_string(i), 80);
  std::string p = NewGenerator(UpstreamTestConfig())->Generate(b.Build(), {}).payload;
  EXPECT_THAT(p, HasSubstr("--probability 0.2500000000 -j"));
  EXPECT_THAT(p, HasSubstr("--probability 0.3333333333 -j"));
  EXPECT_THAT(p, HasSubstr("--probability 0.5000000000 -j"));
  EXPECT_THAT(p, HasSubstr("-m recent --name KUBE-SEP-"));
  EXPECT_THAT(p, HasSubstr("--rcheck --seconds 300 --reap -j KUBE-SEP-"));
  // Affinity rules come first, then the dispatch rules; the last endpoint is the fallback.
  size_t last_rcheck = p.rfind("--rcheck");
  size_t first_statistic = p.find("-m statistic");
  EXPECT_LT(last_rcheck, first_statistic);
  EXPECT_THAT(p, HasSubstr("\"ns1/svc1:p80 -> 10.0.0.4:80\" -j KUBE-SEP-"));
}

TEST(RulesetGeneratorTest, LargeClusterModeDropsEndpointComments) {
  StateBuilder b;
  b.Service("ns1", "svc1", "p80", "172.30.0.41", 80);
  for (int i = 0; i < 3; ++i) b.Endpoint("ns1", "svc1", "p80", "10.0.0." + std::to_string(i), 80);
  RulesetConfig c = UpstreamTestConfig();
  c.large_cluster_endpoints_threshold = 2;
  Ruleset r = NewGenerator(c)->Generate(b.Build(), {});
  EXPECT_TRUE(r.large_cluster_mode);
  EXPECT_THAT(r.payload, Not(HasSubstr("-> 10.0.0.")));
  EXPECT_THAT(r.payload, Not(HasSubstr("--comment ns1/svc1:p80")));
  EXPECT_THAT(r.payload, HasSubstr("-s 10.0.0.0 -j KUBE-MARK-MASQ\n"));
  EXPECT_THAT(r.payload, HasSubstr("-m statistic --mode random --probability 0.3333333333 -j"));
  // Other comments stay.
  EXPECT_THAT(r.payload, HasSubstr("\"ns1/svc1:p80 cluster IP\""));
}

TEST(RulesetGeneratorTest, IPv6) {
  StateBuilder b("test-node", IPFamily::kIPv6);
  ServicePortInfo& svc = b.Service("ns1", "svc1", "p80", "fd00:172:30::41", 80);
  svc.node_port = 3001;
  b.Endpoint("ns1", "svc1", "p80", "fd00:10:180::1", 80);
  RulesetConfig c;
  c.family = IPFamily::kIPv6;
  c.local_detector = LocalTrafficDetector::ClusterCIDR("fd00:10::/64");
  Ruleset r = NewGenerator(c)->Generate(b.Build(), {});
  EXPECT_THAT(r.payload, Not(HasSubstr("KUBE-FIREWALL")));  // no localhost NodePorts
  EXPECT_THAT(r.payload, Not(HasSubstr("127.0.0.0/8")));
  EXPECT_THAT(r.payload,
              HasSubstr("-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS\n"));
  EXPECT_THAT(r.payload, HasSubstr("-j DNAT --to-destination [fd00:10:180::1]:80\n"));
  EXPECT_THAT(r.payload, HasSubstr("-s fd00:10:180::1 -j KUBE-MARK-MASQ\n"));
  EXPECT_THAT(r.payload,
              HasSubstr("-d fd00:172:30::41 --dport 80 ! -s fd00:10::/64 -j KUBE-MARK-MASQ"));
  EXPECT_THAT(r.payload,
              HasSubstr("-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp "
                        "--dport 3001 -j KUBE-EXT-"));
}

TEST(RulesetGeneratorTest, FirewallAdmitsLoadBalancerIPsWhenRangeHoldsNodeIP) {
  StateBuilder b;
  ServicePortInfo& svc = b.Service("ns5", "svc5", "p80", "172.30.0.45", 80);
  svc.load_balancer_vips = {"5.6.7.8"};
  svc.load_balancer_source_ranges = {"192.168.0.5/16", "203.0.113.0/25"};
  b.Endpoint("ns5", "svc5", "p80", "10.180.0.3", 80);
  std::string p = NewGenerator(UpstreamTestConfig())->Generate(b.Build(), {}).payload;
  const std::string fw =
      "-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment \"ns5/svc5:p80 loadbalancer IP\" ";
  EXPECT_THAT(p, HasSubstr(fw + "-s 192.168.0.0/16 -j KUBE-EXT-NUKIZ6OKUXPJNT4C\n" + fw +
                           "-s 203.0.113.0/25 -j KUBE-EXT-NUKIZ6OKUXPJNT4C\n" + fw +
                           "-s 5.6.7.8 -j KUBE-EXT-NUKIZ6OKUXPJNT4C\n"));
}

TEST(RulesetGeneratorTest, NodePortAddresses) {
  StateBuilder b;
  b.Service("ns1", "svc1", "p80", "172.30.0.41", 80);
  RulesetConfig c = UpstreamTestConfig();
  c.nodeport_ips = {"192.168.0.2", "127.0.0.1"};
  std::string p = NewGenerator(c)->Generate(b.Build(), {}).payload;
  const std::string tail =
      "\"kubernetes service nodeports; NOTE: this must be the last rule in this chain\"";
  EXPECT_THAT(p, HasSubstr(tail + " -d 192.168.0.2 -j KUBE-NODEPORTS\n"));
  EXPECT_THAT(p, HasSubstr(tail + " -d 127.0.0.1 -j KUBE-NODEPORTS\n"));
  c.localhost_nodeports = false;
  p = NewGenerator(c)->Generate(b.Build(), {}).payload;
  EXPECT_THAT(p, Not(HasSubstr("-d 127.0.0.1 -j KUBE-NODEPORTS")));
}

TEST(RulesetGeneratorTest, UnknownChainsAreNotDeleted) {
  StateBuilder b;
  b.Service("ns1", "svc1", "p80", "172.30.0.41", 80);
  b.Endpoint("ns1", "svc1", "p80", "10.0.1.1", 80);
  absl::flat_hash_set<std::string> existing = {"KUBE-SVC-XPGD46QRK7WJZT7O", "KUBE-SERVICES",
                                               "DOCKER", "KUBE-SEP-AAAAAAAAAAAAAAAA"};
  GenerateRequest req;
  req.existing_nat_chains = &existing;
  Ruleset r = NewGenerator(UpstreamTestConfig())->Generate(b.Build(), req);
  EXPECT_THAT(r.deleted_chains, ::testing::ElementsAre("KUBE-SEP-AAAAAAAAAAAAAAAA"));
  EXPECT_THAT(r.payload, HasSubstr(":KUBE-SEP-AAAAAAAAAAAAAAAA - [0:0]\n"));
  EXPECT_THAT(r.payload, HasSubstr("-X KUBE-SEP-AAAAAAAAAAAAAAAA\n"));
  EXPECT_THAT(r.payload, Not(HasSubstr("-X DOCKER")));
  // The tail rule still comes last.
  EXPECT_TRUE(absl::EndsWith(r.payload, "-j KUBE-NODEPORTS\nCOMMIT\n"));
}

}  // namespace
}  // namespace kslice::proxy::iptables
