// The EndpointSlice reconciler: given a Service, the Pods its selector matches and the
// EndpointSlices this controller manages for it, computes the slices upstream's
// kube-controller-manager would want (k8s.io/endpointslice reconciler.go) and writes the
// difference through a SliceWriter with the fewest API calls: unchanged slices are kept,
// changed ones are updated in place, leftovers fill slices that are written anyway, then
// new slices; empty slices are deleted (or recycled into creates); one placeholder per
// address type when nothing is selected. docs/endpointslice-controller.md has the rules.
//
//   SliceTracker tracker;
//   Reconciler r(&writer, nodes, &tracker, &topology, events, {.max_endpoints_per_slice = 100});
//   absl::Status s = r.Reconcile(*service, pods, slices, trigger_time);
//
// Thread-safety: Reconcile may run concurrently for different services (the work queue
// never hands one key to two workers); the tracker, topology cache and metrics are
// internally synchronised.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICE_RECONCILER_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICE_RECONCILER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "controller/endpointslice/metrics.h"
#include "controller/endpointslice/slice_tracker.h"
#include "controller/endpointslice/topologycache/topology_cache.h"

namespace kslice::endpointslice {

using api::core::v1::Node;
using api::core::v1::Pod;
using api::core::v1::Service;
using api::discovery::v1::EndpointSlice;

// managed-by values and well-known keys.
inline constexpr char kControllerName[] = "endpointslice-controller.k8s.io";
inline constexpr char kLabelServiceName[] = "kubernetes.io/service-name";
inline constexpr char kLabelManagedBy[] = "endpointslice.kubernetes.io/managed-by";
inline constexpr char kLabelHeadless[] = "service.kubernetes.io/headless";
inline constexpr char kLabelSkipMirror[] = "endpointslice.kubernetes.io/skip-mirror";
inline constexpr char kAnnotationTriggerTime[] = "endpoints.kubernetes.io/last-change-trigger-time";
inline constexpr char kLabelTopologyZone[] = "topology.kubernetes.io/zone";

// Where the reconciler's writes go: the REST client in the controller, an in-memory
// recorder for the dry run and the tests.
class SliceWriter {
 public:
  virtual ~SliceWriter() = default;
  // Return the object as stored (name from generateName, uid, generation filled in).
  virtual absl::StatusOr<EndpointSlice> Create(const EndpointSlice& slice) = 0;
  // A full-object update (PUT) with the slice's resourceVersion as precondition.
  virtual absl::StatusOr<EndpointSlice> Update(const EndpointSlice& slice) = 0;
  virtual absl::Status Delete(const EndpointSlice& slice) = 0;
};

// Looks a Node up by name (the node lister); absl::NotFoundError when there is none.
using NodeGetter =
    std::function<absl::StatusOr<std::shared_ptr<const Node>>(const std::string& name)>;

// Records an event on the Service (type "Normal" or "Warning").
using EventFunc = std::function<void(const Service& service, std::string_view type,
                                     std::string_view reason, std::string_view message)>;

struct ReconcilerOptions {
  int32_t max_endpoints_per_slice = 100;  // 1..1000
  // Accept trafficDistribution PreferSameZone / PreferSameNode (gate on by default in 1.35+).
  bool prefer_same_traffic_distribution = true;
  // The managed-by label value written on slices.
  std::string controller_name = kControllerName;
};

class Reconciler {
 public:
  // None of the pointers are owned; `topology` and `metrics` may be null (no hints from
  // the annotation; no metrics). `nodes` and `events` must be set (events may ignore).
  Reconciler(SliceWriter* writer, NodeGetter nodes, SliceTracker* tracker,
             topologycache::TopologyCache* topology, Metrics* metrics, EventFunc events,
             ReconcilerOptions options);

  // Brings the service's slices to the desired state. `existing` are the slices with
  // this service's service-name label and our managed-by label, without those being
  // deleted. `trigger_time` (absl::InfinitePast(): none) is written as the
  // last-change-trigger-time annotation on slices created or updated. Errors of several
  // address types are joined; a write error stops that address type's writes.
  absl::Status Reconcile(const Service& service, const std::vector<std::shared_ptr<const Pod>>& pods,
                         const std::vector<std::shared_ptr<const EndpointSlice>>& existing,
                         absl::Time trigger_time);

  const ReconcilerOptions& options() const { return options_; }

 private:
  SliceWriter* writer_;
  NodeGetter nodes_;
  SliceTracker* tracker_;
  topologycache::TopologyCache* topology_;
  Metrics* metrics_;
  EventFunc events_;
  ReconcilerOptions options_;
};

}  // namespace kslice::endpointslice

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICE_RECONCILER_H_
