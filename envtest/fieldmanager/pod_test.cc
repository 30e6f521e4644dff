// Server-side apply on the real core/v1 Pod schema (api/core/v1/core.proto and its
// merge annotations).
#include <string>

#include "absl/time/time.h"
#include "api/codec/node.h"
#include "api/core/v1/core.pb.h"
#include "envtest/fieldmanager/fieldmanager.h"
#include "envtest/storage/errors.h"
#include "gtest/gtest.h"

namespace kslice::envtest::fieldmanager {
namespace {

using codec::Node;

Node Yaml(const std::string& text) {
  absl::StatusOr<Node> n = codec::ParseYaml(text);
  EXPECT_TRUE(n.ok()) << n.status();
  return n.ok() ? *n : Node();
}

std::string FieldsV1(const Node& obj, size_t entry) {
  const Node* mf = obj.Find("metadata")->Find("managedFields");
  if (mf == nullptr || mf->values.size() <= entry) return "<none>";
  absl::StatusOr<std::string> s = codec::WriteJson(*mf->values[entry].Find("fieldsV1"));
  return s.ok() ? *s : "<unwritable>";
}

Options Opts(const std::string& manager, bool force = false) {
  Options o;
  o.manager = manager;
  o.force = force;
  o.now = absl::FromUnixSeconds(1700000000);
  return o;
}

constexpr char kPod[] = R"(
apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: {app: p}
spec:
  containers:
  - name: c
    image: busybox
    ports: [{containerPort: 8080, protocol: UDP}]
    env: [{name: A, value: x}]
    resources: {limits: {cpu: 100m}}
)";

TEST(PodApply, FieldsOfAContainer) {
  absl::StatusOr<Node> obj = Apply(nullptr, Yaml(kPod), api::core::v1::Pod::descriptor(),
                                   Opts("kubectl"));
  ASSERT_TRUE(obj.ok()) << obj.status();
  EXPECT_EQ(FieldsV1(*obj, 0),
            R"({"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{)"
            R"("k:{\"name\":\"c\"}":{".":{},"f:env":{"k:{\"name\":\"A\"}":{".":{},"f:name":{},)"
            R"("f:value":{}}},"f:image":{},"f:name":{},"f:ports":{)"
            R"("k:{\"containerPort\":8080,\"protocol\":\"UDP\"}":{".":{},"f:containerPort":{},)"
            R"("f:protocol":{}}},"f:resources":{"f:limits":{"f:cpu":{}}}}}}})");
}

TEST(PodApply, SecondManagerAddsAContainerAndConflictsOnImage) {
  const google::protobuf::Descriptor* pod = api::core::v1::Pod::descriptor();
  absl::StatusOr<Node> obj = Apply(nullptr, Yaml(kPod), pod, Opts("kubectl"));
  ASSERT_TRUE(obj.ok()) << obj.status();
  absl::StatusOr<Node> more = Apply(&*obj, Yaml(R"(
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: side, image: envoy}
)"),
                                    pod, Opts("mesh"));
  ASSERT_TRUE(more.ok()) << more.status();
  const Node* containers = more->Find("spec")->Find("containers");
  ASSERT_EQ(containers->values.size(), 2u);
  EXPECT_EQ(containers->values[1].Find("name")->text, "side");

  absl::StatusOr<Node> clash = Apply(&*more, Yaml(R"(
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: c, image: alpine}
)"),
                                     pod, Opts("mesh"));
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().message(),
            R"(Apply failed with 1 conflict: conflict with "kubectl": .spec.containers[name="c"].image)");
}

TEST(PodApply, StatusIsNotOwnedThroughTheMainResource) {
  absl::StatusOr<Node> obj = Apply(nullptr, Yaml(R"(
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: busybox}]
status: {phase: Running}
)"),
                                   api::core::v1::Pod::descriptor(), Opts("kubectl"));
  ASSERT_TRUE(obj.ok()) << obj.status();
  EXPECT_EQ(FieldsV1(*obj, 0).find("f:status"), std::string::npos);
}

}  // namespace
}  // namespace kslice::envtest::fieldmanager
