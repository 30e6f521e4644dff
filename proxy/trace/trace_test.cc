// kslice-trace's engine on rulesets made by the proxy's own generator (the "live" side
// of the seed case and of every drift case), on what the kernel gives back
// (testdata/lab_kernel_save.txt), and on upstream's nftables layout loaded by real nft
// (testdata/lab_nft.json).
#include "proxy/trace/trace.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <tuple>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "proxy/endpoints_change_tracker.h"
#include "proxy/iptables/ruleset.h"
#include "proxy/service_change_tracker.h"
#include "proxy/testing/state_builder.h"
#include "proxy/trace/iptables_save.h"
#include "proxy/trace/nft_json.h"
#include "proxy/trace/report.h"

namespace kslice::proxy::trace {
namespace {

using api::core::v1::Node;
using api::core::v1::Service;
using api::discovery::v1::EndpointSlice;

std::string ReadTestdata(const std::string& name) {
  std::ifstream in("proxy/trace/testdata/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::shared_ptr<Service> NginxService() {
  auto s = std::make_shared<Service>();
  s->mutable_metadata()->set_name("nginx-service");
  s->mutable_metadata()->set_namespace_("default");
  auto* spec = s->mutable_spec();
  spec->set_type("ClusterIP");
  spec->set_clusterip("10.96.204.67");
  spec->add_clusterips("10.96.204.67");
  spec->add_ipfamilies("IPv4");
  auto* p = spec->add_ports();
  p->set_name("http");
  p->set_protocol("TCP");
  p->set_port(80);
  p->mutable_targetport()->set_intval(80);
  return s;
}

struct Ep {
  std::string ip, node;
  bool ready = true;
  bool terminating = false;
};

std::shared_ptr<EndpointSlice> Slice(const std::string& service, const std::vector<Ep>& eps,
                                     const std::string& name = "nginx-service-6zrf8") {
  auto s = std::make_shared<EndpointSlice>();
  s->mutable_metadata()->set_name(name);
  s->mutable_metadata()->set_namespace_("default");
  (*s->mutable_metadata()->mutable_labels())["kubernetes.io/service-name"] = service;
  s->set_addresstype("IPv4");
  for (const Ep& e : eps) {
    auto* ep = s->add_endpoints();
    ep->add_addresses(e.ip);
    ep->mutable_conditions()->set_ready(e.ready);
    ep->mutable_conditions()->set_serving(true);
    ep->mutable_conditions()->set_terminating(e.terminating);
    ep->set_nodename(e.node);
  }
  auto* port = s->add_ports();
  port->set_name("http");
  port->set_protocol("TCP");
  port->set_port(80);
  return s;
}

const std::vector<Ep> kSeedEndpoints = {{"192.168.202.196", "k8-services-worker"},
                                        {"192.168.156.5", "k8-services-worker2"}};

TraceInput Input(std::shared_ptr<Service> svc, std::vector<std::shared_ptr<EndpointSlice>> slices,
                 const std::string& node = "k8-services-worker") {
  TraceInput in;
  in.service = std::move(svc);
  for (auto& s : slices) in.slices.push_back(std::move(s));
  in.node_name = node;
  return in;
}

// The node's rules as the proxy writes them for `eps` of nginx-service (cluster CIDR
// 192.168.0.0/16), straight from the generator: the "live" ruleset.
std::string Payload(const std::vector<Ep>& eps, const std::string& node = "k8-services-worker",
                    size_t large_cluster_threshold = 1000) {
  proxy::testing::StateBuilder sb(node);
  sb.Service("default", "nginx-service", "http", "10.96.204.67", 80);
  for (const Ep& e : eps) {
    EndpointInfo& ei = sb.Endpoint("default", "nginx-service", "http", e.ip, 80, e.node);
    ei.ready = e.ready;
    ei.terminating = e.terminating;
  }
  ProxyState st = sb.Build();
  iptables::RulesetConfig c;
  c.local_detector = iptables::LocalTrafficDetector::ClusterCIDR("192.168.0.0/16");
  c.large_cluster_endpoints_threshold = large_cluster_threshold;
  auto g = iptables::RulesetGenerator::Create(c);
  EXPECT_TRUE(g.ok());
  return (*g)->Generate(st, iptables::GenerateRequest{}).payload;
}

Report MustTrace(const TraceInput& in, const std::string& ruleset, TraceOptions options = {}) {
  absl::StatusOr<SavedRuleset> live = ParseIptablesSave(ruleset);
  EXPECT_TRUE(live.ok()) << live.status();
  if (!live.ok()) return {};
  absl::StatusOr<Report> r = TraceIptables(in, IPFamily::kIPv4, *live, options);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : Report{};
}

std::vector<std::string> Kinds(const Report& r) {
  std::vector<std::string> out;
  for (const PortReport& p : r.ports) {
    for (const Drift& d : p.drift) out.push_back(d.kind);
  }
  return out;
}

bool HasKind(const Report& r, const std::string& kind, const std::string& needle = "") {
  for (const PortReport& p : r.ports) {
    for (const Drift& d : p.drift) {
      if (d.kind == kind && absl::StrContains(d.message, needle)) return true;
    }
  }
  return false;
}

// Removes the lines containing every one of `needles`.
std::string DropLines(const std::string& text, std::vector<std::string> needles) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    bool all = true;
    for (const std::string& n : needles) all = all && absl::StrContains(line, n);
    if (!all) absl::StrAppend(&out, line, "\n");
  }
  return out;
}

void CompareGolden(const std::string& name, const std::string& actual) {
  if (const char* dir = std::getenv("KSLICE_TRACE_UPDATE_GOLDEN"); dir != nullptr && *dir) {
    std::ofstream(absl::StrCat(dir, "/", name)) << actual;
  }
  EXPECT_EQ(actual, ReadTestdata(name)) << "actual:\n" << actual;
}

TEST(TraceIptablesTest, SeedCaseGivesTheGoldenTrace) {
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}),
                       Payload(kSeedEndpoints));
  EXPECT_EQ(r.DriftCount(), 0u) << RenderText(r);
  ASSERT_EQ(r.ports.size(), 1u);
  const PortReport& p = r.ports[0];
  EXPECT_EQ(p.spn, "default/nginx-service:http");
  ASSERT_EQ(p.entries.size(), 1u);
  EXPECT_EQ(p.entries[0].target, "KUBE-SVC-6IM33IEVEEV7U3GP");
  // The seed's 4.1 line, as iptables -S prints it.
  EXPECT_EQ(p.entries[0].rule,
            "-A KUBE-SERVICES -d 10.96.204.67/32 -p tcp -m comment --comment "
            "\"default/nginx-service:http cluster IP\" -m tcp --dport 80 -j "
            "KUBE-SVC-6IM33IEVEEV7U3GP");
  ASSERT_EQ(p.chains.size(), 3u);
  EXPECT_EQ(p.chains[0].name, "KUBE-SVC-6IM33IEVEEV7U3GP");
  EXPECT_EQ(p.chains[1].name, "KUBE-SEP-M6MI3YLHVX7DA53R");
  EXPECT_EQ(p.chains[2].name, "KUBE-SEP-MJ46KNWYZBDUIDMY");
  ASSERT_EQ(p.chains[0].steps.size(), 3u);
  EXPECT_EQ(p.chains[0].steps[1].probability, "0.50000000000");
  EXPECT_DOUBLE_EQ(p.chains[0].steps[1].share, 0.5);
  EXPECT_DOUBLE_EQ(p.chains[0].steps[2].share, 0.5);
  EXPECT_EQ(p.chains[0].steps[1].endpoint, "192.168.156.5:80");
  CompareGolden("lab_trace.golden", RenderText(r));
}

