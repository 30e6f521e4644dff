// Leader election on a Lease, after client-go's tools/leaderelection.
//
// Several candidates run a LeaderElector on the same lock; at most one of them
// believes it is the leader at a time (under the timing assumptions below), and when
// it stops renewing, another takes over within about one lease duration.
//
//   std::unique_ptr<LeaseClient> leases = NewRestLeaseClient(*rest_client);
//   LeaseLock lock(*leases, {.namespace_ = "kube-system", .name = "my-controller",
//                            .identity = my_id});
//   LeaderElectionConfig config;
//   config.lock = &lock;
//   config.callbacks.on_started_leading = [&](std::stop_token stop) { RunControllers(stop); };
//   config.callbacks.on_stopped_leading = [] { /* usually: exit the process */ };
//   auto elector = LeaderElector::Create(std::move(config));
//   if (!elector.ok()) return elector.status();
//   (*elector)->Run(stop_token);   // blocks until stopped or the lease is lost
//
// How it works. Run first *acquires*: every retry_period (with jitter: a pause in
// [retry_period, 2.2 * retry_period)) it tries to take the lock, until it succeeds or
// `stop` is requested. It then calls on_started_leading on a new thread and *renews*:
// each round keeps trying every retry_period to write a fresh renewTime, and a round
// that has not succeeded renew_deadline after it began ends the leadership; after a
// successful round it waits retry_period and starts the next.
//
// One attempt (TryAcquireOrRenew): a leader whose lease is still valid first writes
// the renewed record straight over the Lease it last saw (no read); otherwise, or when
// that fails, it reads the Lease, creates it when missing, gives up when another
// holder's lease is still valid, and writes itself as holder. Every write is
// conditional on the resourceVersion read: of two racing candidates one gets 409
// Conflict and loses. leaseTransitions grows by one whenever the holder changes.
//
// Clock skew. A lease is judged valid by the LOCAL clock only: "valid" means the
// record last *changed* less than leaseDurationSeconds ago, as measured by this
// process's (monotonic) clock from the moment it saw the change. The holder's
// renewTime is never compared with the local clock, so candidates whose clocks
// disagree by hours still behave; only the rate at which clocks run matters.
//
// Guarantees and non-guarantees.
//  * Not a fence. Leader election does not stop two processes from acting at once:
//    a leader that is paused (GC, swap, a stopped VM) or partitioned keeps believing
//    it leads until its own renew deadline passes, and nothing stops its writes that
//    are already in flight. Protect shared state with its own preconditions
//    (resourceVersions) when a brief overlap matters.
//  * Timing assumption: a leader stops by (last successful renew) + retry_period +
//    renew_deadline, while others take over no sooner than lease_duration after they
//    saw that renew. Hence lease_duration > renew_deadline + retry_period plus request
//    latency keeps leaderships from overlapping (the defaults leave 3 s).
//  * A request that hangs is not aborted at the renew deadline; a late success counts
//    as a failure, but the wait is not bounded. Give the client a request timeout.
//  * Callbacks run on the elector's threads: on_new_leader and on_stopped_leading on
//    the thread calling Run, on_started_leading on a thread of its own. Keep
//    on_new_leader short (renewals wait for it).
#ifndef KSLICE_CONTROLLER_LEADERELECTION_LEADER_ELECTOR_H_
#define KSLICE_CONTROLLER_LEADERELECTION_LEADER_ELECTOR_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/flowcontrol/clock.h"
#include "controller/leaderelection/lease_lock.h"
#include "controller/leaderelection/record.h"

