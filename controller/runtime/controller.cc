#include "controller/runtime/controller.h"

#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kslice::controller {

Controller::Controller(ControllerOptions options, Reconciler reconcile)
    : options_(std::move(options)), reconcile_(std::move(reconcile)) {
  metrics::Registry* registry =
      options_.registry != nullptr ? options_.registry : &metrics::Registry::Default();
  workqueue::QueueConfig qc;
  qc.name = options_.name;
  qc.registry = registry;
  queue_ = std::make_unique<workqueue::RateLimitingQueue>(std::move(options_.rate_limiter), qc);
  if (!options_.name.empty()) {
    // controller-runtime's names for the same facts.
    absl::StatusOr<metrics::CounterVec*> total = registry->NewCounterVec(
        {"controller_runtime_reconcile_total",
         "Total number of reconciliations per controller"},
        {"controller", "result"});
    if (total.ok()) reconcile_total_ = *total;
    absl::StatusOr<metrics::HistogramVec*> seconds = registry->NewHistogramVec(
        {"controller_runtime_reconcile_time_seconds",
         "Length of time per reconciliation per controller"},
        metrics::ExponentialBuckets(0.001, 2, 16), {"controller"});
    if (seconds.ok()) reconcile_seconds_ = *seconds;
  }
}

Controller::~Controller() { queue_->ShutDown(); }

absl::Status Controller::Run(std::stop_token stop, std::vector<std::function<bool()>> synced) {
  // Wait for the caches: reconciling against a partial cache would act on a
  // partial view of the world.
  while (true) {
    bool all = true;
    for (const auto& s : synced) all = all && s();
    if (all) break;
    if (stop.stop_requested()) {
      queue_->ShutDown();
      return absl::CancelledError(
          absl::StrCat("controller ", options_.name, ": stopped before caches synced"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::vector<std::thread> workers;
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers.emplace_back([this] { Worker(); });
  }
  // Park until asked to stop; then let the workers finish what they hold.
  std::mutex mu;
  std::condition_variable_any cv;
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, stop, [] { return false; });
  }
  queue_->ShutDownWithDrain();
  for (std::thread& t : workers) t.join();
  return absl::OkStatus();
}

void Controller::Worker() {
  while (true) {
    workqueue::GetResult item = queue_->Get();
    if (item.shutdown) return;
    ProcessOne(item.item);
    queue_->Done(item.item);
  }
}

void Controller::ProcessOne(const std::string& key) {
  const absl::Time start = absl::Now();
  absl::StatusOr<Result> r = reconcile_(key);
  if (reconcile_seconds_ != nullptr) {
    reconcile_seconds_->WithLabelValues({options_.name})
        .Observe(absl::ToDoubleSeconds(absl::Now() - start));
  }
  std::string result;
  if (r.ok()) {
    ++reconciled_;
    queue_->Forget(key);
    if (r->requeue_after > absl::ZeroDuration()) {
      queue_->AddAfter(key, r->requeue_after);
      result = "requeue_after";
    } else {
      result = "success";
    }
  } else {
    ++failed_;
    result = "error";
    if (options_.max_retries < 0 || queue_->NumRequeues(key) < options_.max_retries) {
      queue_->AddRateLimited(key);
    } else {
      ++dropped_;
      queue_->Forget(key);
      if (options_.on_drop) options_.on_drop(key, r.status());
    }
  }
  if (reconcile_total_ != nullptr) {
    reconcile_total_->WithLabelValues({options_.name, result}).Inc();
  }
}

}  // namespace kslice::controller
