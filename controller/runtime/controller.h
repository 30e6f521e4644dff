// The controller run loop every kslice controller uses (client-go's pattern, spec §6):
// keys go into a rate-limited work queue; N workers take a key, reconcile it, and on
// error requeue it with the rate limiter's backoff until a retry limit; Run waits for
// the informers' caches first and, when asked to stop, drains: no new keys are taken,
// the keys being reconciled finish.
//
//   Controller c({.name = "endpointslice", .workers = 5},
//                [&](const std::string& key) -> absl::StatusOr<Result> { return Sync(key); });
//   informer.AddHandler(... c.Enqueue(KeyOf(obj)) ...);
//   c.Run(stop_token, {[&] { return informer.HasSynced(); }});
#ifndef KSLICE_CONTROLLER_RUNTIME_CONTROLLER_H_
#define KSLICE_CONTROLLER_RUNTIME_CONTROLLER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/metrics/metrics.h"
#include "controller/workqueue/rate_limiters.h"
#include "controller/workqueue/rate_limiting_queue.h"

namespace kslice::controller {

// What a reconcile asks for besides success or failure.
struct Result {
  // Reconcile the key again after this long (0: not again unless something changes).
  absl::Duration requeue_after = absl::ZeroDuration();
};

using Reconciler = std::function<absl::StatusOr<Result>(const std::string& key)>;

struct ControllerOptions {
  std::string name;  // the work queue's name (metrics label) and log prefix
  int workers = 1;
  // Retries of a failing key before it is dropped (client-go controllers use 15;
  // negative: retry forever). A dropped key is reconciled again when its object changes.
  int max_retries = 15;
  // nullptr: workqueue::DefaultControllerRateLimiter().
  std::unique_ptr<workqueue::RateLimiter> rate_limiter = nullptr;
  // Metrics of the queue and of reconciles; nullptr: metrics::Registry::Default().
  metrics::Registry* registry = nullptr;
  // Called for each key given up on (after max_retries failures), with the last error.
  std::function<void(const std::string& key, const absl::Status& error)> on_drop = nullptr;
};

class Controller {
 public:
  Controller(ControllerOptions options, Reconciler reconcile);
  ~Controller();  // shuts the queue down (without drain) if Run was never called
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void Enqueue(const std::string& key) { queue_->Add(key); }
  void EnqueueAfter(const std::string& key, absl::Duration d) { queue_->AddAfter(key, d); }
  workqueue::RateLimitingQueue& queue() { return *queue_; }

  // Waits until every `synced` predicate is true (polling every 100 ms; false from
  // stop first: returns Cancelled without starting workers), runs the workers until
  // `stop`, then shuts the queue down with drain and joins them.
  absl::Status Run(std::stop_token stop, std::vector<std::function<bool()>> synced = {});

  // Reconciles that returned OK / an error, and keys dropped after max_retries.
  int64_t reconciled() const { return reconciled_.load(); }
  int64_t failed() const { return failed_.load(); }
  int64_t dropped() const { return dropped_.load(); }

 private:
  void Worker();
  void ProcessOne(const std::string& key);

  ControllerOptions options_;
  Reconciler reconcile_;
  std::unique_ptr<workqueue::RateLimitingQueue> queue_;
  metrics::CounterVec* reconcile_total_ = nullptr;       // controller_reconcile_total{controller,result}
  metrics::HistogramVec* reconcile_seconds_ = nullptr;   // controller_reconcile_time_seconds{controller}
  std::atomic<int64_t> reconciled_{0}, failed_{0}, dropped_{0};
};

}  // namespace kslice::controller

#endif  // KSLICE_CONTROLLER_RUNTIME_CONTROLLER_H_
