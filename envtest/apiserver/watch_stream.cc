#include "envtest/apiserver/watch_stream.h"

#include <utility>

namespace kslice::envtest::apiserver {

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
