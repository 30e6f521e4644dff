#include "envtest/storage/watcher.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "envtest/storage/object.h"
#include "envtest/storage/watcher_state.h"

namespace kslice::envtest::storage {

namespace internal {

WatcherState::WatcherState(Params params)
    : params_(std::move(params)), last_rv_(params_.start_rv) {
  if (params_.bookmarks && params_.clock != nullptr) {
    next_bookmark_ = params_.clock->Now() + params_.bookmark_interval;
  }
}

void WatcherState::SetInitial(std::vector<WatchEvent> events) {
  std::lock_guard<std::mutex> l(mu_);
  initial_.assign(std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
}

WatcherState::ReadyFn WatcherState::WakeLocked() {
  if (waiting_) {
    waiting_ = false;
    cv_.notify_all();
  }
  if (ready_ != nullptr && armed_) {
    armed_ = false;
    return ready_;
  }
  return nullptr;
}

void WatcherState::OnReady(std::function<void()> ready) {
  ReadyFn fire;
  {
    std::lock_guard<std::mutex> l(mu_);
    ready_ = ready ? std::make_shared<const std::function<void()>>(std::move(ready)) : nullptr;
    armed_ = true;
    if (ready_ != nullptr && (!initial_.empty() || !live_.empty() || terminated_)) {
      armed_ = false;
      fire = ready_;
    }
  }
  if (fire != nullptr) (*fire)();
}

WatcherState::PushResult WatcherState::Push(WatchEvent event) {
  ReadyFn fire;
  PushResult result = PushResult::kQueued;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_ || terminated_) return PushResult::kClosed;
    if (live_.size() >= params_.capacity) {
      terminated_ = true;
      closed_.store(true, std::memory_order_release);
      end_status_ = absl::ResourceExhaustedError(absl::StrCat(
          "watch terminated: the watcher fell behind by ", live_.size(),
          " events (its queue capacity); watch again from the last resourceVersion received"));
      result = PushResult::kOverflow;
    } else {
      live_.push_back(std::move(event));
    }
    fire = WakeLocked();
  }
  if (fire != nullptr) (*fire)();
  return result;
}

void WatcherState::Terminate(absl::Status reason) {
  ReadyFn fire;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_ || terminated_) return;
    terminated_ = true;
    closed_.store(true, std::memory_order_release);
    end_status_ = std::move(reason);
    fire = WakeLocked();
  }
  if (fire != nullptr) (*fire)();
}

WatchEvent WatcherState::MakeBookmark(uint64_t rv) const {
  std::unique_ptr<google::protobuf::Message> obj(params_.prototype->New());
  MutableMetaOf(obj.get())->set_resourceversion(absl::StrCat(rv));
  return WatchEvent{EventType::kBookmark, Object(std::move(obj)), rv};
}

void WatcherState::Deliver(WatchEvent event, std::vector<WatchEvent>* out) {
  if (event.type != EventType::kError) last_rv_ = std::max(last_rv_, event.resource_version);
  out->push_back(std::move(event));
}

