// The ReplicaSet controller (kube-controller-manager's replicaset-controller, upstream
// pkg/controller/replicaset): keeps spec.replicas active pods that match the selector
// and are controlled by the ReplicaSet. Orphans that match are adopted, controlled pods
// that stop matching are released; new pods are made from the template with
// generateName `<rs-name>-` (the server adds 5 characters of upstream's alphabet) in
// slow-start batches; surplus pods are deleted in upstream's preference order
// (SortPodsForDeletion); terminating pods do not count. Expectations keep a sync from
// acting again before the cache has seen its own creations and deletions. Status:
// replicas, fullyLabeledReplicas, readyReplicas, availableReplicas, observedGeneration.
//
//   auto rsc = SetUpReplicaSetController(manager, {.workers = 5});
#ifndef KSLICE_CONTROLLER_WORKLOADS_REPLICASET_H_
#define KSLICE_CONTROLLER_WORKLOADS_REPLICASET_H_

#include <memory>

#include "absl/status/statusor.h"
#include "controller/manager/manager.h"

namespace kslice::workloads {

struct ReplicaSetControllerOptions {
  int workers = 5;           // --concurrent-replicaset-syncs
  int burst_replicas = 500;  // most pods created or deleted in one sync
};

class ReplicaSetController {
 public:
  class Impl;  // replicaset.cc
  ~ReplicaSetController();
  ReplicaSetController(const ReplicaSetController&) = delete;
  ReplicaSetController& operator=(const ReplicaSetController&) = delete;

 private:
  friend absl::StatusOr<std::unique_ptr<ReplicaSetController>> SetUpReplicaSetController(
      controller::Manager& manager, ReplicaSetControllerOptions options);
  explicit ReplicaSetController(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Registers informers (ReplicaSets, Pods), handlers and workers on `manager`. The
// returned object must outlive manager.Run().
absl::StatusOr<std::unique_ptr<ReplicaSetController>> SetUpReplicaSetController(
    controller::Manager& manager, ReplicaSetControllerOptions options);

}  // namespace kslice::workloads

#endif  // KSLICE_CONTROLLER_WORKLOADS_REPLICASET_H_
