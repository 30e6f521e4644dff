// EndpointSet: the desired endpoints of one port group, keyed by endpoint identity =
// (sorted addresses, hostname, targetRef namespace/name) as upstream's
// util/endpointset.go. Conditions, zone, nodeName, targetRef uid and hints are not part
// of the identity, so changes to them become in-place updates of the slice holding the
// endpoint.
//
// The set does not own its endpoints: the reconciler takes them from a per-thread pool
// that outlives the set and hands them to slices on its arena without copying
// (RepeatedPtrField::UnsafeArenaAddAllocated). PopAny returns endpoints in insertion order
// (upstream: Go map order, i.e. random); order within a slice carries no meaning.
// Not thread-safe.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICE_ENDPOINT_SET_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICE_ENDPOINT_SET_H_

#include <cstddef>
#include <functional>
#include <utility>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "api/discovery/v1/discovery.pb.h"
#include "google/protobuf/arena.h"

namespace kslice::endpointslice {

// An allocator drawing from a protobuf Arena (deallocate is a no-op; the arena frees
// everything at once), or from the heap when the arena is null.
template <typename T>
struct ArenaAllocator {
  using value_type = T;
  google::protobuf::Arena* arena = nullptr;

  ArenaAllocator() = default;
  explicit ArenaAllocator(google::protobuf::Arena* a) : arena(a) {}
  template <typename U>
  ArenaAllocator(const ArenaAllocator<U>& o) : arena(o.arena) {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    if (arena == nullptr) return static_cast<T*>(::operator new(n * sizeof(T)));
    static_assert(alignof(T) <= 8, "arena blocks are 8-byte aligned");
    return reinterpret_cast<T*>(
        google::protobuf::Arena::CreateArray<char>(arena, n * sizeof(T)));
  }
  void deallocate(T* p, size_t) {
    if (arena == nullptr) ::operator delete(p);
  }
  template <typename U>
  bool operator==(const ArenaAllocator<U>& o) const {
    return arena == o.arena;
  }
};

class EndpointSet {
 public:
  using Endpoint = api::discovery::v1::Endpoint;

  // With an arena, the set's own tables are allocated there too.
  explicit EndpointSet(google::protobuf::Arena* arena = nullptr)
      : storage_(ArenaAllocator<Endpoint*>(arena)),
        index_(0, KeyHash(), std::equal_to<Key>(),
               ArenaAllocator<std::pair<const Key, size_t>>(arena)) {}
  EndpointSet(const EndpointSet&) = delete;
  EndpointSet& operator=(const EndpointSet&) = delete;
  EndpointSet(EndpointSet&&) = default;
  EndpointSet& operator=(EndpointSet&&) = default;

  // Sorts the endpoint's addresses (as upstream's hashing does in place) and adds it
  // (not owned; must outlive the set); an endpoint with the same identity is replaced
  // (keeping its position).
  void Insert(Endpoint* endpoint);

  // The endpoint with `endpoint`'s identity, or null.
  const Endpoint* Get(const Endpoint& endpoint) const;

  // Removes and returns the endpoint with `endpoint`'s identity; null when none.
  Endpoint* Take(const Endpoint& endpoint);

  // Removes and returns some endpoint (the oldest remaining); null when empty. Once
  // popping has started the identity index is dropped (the reconciler only pops from
  // then on); a later Insert/Get/Take rebuilds it.
  Endpoint* PopAny();

  void Reserve(size_t n) {
    storage_.reserve(n);
    index_.reserve(n);
  }
  size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

 private:
  struct Key {
    absl::InlinedVector<std::string_view, 2> addresses;  // sorted
    std::string_view hostname;
    std::string_view ns;
    std::string_view name;
    bool operator==(const Key& o) const {
      return addresses == o.addresses && hostname == o.hostname && ns == o.ns &&
             name == o.name;
    }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  static Key KeyOf(const Endpoint& endpoint);
  void RebuildIndex() const;

  std::vector<Endpoint*, ArenaAllocator<Endpoint*>> storage_;  // insertion order; null once taken
  size_t live_ = 0;
  size_t cursor_ = 0;               // PopAny scans from here
  // The index is rebuilt lazily (also from Get) after PopAny dropped it.
  mutable bool index_dropped_ = false;
  mutable absl::flat_hash_map<Key, size_t, KeyHash, std::equal_to<Key>,
                              ArenaAllocator<std::pair<const Key, size_t>>>
      index_;
};

}  // namespace kslice::endpointslice

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICE_ENDPOINT_SET_H_
