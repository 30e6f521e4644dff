#include "controller/leaderelection/record.h"

#include <cstdint>

namespace kslice::controller::leaderelection {

absl::Time TruncateToMicros(absl::Time t) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), absl::Microseconds(1));
}

api::meta::v1::MicroTime ToMicroTime(absl::Time t) {
  const absl::Duration since = absl::Floor(t - absl::UnixEpoch(), absl::Microseconds(1));
  const absl::Duration whole = absl::Floor(since, absl::Seconds(1));
  api::meta::v1::MicroTime m;
  m.set_seconds(absl::ToInt64Seconds(whole));
  m.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(since - whole)));
  return m;
}

absl::Time FromMicroTime(const api::meta::v1::MicroTime& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

LeaderElectionRecord RecordFromLeaseSpec(const api::coordination::v1::LeaseSpec& spec) {
  LeaderElectionRecord r;
  if (spec.has_holderidentity()) r.holder_identity = spec.holderidentity();
  if (spec.has_leasedurationseconds()) r.lease_duration_seconds = spec.leasedurationseconds();
  if (spec.has_leasetransitions()) r.leader_transitions = spec.leasetransitions();
  if (spec.has_acquiretime()) r.acquire_time = FromMicroTime(spec.acquiretime());
  if (spec.has_renewtime()) r.renew_time = FromMicroTime(spec.renewtime());
  if (spec.has_preferredholder()) r.preferred_holder = spec.preferredholder();
  if (spec.has_strategy()) r.strategy = spec.strategy();
  return r;
}

api::coordination::v1::LeaseSpec LeaseSpecFromRecord(const LeaderElectionRecord& record) {
  api::coordination::v1::LeaseSpec spec;
  spec.set_holderidentity(record.holder_identity);
  spec.set_leasedurationseconds(record.lease_duration_seconds);
  *spec.mutable_acquiretime() = ToMicroTime(record.acquire_time);
  *spec.mutable_renewtime() = ToMicroTime(record.renew_time);
  spec.set_leasetransitions(record.leader_transitions);
  if (!record.preferred_holder.empty()) spec.set_preferredholder(record.preferred_holder);
  if (!record.strategy.empty()) spec.set_strategy(record.strategy);
  return spec;
}

}  // namespace kslice::controller::leaderelection