TEST(TraceIptablesTest, KernelListingOfTheSeedCaseIsConsistent) {
  // What real iptables-save printed for the generator's payload: normalised addresses,
  // option order, marks and the 11-digit probability all compare equal.
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}),
                       ReadTestdata("lab_kernel_save.txt"));
  EXPECT_EQ(r.DriftCount(), 0u) << RenderText(r);
  ASSERT_EQ(r.ports.size(), 1u);
  EXPECT_EQ(r.ports[0].chains.size(), 3u);
  // The cluster CIDR was not given: it comes from the live masquerade rule.
  ASSERT_EQ(r.ports[0].notes.size(), 1u);
  EXPECT_TRUE(absl::StrContains(r.ports[0].notes[0], "192.168.0.0/16")) << r.ports[0].notes[0];
}

TEST(TraceIptablesTest, LargeClusterModeWithoutComments) {
  // A node of a cluster with over 1000 endpoints: no comments on SEP and SVC->SEP rules.
  std::string live = Payload(kSeedEndpoints, "k8-services-worker", /*large_cluster_threshold=*/1);
  ASSERT_FALSE(absl::StrContains(live, "-> 192.168.156.5:80"));
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), live);
  EXPECT_EQ(r.DriftCount(), 0u) << RenderText(r);
  EXPECT_TRUE(absl::StrContains(RenderText(r), "large-cluster mode")) << RenderText(r);
  EXPECT_TRUE(absl::StrContains(RenderText(r), "-> DNAT 192.168.156.5:80")) << RenderText(r);
  // Drift is still found by endpoint, without comments to go by.
  std::string deleted;
  for (absl::string_view line : absl::StrSplit(live, '\n')) {
    if (absl::StartsWith(line, "-A KUBE-SVC-6IM33IEVEEV7U3GP") &&
        absl::StrContains(line, "KUBE-SEP-M6MI3YLHVX7DA53R")) {
      continue;
    }
    absl::StrAppend(&deleted, line, "\n");
  }
  r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), deleted);
  EXPECT_TRUE(HasKind(r, "missing-endpoint", "192.168.156.5:80")) << RenderText(r);
}

