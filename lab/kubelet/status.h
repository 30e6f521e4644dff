// The pod status the lab kubelet reports, computed from what it knows about the pod's
// sandbox and processes (a pure function, so it is tested without a machine):
// phase (kubelet's getPhase), hostIP(s), podIP(s), startTime, containerStatuses and
// the conditions PodReadyToStartContainers, Initialized, ContainersReady and Ready.
// Conditions keep their lastTransitionTime unless their status flips; PodScheduled
// and other conditions the kubelet does not own are kept as they are. Times are whole
// seconds (the API's precision), so an unchanged status compares equal after a round
// trip and is not written again.
#ifndef KSLICE_LAB_KUBELET_STATUS_H_
#define KSLICE_LAB_KUBELET_STATUS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"

namespace kslice::lab::kubelet {

// One run of a container that ended.
struct TerminatedRun {
  int exit_code = 0;
  int signal = 0;
  std::string reason;  // "Completed", "Error", "OOMKilled"...
  std::string message;
  absl::Time started_at = absl::InfinitePast();
  absl::Time finished_at = absl::InfinitePast();
  std::string container_id;
};

// What the kubelet knows about one container.
struct ContainerState {
  enum class Phase { kWaiting, kRunning, kTerminated };
  std::string name;
  std::string image;
  std::string image_id;
  Phase phase = Phase::kWaiting;
  std::string waiting_reason = "ContainerCreating";
  std::string waiting_message;
  std::string container_id;  // running: "lab://<pid>"
  absl::Time started_at = absl::InfinitePast();
  std::optional<TerminatedRun> terminated;  // phase kTerminated: this run
  std::optional<TerminatedRun> last;        // the previous run (lastState)
  bool started = false;                     // startup probe passed (or none)
  bool ready = false;
  int restart_count = 0;
};

struct PodState {
  bool sandbox_ready = false;  // netns + address in place
  std::string pod_ip;
  std::string host_ip;
  absl::Time start_time = absl::InfinitePast();  // when the kubelet accepted the pod
  std::vector<ContainerState> containers;        // in spec order
  // The kubelet is done with the pod (deleted, or finished under Never/OnFailure):
  // with every container stopped the phase is Succeeded (all exited 0) or Failed,
  // whatever the restart policy (kubelet's podIsTerminal).
  bool pod_is_terminal = false;
};

// Whole seconds (what the API keeps).
api::meta::v1::Time ToApiTime(absl::Time t);

// kubelet's phase from the container states and the restart policy; a pod already
// Succeeded or Failed stays so.
std::string PodPhase(const api::core::v1::Pod& pod, const PodState& state);

// The status to write: `pod.status()` updated with `state` at `now`.
api::core::v1::PodStatus ComputePodStatus(const api::core::v1::Pod& pod, const PodState& state,
                                          absl::Time now);

// Sets condition `type` in `conditions` to status/reason/message; lastTransitionTime
// becomes `now` only when the status changes (or the condition is new).
void SetPodCondition(google::protobuf::RepeatedPtrField<api::core::v1::PodCondition>* conditions,
                     const std::string& type, bool status, const std::string& reason,
                     const std::string& message, absl::Time now);

}  // namespace kslice::lab::kubelet

#endif  // KSLICE_LAB_KUBELET_STATUS_H_
