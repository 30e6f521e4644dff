// SliceTracker: see slice_tracker.h. Behaviour follows upstream's EndpointSliceTracker
// (k8s.io/endpointslice util/endpointslice_tracker.go), including the cases where
// HandleDeletion of an untracked slice reports "expected" (nothing to resync for).
#include "controller/endpointslice/slice_tracker.h"

#include <set>

namespace kslice::endpointslice {
namespace {

using api::discovery::v1::EndpointSlice;

// kubernetes.io/service-name; kept local so the tracker does not depend on the
// reconciler's header.
constexpr char kServiceNameLabel[] = "kubernetes.io/service-name";

std::pair<std::string, std::string> ServiceKeyOf(const EndpointSlice& slice) {
  const auto& labels = slice.metadata().labels();
  auto it = labels.find(kServiceNameLabel);
  return {slice.metadata().namespace_(), it == labels.end() ? std::string() : it->second};
}

}  // namespace

bool SliceTracker::Has(const EndpointSlice& slice) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto svc = generations_.find(ServiceKeyOf(slice));
  if (svc == generations_.end()) return false;
  return svc->second.count(slice.metadata().uid()) > 0;
}

bool SliceTracker::ShouldSync(const EndpointSlice& slice) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto svc = generations_.find(ServiceKeyOf(slice));
  if (svc == generations_.end()) return true;
  auto it = svc->second.find(slice.metadata().uid());
  return it == svc->second.end() || slice.metadata().generation() > it->second;
}

bool SliceTracker::StaleSlices(
    const api::core::v1::Service& service,
    const std::vector<std::shared_ptr<const EndpointSlice>>& listed) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto svc = generations_.find(Key(service.metadata().namespace_(), service.metadata().name()));
  if (svc == generations_.end()) return false;
  const std::map<std::string, int64_t>& tracked = svc->second;
  std::set<std::string> provided;
  for (const auto& slice : listed) {
    if (slice == nullptr) continue;
    const std::string& uid = slice->metadata().uid();
    provided.insert(uid);
    auto it = tracked.find(uid);
    if (it != tracked.end() &&
        (it->second == kDeletionExpected || it->second > slice->metadata().generation())) {
      return true;
    }
  }
  for (const auto& [uid, generation] : tracked) {
    if (generation == kDeletionExpected) continue;
    if (provided.count(uid) == 0) return true;
  }
  return false;
}

void SliceTracker::Update(const EndpointSlice& slice) {
  std::lock_guard<std::mutex> lock(mu_);
  generations_[ServiceKeyOf(slice)][slice.metadata().uid()] = slice.metadata().generation();
}

void SliceTracker::ExpectDeletion(const EndpointSlice& slice) {
  std::lock_guard<std::mutex> lock(mu_);
  generations_[ServiceKeyOf(slice)][slice.metadata().uid()] = kDeletionExpected;
}

bool SliceTracker::HandleDeletion(const EndpointSlice& slice) {
  std::lock_guard<std::mutex> lock(mu_);
  auto svc = generations_.find(ServiceKeyOf(slice));
  if (svc == generations_.end()) return true;
  auto it = svc->second.find(slice.metadata().uid());
  if (it == svc->second.end()) return true;
  const bool expected = it->second == kDeletionExpected;
  // Upstream keeps the (possibly empty) per-service map; so do we, so that StaleSlices
  // and ShouldSync answer the same afterwards.
  svc->second.erase(it);
  return expected;
}

void SliceTracker::DeleteService(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  generations_.erase(Key(ns, name));
}

}  // namespace kslice::endpointslice
