// SharedIndexInformer: one list-and-watch of a resource feeding an indexed cache and any
// number of event handlers, as client-go's tools/cache/shared_informer.go.
//
//   SharedIndexInformer pods(std::move(lw), {.resync_period = absl::Minutes(10)});
//   auto reg = pods.AddEventHandler(ResourceEventHandlerFuncs{
//       .add = [](const ObjectPtr& obj, bool initial) { ... },
//       .update = [](const ObjectPtr& old_obj, const ObjectPtr& new_obj) { ... },
//       .del = [](const DeletedObject& d) { ... },
//   });
//   std::jthread run([&](std::stop_token stop) { pods.Run(stop); });
//   WaitForCacheSync(stop, {[&] { return pods.HasSynced(); }});
//
// Wiring: Reflector -> DeltaFifo (known objects = the indexer) -> one processing thread
// that applies each object's deltas to the indexer, then queues notifications to every
// handler. Each handler has its own thread and an unbounded buffer, so a slow handler
// delays only itself (its buffer grows); handlers never block the informer.
//
// Guarantees (as upstream):
//  - the indexer is updated before handlers are told;
//  - one handler sees the notifications about one object in the order they happened;
//    there is no ordering across objects or across handlers;
//  - handlers may miss intermediate states (deltas of one key popped together are
//    delivered one by one, but a relist may reveal only the latest state), and a delete
//    and re-create under the same key may arrive as one update;
//  - a deletion noticed only by a relist arrives as a DeletedObject with
//    final_state_unknown set and the last state known (possibly stale);
//  - objects handed to handlers and listers are shared and immutable: never modify
//    them (copy first). Handlers should be quick and hand real work to a work queue.
// Not guaranteed: that a handler sees every intermediate update; anything after Run
// returns (pending notifications are dropped at stop).
#ifndef KSLICE_INFORMERS_SHARED_INFORMER_H_
#define KSLICE_INFORMERS_SHARED_INFORMER_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "informers/cache/delta_fifo.h"
#include "informers/cache/indexer.h"
#include "informers/cache/object.h"
#include "informers/lister_watcher.h"
#include "informers/reflector.h"

namespace kslice::informers {

// What OnDelete receives: the object's last known state, or (final_state_unknown) a
// tombstone for a deletion the watch missed, whose object may be stale or null.
struct DeletedObject {
  std::string key;
  ObjectPtr object;
  bool final_state_unknown = false;
};

// client-go's ResourceEventHandler. Calls for one handler come from one thread, one at
// a time.
class ResourceEventHandler {
 public:
  virtual ~ResourceEventHandler() = default;
  // is_in_initial_list: the object was in the informer's first list (or is replayed to
  // a handler added after start).
  virtual void OnAdd(const ObjectPtr& object, bool is_in_initial_list) = 0;
  // Also called on resync, with old_object == new_object's state (same resourceVersion).
  virtual void OnUpdate(const ObjectPtr& old_object, const ObjectPtr& new_object) = 0;
  virtual void OnDelete(const DeletedObject& deleted) = 0;
};

// A handler from functions; unset functions ignore their events.
struct ResourceEventHandlerFuncs {
  std::function<void(const ObjectPtr&, bool)> add;
  std::function<void(const ObjectPtr&, const ObjectPtr&)> update;
  std::function<void(const DeletedObject&)> del;
};
std::shared_ptr<ResourceEventHandler> MakeHandler(ResourceEventHandlerFuncs funcs);

namespace internal {
class Listener;
}

// What AddEventHandler returns: the handler's own sync state, and the handle to remove it.
class HandlerRegistration {
 public:
  // True once the informer has synced and this handler has finished every OnAdd of the
  // initial list (or of the replay when it was added after start).
  bool HasSynced() const;

 private:
  friend class SharedIndexInformer;
  explicit HandlerRegistration(std::shared_ptr<internal::Listener> listener)
      : listener_(std::move(listener)) {}
  std::shared_ptr<internal::Listener> listener_;
};

struct SharedInformerOptions {
  // For logs ("pods").
  std::string name = "informer";
  // The default resync period of handlers; 0: no resync. As upstream, when it is 0 the
  // informer never resyncs, whatever handlers ask for.
  absl::Duration resync_period = absl::ZeroDuration();
  Indexers indexers = {{kNamespaceIndex, NamespaceIndexFunc}};
  CacheMode cache_mode = CacheMode::kCompact;
  // Tuning of the reflector (page size, streaming list, clock, backoff, randomness).
  // Its name, resync_period, should_resync and transform are set by the informer.
  ReflectorOptions reflector{};
};

class SharedIndexInformer {
 public:
  explicit SharedIndexInformer(std::unique_ptr<ListerWatcher> lw,
                               SharedInformerOptions options = {});
  // Requires that Run has returned (or was never called).
  ~SharedIndexInformer();
  SharedIndexInformer(const SharedIndexInformer&) = delete;
  SharedIndexInformer& operator=(const SharedIndexInformer&) = delete;

