#include "controller/endpointslice/endpoint_set.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace kslice::endpointslice {

size_t EndpointSet::KeyHash::operator()(const Key& k) const {
  std::hash<std::string_view> h;
  size_t seed = k.addresses.size();
  auto mix = [&seed](size_t v) { seed ^= v + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2); };
  for (std::string_view a : k.addresses) mix(h(a));
  mix(h(k.hostname));
  mix(h(k.ns));
  mix(h(k.name));
  return seed;
}

EndpointSet::Key EndpointSet::KeyOf(const Endpoint& endpoint) {
  Key k;
  for (const std::string& a : endpoint.addresses()) k.addresses.push_back(a);
  if (k.addresses.size() > 1) std::sort(k.addresses.begin(), k.addresses.end());
  // A null hostname / targetRef counts as empty, as upstream.
  if (endpoint.has_hostname()) k.hostname = endpoint.hostname();
  if (endpoint.has_targetref()) {
    k.ns = endpoint.targetref().namespace_();
    k.name = endpoint.targetref().name();
  }
  return k;
}

void EndpointSet::RebuildIndex() const {
  index_.clear();
  for (size_t i = 0; i < storage_.size(); ++i) {
    if (storage_[i] != nullptr) index_.emplace(KeyOf(*storage_[i]), i);
  }
  index_dropped_ = false;
}

void EndpointSet::Insert(Endpoint* endpoint) {
  if (index_dropped_) RebuildIndex();
  if (endpoint->addresses_size() > 1) {
    std::sort(endpoint->mutable_addresses()->begin(), endpoint->mutable_addresses()->end());
  }
  auto [it, inserted] = index_.try_emplace(KeyOf(*endpoint), storage_.size());
  if (!inserted) {
    // Same identity: the newer endpoint replaces the older in its position. The key
    // must view into the stored endpoint, so re-key it.
    size_t i = it->second;
    index_.erase(it);
    storage_[i] = endpoint;
    index_.emplace(KeyOf(*endpoint), i);
    return;
  }
  storage_.push_back(endpoint);
  ++live_;
}

const EndpointSet::Endpoint* EndpointSet::Get(const Endpoint& endpoint) const {
  if (index_dropped_) RebuildIndex();
  auto it = index_.find(KeyOf(endpoint));
  return it == index_.end() ? nullptr : storage_[it->second];
}

EndpointSet::Endpoint* EndpointSet::Take(const Endpoint& endpoint) {
  if (index_dropped_) RebuildIndex();
  auto it = index_.find(KeyOf(endpoint));
  if (it == index_.end()) return nullptr;
  size_t i = it->second;
  index_.erase(it);
  Endpoint* out = storage_[i];
  storage_[i] = nullptr;
  --live_;
  return out;
}

EndpointSet::Endpoint* EndpointSet::PopAny() {
  if (!index_dropped_) {
    index_.clear();
    index_dropped_ = true;
  }
  while (cursor_ < storage_.size() && storage_[cursor_] == nullptr) ++cursor_;
  if (cursor_ >= storage_.size()) return nullptr;
  Endpoint* out = storage_[cursor_];
  storage_[cursor_++] = nullptr;
  --live_;
  return out;
}

}  // namespace kslice::endpointslice
