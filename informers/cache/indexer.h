// A thread-safe object cache with secondary indexes: client-go's ThreadSafeStore and
// cache.Indexer (tools/cache/thread_safe_store.go, index.go, store.go).
//
// Objects are stored under KeyOf(object) ("namespace/name"). Each named index maps an
// "indexed value", computed by an IndexFunc when the object is inserted, to the set of keys
// whose object produced that value; the default index is "namespace".
//
//   Indexer pods;  // namespace index, compact representation
//   pods.Add(std::make_shared<Pod>(...));
//   ObjectPtr p = pods.Get("shop-3/checkout-1");          // nullptr when absent
//   auto in_ns = pods.ByIndex(kNamespaceIndex, "shop-3");  // StatusOr<vector<ObjectPtr>>
//
// Representation (CacheMode, docs/informers.md "Cache representation"):
//   kDecoded  keeps the ObjectPtr it was given: Get/List cost a lookup and a refcount, memory
//             is the decoded message (~15 KB for a realistic pod).
//   kCompact  keeps the exact-size serialized protobuf (~2.6 KB for the same pod) plus the
//             key and index values computed at insert time. Get/List/ByIndex decode on
//             access into an ObjectPtr that is remembered while it lives: as long as anybody
//             holds it, every Get/List/ByIndex returns that same instance; once all holders
//             dropped it, it is freed (nothing of it stays pinned) and the next access
//             decodes again (~8 us per realistic pod, onto an arena sized to fit it, so
//             handed-out objects are arena messages: read or copy them, don't Swap them).
//             Index maintenance never decodes; keys (ListKeys, IndexKeys) never decode.
//             The object passed to Add/Update is not kept (it may hold far more memory
//             than its serialized form); the first read decodes.
//
// Guarantees: every method is thread-safe; readers run in parallel (shared lock). Results
// of List/ListKeys/ByIndex/IndexKeys/ListIndexFuncValues are in no particular order (as in
// client-go, where they come from Go maps). Returned objects are immutable snapshots: a
// later Update does not change an ObjectPtr already handed out.
// Not guaranteed: consistency across calls (a List followed by Get may see a newer
// object), or that an IndexFunc is called at any particular time (compact mode calls it
// once per insert; AddIndexers on a filled compact store decodes every object once).
#ifndef KSLICE_INFORMERS_CACHE_INDEXER_H_
#define KSLICE_INFORMERS_CACHE_INDEXER_H_

#include <atomic>
#include <cstdint>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "informers/cache/object.h"

namespace kslice::informers {

// Computes the indexed values of an object (may be empty or have several values). Must be
// a pure, thread-safe function of the object.
using IndexFunc = std::function<std::vector<std::string>(const google::protobuf::Message&)>;
// Index name -> function.
using Indexers = std::map<std::string, IndexFunc>;

inline constexpr char kNamespaceIndex[] = "namespace";
// client-go's MetaNamespaceIndexFunc: {metadata.namespace} (an empty namespace is indexed
// as "", as upstream does).
std::vector<std::string> NamespaceIndexFunc(const google::protobuf::Message& object);

// How an Indexer keeps its objects (see the file comment).
enum class CacheMode { kDecoded, kCompact };

class Indexer {
 public:
  explicit Indexer(Indexers indexers = {{kNamespaceIndex, NamespaceIndexFunc}},
                   CacheMode mode = CacheMode::kCompact);
  ~Indexer();
  Indexer(const Indexer&) = delete;
  Indexer& operator=(const Indexer&) = delete;

  // Inserts or replaces the object under KeyOf(*obj) and updates every index. Add and
  // Update are the same operation (as upstream). A null obj is ignored.
  void Add(ObjectPtr obj);
  void Update(ObjectPtr obj);
  // Removes the object stored under `key` (no-op when absent).
  void Delete(absl::string_view key);
  // Replaces the whole content (and rebuilds the indexes) with `objects`; when two objects
  // share a key the later wins.
  void Replace(std::vector<ObjectPtr> objects);

  // The object stored under `key`, or nullptr.
  ObjectPtr Get(absl::string_view key) const;
  bool Contains(absl::string_view key) const;
  std::vector<ObjectPtr> List() const;
  std::vector<std::string> ListKeys() const;