namespace kslice::controller::leaderelection {

// The acquire loop's jitter: a pause of retry_period * (1 + JitterFactor * rand[0,1)).
inline constexpr double kJitterFactor = 1.2;

// The component defaults (component-base's LeaderElectionConfiguration).
inline constexpr absl::Duration kDefaultLeaseDuration = absl::Seconds(15);
inline constexpr absl::Duration kDefaultRenewDeadline = absl::Seconds(10);
inline constexpr absl::Duration kDefaultRetryPeriod = absl::Seconds(2);

struct LeaderCallbacks {
  // Required. Called on a new thread when this candidate becomes leader. `stop` is
  // requested when leadership ends (lease lost, or Run's stop requested); the
  // function must then return promptly: Run waits for it before releasing the lease
  // and returning.
  std::function<void(std::stop_token stop)> on_started_leading{};
  // Required. Called once when Run ends, whether or not this candidate ever led (do
  // not assume it follows on_started_leading). When it led, on_started_leading has
  // returned and the lease was released (release_on_cancel) before this call.
  std::function<void()> on_stopped_leading{};
  // Optional. Called whenever the observed holder changes from the one last reported,
  // including the first holder seen and this candidate itself. An empty identity
  // means the lock is free (released).
  std::function<void(const std::string& identity)> on_new_leader{};
};

// Hooks for metrics (upstream's leaderMetricsAdapter); e.g. a gauge "is leader" per
// name and a counter of transitions. Not owned; must be thread-safe.
class LeaderMetrics {
 public:
  virtual ~LeaderMetrics() = default;
  // This candidate became leader / stopped being leader of lock `name`.
  virtual void LeaderOn(absl::string_view name) = 0;
  virtual void LeaderOff(absl::string_view name) = 0;
  // A leader had to read the lock before renewing (the optimistic write failed or
  // the lease looked expired).
  virtual void SlowpathExercised(absl::string_view /*name*/) {}
};

class HealthzAdaptor;

struct LeaderElectionConfig {
  // Required. Not owned; must outlive the elector.
  ResourceLock* lock = nullptr;
  // How long non-leaders wait, from the last change they saw, before taking over. At
  // least 1 s: the Lease stores whole seconds (leaseDurationSeconds =
  // floor(lease_duration / 1 s)).
  absl::Duration lease_duration = kDefaultLeaseDuration;
  // How long a leader keeps retrying to renew before it gives up leadership.
  absl::Duration renew_deadline = kDefaultRenewDeadline;
  // The pause between attempts.
  absl::Duration retry_period = kDefaultRetryPeriod;
  LeaderCallbacks callbacks{};
  // On leaving (stop requested, or renewal failed), write the lock free (empty holder,
  // leaseDurationSeconds 1) so another candidate takes over at once instead of after
  // a lease duration. on_started_leading has returned by then.
  bool release_on_cancel = false;
  // The lock's name for metrics and health messages.
  std::string name{};
  // Optional metrics hooks (not owned).
  LeaderMetrics* metrics = nullptr;
  // Optional health check tied to the elector by RunLeaderElection (not owned).
  HealthzAdaptor* watchdog = nullptr;
  // Time source for lease validity, sleeps and deadlines (not owned); nullptr: the
  // real monotonic clock.
  client::flowcontrol::Clock* clock = nullptr;
  // Time of day written into acquireTime / renewTime; empty: absl::Now. Only written,
  // never compared with `clock`.
  std::function<absl::Time()> wall_clock{};
};

class LeaderElector {
 public:
  // Checks the config as upstream's NewLeaderElector does (InvalidArgument):
  // lease_duration > renew_deadline > kJitterFactor * retry_period, all > 0,
  // lease_duration >= 1 s, both required callbacks set, lock set with a non-empty
  // identity.
  static absl::StatusOr<std::unique_ptr<LeaderElector>> Create(LeaderElectionConfig config);

  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Acquires, leads, and returns when leadership is lost or `stop` is requested
  // (then: stop the leading callback, wait for it, release if configured, call
  // on_stopped_leading). Not re-entrant: one Run at a time.
  void Run(std::stop_token stop);

  // The holder identity last observed ("" before the first observation).
  std::string GetLeader() const;
  // True when the observed holder is this candidate.
  bool IsLeader() const;
  // Health: an error when this candidate believes it leads but has not renewed (nor
  // seen the record) for longer than lease_duration + max_tolerable_expired_lease,
  // e.g. because the renew loop is stuck. OK for non-leaders.
  absl::Status Check(absl::Duration max_tolerable_expired_lease) const;

  // The last record observed or written, and when (by the config's clock).
  LeaderElectionRecord ObservedRecord() const;
  absl::Time ObservedTime() const;

  const LeaderElectionConfig& config() const { return config_; }

 private:
  friend class LeaderElectorTestPeer;
  explicit LeaderElector(LeaderElectionConfig config);

  bool Acquire(std::stop_token stop);
  void Renew(std::stop_token stop);
  // One attempt; true when this candidate holds the lock afterwards.
  bool TryAcquireOrRenew();
  // Writes the lock free if this candidate holds it; false on failure.
  bool Release();
  void MaybeReportTransition();
  bool IsLeaseValid(absl::Time now) const;
  void SetObservedRecord(const LeaderElectionRecord& record);
  absl::Time WallNow() const;

  const LeaderElectionConfig config_;
  client::flowcontrol::Clock& clock_;
  const std::string identity_;

  mutable std::mutex mu_;
  LeaderElectionRecord observed_record_ ABSL_GUARDED_BY(mu_);
  absl::Time observed_time_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();

  // Used only by the thread in Run.
  std::optional<LeaderElectionRecord> observed_raw_record_;  // as last read by Get
  std::string reported_leader_;
  std::mt19937_64 rng_;
};

// Creates an elector, ties config.watchdog to it, and runs it (upstream RunOrDie,
// returning the config error instead of panicking).
absl::Status RunLeaderElection(LeaderElectionConfig config, std::stop_token stop);

// Health check for /healthz that can be registered before the elector exists
// (upstream HealthzAdaptor). Thread-safe.
class HealthzAdaptor {
 public:
  // `timeout`: how long past the lease duration an unrenewed lease is still healthy.
  explicit HealthzAdaptor(absl::Duration timeout) : timeout_(timeout) {}

  // "leaderElection".
  std::string Name() const { return "leaderElection"; }
  // OK without an elector or when not leading; see LeaderElector::Check.
  absl::Status Check() const;
  // `elector` is not owned; nullptr detaches. Detach before destroying the elector.
  void SetLeaderElection(const LeaderElector* elector);

 private:
  const absl::Duration timeout_;
  mutable std::mutex mu_;
  const LeaderElector* elector_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace kslice::controller::leaderelection

#endif  // KSLICE_CONTROLLER_LEADERELECTION_LEADER_ELECTOR_H_
