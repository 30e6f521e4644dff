#include "controller/leaderelection/leader_elector.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/errors/errors.h"

namespace kslice::controller::leaderelection {

using client::flowcontrol::Clock;

absl::StatusOr<std::unique_ptr<LeaderElector>> LeaderElector::Create(
    LeaderElectionConfig config) {
  // The checks and their order follow upstream's NewLeaderElector.
  if (config.lease_duration <= config.renew_deadline) {
    return absl::InvalidArgumentError("leaseDuration must be greater than renewDeadline");
  }
  if (config.renew_deadline <= config.retry_period * kJitterFactor) {
    return absl::InvalidArgumentError("renewDeadline must be greater than retryPeriod*JitterFactor");
  }
  if (config.lease_duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("leaseDuration must be greater than zero");
  }
  if (config.renew_deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("renewDeadline must be greater than zero");
  }
  if (config.retry_period <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("retryPeriod must be greater than zero");
  }
  // Not in upstream: the Lease keeps whole seconds, and 0 would make every lease
  // look expired to the other candidates.
  if (config.lease_duration < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        "leaseDuration must be at least 1s (the Lease stores whole seconds)");
  }
  if (!config.callbacks.on_started_leading) {
    return absl::InvalidArgumentError("OnStartedLeading callback must not be nil");
  }
  if (!config.callbacks.on_stopped_leading) {
    return absl::InvalidArgumentError("OnStoppedLeading callback must not be nil");
  }
  if (config.lock == nullptr) return absl::InvalidArgumentError("Lock must not be nil.");
  if (config.lock->Identity().empty()) return absl::InvalidArgumentError("Lock identity is empty");
  return std::unique_ptr<LeaderElector>(new LeaderElector(std::move(config)));
}

LeaderElector::LeaderElector(LeaderElectionConfig config)
    : config_(std::move(config)),
      clock_(config_.clock != nullptr ? *config_.clock : Clock::Real()),
      identity_(config_.lock->Identity()),
      rng_(std::random_device{}()) {}

absl::Time LeaderElector::WallNow() const {
  return TruncateToMicros(config_.wall_clock ? config_.wall_clock() : absl::Now());
}

std::string LeaderElector::GetLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_record_.holder_identity;
}

bool LeaderElector::IsLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_record_.holder_identity == identity_;
}

LeaderElectionRecord LeaderElector::ObservedRecord() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_record_;
}

absl::Time LeaderElector::ObservedTime() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_time_;
}

absl::Status LeaderElector::Check(absl::Duration max_tolerable_expired_lease) const {
  absl::Time last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (observed_record_.holder_identity != identity_) return absl::OkStatus();
    last = observed_time_;
  }
  if (clock_.Now() - last > config_.lease_duration + max_tolerable_expired_lease) {
    return absl::UnavailableError(
        absl::StrCat("failed election to renew leadership on lease ", config_.name));
  }
  return absl::OkStatus();
}

bool LeaderElector::IsLeaseValid(absl::Time now) const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_time_ + absl::Seconds(observed_record_.lease_duration_seconds) > now;
}

void LeaderElector::SetObservedRecord(const LeaderElectionRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  observed_record_ = record;
  observed_time_ = clock_.Now();
}

void LeaderElector::MaybeReportTransition() {
  const std::string holder = GetLeader();
  if (holder == reported_leader_) return;
  reported_leader_ = holder;
  if (config_.callbacks.on_new_leader) config_.callbacks.on_new_leader(holder);
}

bool LeaderElector::TryAcquireOrRenew() {
  const absl::Time now = clock_.Now();
  const absl::Time wall = WallNow();
  LeaderElectionRecord record;
  record.holder_identity = identity_;
  record.lease_duration_seconds =
      static_cast<int>(absl::ToInt64Seconds(config_.lease_duration));
  record.acquire_time = wall;
  record.renew_time = wall;

  // 1. Fast path: a leader with a valid lease writes over the Lease it last saw.
  if (IsLeader() && IsLeaseValid(now)) {
    const LeaderElectionRecord old = ObservedRecord();
    record.acquire_time = old.acquire_time;
    record.leader_transitions = old.leader_transitions;
    if (config_.lock->Update(record).ok()) {
      SetObservedRecord(record);
      return true;
    }
    // Fall through to the slow path (the Lease changed, or the write failed).
  }

  // 2. Read the record, or create it.
  absl::StatusOr<LeaderElectionRecord> old = config_.lock->Get();
  if (!old.ok()) {
    if (!absl::IsNotFound(old.status())) return false;
    if (!config_.lock->Create(record).ok()) return false;
    SetObservedRecord(record);
    return true;
  }

  // 3. Note when the record last changed (by our clock).
  if (!observed_raw_record_.has_value() || *observed_raw_record_ != *old) {
    SetObservedRecord(*old);
    observed_raw_record_ = *old;
  }
  if (!old->holder_identity.empty() && IsLeaseValid(now) && !IsLeader()) {
    return false;  // held by someone else, not expired
  }

  // 4. Take or keep it.
  if (IsLeader()) {
    record.acquire_time = old->acquire_time;
    record.leader_transitions = old->leader_transitions;
    if (config_.metrics != nullptr) config_.metrics->SlowpathExercised(config_.name);
  } else {
    record.leader_transitions = old->leader_transitions + 1;
  }
  if (!config_.lock->Update(record).ok()) return false;
  SetObservedRecord(record);
  return true;
}

