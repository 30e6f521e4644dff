// The embedded API server through its HTTPS front (envtest/apiserver/embedded.h),
// driven by the real REST client: writes/s (create and update of realistic pods,
// protobuf and JSON; small configmaps; 4 concurrent clients), list of 100k pods
// (whole, first page of 500, all pages of 500; protobuf and JSON), watch fan-out to
// N watchers, and memory per stored pod.
//
// Client and server share the process and the 2 cores, so every figure includes the
// client's share (encoding the request, TLS, reading the answer). The list and
// fan-out benchmarks keep that share small: lists are fetched without decoding
// (RestClient::Send), and fan-out watchers count frames on the raw transport.
//
//   bazel run -c opt //bench:apiserver_benchmark
//   KSLICE_BENCH_LIST_PODS=20000 bazel run -c opt //bench:apiserver_benchmark  (quicker)
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/codec/canonical.h"
#include "api/core/v1/core.pb.h"
#include "bench/realistic_pod.h"
#include "client/rest/client.h"
#include "client/transport/transport.h"
#include "envtest/apiserver/embedded.h"
#include "envtest/storage/store.h"

namespace {

using kslice::api::core::v1::ConfigMap;
using kslice::api::core::v1::ConfigMapList;
using kslice::api::core::v1::Namespace;
using kslice::api::core::v1::NamespaceList;
using kslice::api::core::v1::Pod;
using kslice::api::core::v1::PodList;
using kslice::client::RestClient;
using kslice::client::Typed;
using kslice::envtest::apiserver::EmbeddedServer;
using kslice::envtest::apiserver::EmbeddedServerOptions;

constexpr char kProtobuf[] = "application/vnd.kubernetes.protobuf";
constexpr char kJson[] = "application/json";

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  int n = 0;
  if (v == nullptr || !absl::SimpleAtoi(v, &n) || n <= 0) return fallback;
  return n;
}

int64_t RssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long pages = 0, resident = 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

void Die(const std::string& what) {
  std::fprintf(stderr, "apiserver_benchmark: %s\n", what.c_str());
  std::abort();
}

std::unique_ptr<EmbeddedServer> StartServer(size_t history, size_t queue) {
  EmbeddedServerOptions o;
  // Off: RealisticPod's owner (a ReplicaSet) does not exist, so the garbage collector
  // would delete every pod; the benchmarks measure the API server alone.
  o.run_controllers = false;
  o.store.history_size = history;
  o.store.watch_queue_capacity = queue;
  absl::StatusOr<std::unique_ptr<EmbeddedServer>> s = EmbeddedServer::Start(o);
  if (!s.ok()) Die(s.status().ToString());
  return *std::move(s);
}

std::unique_ptr<RestClient> NewClient(EmbeddedServer& server, bool json) {
  kslice::client::RestConfig config = server.RestConfig();
  config.qps = 0;  // no client-side rate limit
  config.burst = 0;
  kslice::client::ClientOptions o;
  o.prefer_json = json;
  absl::StatusOr<std::unique_ptr<RestClient>> c = RestClient::Create(config, o);
  if (!c.ok()) Die(c.status().ToString());
  return *std::move(c);
}

// Namespaces shop-0..19 (RealisticPod's) and "bench".
void CreateNamespaces(EmbeddedServer& server) {
  std::unique_ptr<RestClient> c = NewClient(server, false);
  Typed<Namespace, NamespaceList> namespaces(*c);
  for (int i = -1; i < 20; ++i) {
    Namespace ns;
    ns.mutable_metadata()->set_name(i < 0 ? std::string("bench") : absl::StrCat("shop-", i));
    absl::StatusOr<Namespace> r = namespaces.Create(ns);
    if (!r.ok()) Die(r.status().ToString());
  }
}

// RealisticPod as a client would send it.
Pod ValidPod(int i) { return kslice::bench::RealisticPod(i, /*with_server_fields=*/false); }

// A realistic pod as a client creates it, named `name` in namespace "bench".
Pod BenchPod(int i, const std::string& name) {
  Pod pod = ValidPod(i);
  pod.mutable_metadata()->set_namespace_("bench");
  pod.mutable_metadata()->set_name(name);
  return pod;
}

// ---- writes ----

EmbeddedServer& WriteServer() {
  static EmbeddedServer* server = [] {
    EmbeddedServer* s = StartServer(10000, 1000).release();
    CreateNamespaces(*s);
    return s;
  }();
  return *server;
}

std::atomic<int> g_name_seq{0};

