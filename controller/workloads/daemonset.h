// The DaemonSet controller (kube-controller-manager's daemonset-controller, upstream
// pkg/controller/daemon, reduced): one pod per eligible node. A node is eligible when
// the template's nodeSelector and required node affinity match it and the pod tolerates
// its NoSchedule/NoExecute taints (spec.taints); DaemonSet pods get upstream's default
// tolerations (DefaultDaemonTolerations). Pods are created unbound with a required node
// affinity `matchFields metadata.name In [node]` (as upstream since 1.12) for the
// scheduler to bind, the labels `controller-revision-hash` (ComputeHash of the template)
// and `pod-template-generation`, and generateName `<ds-name>-`. Pods on nodes where the
// DaemonSet must not run (untolerated NoExecute taint, selector mismatch) or that no
// longer exist are deleted, as are extra pods on a node (the oldest is kept). A template
// change rolls with RollingUpdate (maxUnavailable, default 1; maxSurge is not
// implemented) or waits for pods to be deleted (OnDelete). Node additions, removals and
// label/taint changes re-evaluate every DaemonSet. Status: desiredNumberScheduled,
// currentNumberScheduled, numberReady, numberAvailable, numberUnavailable,
// updatedNumberScheduled, numberMisscheduled, observedGeneration.
//
//   auto dsc = SetUpDaemonSetController(manager, {.workers = 2});
#ifndef KSLICE_CONTROLLER_WORKLOADS_DAEMONSET_H_
#define KSLICE_CONTROLLER_WORKLOADS_DAEMONSET_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "api/apps/v1/apps.pb.h"
#include "api/core/v1/core.pb.h"
#include "controller/manager/manager.h"

namespace kslice::workloads {

struct DaemonSetControllerOptions {
  int workers = 2;           // --concurrent-daemonset-syncs
  int burst_replicas = 250;  // most pods created or deleted in one sync
};

// Upstream's AddOrUpdateDaemonPodTolerations: not-ready and unreachable (NoExecute),
// disk-pressure, memory-pressure, pid-pressure, unschedulable (NoSchedule), and
// network-unavailable (NoSchedule) for hostNetwork pods; all with operator Exists,
// added unless an equal toleration is there.
void AddDaemonPodTolerations(api::core::v1::PodSpec& spec);

// ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity becomes one term,
// matchFields metadata.name In [node] (the template's own terms were checked when the
// node was chosen, by NodeShouldRunDaemonPod).
void SetDaemonPodNodeAffinity(api::core::v1::PodSpec& spec, const std::string& node);

// The pod the DaemonSet would create on `node` (labels, tolerations, affinity; no owner).
api::core::v1::Pod NewDaemonPod(const api::apps::v1::DaemonSet& ds, const std::string& node,
                                const std::string& hash);

// NodeShouldRunDaemonPod: {should run, should continue running}.
std::pair<bool, bool> NodeShouldRunDaemonPod(const api::core::v1::Node& node,
                                             const api::apps::v1::DaemonSet& ds);

// The node a daemon pod is for: spec.nodeName, else the value of its required
// matchFields metadata.name In term (util.GetTargetNodeName); "" when neither.
std::string TargetNodeName(const api::core::v1::Pod& pod);

class DaemonSetController {
 public:
  class Impl;  // daemonset.cc
  ~DaemonSetController();
  DaemonSetController(const DaemonSetController&) = delete;
  DaemonSetController& operator=(const DaemonSetController&) = delete;

 private:
  friend absl::StatusOr<std::unique_ptr<DaemonSetController>> SetUpDaemonSetController(
      controller::Manager& manager, DaemonSetControllerOptions options);
  explicit DaemonSetController(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Registers informers (DaemonSets, Pods, Nodes), handlers and workers on `manager`. The
// returned object must outlive manager.Run().
absl::StatusOr<std::unique_ptr<DaemonSetController>> SetUpDaemonSetController(
    controller::Manager& manager, DaemonSetControllerOptions options);

}  // namespace kslice::workloads

#endif  // KSLICE_CONTROLLER_WORKLOADS_DAEMONSET_H_
