// Exponential backoff with jitter, as apimachinery's wait.Backoff and the
// reflector's backoff manager compute it.
//
//   Backoff backoff(BackoffOptions::Reflector());
//   while (!ListAndWatch().ok()) {
//     if (!clock.SleepUntil(clock.Now() + backoff.Next(), stop)) return;
//   }
//
// Delay n (counting from 0) has the base min(initial * factor^n, cap), and the
// returned delay is base + U[0,1) * jitter * base, so with jitter 1.0 it falls in
// [base, 2*base). When the previous delay was handed out more than `reset_after`
// ago, the sequence starts again from `initial` (the reflector forgets failures
// after two quiet minutes).
#ifndef KSLICE_CLIENT_FLOWCONTROL_BACKOFF_H_
#define KSLICE_CLIENT_FLOWCONTROL_BACKOFF_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "client/flowcontrol/clock.h"

namespace kslice::client::flowcontrol {

struct BackoffOptions {
  absl::Duration initial = absl::Milliseconds(800);
  absl::Duration cap = absl::Seconds(30);  // on the base, before jitter
  double factor = 2.0;                     // values below 1 are taken as 1
  double jitter = 1.0;                     // 0 disables jitter
  // Quiet time after which the sequence restarts; zero or negative: never.
  absl::Duration reset_after = absl::Minutes(2);

  // client-go's reflector: 800 ms doubling to 30 s, jitter 1.0, reset after 2 min.
  static BackoffOptions Reflector() { return BackoffOptions(); }
};

class Backoff {
 public:
  // `random` returns uniform values in [0, 1); nullptr uses a seeded Mersenne
  // twister. `clock` (not owned) must outlive the Backoff.
  explicit Backoff(BackoffOptions options = {}, Clock* clock = &Clock::Real(),
                   std::function<double()> random = nullptr);

  // The next delay. Thread-safe.
  absl::Duration Next();

  // The next delay, but at least `retry_after` (a server's Retry-After), as
  // client-go waits for the longer of its backoff and the server's request.
  absl::Duration Next(std::optional<absl::Duration> retry_after);

  // Restarts from `initial` (call after a success).
  void Reset();

  // Delays handed out since the last reset.
  int attempts() const;

 private:
  const BackoffOptions options_;
  Clock* const clock_;  // not owned

  mutable std::mutex mu_;
  std::function<double()> random_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 engine_ ABSL_GUARDED_BY(mu_);
  absl::Duration base_ ABSL_GUARDED_BY(mu_);
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Time> last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kslice::client::flowcontrol

#endif  // KSLICE_CLIENT_FLOWCONTROL_BACKOFF_H_
