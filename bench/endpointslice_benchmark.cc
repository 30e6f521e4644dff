// The EndpointSlice reconciler (controller/endpointslice/reconciler.h): CPU time of one
// Reconcile for a service selecting N ready pods (bench/realistic_pod.h), with the
// in-memory writer counting API writes (MemoryWriter::set_count_only), metrics and a
// topology cache as in the controller.
//  - BM_ReconcileCreate/N: no existing slices: N/100 creates.
//  - BM_ReconcileUnchanged/N: the slices of a previous reconcile, nothing changed: no
//    writes.
//  - BM_ReconcileOneFlip/N: as above with one pod's readiness flipped: one update.
// Counters: writes and heap allocations (a counting operator new in this binary) per
// Reconcile.
//
//   bazel run -c opt //bench:endpointslice_benchmark
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/realistic_pod.h"
#include "controller/endpointslice/memory_writer.h"
#include "controller/endpointslice/metrics.h"
#include "controller/endpointslice/reconciler.h"
#include "controller/endpointslice/slice_tracker.h"
#include "controller/endpointslice/topologycache/topology_cache.h"
#include "controller/metrics/metrics.h"

// ---- Allocation counting ---------------------------------------------------------
// GCC pairs the replaced operator new/delete below with malloc/free after inlining and
// warns although they match.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<int64_t> g_allocs{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

using kslice::api::core::v1::Node;
using kslice::api::core::v1::Pod;
using kslice::api::core::v1::Service;
using kslice::api::discovery::v1::EndpointSlice;
namespace es = kslice::endpointslice;

void Die(const std::string& what) {
  std::fprintf(stderr, "endpointslice_benchmark: %s\n", what.c_str());
  std::abort();
}

Service BenchService() {
  Service svc;
  svc.mutable_metadata()->set_name("web");
  svc.mutable_metadata()->set_namespace_("bench");
  svc.mutable_metadata()->set_uid("svc-uid");
  (*svc.mutable_spec()->mutable_selector())["app"] = "web";
  svc.mutable_spec()->set_clusterip("10.96.0.10");
  svc.mutable_spec()->add_ipfamilies("IPv4");
  auto* port = svc.mutable_spec()->add_ports();
  port->set_name("http");
  port->set_protocol("TCP");
  port->set_port(80);
  port->mutable_targetport()->set_intval(8080);
  return svc;
}

Pod BenchPod(int i, bool ready) {
  Pod p = kslice::bench::RealisticPod(i);
  p.mutable_metadata()->set_namespace_("bench");
  p.mutable_status()->clear_podips();
  const std::string ip = absl::StrCat("10.", (i >> 16) & 255, ".", (i >> 8) & 255, ".", i & 255);
  p.mutable_status()->set_podip(ip);
  p.mutable_status()->add_podips()->set_ip(ip);
  bool found = false;
  for (auto& c : *p.mutable_status()->mutable_conditions()) {
    if (c.type() == "Ready") {
      c.set_status(ready ? "True" : "False");
      found = true;
    }
  }
  if (!found) {
    auto* c = p.mutable_status()->add_conditions();
    c->set_type("Ready");
    c->set_status(ready ? "True" : "False");
  }
  return p;
}

struct Env {
  Service svc = BenchService();
  std::vector<std::shared_ptr<const Pod>> pods;
  std::map<std::string, std::shared_ptr<const Node>> nodes;
  kslice::controller::metrics::Registry registry;
  std::unique_ptr<es::Metrics> metrics;
  es::SliceTracker tracker;
  es::topologycache::TopologyCache topology;
  es::MemoryWriter writer;

  explicit Env(int n) {
    auto m = es::Metrics::Create(registry, 100);
    if (!m.ok()) Die(m.status().ToString());
    metrics = *std::move(m);
    for (int i = 0; i < n; ++i) {
      pods.push_back(std::make_shared<const Pod>(BenchPod(i, true)));
      const std::string& node = pods.back()->spec().nodename();
      if (!nodes.contains(node)) {
        auto nd = std::make_shared<Node>();
        nd->mutable_metadata()->set_name(node);
        (*nd->mutable_metadata()->mutable_labels())["topology.kubernetes.io/zone"] =
            absl::StrCat("zone-", nodes.size() % 3);
        nodes[node] = nd;
      }
    }
  }

  es::Reconciler MakeReconciler(es::SliceWriter* w) {
    return es::Reconciler(
        w,
        [this](const std::string& name) -> absl::StatusOr<std::shared_ptr<const Node>> {
          auto it = nodes.find(name);
          if (it == nodes.end()) return absl::NotFoundError(name);
          return it->second;
        },
        &tracker, &topology, metrics.get(),
        [](const Service&, std::string_view, std::string_view, std::string_view) {},
        es::ReconcilerOptions{});
  }
};

const absl::Time kTrigger = absl::FromUnixSeconds(1784670565);

void Report(benchmark::State& state, const es::MemoryWriter& w, int64_t allocs) {
  const double iters = static_cast<double>(state.iterations());
  state.counters["creates"] = static_cast<double>(w.creates()) / iters;
  state.counters["updates"] = static_cast<double>(w.updates()) / iters;
  state.counters["deletes"] = static_cast<double>(w.deletes()) / iters;
  state.counters["allocs"] = static_cast<double>(allocs) / iters;
}

void BM_ReconcileCreate(benchmark::State& state) {
  Env env(static_cast<int>(state.range(0)));
  env.writer.set_count_only(true);
  es::Reconciler r = env.MakeReconciler(&env.writer);
  int64_t allocs = 0;
  for (auto _ : state) {
    int64_t before = g_allocs.load(std::memory_order_relaxed);
    absl::Status s = r.Reconcile(env.svc, env.pods, {}, kTrigger);
    allocs += g_allocs.load(std::memory_order_relaxed) - before;
    if (!s.ok()) Die(s.ToString());
    state.PauseTiming();
    env.tracker.DeleteService("bench", "web");  // count-only creates new uids each time
    state.ResumeTiming();
  }
  Report(state, env.writer, allocs);
}

// Existing slices from a first reconcile, then `flip` pods' readiness changed.
void RunUpdate(benchmark::State& state, bool flip) {
  Env env(static_cast<int>(state.range(0)));
  {
    es::Reconciler first = env.MakeReconciler(&env.writer);
    absl::Status s = first.Reconcile(env.svc, env.pods, {}, kTrigger);
    if (!s.ok()) Die(s.ToString());
  }
  std::vector<std::shared_ptr<const EndpointSlice>> existing = env.writer.SlicesOf("bench", "web");
  if (flip) env.pods[7] = std::make_shared<const Pod>(BenchPod(7, false));
  es::MemoryWriter counter;
  counter.set_count_only(true);
  es::Reconciler r = env.MakeReconciler(&counter);
  int64_t allocs = 0;
  for (auto _ : state) {
    int64_t before = g_allocs.load(std::memory_order_relaxed);
    absl::Status s = r.Reconcile(env.svc, env.pods, existing, kTrigger);
    allocs += g_allocs.load(std::memory_order_relaxed) - before;
    if (!s.ok()) Die(s.ToString());
  }
  Report(state, counter, allocs);
}

void BM_ReconcileUnchanged(benchmark::State& state) { RunUpdate(state, false); }
void BM_ReconcileOneFlip(benchmark::State& state) { RunUpdate(state, true); }

BENCHMARK(BM_ReconcileCreate)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ReconcileUnchanged)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ReconcileOneFlip)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace
