// An optional durability hook for the store (a future --data-dir).
//
// The store calls Append() for every committed write, in resourceVersion order, while
// it holds its write lock and before the write becomes visible; an error from Append
// fails the write (nothing changes). Store::Open() calls Load() once and replays what
// it yields, so a restarted store continues at the last resourceVersion with the same
// objects (watch history restarts with the replayed writes, bounded as usual).
//
// An implementation may compact its log (for example, write a snapshot of the live
// objects and drop older records) as long as Load() yields, in increasing RV order,
// records whose replay rebuilds the same set of live objects and ends at the same RV.
#ifndef KSLICE_ENVTEST_STORAGE_PERSISTENCE_H_
#define KSLICE_ENVTEST_STORAGE_PERSISTENCE_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "envtest/storage/event.h"
#include "envtest/storage/object.h"
#include "envtest/storage/resource_key.h"

namespace kslice::envtest::storage {

struct PersistedWrite {
  uint64_t resource_version = 0;
  ResourceKey resource{};
  std::string key{};                   // "namespace/name", or "name" when cluster-scoped
  EventType type = EventType::kAdded;  // kAdded, kModified or kDeleted
  Object object{};                     // the stored object; nullptr for kDeleted
};

class Persistence {
 public:
  virtual ~Persistence() = default;
  // Records one write. Called with the store's write lock held: keep it short.
  virtual absl::Status Append(const PersistedWrite& write) = 0;
  // Calls `apply` for every record, oldest first; stops at the first error.
  virtual absl::Status Load(const std::function<absl::Status(const PersistedWrite&)>& apply) = 0;
};

// Keeps the records in memory: for tests, and as the reference implementation.
class MemoryPersistence : public Persistence {
 public:
  absl::Status Append(const PersistedWrite& write) override {
    std::lock_guard<std::mutex> l(mu_);
    if (fail_next_) {
      fail_next_ = false;
      return absl::UnavailableError("injected persistence failure");
    }
    records_.push_back(write);
    return absl::OkStatus();
  }

  absl::Status Load(const std::function<absl::Status(const PersistedWrite&)>& apply) override {
    std::vector<PersistedWrite> copy;
    {
      std::lock_guard<std::mutex> l(mu_);
      copy = records_;
    }
    for (const PersistedWrite& w : copy) {
      if (absl::Status s = apply(w); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Makes the next Append fail (tests).
  void FailNextAppend() {
    std::lock_guard<std::mutex> l(mu_);
    fail_next_ = true;
  }
  size_t size() const {
    std::lock_guard<std::mutex> l(mu_);
    return records_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<PersistedWrite> records_;
  bool fail_next_ = false;
};

}  // namespace kslice::envtest::storage

#endif  // KSLICE_ENVTEST_STORAGE_PERSISTENCE_H_
