#include "lab/kubelet/status.h"

#include "gtest/gtest.h"

namespace kslice::lab::kubelet {
namespace {

using api::core::v1::Pod;
using api::core::v1::PodCondition;

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

Pod NginxPod(const std::string& policy = "Always") {
  Pod p;
  p.mutable_metadata()->set_name("web");
  p.mutable_metadata()->set_namespace_("default");
  p.mutable_spec()->set_restartpolicy(policy);
  auto* c = p.mutable_spec()->add_containers();
  c->set_name("nginx");
  c->set_image("nginx:1.28");
  // The scheduler's condition is kept as it is.
  PodCondition* sched = p.mutable_status()->add_conditions();
  sched->set_type("PodScheduled");
  sched->set_status("True");
  *sched->mutable_lasttransitiontime() = ToApiTime(kT0 - absl::Seconds(5));
  p.mutable_status()->set_phase("Pending");
  return p;
}

PodState Running(bool ready) {
  PodState s;
  s.sandbox_ready = true;
  s.pod_ip = "192.168.202.196";
  s.host_ip = "172.18.0.3";
  s.start_time = kT0;
  ContainerState c;
  c.name = "nginx";
  c.image_id = "lab-runtime:///usr/sbin/nginx";
  c.phase = ContainerState::Phase::kRunning;
  c.container_id = "lab://4242";
  c.started_at = kT0 + absl::Seconds(1);
  c.started = true;
  c.ready = ready;
  s.containers.push_back(c);
  return s;
}

const PodCondition* Find(const api::core::v1::PodStatus& st, const std::string& type) {
  for (const PodCondition& c : st.conditions()) {
    if (c.type() == type) return &c;
  }
  return nullptr;
}

TEST(StatusTest, RunningButNotReadyThenReady) {
  Pod pod = NginxPod();
  api::core::v1::PodStatus st = ComputePodStatus(pod, Running(false), kT0 + absl::Seconds(2));
  EXPECT_EQ(st.phase(), "Running");
  EXPECT_EQ(st.podip(), "192.168.202.196");
  ASSERT_EQ(st.podips_size(), 1);
  EXPECT_EQ(st.hostips(0).ip(), "172.18.0.3");
  EXPECT_EQ(st.starttime().seconds(), absl::ToUnixSeconds(kT0));
  const PodCondition* ready = Find(st, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status(), "False");
  EXPECT_EQ(ready->reason(), "ContainersNotReady");
  EXPECT_EQ(ready->message(), "containers with unready status: [nginx]");
  EXPECT_EQ(Find(st, "PodReadyToStartContainers")->status(), "True");
  EXPECT_EQ(Find(st, "Initialized")->status(), "True");
  EXPECT_EQ(Find(st, "PodScheduled")->lasttransitiontime().seconds(), absl::ToUnixSeconds(kT0) - 5);
  // kubelet's order, the scheduler's condition last.
  ASSERT_EQ(st.conditions_size(), 5);
  EXPECT_EQ(st.conditions(0).type(), "PodReadyToStartContainers");
  EXPECT_EQ(st.conditions(2).type(), "Ready");
  EXPECT_EQ(st.conditions(4).type(), "PodScheduled");
  const auto& cs = st.containerstatuses(0);
  EXPECT_EQ(cs.name(), "nginx");
  EXPECT_EQ(cs.image(), "nginx:1.28");
  EXPECT_EQ(cs.containerid(), "lab://4242");
  EXPECT_FALSE(cs.ready());
  EXPECT_TRUE(cs.started());
  EXPECT_EQ(cs.state().running().startedat().seconds(), absl::ToUnixSeconds(kT0) + 1);

  // Becoming ready: Ready flips (new transition time); Initialized does not move.
  pod.mutable_status()->CopyFrom(st);
  api::core::v1::PodStatus st2 = ComputePodStatus(pod, Running(true), kT0 + absl::Seconds(9));
  EXPECT_EQ(Find(st2, "Ready")->status(), "True");
  EXPECT_FALSE(Find(st2, "Ready")->has_reason());
  EXPECT_EQ(Find(st2, "Ready")->lasttransitiontime().seconds(), absl::ToUnixSeconds(kT0) + 9);
  EXPECT_EQ(Find(st2, "Initialized")->lasttransitiontime().seconds(), absl::ToUnixSeconds(kT0) + 2);
  EXPECT_TRUE(st2.containerstatuses(0).ready());
  // Nothing changed: an equal status (so nothing is written).
  pod.mutable_status()->CopyFrom(st2);
  api::core::v1::PodStatus st3 = ComputePodStatus(pod, Running(true), kT0 + absl::Seconds(30));
  EXPECT_EQ(st3.SerializeAsString(), st2.SerializeAsString());
}

TEST(StatusTest, PendingWhileCreating) {
  Pod pod = NginxPod();
  PodState s;
  ContainerState c;
  c.name = "nginx";
  s.containers.push_back(c);
  api::core::v1::PodStatus st = ComputePodStatus(pod, s, kT0);
  EXPECT_EQ(st.phase(), "Pending");
  EXPECT_EQ(st.containerstatuses(0).state().waiting().reason(), "ContainerCreating");
  EXPECT_EQ(Find(st, "PodReadyToStartContainers")->status(), "False");
  EXPECT_FALSE(st.has_starttime());
}

TEST(StatusTest, CrashLoopIsRunningWithLastState) {
  Pod pod = NginxPod();
  PodState s = Running(false);
  ContainerState& c = s.containers[0];
  c.phase = ContainerState::Phase::kWaiting;
  c.waiting_reason = "CrashLoopBackOff";
  c.waiting_message = "back-off 10s restarting failed container=nginx pod=web_default(u)";
  c.restart_count = 2;
  c.last = TerminatedRun{1, 0, "Error", "", kT0, kT0 + absl::Seconds(3), "lab://41"};
  api::core::v1::PodStatus st = ComputePodStatus(pod, s, kT0 + absl::Seconds(4));
  EXPECT_EQ(st.phase(), "Running") << "waiting to restart counts as stopped, Always restarts";
  const auto& cs = st.containerstatuses(0);
  EXPECT_EQ(cs.state().waiting().reason(), "CrashLoopBackOff");
  EXPECT_EQ(cs.restartcount(), 2);
  EXPECT_EQ(cs.laststate().terminated().exitcode(), 1);
  EXPECT_EQ(cs.laststate().terminated().reason(), "Error");
  EXPECT_EQ(cs.laststate().terminated().containerid(), "lab://41");
}

TEST(StatusTest, PhasesByRestartPolicy) {
  auto done = [](int code) {
    PodState s;
    ContainerState c;
    c.name = "nginx";
    c.phase = ContainerState::Phase::kTerminated;
    c.terminated = TerminatedRun{code, 0, code == 0 ? "Completed" : "Error", "", kT0, kT0, ""};
    s.containers.push_back(c);
    return s;
  };
  EXPECT_EQ(PodPhase(NginxPod("Never"), done(0)), "Succeeded");
  EXPECT_EQ(PodPhase(NginxPod("Never"), done(2)), "Failed");
  EXPECT_EQ(PodPhase(NginxPod("OnFailure"), done(0)), "Succeeded");
  EXPECT_EQ(PodPhase(NginxPod("OnFailure"), done(2)), "Running");
  EXPECT_EQ(PodPhase(NginxPod("Always"), done(0)), "Running");
  PodState deleted = done(143);
  deleted.pod_is_terminal = true;
  EXPECT_EQ(PodPhase(NginxPod("Always"), deleted), "Failed") << "a deleted pod ends terminal";
  deleted = done(0);
  deleted.pod_is_terminal = true;
  EXPECT_EQ(PodPhase(NginxPod("Always"), deleted), "Succeeded");
  Pod finished = NginxPod("Never");
  finished.mutable_status()->set_phase("Succeeded");
  EXPECT_EQ(PodPhase(finished, Running(true)), "Succeeded") << "terminal phases stay";
  // A terminal pod is not Ready: reason PodCompleted.
  api::core::v1::PodStatus st = ComputePodStatus(NginxPod("Never"), done(0), kT0);
  EXPECT_EQ(Find(st, "Ready")->status(), "False");
  EXPECT_EQ(Find(st, "Ready")->reason(), "PodCompleted");
  EXPECT_EQ(st.containerstatuses(0).state().terminated().reason(), "Completed");
}

TEST(StatusTest, ConditionTransitionOnlyOnFlip) {
  google::protobuf::RepeatedPtrField<PodCondition> conds;
  SetPodCondition(&conds, "Ready", false, "ContainersNotReady", "m", kT0);
  SetPodCondition(&conds, "Ready", false, "ContainersNotReady", "m2", kT0 + absl::Seconds(5));
  ASSERT_EQ(conds.size(), 1);
  EXPECT_EQ(conds[0].lasttransitiontime().seconds(), absl::ToUnixSeconds(kT0));
  EXPECT_EQ(conds[0].message(), "m2");
  SetPodCondition(&conds, "Ready", true, "", "", kT0 + absl::Seconds(7));
  EXPECT_EQ(conds[0].lasttransitiontime().seconds(), absl::ToUnixSeconds(kT0) + 7);
  EXPECT_FALSE(conds[0].has_message());
  EXPECT_EQ(ToApiTime(absl::FromUnixMillis(1500)).seconds(), 1);
  EXPECT_EQ(ToApiTime(absl::FromUnixMillis(1500)).nanos(), 0);
}

}  // namespace
}  // namespace kslice::lab::kubelet
