// Clock: the time source of kslice's timing code (rate limiters, backoff, and later
// resync timers and leases), so tests can replace it with FakeClock and run instantly
// and deterministically.
//
//   Clock& clock = Clock::Real();
//   absl::Time deadline = clock.Now() + absl::Seconds(5);
//   if (!clock.SleepUntil(deadline, stop_token)) return absl::CancelledError();
//
// Only differences between two readings of the same clock mean anything: Real() is
// monotonic (std::chrono::steady_clock, immune to wall-clock steps), so its Now() is
// not the time of day. Do not compare readings of different clocks.
#ifndef KSLICE_CLIENT_FLOWCONTROL_CLOCK_H_
#define KSLICE_CLIENT_FLOWCONTROL_CLOCK_H_

#include <condition_variable>
#include <mutex>
#include <stop_token>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace kslice::client::flowcontrol {

class Clock {
 public:
  virtual ~Clock() = default;

  // The current reading. Never decreases.
  virtual absl::Time Now() const = 0;

  // Blocks until Now() >= deadline (true) or until `stop` is requested (false; also
  // when it already was). A deadline in the past returns true at once unless stop
  // was requested. With absl::InfiniteFuture() it waits for `stop` only.
  virtual bool SleepUntil(absl::Time deadline, std::stop_token stop = {}) = 0;

  // The process-wide monotonic clock. Thread-safe; never destroyed.
  static Clock& Real();
};

// A manually driven clock for tests. Thread-safe: tests advance it from one thread
// while code under test sleeps on others.
//
//   FakeClock clock;
//   std::thread t([&] { limiter.Wait(); });   // blocks in clock.SleepUntil
//   clock.AwaitSleepers(1);
//   clock.Advance(absl::Milliseconds(200));   // wakes it
//
// With set_auto_advance(true), SleepUntil moves the clock to the deadline itself and
// returns immediately: single-threaded code that sleeps then runs without a helper
// thread, and the clock records how long it "slept".
class FakeClock : public Clock {
 public:
  // Starts at an arbitrary fixed reading (not the Unix epoch, so that code which
  // treats a zero time specially is not fooled).
  FakeClock();
  explicit FakeClock(absl::Time start);

  absl::Time Now() const override;
  bool SleepUntil(absl::Time deadline, std::stop_token stop = {}) override;

  // Moves the clock forward (negative durations are ignored) and wakes the sleepers
  // whose deadline has come.
  void Advance(absl::Duration d);
  // Sets the reading; earlier than Now() is ignored (the clock is monotonic).
  void SetTime(absl::Time t);

  void set_auto_advance(bool on);

  // Threads currently blocked in SleepUntil.
  int Sleepers() const;
  // Blocks until at least n threads are blocked in SleepUntil.
  void AwaitSleepers(int n) const;

 private:
  mutable std::mutex mu_;
  // Signalled on every time change and every sleeper arrival/departure.
  mutable std::condition_variable_any cv_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  int sleepers_ ABSL_GUARDED_BY(mu_) = 0;
  bool auto_advance_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace kslice::client::flowcontrol

#endif  // KSLICE_CLIENT_FLOWCONTROL_CLOCK_H_
