// TriggerTimeTracker computes the endpoints.kubernetes.io/last-change-trigger-time
// annotation (upstream's TriggerTimeTracker, k8s.io/endpointslice
// util/trigger_time_tracker.go).
//
// Per service it remembers the service's creationTimestamp and, per pod name, the
// lastTransitionTime of the pod's Ready condition seen at the previous call. A call
// returns:
//   - the service's creationTimestamp the first time the service is seen (or after
//     DeleteService);
//   - otherwise the earliest of the trigger times that moved forward since the previous
//     call (pod Ready transitions, the service's creationTimestamp), or
//     absl::InfinitePast() (Go's zero time: do not write the annotation) when none did.
// The remembered state is replaced by the current pods on every call.
//
// Like upstream, the value can be wrong when one object changes several times between
// two syncs; it is an approximation.
//
// Thread-safe for different services. Calls for the same service must not overlap (the
// controller's queue guarantees it): concurrent calls for one key would each see the
// previous state and the last one to finish would win.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICE_TRIGGER_TIME_TRACKER_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICE_TRIGGER_TIME_TRACKER_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "api/meta/v1/meta.pb.h"

namespace kslice::endpointslice {

// A meta.v1.Time as an absl::Time; Go's zero time (unset, or 0001-01-01T00:00:00Z) is
// absl::InfinitePast().
absl::Time TimeFromProto(const api::meta::v1::Time& t);

class TriggerTimeTracker {
 public:
  // See the file comment. `ns` is the service's namespace; pods are the pods selected
  // by the service (all of them, eligible as endpoints or not).
  absl::Time ComputeEndpointLastChangeTriggerTime(
      const std::string& ns, const api::core::v1::Service& service,
      const std::vector<std::shared_ptr<const api::core::v1::Pod>>& pods);

  // Forgets the service: its next computation returns its creationTimestamp.
  void DeleteService(const std::string& ns, const std::string& name);

 private:
  struct ServiceState {
    absl::Time last_service_trigger_time = absl::InfinitePast();
    // Pod name -> Ready condition lastTransitionTime (only non-zero times).
    absl::flat_hash_map<std::string, absl::Time> last_pod_trigger_times;
  };
  using Key = std::pair<std::string, std::string>;  // namespace, service name

  std::mutex mu_;
  std::map<Key, ServiceState> states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kslice::endpointslice

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICE_TRIGGER_TIME_TRACKER_H_