TEST(TraceIptablesTest, ThreeEndpointsGetAThirdEach) {
  std::vector<Ep> eps = kSeedEndpoints;
  eps.push_back({"192.168.145.11", "k8-services-control-plane"});
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", eps)}), Payload(eps));
  EXPECT_EQ(r.DriftCount(), 0u) << RenderText(r);
  ASSERT_EQ(r.ports.size(), 1u);
  const ChainTrace& svc = r.ports[0].chains[0];
  std::vector<double> shares;
  std::vector<std::string> probabilities;
  for (const Step& s : svc.steps) {
    if (!s.branch) continue;
    shares.push_back(s.share);
    probabilities.push_back(s.probability);
  }
  ASSERT_EQ(shares.size(), 3u);
  for (double s : shares) EXPECT_NEAR(s, 1.0 / 3, 1e-9);
  // 1/3 and 1/2 as the kernel keeps them (31-bit fractions), then the catch-all.
  EXPECT_EQ(probabilities, (std::vector<std::string>{"0.33333333349", "0.50000000000", ""}));
  EXPECT_TRUE(absl::StrContains(RenderText(r), "33.3% of new connections")) << RenderText(r);
}

TEST(TraceIptablesTest, DeletedSepJumpIsAMissingEndpoint) {
  std::string live = DropLines(Payload(kSeedEndpoints),
                               {"-A KUBE-SVC-6IM33IEVEEV7U3GP", "-> 192.168.156.5:80"});
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), live);
  EXPECT_TRUE(HasKind(r, "missing-endpoint", "192.168.156.5:80")) << RenderText(r);
  // The endpoint's chain is still there, but nothing reaches it.
  EXPECT_TRUE(HasKind(r, "stale-chain", "KUBE-SEP-M6MI3YLHVX7DA53R")) << RenderText(r);
  EXPECT_FALSE(HasKind(r, "missing-endpoint", "192.168.202.196")) << RenderText(r);
}

TEST(TraceIptablesTest, DeletedMiddleBranchOfThreeBreaksTheShares) {
  std::vector<Ep> eps = kSeedEndpoints;
  eps.push_back({"192.168.145.11", "k8-services-control-plane"});
  // Sorted endpoints: .145.11, .156.5, .202.196; delete the middle one (p = 0.5).
  std::string live =
      DropLines(Payload(eps), {"-A KUBE-SVC-6IM33IEVEEV7U3GP", "-> 192.168.156.5:80"});
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", eps)}), live);
  EXPECT_TRUE(HasKind(r, "missing-endpoint", "192.168.156.5:80")) << RenderText(r);
  // Two branches left: the first keeps 1/3 where kube-proxy writes 1/2.
  EXPECT_TRUE(HasKind(r, "wrong-probability", "0.5000000000 (1/2)")) << RenderText(r);
  EXPECT_TRUE(HasKind(r, "unequal-shares", "33.3%")) << RenderText(r);
}

