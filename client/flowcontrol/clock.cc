#include "client/flowcontrol/clock.h"

#include <chrono>

namespace kslice::client::flowcontrol {

namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() const override {
    return absl::UnixEpoch() +
           absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
  }

  bool SleepUntil(absl::Time deadline, std::stop_token stop) override {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock<std::mutex> lock(mu);
    if (deadline == absl::InfiniteFuture()) {
      // Nothing but `stop` can end this wait.
      cv.wait(lock, stop, [] { return false; });
      return false;
    }
    while (true) {
      if (stop.stop_requested()) return false;
      const absl::Duration left = deadline - Now();
      if (left <= absl::ZeroDuration()) return true;
      // Cap single waits so huge deadlines cannot overflow the chrono arithmetic.
      const absl::Duration step = std::min(left, absl::Hours(24));
      const auto until = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(step);
      cv.wait_until(lock, stop, until, [] { return false; });
    }
  }
};

}  // namespace

Clock& Clock::Real() {
  static RealClock* clock = new RealClock();
  return *clock;
}

FakeClock::FakeClock() : FakeClock(absl::FromUnixSeconds(1'700'000'000)) {}

FakeClock::FakeClock(absl::Time start) : now_(start) {}

absl::Time FakeClock::Now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

bool FakeClock::SleepUntil(absl::Time deadline, std::stop_token stop) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stop.stop_requested()) return false;
  if (now_ >= deadline) return true;
  if (auto_advance_ && deadline != absl::InfiniteFuture()) {
    now_ = deadline;
    cv_.notify_all();
    return true;
  }
  ++sleepers_;
  cv_.notify_all();
  const bool reached =
      cv_.wait(lock, stop, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return now_ >= deadline; });
  --sleepers_;
  cv_.notify_all();
  return reached;
}

void FakeClock::Advance(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return;
  std::lock_guard<std::mutex> lock(mu_);
  now_ += d;
  cv_.notify_all();
}

void FakeClock::SetTime(absl::Time t) {
  std::lock_guard<std::mutex> lock(mu_);
  if (t <= now_) return;
  now_ = t;
  cv_.notify_all();
}

void FakeClock::set_auto_advance(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  auto_advance_ = on;
}

int FakeClock::Sleepers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sleepers_;
}

void FakeClock::AwaitSleepers(int n) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return sleepers_ >= n; });
}

}  // namespace kslice::client::flowcontrol
