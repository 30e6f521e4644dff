// Helpers for the storage tests.
#ifndef KSLICE_ENVTEST_STORAGE_TEST_UTIL_H_
#define KSLICE_ENVTEST_STORAGE_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "envtest/storage/errors.h"
#include "envtest/storage/event.h"
#include "envtest/storage/object.h"
#include "envtest/storage/resource_key.h"

namespace kslice::envtest::storage::testing {

inline const ResourceKey kPods{"", "pods"};
inline const ResourceKey kConfigMaps{"", "configmaps"};
inline const ResourceKey kNodes{"", "nodes"};
inline const ResourceKey kServices{"", "services"};
inline const ResourceKey kEndpointSlices{"discovery.k8s.io", "endpointslices"};
inline const ResourceKey kLeases{"coordination.k8s.io", "leases"};

inline kslice::api::core::v1::Pod MakePod(
    const std::string& ns, const std::string& name,
    std::vector<std::pair<std::string, std::string>> labels = {}) {
  kslice::api::core::v1::Pod pod;
  pod.mutable_metadata()->set_namespace_(ns);
  pod.mutable_metadata()->set_name(name);
  for (auto& [k, v] : labels) (*pod.mutable_metadata()->mutable_labels())[k] = v;
  auto* c = pod.mutable_spec()->add_containers();
  c->set_name("app");
  c->set_image("nginx");
  return pod;
}

inline kslice::api::core::v1::ConfigMap MakeConfigMap(const std::string& ns,
                                                      const std::string& name,
                                                      const std::string& value = "v") {
  kslice::api::core::v1::ConfigMap cm;
  cm.mutable_metadata()->set_namespace_(ns);
  cm.mutable_metadata()->set_name(name);
  (*cm.mutable_data())["k"] = value;
  return cm;
}

inline const kslice::api::core::v1::Pod& AsPod(const Object& o) {
  return static_cast<const kslice::api::core::v1::Pod&>(*o);
}

inline std::string NameOf(const Object& o) { return MetaOf(*o).name(); }
inline std::string RvOf(const Object& o) { return MetaOf(*o).resourceversion(); }

// "ADDED web-0@5" — compact event descriptions for expectations.
inline std::string Describe(const WatchEvent& e) {
  if (e.type == EventType::kError) {
    return absl::StrCat("ERROR ", static_cast<const MetaStatus&>(*e.object).message());
  }
  if (e.type == EventType::kBookmark) return absl::StrCat("BOOKMARK @", e.resource_version);
  return absl::StrCat(EventTypeName(e.type), " ", MetaOf(*e.object).name(), "@",
                      e.resource_version);
}

}  // namespace kslice::envtest::storage::testing

#endif  // KSLICE_ENVTEST_STORAGE_TEST_UTIL_H_
