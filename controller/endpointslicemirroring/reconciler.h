// The mirroring reconciler: given an Endpoints and the slices this controller mirrored
// for it, computes the slices upstream's endpointslicemirroring-controller wants
// (pkg/controller/endpointslicemirroring reconciler.go) and writes the difference
// through a SliceWriter.
//
// The rules, per Endpoints:
//  - Subsets are canonicalized (RepackSubsets). Each subset's port list makes two keys,
//    IPv4 and IPv6. Ready then not-ready addresses are mirrored, at most
//    max_endpoints_per_subset valid ones per subset; invalid IPs are skipped and
//    reported (event InvalidIPAddress), and so are addresses over the limit
//    (TooManyAddressesToMirror).
//  - Per key: no endpoints -> its slices are deleted. Otherwise the first existing
//    slice is kept and any others are deleted; it is left alone when its endpoints,
//    its labels (minus managed-by and service-name) and its annotations already match,
//    otherwise rewritten whole (a PUT without resourceVersion, as upstream) with up to
//    max_endpoints_per_subset endpoints; without an existing slice one is created.
//    Slices of keys no longer desired are deleted.
//  - Finalize: creates are recycled into updates of slices being deleted (same address
//    type, pairwise); then creates (none while the Endpoints is being deleted; a
//    NamespaceTerminating refusal ends the sync successfully), updates, deletes; the
//    first error stops the rest. Successful writes are recorded in the tracker.
//
//   endpointslice::SliceTracker tracker;
//   Reconciler r(&writer, &tracker, metrics.get(), events, {.max_endpoints_per_subset = 1000});
//   absl::Status s = r.Reconcile(*endpoints, slices);
//
// Thread-safety: Reconcile may run concurrently for different Endpoints (the queue
// never hands one key to two workers); tracker and metrics are synchronised.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_RECONCILER_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_RECONCILER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "controller/endpointslice/slice_tracker.h"
#include "controller/endpointslicemirroring/metrics.h"
#include "controller/endpointslicemirroring/utils.h"

namespace kslice::endpointslicemirroring {

using api::core::v1::Endpoints;
using api::core::v1::Service;
using api::discovery::v1::EndpointSlice;

// Where the reconciler's writes go: the REST client in the controller, an in-memory
// store in tests. (The same contract as endpointslice::SliceWriter, kept separate so
// that this package does not depend on the EndpointSlice reconciler.)
class SliceWriter {
 public:
  virtual ~SliceWriter() = default;
  // Returns the slice as stored (name from generateName, uid, generation).
  virtual absl::StatusOr<EndpointSlice> Create(const EndpointSlice& slice) = 0;
  // A full-object PUT; conditional only when the slice carries a resourceVersion (the
  // mirroring reconciler never sets one, as upstream).
  virtual absl::StatusOr<EndpointSlice> Update(const EndpointSlice& slice) = 0;
  // Deletes the slice by namespace and name.
  virtual absl::Status Delete(const EndpointSlice& slice) = 0;
};

// Records an event on the Endpoints (type "Normal" or "Warning").
using EventFunc = std::function<void(const Endpoints& endpoints, std::string_view type,
                                     std::string_view reason, std::string_view message)>;

// What a sync reads (the informer caches in the controller; maps in tests). Getters
// return absl::NotFoundError (or the API's 404) for a missing object.
struct Listers {
  std::function<absl::StatusOr<std::shared_ptr<const Endpoints>>(const std::string& ns,
                                                                 const std::string& name)>
      endpoints;
  std::function<absl::StatusOr<std::shared_ptr<const Service>>(const std::string& ns,
                                                               const std::string& name)>
      service;
  // The slices labelled service-name=`name` and managed-by us in `ns`, in the order to
  // prefer (the controller sorts them by name).
  std::function<absl::StatusOr<std::vector<std::shared_ptr<const EndpointSlice>>>(
      const std::string& ns, const std::string& name)>
      mirrored_slices;
};

struct ReconcilerOptions {
  int32_t max_endpoints_per_subset = 1000;  // 1..1000
};

class Reconciler {
 public:
  // None of the pointers are owned. `metrics` may be null (no metrics); `events` may be
  // empty (no events); `writer` and `tracker` must be set.
  Reconciler(SliceWriter* writer, endpointslice::SliceTracker* tracker, Metrics* metrics,
             EventFunc events, ReconcilerOptions options);

  // One work-queue key ("ns/name" of an Endpoints; upstream syncEndpoints): mirrors
  // when the Endpoints exists, has neither skip-mirror "true" nor the leader-election
  // annotation, and a Service of that name exists without a selector; otherwise deletes
  // every slice mirrored for the key and forgets it in the tracker. Refuses (Aborted)
  // to act on a slice cache older than our last writes. Observes the sync duration.
  absl::Status Sync(const std::string& key, const Listers& listers);

  // Brings the mirrored slices of `endpoints` to the desired state. `existing` are the
  // slices labelled with its name and our managed-by value, in the order to prefer
  // when several share a key (the first is kept).
  absl::Status Reconcile(const Endpoints& endpoints,
                         const std::vector<std::shared_ptr<const EndpointSlice>>& existing);

  // Deletes `slices` (mirroring no longer applies to ns/name) and forgets ns/name in
  // the metrics. Every deletion is attempted; the errors are reported together.
  absl::Status DeleteEndpoints(const std::string& ns, const std::string& name,
                               const std::vector<std::shared_ptr<const EndpointSlice>>& slices);

  const ReconcilerOptions& options() const { return options_; }

 private:
  struct Plan;
  absl::Status SyncLocked(const std::string& key, const Listers& listers);
  absl::Status DeleteMirroredSlices(const std::string& ns, const std::string& name,
                                    const Listers& listers);
  absl::Status Finalize(const Endpoints& endpoints, Plan& plan);

  SliceWriter* writer_;                   // not owned
  endpointslice::SliceTracker* tracker_;  // not owned
  Metrics* metrics_;                      // not owned, may be null
  EventFunc events_;
  ReconcilerOptions options_;
};

}  // namespace kslice::endpointslicemirroring

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_RECONCILER_H_
