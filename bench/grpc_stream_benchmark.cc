// The gRPC proxy state stream (proxy/grpc, docs/proxy-grpc.md): snapshot size and
// encode/decode time at 10k services x 10 endpoints, and one delta end to end (Sync ->
// every client has applied it) with 1 and 10 clients over a unix socket.
//
//   bazel run -c opt //bench:grpc_stream_benchmark
#include <stdlib.h>
#include <time.h>

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "proxy/backend.h"
#include "proxy/grpc/client.h"
#include "proxy/grpc/codec.h"
#include "proxy/grpc/grpc_backend.h"
#include "proxy/grpc/test_states.h"

namespace {

using kslice::proxy::ProxyState;
using kslice::proxy::SyncHint;
namespace pg = kslice::proxy::grpc;

const ProxyState& State10k() {
  static const ProxyState* s = new ProxyState(pg::testing::BigState(10000, 10));
  return *s;
}

// Building the snapshot messages from the model.
void BM_SnapshotBuild(benchmark::State& state) {
  const ProxyState& s = State10k();
  size_t bytes = 0, messages = 0;
  for (auto _ : state) {
    pg::UpdateMessages m = pg::EncodeSnapshot(s, "instance");
    messages = m.size();
    benchmark::DoNotOptimize(m);
  }
  for (const auto& m : pg::EncodeSnapshot(s, "instance")) bytes += m->ByteSizeLong();
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["messages"] = static_cast<double>(messages);
}
BENCHMARK(BM_SnapshotBuild)->Unit(benchmark::kMillisecond);

// Model -> wire bytes (build + serialize), what the server does once per snapshot.
void BM_SnapshotEncode(benchmark::State& state) {
  const ProxyState& s = State10k();
  for (auto _ : state) {
    size_t total = 0;
    for (const auto& m : pg::EncodeSnapshot(s, "instance")) total += m->SerializeAsString().size();
    benchmark::DoNotOptimize(total);
  }
}
BENCHMARK(BM_SnapshotEncode)->Unit(benchmark::kMillisecond);

// Wire bytes -> model (parse + StateReplica), what a client does.
void BM_SnapshotDecode(benchmark::State& state) {
  std::vector<std::string> wire;
  for (const auto& m : pg::EncodeSnapshot(State10k(), "instance")) {
    wire.push_back(m->SerializeAsString());
  }
  for (auto _ : state) {
    pg::StateReplica r;
    pg::v1::StateUpdate m;
    for (const std::string& w : wire) {
      m.ParseFromString(w);
      auto applied = r.Apply(m);
      if (!applied.ok()) state.SkipWithError("apply failed");
    }
    benchmark::DoNotOptimize(r.state());
  }
}
BENCHMARK(BM_SnapshotDecode)->Unit(benchmark::kMillisecond);

// Diff + encode of a one-endpoint change (the per-Sync cost on the proxy side).
void BM_DeltaBuildOneService(benchmark::State& state) {
  pg::testing::Churn churn(1);
  ProxyState s = State10k();
  int i = 0;
  for (auto _ : state) {
    SyncHint hint;
    ProxyState next = churn.FlipEndpoint(s, (i++ * 7919) % 10000, &hint);
    pg::StateDiff d = pg::Diff(s, next, pg::CandidatesFromHint(s, next, hint));
    benchmark::DoNotOptimize(pg::EncodeDelta(s, next, d, "instance"));
    s = std::move(next);
  }
}
BENCHMARK(BM_DeltaBuildOneService)->Unit(benchmark::kMicrosecond);

// Clients that report when they reach a version.
class Fleet {
 public:
  Fleet(const std::string& target, int n) : versions_(n, 0) {
    for (int i = 0; i < n; ++i) {
      auto c = pg::WatchClient::Create({.target = target});
      clients_.push_back(std::move(*c));
      threads_.emplace_back([this, i](std::stop_token st) {
        (void)clients_[i]->Run(st, [this, i](const ProxyState& s, const pg::AppliedUpdate&) {
          std::lock_guard<std::mutex> l(mu_);
          versions_[i] = s.version;
          cv_.notify_all();
        });
      });
    }
  }
  ~Fleet() {
    for (auto& t : threads_) t.request_stop();
  }
  void WaitAll(uint64_t version) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] {
      for (uint64_t v : versions_) {
        if (v < version) return false;
      }
      return true;
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint64_t> versions_;
  std::vector<std::unique_ptr<pg::WatchClient>> clients_;
  std::vector<std::jthread> threads_;
};

double ThreadCpuMicros() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

std::string SocketPath() {
  return absl::StrCat("/tmp/kslice-grpc-bench-", getpid(), ".sock");
}

std::unique_ptr<pg::GrpcBackend> Backend(const std::string& path) {
  pg::GrpcBackendOptions o;
  o.node_name = "node-a";
  o.server.listen = "unix:" + path;
  return std::move(*pg::GrpcBackend::Create(o));
}

// One service's endpoint flips: Sync on the proxy until every client applied it.
void BM_DeltaEndToEnd(benchmark::State& state) {
  const std::string path = SocketPath();
  std::unique_ptr<pg::GrpcBackend> b = Backend(path);
  const int services = static_cast<int>(state.range(1));
  ProxyState s = services == 10000 ? State10k() : pg::testing::BigState(services, 10);
  if (!b->Sync(s, SyncHint{}).ok()) state.SkipWithError("sync failed");
  Fleet fleet("unix:" + path, static_cast<int>(state.range(0)));
  fleet.WaitAll(s.version);  // snapshots delivered
  pg::testing::Churn churn(2);
  int i = 0;
  absl::Duration sync_total;
  double sync_cpu = 0;
  for (auto _ : state) {
    SyncHint hint;
    s = churn.FlipEndpoint(s, (i++ * 7919) % services, &hint);
    const absl::Time t0 = absl::Now();
    const double c0 = ThreadCpuMicros();
    (void)b->Sync(s, hint);
    sync_cpu += ThreadCpuMicros() - c0;
    sync_total += absl::Now() - t0;
    fleet.WaitAll(s.version);
  }
  state.counters["sync_us"] = absl::ToDoubleMicroseconds(sync_total) / state.iterations();
  state.counters["sync_cpu_us"] = sync_cpu / state.iterations();
}
BENCHMARK(BM_DeltaEndToEnd)
    ->Args({1, 100})
    ->Args({1, 10000})
    ->Args({10, 10000})
    ->ArgNames({"clients", "services"})
    ->Unit(benchmark::kMicrosecond)->UseRealTime();

// A new client: connect, receive and apply the whole 10k x 10 snapshot.
void BM_SnapshotEndToEnd(benchmark::State& state) {
  const std::string path = SocketPath();
  std::unique_ptr<pg::GrpcBackend> b = Backend(path);
  const ProxyState& s = State10k();
  if (!b->Sync(s, SyncHint{}).ok()) state.SkipWithError("sync failed");
  for (auto _ : state) {
    Fleet fleet("unix:" + path, 1);
    fleet.WaitAll(s.version);
  }
}
BENCHMARK(BM_SnapshotEndToEnd)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
