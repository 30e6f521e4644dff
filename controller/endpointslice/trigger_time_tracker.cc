// TriggerTimeTracker: see trigger_time_tracker.h.
#include "controller/endpointslice/trigger_time_tracker.h"

namespace kslice::endpointslice {
namespace {

using api::core::v1::Pod;

// Go's zero time.Time, 0001-01-01T00:00:00Z, in Unix seconds.
constexpr int64_t kGoZeroTimeSeconds = -62135596800;

// lastTransitionTime of the pod's Ready condition (whatever its status), or zero.
absl::Time PodTriggerTime(const Pod& pod) {
  for (const auto& condition : pod.status().conditions()) {
    if (condition.type() == "Ready") return TimeFromProto(condition.lasttransitiontime());
  }
  return absl::InfinitePast();
}

// Go's min helper: `value` when `current` is still zero, else the earlier of the two.
absl::Time MinSet(absl::Time current, absl::Time value) {
  if (current == absl::InfinitePast() || value < current) return value;
  return current;
}

}  // namespace

absl::Time TimeFromProto(const api::meta::v1::Time& t) {
  if (!t.has_seconds() && !t.has_nanos()) return absl::InfinitePast();
  if (t.seconds() == kGoZeroTimeSeconds && t.nanos() == 0) return absl::InfinitePast();
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

absl::Time TriggerTimeTracker::ComputeEndpointLastChangeTriggerTime(
    const std::string& ns, const api::core::v1::Service& service,
    const std::vector<std::shared_ptr<const Pod>>& pods) {
  const Key key(ns, service.metadata().name());
  // Take the state out of the map so the lock is not held while walking the pods;
  // calls for one key never overlap (see the header).
  ServiceState state;
  bool was_known = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = states_.find(key);
    if (it != states_.end()) {
      was_known = true;
      state = std::move(it->second);
    }
  }

  absl::Time min_changed = absl::InfinitePast();
  absl::flat_hash_map<std::string, absl::Time> pod_times;
  pod_times.reserve(pods.size());
  for (const auto& pod : pods) {
    if (pod == nullptr) continue;
    const absl::Time t = PodTriggerTime(*pod);
    if (t == absl::InfinitePast()) continue;
    const std::string& name = pod->metadata().name();
    pod_times[name] = t;
    auto last = state.last_pod_trigger_times.find(name);
    const absl::Time previous =
        last == state.last_pod_trigger_times.end() ? absl::InfinitePast() : last->second;
    if (t > previous) min_changed = MinSet(min_changed, t);
  }
  const absl::Time service_time = TimeFromProto(service.metadata().creationtimestamp());
  if (service_time > state.last_service_trigger_time) {
    min_changed = MinSet(min_changed, service_time);
  }

  state.last_pod_trigger_times = std::move(pod_times);
  state.last_service_trigger_time = service_time;
  {
    std::lock_guard<std::mutex> lock(mu_);
    states_[key] = std::move(state);
  }

  // A new service: its creation is what triggered the endpoints.
  if (!was_known) return service_time;
  return min_changed;
}

void TriggerTimeTracker::DeleteService(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  states_.erase(Key(ns, name));
}

}  // namespace kslice::endpointslice
