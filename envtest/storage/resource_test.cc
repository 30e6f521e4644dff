#include "envtest/storage/resource.h"

#include <string>
#include <vector>

#include "api/core/v1/core.pb.h"
#include "api/meta/v1/meta.pb.h"
#include "envtest/storage/errors.h"
#include "gtest/gtest.h"

namespace kslice::envtest::storage {
namespace {

namespace core = kslice::api::core::v1;

TEST(ResourceRegistryTest, BuiltinResources) {
  const ResourceRegistry& r = ResourceRegistry::Builtin();
  struct Want {
    ResourceKey key;
    std::string kind;
    bool namespaced;
    GenerationPolicy generation;
  };
  const std::vector<Want> want = {
      {{"", "pods"}, "Pod", true, GenerationPolicy::kSpec},
      {{"", "services"}, "Service", true, GenerationPolicy::kNone},
      {{"", "endpoints"}, "Endpoints", true, GenerationPolicy::kNone},
      {{"", "nodes"}, "Node", false, GenerationPolicy::kNone},
      {{"", "namespaces"}, "Namespace", false, GenerationPolicy::kNone},
      {{"", "events"}, "Event", true, GenerationPolicy::kNone},
      {{"", "configmaps"}, "ConfigMap", true, GenerationPolicy::kNone},
      {{"coordination.k8s.io", "leases"}, "Lease", true, GenerationPolicy::kNone},
      {{"discovery.k8s.io", "endpointslices"}, "EndpointSlice", true,
       GenerationPolicy::kAllButMetadata},
      {{"apps", "deployments"}, "Deployment", true, GenerationPolicy::kSpecOrAnnotations},
      {{"apps", "replicasets"}, "ReplicaSet", true, GenerationPolicy::kSpec},
      {{"apps", "daemonsets"}, "DaemonSet", true, GenerationPolicy::kSpec},
  };
  ASSERT_EQ(r.All().size(), want.size());
  for (const Want& w : want) {
    const ResourceConfig* c = r.Find(w.key);
    ASSERT_NE(c, nullptr) << w.key.String();
    EXPECT_EQ(c->kind, w.kind);
    EXPECT_EQ(c->namespaced, w.namespaced) << w.key.String();
    EXPECT_EQ(c->generation, w.generation) << w.key.String();
    EXPECT_EQ(c->prototype->GetDescriptor()->name(), w.kind);
  }
  EXPECT_EQ(r.Find({"", "secrets"}), nullptr);
  EXPECT_EQ(r.Find({"apps", "pods"}), nullptr);
}

TEST(ResourceKeyTest, String) {
  EXPECT_EQ((ResourceKey{"", "pods"}).String(), "pods");
  EXPECT_EQ((ResourceKey{"discovery.k8s.io", "endpointslices"}).String(),
            "endpointslices.discovery.k8s.io");
}

TEST(ResourceRegistryTest, RegisterRejectsBadConfigs) {
  ResourceRegistry r;
  ResourceConfig ok;
  ok.key = {"example.com", "widgets"};
  ok.kind = "ConfigMap";
  ok.prototype = &core::ConfigMap::default_instance();
  ASSERT_TRUE(r.Register(ok).ok());
  EXPECT_FALSE(r.Register(ok).ok()) << "duplicate";

  ResourceConfig no_proto = ok;
  no_proto.key.resource = "a";
  no_proto.prototype = nullptr;
  EXPECT_FALSE(r.Register(no_proto).ok());

  ResourceConfig no_meta = ok;
  no_meta.key.resource = "b";
  no_meta.prototype = &core::PodSpec::default_instance();  // field 1 is not ObjectMeta
  EXPECT_FALSE(r.Register(no_meta).ok());

  ResourceConfig empty = ok;
  empty.key.resource = "";
  EXPECT_FALSE(r.Register(empty).ok());
}

// ---- field selectors: which labels each resource accepts ----

struct LabelCase {
  ResourceKey resource;
  std::string selector;
  std::string want;  // converted selector, or "error: <message>"
};

class ConvertFieldSelectorTest : public ::testing::TestWithParam<LabelCase> {};

TEST_P(ConvertFieldSelectorTest, Converts) {
  const LabelCase& c = GetParam();
  const ResourceConfig* config = ResourceRegistry::Builtin().Find(c.resource);
  ASSERT_NE(config, nullptr);
  absl::StatusOr<fields::Selector> parsed = fields::Parse(c.selector);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<fields::Selector> got = ConvertFieldSelector(*config, *parsed);
  if (c.want.rfind("error: ", 0) == 0) {
    ASSERT_FALSE(got.ok()) << c.selector;
    EXPECT_EQ(got.status().message(), c.want.substr(7));
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(got.status()), "BadRequest");
  } else {
    ASSERT_TRUE(got.ok()) << c.selector << ": " << got.status();
    EXPECT_EQ(got->String(), c.want);
  }
}

const ResourceKey kPods{"", "pods"};
const ResourceKey kNodes{"", "nodes"};
const ResourceKey kNamespaces{"", "namespaces"};
const ResourceKey kEvents{"", "events"};
const ResourceKey kServices{"", "services"};
const ResourceKey kSlices{"discovery.k8s.io", "endpointslices"};
const ResourceKey kConfigMaps{"", "configmaps"};
const ResourceKey kLeases{"coordination.k8s.io", "leases"};

INSTANTIATE_TEST_SUITE_P(
    Upstream, ConvertFieldSelectorTest,
    ::testing::Values(
        LabelCase{kPods, "", ""},
        LabelCase{kPods, "metadata.name=a,metadata.namespace=b", "metadata.name=a,metadata.namespace=b"},
        LabelCase{kPods, "spec.nodeName=n1", "spec.nodeName=n1"},
        LabelCase{kPods, "spec.host=n1", "spec.nodeName=n1"},
        LabelCase{kPods, "spec.restartPolicy=Always,spec.schedulerName=s", "spec.restartPolicy=Always,spec.schedulerName=s"},
        LabelCase{kPods, "spec.serviceAccountName=sa,spec.hostNetwork=true", "spec.hostNetwork=true,spec.serviceAccountName=sa"},
        LabelCase{kPods, "status.phase!=Running,status.podIP=1.2.3.4", "status.phase!=Running,status.podIP=1.2.3.4"},
        LabelCase{kPods, "status.nominatedNodeName=x,status.podIPs=", "status.nominatedNodeName=x,status.podIPs="},
        LabelCase{kPods, "spec.containers=x", "error: field label not supported: spec.containers"},
        LabelCase{kPods, "metadata.uid=x", "error: field label not supported: metadata.uid"},
        LabelCase{kNodes, "metadata.name=n,spec.unschedulable=true", "metadata.name=n,spec.unschedulable=true"},
        LabelCase{kNodes, "metadata.namespace=x", "error: field label not supported: metadata.namespace"},
        LabelCase{kNamespaces, "status.phase=Active", "status.phase=Active"},
        LabelCase{kEvents, "involvedObject.kind=Pod,involvedObject.name=web", "involvedObject.kind=Pod,involvedObject.name=web"},
        LabelCase{kEvents, "involvedObject.uid=u,involvedObject.apiVersion=v1", "involvedObject.apiVersion=v1,involvedObject.uid=u"},
        LabelCase{kEvents, "involvedObject.resourceVersion=1,involvedObject.fieldPath=f,involvedObject.namespace=n", "involvedObject.fieldPath=f,involvedObject.namespace=n,involvedObject.resourceVersion=1"},
        LabelCase{kEvents, "reason=Started,type=Normal,source=kubelet,reportingComponent=k", "reason=Started,reportingComponent=k,source=kubelet,type=Normal"},
        LabelCase{kEvents, "message=x", "error: field label not supported: message"},
        LabelCase{kServices, "spec.clusterIP!=None,spec.type=ClusterIP", "spec.clusterIP!=None,spec.type=ClusterIP"},
        LabelCase{kServices, "spec.selector=x", "error: field label not supported: spec.selector"},
        LabelCase{kSlices, "metadata.name=a", "metadata.name=a"},
        LabelCase{kSlices, "addressType=IPv4", "error: field label not supported: addressType"},
        LabelCase{kConfigMaps, "metadata.namespace=kube-system", "metadata.namespace=kube-system"},
        LabelCase{kLeases, "spec.holderIdentity=x", "error: field label not supported: spec.holderIdentity"}));

// ---- field values ----

struct ValueCase {
  std::string field;
  std::string want;
};

TEST(FieldValueTest, Pod) {
  core::Pod pod;
  pod.mutable_metadata()->set_name("web-0");
  pod.mutable_metadata()->set_namespace_("shop");
  auto* spec = pod.mutable_spec();
  spec->set_nodename("node-1");
  spec->set_restartpolicy("Always");
  spec->set_schedulername("default-scheduler");
  spec->set_serviceaccountname("sa");
  spec->set_hostnetwork(true);
  auto* st = pod.mutable_status();
  st->set_phase("Running");
  st->set_podip("10.0.0.9");
  st->add_podips()->set_ip("10.0.0.1");
  st->add_podips()->set_ip("fd00::1");
  st->set_nominatednodename("node-2");
  const ResourceConfig& c = *ResourceRegistry::Builtin().Find(kPods);
  for (const ValueCase& v : std::vector<ValueCase>{
           {"metadata.name", "web-0"},
           {"metadata.namespace", "shop"},
           {"spec.nodeName", "node-1"},
           {"spec.restartPolicy", "Always"},
           {"spec.schedulerName", "default-scheduler"},
           {"spec.serviceAccountName", "sa"},
           {"spec.hostNetwork", "true"},
           {"status.phase", "Running"},
           {"status.podIP", "10.0.0.1"},  // podIPs[0] wins, as upstream
           {"status.podIPs", ""},
           {"status.nominatedNodeName", "node-2"},
           {"spec.unknown", ""},
       }) {
    EXPECT_EQ(FieldValue(c, pod, v.field), v.want) << v.field;
  }
  pod.mutable_status()->clear_podips();
  EXPECT_EQ(FieldValue(c, pod, "status.podIP"), "10.0.0.9");
  pod.mutable_spec()->set_hostnetwork(false);
  EXPECT_EQ(FieldValue(c, pod, "spec.hostNetwork"), "false");
}

TEST(FieldValueTest, EventNodeServiceNamespace) {
  core::Event ev;
  ev.mutable_metadata()->set_name("e1");
  ev.mutable_involvedobject()->set_kind("Pod");
  ev.mutable_involvedobject()->set_name("web-0");
  ev.mutable_involvedobject()->set_namespace_("shop");
  ev.mutable_involvedobject()->set_uid("u1");
  ev.mutable_involvedobject()->set_apiversion("v1");
  ev.mutable_involvedobject()->set_resourceversion("42");
  ev.mutable_involvedobject()->set_fieldpath("spec.containers{app}");
  ev.set_reason("Started");
  ev.set_type("Normal");
  ev.set_reportingcomponent("kubelet-rc");
  const ResourceConfig& events = *ResourceRegistry::Builtin().Find(kEvents);
  for (const ValueCase& v : std::vector<ValueCase>{
           {"involvedObject.kind", "Pod"},
           {"involvedObject.name", "web-0"},
           {"involvedObject.namespace", "shop"},
           {"involvedObject.uid", "u1"},
           {"involvedObject.apiVersion", "v1"},
           {"involvedObject.resourceVersion", "42"},
           {"involvedObject.fieldPath", "spec.containers{app}"},
           {"reason", "Started"},
           {"type", "Normal"},
           {"reportingComponent", "kubelet-rc"},
           {"source", "kubelet-rc"},  // falls back to reportingComponent
       }) {
    EXPECT_EQ(FieldValue(events, ev, v.field), v.want) << v.field;
  }
  ev.mutable_source()->set_component("kubelet");
  EXPECT_EQ(FieldValue(events, ev, "source"), "kubelet");

  core::Node node;
  node.mutable_metadata()->set_name("n1");
  const ResourceConfig& nodes = *ResourceRegistry::Builtin().Find(kNodes);
  EXPECT_EQ(FieldValue(nodes, node, "spec.unschedulable"), "false");
  node.mutable_spec()->set_unschedulable(true);
  EXPECT_EQ(FieldValue(nodes, node, "spec.unschedulable"), "true");
  EXPECT_EQ(FieldValue(nodes, node, "metadata.name"), "n1");

  core::Service svc;
  svc.mutable_spec()->set_clusterip("None");
  svc.mutable_spec()->set_type("ClusterIP");
  const ResourceConfig& services = *ResourceRegistry::Builtin().Find(kServices);
  EXPECT_EQ(FieldValue(services, svc, "spec.clusterIP"), "None");
  EXPECT_EQ(FieldValue(services, svc, "spec.type"), "ClusterIP");

  core::Namespace ns;
  ns.mutable_status()->set_phase("Terminating");
  const ResourceConfig& namespaces = *ResourceRegistry::Builtin().Find(kNamespaces);
  EXPECT_EQ(FieldValue(namespaces, ns, "status.phase"), "Terminating");
}

TEST(MatchesFieldsTest, AbsentFieldReadsEmpty) {
  const ResourceConfig& c = *ResourceRegistry::Builtin().Find(kPods);
  core::Pod pod;
  pod.mutable_metadata()->set_name("p");
  auto sel = [&](const char* s) { return *ConvertFieldSelector(c, *fields::Parse(s)); };
  EXPECT_TRUE(MatchesFields(c, sel("spec.nodeName="), pod));
  EXPECT_FALSE(MatchesFields(c, sel("spec.nodeName!="), pod));
  EXPECT_TRUE(MatchesFields(c, sel("metadata.name=p,spec.nodeName!=x"), pod));
  EXPECT_FALSE(MatchesFields(c, fields::Selector::Nothing(), pod));
  EXPECT_TRUE(MatchesFields(c, fields::Selector::Everything(), pod));
}

}  // namespace
}  // namespace kslice::envtest::storage