TEST(TraceIptablesTest, ExtraSepIsAnExtraEndpoint) {
  std::string live = Payload(kSeedEndpoints);
  // A hand-made endpoint chain for a pod the slices do not list, put first.
  live = absl::StrReplaceAll(
      live, {{":KUBE-SEP-M6MI3YLHVX7DA53R - [0:0]\n",
              ":KUBE-SEP-M6MI3YLHVX7DA53R - [0:0]\n:KUBE-SEP-HANDMADE0000000 - [0:0]\n"},
             {"-A KUBE-SVC-6IM33IEVEEV7U3GP -m comment --comment \"default/nginx-service:http -> "
              "192.168.156.5:80\"",
              "-A KUBE-SVC-6IM33IEVEEV7U3GP -m statistic --mode random --probability 0.3333333333 "
              "-j KUBE-SEP-HANDMADE0000000\n"
              "-A KUBE-SEP-HANDMADE0000000 -m tcp -p tcp -j DNAT --to-destination 10.1.2.3:80\n"
              "-A KUBE-SVC-6IM33IEVEEV7U3GP -m comment --comment \"default/nginx-service:http -> "
              "192.168.156.5:80\""}});
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), live);
  EXPECT_TRUE(HasKind(r, "extra-endpoint", "10.1.2.3:80")) << RenderText(r);
  EXPECT_TRUE(HasKind(r, "extra-endpoint", "in no EndpointSlice")) << RenderText(r);
  // Three branches now: the second must carry 1/2, it carries 0.5 of what is left...
  // which is right; the shares are 1/3 each, so no share drift, only the endpoint.
  EXPECT_FALSE(HasKind(r, "unequal-shares")) << RenderText(r);
}

TEST(TraceIptablesTest, NotReadyEndpointInTheRulesIsExtra) {
  std::vector<Ep> eps = kSeedEndpoints;
  std::string live = Payload(eps);
  eps[1].ready = false;  // 192.168.156.5 went unready; the rules still use it
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", eps)}), live);
  EXPECT_TRUE(HasKind(r, "extra-endpoint", "192.168.156.5:80")) << RenderText(r);
  EXPECT_TRUE(HasKind(r, "extra-endpoint", "not ready")) << RenderText(r);
}

TEST(TraceIptablesTest, WrongProbabilityIsFlagged) {
  std::string live = absl::StrReplaceAll(Payload(kSeedEndpoints),
                                         {{"--probability 0.5000000000", "--probability 0.9"}});
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), live);
  EXPECT_TRUE(HasKind(r, "wrong-probability", "0.9")) << RenderText(r);
  EXPECT_TRUE(HasKind(r, "unequal-shares", "90.0%")) << RenderText(r);
}

TEST(TraceIptablesTest, ProbabilityOnTheLastBranchLeavesTrafficUnbalanced) {
  std::string live = absl::StrReplaceAll(
      Payload(kSeedEndpoints),
      {{"192.168.202.196:80\" -j", "192.168.202.196:80\" -m statistic --mode random --probability 0.5 -j"}});
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), live);
  EXPECT_TRUE(HasKind(r, "wrong-probability", "last branch")) << RenderText(r);
  EXPECT_TRUE(HasKind(r, "unequal-shares", "match no branch")) << RenderText(r);
}

TEST(TraceIptablesTest, MissingKubeServicesRule) {
  std::string live = DropLines(Payload(kSeedEndpoints), {"-A KUBE-SERVICES", "cluster IP"});
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), live);
  EXPECT_TRUE(HasKind(r, "missing-service-rule", "KUBE-SVC-6IM33IEVEEV7U3GP")) << RenderText(r);
  EXPECT_TRUE(HasKind(r, "stale-chain", "KUBE-SVC-6IM33IEVEEV7U3GP")) << RenderText(r);
  EXPECT_TRUE(r.ports[0].entries.empty());
}

TEST(TraceIptablesTest, ChainNameNotTheHashOfTheServicePort) {
  std::string live = absl::StrReplaceAll(Payload(kSeedEndpoints),
                                         {{"KUBE-SVC-6IM33IEVEEV7U3GP", "KUBE-SVC-AAAAAAAAAAAAAAAA"}});
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), live);
  EXPECT_TRUE(HasKind(r, "chain-name", "KUBE-SVC-AAAAAAAAAAAAAAAA")) << RenderText(r);
  // The renamed chain is otherwise right: no other drift.
  EXPECT_EQ(Kinds(r), std::vector<std::string>{"chain-name"}) << RenderText(r);

  std::string sep = absl::StrReplaceAll(Payload(kSeedEndpoints),
                                        {{"KUBE-SEP-MJ46KNWYZBDUIDMY", "KUBE-SEP-BBBBBBBBBBBBBBBB"}});
  r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), sep);
  EXPECT_TRUE(HasKind(r, "chain-name", "KUBE-SEP-MJ46KNWYZBDUIDMY")) << RenderText(r);
  EXPECT_EQ(Kinds(r), std::vector<std::string>{"chain-name"}) << RenderText(r);
}

