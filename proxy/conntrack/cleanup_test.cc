// Stale UDP entry cleanup with a fake conntrack runner: which entries are deleted for
// which states (upstream's reconciler cases: serving / non-serving / removed endpoints,
// every frontend kind, other protocols and ports left alone, never-NATed flows, services
// without endpoints), the command lines, parsing and exit codes.
#include "proxy/conntrack/cleanup.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "proxy/conntrack/conntrack.h"

namespace kslice::proxy::conntrack {
namespace {

// Holds a table of flows: -L prints them (as conntrack does), -D removes the matching
// ones and prints the count on stderr. Every call is recorded.
class FakeRunner : public Runner {
 public:
  std::vector<Flow> table;
  std::vector<std::vector<std::string>> calls;
  int fail_deletes = 0;

  absl::StatusOr<Result> Run(const std::vector<std::string>& args) override {
    calls.push_back(args);
    Result r;
    std::map<std::string, std::string> opt;
    for (size_t i = 1; i + 1 < args.size(); i += 2) opt[args[i]] = args[i + 1];
    if (args[0] == "-L") {
      for (const Flow& f : table) {
        if (f.protocol != opt["-p"]) continue;
        absl::StrAppend(&r.out, f.protocol, "      17 29 src=", f.orig_src, " dst=", f.orig_dst,
                        " sport=", f.orig_src_port, " dport=", f.orig_dst_port,
                        " [UNREPLIED] src=", f.reply_src, " dst=", f.reply_dst,
                        " sport=", f.reply_src_port, " dport=", f.reply_dst_port,
                        " mark=0 use=1\n");
      }
      r.err = "conntrack v1.4.7 (conntrack-tools): N flow entries have been shown.\n";
      return r;
    }
    if (fail_deletes > 0) {
      --fail_deletes;
      r.exit_code = 1;
      r.err = "conntrack v1.4.7 (conntrack-tools): Operation not permitted\n";
      return r;
    }
    int n = 0;
    for (auto it = table.begin(); it != table.end();) {
      bool match = it->protocol == opt["-p"] &&
                   (!opt.count("--orig-dst") || it->orig_dst == opt["--orig-dst"]) &&
                   (!opt.count("--orig-port-dst") ||
                    absl::StrCat(it->orig_dst_port) == opt["--orig-port-dst"]) &&
                   (!opt.count("--reply-src") || it->reply_src == opt["--reply-src"]) &&
                   (!opt.count("--reply-port-src") ||
                    absl::StrCat(it->reply_src_port) == opt["--reply-port-src"]);
      if (match) {
        it = table.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    r.exit_code = n == 0 ? 1 : 0;
    r.err = absl::StrCat("conntrack v1.4.7 (conntrack-tools): ", n, " flow entries have been deleted.\n");
    return r;
  }
};

constexpr char kClusterIP[] = "172.30.1.1";
constexpr char kExternalIP[] = "192.168.99.100";
constexpr char kLoadBalancerIP[] = "1.2.3.4";
constexpr char kServing[] = "10.240.0.4";
constexpr char kNotServing[] = "10.240.1.5";
constexpr char kRemoved[] = "10.240.2.6";
constexpr int kPort = 8000;        // service port and endpoint port
constexpr int kNodePort = 32000;
constexpr int kOtherPort = 3000;   // not a service port: never touched

// One service "test/cleanup" with a TCP, a UDP and an SCTP port (UDP and SCTP with a
// NodePort), ClusterIP, external IP and LB IP; endpoints: one serving, one not.
ProxyState TestState(bool with_endpoints = true) {
  auto services = std::make_shared<ServicePortMap>();
  auto endpoints = std::make_shared<EndpointsMap>();
  for (const char* proto : {"TCP", "UDP", "SCTP"}) {
    ServicePortName spn{"test", "cleanup", absl::StrCat("p-", proto), proto};
    auto info = std::make_shared<ServicePortInfo>();
    info->cluster_ip = kClusterIP;
    info->port = kPort;
    info->protocol = proto;
    info->external_ips = {kExternalIP};
    info->load_balancer_vips = {kLoadBalancerIP};
    if (std::string(proto) != "TCP") info->node_port = kNodePort;
    (*services)[spn] = info;
    if (!with_endpoints) continue;
    EndpointInfo serving, not_serving;
    serving.ip = kServing;
    serving.port = kPort;
    not_serving.ip = kNotServing;
    not_serving.port = kPort;
    not_serving.ready = false;
    not_serving.serving = false;
    (*endpoints)[spn] = std::make_shared<EndpointList>(EndpointList{serving, not_serving});
  }
  ProxyState s;
  s.version = 7;
  s.services = services;
  s.endpoints = endpoints;
  return s;
}

Flow MakeFlow(const std::string& proto, const std::string& orig_dst, int orig_port,
              const std::string& reply_src, int reply_port) {
  Flow f;
  f.protocol = proto;
  f.orig_src = "10.0.0.9";
  f.orig_src_port = 40000;
  f.orig_dst = orig_dst;
  f.orig_dst_port = orig_port;
  f.reply_src = reply_src;
  f.reply_src_port = reply_port;
  f.reply_dst = "10.0.0.9";
  f.reply_dst_port = 40000;
  return f;
}

TEST(CleanStaleEntries, UpstreamReconcilerCases) {
  FakeRunner runner;
  std::vector<Flow> expected_after;
  // 3 DNAT targets x 3 protocols x (3 frontends x 2 ports + NodePort).
  for (const char* target : {kServing, kNotServing, kRemoved}) {
    for (const char* proto : {"tcp", "udp", "sctp"}) {
      for (const char* frontend : {kClusterIP, kLoadBalancerIP, kExternalIP}) {
        for (int port : {kPort, kOtherPort}) {
          Flow f = MakeFlow(proto, frontend, port, target, kPort);
          runner.table.push_back(f);
          const bool stale = std::string(proto) == "udp" && port == kPort && target != kServing;
          if (!stale) expected_after.push_back(f);
        }
      }
      Flow np = MakeFlow(proto, "10.0.0.1", kNodePort, target, kPort);
      runner.table.push_back(np);
      if (!(std::string(proto) == "udp" && target != kServing)) expected_after.push_back(np);
    }
  }
  // Never NATed (sent before the service had endpoints): reply source = frontend.
  for (const char* frontend : {kClusterIP, kLoadBalancerIP, kExternalIP}) {
    for (int port : {kPort, kOtherPort}) {
      Flow f = MakeFlow("udp", frontend, port, frontend, port);
      runner.table.push_back(f);
      if (port != kPort) expected_after.push_back(f);
    }
  }
  const size_t before = runner.table.size();

  Conntrack ct(runner);
  absl::StatusOr<CleanupResult> r = CleanStaleEntries(ct, TestState());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(static_cast<size_t>(r->deleted), before - expected_after.size());
  std::sort(expected_after.begin(), expected_after.end());
  std::vector<Flow> after = runner.table;
  std::sort(after.begin(), after.end());
  EXPECT_EQ(after, expected_after);
  // Listing is per family and UDP only.
  ASSERT_FALSE(runner.calls.empty());
  EXPECT_EQ(runner.calls[0], (std::vector<std::string>{"-L", "-f", "ipv4", "-p", "udp"}));
}

TEST(CleanStaleEntries, ServiceWithoutEndpointsIsLeftAlone) {
  FakeRunner runner;
  runner.table = {MakeFlow("udp", kExternalIP, kPort, kServing, kPort),
                  MakeFlow("udp", kExternalIP, kPort, kRemoved, kPort),
                  MakeFlow("udp", kClusterIP, kPort, kClusterIP, kPort)};
  Conntrack ct(runner);
  absl::StatusOr<CleanupResult> r = CleanStaleEntries(ct, TestState(/*with_endpoints=*/false));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->filters, 0);
  EXPECT_EQ(runner.table.size(), 3u);
  EXPECT_EQ(runner.calls.size(), 1u);  // the list only
}

TEST(CleanStaleEntries, EndpointPortMovedIsStale) {
  FakeRunner runner;
  runner.table = {MakeFlow("udp", kClusterIP, kPort, kServing, 9999)};
  Conntrack ct(runner);
  ASSERT_TRUE(CleanStaleEntries(ct, TestState()).ok());
  EXPECT_TRUE(runner.table.empty());
}

TEST(StaleFilters, CommandLines) {
  std::vector<Flow> flows = {MakeFlow("udp", kClusterIP, kPort, kRemoved, kPort),
                             MakeFlow("udp", kClusterIP, kPort, kRemoved, kPort),  // duplicate
                             MakeFlow("udp", "10.0.0.1", kNodePort, kRemoved, kPort)};
  std::vector<Filter> filters = StaleFilters(TestState(), flows);
  ASSERT_EQ(filters.size(), 2u);
  EXPECT_EQ(absl::StrJoin(filters[0].Args(IPFamily::kIPv4), " "),
            "-f ipv4 -p udp --orig-port-dst 32000 --reply-src 10.240.2.6 --reply-port-src 8000");
  EXPECT_EQ(absl::StrJoin(filters[1].Args(IPFamily::kIPv4), " "),
            "-f ipv4 -p udp --orig-dst 172.30.1.1 --orig-port-dst 8000 --reply-src 10.240.2.6 "
            "--reply-port-src 8000");
}

TEST(CleanStaleEntries, DeleteFailuresAreReportedAfterTryingAll) {
  FakeRunner runner;
  runner.table = {MakeFlow("udp", kClusterIP, kPort, kRemoved, kPort),
                  MakeFlow("udp", kExternalIP, kPort, kRemoved, kPort)};
  runner.fail_deletes = 1;
  Conntrack ct(runner);
  absl::StatusOr<CleanupResult> r = CleanStaleEntries(ct, TestState());
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_EQ(runner.table.size(), 1u);  // the second delete still ran
  EXPECT_EQ(runner.calls.size(), 3u);
}

TEST(Conntrack, DeleteWithoutMatchIsZeroAndEmptyFilterRefused) {
  FakeRunner runner;
  Conntrack ct(runner);
  absl::StatusOr<int> n = ct.Delete(IPFamily::kIPv6, Filter{"udp", "fd00::1", 53, "", 0});
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(runner.calls.back(),
            (std::vector<std::string>{"-D", "-f", "ipv6", "-p", "udp", "--orig-dst", "fd00::1",
                                      "--orig-port-dst", "53"}));
  EXPECT_TRUE(absl::IsInvalidArgument(ct.Delete(IPFamily::kIPv4, Filter{}).status()));
}

TEST(ParseFlows, ConntrackOutput) {
  const std::string out =
      "udp      17 29 src=10.244.0.1 dst=10.96.0.10 sport=53753 dport=53 [UNREPLIED] "
      "src=10.244.0.3 dst=10.244.0.1 sport=5353 dport=53753 mark=0 use=2\n"
      "ipv6     10 udp      17 12 src=fd00:0:0::1 dst=fd00::a sport=1 dport=2 src=fd00::b "
      "dst=fd00::1 sport=3 dport=1 mark=0 use=1\n"
      "icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=1 src=10.0.0.2 dst=10.0.0.1 "
      "type=0 code=0 id=1 mark=0 use=1\n"
      "conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.\n";
  std::vector<Flow> flows = ParseFlows(out);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].protocol, "udp");
  EXPECT_EQ(flows[0].orig_dst, "10.96.0.10");
  EXPECT_EQ(flows[0].orig_dst_port, 53);
  EXPECT_EQ(flows[0].reply_src, "10.244.0.3");
  EXPECT_EQ(flows[0].reply_src_port, 5353);
  EXPECT_EQ(flows[1].orig_src, "fd00::1");  // canonical
  EXPECT_EQ(flows[1].reply_src, "fd00::b");
  EXPECT_EQ(flows[1].reply_src_port, 3);
}

TEST(NeedsCleanup, OnlyUdpChanges) {
  ProxyState prev = TestState();
  EXPECT_TRUE(NeedsCleanup(ProxyState{}, prev));  // first sync
  EXPECT_FALSE(NeedsCleanup(prev, prev));

  // A TCP port's endpoints change: no.
  ProxyState cur = prev;
  auto eps = std::make_shared<EndpointsMap>(*prev.endpoints);
  ServicePortName tcp{"test", "cleanup", "p-TCP", "TCP"};
  (*eps)[tcp] = std::make_shared<EndpointList>(EndpointList{eps->at(tcp)->front()});
  cur.endpoints = eps;
  EXPECT_FALSE(NeedsCleanup(prev, cur));

  // The UDP port loses an endpoint: yes.
  ServicePortName udp{"test", "cleanup", "p-UDP", "UDP"};
  (*eps)[udp] = std::make_shared<EndpointList>(EndpointList{eps->at(udp)->front()});
  EXPECT_TRUE(NeedsCleanup(prev, cur));

  // A UDP service port removed: yes (and in the other direction, added).
  ProxyState removed = prev;
  auto svcs = std::make_shared<ServicePortMap>(*prev.services);
  svcs->erase(udp);
  removed.services = svcs;
  EXPECT_TRUE(NeedsCleanup(prev, removed));
  EXPECT_TRUE(NeedsCleanup(removed, prev));
}

}  // namespace
}  // namespace kslice::proxy::conntrack
