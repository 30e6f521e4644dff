// The EndpointSlice mirroring controller (kube-controller-manager's
// endpointslicemirroring-controller): mirrors the Endpoints of selector-less Services
// into EndpointSlices managed by endpointslicemirroring-controller.k8s.io.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_CONTROLLER_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_CONTROLLER_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/manager/manager.h"

namespace kslice::endpointslicemirroring {

inline constexpr char kControllerName[] = "endpointslicemirroring-controller.k8s.io";

struct MirroringControllerOptions {
  int workers = 5;                                // --mirroring-concurrent-service-endpoint-syncs
  int32_t max_endpoints_per_subset = 1000;        // --mirroring-max-endpoints-per-subset (1..1000)
  absl::Duration updates_batch_period = absl::ZeroDuration();  // --mirroring-endpointslice-updates-batch-period
};

absl::Status ValidateOptions(const MirroringControllerOptions& options);

class MirroringController;  // defined in controller.cc

// Registers informers (Endpoints, Services, EndpointSlices), handlers and workers on
// `manager` (run while leading). The returned object must outlive manager.Run().
absl::StatusOr<std::unique_ptr<MirroringController>> SetUpMirroringController(
    controller::Manager& manager, MirroringControllerOptions options);

}  // namespace kslice::endpointslicemirroring

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_CONTROLLER_H_
