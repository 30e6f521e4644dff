#include "controller/leaderelection/record.h"

#include "gtest/gtest.h"

namespace kslice::controller::leaderelection {
namespace {

using api::coordination::v1::LeaseSpec;

TEST(MicroTimeTest, TruncatesToMicroseconds) {
  // 2024-01-02T03:04:05.123456789Z
  const absl::Time t = absl::FromUnixSeconds(1704164645) + absl::Nanoseconds(123456789);
  api::meta::v1::MicroTime m = ToMicroTime(t);
  EXPECT_EQ(m.seconds(), 1704164645);
  EXPECT_EQ(m.nanos(), 123456000);
  EXPECT_EQ(FromMicroTime(m), absl::FromUnixSeconds(1704164645) + absl::Microseconds(123456));
  EXPECT_EQ(TruncateToMicros(t), FromMicroTime(m));
}

TEST(MicroTimeTest, BeforeTheEpochRoundsTowardThePast) {
  // -0.5 us before the epoch is 1969-12-31T23:59:59.999999Z.
  api::meta::v1::MicroTime m = ToMicroTime(absl::UnixEpoch() - absl::Nanoseconds(500));
  EXPECT_EQ(m.seconds(), -1);
  EXPECT_EQ(m.nanos(), 999999000);
}

TEST(RecordTest, FromFullSpec) {
  LeaseSpec spec;
  spec.set_holderidentity("a");
  spec.set_leasedurationseconds(15);
  spec.mutable_acquiretime()->set_seconds(100);
  spec.mutable_acquiretime()->set_nanos(5000);
  spec.mutable_renewtime()->set_seconds(200);
  spec.set_leasetransitions(3);
  spec.set_strategy("OldestEmulationVersion");
  spec.set_preferredholder("b");
  LeaderElectionRecord r = RecordFromLeaseSpec(spec);
  EXPECT_EQ(r.holder_identity, "a");
  EXPECT_EQ(r.lease_duration_seconds, 15);
  EXPECT_EQ(r.acquire_time, absl::FromUnixSeconds(100) + absl::Microseconds(5));
  EXPECT_EQ(r.renew_time, absl::FromUnixSeconds(200));
  EXPECT_EQ(r.leader_transitions, 3);
  EXPECT_EQ(r.strategy, "OldestEmulationVersion");
  EXPECT_EQ(r.preferred_holder, "b");
}

TEST(RecordTest, AbsentFieldsAreZero) {
  LeaderElectionRecord r = RecordFromLeaseSpec(LeaseSpec());
  EXPECT_EQ(r, LeaderElectionRecord());
  EXPECT_EQ(r.holder_identity, "");
  EXPECT_EQ(r.lease_duration_seconds, 0);
  EXPECT_EQ(r.leader_transitions, 0);
}

TEST(RecordTest, ToSpecWritesTheFiveFieldsAlways) {
  // Upstream's LeaderElectionRecordToLeaseSpec sets pointers for all five, so a
  // released lock has holderIdentity "" (not absent).
  LeaderElectionRecord r;
  r.lease_duration_seconds = 1;
  LeaseSpec spec = LeaseSpecFromRecord(r);
  EXPECT_TRUE(spec.has_holderidentity());
  EXPECT_EQ(spec.holderidentity(), "");
  EXPECT_TRUE(spec.has_leasedurationseconds());
  EXPECT_EQ(spec.leasedurationseconds(), 1);
  EXPECT_TRUE(spec.has_acquiretime());
  EXPECT_TRUE(spec.has_renewtime());
  EXPECT_TRUE(spec.has_leasetransitions());
  EXPECT_EQ(spec.leasetransitions(), 0);
  EXPECT_FALSE(spec.has_strategy());
  EXPECT_FALSE(spec.has_preferredholder());
}

TEST(RecordTest, RoundTrip) {
  LeaderElectionRecord r;
  r.holder_identity = "node-1_abc";
  r.lease_duration_seconds = 15;
  r.acquire_time = absl::FromUnixSeconds(1704164645) + absl::Microseconds(1);
  r.renew_time = absl::FromUnixSeconds(1704164660) + absl::Microseconds(999999);
  r.leader_transitions = 7;
  EXPECT_EQ(RecordFromLeaseSpec(LeaseSpecFromRecord(r)), r);
}

}  // namespace
}  // namespace kslice::controller::leaderelection
