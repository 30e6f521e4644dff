// Label / field selector costs on the hot paths of a controller: parsing a selector
// once, then matching it against every object's labels (flat_hash_map and the
// protobuf map an object carries), and converting a metav1.LabelSelector.
#include <string>

#include "api/fields/selector.h"
#include "api/labels/meta_selector.h"
#include "api/labels/selector.h"
#include "api/meta/v1/meta.pb.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/map.h"

namespace {

constexpr char kTypical[] = "app=nginx,tier in (frontend,backend),!canary,env!=prod";

kslice::labels::LabelMap TenLabels() {
  return {
      {"app", "nginx"},
      {"tier", "frontend"},
      {"env", "staging"},
      {"team", "payments"},
      {"version", "v1.2.3"},
      {"region", "eu-west-1"},
      {"app.kubernetes.io/name", "nginx"},
      {"app.kubernetes.io/part-of", "shop"},
      {"app.kubernetes.io/managed-by", "kslice"},
      {"pod-template-hash", "5d8f7c9b6"},
  };
}

kslice::labels::Selector Typical() { return *kslice::labels::Parse(kTypical); }

void BM_LabelParse(benchmark::State& state) {
  for (auto _ : state) {
    auto s = kslice::labels::Parse(kTypical);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_LabelParse);

void BM_LabelString(benchmark::State& state) {
  const auto s = Typical();
  for (auto _ : state) benchmark::DoNotOptimize(s.String());
}
BENCHMARK(BM_LabelString);

void BM_LabelMatchHit(benchmark::State& state) {
  const auto s = Typical();
  const auto labels = TenLabels();
  if (!s.Matches(labels)) state.SkipWithError("expected a match");
  for (auto _ : state) benchmark::DoNotOptimize(s.Matches(labels));
}
BENCHMARK(BM_LabelMatchHit);

// Fails on the last requirement checked (tier), the most work a miss can take.
void BM_LabelMatchMiss(benchmark::State& state) {
  const auto s = Typical();
  auto labels = TenLabels();
  labels["tier"] = "database";
  if (s.Matches(labels)) state.SkipWithError("expected no match");
  for (auto _ : state) benchmark::DoNotOptimize(s.Matches(labels));
}
BENCHMARK(BM_LabelMatchMiss);

// Fails on the first requirement checked (app).
void BM_LabelMatchMissEarly(benchmark::State& state) {
  const auto s = Typical();
  auto labels = TenLabels();
  labels["app"] = "apache";
  if (s.Matches(labels)) state.SkipWithError("expected no match");
  for (auto _ : state) benchmark::DoNotOptimize(s.Matches(labels));
}
BENCHMARK(BM_LabelMatchMissEarly);

void BM_LabelMatchHitProtoMap(benchmark::State& state) {
  const auto s = Typical();
  google::protobuf::Map<std::string, std::string> labels;
  for (const auto& [k, v] : TenLabels()) labels[k] = v;
  if (!s.Matches(labels)) state.SkipWithError("expected a match");
  for (auto _ : state) benchmark::DoNotOptimize(s.Matches(labels));
}
BENCHMARK(BM_LabelMatchHitProtoMap);

void BM_FromLabelSelector(benchmark::State& state) {
  kslice::api::meta::v1::LabelSelector ls;
  (*ls.mutable_matchlabels())["app"] = "nginx";
  auto* tier = ls.add_matchexpressions();
  tier->set_key("tier");
  tier->set_operator_("In");
  tier->add_values("frontend");
  tier->add_values("backend");
  auto* canary = ls.add_matchexpressions();
  canary->set_key("canary");
  canary->set_operator_("DoesNotExist");
  auto* env = ls.add_matchexpressions();
  env->set_key("env");
  env->set_operator_("NotIn");
  env->add_values("prod");
  if (kslice::labels::FromLabelSelector(&ls)->String() !=
      "app=nginx,!canary,env notin (prod),tier in (backend,frontend)") {
    state.SkipWithError("unexpected conversion");
  }
  for (auto _ : state) {
    auto s = kslice::labels::FromLabelSelector(&ls);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_FromLabelSelector);

constexpr char kFieldSelector[] = "metadata.name=web-0,status.phase!=Succeeded,spec.nodeName=node-a";

void BM_FieldParse(benchmark::State& state) {
  for (auto _ : state) {
    auto s = kslice::fields::Parse(kFieldSelector);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_FieldParse);

void BM_FieldMatchAccessor(benchmark::State& state) {
  const auto s = *kslice::fields::Parse(kFieldSelector);
  const std::string name = "web-0", phase = "Running", node = "node-a";
  auto get = [&](std::string_view path) -> std::string_view {
    if (path == "metadata.name") return name;
    if (path == "status.phase") return phase;
    if (path == "spec.nodeName") return node;
    return {};
  };
  if (!s.Matches(get)) state.SkipWithError("expected a match");
  for (auto _ : state) benchmark::DoNotOptimize(s.Matches(get));
}
BENCHMARK(BM_FieldMatchAccessor);

}  // namespace
