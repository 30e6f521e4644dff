#include "proxy/sync_runner.h"

#include <algorithm>
#include <utility>

namespace kslice::proxy {

SyncSchedule::SyncSchedule(const SyncRunnerOptions& options, absl::Time now)
    : options_(options),
      tokens_(std::max(1, options.burst)),
      refilled_at_(now),
      periodic_at_(options.max_interval > absl::ZeroDuration() ? now + options.max_interval
                                                               : absl::InfiniteFuture()) {}

void SyncSchedule::Refill(absl::Time now) {
  if (now <= refilled_at_) return;
  const double cap = std::max(1, options_.burst);
  if (options_.min_interval <= absl::ZeroDuration()) {
    tokens_ = cap;
  } else {
    tokens_ = std::min(cap, tokens_ + absl::FDivDuration(now - refilled_at_, options_.min_interval));
  }
  refilled_at_ = now;
}

absl::Duration SyncSchedule::BackoffFor(int failures) const {
  absl::Duration d = options_.retry_initial;
  for (int i = 1; i < failures && d < options_.retry_max; ++i) d *= 2;
  return std::min(d, options_.retry_max);
}

absl::Time SyncSchedule::NextRun(absl::Time now) {
  Refill(now);
  absl::Time earliest = periodic_at_;
  if (in_backoff()) {
    earliest = std::min(earliest, retry_at_);  // requests wait for the retry
  } else if (requested_) {
    earliest = std::min(earliest, now);
  }
  if (earliest == absl::InfiniteFuture()) return earliest;
  if (tokens_ < 1 && options_.min_interval > absl::ZeroDuration()) {
    absl::Time token_at = refilled_at_ + (1 - tokens_) * options_.min_interval;
    earliest = std::max(earliest, token_at);
  }
  return earliest;
}

void SyncSchedule::Started(absl::Time now) {
  Refill(now);
  tokens_ = std::max(0.0, tokens_ - 1);
  requested_ = false;
}

void SyncSchedule::Finished(absl::Time now, bool ok) {
  if (ok) {
    failures_ = 0;
    retry_at_ = absl::InfiniteFuture();
  } else {
    ++failures_;
    retry_at_ = now + BackoffFor(failures_);
  }
  periodic_at_ = options_.max_interval > absl::ZeroDuration() ? now + options_.max_interval
                                                              : absl::InfiniteFuture();
}

SyncRunner::SyncRunner(SyncFunc fn, SyncRunnerOptions options)
    : fn_(std::move(fn)), options_(options), schedule_(options, options.clock->Now()) {}

void SyncRunner::Run() {
  std::lock_guard<std::mutex> l(mu_);
  schedule_.Request();
  wake_.request_stop();
}

void SyncRunner::Loop(std::stop_token stop) {
  client::flowcontrol::Clock& clock = *options_.clock;
  while (!stop.stop_requested()) {
    std::stop_token wake;
    absl::Time next;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (wake_.stop_requested()) wake_ = std::stop_source();
      wake = wake_.get_token();
      next = schedule_.NextRun(clock.Now());
    }
    if (next > clock.Now()) {
      // Woken early by Run() or by stop; either way recompute.
      std::stop_callback on_stop(stop, [this] {
        std::lock_guard<std::mutex> l(mu_);
        wake_.request_stop();
      });
      clock.SleepUntil(next, wake);
      continue;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      schedule_.Started(clock.Now());
      ++runs_;
    }
    absl::Status s = fn_();
    {
      std::lock_guard<std::mutex> l(mu_);
      schedule_.Finished(clock.Now(), s.ok());
      if (!s.ok()) ++failed_runs_;
    }
  }
}

int64_t SyncRunner::runs() const {
  std::lock_guard<std::mutex> l(mu_);
  return runs_;
}

int64_t SyncRunner::failed_runs() const {
  std::lock_guard<std::mutex> l(mu_);
  return failed_runs_;
}

}  // namespace kslice::proxy
