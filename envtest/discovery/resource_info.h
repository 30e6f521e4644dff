// Discovery facts about a served resource that the storage layer does not need:
// singular name, short names, categories, verbs and subresources.
//
//   const storage::ResourceConfig* pods = registry.Find({"", "pods"});
//   ResourceInfo info = InfoFor(*pods);  // singular "pod", short name "po", ...
//
// Built-in resources use the values kube-apiserver 1.32 publishes (from its discovery
// documents). Any other resource gets defaults: singular = lower-case kind, the full
// verb set (create, delete, deletecollection, get, list, patch, update, watch), no
// short names, categories or subresources. A resource added later (apps/v1
// Deployment) therefore shows up in discovery without touching this table; give it
// short names through Documents::Options::resource_info.
#ifndef KSLICE_ENVTEST_DISCOVERY_RESOURCE_INFO_H_
#define KSLICE_ENVTEST_DISCOVERY_RESOURCE_INFO_H_

#include <string>
#include <vector>

#include "envtest/storage/resource.h"

namespace kslice::envtest::discovery {

struct SubresourceInfo {
  std::string name;  // "status", "binding", "eviction", "finalize"
  // The kind the subresource takes and returns; empty means the parent's group,
  // version and kind (status, finalize). pods/eviction is {"policy", "v1", "Eviction"}.
  std::string group;
  std::string version;
  std::string kind;
  std::vector<std::string> verbs;  // sorted, as upstream lists them
};

struct ResourceInfo {
  std::string singular;                  // "pod"
  std::vector<std::string> short_names;  // {"po"}
  std::vector<std::string> categories;   // {"all"}
  std::vector<std::string> verbs;        // sorted
  std::vector<SubresourceInfo> subresources;
};

// The verbs of an ordinary stored resource, sorted.
const std::vector<std::string>& FullVerbs();

// The facts for a built-in resource, or nullptr when `key` is not one of them.
// Built-ins: pods, services, endpoints, nodes, namespaces, events, configmaps,
// leases.coordination.k8s.io, endpointslices.discovery.k8s.io, events.events.k8s.io,
// and the apps/v1 workloads (deployments, daemonsets, replicasets, statefulsets).
const ResourceInfo* BuiltinInfo(const storage::ResourceKey& key);

// BuiltinInfo(config.key) when known, else the defaults described above.
ResourceInfo InfoFor(const storage::ResourceConfig& config);

// storageVersionHash as kube-apiserver computes it: the standard base64 of the first
// 8 bytes of SHA-256("<group>/<version>/<kind>") ("/v1/Pod" -> "xPOwRZ+Yhw8=").
std::string StorageVersionHash(const std::string& group, const std::string& version,
                               const std::string& kind);

}  // namespace kslice::envtest::discovery

#endif  // KSLICE_ENVTEST_DISCOVERY_RESOURCE_INFO_H_
