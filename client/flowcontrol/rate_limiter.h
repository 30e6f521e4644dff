// Client-side request rate limiting (client-go's util/flowcontrol token bucket).
//
// Every REST request, list and watch opens included, takes one token before it is
// sent; retries take another. client-go's defaults are 5 QPS with a burst of 10 per
// rest.Config.
//
//   auto limiter = TokenBucketRateLimiter::Create(kDefaultQps, kDefaultBurst);
//   if (absl::Status s = limiter->Wait(stop, deadline); !s.ok()) return s;
//   send(request);
//
// Behavior (that of golang.org/x/time/rate, which client-go wraps): the bucket starts
// full with `burst` tokens and refills at `qps` tokens per second up to `burst`.
// Wait reserves the next token, possibly in the future, and sleeps until then;
// waiters are served in the order they reserved. If the token's time is past the
// deadline, Wait fails at once without reserving; if `stop` is requested while
// sleeping, the reservation is returned to the bucket.
#ifndef KSLICE_CLIENT_FLOWCONTROL_RATE_LIMITER_H_
#define KSLICE_CLIENT_FLOWCONTROL_RATE_LIMITER_H_

#include <memory>
#include <mutex>
#include <stop_token>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/flowcontrol/clock.h"

namespace kslice::client::flowcontrol {

// client-go's rest.Config defaults (DefaultQPS, DefaultBurst).
inline constexpr double kDefaultQps = 5.0;
inline constexpr int kDefaultBurst = 10;

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;

  // Takes a token if one is available now; never blocks.
  virtual bool TryAccept() = 0;

  // Blocks until a token is available and takes it. Errors: Cancelled when `stop`
  // is (or gets) requested, DeadlineExceeded when the deadline has passed or the
  // token would only be available after it. Thread-safe.
  virtual absl::Status Wait(std::stop_token stop = {},
                            absl::Time deadline = absl::InfiniteFuture()) = 0;

  // The configured rate; 0 for an unlimited limiter.
  virtual double Qps() const = 0;
};

class TokenBucketRateLimiter : public RateLimiter {
 public:
  // qps <= 0 means unlimited (every call is accepted at once). A burst below 1 is
  // taken as 1 (x/time/rate would refuse every request). `clock` (not owned) must
  // outlive the limiter.
  static std::unique_ptr<TokenBucketRateLimiter> Create(double qps, int burst,
                                                        Clock* clock = &Clock::Real());

  bool TryAccept() override;
  absl::Status Wait(std::stop_token stop = {},
                    absl::Time deadline = absl::InfiniteFuture()) override;
  double Qps() const override { return unlimited_ ? 0 : qps_; }
  int Burst() const { return burst_; }

 private:
  TokenBucketRateLimiter(double qps, int burst, Clock* clock);

  // The limiter is kept as GCRA ("virtual scheduling"): `tat_` is the time at which
  // the bucket would be full again. Taking a token at `now` moves it to
  // max(tat_, now) + interval_; that is allowed at once if the result is at most
  // burst * interval_ ahead of now, otherwise at (result - burst * interval_). This
  // is the token bucket in exact integer time arithmetic, so fake-clock tests are
  // deterministic.
  const double qps_;
  const int burst_;
  const bool unlimited_;
  const absl::Duration interval_;  // 1 / qps
  Clock* const clock_;             // not owned

  std::mutex mu_;
  absl::Time tat_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace kslice::client::flowcontrol

#endif  // KSLICE_CLIENT_FLOWCONTROL_RATE_LIMITER_H_