TEST(TraceIptablesTest, ServiceWithoutEndpointsNeedsItsReject) {
  std::string live = Payload({});
  ASSERT_TRUE(absl::StrContains(live, "-j REJECT"));
  Report r = MustTrace(Input(NginxService(), {}), live);
  EXPECT_EQ(r.DriftCount(), 0u) << RenderText(r);
  ASSERT_EQ(r.ports[0].entries.size(), 1u);
  EXPECT_EQ(r.ports[0].entries[0].kind, "no endpoints");
  EXPECT_TRUE(absl::StrContains(r.ports[0].entries[0].what, "rejected")) << r.ports[0].entries[0].what;

  r = MustTrace(Input(NginxService(), {}), DropLines(live, {"-j REJECT"}));
  EXPECT_EQ(Kinds(r), std::vector<std::string>{"missing-reject"}) << RenderText(r);

  // Endpoints gone from the slice, rules not updated: every SEP is extra, REJECT missing.
  r = MustTrace(Input(NginxService(), {}), Payload(kSeedEndpoints));
  EXPECT_TRUE(HasKind(r, "missing-reject")) << RenderText(r);
  EXPECT_TRUE(HasKind(r, "extra-rule", "KUBE-SERVICES")) << RenderText(r);
  EXPECT_TRUE(HasKind(r, "extra-endpoint", "192.168.156.5:80")) << RenderText(r);
}

TEST(TraceIptablesTest, MissingFilterTableIsANoteNotDrift) {
  std::string live = Payload({});
  std::string nat_only = live.substr(live.find("*nat"));
  Report r = MustTrace(Input(NginxService(), {}), nat_only);
  EXPECT_EQ(r.DriftCount(), 0u) << RenderText(r);
  EXPECT_TRUE(absl::StrContains(RenderText(r), "filter table was not read"));
}

TEST(TraceIptablesTest, ExplicitClusterCidrIsChecked) {
  TraceOptions o;
  o.cluster_cidr = "10.244.0.0/16";
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}),
                       Payload(kSeedEndpoints), o);
  EXPECT_TRUE(HasKind(r, "missing-rule", "10.244.0.0/16")) << RenderText(r);
  EXPECT_TRUE(HasKind(r, "extra-rule", "192.168.0.0/16")) << RenderText(r);
}

TEST(TraceIptablesTest, SlicesOfOtherServicesAndUnknownPortsAreHandled) {
  // A slice of another service is ignored, as the proxy ignores it.
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints),
                                              Slice("other", {{"10.9.9.9", "x"}}, "other-abc")}),
                       Payload(kSeedEndpoints));
  EXPECT_EQ(r.DriftCount(), 0u) << RenderText(r);

  TraceInput in = Input(NginxService(), {});
  in.port_name = "https";
  absl::StatusOr<SavedRuleset> live = ParseIptablesSave(Payload({}));
  ASSERT_TRUE(live.ok());
  absl::StatusOr<Report> bad = TraceIptables(in, IPFamily::kIPv4, *live, {});
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "no port named \"https\""))
      << bad.status();

  // IPv4-only service traced for IPv6: no ports, no drift.
  absl::StatusOr<Report> v6 = TraceIptables(Input(NginxService(), {}), IPFamily::kIPv6, *live, {});
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_TRUE(v6->ports.empty());
}

TEST(TraceIptablesTest, JsonHasTheSameContent) {
  std::string live = DropLines(Payload(kSeedEndpoints),
                               {"-A KUBE-SVC-6IM33IEVEEV7U3GP", "-> 192.168.156.5:80"});
  Report r = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), live);
  std::string json = RenderJson(r);
  EXPECT_TRUE(absl::StrContains(json, "\"consistent\": false")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"kind\": \"missing-endpoint\"")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"servicePort\": \"default/nginx-service:http\"")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"share\": 1.0")) << json;
}

// The rules of a whole node for several Services, from the proxy's trackers and
// generator (what kslice-proxy programs): the live side for the tests below.
std::string NodePayload(const std::vector<std::shared_ptr<Service>>& services,
                        const std::vector<std::shared_ptr<EndpointSlice>>& slices,
                        const std::string& node, IPFamily family = IPFamily::kIPv4,
                        const std::string& cidr = "192.168.0.0/16") {
  ServiceChangeTracker st(family);
  for (const auto& s : services) st.Update(nullptr, s.get());
  auto sm = std::make_shared<ServicePortMap>();
  st.Apply(*sm, nullptr);
  EndpointsTrackerOptions eo;
  eo.node_name = node;
  eo.family = family;
  EndpointsChangeTracker et(eo);
  for (const auto& s : slices) et.EndpointSliceUpdate(s, false);
  auto em = std::make_shared<EndpointsMap>();
  et.Apply(*em, nullptr);
  ProxyState state;
  state.family = family;
  state.services = sm;
  state.endpoints = em;
  state.node.name = node;
  iptables::RulesetConfig c;
  c.family = family;
  c.local_detector = iptables::LocalTrafficDetector::ClusterCIDR(cidr);
  auto g = iptables::RulesetGenerator::Create(c);
  EXPECT_TRUE(g.ok());
  return (*g)->Generate(state, iptables::GenerateRequest{}).payload;
}

