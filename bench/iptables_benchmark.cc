// iptables backend: ruleset generation for 10,000 services x 10 endpoints, full and
// partial (docs/proxy.md, "iptables backend"). Target: a full 10k x 10 payload in
// <= 0.3 s.
//
//   bazel run -c opt //bench:iptables_benchmark
#include <algorithm>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/proxy_state_fixture.h"
#include "benchmark/benchmark.h"
#include "proxy/iptables/ruleset.h"
#include "proxy/types.h"

namespace {

using kslice::proxy::ProxyState;
using kslice::proxy::ServicePortName;
using kslice::proxy::iptables::GenerateRequest;
using kslice::proxy::iptables::LocalTrafficDetector;
using kslice::proxy::iptables::Ruleset;
using kslice::proxy::iptables::RulesetConfig;
using kslice::proxy::iptables::RulesetGenerator;

constexpr int kEndpointsPerService = 10;

ProxyState MakeState(int services) {
  return kslice::bench::MakeProxyState(services, kEndpointsPerService);
}

std::unique_ptr<RulesetGenerator> NewGenerator() {
  RulesetConfig c;
  c.local_detector = LocalTrafficDetector::ClusterCIDR("10.0.0.0/8");
  return *RulesetGenerator::Create(c);
}

// A full sync's payload. The first iteration also fills the generator's chain-name
// cache (a fresh generator pays the sha256 of every chain once); BM_GenerateFullCold
// measures that case.
void BM_GenerateFull(benchmark::State& state) {
  ProxyState s = MakeState(static_cast<int>(state.range(0)));
  std::unique_ptr<RulesetGenerator> g = NewGenerator();
  size_t bytes = 0, lines = 0;
  for (auto _ : state) {
    Ruleset r = g->Generate(s, GenerateRequest{});
    bytes = r.payload.size();
    lines = r.filter_chain_lines + r.filter_rule_lines + r.nat_chain_lines + r.nat_rule_lines;
    benchmark::DoNotOptimize(r.payload.data());
  }
  state.counters["payload_bytes"] = static_cast<double>(bytes);
  state.counters["payload_lines"] = static_cast<double>(lines);
}
BENCHMARK(BM_GenerateFull)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// A full sync by a new generator: includes hashing every chain name.
void BM_GenerateFullCold(benchmark::State& state) {
  ProxyState s = MakeState(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::unique_ptr<RulesetGenerator> g = NewGenerator();
    Ruleset r = g->Generate(s, GenerateRequest{});
    bytes = r.payload.size();
    benchmark::DoNotOptimize(r.payload.data());
  }
  state.counters["payload_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_GenerateFullCold)->Arg(10000)->Unit(benchmark::kMillisecond);

// A partial sync of one service among 10,000, as IptablesBackend does it: KUBE-SERVICES,
// KUBE-NODEPORTS and the filter table are rewritten, plus that service's chains; stale
// chains are found from the generator's previous call (existing_nat_chains null).
void BM_GeneratePartialOneService(benchmark::State& state) {
  ProxyState s = MakeState(static_cast<int>(state.range(0)));
  std::unique_ptr<RulesetGenerator> g = NewGenerator();
  g->Generate(s, GenerateRequest{});
  std::set<std::string> changed = {"ns7/svc7"};
  GenerateRequest req;
  req.full = false;
  req.changed_services = &changed;
  size_t bytes = 0;
  for (auto _ : state) {
    Ruleset r = g->Generate(s, req);
    bytes = r.payload.size();
    benchmark::DoNotOptimize(r.payload.data());
  }
  state.counters["payload_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_GeneratePartialOneService)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
