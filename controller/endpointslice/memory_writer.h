// MemoryWriter: a SliceWriter that keeps slices in memory as an API server would
// (names from generateName, uid, generation bumped on content changes, resourceVersion
// checked on update) and records every write in order. The dry-run subcommand, the
// reconciler tests and the benchmarks use it. Not thread-safe.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICE_MEMORY_WRITER_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICE_MEMORY_WRITER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "controller/endpointslice/reconciler.h"

namespace kslice::endpointslice {

struct Action {
  enum class Kind { kCreate, kUpdate, kDelete };
  Kind kind;
  EndpointSlice slice;  // as sent (a create has generateName and no name)
};

class MemoryWriter : public SliceWriter {
 public:
  // Adds an existing slice as stored (keeps its name, uid, generation, resourceVersion;
  // fills what is missing).
  void Seed(const EndpointSlice& slice);

  absl::StatusOr<EndpointSlice> Create(const EndpointSlice& slice) override;
  absl::StatusOr<EndpointSlice> Update(const EndpointSlice& slice) override;
  absl::Status Delete(const EndpointSlice& slice) override;

  // Stored slices keyed by (namespace, name).
  const std::map<std::pair<std::string, std::string>, EndpointSlice>& slices() const {
    return slices_;
  }
  // The stored slices of one service (its service-name label), sorted by name.
  std::vector<std::shared_ptr<const EndpointSlice>> SlicesOf(const std::string& ns,
                                                             const std::string& service) const;
  const std::vector<Action>& actions() const { return actions_; }
  void ClearActions() { actions_.clear(); }
  // When set, only counts writes (no storage, no action log): for benchmarks.
  void set_count_only(bool v) { count_only_ = v; }
  int64_t creates() const { return creates_; }
  int64_t updates() const { return updates_; }
  int64_t deletes() const { return deletes_; }

 private:
  std::map<std::pair<std::string, std::string>, EndpointSlice> slices_;
  std::vector<Action> actions_;
  bool count_only_ = false;
  int64_t next_ = 0;  // deterministic name suffixes, uids, resourceVersions
  int64_t creates_ = 0, updates_ = 0, deletes_ = 0;
};

}  // namespace kslice::endpointslice

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICE_MEMORY_WRITER_H_
