// The leader election record: what a lock stores about the current leader, and its
// mapping onto a coordination.k8s.io/v1 Lease spec (client-go's
// resourcelock.LeaderElectionRecord and LeaseSpecToLeaderElectionRecord /
// LeaderElectionRecordToLeaseSpec).
//
//   LeaderElectionRecord r = RecordFromLeaseSpec(lease.spec());
//   if (r.holder_identity.empty()) { /* free */ }
//   *lease.mutable_spec() = LeaseSpecFromRecord(r);
//
// Times are wall-clock times (the Lease carries them as MicroTime, RFC 3339 with
// microseconds). The election algorithm never compares them with its own clock: it
// only notices whether the record changed (see leader_elector.h).
#ifndef KSLICE_CONTROLLER_LEADERELECTION_RECORD_H_
#define KSLICE_CONTROLLER_LEADERELECTION_RECORD_H_

#include <string>

#include "absl/time/time.h"
#include "api/coordination/v1/coordination.pb.h"
#include "api/meta/v1/meta.pb.h"

namespace kslice::controller::leaderelection {

struct LeaderElectionRecord {
  // "" when nobody holds the lock (never acquired, or released).
  std::string holder_identity{};
  int lease_duration_seconds = 0;
  // Absent in the Lease: absl::UnixEpoch().
  absl::Time acquire_time = absl::UnixEpoch();
  absl::Time renew_time = absl::UnixEpoch();
  int leader_transitions = 0;
  // Coordinated leader election only (kslice does not implement it; carried through).
  std::string strategy{};
  std::string preferred_holder{};

  bool operator==(const LeaderElectionRecord&) const = default;
};

// Absent fields map to the zero values above.
LeaderElectionRecord RecordFromLeaseSpec(const api::coordination::v1::LeaseSpec& spec);

// Sets holderIdentity, leaseDurationSeconds, acquireTime, renewTime and
// leaseTransitions always (as upstream: even an empty holder is written), strategy and
// preferredHolder only when non-empty.
api::coordination::v1::LeaseSpec LeaseSpecFromRecord(const LeaderElectionRecord& record);

// MicroTime <-> absl::Time. ToMicroTime truncates to whole microseconds (toward the
// past), the precision the Lease keeps, so a written time reads back unchanged.
api::meta::v1::MicroTime ToMicroTime(absl::Time t);
absl::Time FromMicroTime(const api::meta::v1::MicroTime& t);
// t truncated to whole microseconds.
absl::Time TruncateToMicros(absl::Time t);

}  // namespace kslice::controller::leaderelection

#endif  // KSLICE_CONTROLLER_LEADERELECTION_RECORD_H_
