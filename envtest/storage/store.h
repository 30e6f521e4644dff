// The storage engine of kslice's embedded API server: kube-apiserver's storage
// semantics (etcd3 store + watch cache) in memory, for every resource of a
// ResourceRegistry, independent of any transport.
//
//   absl::StatusOr<std::unique_ptr<Store>> store = Store::Open();
//   const ResourceKey pods{"", "pods"};
//   absl::StatusOr<Object> created = (*store)->Create(pods, pod);   // uid, RV, timestamps set
//   absl::StatusOr<ListResult> page = (*store)->List(pods, {.ns = "default", .limit = 100});
//   absl::StatusOr<std::unique_ptr<Watcher>> w =
//       (*store)->Watch(pods, {.resource_version = absl::StrCat(page->resource_version)});
//
// Objects. Stored objects are immutable shared protobuf messages (Object) in canonical
// form; a write takes a message, fills the server-owned metadata and stores it. Every
// write that changes an object takes the next value of one store-wide resourceVersion
// (uint64, the etcd revision of a real server) and produces exactly one watch event.
//
// Create: uid (random v4), creationTimestamp (the clock, whole seconds),
//   resourceVersion, generation 1 for kinds that track it; deletionTimestamp,
//   deletionGracePeriodSeconds and selfLink are cleared. An empty name with
//   generateName set gets prefix[:58] + 5 characters of "bcdfghjklmnpqrstvwxz2456789",
//   retried up to 8 times on a clash (then AlreadyExists with retryAfterSeconds 1).
//   A set resourceVersion fails (500 "resourceVersion should not be set on objects to
//   be created"); a taken name is AlreadyExists.
// Update (PUT): the body's resourceVersion is a precondition (stale: Conflict); empty
//   means unconditional where the resource allows it. A body uid that differs from the
//   stored one is a Conflict. uid, creationTimestamp and generation are kept from the
//   stored object; generation is bumped when `spec` changes (or anything but metadata,
//   per GenerationPolicy) and when deletionTimestamp first appears on an object with
//   generation > 0. An update that changes nothing is not written (same RV, no event).
// GuaranteedUpdate: read-modify-write with retries (the function may run several times,
//   never under the store's lock, so it may call the store).
// Delete: preconditions on uid / resourceVersion; the DELETED event carries the last
//   state with the deletion's RV. (Graceful deletion and finalizers are the registry's
//   business: it writes deletionTimestamp through Update.)
//
// Reads (resourceVersion semantics of kube-apiserver 1.32; the shared API machinery
// spec, §2, and docs/envtest-storage.md):
//   Get: "" or "0" = latest; N = not older than N.
//   List: "" = latest (consistent); "0" = latest, and `limit` is ignored (as the watch
//   cache does); N = not older than N, except with a limit and no
//   resourceVersionMatch (legacy rule) or with Exact: the snapshot at exactly N, from
//   history (410 Expired "The resourceVersion for the provided list is too old." once
//   compacted). "Not older than" an RV the store has not reached waits up to
//   StoreOptions::too_large_resource_version_wait, then fails 504 "Too large resource
//   version". Items are sorted by key (namespace/name). Paging: `limit` + continue
//   tokens (continue_token.h); every page of a list reads the first page's snapshot;
//   a token whose snapshot was compacted is a 410 carrying a fresh token (rv -1) that
//   continues from the same key at the latest RV. remainingItemCount is set when more
//   items follow and neither selector is set.
//   Watch: "" or "0" = synthetic ADDEDs for the current state, then changes; N = every
//   change after N (410 "too old resource version: N (M)" as an ERROR event when N is
//   older than the history, M being the compacted RV); sendInitialEvents=true (needs
//   resourceVersionMatch=NotOlderThan) = ADDEDs for a state not older than N, then
//   (with bookmarks allowed) a BOOKMARK annotated k8s.io/initial-events-end: "true";
//   sendInitialEvents=false with "" or "0" = changes from now on. Label and field
//   selectors filter events; an object that stops matching yields DELETED (its previous
//   state, the new RV) and one that starts matching yields ADDED. See watcher.h for
//   delivery, slow watchers and bookmarks.
//
// History. The store keeps the last StoreOptions::history_size events (and the object
// versions they reference). That window serves watches from an old RV, exact lists and
// continue tokens; CompactedResourceVersion() is its lower end (all states at or above
// it can be read). Compact() trims it by hand.
//
// Errors: absl::Status with upstream's codes and messages (errors.h).
//
// Thread safety: every method may be called from any thread. Writers are serialized;
// readers share a lock; watch fan-out happens in the writer, bounded per watcher.
#ifndef KSLICE_ENVTEST_STORAGE_STORE_H_
#define KSLICE_ENVTEST_STORAGE_STORE_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "envtest/storage/clock.h"
#include "envtest/storage/event.h"
#include "envtest/storage/object.h"
#include "envtest/storage/options.h"
#include "envtest/storage/persistence.h"
#include "envtest/storage/resource.h"
#include "envtest/storage/watcher.h"
#include "google/protobuf/message.h"

