// Internal: the state a watch shares between the store (producer, under the store's
// write lock) and the Watcher (consumer).
#ifndef KSLICE_ENVTEST_STORAGE_WATCHER_STATE_H_
#define KSLICE_ENVTEST_STORAGE_WATCHER_STATE_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "api/fields/selector.h"
#include "api/labels/selector.h"
#include "envtest/storage/clock.h"
#include "envtest/storage/event.h"
#include "envtest/storage/resource.h"
#include "google/protobuf/message.h"

namespace kslice::envtest::storage::internal {

class WatcherState {
 public:
  struct Params {
    // Read only by the store, under its lock (not owned; the store's).
    const ResourceConfig* resource = nullptr;
    std::string ns;  // "" = every namespace
    kslice::labels::Selector labels;
    kslice::fields::Selector fields;  // converted
    // Live events with an RV at or below this are not for this watcher.
    uint64_t start_rv = 0;
    bool bookmarks = false;
    size_t capacity = 1000;
    absl::Duration bookmark_interval = absl::Seconds(60);
    Clock* clock = nullptr;  // not owned; outlives the watcher
    // The store's latest committed RV (shared so the watcher may outlive the store).
    std::shared_ptr<const std::atomic<uint64_t>> committed_rv;
    // The watched kind, for bookmark objects (a generated default instance).
    const google::protobuf::Message* prototype = nullptr;
  };

  explicit WatcherState(Params params);
  const Params& params() const { return params_; }

  // ---- producer side ----
  // Events to deliver before any live event; set before the watcher is published.
  void SetInitial(std::vector<WatchEvent> events);
  enum class PushResult { kQueued, kClosed, kOverflow };
  // Queues a live event. kOverflow: the queue was full and the watcher is now
  // terminated (ResourceExhausted); kClosed: the watcher had ended already.
  PushResult Push(WatchEvent event);
  // Ends the stream after the queued events, with `reason` as status().
  void Terminate(absl::Status reason);
  // Stopped or terminated: the store drops it from its lists.
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // ---- consumer side (see Watcher) ----
  bool NextBatch(std::vector<WatchEvent>* out, absl::Duration timeout, size_t max_events,
                 absl::Duration linger);
  void OnReady(std::function<void()> ready);
  void Stop();
  void RequestBookmark();
  bool Done() const;
  absl::Status status() const;

 private:
  using ReadyFn = std::shared_ptr<const std::function<void()>>;

  WatchEvent MakeBookmark(uint64_t rv) const;
  void Deliver(WatchEvent event, std::vector<WatchEvent>* out);
  // Wakes a waiting consumer; returns the ready callback to run (after unlocking) if
  // it is armed.
  ReadyFn WakeLocked();

  const Params params_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchEvent> initial_;  // unbounded
  std::deque<WatchEvent> live_;     // at most params_.capacity
  bool stopped_ = false;
  bool terminated_ = false;
  absl::Status end_status_;
  bool waiting_ = false;
  bool bookmark_requested_ = false;
  absl::Time next_bookmark_;
  uint64_t last_rv_ = 0;  // highest RV delivered (starts at start_rv)
  std::atomic<bool> closed_{false};
  ReadyFn ready_;       // OnReady's callback
  bool armed_ = true;   // the consumer has seen the queue empty since the last call
};

}  // namespace kslice::envtest::storage::internal

#endif  // KSLICE_ENVTEST_STORAGE_WATCHER_STATE_H_
