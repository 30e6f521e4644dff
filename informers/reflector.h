// Reflector: keeps a store in step with one resource on the API server, as client-go's
// tools/cache/reflector.go does. It lists (in pages of 500, or as one streaming watch
// with sendInitialEvents when enabled), replaces the store's content with the list, then
// watches from the list's resourceVersion and applies every event to the store.
//
//   Reflector r(lw, store, {.name = "pods"});
//   std::jthread t([&](std::stop_token stop) { r.Run(stop); });
//
// Behavior (docs/informers.md has the details and the differences from upstream):
//  - the first list asks for resourceVersion "0" (the server's cache may answer),
//    relists ask for the last synced version, and after a 410 Expired / "too large
//    resource version" answer to a list, for "" (a consistent read);
//  - watches send allowWatchBookmarks and a random timeoutSeconds in [5 min, 10 min);
//    bookmarks only move LastSyncResourceVersion;
//  - a watch that ends cleanly is reopened at once from the last version; a watch
//    answered with 410 Expired/Gone ends the cycle, and the next cycle relists;
//  - between cycles, and before retrying a watch after a connection failure or 429, it
//    waits an exponential backoff with jitter (800 ms doubling to 30 s, reset after two
//    quiet minutes);
//  - with a resync period, store.Resync() is called every period while watching
//    (when should_resync allows it).
// Thread-safety: Run once; LastSyncResourceVersion() from any thread.
#ifndef KSLICE_INFORMERS_REFLECTOR_H_
#define KSLICE_INFORMERS_REFLECTOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/flowcontrol/backoff.h"
#include "client/flowcontrol/clock.h"
#include "google/protobuf/message.h"
#include "informers/cache/object.h"
#include "informers/lister_watcher.h"

namespace kslice::informers {

// Edits an object as it arrives, before it is stored (client-go's TransformFunc, but in place: the message is not yet shared), e.g.
// to drop metadata.managedFields. Runs on the reflector's (or transport's) thread.
using ObjectTransform = std::function<void(google::protobuf::Message&)>;

// A transform that clears metadata.managedFields (what most controllers never read).
void DropManagedFields(google::protobuf::Message& object);

// What the reflector writes into (client-go's Store as the reflector uses it).
class ReflectorStore {
 public:
  virtual ~ReflectorStore() = default;
  virtual void Add(ObjectPtr object) = 0;
  virtual void Update(ObjectPtr object) = 0;
  virtual void Delete(ObjectPtr object) = 0;  // the object's last state
  // The whole content as of resource_version.
  virtual void Replace(std::vector<ObjectPtr> objects, const std::string& resource_version) = 0;
  virtual void Resync() = 0;
};

struct ReflectorOptions {
  // For error messages ("pods", "*v1.Pod").
  std::string name = "reflector";
  // 0: no resync.
  absl::Duration resync_period = absl::ZeroDuration();
  // Asked before each resync; nullptr: always resync.
  std::function<bool()> should_resync;
  // LIST page size (client-go's WatchListPageSize); 0: 500, or no paging when listing
  // from a specific resourceVersion (see docs).
  int64_t page_size = 0;
  // Streaming initial list (client-go's WatchListClient feature): one watch with
  // sendInitialEvents=true instead of LIST; falls back to LIST when it fails.
  bool use_watch_list = false;
  // Watches ask the server to end after a random time in [min, 2*min); values below
  // 5 minutes are raised to 5 minutes (as upstream).
  absl::Duration min_watch_timeout = absl::Minutes(5);
  client::flowcontrol::BackoffOptions backoff = client::flowcontrol::BackoffOptions::Reflector();
  // Time source (not owned); nullptr: the real clock.
  client::flowcontrol::Clock* clock = nullptr;
  // Uniform [0,1) random source for the backoff jitter and the watch timeout.
  std::function<double()> random;
  // Applied to every listed / watched object before it is stored.
  ObjectTransform transform;
  // Called with the error that ended a list-and-watch cycle (client-go's
  // WatchErrorHandler); nullptr: write one line to stderr.
  std::function<void(const absl::Status&)> watch_error_handler;
};

class Reflector {
 public:
  // `lw` and `store` are not owned and must outlive the Reflector.
  Reflector(ListerWatcher& lw, ReflectorStore& store, ReflectorOptions options = {});
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  // Runs list-and-watch cycles, with backoff between them, until `stop` is requested.
  void Run(std::stop_token stop);

  // One cycle: list (or streaming list), then watch until an error or stop. Returns OK
  // when stopped or when the cycle should simply be restarted (410 on watch).
  absl::Status ListAndWatch(std::stop_token stop);

  // The resourceVersion of the last list, event or bookmark applied ("" before the
  // first list).
  std::string LastSyncResourceVersion() const;

  // Observable state for tests.
  bool IsLastSyncResourceVersionUnavailable() const;

 private:
  absl::Status List(std::stop_token stop);
  // Streaming list then watch on the same stream; `fallback` is set when the caller
  // should LIST instead.
  absl::Status WatchList(std::stop_token stop, bool* fallback,
                         const std::function<void()>& synced);
  // The watch phase (after a list): reopens watches until an error, 410, or stop.
  absl::Status WatchLoop(std::stop_token stop);
  absl::Status HandleEvent(WatchEvent event, int* count);
  std::string RelistResourceVersion() const;
  std::string RewatchResourceVersion() const;
  void SetLastSync(const std::string& rv);
  void SetUnavailable(bool v);
  ObjectPtr Finish(
      std::unique_ptr<google::protobuf::Message> object) const;
  int64_t WatchTimeoutSeconds();
  bool Sleep(absl::Duration d, std::stop_token stop);
  void ReportError(const absl::Status& status);

  ListerWatcher& lw_;      // not owned
  ReflectorStore& store_;  // not owned
  ReflectorOptions options_;
  client::flowcontrol::Clock* clock_;  // not owned
  client::flowcontrol::Backoff backoff_;

  mutable std::mutex mu_;
  std::string last_sync_rv_ ABSL_GUARDED_BY(mu_);
  bool rv_unavailable_ ABSL_GUARDED_BY(mu_) = false;
  bool paginated_result_ ABSL_GUARDED_BY(mu_) = false;
  std::function<double()> random_ ABSL_GUARDED_BY(mu_);
};

// True for the errors after which the reflector relists from "" (consistent read):
// 410 Expired/Gone, and "resource version too large" (504 with cause
// ResourceVersionTooLarge, or that text in the message for old servers).
bool IsExpiredError(const absl::Status& status);
bool IsTooLargeResourceVersionError(const absl::Status& status);

}  // namespace kslice::informers

#endif  // KSLICE_INFORMERS_REFLECTOR_H_
