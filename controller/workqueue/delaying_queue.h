// A work queue that can add items after a delay (client-go's TypedDelayingInterface).
//
//   DelayingQueue queue(config);
//   queue.AddAfter("default/web-0", absl::Seconds(5));   // handed out in ~5s
//
// Behavior (that of client-go's delaying queue):
//  - AddAfter with a zero or negative delay adds at once. Each AddAfter (not after
//    shutdown) counts one in workqueue_retries_total.
//  - Waiting items are kept in a heap ordered by ready time, with one background
//    thread that sleeps on the configured Clock until the earliest is due, then
//    Adds every due item in ready-time order (ties in AddAfter order).
//  - An item already waiting keeps the earlier of its two ready times; adding it
//    with a later time does nothing. Waiting is independent of the queue itself: an
//    item can be both queued (or processing) and waiting; when its time comes the
//    Add follows the usual dirty/processing rules.
//  - ShutDown/ShutDownWithDrain stop the waiting thread; waiting items are dropped.
// Not guaranteed: items become ready no earlier than their time, but may be handed
// out later (the thread has to wake up, and the queue may be busy).
#ifndef KSLICE_CONTROLLER_WORKQUEUE_DELAYING_QUEUE_H_
#define KSLICE_CONTROLLER_WORKQUEUE_DELAYING_QUEUE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "controller/workqueue/queue.h"

namespace kslice::controller::workqueue {

class DelayingInterface : public Interface {
 public:
  // Adds item once `delay` has passed (at once if delay <= 0). Ignored after shutdown.
  virtual void AddAfter(const std::string& item, absl::Duration delay) = 0;
};

class DelayingQueue : public DelayingInterface {
 public:
  explicit DelayingQueue(QueueConfig config = {});
  ~DelayingQueue() override;
  DelayingQueue(const DelayingQueue&) = delete;
  DelayingQueue& operator=(const DelayingQueue&) = delete;

  void AddAfter(const std::string& item, absl::Duration delay) override;

  void Add(const std::string& item) override { queue_.Add(item); }
  int Len() const override { return queue_.Len(); }
  GetResult Get() override { return queue_.Get(); }
  void Done(const std::string& item) override { queue_.Done(item); }
  void ShutDown() override;
  void ShutDownWithDrain() override;
  bool ShuttingDown() const override { return queue_.ShuttingDown(); }

  // Items waiting for their time (for tests and debugging).
  int Waiting() const;
  // The underlying queue (metrics refresh, clock).
  Queue& queue() { return queue_; }

 private:
  void StopWaiting();
  void WaitingLoop();

  Queue queue_;
  client::flowcontrol::Clock& clock_;  // not owned

  mutable std::mutex mu_;
  // (ready time, sequence, item): the heap; `known_` maps item -> its heap key.
  std::set<std::tuple<absl::Time, uint64_t, std::string>> waiting_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::pair<absl::Time, uint64_t>> known_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The deadline the waiting thread sleeps until, and how to wake it earlier.
  absl::Time sleeping_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::stop_source wake_ ABSL_GUARDED_BY(mu_);

  std::once_flag join_once_;
  std::thread waiter_;  // started last in the constructor
};

}  // namespace kslice::controller::workqueue

#endif  // KSLICE_CONTROLLER_WORKQUEUE_DELAYING_QUEUE_H_
