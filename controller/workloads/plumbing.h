// The wiring every controller in controller/workloads (and the scheduler) does the same
// way around its own sync logic:
//
//  - GetInformers: the manager's shared informers for the kinds a controller watches;
//  - HandlerRegistrations: adds typed event handlers to shared informers and removes
//    them again when destroyed;
//  - NewEventRecorder: an event Recorder reporting as a component from this manager's
//    identity (source.host);
//  - NewQueue: the controller::Controller (work queue + workers) with the manager's
//    metrics registry, logging keys it gives up on;
//  - EnqueueObject: the handlers of a controller's own resource (queue its key on every
//    add, update and delete).
//
// Example, inside a controller's Impl:
//
//   if (absl::Status s = GetInformers(manager_, rss_, pods_); !s.ok()) return s;
//   auto rec = NewEventRecorder(manager_, "replicaset-controller");
//   if (!rec.ok()) return rec.status();
//   recorder_ = *std::move(rec);
//   queue_ = NewQueue(manager_, {.name = "replicaset", .workers = options_.workers,
//                                .drop_message = "Dropping replica set out of the queue"},
//                     [this](const std::string& key) { return Sync(key); });
//   absl::Status s = registrations_.Add<ReplicaSet>(
//       *rss_, EnqueueObject<ReplicaSet>(queue_.get(), [this](const std::string& key) {
//         expectations_.Delete(key);
//       }));
#ifndef KSLICE_CONTROLLER_WORKLOADS_PLUMBING_H_
#define KSLICE_CONTROLLER_WORKLOADS_PLUMBING_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controller/log/log.h"
#include "controller/manager/manager.h"
#include "controller/record/recorder.h"
#include "controller/runtime/controller.h"
#include "informers/cache/object.h"
#include "informers/shared_informer.h"
#include "informers/typed.h"

namespace kslice::workloads {

// Sets each `out` to the manager's shared informer of its kind (e.g. for
// std::optional<informers::TypedInformer<Pod>>: the Pod informer), stopping at the first
// error (the factory's).
template <typename T>
absl::Status GetInformer(controller::Manager& manager,
                         std::optional<informers::TypedInformer<T>>& out) {
  absl::StatusOr<informers::TypedInformer<T>> informer = manager.informers().For<T>();
  if (!informer.ok()) return informer.status();
  out.emplace(*std::move(informer));
  return absl::OkStatus();
}
template <typename... T>
absl::Status GetInformers(controller::Manager& manager,
                          std::optional<informers::TypedInformer<T>>&... out) {
  absl::Status status;
  static_cast<void>(((status = GetInformer(manager, out)).ok() && ...));  // stops at an error
  return status;
}

// The handlers one controller added to shared informers. Destroying it removes every
// handler, so declare it as the owner's LAST member: it is then destroyed first, and no
// handler runs against members (queue, expectations) that are already gone.
// Not thread-safe: Add from one thread (a controller's Init).
class HandlerRegistrations {
 public:
  HandlerRegistrations() = default;
  ~HandlerRegistrations();
  HandlerRegistrations(const HandlerRegistrations&) = delete;
  HandlerRegistrations& operator=(const HandlerRegistrations&) = delete;

  // Adds `funcs` to `informer` (which must outlive this object) and remembers the
  // registration. Errors are the informer's (e.g. it was stopped).
  template <typename T>
  absl::Status Add(informers::TypedInformer<T>& informer, informers::TypedHandlerFuncs<T> funcs) {
    absl::StatusOr<std::shared_ptr<informers::HandlerRegistration>> reg =
        informer.AddEventHandler(std::move(funcs));
    if (!reg.ok()) return reg.status();
    registrations_.emplace_back(&informer.Informer(), *std::move(reg));
    return absl::OkStatus();
  }

 private:
  std::vector<std::pair<informers::SharedIndexInformer*,  // not owned
                        std::shared_ptr<informers::HandlerRegistration>>>
      registrations_;
};

// A Recorder for events from `component` (e.g. "replicaset-controller"), with the
// manager's identity as host, writing through the manager's client (which must outlive it).
absl::StatusOr<std::unique_ptr<controller::record::Recorder>> NewEventRecorder(
    controller::Manager& manager, std::string component);

struct QueueOptions {
  std::string name;  // the queue's name: metrics label and log prefix
  int workers = 1;
  int max_retries = 15;  // negative: retry forever
  // Logged as an error, with the key, for each key dropped after max_retries failures;
  // empty: nothing is logged.
  std::string drop_message{};
};

// A controller::Controller running `reconcile` on the keys queued, with its metrics in
// the manager's registry (the manager must outlive it). Drop messages are logged as
// coming from `where` (by default: the caller).
std::unique_ptr<controller::Controller> NewQueue(
    controller::Manager& manager, QueueOptions options, controller::Reconciler reconcile,
    log::Location where = log::Location::current());

// Handlers for a controller's own resource (a ReplicaSet for the ReplicaSet controller):
// add and update queue the object's key; delete first calls `on_delete` (when set) with
// the key, then queues it. `queue` is not owned and must outlive the registration.
template <typename T>
informers::TypedHandlerFuncs<T> EnqueueObject(
    controller::Controller* queue,
    std::function<void(const std::string& key)> on_delete = nullptr) {
  return {.add = [queue](const std::shared_ptr<const T>& obj,
                         bool) { queue->Enqueue(informers::KeyOf(*obj)); },
          .update = [queue](const std::shared_ptr<const T>&,
                            const std::shared_ptr<const T>& obj) {
            queue->Enqueue(informers::KeyOf(*obj));
          },
          .del = [queue, on_delete = std::move(on_delete)](
                     const informers::TypedDeletedObject<T>& d) {
            if (on_delete) on_delete(d.key);
            queue->Enqueue(d.key);
          }};
}

}  // namespace kslice::workloads

#endif  // KSLICE_CONTROLLER_WORKLOADS_PLUMBING_H_
