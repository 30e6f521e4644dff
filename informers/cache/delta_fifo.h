// DeltaFIFO: client-go's tools/cache/delta_fifo.go (with EmitDeltaTypeReplaced = true),
// the queue between a reflector (producer: Add/Update/Delete/Replace/Resync) and an
// informer's processing loop (consumer: Pop).
//
// The queue holds, per object key, the list of changes ("deltas") not yet processed, oldest
// first; keys are popped in the order they were first queued. Behavior, as upstream:
//   - Add/Update/Delete append an Added/Updated/Deleted delta; two consecutive deletions of
//     a key collapse into one (the one with the known final state is kept).
//   - Delete of an object neither queued nor in `known_objects` is ignored (it was already
//     reported deleted, e.g. by a Replace).
//   - Replace(list) appends a Replaced delta per object, then a Deleted "final state
//     unknown" tombstone for every key queued or known to `known_objects` but missing from
//     the list (object: the newest queued state, else the known object). The first Replace
//     (or any Add/Update/Delete before it) marks the queue populated.
//   - Resync() appends a Sync delta for every known object whose key has nothing queued.
//   - HasSynced() becomes (and stays) true once populated and every item queued by the
//     first Replace has been popped and processed.
//   - Pop blocks until an item is queued or the queue is closed; items queued before
//     Close() are still popped.
//
// Difference from upstream: Pop runs `process` outside the queue's lock, so producers'
// Add/Update do not wait for event handlers. To keep upstream's guarantee that deletion
// detection and resync see `known_objects` in step with the queue, Delete, Replace and
// Resync wait until no popped item is being processed. Hence `process` must not call
// Delete/Replace/Resync on the same queue (it would deadlock); Add/Update are fine.
#ifndef KSLICE_INFORMERS_CACHE_DELTA_FIFO_H_
#define KSLICE_INFORMERS_CACHE_DELTA_FIFO_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "informers/cache/indexer.h"
#include "informers/cache/object.h"

namespace kslice::informers {

enum class DeltaType { kAdded, kUpdated, kDeleted, kReplaced, kSync };
// "Added", "Updated", ... as client-go spells them.
absl::string_view DeltaTypeName(DeltaType type);

struct Delta {
  DeltaType type;
  // The object after the change; for a deletion its last known state. A tombstone
  // (final_state_unknown) may carry a null object when the state was never known.
  ObjectPtr object;
  // client-go's DeletedFinalStateUnknown: the object was deleted while we were not
  // watching (detected by Replace); `object` may be stale.
  bool final_state_unknown = false;
  std::string key;
};

// Transforms every object entering the queue through Add/Update/Delete/Replace (not
// tombstones or Sync deltas, which carry objects already transformed), e.g. to drop
// managedFields. Returns the object to queue; nullptr drops the change.
using TransformFunc = std::function<ObjectPtr(ObjectPtr)>;

class DeltaFifo {
 public:
  // `known_objects`: the cache the consumer keeps up to date (not owned; may be null; must
  // outlive the queue).
  explicit DeltaFifo(const Indexer* known_objects, TransformFunc transform = nullptr);
  DeltaFifo(const DeltaFifo&) = delete;
  DeltaFifo& operator=(const DeltaFifo&) = delete;

  // Null objects are ignored.
  void Add(ObjectPtr obj);
  void Update(ObjectPtr obj);
  void Delete(ObjectPtr obj);
  void Replace(std::vector<ObjectPtr> objects);
  void Resync();

  using ProcessFunc =
      std::function<absl::Status(std::vector<Delta> deltas, bool is_in_initial_list)>;
  // Waits for the oldest key, removes its deltas from the queue and runs `process` on them
  // outside the queue's lock; returns what `process` returns. is_in_initial_list is true
  // while the items of the first Replace are being popped (HasSynced() was false at pop
  // time). Returns Cancelled once the queue is closed and empty.
  absl::Status Pop(const ProcessFunc& process);

  bool HasSynced() const;
  // Wakes blocked Pop calls; they return Cancelled once the queue is empty.
  void Close();
  bool IsClosed() const;
  // Number of queued keys.
  size_t size() const;

  // Introspection (tests, debugging): queued keys in pop order, and one key's deltas.
  std::vector<std::string> ListKeys() const;
  std::optional<std::vector<Delta>> GetByKey(absl::string_view key) const;

 private:
  void QueueLocked(DeltaType type, ObjectPtr obj, std::string key, bool final_state_unknown);
  void WaitIdleLocked(std::unique_lock<std::mutex>& lock);
  void DoneIdleLocked();
  ObjectPtr Transform(ObjectPtr obj) const;
  void CheckSyncedLocked();

  const Indexer* const known_objects_;  // not owned
  const TransformFunc transform_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;                                 // guarded by mu_
  absl::flat_hash_map<std::string, std::vector<Delta>> items_;   // guarded by mu_
  bool populated_ = false;                                        // guarded by mu_
  // Items of the first Replace not yet popped / not yet processed.
  int initial_to_pop_ = 0;                                        // guarded by mu_
  int initial_to_process_ = 0;                                    // guarded by mu_
  bool synced_ = false;                                           // guarded by mu_
  bool closed_ = false;                                           // guarded by mu_
  int in_flight_ = 0;                                             // guarded by mu_
  // Delete/Replace/Resync calls waiting for in_flight_ == 0; Pop starts no new item
  // meanwhile, so a busy consumer cannot starve them.
  int idle_waiters_ = 0;                                          // guarded by mu_
};

}  // namespace kslice::informers

#endif  // KSLICE_INFORMERS_CACHE_DELTA_FIFO_H_
