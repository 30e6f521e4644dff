// Work queue and metrics throughput (docs/benchmarks.md, "Work queue").
//
//   bazel run -c opt //bench:workqueue_benchmark
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "controller/metrics/metrics.h"
#include "controller/workqueue/queue.h"
#include "controller/workqueue/rate_limiting_queue.h"

namespace {

using kslice::controller::metrics::Registry;
using kslice::controller::workqueue::GetResult;
using kslice::controller::workqueue::Queue;
using kslice::controller::workqueue::QueueConfig;

constexpr int kBatch = 10000;

std::vector<std::string> Keys() {
  std::vector<std::string> keys;
  keys.reserve(kBatch);
  for (int i = 0; i < kBatch; ++i) keys.push_back(absl::StrCat("namespace-", i % 50, "/pod-", i));
  return keys;
}

// One producer adds a batch of distinct keys; `workers` threads Get and Done them.
// Arguments: workers, metrics (0 = unnamed queue, 1 = named queue with metrics).
void BM_AddGetDone(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  Registry registry;
  QueueConfig config;
  if (state.range(1) != 0) config.name = "bench";
  config.registry = &registry;
  Queue q(config);
  const std::vector<std::string> keys = Keys();
  // The producer sleeps until the worker finishing the batch wakes it, so it does
  // not take CPU from the workers on small machines.
  std::atomic<int64_t> processed{0};
  std::atomic<int64_t> target{0};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      while (true) {
        GetResult r = q.Get();
        if (r.shutdown) return;
        q.Done(r.item);
        if (processed.fetch_add(1) + 1 == target.load()) {
          std::lock_guard<std::mutex> lock(mu);
          cv.notify_one();
        }
      }
    });
  }
  for (auto _ : state) {
    target += kBatch;
    for (const std::string& k : keys) q.Add(k);
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return processed.load() >= target.load(); });
  }
  q.ShutDown();
  for (auto& t : threads) t.join();
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_AddGetDone)
    ->ArgNames({"workers", "metrics"})
    ->ArgsProduct({{1, 8}, {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Adds of keys that are already queued (the dedup path of a busy informer).
void BM_AddDuplicate(benchmark::State& state) {
  Queue q;
  q.Add("default/web-0");
  const std::string key = "default/web-0";
  for (auto _ : state) q.Add(key);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddDuplicate);

// AddRateLimited + Forget with the default controller limiter, delays not awaited.
void BM_AddRateLimited(benchmark::State& state) {
  kslice::controller::workqueue::RateLimitingQueue q(nullptr);
  const std::vector<std::string> keys = Keys();
  size_t i = 0;
  for (auto _ : state) {
    const std::string& k = keys[i++ % keys.size()];
    q.AddRateLimited(k);
    q.Forget(k);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddRateLimited);

void BM_CounterInc(benchmark::State& state) {
  Registry r;
  auto* c = *r.NewCounter({"c_total", "C."});
  for (auto _ : state) c->Inc();
  benchmark::DoNotOptimize(c->Value());
}
BENCHMARK(BM_CounterInc)->ThreadRange(1, 2);

void BM_CounterVecWithLabelValues(benchmark::State& state) {
  Registry r;
  auto* v = *r.NewCounterVec({"c_total", "C."}, {"code", "method"});
  for (auto _ : state) v->WithLabelValues({"200", "GET"}).Inc();
}
BENCHMARK(BM_CounterVecWithLabelValues);

void BM_HistogramObserve(benchmark::State& state) {
  Registry r;
  auto* h = *r.NewHistogram({"h_seconds", "H."},
                            kslice::controller::metrics::ExponentialBuckets(10e-9, 10, 10));
  double v = 1e-7;
  for (auto _ : state) {
    h->Observe(v);
    v = v > 100 ? 1e-7 : v * 1.7;
  }
}
BENCHMARK(BM_HistogramObserve);

// Expose() with the seven workqueue families for 20 named queues.
void BM_ExposeWorkqueueMetrics(benchmark::State& state) {
  Registry r;
  std::vector<std::unique_ptr<Queue>> queues;
  for (int i = 0; i < 20; ++i) {
    QueueConfig c;
    c.name = absl::StrCat("controller-", i);
    c.registry = &r;
    c.unfinished_work_update_period = absl::ZeroDuration();
    queues.push_back(std::make_unique<Queue>(c));
    queues.back()->Add("x");
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = r.Expose();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ExposeWorkqueueMetrics);

}  // namespace
