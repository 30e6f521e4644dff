// What the store knows about each resource it serves: kind, scope, how generation is
// tracked, and which fields field selectors may use.
//
//   const ResourceRegistry& r = ResourceRegistry::Builtin();
//   const ResourceConfig* pods = r.Find({"", "pods"});
//   absl::StatusOr<fields::Selector> s =
//       ConvertFieldSelector(*pods, *fields::Parse("spec.host=node-1"));  // spec.nodeName=node-1
//   std::string phase = FieldValue(*pods, pod, "status.phase");
//
// Built-in resources and their selectable fields (upstream's field label conversion
// functions and ToSelectableFields in pkg/registry/core/*/strategy.go):
//
//   resource                         scope      generation         field labels
//   pods                             namespace  spec (1.33+)       metadata.name, metadata.namespace,
//                                                                  spec.nodeName (alias spec.host),
//                                                                  spec.restartPolicy, spec.schedulerName,
//                                                                  spec.serviceAccountName,
//                                                                  spec.hostNetwork ("true"/"false"),
//                                                                  status.phase, status.podIP (first pod IP),
//                                                                  status.podIPs (never populated),
//                                                                  status.nominatedNodeName
//   services                         namespace  -                  metadata.*, spec.clusterIP, spec.type
//   endpoints                        namespace  -                  metadata.name, metadata.namespace
//   nodes                            cluster    -                  metadata.name, spec.unschedulable
//   namespaces                       cluster    -                  metadata.name, status.phase
//   events                           namespace  -                  metadata.*, involvedObject.{kind,
//                                                                  namespace,name,uid,apiVersion,
//                                                                  resourceVersion,fieldPath}, reason,
//                                                                  reportingComponent, source
//                                                                  (source.component, else
//                                                                  reportingComponent), type
//   configmaps                       namespace  -                  metadata.name, metadata.namespace
//   leases.coordination.k8s.io       namespace  -                  metadata.name, metadata.namespace
//   endpointslices.discovery.k8s.io  namespace  all but metadata   metadata.name, metadata.namespace
//   deployments.apps                 namespace  spec, annotations  metadata.name, metadata.namespace
//   replicasets.apps                 namespace  spec               metadata.*, status.replicas
//   daemonsets.apps                  namespace  spec               metadata.name, metadata.namespace
#ifndef KSLICE_ENVTEST_STORAGE_RESOURCE_H_
#define KSLICE_ENVTEST_STORAGE_RESOURCE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/fields/selector.h"
#include "envtest/storage/resource_key.h"
#include "google/protobuf/message.h"

namespace kslice::envtest::storage {

enum class GenerationPolicy {
  kNone,            // metadata.generation stays unset (ConfigMap, Service, Node, Lease, ...)
  kSpec,            // 1 on create, +1 whenever `spec` changes (Pods since 1.33, ReplicaSets,
                    // DaemonSets)
  kSpecOrAnnotations,  // as kSpec, and also when metadata.annotations change (Deployments:
                       // the strategy compares annotations too, for rollback requests)
  kAllButMetadata,  // 1 on create, +1 whenever anything but metadata changes (EndpointSlice)
};

// Reads a selectable field other than metadata.name / metadata.namespace from an
// object of the resource's type; "" when the field is unset.
using FieldFunc =
    std::function<std::string(const google::protobuf::Message& object, std::string_view field)>;

struct ResourceConfig {
  ResourceKey key;
  std::string kind;         // "Pod"
  std::string api_version;  // "v1", "discovery.k8s.io/v1"
  // The object type (not owned; a generated default instance, which lives forever).
  // Field 1 must be ObjectMeta.
  const google::protobuf::Message* prototype = nullptr;
  bool namespaced = true;
  GenerationPolicy generation = GenerationPolicy::kNone;
  // PUT without metadata.resourceVersion overwrites the latest version (true for all
  // built-in kinds); when false it is a 422, as for custom resources.
  bool allow_unconditional_update = true;
  // The etcd key prefix upstream uses ("/registry/pods"); it appears in some messages.
  std::string storage_prefix;
  // Field selector labels the resource accepts, metadata.* included.
  std::vector<std::string> field_labels;
  // Legacy labels accepted and rewritten: {"spec.host", "spec.nodeName"}.
  std::vector<std::pair<std::string, std::string>> field_label_aliases;
  // Values of labels other than metadata.name / metadata.namespace; may be empty when
  // the resource has none.
  FieldFunc field_value;
};

// A set of resources. Built once, then read from any thread.
class ResourceRegistry {
 public:
  ResourceRegistry() = default;
  ResourceRegistry(const ResourceRegistry&) = delete;
  ResourceRegistry& operator=(const ResourceRegistry&) = delete;

  // pods, services, endpoints, nodes, namespaces, events, configmaps,
  // leases.coordination.k8s.io, endpointslices.discovery.k8s.io, deployments.apps,
  // replicasets.apps, daemonsets.apps (table above).
  static const ResourceRegistry& Builtin();

  // Adds a resource. Fails (InvalidArgument) when the key is empty or taken, the
  // prototype is missing, or its field 1 is not ObjectMeta.
  absl::Status Register(ResourceConfig config);

  // nullptr when the resource is not registered.
  const ResourceConfig* Find(const ResourceKey& key) const;
  // In registration order.
  std::vector<const ResourceConfig*> All() const;

 private:
  std::vector<std::unique_ptr<ResourceConfig>> configs_;
  absl::flat_hash_map<ResourceKey, const ResourceConfig*> by_key_;
};

// Checks every term of `selector` against the resource's field labels and rewrites
// aliases, as the API server's field label conversion does. An unknown label is a
// 400 BadRequest "field label not supported: <label>".
absl::StatusOr<kslice::fields::Selector> ConvertFieldSelector(
    const ResourceConfig& config, const kslice::fields::Selector& selector);

// The value of a field label for `object` ("" when unset or not a label of the resource).
std::string FieldValue(const ResourceConfig& config, const google::protobuf::Message& object,
                       std::string_view field);

// True when `object` matches `selector` (already converted by ConvertFieldSelector).
bool MatchesFields(const ResourceConfig& config, const kslice::fields::Selector& selector,
                   const google::protobuf::Message& object);

}  // namespace kslice::envtest::storage

#endif  // KSLICE_ENVTEST_STORAGE_RESOURCE_H_
