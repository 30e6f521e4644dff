// A minimal kube-scheduler on the kslice runtime: it watches pods that are not bound
// (spec.nodeName empty, spec.schedulerName empty or one of ours), picks a node with the
// filters and score of predicates.h, and binds the pod through POST
// pods/{name}/binding. Pods that fit nowhere get the PodScheduled=False condition
// (reason Unschedulable, kube-scheduler's message) and a FailedScheduling event, and are
// retried when a node or a bound pod changes (and every 5 minutes, as upstream flushes
// its unschedulable queue). One worker places one pod at a time, as kube-scheduler's
// scheduling cycle, and remembers the pods it bound until the cache shows them (the
// "assumed" pods), so back-to-back decisions see each other.
//
//   auto mgr = controller::Manager::Create(config, {...});
//   auto sched = SetUpScheduler(**mgr, {});
//   (*mgr)->Run(stop);
//
// Left out (docs/workloads.md): resources, inter-pod affinity, topology spread,
// volumes, preemption, priorities and the scheduling queue's ordering (keys are taken
// in the order they are queued), extenders and profiles beyond a list of names.
#ifndef KSLICE_CONTROLLER_SCHEDULER_SCHEDULER_H_
#define KSLICE_CONTROLLER_SCHEDULER_SCHEDULER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/manager/manager.h"

namespace kslice::scheduler {

struct SchedulerOptions {
  // Pods with one of these spec.schedulerName (empty counts as "default-scheduler").
  std::vector<std::string> scheduler_names = {"default-scheduler"};
  // Unschedulable pods are tried again after this long even when nothing changed.
  absl::Duration unschedulable_retry = absl::Minutes(5);
};

class Scheduler {
 public:
  class Impl;  // scheduler.cc
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

 private:
  friend absl::StatusOr<std::unique_ptr<Scheduler>> SetUpScheduler(controller::Manager& manager,
                                                                   SchedulerOptions options);
  explicit Scheduler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Registers the pod and node informers, handlers and the worker on `manager` (run while
// leading). The returned object must outlive manager.Run().
absl::StatusOr<std::unique_ptr<Scheduler>> SetUpScheduler(controller::Manager& manager,
                                                          SchedulerOptions options);

}  // namespace kslice::scheduler

#endif  // KSLICE_CONTROLLER_SCHEDULER_SCHEDULER_H_
