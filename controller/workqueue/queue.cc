#include "controller/workqueue/queue.h"

#include "controller/workqueue/queue_metrics.h"

namespace kslice::controller::workqueue {

namespace {

client::flowcontrol::Clock* ClockOrReal(client::flowcontrol::Clock* c) {
  return c != nullptr ? c : &client::flowcontrol::Clock::Real();
}

}  // namespace

Queue::Queue(QueueConfig config)
    : clock_(ClockOrReal(config.clock)),
      metrics_(internal::QueueMetrics::Create(
          config.name,
          config.registry != nullptr ? *config.registry : metrics::Registry::Default(),
          *clock_)) {
  if (metrics_ != nullptr && config.unfinished_work_update_period > absl::ZeroDuration()) {
    const absl::Duration period = config.unfinished_work_update_period;
    updater_ = std::jthread([this, period](std::stop_token stop) {
      absl::Time next = clock_->Now() + period;
      while (clock_->SleepUntil(next, stop)) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (shutting_down_) return;
          metrics_->UpdateUnfinishedWork();
        }
        next += period;
        const absl::Time now = clock_->Now();
        if (next < now) next = now + period;  // fell behind: do not burst
      }
    });
  }
}

Queue::~Queue() {
  ShutDown();
  if (updater_.joinable()) {
    updater_.request_stop();
    updater_.join();
  }
}

void Queue::Add(const std::string& item) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return;
    if (dirty_.contains(item)) return;
    if (metrics_ != nullptr) metrics_->Add(item);
    dirty_.insert(item);
    if (processing_.contains(item)) return;  // queued again by Done
    queue_.push_back(item);
    if (idle_getters_ == 0) return;
  }
  // Notified after unlocking so the woken worker does not block on mu_ at once.
  item_cv_.notify_one();
}

int Queue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(queue_.size());
}

GetResult Queue::Get() {
  std::unique_lock<std::mutex> lock(mu_);
  while (queue_.empty() && !shutting_down_) {
    ++idle_getters_;
    item_cv_.wait(lock);
    --idle_getters_;
  }
  if (queue_.empty()) return GetResult{"", true};
  GetResult r{std::move(queue_.front()), false};
  queue_.pop_front();
  if (metrics_ != nullptr) metrics_->Get(r.item);
  processing_.insert(r.item);
  dirty_.erase(r.item);
  return r;
}

void Queue::Done(const std::string& item) {
  // Notifies under the lock: a drain woken here may destroy the queue as soon as it
  // returns, so nothing may touch the queue after unlocking.
  std::lock_guard<std::mutex> lock(mu_);
  if (metrics_ != nullptr) metrics_->Done(item);
  processing_.erase(item);
  if (dirty_.contains(item)) {
    queue_.push_back(item);
    if (idle_getters_ > 0) item_cv_.notify_one();
  }
  if (processing_.empty() && drain_) drain_cv_.notify_all();
}

void Queue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  drain_ = false;
  shutting_down_ = true;
  item_cv_.notify_all();
  drain_cv_.notify_all();
}

void Queue::ShutDownWithDrain() {
  std::unique_lock<std::mutex> lock(mu_);
  drain_ = true;
  shutting_down_ = true;
  item_cv_.notify_all();
  drain_cv_.wait(lock, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return processing_.empty() || !drain_;
  });
}

bool Queue::ShuttingDown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

void Queue::UpdateUnfinishedWorkMetrics() {
  std::lock_guard<std::mutex> lock(mu_);
  if (metrics_ != nullptr) metrics_->UpdateUnfinishedWork();
}

void Queue::RecordRetry() {
  if (metrics_ != nullptr) metrics_->Retry();
}

}  // namespace kslice::controller::workqueue