bool WatcherState::NextBatch(std::vector<WatchEvent>* out, absl::Duration timeout,
                             size_t max_events, absl::Duration linger) {
  using SteadyClock = std::chrono::steady_clock;
  const SteadyClock::time_point start = SteadyClock::now();
  // Waits longer than a day are cut into day-long waits (and re-checked).
  const absl::Duration capped = std::min(timeout, absl::Hours(24));
  const bool forever = timeout == absl::InfiniteDuration();
  SteadyClock::time_point deadline =
      start + std::chrono::duration_cast<SteadyClock::duration>(absl::ToChronoNanoseconds(
                  std::max(capped, absl::ZeroDuration())));
  bool lingered = linger <= absl::ZeroDuration();
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    if (stopped_) return false;
    const size_t pending = initial_.size() + live_.size();
    if (pending > 0 && !lingered && pending < max_events && !terminated_) {
      // Let more events gather. Writers do not wake us meanwhile (waiting_ is false),
      // which is the point: fewer wake-ups, bigger batches. Stop() still does.
      lingered = true;
      const auto pause = std::chrono::duration_cast<SteadyClock::duration>(
          absl::ToChronoNanoseconds(std::min(linger, absl::Hours(1))));
      cv_.wait_until(l, std::min(deadline, SteadyClock::now() + pause));
      continue;
    }
    size_t n = 0;
    while (n < max_events && !initial_.empty()) {
      Deliver(std::move(initial_.front()), out);
      initial_.pop_front();
      ++n;
    }
    while (n < max_events && !live_.empty()) {
      Deliver(std::move(live_.front()), out);
      live_.pop_front();
      ++n;
    }
    if (initial_.empty() && live_.empty()) armed_ = true;
    if (n > 0) return true;
    if (terminated_) return false;

    SteadyClock::time_point wake = deadline;
    if (params_.bookmarks) {
      const absl::Time now = params_.clock->Now();
      if (bookmark_requested_ || now >= next_bookmark_) {
        bookmark_requested_ = false;
        next_bookmark_ = now + params_.bookmark_interval;
        // The queue is empty and was checked under mu_, which every Push takes before
        // the store publishes its RV: everything up to `rv` that this watcher should
        // see has been delivered, so a bookmark at `rv` is truthful.
        const uint64_t rv = params_.committed_rv->load(std::memory_order_acquire);
        if (rv >= last_rv_) {
          Deliver(MakeBookmark(rv), out);
          return true;
        }
      }
      const absl::Duration until = std::max(next_bookmark_ - now, absl::Milliseconds(1));
      const SteadyClock::time_point bookmark_wake =
          SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                   absl::ToChronoNanoseconds(std::min(until, absl::Hours(24))));
      wake = std::min(wake, bookmark_wake);
    }
    const SteadyClock::time_point now = SteadyClock::now();
    if (now >= deadline) {
      if (!forever) return true;
      deadline = now + std::chrono::hours(24);
      wake = std::min(wake, deadline);
    }
    waiting_ = true;
    cv_.wait_until(l, wake);
    waiting_ = false;
  }
}

void WatcherState::Stop() {
  std::deque<WatchEvent> drop_initial, drop_live;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return;
    stopped_ = true;
    closed_.store(true, std::memory_order_release);
    if (!terminated_) end_status_ = absl::OkStatus();
    drop_initial.swap(initial_);
    drop_live.swap(live_);
    waiting_ = false;
    cv_.notify_all();
  }
  // Objects are released outside the lock.
}

void WatcherState::RequestBookmark() {
  ReadyFn fire;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!params_.bookmarks) return;
    bookmark_requested_ = true;
    fire = WakeLocked();
  }
  if (fire != nullptr) (*fire)();
}

bool WatcherState::Done() const {
  std::lock_guard<std::mutex> l(mu_);
  return stopped_ || (terminated_ && initial_.empty() && live_.empty());
}

absl::Status WatcherState::status() const {
  std::lock_guard<std::mutex> l(mu_);
  if (stopped_ && end_status_.ok()) return absl::OkStatus();
  if (!terminated_) return absl::OkStatus();
  return end_status_;
}

}  // namespace internal

Watcher::Watcher(std::shared_ptr<internal::WatcherState> state) : state_(std::move(state)) {}

Watcher::~Watcher() { Stop(); }

std::optional<WatchEvent> Watcher::Next(absl::Duration timeout) {
  std::vector<WatchEvent> one;
  if (!state_->NextBatch(&one, timeout, 1, absl::ZeroDuration()) || one.empty()) {
    return std::nullopt;
  }
  return std::move(one.front());
}

bool Watcher::NextBatch(std::vector<WatchEvent>* out, absl::Duration timeout, size_t max_events,
                        absl::Duration linger) {
  return state_->NextBatch(out, timeout, max_events, linger);
}

void Watcher::OnReady(std::function<void()> ready) { state_->OnReady(std::move(ready)); }

void Watcher::Stop() { state_->Stop(); }
void Watcher::RequestBookmark() { state_->RequestBookmark(); }
bool Watcher::Done() const { return state_->Done(); }
absl::Status Watcher::status() const { return state_->status(); }

}  // namespace kslice::envtest::storage