std::shared_ptr<Service> WebService() {
  auto s = std::make_shared<Service>();
  s->mutable_metadata()->set_name("web");
  s->mutable_metadata()->set_namespace_("default");
  auto* spec = s->mutable_spec();
  spec->set_type("NodePort");
  spec->set_clusterip("10.96.0.80");
  spec->add_clusterips("10.96.0.80");
  spec->add_externalips("203.0.113.7");
  spec->set_externaltrafficpolicy("Local");
  spec->set_sessionaffinity("ClientIP");
  spec->mutable_sessionaffinityconfig()->mutable_clientip()->set_timeoutseconds(600);
  for (auto [name, port, node_port] : {std::tuple{"http", 80, 30080}, {"https", 443, 30443}}) {
    auto* p = spec->add_ports();
    p->set_name(name);
    p->set_protocol("TCP");
    p->set_port(port);
    p->set_nodeport(node_port);
  }
  return s;
}

std::shared_ptr<EndpointSlice> WebSlice() {
  auto s = Slice("web", {{"192.168.202.10", "k8-services-worker"},
                         {"192.168.156.10", "k8-services-worker2"},
                         {"192.168.156.11", "k8-services-worker2", false, true}},
                 "web-abcde");
  auto* port = s->add_ports();
  port->set_name("https");
  port->set_protocol("TCP");
  port->set_port(443);
  return s;
}

TEST(TraceIptablesTest, NodePortLocalPolicyAffinityAmongOtherServices) {
  std::vector<std::shared_ptr<Service>> services = {NginxService(), WebService()};
  std::vector<std::shared_ptr<EndpointSlice>> slices = {Slice("nginx-service", kSeedEndpoints),
                                                        WebSlice()};
  std::string live = NodePayload(services, slices, "k8-services-worker");
  // web:http, with web:https and nginx-service in the same tables.
  TraceInput in = Input(WebService(), {WebSlice()});
  in.port_name = "http";
  Report r = MustTrace(in, live);
  EXPECT_EQ(r.DriftCount(), 0u) << RenderText(r);
  ASSERT_EQ(r.ports.size(), 1u);
  const PortReport& p = r.ports[0];
  std::set<std::string> kinds;
  for (const Entry& e : p.entries) kinds.insert(e.kind);
  EXPECT_EQ(kinds, (std::set<std::string>{"cluster IP", "external IP", "nodePort",
                                          "nodePort (localhost)"}))
      << RenderText(r);
  std::set<std::string> chains;
  for (const ChainTrace& c : p.chains) chains.insert(c.name.substr(0, 9));
  EXPECT_TRUE(chains.count("KUBE-EXT-")) << RenderText(r);
  EXPECT_TRUE(chains.count("KUBE-SVL-")) << RenderText(r);
  std::string text = RenderText(r);
  EXPECT_TRUE(absl::StrContains(text, "session affinity: a client seen in the last 600 s")) << text;
  EXPECT_TRUE(absl::StrContains(text, "remembering the client for session affinity")) << text;
  // The terminating endpoint is in the slice but not used.
  EXPECT_TRUE(absl::StrContains(text, "192.168.156.11:80      not ready, serving, terminating"))
      << text;

  // Every service of the node traces clean from the same tables.
  Report nginx = MustTrace(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), live);
  EXPECT_EQ(nginx.DriftCount(), 0u) << RenderText(nginx);
  Report both = MustTrace(Input(WebService(), {WebSlice()}), live);
  EXPECT_EQ(both.ports.size(), 2u);
  EXPECT_EQ(both.DriftCount(), 0u) << RenderText(both);

  // The local endpoint's affinity rule removed: a rule-level drift in the SVL chain.
  std::string no_affinity;
  for (absl::string_view line : absl::StrSplit(live, '\n')) {
    if (absl::StartsWith(line, "-A KUBE-SVL-") && absl::StrContains(line, "--rcheck") &&
        absl::StrContains(line, "192.168.202.10:80")) {
      continue;
    }
    absl::StrAppend(&no_affinity, line, "\n");
  }
  r = MustTrace(in, no_affinity);
  EXPECT_TRUE(HasKind(r, "missing-rule", "--rcheck")) << RenderText(r);
}

