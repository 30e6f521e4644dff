#include "envtest/storage/resource.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "api/apps/v1/apps.pb.h"
#include "api/coordination/v1/coordination.pb.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "envtest/storage/errors.h"
#include "envtest/storage/object.h"

namespace kslice::envtest::storage {
namespace {

namespace core = kslice::api::core::v1;

std::string Bool(bool b) { return b ? "true" : "false"; }

std::string PodField(const google::protobuf::Message& m, std::string_view field) {
  const auto& pod = static_cast<const core::Pod&>(m);
  if (field == "spec.nodeName") return pod.spec().nodename();
  if (field == "spec.restartPolicy") return pod.spec().restartpolicy();
  if (field == "spec.schedulerName") return pod.spec().schedulername();
  if (field == "spec.serviceAccountName") return pod.spec().serviceaccountname();
  if (field == "spec.hostNetwork") return Bool(pod.spec().hostnetwork());
  if (field == "status.phase") return pod.status().phase();
  if (field == "status.nominatedNodeName") return pod.status().nominatednodename();
  if (field == "status.podIP") {
    // Upstream reads status.podIPs[0]; its conversion from v1 fills podIPs from podIP,
    // so an object carrying only podIP still selects by it.
    if (pod.status().podips_size() > 0) return pod.status().podips(0).ip();
    return pod.status().podip();
  }
  return "";  // status.podIPs: accepted, never populated
}

std::string ServiceField(const google::protobuf::Message& m, std::string_view field) {
  const auto& svc = static_cast<const core::Service&>(m);
  if (field == "spec.clusterIP") return svc.spec().clusterip();
  if (field == "spec.type") return svc.spec().type();
  return "";
}

std::string NodeField(const google::protobuf::Message& m, std::string_view field) {
  const auto& node = static_cast<const core::Node&>(m);
  if (field == "spec.unschedulable") return Bool(node.spec().unschedulable());
  return "";
}

std::string NamespaceField(const google::protobuf::Message& m, std::string_view field) {
  const auto& ns = static_cast<const core::Namespace&>(m);
  if (field == "status.phase") return ns.status().phase();
  return "";
}

std::string EventField(const google::protobuf::Message& m, std::string_view field) {
  const auto& ev = static_cast<const core::Event&>(m);
  const core::ObjectReference& io = ev.involvedobject();
  if (field == "involvedObject.kind") return io.kind();
  if (field == "involvedObject.namespace") return io.namespace_();
  if (field == "involvedObject.name") return io.name();
  if (field == "involvedObject.uid") return io.uid();
  if (field == "involvedObject.apiVersion") return io.apiversion();
  if (field == "involvedObject.resourceVersion") return io.resourceversion();
  if (field == "involvedObject.fieldPath") return io.fieldpath();
  if (field == "reason") return ev.reason();
  if (field == "reportingComponent") return ev.reportingcomponent();
  if (field == "type") return ev.type();
  if (field == "source") {
    return ev.source().component().empty() ? ev.reportingcomponent() : ev.source().component();
  }
  return "";
}

std::string ReplicaSetField(const google::protobuf::Message& m, std::string_view field) {
  const auto& rs = static_cast<const kslice::api::apps::v1::ReplicaSet&>(m);
  if (field == "status.replicas") return absl::StrCat(rs.status().replicas());
  return "";
}

std::vector<std::string> MetaLabels(bool with_namespace) {
  if (with_namespace) return {"metadata.name", "metadata.namespace"};
  return {"metadata.name"};
}

std::vector<std::string> Concat(std::vector<std::string> a, std::vector<std::string> b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

ResourceRegistry* BuildBuiltin() {
  auto* r = new ResourceRegistry();
  auto add = [r](ResourceConfig c) {
    absl::Status s = r->Register(std::move(c));
    if (!s.ok()) {
      fprintf(stderr, "kslice storage: builtin resource registration failed: %s\n",
              s.ToString().c_str());
      abort();
    }
  };
  {
    ResourceConfig c;
    c.key = {"", "pods"};
    c.kind = "Pod";
    c.api_version = "v1";
    c.prototype = &core::Pod::default_instance();
    c.generation = GenerationPolicy::kSpec;
    c.storage_prefix = "/registry/pods";
    c.field_labels = Concat(MetaLabels(true),
                            {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                             "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                             "status.podIP", "status.podIPs", "status.nominatedNodeName"});
    c.field_label_aliases = {{"spec.host", "spec.nodeName"}};
    c.field_value = PodField;
    add(std::move(c));
  }
  {
    ResourceConfig c;
    c.key = {"", "services"};
    c.kind = "Service";
    c.api_version = "v1";
    c.prototype = &core::Service::default_instance();
    c.storage_prefix = "/registry/services/specs";
    c.field_labels = Concat(MetaLabels(true), {"spec.clusterIP", "spec.type"});
    c.field_value = ServiceField;
    add(std::move(c));
  }
  {
    ResourceConfig c;
    c.key = {"", "endpoints"};
    c.kind = "Endpoints";
    c.api_version = "v1";
    c.prototype = &core::Endpoints::default_instance();
    c.storage_prefix = "/registry/services/endpoints";
    c.field_labels = MetaLabels(true);
    add(std::move(c));
  }
  {
    ResourceConfig c;
    c.key = {"", "nodes"};
    c.kind = "Node";
    c.api_version = "v1";
    c.prototype = &core::Node::default_instance();
    c.namespaced = false;
    c.storage_prefix = "/registry/minions";
    c.field_labels = Concat(MetaLabels(false), {"spec.unschedulable"});
    c.field_value = NodeField;
    add(std::move(c));
  }
  {
    ResourceConfig c;
    c.key = {"", "namespaces"};
    c.kind = "Namespace";
    c.api_version = "v1";
    c.prototype = &core::Namespace::default_instance();
    c.namespaced = false;
    c.storage_prefix = "/registry/namespaces";
    c.field_labels = Concat(MetaLabels(false), {"status.phase"});
    c.field_value = NamespaceField;
    add(std::move(c));
  }
  {
    ResourceConfig c;
    c.key = {"", "events"};
    c.kind = "Event";
    c.api_version = "v1";
    c.prototype = &core::Event::default_instance();
    c.storage_prefix = "/registry/events";
    c.field_labels = Concat(
        MetaLabels(true),
        {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
         "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
         "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"});
    c.field_value = EventField;
    add(std::move(c));
  }
  {
    ResourceConfig c;
    c.key = {"", "configmaps"};
    c.kind = "ConfigMap";
    c.api_version = "v1";
    c.prototype = &core::ConfigMap::default_instance();
    c.storage_prefix = "/registry/configmaps";
    c.field_labels = MetaLabels(true);
    add(std::move(c));
  }
  {
    ResourceConfig c;
    c.key = {"coordination.k8s.io", "leases"};
    c.kind = "Lease";
    c.api_version = "coordination.k8s.io/v1";
    c.prototype = &kslice::api::coordination::v1::Lease::default_instance();
    c.storage_prefix = "/registry/leases";
    c.field_labels = MetaLabels(true);
    add(std::move(c));
  }
  {
    ResourceConfig c;
    c.key = {"discovery.k8s.io", "endpointslices"};
    c.kind = "EndpointSlice";
    c.api_version = "discovery.k8s.io/v1";
    c.prototype = &kslice::api::discovery::v1::EndpointSlice::default_instance();
    c.generation = GenerationPolicy::kAllButMetadata;
    c.storage_prefix = "/registry/endpointslices";
    c.field_labels = MetaLabels(true);
    add(std::move(c));
  }
  {
    ResourceConfig c;
    c.key = {"apps", "deployments"};
    c.kind = "Deployment";
    c.api_version = "apps/v1";
    c.prototype = &kslice::api::apps::v1::Deployment::default_instance();
    c.generation = GenerationPolicy::kSpecOrAnnotations;
    c.storage_prefix = "/registry/deployments";
    c.field_labels = MetaLabels(true);
    add(std::move(c));
  }
  {
    ResourceConfig c;
    c.key = {"apps", "replicasets"};
    c.kind = "ReplicaSet";
    c.api_version = "apps/v1";
    c.prototype = &kslice::api::apps::v1::ReplicaSet::default_instance();
    c.generation = GenerationPolicy::kSpec;
    c.storage_prefix = "/registry/replicasets";
    c.field_labels = Concat(MetaLabels(true), {"status.replicas"});
    c.field_value = ReplicaSetField;
    add(std::move(c));
  }
  {
    ResourceConfig c;
    c.key = {"apps", "daemonsets"};
    c.kind = "DaemonSet";
    c.api_version = "apps/v1";
    c.prototype = &kslice::api::apps::v1::DaemonSet::default_instance();
    c.generation = GenerationPolicy::kSpec;
    c.storage_prefix = "/registry/daemonsets";
    c.field_labels = MetaLabels(true);
    add(std::move(c));
  }
  return r;
}

}  // namespace

const ResourceRegistry& ResourceRegistry::Builtin() {
  static const ResourceRegistry* const registry = BuildBuiltin();
  return *registry;
}

absl::Status ResourceRegistry::Register(ResourceConfig config) {
  if (config.key.resource.empty()) return absl::InvalidArgumentError("resource name is empty");
  if (by_key_.contains(config.key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource ", config.key.String(), " is already registered"));
  }
  if (config.prototype == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource ", config.key.String(), " has no prototype"));
  }
  if (!HasObjectMeta(config.prototype->GetDescriptor())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resource ", config.key.String(), ": field 1 of ",
        config.prototype->GetDescriptor()->full_name(), " is not ObjectMeta"));
  }
  auto owned = std::make_unique<ResourceConfig>(std::move(config));
  by_key_.emplace(owned->key, owned.get());
  configs_.push_back(std::move(owned));
  return absl::OkStatus();
}

const ResourceConfig* ResourceRegistry::Find(const ResourceKey& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

std::vector<const ResourceConfig*> ResourceRegistry::All() const {
  std::vector<const ResourceConfig*> out;
  out.reserve(configs_.size());
  for (const auto& c : configs_) out.push_back(c.get());
  return out;
}

absl::StatusOr<kslice::fields::Selector> ConvertFieldSelector(
    const ResourceConfig& config, const kslice::fields::Selector& selector) {
  if (selector.Empty() || selector.MatchesNothing()) return selector;
  std::vector<kslice::fields::Requirement> out;
  out.reserve(selector.requirements().size());
  for (kslice::fields::Requirement r : selector.requirements()) {
    for (const auto& [alias, canonical] : config.field_label_aliases) {
      if (r.field == alias) {
        r.field = canonical;
        break;
      }
    }
    if (std::find(config.field_labels.begin(), config.field_labels.end(), r.field) ==
        config.field_labels.end()) {
      return BadRequestError(absl::StrCat("field label not supported: ", r.field));
    }
    out.push_back(std::move(r));
  }
  return kslice::fields::Selector::FromRequirements(std::move(out));
}

std::string FieldValue(const ResourceConfig& config, const google::protobuf::Message& object,
                       std::string_view field) {
  if (field == "metadata.name") return MetaOf(object).name();
  if (field == "metadata.namespace") return MetaOf(object).namespace_();
  if (!config.field_value) return "";
  return config.field_value(object, field);
}

bool MatchesFields(const ResourceConfig& config, const kslice::fields::Selector& selector,
                   const google::protobuf::Message& object) {
  if (selector.Empty()) return true;
  return selector.Matches(
      [&](std::string_view field) { return FieldValue(config, object, field); });
}

}  // namespace kslice::envtest::storage
