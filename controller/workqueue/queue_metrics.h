// Internal: client-go's workqueue metrics (defaultQueueMetrics with component-base's
// Prometheus provider): the same names, help texts, buckets and label `name`.
#ifndef KSLICE_CONTROLLER_WORKQUEUE_QUEUE_METRICS_H_
#define KSLICE_CONTROLLER_WORKQUEUE_QUEUE_METRICS_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "client/flowcontrol/clock.h"
#include "controller/metrics/metrics.h"

namespace kslice::controller::workqueue::internal {

// Not thread-safe by itself: Add/Get/Done/UpdateUnfinishedWork are called under the
// queue's lock. Retry only touches an atomic counter.
class QueueMetrics {
 public:
  // nullptr when `name` is empty or the families cannot be registered (a clashing
  // definition under the same names).
  static std::unique_ptr<QueueMetrics> Create(const std::string& name,
                                              metrics::Registry& registry,
                                              client::flowcontrol::Clock& clock);

  void Add(const std::string& item);
  void Get(const std::string& item);
  void Done(const std::string& item);
  void UpdateUnfinishedWork();
  void Retry() { retries_.Inc(); }

 private:
  QueueMetrics(client::flowcontrol::Clock& clock, metrics::Gauge& depth, metrics::Counter& adds,
               metrics::Histogram& latency, metrics::Histogram& work_duration,
               metrics::Gauge& unfinished, metrics::Gauge& longest, metrics::Counter& retries)
      : clock_(clock),
        depth_(depth),
        adds_(adds),
        latency_(latency),
        work_duration_(work_duration),
        unfinished_(unfinished),
        longest_(longest),
        retries_(retries) {}

  client::flowcontrol::Clock& clock_;
  metrics::Gauge& depth_;
  metrics::Counter& adds_;
  metrics::Histogram& latency_;
  metrics::Histogram& work_duration_;
  metrics::Gauge& unfinished_;
  metrics::Gauge& longest_;
  metrics::Counter& retries_;
  absl::flat_hash_map<std::string, absl::Time> add_times_;
  absl::flat_hash_map<std::string, absl::Time> processing_start_times_;
};

}  // namespace kslice::controller::workqueue::internal

#endif  // KSLICE_CONTROLLER_WORKQUEUE_QUEUE_METRICS_H_