TEST(TraceIptablesTest, IPv6Service) {
  auto s = std::make_shared<Service>();
  s->mutable_metadata()->set_name("v6");
  s->mutable_metadata()->set_namespace_("default");
  s->mutable_spec()->set_type("ClusterIP");
  s->mutable_spec()->set_clusterip("fd00:10:96::10");
  s->mutable_spec()->add_clusterips("fd00:10:96::10");
  auto* p = s->mutable_spec()->add_ports();
  p->set_name("http");
  p->set_protocol("TCP");
  p->set_port(80);
  auto slice = std::make_shared<EndpointSlice>();
  slice->mutable_metadata()->set_name("v6-abc");
  slice->mutable_metadata()->set_namespace_("default");
  (*slice->mutable_metadata()->mutable_labels())["kubernetes.io/service-name"] = "v6";
  slice->set_addresstype("IPv6");
  for (const char* ip : {"fd00:10:244::5", "fd00:10:244::6"}) {
    auto* ep = slice->add_endpoints();
    ep->add_addresses(ip);
    ep->set_nodename("n2");
  }
  auto* sp = slice->add_ports();
  sp->set_name("http");
  sp->set_protocol("TCP");
  sp->set_port(80);
  std::string live = NodePayload({s}, {slice}, "n1", IPFamily::kIPv6, "fd00:10:244::/56");
  absl::StatusOr<SavedRuleset> rs = ParseIptablesSave(live);
  ASSERT_TRUE(rs.ok()) << rs.status();
  TraceInput in = Input(s, {slice}, "n1");
  absl::StatusOr<Report> r = TraceIptables(in, IPFamily::kIPv6, *rs, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->DriftCount(), 0u) << RenderText(*r);
  ASSERT_EQ(r->ports.size(), 1u);
  EXPECT_EQ(r->ports[0].address, "[fd00:10:96::10]:80/TCP");
  EXPECT_TRUE(absl::StrContains(RenderText(*r), "DNAT [fd00:10:244::5]:80")) << RenderText(*r);
  // The IPv4 trace of an IPv6-only Service has nothing to show.
  absl::StatusOr<Report> v4 = TraceIptables(in, IPFamily::kIPv4, *rs, {});
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->ports.empty());
}

// --- nftables ---

NftRuleset MustParseNft(const std::string& json) {
  absl::StatusOr<NftRuleset> rs = ParseNftJson(json);
  EXPECT_TRUE(rs.ok()) << rs.status();
  return rs.ok() ? *rs : NftRuleset{};
}

std::shared_ptr<Service> EmptyService() {
  auto s = std::make_shared<Service>();
  s->mutable_metadata()->set_name("empty");
  s->mutable_metadata()->set_namespace_("default");
  s->mutable_spec()->set_type("ClusterIP");
  s->mutable_spec()->set_clusterip("10.96.0.50");
  s->mutable_spec()->add_clusterips("10.96.0.50");
  auto* p = s->mutable_spec()->add_ports();
  p->set_name("http");
  p->set_protocol("TCP");
  p->set_port(80);
  return s;
}

TEST(TraceNftablesTest, UpstreamLayoutFromRealNftIsConsistent) {
  NftRuleset live = MustParseNft(ReadTestdata("lab_nft.json"));
  TraceOptions o;
  o.cluster_cidr = "192.168.0.0/16";
  absl::StatusOr<Report> r = TraceNftables(
      Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), IPFamily::kIPv4, live, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->DriftCount(), 0u) << RenderText(*r);
  ASSERT_EQ(r->ports.size(), 1u);
  const PortReport& p = r->ports[0];
  ASSERT_EQ(p.entries.size(), 1u);
  EXPECT_EQ(p.entries[0].target, "service-PIOJ4VP5-default/nginx-service/tcp/http");
  ASSERT_EQ(p.chains.size(), 3u);
  int branches = 0;
  for (const Step& s : p.chains[0].steps) {
    if (!s.branch) continue;
    ++branches;
    EXPECT_DOUBLE_EQ(s.share, 0.5);
  }
  EXPECT_EQ(branches, 2);
  EXPECT_EQ(p.chains[1].name,
            "endpoint-4U5T3CSB-default/nginx-service/tcp/http__192.168.156.5/80");
  CompareGolden("lab_trace_nft.golden", RenderText(*r));

  absl::StatusOr<Report> empty =
      TraceNftables(Input(EmptyService(), {}), IPFamily::kIPv4, live, o);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->DriftCount(), 0u) << RenderText(*empty);
  ASSERT_EQ(empty->ports[0].entries.size(), 1u);
  EXPECT_EQ(empty->ports[0].entries[0].target, "reject-chain");
}

