// Rate limiters for work-queue retries (client-go's util/workqueue
// default_rate_limiters.go): they decide how long an item waits before it is
// retried.
//
//   auto queue = RateLimitingQueue(DefaultControllerRateLimiter(), config);
//   queue.AddRateLimited(key);   // waits limiter->When(key)
//   queue.Forget(key);           // on success: reset the item's failure count
//
// Limiters compose: MaxOf takes the longest delay of several. Every limiter is
// thread-safe. Per-item limiters remember each item until Forget(item): callers must
// Forget items they stop retrying, or the memory grows.
#ifndef KSLICE_CONTROLLER_WORKQUEUE_RATE_LIMITERS_H_
#define KSLICE_CONTROLLER_WORKQUEUE_RATE_LIMITERS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/flowcontrol/clock.h"

namespace kslice::controller::workqueue {

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long item should wait now; counts a failure for per-item limiters.
  virtual absl::Duration When(const std::string& item) = 0;
  // Stops tracking item (its failures are forgotten).
  virtual void Forget(const std::string& item) = 0;
  // How many failures item has had (0 for limiters that do not count).
  virtual int NumRequeues(const std::string& item) = 0;
};

// base * 2^failures, capped at max (also when the product overflows). The failure
// count is that before this call: the first When is `base`.
std::unique_ptr<RateLimiter> NewItemExponentialFailureRateLimiter(absl::Duration base,
                                                                  absl::Duration max);
// NewItemExponentialFailureRateLimiter(1ms, 1000s).
std::unique_ptr<RateLimiter> DefaultItemBasedRateLimiter();

// `fast` for the first max_fast_attempts failures of an item, `slow` afterwards.
std::unique_ptr<RateLimiter> NewItemFastSlowRateLimiter(absl::Duration fast,
                                                        absl::Duration slow,
                                                        int max_fast_attempts);

// An overall token bucket (golang.org/x/time/rate's Reserve().Delay()): the bucket
// starts full with `burst` tokens and refills at `qps` per second; each When takes a
// token, possibly one in the future, and returns how long until it is available.
// Per-item state: none (NumRequeues is 0, Forget does nothing). Errors:
// InvalidArgument unless qps > 0 and finite and burst >= 1. `clock` is not owned.
absl::StatusOr<std::unique_ptr<RateLimiter>> NewBucketRateLimiter(
    double qps, int burst,
    client::flowcontrol::Clock* clock = &client::flowcontrol::Clock::Real());

// The largest When of all limiters (each is called, so each counts the failure);
// NumRequeues is the largest count; Forget forgets in all.
std::unique_ptr<RateLimiter> NewMaxOfRateLimiter(
    std::vector<std::unique_ptr<RateLimiter>> limiters);

// `limiter`'s delay capped at max_delay (client-go's WithMaxWaitRateLimiter).
std::unique_ptr<RateLimiter> NewWithMaxWaitRateLimiter(std::unique_ptr<RateLimiter> limiter,
                                                       absl::Duration max_delay);

// client-go's DefaultControllerRateLimiter: MaxOf(exponential 5ms..1000s per item,
// token bucket of 10 qps with a burst of 100 overall).
std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(
    client::flowcontrol::Clock* clock = &client::flowcontrol::Clock::Real());

}  // namespace kslice::controller::workqueue

#endif  // KSLICE_CONTROLLER_WORKQUEUE_RATE_LIMITERS_H_