bool LeaderElector::Acquire(std::stop_token stop) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  while (!stop.stop_requested()) {
    const bool ok = TryAcquireOrRenew();
    MaybeReportTransition();
    if (ok) {
      if (config_.metrics != nullptr) config_.metrics->LeaderOn(config_.name);
      return true;
    }
    const absl::Duration pause =
        config_.retry_period + config_.retry_period * (kJitterFactor * unit(rng_));
    if (!clock_.SleepUntil(clock_.Now() + pause, stop)) return false;
  }
  return false;
}

void LeaderElector::Renew(std::stop_token stop) {
  while (true) {
    // One round: try now, then every retry_period, until success or renew_deadline.
    const absl::Time deadline = clock_.Now() + config_.renew_deadline;
    bool renewed = false;
    while (!stop.stop_requested()) {
      const absl::Time attempt = clock_.Now();
      const bool ok = TryAcquireOrRenew();
      // Upstream's attempt runs under the round's deadline; a write that completes
      // after it is a failure there too (its request context was cancelled).
      if (ok && clock_.Now() <= deadline) {
        renewed = true;
        break;
      }
      const absl::Time next = std::min(attempt + config_.retry_period, deadline);
      if (!clock_.SleepUntil(next, stop)) break;
      if (clock_.Now() >= deadline) break;
    }
    MaybeReportTransition();
    if (!renewed) break;
    if (!clock_.SleepUntil(clock_.Now() + config_.retry_period, stop)) break;
  }
  if (config_.metrics != nullptr) config_.metrics->LeaderOff(config_.name);
}

bool LeaderElector::Release() {
  const absl::Time deadline = clock_.Now() + config_.renew_deadline;
  // Retries on Conflict (an in-flight renewal may have bumped the resourceVersion),
  // within renew_deadline.
  while (true) {
    absl::StatusOr<LeaderElectionRecord> old = config_.lock->Get();
    if (!old.ok()) return false;
    if (!IsLeader()) return true;
    const absl::Time wall = WallNow();
    LeaderElectionRecord record;
    record.leader_transitions = old->leader_transitions;
    record.lease_duration_seconds = 1;
    record.renew_time = wall;
    record.acquire_time = wall;
    absl::Status s = config_.lock->Update(record);
    if (s.ok()) {
      SetObservedRecord(record);
      return true;
    }
    if (!client::IsConflict(s) || clock_.Now() >= deadline) return false;
  }
}

void LeaderElector::Run(std::stop_token stop) {
  if (!Acquire(stop)) {
    config_.callbacks.on_stopped_leading();
    return;
  }
  {
    std::stop_source leading;
    // Run's stop ends the leading callback at once, as a derived context would.
    std::stop_callback forward(stop, [&leading] { leading.request_stop(); });
    std::thread worker(
        [this, token = leading.get_token()] { config_.callbacks.on_started_leading(token); });
    Renew(stop);
    leading.request_stop();
    worker.join();
  }
  if (config_.release_on_cancel) Release();
  config_.callbacks.on_stopped_leading();
}

absl::Status RunLeaderElection(LeaderElectionConfig config, std::stop_token stop) {
  HealthzAdaptor* watchdog = config.watchdog;
  absl::StatusOr<std::unique_ptr<LeaderElector>> elector = LeaderElector::Create(std::move(config));
  if (!elector.ok()) return elector.status();
  if (watchdog != nullptr) watchdog->SetLeaderElection(elector->get());
  (*elector)->Run(stop);
  if (watchdog != nullptr) watchdog->SetLeaderElection(nullptr);
  return absl::OkStatus();
}

absl::Status HealthzAdaptor::Check() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (elector_ == nullptr) return absl::OkStatus();
  return elector_->Check(timeout_);
}

void HealthzAdaptor::SetLeaderElection(const LeaderElector* elector) {
  std::lock_guard<std::mutex> lock(mu_);
  elector_ = elector;
}

}  // namespace kslice::controller::leaderelection