void BM_CreatePod(benchmark::State& state) {
  std::unique_ptr<RestClient> c = NewClient(WriteServer(), state.range(0) != 0);
  Typed<Pod, PodList> pods(*c);
  for (auto _ : state) {
    const int n = g_name_seq.fetch_add(1);
    absl::StatusOr<Pod> r = pods.Create(BenchPod(n, absl::StrCat("create-", n)));
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CreatePod)
    ->ArgName("json")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// 4 clients writing at once (each its own connection).
void BM_CreatePodConcurrent(benchmark::State& state) {
  std::unique_ptr<RestClient> c = NewClient(WriteServer(), false);
  Typed<Pod, PodList> pods(*c);
  for (auto _ : state) {
    const int n = g_name_seq.fetch_add(1);
    absl::StatusOr<Pod> r = pods.Create(BenchPod(n, absl::StrCat("create-", n)));
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CreatePodConcurrent)->Threads(4)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Replaces one pod again and again (a label changes; conditional on the RV).
void BM_UpdatePod(benchmark::State& state) {
  std::unique_ptr<RestClient> c = NewClient(WriteServer(), state.range(0) != 0);
  Typed<Pod, PodList> pods(*c);
  const int n = g_name_seq.fetch_add(1);
  absl::StatusOr<Pod> current = pods.Create(BenchPod(n, absl::StrCat("update-", n)));
  if (!current.ok()) {
    state.SkipWithError(current.status().ToString().c_str());
    return;
  }
  int i = 0;
  for (auto _ : state) {
    (*current->mutable_metadata()->mutable_labels())["revision"] = absl::StrCat(i++);
    current = pods.Update(*current);
    if (!current.ok()) {
      state.SkipWithError(current.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UpdatePod)
    ->ArgName("json")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// A small object: the per-request cost without much codec work.
void BM_CreateConfigMap(benchmark::State& state) {
  std::unique_ptr<RestClient> c = NewClient(WriteServer(), state.range(0) != 0);
  Typed<ConfigMap, ConfigMapList> cms(*c);
  for (auto _ : state) {
    ConfigMap cm;
    cm.mutable_metadata()->set_namespace_("bench");
    cm.mutable_metadata()->set_name(absl::StrCat("cm-", g_name_seq.fetch_add(1)));
    (*cm.mutable_data())["key"] = "value";
    absl::StatusOr<ConfigMap> r = cms.Create(cm);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CreateConfigMap)
    ->ArgName("json")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// ---- 100k pods: lists ----
// The pods go into the server's store directly (as the storage benchmark does; 100k
// creates through HTTP would take minutes); they are the realistic pod with every
// server field, canonical, in 20 namespaces.

struct ListFixture {
  std::unique_ptr<EmbeddedServer> server;
  int pods = 0;
};

ListFixture& HundredThousandPods() {
  static ListFixture* f = [] {
    auto* fx = new ListFixture();
    fx->pods = EnvInt("KSLICE_BENCH_LIST_PODS", 100000);
    fx->server = StartServer(10000, 1000);
    CreateNamespaces(*fx->server);
    kslice::envtest::storage::Store& store = fx->server->api().store();
    for (int i = 0; i < fx->pods; ++i) {
      auto pod = std::make_unique<Pod>(kslice::bench::RealisticPod(i, /*with_server_fields=*/true));
      pod->mutable_metadata()->clear_resourceversion();
      if (!kslice::codec::Canonicalize(pod.get()).ok()) Die("canonicalize");
      absl::StatusOr<kslice::envtest::storage::Object> o =
          store.Create({"", "pods"}, std::move(pod), {.assume_canonical = true});
      if (!o.ok()) Die(o.status().ToString());
    }
    return fx;
  }();
  return *f;
}

// GET of the path, the answer read whole but not decoded. The bare transport: a
// RestClient refuses answers over 256 MiB, and 100k realistic pods are 272 MB of
// protobuf (see docs/benchmarks.md).
void RawGet(benchmark::State& state, const std::string& path) {
  ListFixture& f = HundredThousandPods();
  const bool json = state.range(0) != 0;
  kslice::client::TransportOptions to;
  to.tls.ca_pem = f.server->ca_pem();
  to.max_response_bytes = size_t{4} << 30;
  absl::StatusOr<std::unique_ptr<kslice::client::Transport>> t =
      kslice::client::Transport::Create(to);
  if (!t.ok()) Die(t.status().ToString());
  kslice::client::Request req;
  req.url = absl::StrCat(f.server->url(), path);
  req.headers = {{"Authorization", absl::StrCat("Bearer ", f.server->token())},
                 {"Accept", json ? kJson : kProtobuf}};
  size_t bytes = 0;
  for (auto _ : state) {
    absl::StatusOr<kslice::client::Response> r = (*t)->Do(req);
    if (!r.ok() || r->status != 200) {
      state.SkipWithError(r.ok() ? absl::StrCat("HTTP ", r->status).c_str()
                                 : r.status().ToString().c_str());
      break;
    }
    bytes = r->body.size();
  }
  state.counters["body_MB"] = static_cast<double>(bytes) / 1e6;
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}

void BM_List100kPods(benchmark::State& state) {
  RawGet(state, "/api/v1/pods");
  state.counters["items"] = HundredThousandPods().pods;
}
BENCHMARK(BM_List100kPods)
    ->ArgName("json")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_List100kFirstPage500(benchmark::State& state) { RawGet(state, "/api/v1/pods?limit=500"); }
BENCHMARK(BM_List100kFirstPage500)
    ->ArgName("json")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Every page of 500 in turn, as a paginating client reads them (decoded: the next
// page's continue token is in the list's metadata).
void BM_List100kAllPages500(benchmark::State& state) {
  ListFixture& f = HundredThousandPods();
  std::unique_ptr<RestClient> c = NewClient(*f.server, state.range(0) != 0);
  Typed<Pod, PodList> pods(*c);
  int64_t items = 0, pages = 0;
  for (auto _ : state) {
    kslice::client::ListOptions o;
    o.limit = 500;
    items = 0;
    pages = 0;
    do {
      absl::StatusOr<PodList> page = pods.List("", o);
      if (!page.ok()) {
        state.SkipWithError(page.status().ToString().c_str());
        return;
      }
      items += page->items_size();
      ++pages;
      o.continue_token = page->metadata().continue_();
    } while (!o.continue_token.empty());
  }
  if (items != f.pods) state.SkipWithError("a page was lost");
  state.counters["pages"] = static_cast<double>(pages);
  state.SetItemsProcessed(state.iterations() * items);
}
BENCHMARK(BM_List100kAllPages500)
    ->ArgName("json")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// ---- memory per stored pod ----
// RSS growth of the whole process over N creates of realistic pods through HTTP,
// each followed by a status update (create resets the status, as upstream), so the
// stored pod has the realistic pod's status, managedFields and all. Includes the
// history (10,000 events by default) and managedFields the server adds.
void BM_MemoryPerPod(benchmark::State& state) {
  const int n = EnvInt("KSLICE_BENCH_MEMORY_PODS", 20000);
  double per_pod = 0, writes_per_s = 0;
  for (auto _ : state) {
    std::unique_ptr<EmbeddedServer> server = StartServer(10000, 1000);
    CreateNamespaces(*server);
    constexpr int kThreads = 4;
    std::vector<std::unique_ptr<RestClient>> clients;
    for (int t = 0; t < kThreads; ++t) clients.push_back(NewClient(*server, false));
    malloc_trim(0);
    const int64_t before = RssBytes();
    const absl::Time start = absl::Now();
    std::atomic<bool> failed{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        Typed<Pod, PodList> pods(*clients[static_cast<size_t>(t)]);
        for (int i = t; i < n && !failed.load(); i += kThreads) {
          Pod want = ValidPod(i);
          absl::StatusOr<Pod> created = pods.Create(want);
          if (!created.ok()) {
            std::fprintf(stderr, "create: %s\n", created.status().ToString().c_str());
            failed.store(true);
            return;
          }
          *created->mutable_status() = want.status();
          absl::StatusOr<Pod> updated = pods.UpdateStatus(*created);
          if (!updated.ok()) {
            std::fprintf(stderr, "status: %s\n", updated.status().ToString().c_str());
            failed.store(true);
            return;
          }
        }
      });
    }
    for (std::thread& t : threads) t.join();
    const double secs = absl::ToDoubleSeconds(absl::Now() - start);
    clients.clear();
    malloc_trim(0);
    if (failed.load()) {
      state.SkipWithError("a write failed");
      return;
    }
    per_pod = static_cast<double>(RssBytes() - before) / n;
    writes_per_s = 2.0 * n / secs;
  }
  state.counters["pods"] = n;
  state.counters["rss_bytes_per_pod"] = per_pod;
  state.counters["writes_per_s_4_clients"] = writes_per_s;
}
BENCHMARK(BM_MemoryPerPod)->Iterations(1)->Unit(benchmark::kSecond);

// ---- watch fan-out ----

// Counts whole events in a watch stream without decoding them: protobuf frames
// (4-byte big-endian length + payload) or JSON lines.
class FrameCounter {
 public:
  explicit FrameCounter(bool json) : json_(json) {}
  void Feed(absl::string_view data) {
    if (json_) {
      for (char ch : data) count_ += ch == '\n' ? 1 : 0;
      return;
    }
    size_t i = 0;
    while (i < data.size()) {
      if (remaining_ > 0) {
        const size_t take = std::min<size_t>(remaining_, data.size() - i);
        remaining_ -= take;
        i += take;
        if (remaining_ == 0) ++count_;
        continue;
      }
      length_ = (length_ << 8) | static_cast<unsigned char>(data[i++]);
      if (++header_bytes_ == 4) {
        remaining_ = length_;
        header_bytes_ = 0;
        length_ = 0;
        if (remaining_ == 0) ++count_;
      }
    }
  }
  int64_t count() const { return count_; }

 private:
  bool json_;
  int64_t count_ = 0;
  uint64_t length_ = 0;
  int header_bytes_ = 0;
  uint64_t remaining_ = 0;
};

// N watchers (raw transport streams, 8 transports = 8 client I/O threads) of pods in
// one namespace; `writes` creates of realistic pods by 2 writers. Time runs from the
// first write until the last watcher has counted its last event.
void BM_WatchFanout(benchmark::State& state) {
  const int watchers = static_cast<int>(state.range(0));
  const int writes = static_cast<int>(state.range(1));
  const bool json = state.range(2) != 0;
  double events_per_s = 0, seconds = 0;
  int ended_early = 0;
  for (auto _ : state) {
    // A queue deep enough that no watcher is closed as slow: this measures delivery.
    std::unique_ptr<EmbeddedServer> server =
        StartServer(static_cast<size_t>(writes) + 1000, static_cast<size_t>(writes) + 1000);
    CreateNamespaces(*server);
    std::unique_ptr<RestClient> admin = NewClient(*server, false);
    absl::StatusOr<PodList> empty = Typed<Pod, PodList>(*admin).List("bench");
    if (!empty.ok()) Die(empty.status().ToString());
    const std::string url =
        absl::StrCat(server->url(), "/api/v1/namespaces/bench/pods?watch=1&resourceVersion=",
                     empty->metadata().resourceversion());
    std::vector<std::unique_ptr<kslice::client::Transport>> transports;
    for (int i = 0; i < 8; ++i) {
      kslice::client::TransportOptions to;
      to.tls.ca_pem = server->ca_pem();
      absl::StatusOr<std::unique_ptr<kslice::client::Transport>> t =
          kslice::client::Transport::Create(to);
      if (!t.ok()) Die(t.status().ToString());
      transports.push_back(*std::move(t));
    }
    kslice::client::CancelToken cancel;
    std::atomic<int> done{0}, early{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < watchers; ++w) {
      threads.emplace_back([&, w] {
        kslice::client::Request req;
        req.url = url;
        req.headers = {{"Authorization", absl::StrCat("Bearer ", server->token())},
                       {"Accept", json ? kJson : kProtobuf}};
        FrameCounter counter(json);
        absl::StatusOr<kslice::client::Response> r =
            transports[static_cast<size_t>(w) % transports.size()]->Stream(
                req,
                [&](absl::string_view chunk) -> absl::Status {
                  counter.Feed(chunk);
                  if (counter.count() >= writes) return absl::CancelledError("done");
                  return absl::OkStatus();
                },
                &cancel);
        if (counter.count() < writes) early.fetch_add(1);
        done.fetch_add(1);
      });
    }
    while (server->http().active_watches() < watchers) absl::SleepFor(absl::Milliseconds(5));
    const absl::Time start = absl::Now();
    std::vector<std::thread> writers;
    for (int t = 0; t < 2; ++t) {
      writers.emplace_back([&, t] {
        std::unique_ptr<RestClient> c = NewClient(*server, false);
        Typed<Pod, PodList> pods(*c);
        for (int i = t; i < writes; i += 2) {
          if (!pods.Create(BenchPod(i, absl::StrCat("fan-", i))).ok()) Die("create failed");
        }
      });
    }
    for (std::thread& t : writers) t.join();
    for (std::thread& t : threads) t.join();
    seconds = absl::ToDoubleSeconds(absl::Now() - start);
    events_per_s = static_cast<double>(watchers) * writes / seconds;
    ended_early = early.load();
    state.SetIterationTime(seconds);
  }
  state.counters["events_per_s"] = events_per_s;
  state.counters["ended_early"] = ended_early;
}
BENCHMARK(BM_WatchFanout)
    ->ArgNames({"watchers", "writes", "json"})
    ->Args({1, 2000, 0})
    ->Args({10, 2000, 0})
    ->Args({100, 1000, 0})
    ->Args({500, 400, 0})
    ->Args({100, 1000, 1})
    ->Args({500, 400, 1})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
