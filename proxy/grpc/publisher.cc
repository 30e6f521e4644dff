#include "proxy/grpc/publisher.h"

#include <chrono>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kslice::proxy::grpc {

std::string NewInstanceId() {
  std::random_device rd;
  uint64_t hi = (static_cast<uint64_t>(rd()) << 32) | rd();
  uint64_t lo = (static_cast<uint64_t>(rd()) << 32) | rd();
  return absl::StrFormat("%016x%016x", hi, lo);
}

// ---- Subscription ----

Subscription::~Subscription() { publisher_->Unsubscribe(this); }

absl::StatusOr<Batch> Subscription::Next(absl::Duration timeout) {
  Publisher& p = *publisher_;
  std::unique_lock<std::mutex> l(p.mu_);
  auto ready = [&] {
    return p.closed_ || (needs_snapshot_ && p.has_state_) || !queue_.empty();
  };
  if (!ready()) {
    cv_.wait_for(l, absl::ToChronoNanoseconds(timeout), ready);
  }
  if (p.closed_) return absl::UnavailableError("the proxy state server is shutting down");
  if (needs_snapshot_ && p.has_state_) {
    needs_snapshot_ = false;
    queue_.clear();  // everything queued is covered by the snapshot
    ProxyState state = p.state_;
    std::string instance = p.instance_;
    ++p.stats_.snapshots_sent;
    ++p.stats_.updates_sent;
    if (p.options_.metrics) {
      p.options_.metrics->snapshots_sent->Inc();
      p.options_.metrics->updates_sent->Inc();
    }
    l.unlock();
    return *p.SnapshotOf(state, instance);
  }
  if (queue_.empty()) return Batch{};
  std::shared_ptr<const Batch> b = std::move(queue_.front());
  queue_.pop_front();
  ++p.stats_.updates_sent;
  if (p.options_.metrics) p.options_.metrics->updates_sent->Inc();
  return *b;
}

// ---- Publisher ----

std::shared_ptr<Publisher> Publisher::Create(IPFamily family, std::string node_name,
                                             PublisherOptions options) {
  if (options.queue_limit == 0) options.queue_limit = 1;
  return std::shared_ptr<Publisher>(new Publisher(family, std::move(node_name), options));
}

Publisher::Publisher(IPFamily family, std::string node_name, PublisherOptions options)
    : family_(family), node_name_(std::move(node_name)), options_(options) {
  instance_ = NewInstanceId();
}

std::string Publisher::instance() const {
  std::lock_guard<std::mutex> l(mu_);
  return instance_;
}

uint64_t Publisher::version() const {
  std::lock_guard<std::mutex> l(mu_);
  return has_state_ ? state_.version : 0;
}

bool Publisher::closed() const {
  std::lock_guard<std::mutex> l(mu_);
  return closed_;
}

PublisherStats Publisher::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  PublisherStats s = stats_;
  s.subscribers = static_cast<int64_t>(subscribers_.size());
  return s;
}

void Publisher::Publish(const ProxyState& state, const SyncHint& hint) {
  ProxyState previous;
  bool had_state;
  std::string instance;
  {
    std::lock_guard<std::mutex> l(mu_);
    previous = state_;
    had_state = has_state_;
    instance = instance_;
  }
  // Publish() is the only writer of state_, so the copy stays current while the delta
  // is computed without the lock.
  std::shared_ptr<const Batch> delta;
  const bool reset = had_state && state.version <= previous.version;
  if (had_state && !reset) {
    StateDiff diff = Diff(previous, state, CandidatesFromHint(previous, state, hint));
    auto b = std::make_shared<Batch>();
    b->messages = EncodeDelta(previous, state, diff, instance, options_.units_per_message);
    b->version = state.version;
    b->previous_version = previous.version;
    delta = std::move(b);
  }
  std::lock_guard<std::mutex> l(mu_);
  ++stats_.published;
  state_ = state;
  has_state_ = true;
  if (reset) {
    instance_ = NewInstanceId();
    history_.clear();
  }
  if (delta != nullptr) {
    history_.push_back(delta);
    while (history_.size() > options_.history_limit) history_.pop_front();
  }
  for (Subscription* s : subscribers_) {
    if (delta == nullptr) {
      s->needs_snapshot_ = true;
      s->queue_.clear();
    } else if (!s->needs_snapshot_) {
      if (s->queue_.size() >= options_.queue_limit) {
        s->queue_.clear();
        s->needs_snapshot_ = true;
        ++stats_.snapshots_forced;
        if (options_.metrics) options_.metrics->snapshots_forced->Inc();
      } else {
        s->queue_.push_back(delta);
      }
    }
    s->cv_.notify_one();
  }
}

