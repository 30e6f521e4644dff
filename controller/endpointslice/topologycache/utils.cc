// The free helpers of topology_cache.h (upstream topologycache/utils.go and the
// reconciler's hintsEnabled).
#include "absl/strings/str_cat.h"
#include "controller/endpointslice/topologycache/topology_cache.h"

namespace kslice::endpointslice::topologycache {

bool HintsEnabled(const google::protobuf::Map<std::string, std::string>& annotations) {
  auto it = annotations.find(kAnnotationTopologyAwareHints);
  if (it == annotations.end()) {
    it = annotations.find(kAnnotationTopologyMode);
    if (it == annotations.end()) return false;
  }
  return it->second == "Auto" || it->second == "auto";
}

bool EndpointReady(const api::discovery::v1::Endpoint& endpoint) {
  return endpoint.has_conditions() && endpoint.conditions().has_ready() &&
         endpoint.conditions().ready();
}

void RemoveHintsFromSlices(SliceInfo& si) {
  for (auto* slices : {&si.to_create, &si.to_update}) {
    for (EndpointSlice& slice : *slices) {
      for (auto& endpoint : *slice.mutable_endpoints()) endpoint.clear_hints();
    }
  }
  // Unchanged slices are the informer's objects: a slice with any hint is copied into
  // to_update with its hints cleared; the rest stay unchanged, in order.
  std::vector<std::shared_ptr<const EndpointSlice>> still_unchanged;
  still_unchanged.reserve(si.unchanged.size());
  for (auto& slice : si.unchanged) {
    bool hinted = false;
    for (const auto& endpoint : slice->endpoints()) {
      if (endpoint.has_hints()) {
        hinted = true;
        break;
      }
    }
    if (!hinted) {
      still_unchanged.push_back(std::move(slice));
      continue;
    }
    EndpointSlice copy = *slice;
    for (auto& endpoint : *copy.mutable_endpoints()) endpoint.clear_hints();
    si.to_update.push_back(std::move(copy));
  }
  si.unchanged = std::move(still_unchanged);
}

std::string FormatWithAddressType(const std::string& s, const std::string& address_type) {
  return absl::StrCat(s, ", addressType: ", address_type);
}

}  // namespace kslice::endpointslice::topologycache
