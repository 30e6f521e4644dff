// Service CIDRs of either family and kube-apiserver's ipFamilyPolicy / ipFamilies /
// clusterIPs rules, on single-stack and dual-stack servers.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"
#include "api/codec/node.h"
#include "envtest/apiserver/allocator.h"
#include "envtest/apiserver/apiserver.h"
#include "envtest/apiserver/wiring.h"
#include "gtest/gtest.h"

namespace kslice::envtest::apiserver {
namespace {

using codec::Node;

TEST(ServiceCidrs, OneOrTwoOfDifferentFamilies) {
  auto one = ParseServiceCidrs("10.96.0.0/12");
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0]->family(), IpFamily::kIPv4);

  auto two = ParseServiceCidrs("fd00:10:96::/112,10.96.0.0/16");
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0]->family(), IpFamily::kIPv6);
  EXPECT_EQ((*two)[0]->cidr(), "fd00:10:96::/112");
  EXPECT_EQ((*two)[1]->family(), IpFamily::kIPv4);

  EXPECT_FALSE(ParseServiceCidrs("10.96.0.0/16,10.97.0.0/16").ok());
  EXPECT_FALSE(ParseServiceCidrs("10.96.0.0/16,fd00::/112,10.97.0.0/16").ok());
  EXPECT_FALSE(ParseServiceCidrs("fd00::/64").ok());  // too large, as upstream
  EXPECT_FALSE(ParseServiceCidrs("banana").ok());
  EXPECT_FALSE(ParseServiceCidrs("").ok());
}

TEST(ClusterIpAllocatorV6, AllocatesInsideTheRange) {
  auto a = ClusterIpAllocator::Create("fd00:10:96::5/120");  // host bits are masked
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->cidr(), "fd00:10:96::/120");
  EXPECT_EQ((*a)->FirstAddress(), "fd00:10:96::1");
  EXPECT_TRUE((*a)->Contains("fd00:10:96::ff"));
  EXPECT_FALSE((*a)->Contains("fd00:10:96::"));  // the network address
  EXPECT_FALSE((*a)->Contains("fd00:10:96::100"));
  EXPECT_FALSE((*a)->Contains("fd00:10:97::1"));
  EXPECT_FALSE((*a)->Contains("10.96.0.1"));
  ASSERT_TRUE((*a)->Allocate("fd00:10:96::a").ok());
  absl::Status taken = (*a)->Allocate("fd00:10:96::a");
  EXPECT_EQ(taken.message(), "provided IP is already allocated");
  absl::Status out = (*a)->Allocate("fd00:10:96::1:0");
  EXPECT_EQ(out.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(out.message(),
            "provided IP is not in the valid range. The range of valid IPs is fd00:10:96::/120");
  EXPECT_FALSE((*a)->Allocate("not-an-ip").ok());
  // Every remaining address once, then full.
  for (int i = 0; i < 254; ++i) {
    absl::StatusOr<std::string> ip = (*a)->AllocateNext();
    ASSERT_TRUE(ip.ok()) << i << ": " << ip.status();
    EXPECT_TRUE((*a)->Contains(*ip)) << *ip;
  }
  EXPECT_FALSE((*a)->AllocateNext().ok());
  (*a)->Release("fd00:10:96::a");
  absl::StatusOr<std::string> again = (*a)->AllocateNext();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "fd00:10:96::a");
}

