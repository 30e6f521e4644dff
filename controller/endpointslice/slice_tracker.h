// SliceTracker: the generations of the EndpointSlices this controller wrote and the
// deletions it asked for (upstream's EndpointSliceTracker, k8s.io/endpointslice
// util/endpointslice_tracker.go). It lets the controller ignore informer events for its
// own writes and refuse to act on a cache older than its last write (StaleSlices).
// Keyed by the slice's namespace and its kubernetes.io/service-name label, then uid.
// Thread-safe.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICE_SLICE_TRACKER_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICE_SLICE_TRACKER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"

namespace kslice::endpointslice {

class SliceTracker {
 public:
  // The slice's uid is recorded (with a generation or as a pending deletion).
  bool Has(const api::discovery::v1::EndpointSlice& slice) const;
  // True unless the slice is known with a generation >= its own (our own write echoed).
  bool ShouldSync(const api::discovery::v1::EndpointSlice& slice) const;
  // True when `listed` (the cache's slices of the service) is older than what we wrote:
  // a listed slice we deleted or whose generation is below ours, or one we wrote missing.
  bool StaleSlices(const api::core::v1::Service& service,
                   const std::vector<std::shared_ptr<const api::discovery::v1::EndpointSlice>>&
                       listed) const;
  // Records slice.metadata.generation (after a create or update returned it).
  void Update(const api::discovery::v1::EndpointSlice& slice);
  // Records that we asked for the slice's deletion.
  void ExpectDeletion(const api::discovery::v1::EndpointSlice& slice);
  // Forgets the slice. False only when it was tracked with a generation, i.e. someone
  // else deleted a slice we wrote (the service needs a resync); true when we asked for
  // the deletion or never tracked the slice.
  bool HandleDeletion(const api::discovery::v1::EndpointSlice& slice);
  void DeleteService(const std::string& ns, const std::string& name);

 private:
  using Key = std::pair<std::string, std::string>;  // namespace, service name
  static constexpr int64_t kDeletionExpected = -1;
  mutable std::mutex mu_;
  std::map<Key, std::map<std::string, int64_t>> generations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kslice::endpointslice

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICE_SLICE_TRACKER_H_