  // Objects (keys) whose index `index` contains `value`. NotFound for an unknown index
  // ("Index with name %s does not exist" upstream).
  absl::StatusOr<std::vector<ObjectPtr>> ByIndex(absl::string_view index,
                                                 absl::string_view value) const;
  absl::StatusOr<std::vector<std::string>> IndexKeys(absl::string_view index,
                                                     absl::string_view value) const;
  // Objects sharing at least one value of index `index` with `object` (client-go's
  // Indexer.Index). NotFound for an unknown index.
  absl::StatusOr<std::vector<ObjectPtr>> Index(absl::string_view index,
                                               const google::protobuf::Message& object) const;
  // The values of index `index` that at least one object has; empty for an unknown index.
  std::vector<std::string> ListIndexFuncValues(absl::string_view index) const;
  // Names of the registered indexes.
  std::vector<std::string> IndexerNames() const;

  // Adds indexes and indexes the objects already stored (current client-go; older versions
  // refused once the store had objects). AlreadyExists when a name is registered already
  // ("indexer conflict" upstream); nothing is added then.
  absl::Status AddIndexers(Indexers more);

  size_t size() const;
  CacheMode mode() const { return mode_; }
  // kCompact: how many stored objects currently have a decoded instance somebody holds.
  size_t decoded_count() const;

 private:
  struct IndexData;
  // The keys whose object has one indexed value (views into items_ keys, which are stable).
  struct Bucket {
    IndexData* index;
    absl::flat_hash_set<absl::string_view> keys;
  };
  using BucketNode = std::pair<const std::string, Bucket>;
  struct IndexData {
    IndexFunc func;
    absl::node_hash_map<std::string, Bucket> buckets;
  };
  struct Entry {
    // kCompact: serialized message (exact size) and its type; `memo` remembers the
    // instance handed out last. kDecoded (or a message that failed to serialize): `object`.
    std::string bytes;
    const google::protobuf::Message* prototype = nullptr;  // owned by prototypes_
    mutable std::weak_ptr<const google::protobuf::Message> memo;  // guarded by memo_->mu
    ObjectPtr object;
    // The buckets this key is in, across all indexes.
    absl::InlinedVector<BucketNode*, 1> buckets;
  };

  void PutLocked(ObjectPtr obj);
  void EraseLocked(absl::string_view key);
  // Computes the buckets `object` belongs to (creating missing ones) in `indexes`.
  void BucketsFor(const google::protobuf::Message& object, const std::vector<IndexData*>& indexes,
                  absl::InlinedVector<BucketNode*, 1>* out);
  static void Unbucket(BucketNode* node, absl::string_view key);
  // The entry's object, decoding it if nobody holds it. Needs mu_ (shared suffices).
  ObjectPtr Materialize(const Entry& entry) const;
  // Drops the entry's remembered decode (before the entry changes or goes away).
  void ForgetMemoLocked(Entry& entry);

  // Decoded instances somebody holds, by entry. Shared with the deleters of those
  // instances, which may run after the Indexer is gone. A deleter clears its entry's memo
  // (so the weak_ptr pins no control block) if the entry still remembers that instance.
  struct MemoState {
    std::mutex mu;
    absl::flat_hash_map<const Entry*, const google::protobuf::Message*> live;  // guarded by mu
  };
  // Deletes the arena the message was decoded on (one allocation for most of a message).
  struct MemoDeleter {
    std::shared_ptr<MemoState> state;
    const Entry* entry;
    google::protobuf::Arena* arena;  // owned
    void operator()(const google::protobuf::Message* message) const;
  };
  const google::protobuf::Message* PrototypeLocked(const google::protobuf::Message& object);
  std::vector<IndexData*> AllIndexesLocked();

  const CacheMode mode_;
  mutable std::shared_mutex mu_;
  std::map<std::string, IndexData, std::less<>> indices_;        // guarded by mu_
  absl::node_hash_map<std::string, Entry> items_;            // guarded by mu_
  absl::flat_hash_map<const google::protobuf::Descriptor*,
                      std::unique_ptr<google::protobuf::Message>>
      prototypes_;  // guarded by mu_; never shrinks
  const std::shared_ptr<MemoState> memo_ = std::make_shared<MemoState>();
  // Decoded arena bytes per serialized byte (x16), learned from past decodes: sizes the
  // decode arena's first block so one block holds the whole message.
  mutable std::atomic<uint32_t> decode_ratio_x16_{8 * 16};
};

}  // namespace kslice::informers

#endif  // KSLICE_INFORMERS_CACHE_INDEXER_H_