TEST(TraceNftablesTest, DriftInTheNumgenMap) {
  NftRuleset live = MustParseNft(ReadTestdata("lab_nft.json"));
  // Drop the second endpoint from the vmap, as if the rule were stale.
  for (auto& [name, chain] : live.chains) {
    for (NftRule& r : chain.rules) {
      if (r.numgen_mod == 2) r.numgen_targets.pop_back();
    }
  }
  absl::StatusOr<Report> r = TraceNftables(
      Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), IPFamily::kIPv4, live, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(HasKind(*r, "missing-endpoint", "192.168.202.196:80")) << RenderText(*r);
  EXPECT_TRUE(HasKind(*r, "unequal-shares", "mod 2 over 1")) << RenderText(*r);

  // The nginx service's element gone from service-ips.
  NftRuleset no_entry = MustParseNft(ReadTestdata("lab_nft.json"));
  no_entry.maps["service-ips"].clear();
  r = TraceNftables(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}),
                    IPFamily::kIPv4, no_entry, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(HasKind(*r, "missing-service-rule", "10.96.204.67 . tcp . 80")) << RenderText(*r);

  // A service without endpoints whose reject element is missing.
  NftRuleset no_reject = MustParseNft(ReadTestdata("lab_nft.json"));
  no_reject.maps["no-endpoint-services"].clear();
  r = TraceNftables(Input(EmptyService(), {}), IPFamily::kIPv4, no_reject, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Kinds(*r), std::vector<std::string>{"missing-reject"}) << RenderText(*r);
}

// testdata/kslice_nft.json: `nft -j list table ip kube-proxy` after loading, in a fresh
// network namespace, what `kslice-proxy --dry-run --proxy-mode nftables -f
// testdata/proxy/lab.yaml --hostname-override k8-services-worker --cluster-cidr
// 192.168.0.0/16` printed: kslice's own layout, which dispatches with a cascade of
// "numgen random mod k == 0 goto" rules instead of upstream's vmap.
TEST(TraceNftablesTest, KsliceBackendCascadeFromRealNftIsConsistent) {
  NftRuleset live = MustParseNft(ReadTestdata("kslice_nft.json"));
  TraceOptions o;
  o.cluster_cidr = "192.168.0.0/16";
  absl::StatusOr<Report> r = TraceNftables(
      Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}), IPFamily::kIPv4, live, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->DriftCount(), 0u) << RenderText(*r);
  ASSERT_EQ(r->ports.size(), 1u);
  std::vector<double> shares;
  for (const Step& s : r->ports[0].chains[0].steps) {
    if (s.branch) shares.push_back(s.share);
  }
  EXPECT_EQ(shares, (std::vector<double>{0.5, 0.5})) << RenderText(*r);

  // The last endpoint's goto gone: that endpoint is missing.
  NftRuleset dropped = live;
  for (auto& [name, chain] : dropped.chains) {
    if (!absl::StartsWith(name, "service-")) continue;
    auto& rules = chain.rules;
    rules.erase(std::remove_if(rules.begin(), rules.end(),
                               [](const NftRule& x) {
                                 return x.numgen_match_mod == 0 &&
                                        absl::StartsWith(x.target, "endpoint-");
                               }),
                rules.end());
  }
  r = TraceNftables(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}),
                    IPFamily::kIPv4, dropped, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(HasKind(*r, "missing-endpoint", "192.168.202.196:80")) << RenderText(*r);

  // A wrong modulus: the shares are no longer equal.
  NftRuleset skewed = live;
  for (auto& [name, chain] : skewed.chains) {
    for (NftRule& x : chain.rules) {
      if (x.numgen_match_mod == 2) x.numgen_match_mod = 3;
    }
  }
  r = TraceNftables(Input(NginxService(), {Slice("nginx-service", kSeedEndpoints)}),
                    IPFamily::kIPv4, skewed, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(HasKind(*r, "unequal-shares", "same share")) << RenderText(*r);
}

TEST(TraceNftablesTest, WrongTableIsAnError) {
  NftRuleset live = MustParseNft(ReadTestdata("lab_nft.json"));
  EXPECT_FALSE(TraceNftables(Input(NginxService(), {}), IPFamily::kIPv6, live, {}).ok());
}

}  // namespace
}  // namespace kslice::proxy::trace
