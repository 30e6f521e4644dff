// The embedded API server's storage engine (envtest/storage): create throughput of a
// realistic pod, list latency over 100k pods (everything, a label selector, a first
// page), watch fan-out to 500 watchers, and memory per stored pod.
//
// The pod is realistic (3 containers with ports, env, resources, probes and mounts;
// labels, annotations, an owner reference, managedFields, 5 conditions, 3 container
// statuses), about 2.8 KB as protobuf.
//
//   bazel run -c opt //bench:storage_benchmark
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <limits>
#include <mutex>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/codec/canonical.h"
#include "api/core/v1/core.pb.h"
#include "bench/realistic_pod.h"
#include "api/labels/selector.h"
#include "envtest/storage/store.h"

namespace {

using kslice::api::core::v1::Pod;
using kslice::envtest::storage::CreateOptions;
using kslice::envtest::storage::ListOptions;
using kslice::envtest::storage::ListResult;
using kslice::envtest::storage::Object;
using kslice::envtest::storage::ResourceKey;
using kslice::envtest::storage::Store;
using kslice::envtest::storage::StoreOptions;
using kslice::envtest::storage::Watcher;
using kslice::envtest::storage::WatchEvent;

const ResourceKey kPods{"", "pods"};

// A production-like pod as a client sends it (no uid, RV or timestamps).

std::unique_ptr<Pod> CanonicalPod(int i) {
  auto pod = std::make_unique<Pod>(kslice::bench::RealisticPod(i, /*with_server_fields=*/false));
  if (!kslice::codec::Canonicalize(pod.get()).ok()) std::abort();
  return pod;
}

std::unique_ptr<Store> NewStore(size_t queue_capacity = 1000) {
  StoreOptions o;
  o.watch_queue_capacity = queue_capacity;
  absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(o);
  if (!s.ok()) std::abort();
  return *std::move(s);
}

int64_t RssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long pages = 0, resident = 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

// ---- creates ----

// Create of a pod as decoded JSON would arrive: the store canonicalizes it.
void BM_CreatePod(benchmark::State& state) {
  std::unique_ptr<Store> store = NewStore();
  const Pod base = kslice::bench::RealisticPod(0, /*with_server_fields=*/false);
  int i = 0;
  for (auto _ : state) {
    auto pod = std::make_unique<Pod>(base);
    pod->mutable_metadata()->set_name(absl::StrCat("p-", i++));
    absl::StatusOr<Object> o = store->Create(kPods, std::move(pod));
    if (!o.ok()) state.SkipWithError(std::string(o.status().message()).c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CreatePod);

// The same with CreateOptions::assume_canonical (the codec's output is canonical).
void BM_CreatePodCanonical(benchmark::State& state) {
  std::unique_ptr<Store> store = NewStore();
  const std::unique_ptr<Pod> base = CanonicalPod(0);
  int i = 0;
  for (auto _ : state) {
    auto pod = std::make_unique<Pod>(*base);
    pod->mutable_metadata()->set_name(absl::StrCat("p-", i++));
    absl::StatusOr<Object> o = store->Create(kPods, std::move(pod), {.assume_canonical = true});
    if (!o.ok()) state.SkipWithError(std::string(o.status().message()).c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CreatePodCanonical);

// ---- 100k pods: lists and memory ----
// rss_bytes_per_pod: resident memory the store grew by, per pod (objects, keys,
// versions, label sets, history); protobuf_bytes_per_pod: SpaceUsedLong() of one pod.

constexpr int kListPods = 100000;

struct Filled {
  std::unique_ptr<Store> store;
  int64_t rss_delta = 0;
  int64_t object_bytes = 0;  // SpaceUsedLong of one stored pod
};

Filled& HundredThousandPods() {
  static Filled* filled = [] {
    auto* f = new Filled();
    // Memory freed by earlier benchmarks would otherwise absorb the growth.
    malloc_trim(0);
    const int64_t before = RssBytes();
    f->store = NewStore();
    for (int i = 0; i < kListPods; ++i) {
      if (!f->store->Create(kPods, CanonicalPod(i), {.assume_canonical = true}).ok()) std::abort();
    }
    malloc_trim(0);
    f->rss_delta = RssBytes() - before;
    Object one = *f->store->Get(kPods, "shop-0", "checkout-7d9f8b6c5-0");
    f->object_bytes = static_cast<int64_t>(one->SpaceUsedLong());
    return f;
  }();
  return *filled;
}

void List(benchmark::State& state, const ListOptions& options, size_t want) {
  Filled& f = HundredThousandPods();
  for (auto _ : state) {
    absl::StatusOr<ListResult> r = f.store->List(kPods, options);
    if (!r.ok() || r->items.size() != want) {
      state.SkipWithError("unexpected list result");
      break;
    }
    benchmark::DoNotOptimize(r->items.data());
  }
  state.counters["items"] = static_cast<double>(want);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(want));
}

void BM_List100kAll(benchmark::State& state) { List(state, {}, kListPods); }
BENCHMARK(BM_List100kAll)->Unit(benchmark::kMillisecond);

void BM_List100kLabelSelector(benchmark::State& state) {
  List(state, {.label_selector = *kslice::labels::Parse("shard=3,app.kubernetes.io/name=checkout")},
       kListPods / 10);
}
BENCHMARK(BM_List100kLabelSelector)->Unit(benchmark::kMillisecond);

void BM_List100kFieldSelector(benchmark::State& state) {
  List(state, {.field_selector = *kslice::fields::Parse("spec.nodeName=node-7")},
       kListPods / 100);
}
BENCHMARK(BM_List100kFieldSelector)->Unit(benchmark::kMillisecond);

void BM_List100kOneNamespace(benchmark::State& state) {
  List(state, {.ns = "shop-3"}, kListPods / 20);
}
BENCHMARK(BM_List100kOneNamespace)->Unit(benchmark::kMillisecond);

void BM_List100kFirstPage500(benchmark::State& state) { List(state, {.limit = 500}, 500); }
BENCHMARK(BM_List100kFirstPage500)->Unit(benchmark::kMicrosecond);

void BM_MemoryPerPod(benchmark::State& state) {
  Filled& f = HundredThousandPods();
  for (auto _ : state) benchmark::DoNotOptimize(f.rss_delta);
  state.counters["rss_bytes_per_pod"] = static_cast<double>(f.rss_delta) / kListPods;
  state.counters["protobuf_bytes_per_pod"] = static_cast<double>(f.object_bytes);
}
BENCHMARK(BM_MemoryPerPod)->Iterations(1);

// ---- watch fan-out ----

// Watchers receive every event of 10,000 pod creates. Time runs from the first write
// until the last watcher has its last event. Three ways to consume:
//   kThreadEach:    a thread per watcher blocked in NextBatch (woken per event);
//   kThreadLinger:  the same with NextBatch(linger = 2 ms), so events arrive in batches
//                   (kThreadLinger20: 20 ms);
//   kPool:          OnReady() callbacks feed a queue that 2 worker threads drain (the
//                   event-loop pattern an asio server would use).
enum Mode { kThreadEach = 0, kThreadLinger = 1, kPool = 2, kThreadLinger20 = 3 };

void BM_WatchFanout(benchmark::State& state) {
  const int watchers = static_cast<int>(state.range(0));
  const int writes = static_cast<int>(state.range(1));
  const auto mode = static_cast<Mode>(state.range(2));
  std::vector<std::unique_ptr<Pod>> pods;
  for (int i = 0; i < writes; ++i) pods.push_back(CanonicalPod(i));
  int64_t delivered = 0;
  double writer_seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<Store> store = NewStore(static_cast<size_t>(writes));
    std::vector<std::unique_ptr<Watcher>> ws;
    for (int i = 0; i < watchers; ++i) {
      ws.push_back(*store->Watch(kPods, {.resource_version = "1"}));
    }
    std::vector<std::unique_ptr<Pod>> batch;
    for (const auto& p : pods) batch.push_back(std::make_unique<Pod>(*p));
    std::atomic<int64_t> received{0};
    std::atomic<int> finished{0};
    std::vector<std::thread> threads;
    // kPool state.
    std::mutex ready_mu;
    std::condition_variable ready_cv;
    std::deque<int> ready;
    std::vector<int64_t> counts(watchers, 0);
    std::vector<std::unique_ptr<std::mutex>> strands;
    if (mode == kPool) {
      for (int i = 0; i < watchers; ++i) strands.push_back(std::make_unique<std::mutex>());
      for (int i = 0; i < watchers; ++i) {
        ws[i]->OnReady([&, i] {
          std::lock_guard<std::mutex> l(ready_mu);
          ready.push_back(i);
          ready_cv.notify_one();
        });
      }
      for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&] {
          std::vector<WatchEvent> events;
          for (;;) {
            int i;
            {
              std::unique_lock<std::mutex> l(ready_mu);
              ready_cv.wait(l, [&] { return !ready.empty() || finished.load() == watchers; });
              if (ready.empty()) return;
              i = ready.front();
              ready.pop_front();
            }
            std::lock_guard<std::mutex> strand(*strands[i]);
            for (;;) {
              events.clear();
              ws[i]->NextBatch(&events, absl::ZeroDuration(), 256);
              counts[i] += static_cast<int64_t>(events.size());
              received += static_cast<int64_t>(events.size());
              if (counts[i] == writes && !events.empty() && finished.fetch_add(1) + 1 == watchers) {
                std::lock_guard<std::mutex> l(ready_mu);
                ready_cv.notify_all();
              }
              if (events.size() < 256) break;
            }
          }
        });
      }
    } else {
      const absl::Duration linger = mode == kThreadLinger     ? absl::Milliseconds(2)
                                    : mode == kThreadLinger20 ? absl::Milliseconds(20)
                                                              : absl::ZeroDuration();
      for (int i = 0; i < watchers; ++i) {
        threads.emplace_back([&, i, linger] {
          std::vector<WatchEvent> events;
          int64_t n = 0;
          while (n < writes && ws[i]->NextBatch(&events, absl::Seconds(60),
                                                std::numeric_limits<size_t>::max(), linger)) {
            n += static_cast<int64_t>(events.size());
            events.clear();
          }
          received += n;
        });
      }
    }
    state.ResumeTiming();
    const absl::Time start = absl::Now();
    for (auto& p : batch) {
      if (!store->Create(kPods, std::move(p), {.assume_canonical = true}).ok()) std::abort();
    }
    writer_seconds += absl::ToDoubleSeconds(absl::Now() - start);
    for (std::thread& t : threads) t.join();
    state.PauseTiming();
    delivered += received.load();
    if (received.load() != static_cast<int64_t>(watchers) * writes) {
      state.SkipWithError("events lost");
    }
    ws.clear();
    store.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(delivered);  // events delivered per second
  state.counters["writes_per_s"] = benchmark::Counter(
      static_cast<double>(writes) * static_cast<double>(state.iterations()) / writer_seconds);
}
BENCHMARK(BM_WatchFanout)
    ->ArgNames({"watchers", "writes", "mode"})
    ->Args({500, 10000, kThreadEach})
    ->Args({500, 10000, kThreadLinger})
    ->Args({500, 10000, kThreadLinger20})
    ->Args({500, 10000, kPool})
    ->Args({50, 10000, kThreadEach})
    ->Args({50, 10000, kThreadLinger})
    ->Args({50, 10000, kPool})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace
