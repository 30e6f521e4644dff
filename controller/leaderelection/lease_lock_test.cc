#include "controller/leaderelection/lease_lock.h"

#include "client/errors/errors.h"
#include "controller/leaderelection/fake_lease_client.h"
#include "gtest/gtest.h"

namespace kslice::controller::leaderelection {
namespace {

using api::coordination::v1::Lease;

LeaderElectionRecord Held(const std::string& holder, int transitions) {
  LeaderElectionRecord r;
  r.holder_identity = holder;
  r.lease_duration_seconds = 15;
  r.acquire_time = absl::FromUnixSeconds(1000);
  r.renew_time = absl::FromUnixSeconds(1010);
  r.leader_transitions = transitions;
  return r;
}

TEST(LeaseLockTest, DescribeAndIdentity) {
  FakeLeaseClient fake;
  LeaseLock lock(fake, {.namespace_ = "kube-system", .name = "ctrl", .identity = "me"});
  EXPECT_EQ(lock.Describe(), "kube-system/ctrl");
  EXPECT_EQ(lock.Identity(), "me");
}

TEST(LeaseLockTest, GetMissingIsNotFound) {
  FakeLeaseClient fake;
  LeaseLock lock(fake, {.namespace_ = "ns", .name = "l", .identity = "me"});
  EXPECT_TRUE(absl::IsNotFound(lock.Get().status()));
}

TEST(LeaseLockTest, UpdateBeforeGetFails) {
  FakeLeaseClient fake;
  LeaseLock lock(fake, {.namespace_ = "ns", .name = "l", .identity = "me"});
  absl::Status s = lock.Update(Held("me", 0));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(fake.calls().empty());
}

TEST(LeaseLockTest, CreateWritesSpecAndLabels) {
  FakeLeaseClient fake;
  LeaseLock lock(fake, {.namespace_ = "ns", .name = "l", .identity = "me",
                        .labels = {{"app", "ctrl"}}});
  ASSERT_TRUE(lock.Create(Held("me", 0)).ok());
  absl::StatusOr<Lease> stored = fake.Stored("ns", "l");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->metadata().labels().at("app"), "ctrl");
  EXPECT_EQ(stored->spec().holderidentity(), "me");
  EXPECT_EQ(stored->spec().leasedurationseconds(), 15);
  EXPECT_EQ(stored->spec().acquiretime().seconds(), 1000);
  EXPECT_EQ(stored->spec().renewtime().seconds(), 1010);
  EXPECT_EQ(stored->spec().leasetransitions(), 0);
  // A second create loses.
  LeaseLock other(fake, {.namespace_ = "ns", .name = "l", .identity = "other"});
  EXPECT_TRUE(absl::IsAlreadyExists(other.Create(Held("other", 0))));
}

TEST(LeaseLockTest, UpdateIsConditionalOnTheLastSeenResourceVersion) {
  FakeLeaseClient fake;
  LeaseLock a(fake, {.namespace_ = "ns", .name = "l", .identity = "a"});
  LeaseLock b(fake, {.namespace_ = "ns", .name = "l", .identity = "b"});
  ASSERT_TRUE(a.Create(Held("a", 0)).ok());
  ASSERT_TRUE(b.Get().ok());
  ASSERT_TRUE(a.Update(Held("a", 0)).ok());  // bumps the resourceVersion
  absl::Status lost = b.Update(Held("b", 1));
  EXPECT_TRUE(client::IsConflict(lost)) << lost;
  EXPECT_EQ(fake.Stored("ns", "l")->spec().holderidentity(), "a");
  // After re-reading, b's write goes through.
  absl::StatusOr<LeaderElectionRecord> seen = b.Get();
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(*seen, Held("a", 0));
  ASSERT_TRUE(b.Update(Held("b", 1)).ok());
  EXPECT_EQ(fake.Stored("ns", "l")->spec().holderidentity(), "b");
  EXPECT_EQ(fake.Stored("ns", "l")->spec().leasetransitions(), 1);
}

TEST(LeaseLockTest, UpdateMergesLabelsAndKeepsOthers) {
  FakeLeaseClient fake;
  Lease existing;
  existing.mutable_metadata()->set_namespace_("ns");
  existing.mutable_metadata()->set_name("l");
  (*existing.mutable_metadata()->mutable_labels())["keep"] = "1";
  (*existing.mutable_metadata()->mutable_labels())["app"] = "old";
  fake.Put(existing);
  LeaseLock lock(fake, {.namespace_ = "ns", .name = "l", .identity = "me",
                        .labels = {{"app", "new"}}});
  ASSERT_TRUE(lock.Get().ok());
  ASSERT_TRUE(lock.Update(Held("me", 1)).ok());
  absl::StatusOr<Lease> stored = fake.Stored("ns", "l");
  EXPECT_EQ(stored->metadata().labels().at("keep"), "1");
  EXPECT_EQ(stored->metadata().labels().at("app"), "new");
  ASSERT_TRUE(lock.lease().has_value());
  EXPECT_EQ(lock.lease()->metadata().resourceversion(), stored->metadata().resourceversion());
}

}  // namespace
}  // namespace kslice::controller::leaderelection
