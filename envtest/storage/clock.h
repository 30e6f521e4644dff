// Time source for the storage engine: creationTimestamp on create and the schedule of
// watch bookmarks. Tests use FakeClock and move time by hand.
#ifndef KSLICE_ENVTEST_STORAGE_CLOCK_H_
#define KSLICE_ENVTEST_STORAGE_CLOCK_H_

#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kslice::envtest::storage {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The wall clock (absl::Now()). A process-wide object that is never destroyed.
  static Clock* Real();
};

// A clock that only moves when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  // 2023-11-14T22:13:20Z unless told otherwise.
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000)) : now_(start) {}

  absl::Time Now() const override {
    std::lock_guard<std::mutex> l(mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    std::lock_guard<std::mutex> l(mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    std::lock_guard<std::mutex> l(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;
  absl::Time now_;
};

inline Clock* Clock::Real() {
  class RealClock : public Clock {
   public:
    absl::Time Now() const override { return absl::Now(); }
  };
  static Clock* const clock = new RealClock();
  return clock;
}

}  // namespace kslice::envtest::storage

#endif  // KSLICE_ENVTEST_STORAGE_CLOCK_H_
