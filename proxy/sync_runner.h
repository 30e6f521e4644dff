// SyncRunner: runs the proxy's sync function when asked, no more often than allowed,
// at least periodically, and again after a failure with backoff — the role of
// kube-proxy's BoundedFrequencyRunner / async runner (pkg/util/async).
//
//   SyncRunner runner([&] { return proxier.SyncOnce(); }, {.min_interval = absl::Seconds(1)});
//   std::jthread loop([&](std::stop_token st) { runner.Loop(st); });
//   runner.Run();   // from informer handlers: "state changed, sync soon"
//
// Scheduling (SyncSchedule, a pure state machine the runner drives, tested on its own):
//  - Run() requests coalesce: any number of requests before a sync starts give one sync.
//    A request made while a sync runs gives one more sync after it.
//  - Rate: a token bucket of `burst` tokens refilled one per `min_interval`
//    (--iptables-min-sync-period, burst 2 as kube-proxy): two syncs may follow each
//    other at once, then at most one per min_interval. Zero min_interval: no limit.
//  - Periodic: a sync runs `max_interval` after the previous one ended even without
//    requests (kube-proxy: 1 h).
//  - Failure: the next sync runs after a backoff — retry_initial doubling up to
//    retry_max (kube-proxy retries after --iptables-sync-period; retry_max defaults to
//    its 30 s). Requests during the backoff wait for it. Success resets the backoff.
//    Whether a sync is full or partial is the sync function's business (the proxier
//    makes the one after a failure full).
//
// Thread-safety: Run() from any thread; Loop() on one thread at a time; the function is
// only called from Loop().
#ifndef KSLICE_PROXY_SYNC_RUNNER_H_
#define KSLICE_PROXY_SYNC_RUNNER_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/flowcontrol/clock.h"

namespace kslice::proxy {

struct SyncRunnerOptions {
  absl::Duration min_interval = absl::Seconds(1);
  int burst = 2;
  absl::Duration max_interval = absl::Hours(1);
  absl::Duration retry_initial = absl::Seconds(1);
  absl::Duration retry_max = absl::Seconds(30);
  // Not owned; must outlive the runner.
  client::flowcontrol::Clock* clock = &client::flowcontrol::Clock::Real();
};

// When to sync next. Not thread-safe (SyncRunner guards it).
class SyncSchedule {
 public:
  SyncSchedule(const SyncRunnerOptions& options, absl::Time now);

  // A sync is wanted.
  void Request() { requested_ = true; }
  // The earliest time the next sync may start (may be <= now: start it now).
  absl::Time NextRun(absl::Time now);
  // A sync starts now: takes a token and clears the request.
  void Started(absl::Time now);
  // The sync that started ended.
  void Finished(absl::Time now, bool ok);

  bool requested() const { return requested_; }
  bool in_backoff() const { return retry_at_ != absl::InfiniteFuture(); }
  int failures() const { return failures_; }
  // The current backoff delay after `failures` consecutive failures (>= 1).
  absl::Duration BackoffFor(int failures) const;

 private:
  void Refill(absl::Time now);

  const SyncRunnerOptions options_;
  bool requested_ = false;
  double tokens_;
  absl::Time refilled_at_;
  absl::Time periodic_at_;
  absl::Time retry_at_ = absl::InfiniteFuture();
  int failures_ = 0;
};

class SyncRunner {
 public:
  using SyncFunc = std::function<absl::Status()>;
  SyncRunner(SyncFunc fn, SyncRunnerOptions options = {});

  // Asks for a sync (coalesced; see the file comment). Never blocks on a running sync.
  void Run();

  // Runs syncs as scheduled until `stop` is requested; returns after the sync in
  // progress (if any) ends.
  void Loop(std::stop_token stop);

  // Syncs started so far, and how many of them failed.
  int64_t runs() const;
  int64_t failed_runs() const;

 private:
  const SyncFunc fn_;
  const SyncRunnerOptions options_;
  mutable std::mutex mu_;
  SyncSchedule schedule_ ABSL_GUARDED_BY(mu_);
  std::stop_source wake_ ABSL_GUARDED_BY(mu_);
  int64_t runs_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_runs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kslice::proxy

#endif  // KSLICE_PROXY_SYNC_RUNNER_H_
