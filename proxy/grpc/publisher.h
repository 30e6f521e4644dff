// Publisher: the fan-out behind the grpc backend, free of any networking. The backend's
// Sync publishes each new ProxyState; every Watch stream holds a Subscription and sends
// what Next() returns.
//
//   Publisher pub(IPFamily::kIPv4, "node-a", {.queue_limit = 64});
//   pub.Publish(state, hint);                    // sync thread; never blocks on clients
//   auto sub = pub.Subscribe(/*resume_from_version=*/0, /*resume_instance=*/"");
//   absl::StatusOr<Batch> b = (*sub)->Next(absl::Milliseconds(100));  // stream thread
//
// Versions and instances. Updates carry the published state's version (ProxyState
// versions: +1 per proxy sync). `instance()` is a random id fixed for a run of
// versions; it changes when a state arrives whose version is not greater than the
// last one (a proxy restarted its count), and then every subscriber gets a snapshot.
//
// Guarantees:
//  - Publish() takes the lock only to append one shared update to each subscriber's
//    queue: a client that does not read never slows it or other clients.
//  - Each subscriber's queue holds at most `queue_limit` updates. When one more would
//    not fit, the queue is dropped and the subscriber is owed a snapshot: its next
//    Next() returns a snapshot of the latest state, followed by later deltas. The
//    client therefore always sees an unbroken chain of versions, only coarser.
//  - The last `history_limit` deltas are kept so that a client reconnecting with
//    resume_from_version = v (of this instance) gets the deltas after v; older or
//    unknown versions get a snapshot.
//  - Snapshots are encoded outside the lock, once per version (shared by subscribers).
// Thread-safety: all methods are thread-safe. Publish() must not run concurrently with
// itself (it is called from Backend::Sync).
#ifndef KSLICE_PROXY_GRPC_PUBLISHER_H_
#define KSLICE_PROXY_GRPC_PUBLISHER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proxy/backend.h"
#include "proxy/grpc/codec.h"
#include "proxy/grpc/grpc_metrics.h"
#include "proxy/types.h"

namespace kslice::proxy::grpc {

struct PublisherOptions {
  // Deltas kept for resuming clients.
  size_t history_limit = 256;
  // Updates one subscriber may have waiting before it is switched to a snapshot.
  size_t queue_limit = 64;
  // Split messages after this many units (codec.h).
  size_t units_per_message = kDefaultUnitsPerMessage;
  // Also count into these (not owned; registry-owned metrics outlive the publisher).
  std::optional<GrpcMetrics> metrics{};
};

// Counters since creation (monotonic except `subscribers`).
struct PublisherStats {
  int64_t subscribers = 0;         // connected now
  int64_t published = 0;           // Publish() calls
  int64_t updates_sent = 0;        // updates handed to streams (snapshots + deltas)
  int64_t snapshots_sent = 0;
  int64_t snapshots_forced = 0;    // queue overflows
  int64_t resumed = 0;             // subscribers resumed with deltas
  int64_t resume_misses = 0;       // resume asked for, snapshot given
};

// The messages a stream sends next: one complete update.
struct Batch {
  UpdateMessages messages;  // empty: nothing new before the timeout
  bool snapshot = false;
  uint64_t version = 0;
  uint64_t previous_version = 0;  // deltas only
};

class Publisher;

// One stream's view. Destroying it unsubscribes. Owned by the stream.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Waits up to `timeout` for the next update. An empty batch on timeout; Unavailable
  // once the publisher is closed.
  absl::StatusOr<Batch> Next(absl::Duration timeout);

 private:
  friend class Publisher;
  explicit Subscription(std::shared_ptr<Publisher> publisher) : publisher_(std::move(publisher)) {}

  std::shared_ptr<Publisher> publisher_;
  // Guarded by publisher_->mu_.
  std::deque<std::shared_ptr<const Batch>> queue_;
  bool needs_snapshot_ = false;
  std::condition_variable cv_;
};

class Publisher : public std::enable_shared_from_this<Publisher> {
 public:
  static std::shared_ptr<Publisher> Create(IPFamily family, std::string node_name,
                                           PublisherOptions options = {});

  IPFamily family() const { return family_; }
  const std::string& node_name() const { return node_name_; }
  std::string instance() const;
  // Version of the last published state; 0 before the first.
  uint64_t version() const;

  // Publishes `state`; `hint` limits the diff against the previous state (full: diff
  // everything). The first state (and one after a version reset) is only available as
  // a snapshot.
  void Publish(const ProxyState& state, const SyncHint& hint);

  // A new subscriber. resume_from_version 0 (or another instance): a snapshot first.
  // InvalidArgument when the version is newer than the current one of this instance;
  // Unavailable after Close().
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(uint64_t resume_from_version,
                                                          const std::string& resume_instance);

  // Ends every subscription (their Next() returns Unavailable) and refuses new ones.
  void Close();
  bool closed() const;

  PublisherStats stats() const;

 private:
  friend class Subscription;
  Publisher(IPFamily family, std::string node_name, PublisherOptions options);
  void Unsubscribe(Subscription* sub);
  // The snapshot of `state` (cached per instance + version).
  std::shared_ptr<const Batch> SnapshotOf(const ProxyState& state, const std::string& instance);

  const IPFamily family_;
  const std::string node_name_;
  const PublisherOptions options_;

  mutable std::mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool has_state_ ABSL_GUARDED_BY(mu_) = false;
  ProxyState state_ ABSL_GUARDED_BY(mu_);
  std::string instance_ ABSL_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<const Batch>> history_ ABSL_GUARDED_BY(mu_);  // oldest first
  std::set<Subscription*> subscribers_ ABSL_GUARDED_BY(mu_);
  PublisherStats stats_ ABSL_GUARDED_BY(mu_);

  std::mutex cache_mu_;  // never held with mu_
  std::shared_ptr<const Batch> cached_snapshot_;
  std::string cached_instance_;
};

// A random 128-bit id in hex.
std::string NewInstanceId();

}  // namespace kslice::proxy::grpc

#endif  // KSLICE_PROXY_GRPC_PUBLISHER_H_