namespace kslice::envtest::storage {

struct StoreOptions {
  // Resources served; nullptr = ResourceRegistry::Builtin(). Not owned; must outlive
  // the store.
  const ResourceRegistry* registry = nullptr;
  // nullptr = Clock::Real(). Not owned; must outlive the store and its watchers.
  Clock* clock = nullptr;
  // The resourceVersion of the empty store; the first write gets the next one.
  uint64_t initial_resource_version = 1;
  // Events kept for watch-from-RV, exact lists and continue tokens (at least 1).
  size_t history_size = 10000;
  // Default bound of each watcher's live-event queue (at least 1).
  size_t watch_queue_capacity = 1000;
  // Time between periodic bookmarks of a watch that allows them.
  absl::Duration bookmark_interval = absl::Seconds(60);
  // How long a read "not older than" an RV the store has not reached waits (the
  // watch cache's 3 s) before failing with "Too large resource version".
  absl::Duration too_large_resource_version_wait = absl::Seconds(3);
  // The WatchList feature gate: allows sendInitialEvents.
  bool watch_list_enabled = true;
  // Seed of uid and generateName randomness; nullopt = std::random_device.
  std::optional<uint64_t> random_seed;
  // Replaces the 5 random characters of generateName (tests). Called with the
  // truncated prefix under the store's write lock; returns the whole name.
  std::function<std::string(absl::string_view prefix)> name_generator;
  // Optional durability hook (persistence.h). Not owned; must outlive the store.
  Persistence* persistence = nullptr;
};

class Store {
 public:
  // Builds a store and, with a Persistence, replays what it holds.
  static absl::StatusOr<std::unique_ptr<Store>> Open(StoreOptions options = {});
  // Ends every watch (status Cancelled, after its queued events).
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Takes the object (of the resource's type). Returns the stored object.
  absl::StatusOr<Object> Create(const ResourceKey& resource,
                                std::unique_ptr<google::protobuf::Message> object,
                                const CreateOptions& options = {});
  absl::StatusOr<Object> Create(const ResourceKey& resource,
                                const google::protobuf::Message& object,
                                const CreateOptions& options = {});

  // Replaces the object named by the body's metadata (namespace, name).
  absl::StatusOr<UpdateResult> Update(const ResourceKey& resource,
                                      std::unique_ptr<google::protobuf::Message> object,
                                      const UpdateOptions& options = {});
  absl::StatusOr<UpdateResult> Update(const ResourceKey& resource,
                                      const google::protobuf::Message& object,
                                      const UpdateOptions& options = {});

  // Computes the new object from the current one (nullptr when missing and
  // ignore_not_found). Returning a null pointer deletes the object; returning an
  // error aborts with that error. The returned object's resourceVersion, uid,
  // creationTimestamp and generation are managed as for Update (the RV is not a
  // precondition: the function saw the current object). If another write lands
  // between the read and the commit, the function runs again on the new state.
  using UpdateFunc = std::function<absl::StatusOr<std::unique_ptr<google::protobuf::Message>>(
      const google::protobuf::Message* current)>;
  absl::StatusOr<UpdateResult> GuaranteedUpdate(const ResourceKey& resource,
                                                absl::string_view ns, absl::string_view name,
                                                const UpdateFunc& update,
                                                const GuaranteedUpdateOptions& options = {});

  // Returns the object as it was before the deletion.
  absl::StatusOr<Object> Delete(const ResourceKey& resource, absl::string_view ns,
                                absl::string_view name, const DeleteOptions& options = {});

  absl::StatusOr<Object> Get(const ResourceKey& resource, absl::string_view ns,
                             absl::string_view name, const GetOptions& options = {}) const;

  absl::StatusOr<ListResult> List(const ResourceKey& resource, const ListOptions& options) const;

  // Errors returned here are the API server's HTTP errors (bad options: 400/422;
  // unknown resource: 404); errors found once the watch is set up come as an ERROR
  // event (watcher.h).
  absl::StatusOr<std::unique_ptr<Watcher>> Watch(const ResourceKey& resource,
                                                 const ListOptions& options);

  // The RV of the last write (the initial RV for an empty store).
  uint64_t CurrentResourceVersion() const;
  // The lower end of the history: states at this RV or later can be read, watches
  // from this RV or later can be served.
  uint64_t CompactedResourceVersion() const;
  // Drops history up to and including `resource_version` (at most the current RV).
  void Compact(uint64_t resource_version);
  // Watchers registered for the resource and not yet ended (tests, metrics).
  size_t WatcherCount(const ResourceKey& resource) const;

  const ResourceRegistry& registry() const { return *registry_; }

 private:
  struct Version;
  struct KeyHistory;
  struct ResourceState;
  struct LogEntry;
  struct RemainingCount;

  explicit Store(StoreOptions options);

  absl::StatusOr<ResourceState*> Resource(const ResourceKey& key) const;
  std::string NewUidLocked();
  std::string GenerateNameLocked(absl::string_view prefix);
  absl::Status WaitForResourceVersion(uint64_t minimum) const;
  absl::StatusOr<UpdateResult> CreateLocked(ResourceState& rs,
                                            std::unique_ptr<google::protobuf::Message> object,
                                            bool dry_run);
  // Replaces `current` (non-null) at `key` with `object`: server fields carried over,
  // no-op when nothing changed, otherwise a new resourceVersion and a MODIFIED event.
  absl::StatusOr<UpdateResult> UpdateLocked(ResourceState& rs, const std::string& key,
                                            std::unique_ptr<google::protobuf::Message> object,
                                            Object current, bool dry_run, bool keep_generation = false);
  absl::Status CommitLocked(ResourceState& rs, const std::string& key, EventType type,
                            Object object, Object prev, uint64_t rv);
  void DispatchLocked(ResourceState& rs, LogEntry& entry);
  static void CountLive(ResourceState& rs, std::string_view key, int delta);
  void TrimHistoryLocked(size_t keep);
  void PopHistoryLocked();
  absl::Status ApplyPersisted(const PersistedWrite& write);

  const StoreOptions options_;
  const ResourceRegistry* const registry_;  // not owned
  Clock* const clock_;                      // not owned
  // Built in the constructor, then only the states' contents change (under mu_).
  absl::flat_hash_map<ResourceKey, std::unique_ptr<ResourceState>> resources_;

  mutable std::shared_mutex mu_;
  uint64_t rv_;       // guarded by mu_: the last committed RV
  uint64_t horizon_;  // guarded by mu_: the compacted RV
  std::deque<LogEntry> log_;  // guarded by mu_: events horizon_+1 .. rv_, consecutive
  std::mt19937_64 rng_;       // guarded by mu_

  // rv_, published after each write's fan-out; read by watchers for bookmarks and by
  // readers waiting for an RV.
  const std::shared_ptr<std::atomic<uint64_t>> committed_;
  mutable std::mutex rv_mu_;
  mutable std::condition_variable rv_cv_;
  mutable std::atomic<int> rv_waiters_{0};

  // Recent pages' remainingItemCount, so paging through a snapshot does not count the
  // rest of the list on every page. Entries never go stale (a snapshot is immutable).
  mutable std::mutex remaining_mu_;
  mutable std::deque<RemainingCount> remaining_cache_;  // guarded by remaining_mu_
};

}  // namespace kslice::envtest::storage

#endif  // KSLICE_ENVTEST_STORAGE_STORE_H_
