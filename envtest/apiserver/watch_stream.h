// The body of a watch response: events from a storage::Watcher, encoded for the
// negotiated media type, pulled by the HTTP layer without blocking.
//
//   stream->SetWake([session] { post(session->strand, [session] { session->Pump(); }); });
//   std::string chunk;
//   bool more = stream->Poll(&chunk);  // chunk has whole encoded events
//
// The stream ends when the watcher ends (slow consumer, store shut down, an ERROR
// event such as 410 Expired), when Stop() is called, or when the HTTP layer's
// deadline (deadline()) passes; shortly before the deadline the HTTP layer calls
// RequestBookmark() so clients that allow bookmarks learn the latest RV, as
// kube-apiserver does.
#ifndef KSLICE_ENVTEST_APISERVER_WATCH_STREAM_H_
#define KSLICE_ENVTEST_APISERVER_WATCH_STREAM_H_

#include <deque>
#include <functional>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "envtest/storage/event.h"
#include "envtest/storage/watcher.h"

namespace kslice::envtest::apiserver {

// Encoded watch events shared by every watcher of the same event and media type, so an
// event fanned out to N watchers is serialized once (upstream's cachingObject,
// KEP-1152). Keeps the last `capacity` encodings; each entry holds its object, so an
// object's address is not reused while it is a key. Thread-safe.
class EventEncodingCache {
 public:
  explicit EventEncodingCache(size_t capacity = 8192) : capacity_(capacity) {}
  // The bytes for `event` in `format`: cached, or made by `encode` (outside the lock).
  absl::StatusOr<std::shared_ptr<const std::string>> Get(
      const storage::WatchEvent& event, int format,
      const std::function<absl::StatusOr<std::string>()>& encode);

 private:
  struct Key {
    const void* object;
    int type;
    int format;
    bool operator==(const Key& o) const {
      return object == o.object && type == o.type && format == o.format;
    }
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.object, k.type, k.format);
    }
  };
  struct Entry {
    storage::Object object;
    std::shared_ptr<const std::string> bytes;
  };
  const size_t capacity_;
  std::mutex mu_;
  absl::flat_hash_map<Key, Entry> entries_;  // guarded by mu_
  std::deque<Key> order_;                    // guarded by mu_: oldest first
};

class WatchStream {
 public:
  using Encoder = std::function<absl::StatusOr<std::string>(const storage::WatchEvent&)>;

  WatchStream(std::unique_ptr<storage::Watcher> watcher, Encoder encoder, absl::Time deadline);
  ~WatchStream();

  // `wake` runs (on any thread, quickly) when Poll may have something new.
  void SetWake(std::function<void()> wake);
  // Appends up to `max_events` encoded events; never blocks. False once the stream
  // has ended and everything was returned.
  bool Poll(std::string* out, size_t max_events = 256);
  absl::Time deadline() const { return deadline_; }
  void RequestBookmark();
  // Ends the stream (the client went away, or the server is stopping).
  void Stop();

 private:
  std::unique_ptr<storage::Watcher> watcher_;
  Encoder encoder_;
  absl::Time deadline_;
  bool ended_ = false;
  std::vector<storage::WatchEvent> batch_;
};

}  // namespace kslice::envtest::apiserver

#endif  // KSLICE_ENVTEST_APISERVER_WATCH_STREAM_H_
