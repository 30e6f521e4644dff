#include "client/flowcontrol/backoff.h"

#include <algorithm>
#include <utility>

namespace kslice::client::flowcontrol {

Backoff::Backoff(BackoffOptions options, Clock* clock, std::function<double()> random)
    : options_(options),
      clock_(clock),
      random_(std::move(random)),
      engine_(std::random_device{}()),
      base_(options.initial) {}

absl::Duration Backoff::Next() {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_->Now();
  if (last_.has_value() && options_.reset_after > absl::ZeroDuration() &&
      now - *last_ > options_.reset_after) {
    base_ = options_.initial;
    attempts_ = 0;
  }
  last_ = now;

  const absl::Duration base = std::min(base_, options_.cap);
  // Grow for next time; pin at the cap (this also stops overflow).
  const double factor = std::max(options_.factor, 1.0);
  base_ = base_ >= options_.cap ? options_.cap : std::min(base_ * factor, options_.cap);
  ++attempts_;

  if (options_.jitter <= 0) return base;
  double u = random_ ? random_() : std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
  u = std::clamp(u, 0.0, 1.0);
  return base + base * (u * options_.jitter);
}

absl::Duration Backoff::Next(std::optional<absl::Duration> retry_after) {
  const absl::Duration delay = Next();
  if (retry_after.has_value() && *retry_after > delay) return *retry_after;
  return delay;
}

void Backoff::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  base_ = options_.initial;
  attempts_ = 0;
  last_.reset();
}

int Backoff::attempts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return attempts_;
}

}  // namespace kslice::client::flowcontrol