class DualStackTest : public ::testing::Test {
 protected:
  void Start(const std::string& ranges) {
    server_.reset();
    ServerOptions o;
    o.service_cluster_ip_range = ranges;
    ASSERT_TRUE(InstallStandardHooks(&o).ok());
    auto s = APIServer::Create(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }

  Response Do(const std::string& method, const std::string& target, const std::string& body = "",
              const std::string& content_type = "application/json") {
    Request r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.headers = {{"Content-Type", content_type}, {"Accept", "application/json"}};
    return server_->Handle(r);
  }

  // Creates service `name` with extra spec fields; returns the response.
  Response Create(const std::string& name, const std::string& spec_fields, bool selector = true) {
    return Do("POST", "/api/v1/namespaces/default/services",
              absl::Substitute(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"$0"},)"
                               R"("spec":{$1$2"ports":[{"port":80}]}})",
                               name, spec_fields, selector ? R"("selector":{"app":"x"},)" : ""));
  }

  static Node Json(const Response& r) {
    absl::StatusOr<Node> n = codec::ParseJson(r.body);
    EXPECT_TRUE(n.ok()) << n.status() << " in " << r.body;
    return n.ok() ? *n : Node();
  }
  static std::vector<std::string> List(const Node& svc, const char* field) {
    std::vector<std::string> out;
    const Node* spec = svc.Find("spec");
    const Node* l = spec == nullptr ? nullptr : spec->Find(field);
    if (l == nullptr || !l->is_array()) return out;
    for (const Node& v : l->values) out.push_back(v.text);
    return out;
  }
  static std::string Policy(const Node& svc) {
    const Node* p = svc.Find("spec")->Find("ipFamilyPolicy");
    return p == nullptr ? "<missing>" : p->text;
  }
  static std::string Message(const Response& r) {
    const Node n = Json(r);
    const Node* m = n.Find("message");
    return m == nullptr ? "" : m->text;
  }

  std::unique_ptr<APIServer> server_;
};

using Strings = std::vector<std::string>;

TEST_F(DualStackTest, SingleStackServer) {
  Start("10.96.0.0/16");
  Node plain = Json(Create("plain", ""));
  EXPECT_EQ(Policy(plain), "SingleStack");
  EXPECT_EQ(List(plain, "ipFamilies"), Strings{"IPv4"});
  ASSERT_EQ(List(plain, "clusterIPs").size(), 1u);

  // PreferDualStack on a single-stack server: one family, one address.
  Node prefer = Json(Create("prefer", R"("ipFamilyPolicy":"PreferDualStack",)"));
  EXPECT_EQ(Policy(prefer), "PreferDualStack");
  EXPECT_EQ(List(prefer, "ipFamilies"), Strings{"IPv4"});
  EXPECT_EQ(List(prefer, "clusterIPs").size(), 1u);

  Response require = Create("require", R"("ipFamilyPolicy":"RequireDualStack",)");
  ASSERT_EQ(require.status, 422) << require.body;
  EXPECT_EQ(Message(require),
            "Service \"require\" is invalid: spec.ipFamilyPolicy: Invalid value: "
            "\"RequireDualStack\": this cluster is not configured for dual-stack services");
  Response v6 = Create("v6", R"("ipFamilies":["IPv6"],)");
  ASSERT_EQ(v6.status, 422);
  EXPECT_EQ(Message(v6),
            "Service \"v6\" is invalid: spec.ipFamilies[0]: Invalid value: \"IPv6\": not "
            "configured on this cluster");
  Response v6ip = Create("v6ip", R"("clusterIP":"fd00::10",)");
  ASSERT_EQ(v6ip.status, 422);
  EXPECT_TRUE(absl::StrContains(Message(v6ip), "not configured on this cluster")) << v6ip.body;

  // Headless without a selector: PreferDualStack, the one family there is.
  Node headless = Json(Create("headless", R"("clusterIP":"None",)", /*selector=*/false));
  EXPECT_EQ(Policy(headless), "PreferDualStack");
  EXPECT_EQ(List(headless, "ipFamilies"), Strings{"IPv4"});
  EXPECT_EQ(List(headless, "clusterIPs"), Strings{"None"});
}

