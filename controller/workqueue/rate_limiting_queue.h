// A delaying work queue whose re-adds are paced by a RateLimiter (client-go's
// TypedRateLimitingInterface). The usual controller worker:
//
//   RateLimitingQueue queue(DefaultControllerRateLimiter(), config);
//   auto [key, shutdown] = queue.Get();
//   if (shutdown) return;
//   absl::Status s = Sync(key);
//   if (s.ok()) {
//     queue.Forget(key);                       // reset its backoff
//   } else if (queue.NumRequeues(key) < kMaxRetries) {
//     queue.AddRateLimited(key);               // retry after the limiter's delay
//   } else {
//     queue.Forget(key);                       // give up and report
//   }
//   queue.Done(key);
//
// AddRateLimited(item) is AddAfter(item, limiter->When(item)); the limiter is asked
// even when the queue is shutting down (as upstream). Forget only resets the
// limiter's memory of the item; it does not remove it from the queue.
#ifndef KSLICE_CONTROLLER_WORKQUEUE_RATE_LIMITING_QUEUE_H_
#define KSLICE_CONTROLLER_WORKQUEUE_RATE_LIMITING_QUEUE_H_

#include <memory>
#include <string>

#include "controller/workqueue/delaying_queue.h"
#include "controller/workqueue/rate_limiters.h"

namespace kslice::controller::workqueue {

class RateLimitingInterface : public DelayingInterface {
 public:
  // Adds item after the rate limiter says it is ok.
  virtual void AddRateLimited(const std::string& item) = 0;
  // The item is finished being retried (succeeded or given up on).
  virtual void Forget(const std::string& item) = 0;
  // How many times the item has been requeued (the limiter's count).
  virtual int NumRequeues(const std::string& item) = 0;
};

class RateLimitingQueue : public RateLimitingInterface {
 public:
  // A null limiter means DefaultControllerRateLimiter() on the config's clock.
  explicit RateLimitingQueue(std::unique_ptr<RateLimiter> limiter, QueueConfig config = {});
  ~RateLimitingQueue() override = default;

  void AddRateLimited(const std::string& item) override {
    queue_.AddAfter(item, limiter_->When(item));
  }
  void Forget(const std::string& item) override { limiter_->Forget(item); }
  int NumRequeues(const std::string& item) override { return limiter_->NumRequeues(item); }

  void AddAfter(const std::string& item, absl::Duration delay) override {
    queue_.AddAfter(item, delay);
  }
  void Add(const std::string& item) override { queue_.Add(item); }
  int Len() const override { return queue_.Len(); }
  GetResult Get() override { return queue_.Get(); }
  void Done(const std::string& item) override { queue_.Done(item); }
  void ShutDown() override { queue_.ShutDown(); }
  void ShutDownWithDrain() override { queue_.ShutDownWithDrain(); }
  bool ShuttingDown() const override { return queue_.ShuttingDown(); }

  DelayingQueue& delaying_queue() { return queue_; }

 private:
  const std::unique_ptr<RateLimiter> limiter_;  // declared first: outlives queue_
  DelayingQueue queue_;
};

}  // namespace kslice::controller::workqueue

#endif  // KSLICE_CONTROLLER_WORKQUEUE_RATE_LIMITING_QUEUE_H_
