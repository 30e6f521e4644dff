#include <chrono>
#include <thread>

#include "client/flowcontrol/clock.h"
#include "controller/metrics/metrics.h"
#include "controller/workqueue/delaying_queue.h"
#include "controller/workqueue/queue.h"
#include "gtest/gtest.h"

namespace kslice::controller::workqueue {
namespace {

using absl::Microseconds;
using absl::Milliseconds;
using client::flowcontrol::FakeClock;

std::string Buckets(const std::string& family, const std::vector<int>& cumulative) {
  // component-base's bounds ExponentialBuckets(10e-9, 10, 10) as Go prints them.
  const char* bounds[] = {"1e-08", "1e-07", "1e-06", "9.999999999999999e-06",
                          "9.999999999999999e-05", "0.001", "0.01", "0.1", "1", "10", "+Inf"};
  std::string out;
  for (size_t i = 0; i < cumulative.size(); ++i) {
    out += family + "_bucket{name=\"test\",le=\"" + bounds[i] + "\"} " +
           std::to_string(cumulative[i]) + "\n";
  }
  return out;
}

TEST(QueueMetricsTest, ScriptedSequenceExposesClientGoMetrics) {
  FakeClock clock;
  metrics::Registry registry;
  QueueConfig config;
  config.name = "test";
  config.registry = &registry;
  config.clock = &clock;
  config.unfinished_work_update_period = absl::ZeroDuration();
  DelayingQueue q(config);

  q.Add("foo");
  q.Add("bar");
  q.Add("foo");  // deduplicated: not counted
  clock.Advance(Microseconds(50));
  ASSERT_EQ(q.Get().item, "foo");  // queued 50µs
  clock.Advance(Microseconds(30));
  q.queue().UpdateUnfinishedWorkMetrics();  // foo processing for 30µs
  const std::string mid = registry.Expose();
  EXPECT_NE(mid.find("workqueue_unfinished_work_seconds{name=\"test\"} 3e-05\n"),
            std::string::npos)
      << mid;
  EXPECT_NE(mid.find("workqueue_longest_running_processor_seconds{name=\"test\"} 3e-05\n"),
            std::string::npos)
      << mid;
  q.Done("foo");                        // worked 30µs
  q.Add("foo");                         // added at +80µs
  q.AddAfter("baz", absl::ZeroDuration());  // a retry, added now
  q.AddAfter("qux", absl::Seconds(1));      // a retry, still waiting
  ASSERT_EQ(q.Get().item, "bar");        // queued 80µs
  ASSERT_EQ(q.Get().item, "foo");        // queued 0s
  clock.Advance(Milliseconds(2));
  q.queue().UpdateUnfinishedWorkMetrics();  // bar and foo processing for 2ms each

  const std::string want =
      "# HELP workqueue_adds_total Total number of adds handled by workqueue\n"
      "# TYPE workqueue_adds_total counter\n"
      "workqueue_adds_total{name=\"test\"} 4\n"
      "# HELP workqueue_depth Current depth of workqueue\n"
      "# TYPE workqueue_depth gauge\n"
      "workqueue_depth{name=\"test\"} 1\n"
      "# HELP workqueue_longest_running_processor_seconds How many seconds has the longest "
      "running processor for workqueue been running.\n"
      "# TYPE workqueue_longest_running_processor_seconds gauge\n"
      "workqueue_longest_running_processor_seconds{name=\"test\"} 0.002\n"
      "# HELP workqueue_queue_duration_seconds How long in seconds an item stays in workqueue "
      "before being requested.\n"
      "# TYPE workqueue_queue_duration_seconds histogram\n" +
      Buckets("workqueue_queue_duration_seconds", {1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3}) +
      "workqueue_queue_duration_seconds_sum{name=\"test\"} 0.00013000000000000002\n"
      "workqueue_queue_duration_seconds_count{name=\"test\"} 3\n"
      "# HELP workqueue_retries_total Total number of retries handled by workqueue\n"
      "# TYPE workqueue_retries_total counter\n"
      "workqueue_retries_total{name=\"test\"} 2\n"
      "# HELP workqueue_unfinished_work_seconds How many seconds of work has done that is in "
      "progress and hasn't been observed by work_duration. Large values indicate stuck "
      "threads. One can deduce the number of stuck threads by observing the rate at which "
      "this increases.\n"
      "# TYPE workqueue_unfinished_work_seconds gauge\n"
      "workqueue_unfinished_work_seconds{name=\"test\"} 0.004\n"
      "# HELP workqueue_work_duration_seconds How long in seconds processing an item from "
      "workqueue takes.\n"
      "# TYPE workqueue_work_duration_seconds histogram\n" +
      Buckets("workqueue_work_duration_seconds", {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1}) +
      "workqueue_work_duration_seconds_sum{name=\"test\"} 3e-05\n"
      "workqueue_work_duration_seconds_count{name=\"test\"} 1\n";
  EXPECT_EQ(registry.Expose(), want);
}

TEST(QueueMetricsTest, ReAddWhileProcessingCountsOnce) {
  FakeClock clock;
  metrics::Registry registry;
  QueueConfig config;
  config.name = "q";
  config.registry = &registry;
  config.clock = &clock;
  config.unfinished_work_update_period = absl::ZeroDuration();
  Queue q(config);
  q.Add("a");
  ASSERT_EQ(q.Get().item, "a");
  q.Add("a");  // dirty while processing: counted as an add, depth 1, not queued
  q.Add("a");  // already dirty: ignored
  EXPECT_EQ(q.Len(), 0);
  auto* depth = *registry.NewGaugeVec({"workqueue_depth", "Current depth of workqueue"},
                                      {"name"});
  auto* adds = *registry.NewCounterVec(
      {"workqueue_adds_total", "Total number of adds handled by workqueue"}, {"name"});
  EXPECT_EQ(depth->WithLabelValues({"q"}).Value(), 1);
  EXPECT_EQ(adds->WithLabelValues({"q"}).Value(), 2);
  q.Done("a");
  ASSERT_EQ(q.Get().item, "a");
  EXPECT_EQ(depth->WithLabelValues({"q"}).Value(), 0);
}

TEST(QueueMetricsTest, UnnamedQueueRegistersNothing) {
  metrics::Registry registry;
  QueueConfig config;
  config.registry = &registry;
  Queue q(config);
  q.Add("a");
  EXPECT_EQ(registry.Expose(), "");
}

TEST(QueueMetricsTest, QueuesWithDifferentNamesShareFamilies) {
  metrics::Registry registry;
  QueueConfig a;
  a.name = "alpha";
  a.registry = &registry;
  QueueConfig b = a;
  b.name = "beta";
  Queue qa(a);
  Queue qb(b);
  qb.Add("x");
  qa.Add("x");
  qa.Add("y");
  const std::string text = registry.Expose();
  EXPECT_NE(text.find("workqueue_adds_total{name=\"alpha\"} 2\n"
                      "workqueue_adds_total{name=\"beta\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(QueueMetricsTest, RefresherThreadUpdatesUnfinishedWork) {
  metrics::Registry registry;
  QueueConfig config;
  config.name = "live";
  config.registry = &registry;
  config.unfinished_work_update_period = Milliseconds(5);
  Queue q(config);
  q.Add("slow");
  ASSERT_EQ(q.Get().item, "slow");
  auto* longest = *registry.NewGaugeVec(
      {"workqueue_longest_running_processor_seconds",
       "How many seconds has the longest running processor for workqueue been running."},
      {"name"});
  double v = 0;
  for (int i = 0; i < 5000 && v <= 0.01; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    v = longest->WithLabelValues({"live"}).Value();
  }
  EXPECT_GT(v, 0.01);
  q.Done("slow");
}

}  // namespace
}  // namespace kslice::controller::workqueue
