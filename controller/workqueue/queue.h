// Work queues for controllers (client-go's util/workqueue): a FIFO of string keys
// with the guarantees controllers rely on.
//
//   workqueue::Queue queue(workqueue::QueueConfig{.name = "pods"});  // see note on fields
//   // producers (informer event handlers):
//   queue.Add("default/web-0");
//   // each worker:
//   while (true) {
//     auto [key, shutdown] = queue.Get();
//     if (shutdown) return;
//     Sync(key);
//     queue.Done(key);
//   }
//
// Guarantees (those of client-go's queue):
//  - Fair: items are handed out in the order they were added.
//  - Stingy: an item added several times before it is handed out is processed once
//    (the dirty set).
//  - Exclusive: an item is never processed by two workers at once. An item added
//    while a worker processes it is marked dirty and handed out again only after
//    that worker calls Done (the processing set).
//  - Shut down: after ShutDown() Add is ignored, Get keeps returning the items still
//    queued and then returns shutdown=true; ShutDownWithDrain() additionally waits
//    until every item being processed is Done (it blocks forever if a worker never
//    calls Done; a later ShutDown() releases it).
// Not guaranteed: Len() is informational only (do not gate Add/Get on it); items are
// strings compared by value (use namespace/name keys, not objects).
//
// Every method is thread-safe. The destructor shuts the queue down; every call into
// the queue (workers in Get/Done, producers in Add) must have returned before it is
// destroyed. A ShutDownWithDrain that returned may be followed by destruction at once.
#ifndef KSLICE_CONTROLLER_WORKQUEUE_QUEUE_H_
#define KSLICE_CONTROLLER_WORKQUEUE_QUEUE_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "client/flowcontrol/clock.h"
#include "controller/metrics/metrics.h"

namespace kslice::controller::workqueue {

namespace internal {
class QueueMetrics;
}  // namespace internal

// Options of every queue type. Prefer assigning fields over designated initializers
// that omit some (-Werror=missing-field-initializers).
struct QueueConfig {
  // Names the queue in metrics (label `name`). Without a name no metrics are kept.
  std::string name;
  // Where a named queue registers its metrics; nullptr means
  // metrics::Registry::Default(). Not owned; must outlive the queue.
  metrics::Registry* registry = nullptr;
  // Time source for delays and metrics; nullptr means Clock::Real(). Not owned.
  client::flowcontrol::Clock* clock = nullptr;
  // How often a named queue refreshes workqueue_unfinished_work_seconds and
  // workqueue_longest_running_processor_seconds (client-go: 500ms). Zero or negative
  // starts no refresher thread; UpdateUnfinishedWorkMetrics() then refreshes by hand.
  absl::Duration unfinished_work_update_period = absl::Milliseconds(500);
};

// What Get returns: the item, or shutdown=true (and an empty item) once the queue is
// shut down and empty.
struct GetResult {
  std::string item;
  bool shutdown = false;
};

// The basic queue interface (client-go's TypedInterface).
class Interface {
 public:
  virtual ~Interface() = default;
  // Marks item as needing processing. Ignored after shutdown.
  virtual void Add(const std::string& item) = 0;
  // Items waiting to be handed out (not counting those being processed).
  virtual int Len() const = 0;
  // Blocks until an item can be handed out or the queue is shut down and empty.
  // The caller must call Done(item) when finished with it.
  virtual GetResult Get() = 0;
  // Marks item as processed; if it was added again meanwhile, it is queued again.
  virtual void Done(const std::string& item) = 0;
  // Stops accepting items and wakes every Get; does not wait.
  virtual void ShutDown() = 0;
  // Like ShutDown, then waits until no item is being processed.
  virtual void ShutDownWithDrain() = 0;
  virtual bool ShuttingDown() const = 0;
};

class Queue : public Interface {
 public:
  explicit Queue(QueueConfig config = {});
  ~Queue() override;
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  void Add(const std::string& item) override;
  int Len() const override;
  GetResult Get() override;
  void Done(const std::string& item) override;
  void ShutDown() override;
  void ShutDownWithDrain() override;
  bool ShuttingDown() const override;

  // Refreshes the unfinished-work gauges now (the refresher thread calls this
  // periodically). No-op for unnamed queues.
  void UpdateUnfinishedWorkMetrics();

  // Counts one retry in workqueue_retries_total (the delaying queue's AddAfter).
  void RecordRetry();

  client::flowcontrol::Clock& clock() const { return *clock_; }

 private:
  client::flowcontrol::Clock* const clock_;  // not owned
  const std::unique_ptr<internal::QueueMetrics> metrics_;  // null without a name

  mutable std::mutex mu_;
  std::condition_variable item_cv_;   // an item was queued, or shutdown
  std::condition_variable drain_cv_;  // processing became empty, or drain cancelled
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);  // every element is dirty
  absl::flat_hash_set<std::string> dirty_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> processing_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool drain_ ABSL_GUARDED_BY(mu_) = false;
  int idle_getters_ ABSL_GUARDED_BY(mu_) = 0;  // threads blocked in Get

  std::jthread updater_;  // refreshes unfinished-work metrics; declared last
};

}  // namespace kslice::controller::workqueue

#endif  // KSLICE_CONTROLLER_WORKQUEUE_QUEUE_H_
