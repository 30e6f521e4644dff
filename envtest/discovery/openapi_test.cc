#include "envtest/discovery/openapi.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/codec/node.h"
#include "api/coordination/v1/coordination.pb.h"
#include "api/core/v1/core.pb.h"
#include "api/intstr/intstr.pb.h"
#include "api/meta/v1/meta.pb.h"
#include "api/resource/quantity.pb.h"
#include "api/runtime/runtime.pb.h"
#include "envtest/discovery/resource_info.h"
#include "envtest/storage/resource.h"
#include "gtest/gtest.h"

namespace kslice::envtest::discovery {
namespace {

using kslice::codec::Node;
namespace core = kslice::api::core::v1;
namespace meta = kslice::api::meta::v1;

Node J(const std::string& json) {
  absl::StatusOr<Node> n = kslice::codec::ParseJson(json);
  EXPECT_TRUE(n.ok()) << n.status() << "\n" << json;
  return n.ok() ? *n : Node();
}

std::string W(const Node& n) {
  absl::StatusOr<std::string> s = kslice::codec::WriteJson(n);
  return s.ok() ? *s : s.status().ToString();
}

#define EXPECT_JSON_EQ(actual, expected_json)                                       \
  do {                                                                              \
    const Node& a_ = (actual);                                                      \
    Node e_ = J(expected_json);                                                     \
    EXPECT_TRUE(a_.Equals(e_)) << "actual:   " << W(a_) << "\nexpected: " << W(e_); \
  } while (0)

const Node& Prop(const Node& schema, const std::string& name) {
  static const Node kMissing;
  const Node* props = schema.Find("properties");
  if (props == nullptr) return kMissing;
  const Node* p = props->Find(name);
  return p == nullptr ? kMissing : *p;
}

TEST(DefinitionNameTest, UpstreamNames) {
  EXPECT_EQ(DefinitionName(core::Pod::descriptor()), "io.k8s.api.core.v1.Pod");
  EXPECT_EQ(DefinitionName(meta::ObjectMeta::descriptor()),
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  EXPECT_EQ(DefinitionName(kslice::api::intstr::IntOrString::descriptor()),
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString");
  EXPECT_EQ(DefinitionName(kslice::api::resource::Quantity::descriptor()),
            "io.k8s.apimachinery.pkg.api.resource.Quantity");
  EXPECT_EQ(DefinitionName(kslice::api::runtime::RawExtension::descriptor()),
            "io.k8s.apimachinery.pkg.runtime.RawExtension");
  EXPECT_EQ(DefinitionName(kslice::api::coordination::v1::Lease::descriptor()),
            "io.k8s.api.coordination.v1.Lease");
}

TEST(ParseApiVersionTest, Forms) {
  EXPECT_EQ(*ParseApiVersion("v1"), (GroupVersion{"", "v1"}));
  EXPECT_EQ(*ParseApiVersion("apps/v1"), (GroupVersion{"apps", "v1"}));
  for (const char* bad : {"", "/v1", "apps/", "a/b/c"}) {
    EXPECT_FALSE(ParseApiVersion(bad).ok()) << bad;
  }
}

// Expected values below are upstream's v3 schemas (kube-apiserver api/v1 document) with
// descriptions and enums removed.
TEST(MessageSchemaTest, ScalarLikeTypes) {
  EXPECT_JSON_EQ(MessageSchema(meta::Time::descriptor()),
                 R"({"type":"string","format":"date-time"})");
  EXPECT_JSON_EQ(MessageSchema(meta::MicroTime::descriptor()),
                 R"({"type":"string","format":"date-time"})");
  EXPECT_JSON_EQ(MessageSchema(kslice::api::intstr::IntOrString::descriptor()),
                 R"({"format":"int-or-string","oneOf":[{"type":"integer"},{"type":"string"}]})");
  EXPECT_JSON_EQ(MessageSchema(kslice::api::resource::Quantity::descriptor()),
                 R"({"oneOf":[{"type":"string"},{"type":"number"}]})");
  EXPECT_JSON_EQ(MessageSchema(kslice::api::runtime::RawExtension::descriptor()),
                 R"({"type":"object"})");
  EXPECT_JSON_EQ(MessageSchema(meta::FieldsV1::descriptor()), R"({"type":"object"})");
  EXPECT_JSON_EQ(MessageSchema(meta::Patch::descriptor()), R"({"type":"object"})");
}

TEST(MessageSchemaTest, PodHasTypeMetaAndStructDefaults) {
  EXPECT_JSON_EQ(MessageSchema(core::Pod::descriptor()), R"({
    "type":"object",
    "properties":{
      "apiVersion":{"type":"string"},
      "kind":{"type":"string"},
      "metadata":{"default":{},"allOf":[{"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]},
      "spec":{"default":{},"allOf":[{"$ref":"#/components/schemas/io.k8s.api.core.v1.PodSpec"}]},
      "status":{"default":{},"allOf":[{"$ref":"#/components/schemas/io.k8s.api.core.v1.PodStatus"}]}}})");
}

TEST(MessageSchemaTest, ListRequiresItems) {
  EXPECT_JSON_EQ(MessageSchema(core::PodList::descriptor()), R"({
    "type":"object","required":["items"],
    "properties":{
      "apiVersion":{"type":"string"},
      "items":{"type":"array","items":{"default":{},"allOf":[{"$ref":"#/components/schemas/io.k8s.api.core.v1.Pod"}]}},
      "kind":{"type":"string"},
      "metadata":{"default":{},"allOf":[{"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"}]}}})");
}

TEST(MessageSchemaTest, ConfigMapMaps) {
  EXPECT_JSON_EQ(MessageSchema(core::ConfigMap::descriptor()), R"({
    "type":"object",
    "properties":{
      "apiVersion":{"type":"string"},
      "binaryData":{"type":"object","additionalProperties":{"type":"string","format":"byte"}},
      "data":{"type":"object","additionalProperties":{"type":"string","default":""}},
      "immutable":{"type":"boolean"},
      "kind":{"type":"string"},
      "metadata":{"default":{},"allOf":[{"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]}}})");
}

TEST(MessageSchemaTest, ScalarDefaultsAndRequired) {
  Node port = MessageSchema(core::ContainerPort::descriptor());
  EXPECT_JSON_EQ(Prop(port, "containerPort"), R"({"type":"integer","format":"int32","default":0})");
  EXPECT_JSON_EQ(Prop(port, "hostPort"), R"({"type":"integer","format":"int32"})");
  EXPECT_JSON_EQ(*port.Find("required"), R"(["containerPort"])");

  Node get = MessageSchema(core::HTTPGetAction::descriptor());
  EXPECT_JSON_EQ(
      Prop(get, "port"),
      R"({"default":{},"allOf":[{"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"}]})");
  EXPECT_JSON_EQ(*get.Find("required"), R"(["port"])");

  Node spec = MessageSchema(core::PodSpec::descriptor());
  EXPECT_JSON_EQ(Prop(spec, "activeDeadlineSeconds"), R"({"type":"integer","format":"int64"})");
  EXPECT_JSON_EQ(Prop(spec, "affinity"),
                 R"({"allOf":[{"$ref":"#/components/schemas/io.k8s.api.core.v1.Affinity"}]})");
  EXPECT_JSON_EQ(
      Prop(spec, "overhead"),
      R"({"type":"object","additionalProperties":{"default":{},"allOf":[{"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"}]}})");
  EXPECT_JSON_EQ(*spec.Find("required"), R"(["containers"])");

  Node watch = MessageSchema(meta::WatchEvent::descriptor());
  EXPECT_JSON_EQ(watch, R"({"type":"object","required":["type","object"],"properties":{
      "object":{"default":{},"allOf":[{"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.runtime.RawExtension"}]},
      "type":{"type":"string","default":""}}})");
}

TEST(MessageSchemaTest, InlineFieldsAreFlattened) {
  Node volume = MessageSchema(core::Volume::descriptor());
  EXPECT_JSON_EQ(Prop(volume, "name"), R"({"type":"string","default":""})");
  EXPECT_JSON_EQ(
      Prop(volume, "configMap"),
      R"({"allOf":[{"$ref":"#/components/schemas/io.k8s.api.core.v1.ConfigMapVolumeSource"}]})");
  EXPECT_JSON_EQ(
      Prop(volume, "emptyDir"),
      R"({"allOf":[{"$ref":"#/components/schemas/io.k8s.api.core.v1.EmptyDirVolumeSource"}]})");
  EXPECT_TRUE(Prop(volume, "volumeSource").is_null());
  EXPECT_JSON_EQ(*volume.Find("required"), R"(["name"])");

  Node probe = MessageSchema(core::Probe::descriptor());
  EXPECT_JSON_EQ(Prop(probe, "httpGet"),
                 R"({"allOf":[{"$ref":"#/components/schemas/io.k8s.api.core.v1.HTTPGetAction"}]})");
  EXPECT_JSON_EQ(Prop(probe, "failureThreshold"), R"({"type":"integer","format":"int32"})");
}

// The merge annotations come from api/**/*.proto (filled in from the Go struct tags and
// +listType markers of k8s.io/api at HEAD, which adds listType=map to containers,
// volumes and ownerReferences since the 1.27 document the rest was compared with).
TEST(MessageSchemaTest, MergeAnnotations) {
  Node spec = MessageSchema(core::PodSpec::descriptor());
  EXPECT_JSON_EQ(Prop(spec, "containers"), R"({"type":"array",
      "items":{"default":{},"allOf":[{"$ref":"#/components/schemas/io.k8s.api.core.v1.Container"}]},
      "x-kubernetes-list-map-keys":["name"],"x-kubernetes-list-type":"map",
      "x-kubernetes-patch-merge-key":"name","x-kubernetes-patch-strategy":"merge"})");
  EXPECT_JSON_EQ(Prop(spec, "volumes"), R"({"type":"array",
      "items":{"default":{},"allOf":[{"$ref":"#/components/schemas/io.k8s.api.core.v1.Volume"}]},
      "x-kubernetes-list-map-keys":["name"],"x-kubernetes-list-type":"map",
      "x-kubernetes-patch-merge-key":"name","x-kubernetes-patch-strategy":"merge,retainKeys"})");
  EXPECT_JSON_EQ(Prop(spec, "nodeSelector"), R"({"type":"object",
      "additionalProperties":{"type":"string","default":""},"x-kubernetes-map-type":"atomic"})");

  Node om = MessageSchema(meta::ObjectMeta::descriptor());
  EXPECT_JSON_EQ(Prop(om, "ownerReferences"), R"({"type":"array",
      "items":{"default":{},"allOf":[{"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference"}]},
      "x-kubernetes-list-map-keys":["uid"],"x-kubernetes-list-type":"map",
      "x-kubernetes-patch-merge-key":"uid","x-kubernetes-patch-strategy":"merge"})");
  EXPECT_EQ(Prop(om, "finalizers").Find("x-kubernetes-patch-strategy")->text, "merge");

  Node selector = MessageSchema(meta::LabelSelector::descriptor());
  ASSERT_NE(selector.Find("x-kubernetes-map-type"), nullptr);
  EXPECT_EQ(selector.Find("x-kubernetes-map-type")->text, "atomic");

  Node container = MessageSchema(core::Container::descriptor());
  const Node& ports = Prop(container, "ports");
  ASSERT_NE(ports.Find("x-kubernetes-list-map-keys"), nullptr) << W(ports);
  EXPECT_JSON_EQ(*ports.Find("x-kubernetes-list-map-keys"), R"(["containerPort","protocol"])");
  EXPECT_EQ(ports.Find("x-kubernetes-list-type")->text, "map");
  EXPECT_EQ(ports.Find("x-kubernetes-patch-merge-key")->text, "containerPort");
}

// --- the group version document, read the way kubectl reads it -------------------

class CoreDocumentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const storage::ResourceRegistry& registry = storage::ResourceRegistry::Builtin();
    GroupVersionDocumentOptions o;
    o.group_version = {"", "v1"};
    for (const storage::ResourceConfig* c : registry.All()) {
      if (c->api_version == "v1") o.resources.push_back({c, InfoFor(*c)});
    }
    o.all_group_versions = {{"", "v1"}, {"coordination.k8s.io", "v1"}};
    o.title_version = "v1.34.0-kslice";
    absl::StatusOr<Node> d = GroupVersionDocument(o);
    ASSERT_TRUE(d.ok()) << d.status();
    doc_ = *std::move(d);
    const Node* schemas =
        doc_.Find("components") ? doc_.Find("components")->Find("schemas") : nullptr;
    ASSERT_NE(schemas, nullptr);
    schemas_ = schemas;
  }

  const Node* Schema(const std::string& name) const { return schemas_->Find(name); }

  // strategicpatch.PatchMetaFromOpenAPIV3's resolve(): first allOf, then $ref.
  const Node* Resolve(const Node* s) const {
    if (s == nullptr) return nullptr;
    if (const Node* all_of = s->Find("allOf"); all_of != nullptr && !all_of->values.empty()) {
      s = &all_of->values[0];
    }
    if (const Node* ref = s->Find("$ref")) {
      const std::string prefix = "#/components/schemas/";
      if (!absl::StartsWith(ref->text, prefix)) return nullptr;
      return Schema(ref->text.substr(prefix.size()));
    }
    return s;
  }

  Node doc_;
  const Node* schemas_ = nullptr;
};

TEST_F(CoreDocumentTest, Header) {
  EXPECT_EQ(doc_.Find("openapi")->text, "3.0.0");
  EXPECT_EQ(doc_.Find("info")->Find("version")->text, "v1.34.0-kslice");
}

TEST_F(CoreDocumentTest, KindsCarryGroupVersionKind) {
  ASSERT_NE(Schema("io.k8s.api.core.v1.Pod"), nullptr);
  EXPECT_JSON_EQ(*Schema("io.k8s.api.core.v1.Pod")->Find("x-kubernetes-group-version-kind"),
                 R"([{"group":"","kind":"Pod","version":"v1"}])");
  EXPECT_JSON_EQ(*Schema("io.k8s.api.core.v1.PodList")->Find("x-kubernetes-group-version-kind"),
                 R"([{"group":"","kind":"PodList","version":"v1"}])");
  EXPECT_JSON_EQ(*Schema("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")
                      ->Find("x-kubernetes-group-version-kind"),
                 R"([{"group":"","kind":"DeleteOptions","version":"v1"},
          {"group":"coordination.k8s.io","kind":"DeleteOptions","version":"v1"}])");
  EXPECT_EQ(Schema("io.k8s.api.core.v1.PodSpec")->Find("x-kubernetes-group-version-kind"), nullptr);
}

// Every $ref names a schema of the same document.
void CollectRefs(const Node& n, std::vector<std::string>& out) {
  if (const Node* r = n.is_object() ? n.Find("$ref") : nullptr) out.push_back(r->text);
  for (const Node& c : n.values) CollectRefs(c, out);
}

TEST_F(CoreDocumentTest, RefsResolve) {
  std::vector<std::string> refs;
  CollectRefs(doc_, refs);
  EXPECT_GT(refs.size(), 100u);
  for (const std::string& ref : refs) {
    ASSERT_TRUE(absl::StartsWith(ref, "#/components/schemas/")) << ref;
    EXPECT_NE(Schema(ref.substr(strlen("#/components/schemas/"))), nullptr) << ref;
  }
}

// kubectl apply's gvkSupportsPatchOpenAPIV3 and cli-runtime's supportsQueryParamV3:
// a PATCH operation whose x-kubernetes-group-version-kind is the kind, accepting
// strategic merge patch, with a fieldValidation query parameter.
TEST_F(CoreDocumentTest, PatchOperationAsKubectlReadsIt) {
  const Node* paths = doc_.Find("paths");
  ASSERT_NE(paths, nullptr);
  const Node* item = paths->Find("/api/v1/namespaces/{namespace}/pods/{name}");
  ASSERT_NE(item, nullptr);
  const Node* patch = item->Find("patch");
  ASSERT_NE(patch, nullptr);
  EXPECT_JSON_EQ(*patch->Find("x-kubernetes-group-version-kind"),
                 R"({"group":"","version":"v1","kind":"Pod"})");
  EXPECT_EQ(patch->Find("operationId")->text, "patchCoreV1NamespacedPod");
  const Node* content = patch->Find("requestBody")->Find("content");
  EXPECT_NE(content->Find("application/strategic-merge-patch+json"), nullptr);
  EXPECT_NE(content->Find("application/apply-patch+yaml"), nullptr);
  bool field_validation = false;
  for (const Node& p : patch->Find("parameters")->values) {
    if (p.Find("name")->text == "fieldValidation" && p.Find("in")->text == "query") {
      field_validation = true;
    }
  }
  EXPECT_TRUE(field_validation);

  // Cluster-scoped and subresource paths.
  EXPECT_NE(paths->Find("/api/v1/nodes/{name}"), nullptr);
  EXPECT_NE(paths->Find("/api/v1/namespaces/{namespace}/pods/{name}/status"), nullptr);
  EXPECT_NE(paths->Find("/api/v1/namespaces/{namespace}/pods/{name}/binding"), nullptr);
  EXPECT_NE(paths->Find("/api/v1/pods"), nullptr);
  EXPECT_EQ(paths->Find("/api/v1/namespaces/{namespace}/pods/{name}/eviction"), nullptr);
  EXPECT_EQ(paths->Find("/api/v1/namespaces/{namespace}/pods/{name}/status")
                ->Find("patch")
                ->Find("operationId")
                ->text,
            "patchCoreV1NamespacedPodStatus");
  // Namespaces have no deletecollection.
  EXPECT_EQ(paths->Find("/api/v1/namespaces")->Find("delete"), nullptr);
}

// Strategic merge patch metadata looked up as PatchMetaFromOpenAPIV3 does, from Pod down
// to spec.containers[].ports.
TEST_F(CoreDocumentTest, StrategicMergeMetadataLookup) {
  const Node* pod = Schema("io.k8s.api.core.v1.Pod");
  ASSERT_NE(pod, nullptr);
  const Node* spec = Resolve(&Prop(*pod, "spec"));
  ASSERT_NE(spec, nullptr);
  const Node& containers = Prop(*spec, "containers");
  ASSERT_NE(containers.Find("x-kubernetes-patch-merge-key"), nullptr) << W(containers);
  EXPECT_EQ(containers.Find("x-kubernetes-patch-merge-key")->text, "name");
  const Node* container = Resolve(containers.Find("items"));
  ASSERT_NE(container, nullptr);
  const Node& ports = Prop(*container, "ports");
  ASSERT_NE(ports.Find("x-kubernetes-patch-merge-key"), nullptr) << W(ports);
  EXPECT_EQ(ports.Find("x-kubernetes-patch-merge-key")->text, "containerPort");
  const Node* metadata = Resolve(&Prop(*pod, "metadata"));
  ASSERT_NE(metadata, nullptr);
  EXPECT_FALSE(Prop(*metadata, "labels").is_null());
}

TEST(GroupVersionDocumentTest, LeaseDocument) {
  const storage::ResourceRegistry& registry = storage::ResourceRegistry::Builtin();
  const storage::ResourceConfig* leases = registry.Find({"coordination.k8s.io", "leases"});
  ASSERT_NE(leases, nullptr);
  GroupVersionDocumentOptions o;
  o.group_version = {"coordination.k8s.io", "v1"};
  o.resources = {{leases, InfoFor(*leases)}};
  o.all_group_versions = {{"", "v1"}, {"coordination.k8s.io", "v1"}};
  absl::StatusOr<Node> doc = GroupVersionDocument(o);
  ASSERT_TRUE(doc.ok()) << doc.status();
  const Node* patch =
      doc->Find("paths")
          ->Find("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}")
          ->Find("patch");
  ASSERT_NE(patch, nullptr);
  EXPECT_EQ(patch->Find("operationId")->text, "patchCoordinationV1NamespacedLease");
  EXPECT_EQ(patch->Find("tags")->values[0].text, "coordination_v1");
  const Node* lease =
      doc->Find("components")->Find("schemas")->Find("io.k8s.api.coordination.v1.Lease");
  ASSERT_NE(lease, nullptr);
  EXPECT_JSON_EQ(*lease->Find("x-kubernetes-group-version-kind"),
                 R"([{"group":"coordination.k8s.io","kind":"Lease","version":"v1"}])");
  EXPECT_NE(doc->Find("components")
                ->Find("schemas")
                ->Find("io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"),
            nullptr);
}

TEST(GroupVersionDocumentTest, MissingPrototypeIsAnError) {
  storage::ResourceConfig c;
  c.key = {"", "things"};
  c.kind = "Thing";
  c.api_version = "v1";
  GroupVersionDocumentOptions o;
  o.group_version = {"", "v1"};
  o.resources = {{&c, InfoFor(c)}};
  EXPECT_EQ(GroupVersionDocument(o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kslice::envtest::discovery
