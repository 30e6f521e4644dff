#include "lab/kubelet/status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kslice::lab::kubelet {

using api::core::v1::Pod;
using api::core::v1::PodCondition;
using api::core::v1::PodStatus;

api::meta::v1::Time ToApiTime(absl::Time t) {
  api::meta::v1::Time out;
  out.set_seconds(absl::ToUnixSeconds(t));
  return out;
}

std::string PodPhase(const Pod& pod, const PodState& state) {
  const std::string& current = pod.status().phase();
  if (current == "Succeeded" || current == "Failed") return current;
  int running = 0, waiting = 0, stopped = 0, succeeded = 0, unknown = 0;
  for (const api::core::v1::Container& c : pod.spec().containers()) {
    const ContainerState* cs = nullptr;
    for (const ContainerState& s : state.containers) {
      if (s.name == c.name()) cs = &s;
    }
    if (cs == nullptr) {
      ++unknown;
      continue;
    }
    switch (cs->phase) {
      case ContainerState::Phase::kRunning:
        ++running;
        break;
      case ContainerState::Phase::kTerminated:
        ++stopped;
        if (cs->terminated && cs->terminated->exit_code == 0) ++succeeded;
        break;
      case ContainerState::Phase::kWaiting:
        // Waiting to be restarted counts as stopped, as kubelet does.
        if (cs->last.has_value())
          ++stopped;
        else
          ++waiting;
        break;
    }
  }
  if (waiting > 0) return "Pending";
  if (running > 0 && unknown == 0) return "Running";
  if (running == 0 && stopped > 0 && unknown == 0) {
    const std::string& policy = pod.spec().restartpolicy();
    if (state.pod_is_terminal) return stopped == succeeded ? "Succeeded" : "Failed";
    if (policy == "Always" || policy.empty()) return "Running";
    if (stopped == succeeded) return "Succeeded";
    if (policy == "Never") return "Failed";
    return "Running";  // OnFailure: the failed ones restart
  }
  return "Pending";
}

void SetPodCondition(google::protobuf::RepeatedPtrField<PodCondition>* conditions,
                     const std::string& type, bool status, const std::string& reason,
                     const std::string& message, absl::Time now) {
  const std::string s = status ? "True" : "False";
  PodCondition* c = nullptr;
  for (PodCondition& existing : *conditions) {
    if (existing.type() == type) c = &existing;
  }
  if (c == nullptr) {
    c = conditions->Add();
    c->set_type(type);
  }
  if (c->status() != s || !c->has_lasttransitiontime()) {
    *c->mutable_lasttransitiontime() = ToApiTime(now);
  }
  c->set_status(s);
  c->clear_lastprobetime();
  if (reason.empty())
    c->clear_reason();
  else
    c->set_reason(reason);
  if (message.empty())
    c->clear_message();
  else
    c->set_message(message);
}

namespace {

void FillTerminated(const TerminatedRun& t, api::core::v1::ContainerStateTerminated* out) {
  out->set_exitcode(t.exit_code);
  if (t.signal != 0) out->set_signal(t.signal);
  if (!t.reason.empty()) out->set_reason(t.reason);
  if (!t.message.empty()) out->set_message(t.message);
  if (t.started_at != absl::InfinitePast()) *out->mutable_startedat() = ToApiTime(t.started_at);
  if (t.finished_at != absl::InfinitePast()) *out->mutable_finishedat() = ToApiTime(t.finished_at);
  if (!t.container_id.empty()) out->set_containerid(t.container_id);
}

}  // namespace

