#include "controller/workqueue/delaying_queue.h"

#include <vector>

namespace kslice::controller::workqueue {

DelayingQueue::DelayingQueue(QueueConfig config)
    : queue_(config), clock_(queue_.clock()), waiter_([this] { WaitingLoop(); }) {}

DelayingQueue::~DelayingQueue() {
  StopWaiting();
  queue_.ShutDown();
}

void DelayingQueue::StopWaiting() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    wake_.request_stop();
  }
  // The waiting thread never calls ShutDown, so it never joins itself; call_once
  // makes concurrent callers wait for the one join.
  std::call_once(join_once_, [this] { waiter_.join(); });
}

void DelayingQueue::ShutDown() {
  queue_.ShutDown();
  StopWaiting();
}

void DelayingQueue::ShutDownWithDrain() {
  StopWaiting();
  queue_.ShutDownWithDrain();
}

void DelayingQueue::AddAfter(const std::string& item, absl::Duration delay) {
  if (queue_.ShuttingDown()) return;
  queue_.RecordRetry();
  if (delay <= absl::ZeroDuration()) {
    queue_.Add(item);
    return;
  }
  const absl::Time ready = clock_.Now() + delay;
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  auto it = known_.find(item);
  if (it != known_.end()) {
    if (it->second.first <= ready) return;  // keep the earlier time
    waiting_.erase({it->second.first, it->second.second, item});
    it->second = {ready, next_seq_};
  } else {
    known_.emplace(item, std::make_pair(ready, next_seq_));
  }
  waiting_.emplace(ready, next_seq_, item);
  ++next_seq_;
  if (ready < sleeping_until_) wake_.request_stop();
}

int DelayingQueue::Waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(waiting_.size());
}

void DelayingQueue::WaitingLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<std::string> ready;
  while (!stopping_) {
    const absl::Time now = clock_.Now();
    while (!waiting_.empty() && std::get<0>(*waiting_.begin()) <= now) {
      auto node = waiting_.extract(waiting_.begin());
      known_.erase(std::get<2>(node.value()));
      ready.push_back(std::move(std::get<2>(node.value())));
    }
    if (!ready.empty()) {
      lock.unlock();
      for (const std::string& item : ready) queue_.Add(item);
      ready.clear();
      lock.lock();
      continue;
    }
    sleeping_until_ = waiting_.empty() ? absl::InfiniteFuture() : std::get<0>(*waiting_.begin());
    wake_ = std::stop_source();
    std::stop_token token = wake_.get_token();
    const absl::Time deadline = sleeping_until_;
    lock.unlock();
    clock_.SleepUntil(deadline, token);
    lock.lock();
    sleeping_until_ = absl::InfinitePast();
  }
}

}  // namespace kslice::controller::workqueue