  // Adds a handler with the informer's default resync period, or with `resync`
  // (raised to 1 s when below; before Run a smaller period than the informer's lowers
  // the informer's check period, after Run it is raised to it). After Run has started,
  // the handler first gets OnAdd(obj, true) for every cached object. FailedPrecondition
  // once the informer has stopped.
  absl::StatusOr<std::shared_ptr<HandlerRegistration>> AddEventHandler(
      std::shared_ptr<ResourceEventHandler> handler);
  absl::StatusOr<std::shared_ptr<HandlerRegistration>> AddEventHandler(
      std::shared_ptr<ResourceEventHandler> handler, absl::Duration resync);
  absl::StatusOr<std::shared_ptr<HandlerRegistration>> AddEventHandler(
      ResourceEventHandlerFuncs funcs) {
    return AddEventHandler(MakeHandler(std::move(funcs)));
  }
  // Stops delivering to the handler (the call in progress, if any, finishes first
  // unless called from that handler). Idempotent.
  void RemoveEventHandler(const std::shared_ptr<HandlerRegistration>& registration);

  // Applied to every object before it is stored (e.g. DropManagedFields).
  // FailedPrecondition after Run.
  absl::Status SetTransform(ObjectTransform transform);
  absl::Status SetWatchErrorHandler(std::function<void(const absl::Status&)> handler);
  // More indexes; allowed at any time (existing objects are indexed).
  absl::Status AddIndexers(Indexers indexers);

  // Runs until `stop` is requested: the reflector on this thread, the processing and
  // handler threads beside it. A second call returns at once.
  void Run(std::stop_token stop);

  // True once the first list has been fully processed into the indexer.
  bool HasSynced() const;
  bool IsStopped() const;
  std::string LastSyncResourceVersion() const;

  // The cache. Read-only for users.
  const Indexer& GetIndexer() const { return *indexer_; }

 private:
  class FifoStore;
  absl::Status HandleDeltas(std::vector<Delta> deltas, bool is_in_initial_list);
  bool ShouldResync();

  const SharedInformerOptions options_;
  std::unique_ptr<ListerWatcher> lw_;
  std::unique_ptr<Indexer> indexer_;
  std::unique_ptr<DeltaFifo> fifo_;
  std::unique_ptr<FifoStore> store_;
  client::flowcontrol::Clock* clock_;  // not owned

  mutable std::mutex mu_;  // informer state
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration check_period_ ABSL_GUARDED_BY(mu_);
  ObjectTransform transform_ ABSL_GUARDED_BY(mu_);
  std::function<void(const absl::Status&)> watch_error_handler_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Reflector> reflector_ ABSL_GUARDED_BY(mu_);

  // Held while deltas are applied and distributed, and while a late handler is added
  // and replayed (client-go's blockDeltas), so a late handler misses nothing.
  std::mutex block_deltas_;
  // The processor: listeners, and those due for resync in the current round.
  mutable std::mutex listeners_mu_;
  std::vector<std::shared_ptr<internal::Listener>> listeners_ ABSL_GUARDED_BY(listeners_mu_);
  std::vector<std::shared_ptr<internal::Listener>> syncing_ ABSL_GUARDED_BY(listeners_mu_);
  bool listeners_started_ ABSL_GUARDED_BY(listeners_mu_) = false;
};

// Waits until every function returns true (checking every 100 ms), or `stop` is
// requested (false). client-go's cache.WaitForCacheSync.
bool WaitForCacheSync(std::stop_token stop, const std::vector<std::function<bool()>>& synced);
// The same for informers.
bool WaitForCacheSync(std::stop_token stop, const std::vector<const SharedIndexInformer*>& informers);

}  // namespace kslice::informers

#endif  // KSLICE_INFORMERS_SHARED_INFORMER_H_
