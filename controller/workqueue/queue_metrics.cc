#include "controller/workqueue/queue_metrics.h"

namespace kslice::controller::workqueue::internal {

namespace {

constexpr char kUnfinishedHelp[] =
    "How many seconds of work has done that is in progress and hasn't been observed by "
    "work_duration. Large values indicate stuck threads. One can deduce the number of stuck "
    "threads by observing the rate at which this increases.";

}  // namespace

std::unique_ptr<QueueMetrics> QueueMetrics::Create(const std::string& name,
                                                   metrics::Registry& registry,
                                                   client::flowcontrol::Clock& clock) {
  if (name.empty()) return nullptr;
  const std::vector<std::string> labels = {"name"};
  // component-base: ExponentialBuckets(10e-9, 10, 10), i.e. 10ns .. 10s.
  const std::vector<double> buckets = metrics::ExponentialBuckets(10e-9, 10, 10);
  auto depth = registry.NewGaugeVec({"workqueue_depth", "Current depth of workqueue"}, labels);
  auto adds = registry.NewCounterVec(
      {"workqueue_adds_total", "Total number of adds handled by workqueue"}, labels);
  auto latency = registry.NewHistogramVec(
      {"workqueue_queue_duration_seconds",
       "How long in seconds an item stays in workqueue before being requested."},
      buckets, labels);
  auto work = registry.NewHistogramVec(
      {"workqueue_work_duration_seconds",
       "How long in seconds processing an item from workqueue takes."},
      buckets, labels);
  auto unfinished =
      registry.NewGaugeVec({"workqueue_unfinished_work_seconds", kUnfinishedHelp}, labels);
  auto longest = registry.NewGaugeVec(
      {"workqueue_longest_running_processor_seconds",
       "How many seconds has the longest running processor for workqueue been running."},
      labels);
  auto retries = registry.NewCounterVec(
      {"workqueue_retries_total", "Total number of retries handled by workqueue"}, labels);
  if (!depth.ok() || !adds.ok() || !latency.ok() || !work.ok() || !unfinished.ok() ||
      !longest.ok() || !retries.ok()) {
    return nullptr;
  }
  const std::vector<std::string> values = {name};
  return std::unique_ptr<QueueMetrics>(new QueueMetrics(
      clock, (*depth)->WithLabelValues(values), (*adds)->WithLabelValues(values),
      (*latency)->WithLabelValues(values), (*work)->WithLabelValues(values),
      (*unfinished)->WithLabelValues(values), (*longest)->WithLabelValues(values),
      (*retries)->WithLabelValues(values)));
}

void QueueMetrics::Add(const std::string& item) {
  adds_.Inc();
  depth_.Inc();
  add_times_.try_emplace(item, clock_.Now());
}

void QueueMetrics::Get(const std::string& item) {
  depth_.Dec();
  const absl::Time now = clock_.Now();
  processing_start_times_[item] = now;
  auto it = add_times_.find(item);
  if (it != add_times_.end()) {
    latency_.Observe(absl::ToDoubleSeconds(now - it->second));
    add_times_.erase(it);
  }
}

void QueueMetrics::Done(const std::string& item) {
  auto it = processing_start_times_.find(item);
  if (it != processing_start_times_.end()) {
    work_duration_.Observe(absl::ToDoubleSeconds(clock_.Now() - it->second));
    processing_start_times_.erase(it);
  }
}

void QueueMetrics::UpdateUnfinishedWork() {
  const absl::Time now = clock_.Now();
  double total = 0;
  double oldest = 0;
  for (const auto& [item, start] : processing_start_times_) {
    const double age = absl::ToDoubleSeconds(now - start);
    total += age;
    if (age > oldest) oldest = age;
  }
  unfinished_.Set(total);
  longest_.Set(oldest);
}

}  // namespace kslice::controller::workqueue::internal
