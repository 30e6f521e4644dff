#include "cmd/internal/objectfile/objectfile.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kslice::cmd::objectfile {
namespace {

TEST(ReadObjectsTest, MultiDocumentYaml) {
  absl::StatusOr<ObjectSet> in = ReadObjects(R"(# leading comment
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}
---
# only a comment
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.1.0.1]}]
--- # trailing comment on the marker
apiVersion: v1
kind: Node
metadata: {name: n1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
)");
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_EQ(in->services.size(), 1u);
  EXPECT_EQ(in->services[0]->metadata().name(), "web");
  // Defaulted as the API server would: the port's protocol.
  EXPECT_EQ(in->services[0]->spec().ports(0).protocol(), "TCP");
  ASSERT_EQ(in->slices.size(), 1u);
  EXPECT_EQ(in->slices[0]->endpoints(0).addresses(0), "10.1.0.1");
  ASSERT_EQ(in->nodes.size(), 1u);
  EXPECT_EQ(in->ignored, 1);
}

TEST(ReadObjectsTest, JsonStreamAndTypedLists) {
  absl::StatusOr<ObjectSet> in = ReadObjects(R"(
{"apiVersion": "v1", "kind": "PodList", "items": [
  {"metadata": {"name": "p1", "namespace": "ns"}},
  {"metadata": {"name": "p2", "namespace": "ns"}}]}
{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n\"}"}},
  {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}]}
)");
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_EQ(in->pods.size(), 2u);
  EXPECT_EQ(in->pods[1]->metadata().name(), "p2");
  ASSERT_EQ(in->nodes.size(), 1u);
  EXPECT_EQ(in->nodes[0]->metadata().name(), "n\"}");
  EXPECT_EQ(in->ignored, 1);
}

TEST(ReadObjectsTest, ErrorsNameTheDocumentAndItem) {
  absl::StatusOr<ObjectSet> in = ReadObjects("apiVersion: v1\nkind: Node\n---\nkind: [\n");
  ASSERT_FALSE(in.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(in.status()));
  EXPECT_TRUE(absl::StrContains(in.status().message(), "document 2")) << in.status();

  in = ReadObjects(R"({"apiVersion": "v1", "kind": "List", "items": [
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ok"}},
    {"apiVersion": "v1", "kind": "Service", "spec": {"ports": "not a list"}}]})");
  ASSERT_FALSE(in.ok());
  EXPECT_TRUE(absl::StrContains(in.status().message(), "document 1, item 2 (Service)")) << in.status();

  EXPECT_FALSE(ReadObjects(R"({"kind": "Node")").ok());  // unterminated JSON
}

TEST(ReadObjectsTest, EmptyInput) {
  absl::StatusOr<ObjectSet> in = ReadObjects("");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_TRUE(in->services.empty());
  EXPECT_EQ(in->ignored, 0);
}

TEST(ReadInputTest, MissingFile) {
  absl::StatusOr<std::string> data = ReadInput("/nonexistent/kslice/objectfile");
  ASSERT_FALSE(data.ok());
  EXPECT_TRUE(absl::StrContains(data.status().message(), "/nonexistent/kslice/objectfile"));
}

}  // namespace
}  // namespace kslice::cmd::objectfile
