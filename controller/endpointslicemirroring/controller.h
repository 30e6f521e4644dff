// The EndpointSlice mirroring controller (kube-controller-manager's
// endpointslicemirroring-controller): mirrors the Endpoints of selector-less Services
// into EndpointSlices managed by endpointslicemirroring-controller.k8s.io.
//
// Informers on Endpoints, Services and EndpointSlices feed one work queue of Endpoints
// keys ("ns/name"; queue name endpoint_slice_mirroring, per-key backoff 1 s .. 100 s
// under an overall 10 qps / 100 bucket, 15 retries). What enqueues a key:
//  - Endpoints added or deleted when mirrorable (no skip-mirror "true" label, no
//    leader-election annotation); updated when the old or the new one is mirrorable;
//  - a selector-less Service added or deleted; a Service whose selector appears or
//    disappears;
//  - a slice we manage that changed behind our back (the tracker's view), a slice
//    whose service-name label or managed-by value changed, a deletion we did not ask
//    for — after the updates batch period.
// A sync mirrors (reconciler.h), or deletes our slices of the key when mirroring no
// longer applies (Endpoints gone, skip-mirror, leader annotation, no Service, Service
// with a selector). docs/endpointslice-controller.md, "Mirroring controller".
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_CONTROLLER_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_CONTROLLER_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/endpointslicemirroring/utils.h"  // kControllerName and the keys
#include "controller/manager/manager.h"

namespace kslice::endpointslicemirroring {

struct MirroringControllerOptions {
  int workers = 5;                                // --mirroring-concurrent-service-endpoint-syncs
  int32_t max_endpoints_per_subset = 1000;        // --mirroring-max-endpoints-per-subset (1..1000)
  absl::Duration updates_batch_period = absl::ZeroDuration();  // --mirroring-endpointslice-updates-batch-period
};

// kube-controller-manager's validation: workers 1..50, max per subset 1..1000.
absl::Status ValidateOptions(const MirroringControllerOptions& options);

class MirroringController {
 public:
  class Impl;  // controller.cc
  ~MirroringController();  // removes its informer handlers
  MirroringController(const MirroringController&) = delete;
  MirroringController& operator=(const MirroringController&) = delete;

  // Keys synced successfully / with an error so far (the work queue's counters).
  int64_t reconciled() const;
  int64_t failed() const;

 private:
  friend absl::StatusOr<std::unique_ptr<MirroringController>> SetUpMirroringController(
      controller::Manager& manager, MirroringControllerOptions options);
  explicit MirroringController(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Registers informers (Endpoints, Services, EndpointSlices), handlers and workers on
// `manager` (run while leading). The returned object must outlive manager.Run().
// Errors: invalid options, informers or metrics that cannot be set up.
absl::StatusOr<std::unique_ptr<MirroringController>> SetUpMirroringController(
    controller::Manager& manager, MirroringControllerOptions options);

}  // namespace kslice::endpointslicemirroring

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_CONTROLLER_H_
