// ResourceKey names a stored resource the way the API server does: an API group and
// a plural resource name ({"", "pods"}, {"discovery.k8s.io", "endpointslices"}).
#ifndef KSLICE_ENVTEST_STORAGE_RESOURCE_KEY_H_
#define KSLICE_ENVTEST_STORAGE_RESOURCE_KEY_H_

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kslice::envtest::storage {

struct ResourceKey {
  std::string group;     // "" for the core group
  std::string resource;  // plural, lower case: "pods"

  // schema.GroupResource's String(): "pods" for the core group, "leases.coordination.k8s.io"
  // otherwise. This is how resources are named in error messages.
  std::string String() const {
    return group.empty() ? resource : absl::StrCat(resource, ".", group);
  }

  friend bool operator==(const ResourceKey&, const ResourceKey&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const ResourceKey& k) {
    return H::combine(std::move(h), k.group, k.resource);
  }
};

}  // namespace kslice::envtest::storage

#endif  // KSLICE_ENVTEST_STORAGE_RESOURCE_KEY_H_
