#include "envtest/apiserver/watch_stream.h"

#include <utility>

namespace kslice::envtest::apiserver {

absl::StatusOr<std::shared_ptr<const std::string>> EventEncodingCache::Get(
    const storage::WatchEvent& event, int format,
    const std::function<absl::StatusOr<std::string>()>& encode) {
  const Key key{event.object.get(), static_cast<int>(event.type), format};
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second.bytes;
  }
  absl::StatusOr<std::string> bytes = encode();
  if (!bytes.ok()) return bytes.status();
  auto shared = std::make_shared<const std::string>(*std::move(bytes));
  std::lock_guard<std::mutex> l(mu_);
  if (entries_.try_emplace(key, Entry{event.object, shared}).second) {
    order_.push_back(key);
    while (order_.size() > capacity_) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
  }
  return shared;
}

WatchStream::WatchStream(std::unique_ptr<storage::Watcher> watcher, Encoder encoder,
                         absl::Time deadline)
    : watcher_(std::move(watcher)), encoder_(std::move(encoder)), deadline_(deadline) {}

WatchStream::~WatchStream() {
  watcher_->OnReady(nullptr);
  watcher_->Stop();
}

void WatchStream::SetWake(std::function<void()> wake) { watcher_->OnReady(std::move(wake)); }

bool WatchStream::Poll(std::string* out, size_t max_events) {
  if (ended_) return false;
  batch_.clear();
  if (!watcher_->NextBatch(&batch_, absl::ZeroDuration(), max_events)) {
    ended_ = true;
    return false;
  }
  for (const storage::WatchEvent& e : batch_) {
    absl::StatusOr<std::string> bytes = encoder_(e);
    if (!bytes.ok()) {
      // An event that cannot be encoded ends the stream, as the apiserver does.
      ended_ = true;
      watcher_->Stop();
      break;
    }
    out->append(*bytes);
  }
  batch_.clear();
  return true;
}

void WatchStream::RequestBookmark() { watcher_->RequestBookmark(); }

void WatchStream::Stop() { watcher_->Stop(); }

}  // namespace kslice::envtest::apiserver