absl::StatusOr<std::unique_ptr<Subscription>> Publisher::Subscribe(
    uint64_t resume_from_version, const std::string& resume_instance) {
  std::unique_ptr<Subscription> sub(new Subscription(shared_from_this()));
  std::lock_guard<std::mutex> l(mu_);
  if (closed_) return absl::UnavailableError("the proxy state server is shutting down");
  if (resume_from_version == 0 || resume_instance != instance_ || !has_state_) {
    if (resume_from_version != 0) {
      ++stats_.resume_misses;
      if (options_.metrics) options_.metrics->resumed_with_snapshot->Inc();
    }
    sub->needs_snapshot_ = true;
  } else if (resume_from_version > state_.version) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resume_from_version ", resume_from_version, " is newer than the server's version ",
        state_.version, " of instance ", instance_));
  } else if (resume_from_version < state_.version) {
    // Find the delta that starts at the client's version; the rest follow it.
    auto it = history_.begin();
    while (it != history_.end() && (*it)->previous_version != resume_from_version) ++it;
    const size_t n = static_cast<size_t>(history_.end() - it);
    if (it == history_.end() || n > options_.queue_limit) {
      ++stats_.resume_misses;
      if (options_.metrics) options_.metrics->resumed_with_snapshot->Inc();
      sub->needs_snapshot_ = true;
    } else {
      sub->queue_.assign(it, history_.end());
      ++stats_.resumed;
      if (options_.metrics) options_.metrics->resumed_with_deltas->Inc();
    }
  } else {
    ++stats_.resumed;  // already up to date: wait for the next delta
    if (options_.metrics) options_.metrics->resumed_with_deltas->Inc();
  }
  subscribers_.insert(sub.get());
  if (options_.metrics) options_.metrics->clients->Inc();
  return sub;
}

void Publisher::Unsubscribe(Subscription* sub) {
  std::lock_guard<std::mutex> l(mu_);
  if (subscribers_.erase(sub) > 0 && options_.metrics) options_.metrics->clients->Dec();
}

void Publisher::Close() {
  std::lock_guard<std::mutex> l(mu_);
  closed_ = true;
  for (Subscription* s : subscribers_) s->cv_.notify_all();
}

std::shared_ptr<const Batch> Publisher::SnapshotOf(const ProxyState& state,
                                                   const std::string& instance) {
  {
    std::lock_guard<std::mutex> l(cache_mu_);
    if (cached_snapshot_ != nullptr && cached_snapshot_->version == state.version &&
        cached_instance_ == instance) {
      return cached_snapshot_;
    }
  }
  auto b = std::make_shared<Batch>();
  b->messages = EncodeSnapshot(state, instance, options_.units_per_message);
  b->snapshot = true;
  b->version = state.version;
  std::lock_guard<std::mutex> l(cache_mu_);
  if (cached_snapshot_ == nullptr || cached_snapshot_->version < state.version ||
      cached_instance_ != instance) {
    cached_snapshot_ = b;
    cached_instance_ = instance;
  }
  return b;
}

}  // namespace kslice::proxy::grpc
