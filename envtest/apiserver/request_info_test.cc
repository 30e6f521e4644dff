#include "envtest/apiserver/request_info.h"

#include <set>
#include <string>

#include "envtest/apiserver/allocator.h"
#include "envtest/apiserver/negotiation.h"
#include "gtest/gtest.h"

namespace kslice::envtest::apiserver {
namespace {

RequestInfo Parse(const std::string& method, const std::string& target) {
  size_t q = target.find('?');
  absl::StatusOr<Query> query =
      Query::Parse(q == std::string::npos ? "" : target.substr(q + 1));
  EXPECT_TRUE(query.ok());
  absl::StatusOr<RequestInfo> info =
      ParseRequestInfo(method, target.substr(0, q), query.ok() ? *query : Query());
  EXPECT_TRUE(info.ok()) << info.status();
  return info.ok() ? *info : RequestInfo();
}

TEST(RequestInfoTest, ResourcePaths) {
  RequestInfo i = Parse("GET", "/api/v1/namespaces/default/pods/web/status");
  EXPECT_TRUE(i.resource_request);
  EXPECT_EQ(i.verb, "get");
  EXPECT_EQ(i.group, "");
  EXPECT_EQ(i.version, "v1");
  EXPECT_EQ(i.ns, "default");
  EXPECT_EQ(i.resource, "pods");
  EXPECT_EQ(i.name, "web");
  EXPECT_EQ(i.subresource, "status");

  i = Parse("GET", "/apis/discovery.k8s.io/v1/endpointslices");
  EXPECT_EQ(i.verb, "list");
  EXPECT_EQ(i.group, "discovery.k8s.io");
  EXPECT_EQ(i.ns, "");
  EXPECT_EQ(i.resource, "endpointslices");

  EXPECT_EQ(Parse("GET", "/api/v1/pods?watch=true").verb, "watch");
  EXPECT_EQ(Parse("GET", "/api/v1/pods?watch=1").verb, "watch");
  EXPECT_EQ(Parse("GET", "/api/v1/pods?watch=false").verb, "list");
  EXPECT_EQ(Parse("GET", "/api/v1/watch/namespaces/a/pods").verb, "watch");
  EXPECT_EQ(Parse("GET", "/api/v1/watch/namespaces/a/pods").ns, "a");
  EXPECT_EQ(Parse("POST", "/api/v1/namespaces/a/pods").verb, "create");
  EXPECT_EQ(Parse("PUT", "/api/v1/namespaces/a/pods/x").verb, "update");
  EXPECT_EQ(Parse("PATCH", "/api/v1/namespaces/a/pods/x").verb, "patch");
  EXPECT_EQ(Parse("DELETE", "/api/v1/namespaces/a/pods/x").verb, "delete");
  EXPECT_EQ(Parse("DELETE", "/api/v1/namespaces/a/pods").verb, "deletecollection");
}

TEST(RequestInfoTest, NamespaceObjectItself) {
  RequestInfo i = Parse("GET", "/api/v1/namespaces/default");
  EXPECT_EQ(i.resource, "namespaces");
  EXPECT_EQ(i.name, "default");
  EXPECT_EQ(i.ns, "");
  i = Parse("PUT", "/api/v1/namespaces/default/finalize");
  EXPECT_EQ(i.resource, "namespaces");
  EXPECT_EQ(i.name, "default");
  EXPECT_EQ(i.subresource, "finalize");
  i = Parse("GET", "/api/v1/namespaces");
  EXPECT_EQ(i.verb, "list");
  EXPECT_EQ(i.resource, "namespaces");
}

TEST(RequestInfoTest, NonResourceAndDecoding) {
  EXPECT_FALSE(Parse("GET", "/api").resource_request);
  EXPECT_FALSE(Parse("GET", "/api/v1").resource_request);
  EXPECT_FALSE(Parse("GET", "/apis/discovery.k8s.io/v1").resource_request);
  EXPECT_FALSE(Parse("GET", "/healthz").resource_request);
  EXPECT_EQ(Parse("GET", "/api/v1/namespaces/a/configmaps/x%2Ey").name, "x.y");
  absl::StatusOr<Query> q = Query::Parse("labelSelector=app%3Dweb%2Ctier+in+(a)&limit=5");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->Get("labelSelector"), "app=web,tier in (a)");
  EXPECT_EQ(q->Get("limit"), "5");
  EXPECT_FALSE(Query::Parse("a=%zz").ok());
  EXPECT_FALSE(ParseRequestInfo("GET", "/api/v1/namespaces/%", Query()).ok());
}

TEST(NegotiationTest, PicksFormatAndTransform) {
  absl::StatusOr<Negotiated> n = NegotiateResponse("", true, false);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->format, codec::Format::kJson);
  n = NegotiateResponse("application/vnd.kubernetes.protobuf, application/json", true, false);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->format, codec::Format::kProtobuf);
  n = NegotiateResponse("application/vnd.kubernetes.protobuf, application/json", true, true);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->content_type, "application/vnd.kubernetes.protobuf;stream=watch");
  n = NegotiateResponse(
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta."
      "k8s.io,application/json",
      true, false);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->transform, Transform::kTable);
  EXPECT_EQ(n->content_type, "application/json;as=Table;v=v1;g=meta.k8s.io");
  EXPECT_FALSE(NegotiateResponse("text/html", true, false).ok());
  EXPECT_EQ(*NegotiateRequest("application/json; charset=utf-8"), codec::Format::kJson);
  EXPECT_EQ(*NegotiateRequest("application/yaml"), codec::Format::kYaml);
  EXPECT_FALSE(NegotiateRequest("text/plain").ok());
}

TEST(AllocatorTest, ClusterIps) {
  auto a = ClusterIpAllocator::Create("10.96.0.0/28");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->FirstAddress(), "10.96.0.1");
  EXPECT_TRUE((*a)->Allocate("10.96.0.1").ok());
  EXPECT_EQ((*a)->Allocate("10.96.0.1").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*a)->Allocate("10.96.0.0").code(), absl::StatusCode::kOutOfRange);   // network
  EXPECT_EQ((*a)->Allocate("10.96.0.15").code(), absl::StatusCode::kOutOfRange);  // broadcast
  EXPECT_EQ((*a)->Allocate("10.97.0.1").code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ((*a)->Allocate("10.96.0.01").code(), absl::StatusCode::kInvalidArgument);
  // 14 usable addresses: 13 more, then full.
  std::set<std::string> seen = {"10.96.0.1"};
  for (int i = 0; i < 13; ++i) {
    absl::StatusOr<std::string> ip = (*a)->AllocateNext();
    ASSERT_TRUE(ip.ok()) << i;
    EXPECT_TRUE(seen.insert(*ip).second) << *ip;
  }
  EXPECT_FALSE((*a)->AllocateNext().ok());
  (*a)->Release("10.96.0.5");
  EXPECT_EQ(*(*a)->AllocateNext(), "10.96.0.5");
  EXPECT_FALSE(ClusterIpAllocator::Create("10.96.0.0/31").ok());
  EXPECT_FALSE(ClusterIpAllocator::Create("nonsense").ok());
}

TEST(AllocatorTest, NodePortsPreferTheUpperBand) {
  NodePortAllocator p(30000, 32767);
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<int> port = p.AllocateNext();
    ASSERT_TRUE(port.ok());
    EXPECT_GE(*port, 30000 + 172);  // static band: min(max(16, 2768/16), 256) = 173 ports
  }
  EXPECT_TRUE(p.Allocate(30080).ok());
  EXPECT_EQ(p.Allocate(30080).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.Allocate(29999).code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace kslice::envtest::apiserver
