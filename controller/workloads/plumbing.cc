#include "controller/workloads/plumbing.h"

#include "controller/log/log.h"

namespace kslice::workloads {

HandlerRegistrations::~HandlerRegistrations() {
  for (auto& [informer, registration] : registrations_) {
    informer->RemoveEventHandler(registration);
  }
}

absl::StatusOr<std::unique_ptr<controller::record::Recorder>> NewEventRecorder(
    controller::Manager& manager, std::string component) {
  controller::record::RecorderOptions ro;
  ro.component = std::move(component);
  ro.host = manager.identity();
  return controller::record::Recorder::Create(manager.client(), ro);
}

std::unique_ptr<controller::Controller> NewQueue(controller::Manager& manager,
                                                 QueueOptions options,
                                                 controller::Reconciler reconcile,
                                                 log::Location where) {
  controller::ControllerOptions co;
  co.name = std::move(options.name);
  co.workers = options.workers;
  co.max_retries = options.max_retries;
  co.registry = &manager.registry();
  if (!options.drop_message.empty()) {
    co.on_drop = [message = std::move(options.drop_message), where](
                     const std::string& key, const absl::Status& error) {
      log::Error(error, message, {{"key", key}}, where);
    };
  }
  return std::make_unique<controller::Controller>(std::move(co), std::move(reconcile));
}

}  // namespace kslice::workloads
