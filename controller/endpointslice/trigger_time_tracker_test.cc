#include "controller/endpointslice/trigger_time_tracker.h"

#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace kslice::endpointslice {
namespace {

using api::core::v1::Pod;
using api::core::v1::Service;
using PodList = std::vector<std::shared_ptr<const Pod>>;

const absl::Time kT0 = absl::FromUnixSeconds(1546300800);  // 2019-01-01T00:00:00Z
const absl::Time kT1 = kT0 + absl::Seconds(1);
const absl::Time kT2 = kT0 + absl::Seconds(2);
const absl::Time kT3 = kT0 + absl::Seconds(3);
const absl::Time kT4 = kT0 + absl::Seconds(4);
const absl::Time kT5 = kT0 + absl::Seconds(5);
const absl::Time kZero = absl::InfinitePast();

void SetTime(absl::Time t, api::meta::v1::Time* out) {
  const int64_t ns = absl::ToUnixNanos(t);
  out->set_seconds(ns / 1000000000);
  out->set_nanos(static_cast<int32_t>(ns % 1000000000));
}

Service Svc(absl::Time created, const std::string& name = "my-service") {
  Service s;
  s.mutable_metadata()->set_namespace_("ns");
  s.mutable_metadata()->set_name(name);
  SetTime(created, s.mutable_metadata()->mutable_creationtimestamp());
  return s;
}

std::shared_ptr<const Pod> PodReadyAt(const std::string& name, absl::Time ready) {
  auto p = std::make_shared<Pod>();
  p->mutable_metadata()->set_namespace_("ns");
  p->mutable_metadata()->set_name(name);
  auto* c = p->mutable_status()->add_conditions();
  c->set_type("PodScheduled");
  SetTime(ready - absl::Hours(1), c->mutable_lasttransitiontime());
  c = p->mutable_status()->add_conditions();
  c->set_type("Ready");
  c->set_status("True");
  SetTime(ready, c->mutable_lasttransitiontime());
  return p;
}

TEST(TimeFromProtoTest, ZeroTimes) {
  api::meta::v1::Time t;
  EXPECT_EQ(TimeFromProto(t), kZero);
  t.set_seconds(-62135596800);
  EXPECT_EQ(TimeFromProto(t), kZero);
  t.set_nanos(1);
  EXPECT_EQ(TimeFromProto(t), absl::FromUnixSeconds(-62135596800) + absl::Nanoseconds(1));
  t.Clear();
  t.set_seconds(0);
  EXPECT_EQ(TimeFromProto(t), absl::UnixEpoch());
}

TEST(TriggerTimeTrackerTest, NewServiceNoPods) {
  TriggerTimeTracker tracker;
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", Svc(kT2), {}), kT2);
}

TEST(TriggerTimeTrackerTest, NewServiceExistingPodsUsesServiceCreation) {
  TriggerTimeTracker tracker;
  PodList pods = {PodReadyAt("pod1", kT0), PodReadyAt("pod2", kT1), PodReadyAt("pod3", kT5)};
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", Svc(kT3), pods), kT3);
}

TEST(TriggerTimeTrackerTest, PodsAddedGiveTheEarliest) {
  TriggerTimeTracker tracker;
  Service svc = Svc(kT0);
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", svc, {}), kT0);
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime(
                "ns", svc, {PodReadyAt("pod1", kT2), PodReadyAt("pod2", kT1)}),
            kT1);
}

TEST(TriggerTimeTrackerTest, PodsUpdatedOnlyChangedCount) {
  TriggerTimeTracker tracker;
  Service svc = Svc(kT0);
  auto pod3 = PodReadyAt("pod3", kT3);
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime(
                "ns", svc, {PodReadyAt("pod1", kT1), PodReadyAt("pod2", kT2), pod3}),
            kT0);
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime(
                "ns", svc, {PodReadyAt("pod1", kT5), PodReadyAt("pod2", kT4), pod3}),
            kT4);
  // Nothing changed since.
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime(
                "ns", svc, {PodReadyAt("pod1", kT5), PodReadyAt("pod2", kT4), pod3}),
            kZero);
}

TEST(TriggerTimeTrackerTest, PodDeletedThenAdded) {
  TriggerTimeTracker tracker;
  Service svc = Svc(kT0);
  auto pod1 = PodReadyAt("pod1", kT1);
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", svc,
                                                         {pod1, PodReadyAt("pod2", kT2)}),
            kT0);
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", svc, {pod1}), kZero);
  // pod2 is forgotten, so even its old time counts as a change when it comes back.
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", svc,
                                                         {pod1, PodReadyAt("pod2", kT2)}),
            kT2);
}

TEST(TriggerTimeTrackerTest, ServiceDeletedThenAdded) {
  TriggerTimeTracker tracker;
  PodList pods = {PodReadyAt("pod1", kT1), PodReadyAt("pod2", kT2)};
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", Svc(kT0), pods), kT0);
  tracker.DeleteService("ns", "my-service");
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", Svc(kT3), pods), kT3);
}

TEST(TriggerTimeTrackerTest, ServiceRecreatedWithoutDeleteCounts) {
  TriggerTimeTracker tracker;
  PodList pods = {PodReadyAt("pod1", kT1)};
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", Svc(kT0), pods), kT0);
  // Same pods, a service with a newer creationTimestamp: the service is the trigger.
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", Svc(kT4), pods), kT4);
  // A spec-only change (same creationTimestamp) and no pod change: zero.
  Service updated = Svc(kT4);
  updated.mutable_spec()->set_type("NodePort");
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", updated, pods), kZero);
}

TEST(TriggerTimeTrackerTest, PodsWithoutReadyConditionAreIgnored) {
  TriggerTimeTracker tracker;
  Service svc = Svc(kT0);
  auto no_ready = std::make_shared<Pod>();
  no_ready->mutable_metadata()->set_name("pending");
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", svc, {no_ready}), kT0);
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", svc, {no_ready}), kZero);
}

TEST(TriggerTimeTrackerTest, KeyedByNamespaceAndName) {
  TriggerTimeTracker tracker;
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", Svc(kT0), {}), kT0);
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns2", Svc(kT1), {}), kT1);
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", Svc(kT2, "other"), {}), kT2);
  EXPECT_EQ(tracker.ComputeEndpointLastChangeTriggerTime("ns", Svc(kT0), {}), kZero);
}

TEST(TriggerTimeTrackerTest, ConcurrentServices) {
  TriggerTimeTracker tracker;
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&tracker, &failures, t] {
      const std::string name = "svc" + std::to_string(t);
      Service svc = Svc(kT0, name);
      for (int i = 0; i < 100; ++i) {
        const absl::Time ready = kT1 + absl::Seconds(i);
        absl::Time got =
            tracker.ComputeEndpointLastChangeTriggerTime("ns", svc, {PodReadyAt("p", ready)});
        if (got != (i == 0 ? kT0 : ready)) ++failures[t];
        if (i % 10 == 9) tracker.DeleteService("ns", "unrelated");
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace kslice::endpointslice
