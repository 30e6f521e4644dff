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

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "envtest/storage/event.h"
#include "envtest/storage/watcher.h"

namespace kslice::envtest::apiserver {

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
