#include "controller/workqueue/rate_limiters.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kslice::controller::workqueue {

namespace {

class ItemExponentialFailureRateLimiter : public RateLimiter {
 public:
  ItemExponentialFailureRateLimiter(absl::Duration base, absl::Duration max)
      : base_(base), max_(max) {}

  absl::Duration When(const std::string& item) override {
    std::lock_guard<std::mutex> lock(mu_);
    const int exp = failures_[item]++;
    // Computed in floating point so large exponents cannot overflow.
    const double backoff = absl::ToDoubleNanoseconds(base_) * std::pow(2.0, exp);
    if (!(backoff < 9.2233720368547758e18)) return max_;  // > MaxInt64 nanoseconds
    const absl::Duration calculated = absl::Nanoseconds(static_cast<int64_t>(backoff));
    return calculated > max_ ? max_ : calculated;
  }
  void Forget(const std::string& item) override {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.erase(item);
  }
  int NumRequeues(const std::string& item) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = failures_.find(item);
    return it == failures_.end() ? 0 : it->second;
  }

 private:
  const absl::Duration base_;
  const absl::Duration max_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, int> failures_ ABSL_GUARDED_BY(mu_);
};

class ItemFastSlowRateLimiter : public RateLimiter {
 public:
  ItemFastSlowRateLimiter(absl::Duration fast, absl::Duration slow, int max_fast)
      : fast_(fast), slow_(slow), max_fast_(max_fast) {}

  absl::Duration When(const std::string& item) override {
    std::lock_guard<std::mutex> lock(mu_);
    const int n = ++failures_[item];
    return n <= max_fast_ ? fast_ : slow_;
  }
  void Forget(const std::string& item) override {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.erase(item);
  }
  int NumRequeues(const std::string& item) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = failures_.find(item);
    return it == failures_.end() ? 0 : it->second;
  }

 private:
  const absl::Duration fast_;
  const absl::Duration slow_;
  const int max_fast_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, int> failures_ ABSL_GUARDED_BY(mu_);
};

// The token bucket kept as GCRA: `tat_` is when the bucket would be full again.
// client/flowcontrol's TokenBucketRateLimiter only offers blocking Wait and
// TryAccept, while the work queue needs x/time/rate's non-blocking Reserve (take a
// token now or in the future and report the delay), hence this small variant.
class BucketRateLimiter : public RateLimiter {
 public:
  BucketRateLimiter(absl::Duration interval, int burst, client::flowcontrol::Clock* clock)
      : interval_(interval), burst_(burst), clock_(clock) {}

  absl::Duration When(const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = clock_->Now();
    tat_ = std::max(tat_, now) + interval_;
    const absl::Time allowed = tat_ - burst_ * interval_;
    return allowed > now ? allowed - now : absl::ZeroDuration();
  }
  void Forget(const std::string&) override {}
  int NumRequeues(const std::string&) override { return 0; }

 private:
  const absl::Duration interval_;
  const int burst_;
  client::flowcontrol::Clock* const clock_;  // not owned
  std::mutex mu_;
  absl::Time tat_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

class MaxOfRateLimiter : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
      : limiters_(std::move(limiters)) {}

  absl::Duration When(const std::string& item) override {
    absl::Duration ret = absl::ZeroDuration();
    for (const auto& l : limiters_) ret = std::max(ret, l->When(item));
    return ret;
  }
  void Forget(const std::string& item) override {
    for (const auto& l : limiters_) l->Forget(item);
  }
  int NumRequeues(const std::string& item) override {
    int ret = 0;
    for (const auto& l : limiters_) ret = std::max(ret, l->NumRequeues(item));
    return ret;
  }

 private:
  const std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

class WithMaxWaitRateLimiter : public RateLimiter {
 public:
  WithMaxWaitRateLimiter(std::unique_ptr<RateLimiter> limiter, absl::Duration max)
      : limiter_(std::move(limiter)), max_(max) {}

  absl::Duration When(const std::string& item) override {
    return std::min(limiter_->When(item), max_);
  }
  void Forget(const std::string& item) override { limiter_->Forget(item); }
  int NumRequeues(const std::string& item) override { return limiter_->NumRequeues(item); }

 private:
  const std::unique_ptr<RateLimiter> limiter_;
  const absl::Duration max_;
};

}  // namespace

std::unique_ptr<RateLimiter> NewItemExponentialFailureRateLimiter(absl::Duration base,
                                                                  absl::Duration max) {
  return std::make_unique<ItemExponentialFailureRateLimiter>(base, max);
}

std::unique_ptr<RateLimiter> DefaultItemBasedRateLimiter() {
  return NewItemExponentialFailureRateLimiter(absl::Milliseconds(1), absl::Seconds(1000));
}

std::unique_ptr<RateLimiter> NewItemFastSlowRateLimiter(absl::Duration fast,
                                                        absl::Duration slow,
                                                        int max_fast_attempts) {
  return std::make_unique<ItemFastSlowRateLimiter>(fast, slow, max_fast_attempts);
}

absl::StatusOr<std::unique_ptr<RateLimiter>> NewBucketRateLimiter(
    double qps, int burst, client::flowcontrol::Clock* clock) {
  if (!(qps > 0) || std::isinf(qps)) {
    return absl::InvalidArgumentError(absl::StrCat("bucket rate limiter: qps must be > 0, got ", qps));
  }
  if (burst < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bucket rate limiter: burst must be >= 1, got ", burst));
  }
  if (clock == nullptr) return absl::InvalidArgumentError("bucket rate limiter: null clock");
  // x/time/rate converts tokens to time as float seconds; for whole-nanosecond
  // intervals (any qps dividing 1e9) this is exact.
  const absl::Duration interval = absl::Nanoseconds(static_cast<int64_t>(1e9 / qps));
  if (interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("bucket rate limiter: qps too large: ", qps));
  }
  return std::unique_ptr<RateLimiter>(new BucketRateLimiter(interval, burst, clock));
}

std::unique_ptr<RateLimiter> NewMaxOfRateLimiter(
    std::vector<std::unique_ptr<RateLimiter>> limiters) {
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

std::unique_ptr<RateLimiter> NewWithMaxWaitRateLimiter(std::unique_ptr<RateLimiter> limiter,
                                                       absl::Duration max_delay) {
  return std::make_unique<WithMaxWaitRateLimiter>(std::move(limiter), max_delay);
}

std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(client::flowcontrol::Clock* clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(
      NewItemExponentialFailureRateLimiter(absl::Milliseconds(5), absl::Seconds(1000)));
  // 10 qps, burst 100: valid arguments, so this cannot fail.
  limiters.push_back(*NewBucketRateLimiter(10, 100, clock));
  return NewMaxOfRateLimiter(std::move(limiters));
}

}  // namespace kslice::controller::workqueue
