#include "client/flowcontrol/rate_limiter.h"

#include <algorithm>

namespace kslice::client::flowcontrol {

std::unique_ptr<TokenBucketRateLimiter> TokenBucketRateLimiter::Create(double qps, int burst,
                                                                       Clock* clock) {
  return std::unique_ptr<TokenBucketRateLimiter>(new TokenBucketRateLimiter(qps, burst, clock));
}

TokenBucketRateLimiter::TokenBucketRateLimiter(double qps, int burst, Clock* clock)
    : qps_(qps),
      burst_(std::max(burst, 1)),
      // A rate so high that one token takes less than the clock's resolution is no
      // limit at all.
      unlimited_(!(qps > 0) || absl::Seconds(1) / qps <= absl::ZeroDuration()),
      interval_(unlimited_ ? absl::ZeroDuration() : absl::Seconds(1) / qps),
      clock_(clock) {}

bool TokenBucketRateLimiter::TryAccept() {
  if (unlimited_) return true;
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_->Now();
  const absl::Time next = std::max(tat_, now) + interval_;
  if (next - now > burst_ * interval_) return false;
  tat_ = next;
  return true;
}

absl::Status TokenBucketRateLimiter::Wait(std::stop_token stop, absl::Time deadline) {
  if (stop.stop_requested()) return absl::CancelledError("rate limiter wait cancelled");
  absl::Time ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = clock_->Now();
    if (deadline <= now) {
      return absl::DeadlineExceededError("rate limiter wait: deadline already passed");
    }
    if (unlimited_) return absl::OkStatus();
    const absl::Time next = std::max(tat_, now) + interval_;
    ready = std::max(now, next - burst_ * interval_);
    if (ready > deadline) {
      return absl::DeadlineExceededError(
          "rate limiter wait: the next token comes after the deadline");
    }
    tat_ = next;
    if (ready <= now) return absl::OkStatus();
  }
  if (clock_->SleepUntil(ready, stop)) return absl::OkStatus();

  // Stopped while waiting: hand the unused token back. Later reservations keep the
  // times they were given; the returned slot goes to the next new request, so the
  // number of tokens handed out over any window stays within the limit.
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (clock_->Now() < ready) tat_ -= interval_;
  }
  return absl::CancelledError("rate limiter wait cancelled");
}

}  // namespace kslice::client::flowcontrol