TEST_F(DualStackTest, DualStackServer) {
  Start("10.96.0.0/16,fd00:10:96::/112");
  auto v4 = ClusterIpAllocator::Create("10.96.0.0/16");
  auto v6 = ClusterIpAllocator::Create("fd00:10:96::/112");
  ASSERT_TRUE(v4.ok() && v6.ok());

  // SingleStack by default, from the primary (first) range.
  Node plain = Json(Create("plain", ""));
  EXPECT_EQ(Policy(plain), "SingleStack");
  EXPECT_EQ(List(plain, "ipFamilies"), Strings{"IPv4"});
  ASSERT_EQ(List(plain, "clusterIPs").size(), 1u);
  EXPECT_TRUE((*v4)->Contains(List(plain, "clusterIPs")[0]));

  // PreferDualStack: both families, primary first.
  Node prefer = Json(Create("prefer", R"("ipFamilyPolicy":"PreferDualStack",)"));
  EXPECT_EQ(List(prefer, "ipFamilies"), (Strings{"IPv4", "IPv6"}));
  Strings ips = List(prefer, "clusterIPs");
  ASSERT_EQ(ips.size(), 2u);
  EXPECT_TRUE((*v4)->Contains(ips[0])) << ips[0];
  EXPECT_TRUE((*v6)->Contains(ips[1])) << ips[1];
  EXPECT_EQ(prefer.Find("spec")->Find("clusterIP")->text, ips[0]);

  // RequireDualStack asking for IPv6 first.
  Node v6first =
      Json(Create("v6first", R"("ipFamilyPolicy":"RequireDualStack","ipFamilies":["IPv6"],)"));
  EXPECT_EQ(List(v6first, "ipFamilies"), (Strings{"IPv6", "IPv4"}));
  ASSERT_EQ(List(v6first, "clusterIPs").size(), 2u);
  EXPECT_TRUE((*v6)->Contains(List(v6first, "clusterIPs")[0]));

  // SingleStack IPv6 by family.
  Node only6 = Json(Create("only6", R"("ipFamilies":["IPv6"],)"));
  EXPECT_EQ(Policy(only6), "SingleStack");
  ASSERT_EQ(List(only6, "clusterIPs").size(), 1u);
  EXPECT_TRUE((*v6)->Contains(List(only6, "clusterIPs")[0]));

  // Explicit addresses of both families: RequireDualStack inferred.
  Response both = Create("both", R"("clusterIPs":["10.96.0.50","fd00:10:96::50"],)");
  ASSERT_EQ(both.status, 201) << both.body;
  Node b = Json(both);
  EXPECT_EQ(Policy(b), "RequireDualStack");
  EXPECT_EQ(List(b, "ipFamilies"), (Strings{"IPv4", "IPv6"}));
  EXPECT_EQ(List(b, "clusterIPs"), (Strings{"10.96.0.50", "fd00:10:96::50"}));

  // Taken and out-of-range addresses are 422 with upstream's messages.
  Response taken = Create("taken", R"("clusterIPs":["10.96.0.51","fd00:10:96::50"],)");
  ASSERT_EQ(taken.status, 422);
  EXPECT_EQ(Message(taken),
            "Service \"taken\" is invalid: spec.clusterIPs: Invalid value: "
            "[]string{\"10.96.0.51\", \"fd00:10:96::50\"}: failed to allocate IP fd00:10:96::50: "
            "provided IP is already allocated");
  Response outside = Create("outside", R"("clusterIP":"fd00:10:97::1",)");
  ASSERT_EQ(outside.status, 422);
  EXPECT_TRUE(absl::StrContains(Message(outside),
                                "failed to allocate IP fd00:10:97::1: provided IP is not in the "
                                "valid range. The range of valid IPs is fd00:10:96::/112"))
      << outside.body;
  // The failed request leaked nothing: 10.96.0.51 is free.
  ASSERT_EQ(Create("free", R"("clusterIP":"10.96.0.51",)").status, 201);

  // Two addresses of one family; SingleStack with two families.
  Response same = Create("same", R"("clusterIPs":["10.96.0.60","10.96.0.61"],)");
  ASSERT_EQ(same.status, 422);
  EXPECT_TRUE(
      absl::StrContains(Message(same), "may specify no more than one IP for each IP family"))
      << same.body;
  Response single2 =
      Create("single2", R"("ipFamilyPolicy":"SingleStack","ipFamilies":["IPv4","IPv6"],)");
  ASSERT_EQ(single2.status, 422);
  EXPECT_TRUE(absl::StrContains(Message(single2),
                                "spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be "
                                "'RequireDualStack' or 'PreferDualStack' when multiple IP families "
                                "are specified"))
      << single2.body;

  // Headless: selectorless gets both families; with a selector, SingleStack.
  Node hl = Json(Create("hl", R"("clusterIP":"None",)", /*selector=*/false));
  EXPECT_EQ(Policy(hl), "PreferDualStack");
  EXPECT_EQ(List(hl, "ipFamilies"), (Strings{"IPv4", "IPv6"}));
  EXPECT_EQ(List(hl, "clusterIPs"), Strings{"None"});
  Node hs = Json(Create("hs", R"("clusterIP":"None",)"));
  EXPECT_EQ(Policy(hs), "SingleStack");
  EXPECT_EQ(List(hs, "ipFamilies"), Strings{"IPv4"});

  // Delete releases both addresses.
  ASSERT_EQ(Do("DELETE", "/api/v1/namespaces/default/services/both").status, 200);
  ASSERT_EQ(Create("both2", R"("clusterIPs":["10.96.0.50","fd00:10:96::50"],)").status, 201);
}

