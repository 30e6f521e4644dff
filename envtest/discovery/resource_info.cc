#include "envtest/discovery/resource_info.h"

#include <openssl/sha.h>

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace kslice::envtest::discovery {
namespace {

using storage::ResourceKey;

const std::vector<std::string> kStatusVerbs = {"get", "patch", "update"};

SubresourceInfo Status() { return SubresourceInfo{"status", "", "", "", kStatusVerbs}; }
// deployments/scale, replicasets/scale (and statefulsets' upstream): autoscaling/v1 Scale.
SubresourceInfo Scale() {
  return SubresourceInfo{"scale", "autoscaling", "v1", "Scale", kStatusVerbs};
}

ResourceInfo Info(std::string singular, std::vector<std::string> short_names,
                  std::vector<std::string> categories, std::vector<std::string> verbs,
                  std::vector<SubresourceInfo> subresources) {
  return ResourceInfo{std::move(singular), std::move(short_names), std::move(categories),
                      std::move(verbs), std::move(subresources)};
}

// Values from kube-apiserver's /api/v1 and /apis/<group>/<version> documents (1.31/1.32).
// Subresources are limited to those the embedded server serves: status, pods/binding,
// namespaces/finalize, deployments/scale and replicasets/scale (no eviction — there are
// no PodDisruptionBudgets, and `kubectl drain` falls back to DELETE when eviction is not
// advertised — and no exec, log, proxy, attach, portforward; StatefulSets are not served).
const absl::flat_hash_map<ResourceKey, ResourceInfo>& Table() {
  static const auto* table = [] {
    auto* t = new absl::flat_hash_map<ResourceKey, ResourceInfo>;
    const std::vector<std::string>& full = FullVerbs();
    (*t)[{"", "pods"}] =
        Info("pod", {"po"}, {"all"}, full,
             {SubresourceInfo{"binding", "", "", "Binding", {"create"}}, Status()});
    (*t)[{"", "services"}] = Info("service", {"svc"}, {"all"}, full, {Status()});
    (*t)[{"", "endpoints"}] = Info("endpoints", {"ep"}, {}, full, {});
    (*t)[{"", "nodes"}] = Info("node", {"no"}, {}, full, {Status()});
    // Namespaces have no deletecollection.
    (*t)[{"", "namespaces"}] = Info(
        "namespace", {"ns"}, {}, {"create", "delete", "get", "list", "patch", "update", "watch"},
        {SubresourceInfo{"finalize", "", "", "", {"update"}}, Status()});
    (*t)[{"", "events"}] = Info("event", {"ev"}, {}, full, {});
    (*t)[{"", "configmaps"}] = Info("configmap", {"cm"}, {}, full, {});
    (*t)[{"", "secrets"}] = Info("secret", {}, {}, full, {});
    (*t)[{"", "serviceaccounts"}] = Info("serviceaccount", {"sa"}, {}, full, {});
    (*t)[{"coordination.k8s.io", "leases"}] = Info("lease", {}, {}, full, {});
    (*t)[{"discovery.k8s.io", "endpointslices"}] = Info("endpointslice", {}, {}, full, {});
    (*t)[{"events.k8s.io", "events"}] = Info("event", {"ev"}, {}, full, {});
    (*t)[{"apps", "deployments"}] =
        Info("deployment", {"deploy"}, {"all"}, full, {Scale(), Status()});
    (*t)[{"apps", "daemonsets"}] = Info("daemonset", {"ds"}, {"all"}, full, {Status()});
    (*t)[{"apps", "replicasets"}] =
        Info("replicaset", {"rs"}, {"all"}, full, {Scale(), Status()});
    (*t)[{"apps", "statefulsets"}] = Info("statefulset", {"sts"}, {"all"}, full, {Status()});
    return t;
  }();
  return *table;
}

}  // namespace

const std::vector<std::string>& FullVerbs() {
  static const auto* verbs = new std::vector<std::string>{
      "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
  return *verbs;
}

const ResourceInfo* BuiltinInfo(const storage::ResourceKey& key) {
  auto it = Table().find(key);
  return it == Table().end() ? nullptr : &it->second;
}

ResourceInfo InfoFor(const storage::ResourceConfig& config) {
  if (const ResourceInfo* builtin = BuiltinInfo(config.key)) return *builtin;
  ResourceInfo info;
  info.singular = absl::AsciiStrToLower(config.kind);
  info.verbs = FullVerbs();
  return info;
}

std::string StorageVersionHash(const std::string& group, const std::string& version,
                               const std::string& kind) {
  const std::string text = absl::StrCat(group, "/", version, "/", kind);
  unsigned char digest[SHA256_DIGEST_LENGTH] = {};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(digest), 8));
}

}  // namespace kslice::envtest::discovery
