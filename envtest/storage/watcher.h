// The consumer end of a watch (Store::Watch).
//
//   absl::StatusOr<std::unique_ptr<Watcher>> w = store->Watch({"", "pods"}, options);
//   std::vector<WatchEvent> batch;
//   while ((*w)->NextBatch(&batch, absl::Seconds(1))) {
//     for (const WatchEvent& e : batch) send(e);
//     batch.clear();
//   }
//   // ended: (*w)->status() says why (OK after Stop()).
//
// Delivery. Events arrive in resourceVersion order, each exactly once, starting with
// the initial events (synthetic ADDEDs, or the replay of history for a watch from an
// old RV), then live events. Writers never wait for watchers: each watcher has a
// bounded queue of live events (ListOptions::watch_queue_capacity, default
// StoreOptions::watch_queue_capacity). A watcher whose queue is full when a new event
// arrives is terminated: it still delivers every event queued before that point, then
// the stream ends with status() ResourceExhausted. The client resumes by watching again
// from the last resourceVersion it received (the API server closes slow watchers the
// same way). Initial events are not bounded (they are known when the watch starts).
//
// Errors found while starting a watch that the API server reports inside the stream
// (an RV older than the history: 410 Expired; sendInitialEvents with an RV the store
// has not reached within the wait: 504 Timeout) arrive as one ERROR event whose object
// is the metav1.Status; then the stream ends and status() is that error.
//
// Bookmarks (ListOptions::allow_watch_bookmarks only): when no event is pending and
// StoreOptions::bookmark_interval has passed on the store's clock since the watch
// started or since the last bookmark, Next/NextBatch return a BOOKMARK carrying the
// store's latest resourceVersion; RequestBookmark() asks for one as soon as the queue
// is empty (the HTTP layer calls it shortly before the watch's deadline, as the API
// server does). Bookmark timing is looked at when Next/NextBatch are called or wake up,
// so with a FakeClock call them with a short timeout after moving the clock.
//
// Consuming many watches. A thread blocked in NextBatch per watch is woken by every
// event; with hundreds of watches on a few cores those wake-ups dominate. Either pass
// NextBatch a `linger` window (events arrive in batches; ~20 ms suits 500 watchers) or
// use OnReady() and drain ready watches from a small pool (bench/storage_benchmark.cc
// has figures for both).
//
// Thread safety: one thread consumes (Next/NextBatch) at a time; Stop, RequestBookmark,
// OnReady, Done and status may be called from any thread. The Watcher may outlive the
// Store: the store's destruction ends every watch (status Cancelled) after its queued
// events.
#ifndef KSLICE_ENVTEST_STORAGE_WATCHER_H_
#define KSLICE_ENVTEST_STORAGE_WATCHER_H_

#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "envtest/storage/event.h"

namespace kslice::envtest::storage {

namespace internal {
class WatcherState;
}  // namespace internal

class Watcher {
 public:
  explicit Watcher(std::shared_ptr<internal::WatcherState> state);
  ~Watcher();  // Stop()s the watch.
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // The next event; waits up to `timeout`. nullopt on timeout or when the stream has
  // ended (Done() tells which).
  std::optional<WatchEvent> Next(absl::Duration timeout = absl::InfiniteDuration());

  // Appends up to `max_events` available events to *out, waiting up to `timeout` for
  // the first. Returns false once the stream has ended and every event was delivered
  // (nothing is appended then); true otherwise, with *out possibly unchanged on timeout.
  //
  // `linger` > 0 trades latency for throughput: once an event is available, wait up to
  // that long (within `timeout`) for more before returning, without being woken by
  // each write. With hundreds of watcher threads on few cores this cuts context
  // switches by the batch size (bench/storage_benchmark.cc).
  bool NextBatch(std::vector<WatchEvent>* out, absl::Duration timeout = absl::InfiniteDuration(),
                 size_t max_events = std::numeric_limits<size_t>::max(),
                 absl::Duration linger = absl::ZeroDuration());

  // For event-loop servers: `ready` is called when there is something to take (events,
  // a requested bookmark, or the end of the stream) after the consumer last saw the
  // queue empty; right away if there is already something. It runs on the writer's
  // thread with the store's locks held, so it must be quick and must not call the
  // Store or this Watcher (post a task that calls NextBatch with a zero timeout until
  // it returns fewer than max_events). Periodic bookmarks are not signalled: call
  // RequestBookmark() from a timer. Replaces any previous callback; an empty function
  // removes it. A call decided just before Stop() may still run right after it
  // returns: keep what the callback touches alive (capture a shared_ptr).
  void OnReady(std::function<void()> ready);

  // Ends the watch: pending events are dropped, a waiting Next returns. Idempotent.
  void Stop();
  // Asks for a BOOKMARK as soon as no event is pending (no-op without bookmarks).
  void RequestBookmark();
  // True when the stream has ended and nothing is left to deliver.
  bool Done() const;
  // Why the stream ended: OK while running and after Stop(); the error otherwise.
  absl::Status status() const;

 private:
  std::shared_ptr<internal::WatcherState> state_;
};

}  // namespace kslice::envtest::storage

#endif  // KSLICE_ENVTEST_STORAGE_WATCHER_H_
