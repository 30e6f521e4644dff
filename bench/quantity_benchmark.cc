// resource.Quantity costs on a controller's hot paths: parsing what the API server
// sends, printing it back (the JSON codec does both per quantity field), comparing
// requests against limits, and summing requests.
#include <string>
#include <vector>

#include "api/resource/quantity.h"
#include "benchmark/benchmark.h"

namespace {

using kslice::resource::Format;
using kslice::resource::Quantity;

Quantity MustParse(const char* s) { return *Quantity::Parse(s); }

// Parse, then String(): what CanonicalString() does.
void BM_ParseString(benchmark::State& state, const char* input) {
  for (auto _ : state) {
    Quantity q = *Quantity::Parse(input);
    std::string s = q.String();
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK_CAPTURE(BM_ParseString, 500m, "500m");
BENCHMARK_CAPTURE(BM_ParseString, 64Mi, "64Mi");
BENCHMARK_CAPTURE(BM_ParseString, 1_5, "1.5");
BENCHMARK_CAPTURE(BM_ParseString, 129e6, "129e6");
BENCHMARK_CAPTURE(BM_ParseString, 1024Mi, "1024Mi");
BENCHMARK_CAPTURE(BM_ParseString, 20_digits, "12345678901234567890");

void BM_Parse(benchmark::State& state, const char* input) {
  for (auto _ : state) {
    auto q = Quantity::Parse(input);
    benchmark::DoNotOptimize(q);
  }
}
BENCHMARK_CAPTURE(BM_Parse, 500m, "500m");
BENCHMARK_CAPTURE(BM_Parse, 1_5, "1.5");

// Printing a computed value (no parsed text to return).
void BM_Canonical(benchmark::State& state, const char* input) {
  const Quantity q = MustParse(input);
  for (auto _ : state) {
    std::string s = q.Canonical();
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK_CAPTURE(BM_Canonical, 500m, "500m");
BENCHMARK_CAPTURE(BM_Canonical, 64Mi, "64Mi");
BENCHMARK_CAPTURE(BM_Canonical, 1_5, "1.5");
BENCHMARK_CAPTURE(BM_Canonical, 129e6, "129e6");

void BM_Compare(benchmark::State& state, const char* a, const char* b) {
  const Quantity x = MustParse(a);
  const Quantity y = MustParse(b);
  for (auto _ : state) {
    int c = x.Compare(y);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK_CAPTURE(BM_Compare, same_scale, "500m", "250m");
BENCHMARK_CAPTURE(BM_Compare, cross_scale, "1.5", "64Mi");
BENCHMARK_CAPTURE(BM_Compare, beyond_int64, "12345678901234567890", "1e19");

// Summing the CPU requests of 100 containers.
void BM_AddSum(benchmark::State& state) {
  std::vector<Quantity> parts;
  for (int i = 0; i < 100; ++i) parts.push_back(Quantity::FromMilli(100 + i * 7, Format::kDecimalSI));
  for (auto _ : state) {
    Quantity total;
    for (const Quantity& p : parts) total.Add(p);
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(parts.size()));
}
BENCHMARK(BM_AddSum);

}  // namespace
