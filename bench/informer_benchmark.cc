// Informers (informers/) against the embedded API server over HTTPS: how fast events
// travel from the server into event handlers.
//  - BM_InformerInitialSync: a new informer lists 10,000 realistic pods (paged LIST, or
//    a streaming list with sendInitialEvents) and every handler OnAdd has run; per cache
//    representation (compact / decoded).
//  - BM_InformerLiveEvents: a synced informer; 5,000 pods created then deleted straight
//    in the server's store (no HTTP writes), timed until the handler saw all 10,000
//    events. The store's own write time is included (single writer).
//
//   bazel run -c opt //bench:informer_benchmark
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "api/codec/canonical.h"
#include "api/core/v1/core.pb.h"
#include "bench/realistic_pod.h"
#include "client/rest/client.h"
#include "envtest/apiserver/embedded.h"
#include "envtest/storage/store.h"
#include "informers/lister_watcher.h"
#include "informers/shared_informer.h"

namespace {

using kslice::api::core::v1::Namespace;
using kslice::api::core::v1::NamespaceList;
using kslice::api::core::v1::Pod;
using kslice::client::RestClient;
using kslice::client::Typed;
using kslice::envtest::apiserver::EmbeddedServer;
using kslice::envtest::apiserver::EmbeddedServerOptions;
using kslice::informers::CacheMode;
using kslice::informers::ObjectPtr;
using kslice::informers::ResourceEventHandlerFuncs;
using kslice::informers::RestListerWatcher;
using kslice::informers::SharedIndexInformer;
using kslice::informers::SharedInformerOptions;

constexpr int kPods = 10000;
constexpr int kLive = 5000;

void Die(const std::string& what) {
  std::fprintf(stderr, "informer_benchmark: %s\n", what.c_str());
  std::abort();
}

struct Fixture {
  std::unique_ptr<EmbeddedServer> server;
  std::unique_ptr<RestClient> client;
};

absl::Status CreatePod(kslice::envtest::storage::Store& store, int i) {
  auto pod = std::make_unique<Pod>(kslice::bench::RealisticPod(i, /*with_server_fields=*/true));
  pod->mutable_metadata()->clear_resourceversion();
  if (absl::Status s = kslice::codec::Canonicalize(pod.get()); !s.ok()) return s;
  return store.Create({"", "pods"}, std::move(pod), {.assume_canonical = true}).status();
}

Fixture& Server() {
  static Fixture* f = [] {
    auto* fx = new Fixture();
    EmbeddedServerOptions o;
    o.run_controllers = false;  // RealisticPod's owner does not exist (no GC)
    o.store.history_size = 4 * kPods;
    absl::StatusOr<std::unique_ptr<EmbeddedServer>> s = EmbeddedServer::Start(o);
    if (!s.ok()) Die(s.status().ToString());
    fx->server = *std::move(s);
    kslice::client::RestConfig config = fx->server->RestConfig();
    config.qps = 0;
    config.burst = 0;
    absl::StatusOr<std::unique_ptr<RestClient>> c = RestClient::Create(config);
    if (!c.ok()) Die(c.status().ToString());
    fx->client = *std::move(c);
    for (int i = 0; i < 20; ++i) {
      Namespace ns;
      ns.mutable_metadata()->set_name(absl::StrCat("shop-", i));
      if (!Typed<Namespace, NamespaceList>(*fx->client).Create(ns).ok()) Die("namespace");
    }
    kslice::envtest::storage::Store& store = fx->server->api().store();
    for (int i = 0; i < kPods; ++i) {
      if (!CreatePod(store, i).ok()) Die("create");
    }
    return fx;
  }();
  return *f;
}

std::unique_ptr<SharedIndexInformer> NewInformer(CacheMode mode, bool watch_list) {
  const kslice::client::ResourceInfo* pods = kslice::client::ResourceFor(Pod::descriptor());
  SharedInformerOptions o;
  o.name = "pods";
  o.cache_mode = mode;
  o.reflector.use_watch_list = watch_list;
  return std::make_unique<SharedIndexInformer>(
      std::make_unique<RestListerWatcher>(*Server().client, *pods), o);
}

void SpinUntil(const std::atomic<int>& n, int want) {
  while (n.load(std::memory_order_acquire) < want) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// args: compact (1) / decoded (0); streaming list (1) / paged LIST (0).
void BM_InformerInitialSync(benchmark::State& state) {
  Server();
  const CacheMode mode = state.range(0) != 0 ? CacheMode::kCompact : CacheMode::kDecoded;
  const bool watch_list = state.range(1) != 0;
  for (auto _ : state) {
    std::unique_ptr<SharedIndexInformer> informer = NewInformer(mode, watch_list);
    std::atomic<int> adds{0};
    if (!informer
             ->AddEventHandler(ResourceEventHandlerFuncs{
                 .add = [&](const ObjectPtr&, bool) { adds.fetch_add(1, std::memory_order_release); },
                 .update = nullptr,
                 .del = nullptr,
             })
             .ok()) {
      state.SkipWithError("handler");
      break;
    }
    std::jthread run([&](std::stop_token stop) { informer->Run(stop); });
    SpinUntil(adds, kPods);
    state.PauseTiming();
    run.request_stop();
    run.join();
    informer.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kPods);
}
BENCHMARK(BM_InformerInitialSync)
    ->ArgNames({"compact", "watchlist"})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Args({0, 0})
    ->Args({0, 1})
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_InformerLiveEvents(benchmark::State& state) {
  Fixture& fx = Server();
  const CacheMode mode = state.range(0) != 0 ? CacheMode::kCompact : CacheMode::kDecoded;
  std::unique_ptr<SharedIndexInformer> informer = NewInformer(mode, false);
  std::atomic<int> adds{0};
  std::atomic<int> deletes{0};
  if (!informer
           ->AddEventHandler(ResourceEventHandlerFuncs{
               .add = [&](const ObjectPtr&, bool) { adds.fetch_add(1, std::memory_order_release); },
               .update = nullptr,
               .del = [&](const kslice::informers::DeletedObject&) {
                 deletes.fetch_add(1, std::memory_order_release);
               },
           })
           .ok()) {
    state.SkipWithError("handler");
    return;
  }
  std::jthread run([&](std::stop_token stop) { informer->Run(stop); });
  SpinUntil(adds, kPods);
  kslice::envtest::storage::Store& store = fx.server->api().store();
  int base = 1000000 * (1 + static_cast<int>(state.range(0)));
  for (auto _ : state) {
    int adds_before = adds.load();
    int deletes_before = deletes.load();
    for (int i = 0; i < kLive; ++i) {
      if (!CreatePod(store, base + i).ok()) Die("create");
    }
    for (int i = 0; i < kLive; ++i) {
      Pod p = kslice::bench::RealisticPod(base + i, false);
      if (!store.Delete({"", "pods"}, p.metadata().namespace_(), p.metadata().name()).ok()) {
        Die("delete");
      }
    }
    SpinUntil(adds, adds_before + kLive);
    SpinUntil(deletes, deletes_before + kLive);
  }
  state.SetItemsProcessed(state.iterations() * 2 * kLive);
  run.request_stop();
}
BENCHMARK(BM_InformerLiveEvents)
    ->ArgName("compact")
    ->Arg(1)
    ->Arg(0)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The store writes alone (the share of BM_InformerLiveEvents that is the server's).
void BM_StoreWritesOnly(benchmark::State& state) {
  kslice::envtest::storage::Store& store = Server().server->api().store();
  int base = 3000000;
  for (auto _ : state) {
    for (int i = 0; i < kLive; ++i) {
      if (!CreatePod(store, base + i).ok()) Die("create");
    }
    for (int i = 0; i < kLive; ++i) {
      Pod p = kslice::bench::RealisticPod(base + i, false);
      if (!store.Delete({"", "pods"}, p.metadata().namespace_(), p.metadata().name()).ok()) {
        Die("delete");
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * 2 * kLive);
}
BENCHMARK(BM_StoreWritesOnly)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