PodStatus ComputePodStatus(const Pod& pod, const PodState& state, absl::Time now) {
  PodStatus st = pod.status();
  st.set_phase(PodPhase(pod, state));
  const bool terminal = st.phase() == "Succeeded" || st.phase() == "Failed";
  if (!state.host_ip.empty()) {
    st.set_hostip(state.host_ip);
    st.clear_hostips();
    st.add_hostips()->set_ip(state.host_ip);
  }
  if (!state.pod_ip.empty()) {
    st.set_podip(state.pod_ip);
    st.clear_podips();
    st.add_podips()->set_ip(state.pod_ip);
  }
  if (state.start_time != absl::InfinitePast() && !st.has_starttime()) {
    *st.mutable_starttime() = ToApiTime(state.start_time);
  }
  if (st.qosclass().empty()) st.set_qosclass("BestEffort");

  st.clear_containerstatuses();
  std::vector<std::string> unready;
  for (const api::core::v1::Container& c : pod.spec().containers()) {
    const ContainerState* cs = nullptr;
    for (const ContainerState& s : state.containers) {
      if (s.name == c.name()) cs = &s;
    }
    api::core::v1::ContainerStatus* out = st.add_containerstatuses();
    out->set_name(c.name());
    out->set_image(c.image());
    out->set_imageid(cs != nullptr ? cs->image_id : "");
    bool ready = cs != nullptr && cs->ready && cs->phase == ContainerState::Phase::kRunning;
    out->set_ready(ready);
    out->set_started(cs != nullptr && cs->phase == ContainerState::Phase::kRunning && cs->started);
    out->set_restartcount(cs != nullptr ? cs->restart_count : 0);
    if (!ready) unready.push_back(c.name());
    api::core::v1::ContainerState* s = out->mutable_state();
    if (cs == nullptr) {
      s->mutable_waiting()->set_reason("ContainerCreating");
      continue;
    }
    if (!cs->container_id.empty()) out->set_containerid(cs->container_id);
    switch (cs->phase) {
      case ContainerState::Phase::kRunning:
        *s->mutable_running()->mutable_startedat() = ToApiTime(cs->started_at);
        break;
      case ContainerState::Phase::kTerminated:
        if (cs->terminated)
          FillTerminated(*cs->terminated, s->mutable_terminated());
        else
          s->mutable_terminated()->set_exitcode(0);
        break;
      case ContainerState::Phase::kWaiting:
        s->mutable_waiting()->set_reason(cs->waiting_reason);
        if (!cs->waiting_message.empty()) s->mutable_waiting()->set_message(cs->waiting_message);
        break;
    }
    if (cs->last) FillTerminated(*cs->last, out->mutable_laststate()->mutable_terminated());
  }

  // kubelet's conditions (pkg/kubelet/status/generate.go).
  SetPodCondition(st.mutable_conditions(), "PodReadyToStartContainers",
                  state.sandbox_ready && !terminal, "", "", now);
  SetPodCondition(st.mutable_conditions(), "Initialized", true, "", "", now);
  std::string reason, message;
  if (terminal) {
    reason = "PodCompleted";
  } else if (!unready.empty()) {
    reason = "ContainersNotReady";
    message = absl::StrCat("containers with unready status: [", absl::StrJoin(unready, " "), "]");
  }
  const bool all_ready = unready.empty() && !terminal;
  SetPodCondition(st.mutable_conditions(), "ContainersReady", all_ready, reason, message, now);
  SetPodCondition(st.mutable_conditions(), "Ready", all_ready, reason, message, now);
  // Kubelet's order: PodReadyToStartContainers, Initialized, Ready, ContainersReady,
  // PodScheduled — sort ours so, keeping others (PodScheduled, ...) after them.
  static const char* const kOrder[] = {"PodReadyToStartContainers", "Initialized", "Ready",
                                       "ContainersReady"};
  google::protobuf::RepeatedPtrField<PodCondition> sorted;
  for (const char* t : kOrder) {
    for (const PodCondition& c : st.conditions()) {
      if (c.type() == t) *sorted.Add() = c;
    }
  }
  for (const PodCondition& c : st.conditions()) {
    bool ours = false;
    for (const char* t : kOrder) ours = ours || c.type() == t;
    if (!ours) *sorted.Add() = c;
  }
  st.mutable_conditions()->Swap(&sorted);
  return st;
}

}  // namespace kslice::lab::kubelet
