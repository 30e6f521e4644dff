// Decode/encode of a Pod in protobuf, JSON and YAML.
//
// Two pods: upstream's round-trip fixture (every field of PodSpec/PodStatus filled,
// 13.6 KB of protobuf; read from $KSLICE_SHARED_DIR or ../shared, skipped if absent)
// and a realistic pod built here (3 containers, labels, annotations, conditions,
// managedFields), like those in a production cluster.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "api/codec/codec.h"
#include "api/core/v1/core.pb.h"
#include "bench/realistic_pod.h"

namespace {

using kslice::api::core::v1::Pod;
using kslice::codec::Format;

std::string FixturePod() {
  namespace fs = std::filesystem;
  std::string dir;
  if (const char* env = std::getenv("KSLICE_SHARED_DIR"); env != nullptr && *env) dir = env;
  if (dir.empty()) {
    // bazel run: the workspace is in BUILD_WORKSPACE_DIRECTORY.
    if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY"); ws != nullptr) {
      dir = std::string(ws) + "/../shared";
    }
  }
  std::ifstream in(fs::path(dir) / "testdata/k8s-api/HEAD/core.v1.Pod.pb", std::ios::binary);
  if (!in) return "";
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}


std::string Encoded(const Pod& pod, Format f) {
  kslice::codec::EncodeOptions o;
  auto s = kslice::codec::Encode(pod, f, o);
  return s.ok() ? *s : "";
}

void Decode(benchmark::State& state, const std::string& data, Format f) {
  if (data.empty()) {
    state.SkipWithError("fixture not found (set KSLICE_SHARED_DIR)");
    return;
  }
  size_t space = 0;
  for (auto _ : state) {
    auto pod = kslice::codec::DecodeAs<Pod>(data, f);
    benchmark::DoNotOptimize(pod);
    if (space == 0 && pod.ok()) space = pod->SpaceUsedLong();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
  state.counters["bytes"] = static_cast<double>(data.size());
  // Heap held by the decoded object (protobuf's SpaceUsedLong estimate).
  state.counters["object_bytes"] = static_cast<double>(space);
}

void Encode(benchmark::State& state, const std::string& data, Format f) {
  if (data.empty()) {
    state.SkipWithError("fixture not found (set KSLICE_SHARED_DIR)");
    return;
  }
  auto pod = kslice::codec::DecodeAs<Pod>(data, Format::kProtobuf);
  if (!pod.ok()) {
    state.SkipWithError("decode failed");
    return;
  }
  size_t size = 0;
  for (auto _ : state) {
    auto s = kslice::codec::Encode(*pod, f);
    size = s->size();
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
  state.counters["bytes"] = static_cast<double>(size);
}

const std::string& FixturePb() {
  static const std::string* s = new std::string(FixturePod());
  return *s;
}
const std::string& FixtureText(Format f) {
  static const std::string* json = new std::string(
      FixturePb().empty() ? "" : Encoded(*kslice::codec::DecodeAs<Pod>(FixturePb(), Format::kProtobuf), Format::kJson));
  static const std::string* yaml = new std::string(
      FixturePb().empty() ? "" : Encoded(*kslice::codec::DecodeAs<Pod>(FixturePb(), Format::kProtobuf), Format::kYaml));
  return f == Format::kJson ? *json : *yaml;
}
const std::string& Realistic(Format f) {
  static const Pod* pod = new Pod(kslice::bench::RealisticPod());
  static const std::string* pb = new std::string(Encoded(*pod, Format::kProtobuf));
  static const std::string* json = new std::string(Encoded(*pod, Format::kJson));
  static const std::string* yaml = new std::string(Encoded(*pod, Format::kYaml));
  return f == Format::kProtobuf ? *pb : f == Format::kJson ? *json : *yaml;
}

void BM_FixturePodDecodeProtobuf(benchmark::State& s) { Decode(s, FixturePb(), Format::kProtobuf); }
void BM_FixturePodEncodeProtobuf(benchmark::State& s) { Encode(s, FixturePb(), Format::kProtobuf); }
void BM_FixturePodDecodeJson(benchmark::State& s) { Decode(s, FixtureText(Format::kJson), Format::kJson); }
void BM_FixturePodEncodeJson(benchmark::State& s) { Encode(s, FixturePb(), Format::kJson); }
void BM_FixturePodDecodeYaml(benchmark::State& s) { Decode(s, FixtureText(Format::kYaml), Format::kYaml); }
void BM_RealisticPodDecodeProtobuf(benchmark::State& s) { Decode(s, Realistic(Format::kProtobuf), Format::kProtobuf); }
void BM_RealisticPodEncodeProtobuf(benchmark::State& s) { Encode(s, Realistic(Format::kProtobuf), Format::kProtobuf); }
void BM_RealisticPodDecodeJson(benchmark::State& s) { Decode(s, Realistic(Format::kJson), Format::kJson); }
void BM_RealisticPodEncodeJson(benchmark::State& s) { Encode(s, Realistic(Format::kProtobuf), Format::kJson); }

// A list of 10,000 realistic pods, as a client receives from a large namespace.
const std::string& PodList10k(Format f) {
  static const std::string* pb = nullptr;
  static const std::string* json = nullptr;
  if (pb == nullptr) {
    kslice::api::core::v1::PodList list;
    list.mutable_metadata()->set_resourceversion("123456");
    const Pod pod = kslice::bench::RealisticPod();
    for (int i = 0; i < 10000; ++i) {
      Pod* p = list.add_items();
      *p = pod;
      p->mutable_metadata()->set_name("pod-" + std::to_string(i));
    }
    pb = new std::string(*kslice::codec::Encode(list, Format::kProtobuf));
    json = new std::string(*kslice::codec::Encode(list, Format::kJson));
  }
  return f == Format::kProtobuf ? *pb : *json;
}

void DecodeList(benchmark::State& state, Format f) {
  const std::string& data = PodList10k(f);
  for (auto _ : state) {
    auto list = kslice::codec::DecodeAs<kslice::api::core::v1::PodList>(data, f);
    if (!list.ok() || list->items_size() != 10000) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(list);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
  state.counters["bytes"] = static_cast<double>(data.size());
  state.counters["pods_per_second"] =
      benchmark::Counter(10000.0 * state.iterations(), benchmark::Counter::kIsRate);
}
void BM_PodList10kDecodeProtobuf(benchmark::State& s) { DecodeList(s, Format::kProtobuf); }
void BM_PodList10kDecodeJson(benchmark::State& s) { DecodeList(s, Format::kJson); }
BENCHMARK(BM_PodList10kDecodeProtobuf)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PodList10kDecodeJson)->Unit(benchmark::kMillisecond);

BENCHMARK(BM_FixturePodDecodeProtobuf);
BENCHMARK(BM_FixturePodEncodeProtobuf);
BENCHMARK(BM_FixturePodDecodeJson);
BENCHMARK(BM_FixturePodEncodeJson);
BENCHMARK(BM_FixturePodDecodeYaml);
BENCHMARK(BM_RealisticPodDecodeProtobuf);
BENCHMARK(BM_RealisticPodEncodeProtobuf);
BENCHMARK(BM_RealisticPodDecodeJson);
BENCHMARK(BM_RealisticPodEncodeJson);

}  // namespace
