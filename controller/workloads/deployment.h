// The Deployment controller (kube-controller-manager's deployment-controller, upstream
// pkg/controller/deployment: sync.go, rolling.go, recreate.go, progress.go, util/):
// one ReplicaSet per pod template, named `<deployment>-<pod-template-hash>`, with the
// `pod-template-hash` label on its selector, template and pods, and the
// deployment.kubernetes.io/{revision,desired-replicas,max-replicas} annotations.
// Scaling resizes the ReplicaSets (proportionally across the active ones during a
// rollout); a template change creates a new ReplicaSet and rolls with RollingUpdate
// (maxSurge / maxUnavailable, default 25% / 25%) or Recreate (old pods gone first).
// Old ReplicaSets at 0 beyond revisionHistoryLimit (default 10) are deleted. Status:
// replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas,
// observedGeneration, collisionCount, and the Available / Progressing conditions with
// upstream's reasons and messages (MinimumReplicasAvailable, NewReplicaSetCreated,
// FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable, ProgressDeadlineExceeded).
// Paused deployments are scaled but not rolled. Rollback (spec.rollbackTo) is gone
// upstream too.
//
//   auto dc = SetUpDeploymentController(manager, {.workers = 5});
#ifndef KSLICE_CONTROLLER_WORKLOADS_DEPLOYMENT_H_
#define KSLICE_CONTROLLER_WORKLOADS_DEPLOYMENT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "controller/manager/manager.h"

namespace kslice::workloads {

struct DeploymentControllerOptions {
  int workers = 5;  // --concurrent-deployment-syncs
};

class DeploymentController {
 public:
  class Impl;  // deployment.cc
  ~DeploymentController();
  DeploymentController(const DeploymentController&) = delete;
  DeploymentController& operator=(const DeploymentController&) = delete;

 private:
  friend absl::StatusOr<std::unique_ptr<DeploymentController>> SetUpDeploymentController(
      controller::Manager& manager, DeploymentControllerOptions options);
  explicit DeploymentController(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Registers informers (Deployments, ReplicaSets, Pods), handlers and workers on
// `manager`. The returned object must outlive manager.Run().
absl::StatusOr<std::unique_ptr<DeploymentController>> SetUpDeploymentController(
    controller::Manager& manager, DeploymentControllerOptions options);

}  // namespace kslice::workloads

#endif  // KSLICE_CONTROLLER_WORKLOADS_DEPLOYMENT_H_