TEST_F(DualStackTest, UpgradeAndDowngrade) {
  Start("10.96.0.0/16,fd00:10:96::/112");
  Node svc = Json(Create("web", ""));
  const std::string first = List(svc, "clusterIPs")[0];
  // SingleStack -> PreferDualStack: the second family and address are added.
  Response up =
      Do("PATCH", "/api/v1/namespaces/default/services/web",
         R"({"spec":{"ipFamilyPolicy":"PreferDualStack"}})", "application/merge-patch+json");
  ASSERT_EQ(up.status, 200) << up.body;
  Node u = Json(up);
  EXPECT_EQ(List(u, "ipFamilies"), (Strings{"IPv4", "IPv6"}));
  Strings ips = List(u, "clusterIPs");
  ASSERT_EQ(ips.size(), 2u);
  EXPECT_EQ(ips[0], first);
  const std::string second = ips[1];

  // Back to SingleStack: the second address goes, and is free again.
  Response down =
      Do("PATCH", "/api/v1/namespaces/default/services/web",
         R"({"spec":{"ipFamilyPolicy":"SingleStack"}})", "application/merge-patch+json");
  ASSERT_EQ(down.status, 200) << down.body;
  Node d = Json(down);
  EXPECT_EQ(List(d, "ipFamilies"), Strings{"IPv4"});
  EXPECT_EQ(List(d, "clusterIPs"), Strings{first});
  Response reuse = Create("reuse", absl::StrCat(R"("clusterIPs":[")", second, R"("],)"));
  EXPECT_EQ(reuse.status, 201) << reuse.body;
}

TEST_F(DualStackTest, Ipv6PrimaryServer) {
  Start("fd00:10:96::/112,10.96.0.0/16");
  Response k = Do("GET", "/api/v1/namespaces/default/services/kubernetes");
  ASSERT_EQ(k.status, 200);
  Node kube = Json(k);
  EXPECT_EQ(List(kube, "clusterIPs"), Strings{"fd00:10:96::1"});
  EXPECT_EQ(List(kube, "ipFamilies"), Strings{"IPv6"});
  Node plain = Json(Create("plain", ""));
  EXPECT_EQ(List(plain, "ipFamilies"), Strings{"IPv6"});
  Node prefer = Json(Create("prefer", R"("ipFamilyPolicy":"PreferDualStack",)"));
  EXPECT_EQ(List(prefer, "ipFamilies"), (Strings{"IPv6", "IPv4"}));
}

TEST_F(DualStackTest, BadRangeFailsServerCreation) {
  ServerOptions o;
  o.service_cluster_ip_range = "10.96.0.0/16,10.97.0.0/16";
  EXPECT_FALSE(APIServer::Create(std::move(o)).ok());
}

}  // namespace
}  // namespace kslice::envtest::apiserver
