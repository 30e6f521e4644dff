// The EndpointSlice controller (kube-controller-manager's endpointslice-controller):
// informers on Services, Pods, Nodes and EndpointSlices from one factory; pod changes
// mapped to the services selecting them (old and new labels); a service key queue with
// batching; slice events that re-queue the owning service only when the slice is not
// what we last wrote; a topology worker for node changes; and syncService, which lists
// from the caches, refuses stale caches (SliceTracker) and calls the Reconciler.
//
//   auto mgr = controller::Manager::Create(config, {...});
//   auto esc = SetUpEndpointSliceController(**mgr, {.workers = 5});
//   (*mgr)->Run(stop);
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICE_CONTROLLER_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICE_CONTROLLER_H_

#include <memory>
#include <stop_token>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/manager/manager.h"

namespace kslice::endpointslice {

struct EndpointSliceControllerOptions {
  int workers = 5;                        // --concurrent-service-endpoint-syncs (1..50)
  int32_t max_endpoints_per_slice = 100;  // --max-endpoints-per-slice (1..1000)
  absl::Duration endpoint_updates_batch_period = absl::ZeroDuration();  // --endpointslice-updates-batch-period
  bool prefer_same_traffic_distribution = true;
};

// Validates options as kube-controller-manager does (InvalidArgument with the flag name).
absl::Status ValidateOptions(const EndpointSliceControllerOptions& options);

// The running controller: informer handlers, the service and topology queues, the
// tracker, trigger-time tracker, topology cache, metrics and reconciler. Only
// SetUpEndpointSliceController builds one; destroying it removes its informer handlers.
class EndpointSliceController {
 public:
  class Impl;  // controller.cc
  ~EndpointSliceController();
  EndpointSliceController(const EndpointSliceController&) = delete;
  EndpointSliceController& operator=(const EndpointSliceController&) = delete;

 private:
  friend absl::StatusOr<std::unique_ptr<EndpointSliceController>> SetUpEndpointSliceController(
      controller::Manager& manager, EndpointSliceControllerOptions options);
  explicit EndpointSliceController(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Registers the informers, handlers and workers on `manager` (run while leading). The
// returned object must outlive manager.Run().
absl::StatusOr<std::unique_ptr<EndpointSliceController>> SetUpEndpointSliceController(
    controller::Manager& manager, EndpointSliceControllerOptions options);

}  // namespace kslice::endpointslice

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICE_CONTROLLER_H_
