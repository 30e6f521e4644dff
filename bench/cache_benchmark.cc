// The informer cache (informers/cache): memory per cached pod in both representations,
// with and without a transform, the representation options measured before choosing
// (decoded, arena-decoded, serialized, gzip-compressed), and the cost of Get/List/ByIndex.
// Results and the choice: docs/informers.md "Cache representation", docs/benchmarks.md.
//
//   bazel run -c opt //bench:cache_benchmark
//   bazel run -c opt //bench:cache_benchmark -- --benchmark_filter=Memory
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "bench/realistic_pod.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/io/gzip_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "informers/cache/indexer.h"

namespace {

using kslice::api::core::v1::Pod;
using kslice::informers::CacheMode;
using kslice::informers::Indexer;
using kslice::informers::Indexers;
using kslice::informers::kNamespaceIndex;
using kslice::informers::NamespaceIndexFunc;
using kslice::informers::ObjectPtr;

constexpr int kPods = 100000;

int64_t RssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

int64_t LiveHeapBytes() {
  struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

// The transform an informer would install to save memory (client-go's
// TransformStripManagedFields plus annotations).
void Strip(Pod* pod) {
  pod->mutable_metadata()->clear_managedfields();
  pod->mutable_metadata()->clear_annotations();
}

// What a reflector hands the cache: a freshly decoded pod, shared.
ObjectPtr DecodedPod(int i, bool transform) {
  auto pod = std::make_shared<Pod>(kslice::bench::RealisticPod(i));
  if (transform) Strip(pod.get());
  return pod;
}

Indexers DefaultIndexers() { return {{kNamespaceIndex, NamespaceIndexFunc}}; }

std::string KeyOfPod(int i) { return absl::StrCat("shop-", i % 20, "/checkout-7d9f8b6c5-", i); }

// ---- memory per pod ----

void BM_MemoryPerPod(benchmark::State& state) {
  const auto mode = static_cast<CacheMode>(state.range(0));
  const bool transform = state.range(1) != 0;
  int64_t live = 0, rss = 0, live_after_list = 0, rss_after_list = 0, live_held = 0;
  for (auto _ : state) {
    malloc_trim(0);
    const int64_t live_before = LiveHeapBytes();
    const int64_t rss_before = RssBytes();
    {
      Indexer store(DefaultIndexers(), mode);
      for (int i = 0; i < kPods; ++i) store.Add(DecodedPod(i, transform));
      malloc_trim(0);
      live = LiveHeapBytes() - live_before;
      rss = RssBytes() - rss_before;
      // A full List decodes (compact) everything; holding it costs the decoded form too.
      // Once dropped, what stays is the bookkeeping of the forgotten decodes.
      {
        std::vector<ObjectPtr> all = store.List();
        live_held = LiveHeapBytes() - live_before;
      }
      malloc_trim(0);
      live_after_list = LiveHeapBytes() - live_before;
      rss_after_list = RssBytes() - rss_before;
    }
  }
  state.counters["live_B_per_pod"] = static_cast<double>(live) / kPods;
  state.counters["rss_B_per_pod"] = static_cast<double>(rss) / kPods;
  state.counters["live_B_per_pod_holding_list"] = static_cast<double>(live_held) / kPods;
  state.counters["live_B_per_pod_after_list"] = static_cast<double>(live_after_list) / kPods;
  state.counters["rss_B_per_pod_after_list"] = static_cast<double>(rss_after_list) / kPods;
}
BENCHMARK(BM_MemoryPerPod)
    ->ArgNames({"compact", "transform"})
    ->Args({static_cast<int>(CacheMode::kCompact), 0})
    ->Args({static_cast<int>(CacheMode::kCompact), 1})
    ->Args({static_cast<int>(CacheMode::kDecoded), 0})
    ->Args({static_cast<int>(CacheMode::kDecoded), 1})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// ---- representation options (one pod): size and decode cost ----

// Decoded message: heap bytes (protobuf's SpaceUsedLong) and the copy cost.
void BM_OptionDecodedCopy(benchmark::State& state) {
  const Pod pod = kslice::bench::RealisticPod(1);
  for (auto _ : state) {
    auto copy = std::make_shared<Pod>(pod);
    benchmark::DoNotOptimize(copy.get());
  }
  state.counters["bytes"] = static_cast<double>(pod.SpaceUsedLong());
}
BENCHMARK(BM_OptionDecodedCopy);

// Serialized bytes: size and the decode (parse) cost paid by Get/List in compact mode.
void BM_OptionSerializedParse(benchmark::State& state) {
  const std::string bytes = kslice::bench::RealisticPod(1).SerializeAsString();
  for (auto _ : state) {
    auto pod = std::make_unique<Pod>();
    if (!pod->ParseFromString(bytes)) state.SkipWithError("parse");
    benchmark::DoNotOptimize(pod.get());
  }
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_OptionSerializedParse);

void BM_OptionSerialize(benchmark::State& state) {
  const Pod pod = kslice::bench::RealisticPod(1);
  for (auto _ : state) {
    std::string bytes;
    pod.SerializeToString(&bytes);
    benchmark::DoNotOptimize(bytes.data());
  }
}
BENCHMARK(BM_OptionSerialize);

// Arena-allocated decoded message: bytes the arena holds and the parse cost. Arg: the
// first block's size (0: 6x the serialized size, what the compact cache uses).
void BM_OptionArenaParse(benchmark::State& state) {
  const std::string bytes = kslice::bench::RealisticPod(1).SerializeAsString();
  int64_t arena_bytes = 0;
  for (auto _ : state) {
    google::protobuf::ArenaOptions options;
    options.start_block_size =
        state.range(0) > 0 ? static_cast<size_t>(state.range(0)) : bytes.size() * 6;
    options.max_block_size = 64 << 10;
    google::protobuf::Arena arena(options);
    Pod* pod = google::protobuf::Arena::CreateMessage<Pod>(&arena);
    if (!pod->ParseFromString(bytes)) state.SkipWithError("parse");
    arena_bytes = static_cast<int64_t>(arena.SpaceAllocated());
    benchmark::DoNotOptimize(pod);
  }
  state.counters["bytes"] = static_cast<double>(arena_bytes);
}
BENCHMARK(BM_OptionArenaParse)->ArgName("first_block")->Arg(256)->Arg(0);

std::string Gzip(const std::string& in) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream sink(&out);
    google::protobuf::io::GzipOutputStream::Options o;
    o.format = google::protobuf::io::GzipOutputStream::ZLIB;
    google::protobuf::io::GzipOutputStream gz(&sink, o);
    void* data;
    int size;
    size_t done = 0;
    while (done < in.size() && gz.Next(&data, &size)) {
      const size_t n = std::min(static_cast<size_t>(size), in.size() - done);
      std::memcpy(data, in.data() + done, n);
      done += n;
      if (n < static_cast<size_t>(size)) gz.BackUp(size - static_cast<int>(n));
    }
    gz.Close();
  }
  return out;
}

// zlib-compressed serialized bytes: size and the inflate + parse cost.
void BM_OptionZlibParse(benchmark::State& state) {
  const std::string bytes = kslice::bench::RealisticPod(1).SerializeAsString();
  const std::string packed = Gzip(bytes);
  for (auto _ : state) {
    google::protobuf::io::ArrayInputStream raw(packed.data(), static_cast<int>(packed.size()));
    google::protobuf::io::GzipInputStream gz(&raw, google::protobuf::io::GzipInputStream::ZLIB);
    auto pod = std::make_unique<Pod>();
    if (!pod->ParseFromZeroCopyStream(&gz)) state.SkipWithError("parse");
    benchmark::DoNotOptimize(pod.get());
  }
  state.counters["bytes"] = static_cast<double>(packed.size());
}
BENCHMARK(BM_OptionZlibParse);

// ---- read cost on a 100k-pod cache ----

Indexer& Filled(CacheMode mode) {
  static Indexer* stores[2] = {nullptr, nullptr};
  Indexer*& s = stores[static_cast<int>(mode)];
  if (s == nullptr) {
    s = new Indexer(DefaultIndexers(), mode);
    for (int i = 0; i < kPods; ++i) s->Add(DecodedPod(i, false));
  }
  return *s;
}

// Get of a pod nobody holds (compact: a decode each time).
void BM_Get(benchmark::State& state) {
  Indexer& store = Filled(static_cast<CacheMode>(state.range(0)));
  std::vector<std::string> keys;
  for (int i = 0; i < 1024; ++i) keys.push_back(KeyOfPod((i * 7919) % kPods));
  size_t n = 0;
  for (auto _ : state) {
    ObjectPtr p = store.Get(keys[n++ & 1023]);
    if (p == nullptr) state.SkipWithError("missing");
    benchmark::DoNotOptimize(p.get());
  }
}
BENCHMARK(BM_Get)->ArgName("compact")->Arg(static_cast<int>(CacheMode::kDecoded))->Arg(static_cast<int>(CacheMode::kCompact));

// Get of a pod somebody else holds (compact: the remembered instance, no decode).
void BM_GetHeld(benchmark::State& state) {
  Indexer& store = Filled(static_cast<CacheMode>(state.range(0)));
  const std::string key = KeyOfPod(42);
  ObjectPtr held = store.Get(key);
  for (auto _ : state) {
    ObjectPtr p = store.Get(key);
    benchmark::DoNotOptimize(p.get());
  }
}
BENCHMARK(BM_GetHeld)->ArgName("compact")->Arg(static_cast<int>(CacheMode::kDecoded))->Arg(static_cast<int>(CacheMode::kCompact));

void BM_List100k(benchmark::State& state) {
  Indexer& store = Filled(static_cast<CacheMode>(state.range(0)));
  for (auto _ : state) {
    std::vector<ObjectPtr> all = store.List();
    if (all.size() != static_cast<size_t>(kPods)) state.SkipWithError("size");
  }
  state.SetItemsProcessed(state.iterations() * kPods);
}
BENCHMARK(BM_List100k)->ArgName("compact")->Arg(static_cast<int>(CacheMode::kDecoded))->Arg(static_cast<int>(CacheMode::kCompact))->Unit(benchmark::kMillisecond);

// One namespace: 5,000 of the 100k pods.
void BM_ByIndexNamespace(benchmark::State& state) {
  Indexer& store = Filled(static_cast<CacheMode>(state.range(0)));
  for (auto _ : state) {
    auto pods = store.ByIndex(kNamespaceIndex, "shop-3");
    if (!pods.ok() || pods->size() != kPods / 20) state.SkipWithError("size");
  }
  state.SetItemsProcessed(state.iterations() * (kPods / 20));
}
BENCHMARK(BM_ByIndexNamespace)->ArgName("compact")->Arg(static_cast<int>(CacheMode::kDecoded))->Arg(static_cast<int>(CacheMode::kCompact))->Unit(benchmark::kMillisecond);

void BM_IndexKeysNamespace(benchmark::State& state) {
  Indexer& store = Filled(static_cast<CacheMode>(state.range(0)));
  for (auto _ : state) {
    auto keys = store.IndexKeys(kNamespaceIndex, "shop-3");
    if (!keys.ok() || keys->size() != kPods / 20) state.SkipWithError("size");
  }
}
BENCHMARK(BM_IndexKeysNamespace)->ArgName("compact")->Arg(static_cast<int>(CacheMode::kDecoded))->Arg(static_cast<int>(CacheMode::kCompact))->Unit(benchmark::kMicrosecond);

// Update of an existing key with a fresh object (compact: a serialize per write).
void BM_Update(benchmark::State& state) {
  Indexer& store = Filled(static_cast<CacheMode>(state.range(0)));
  std::vector<ObjectPtr> pods;
  for (int i = 0; i < 256; ++i) pods.push_back(DecodedPod(i * 13, false));
  size_t n = 0;
  for (auto _ : state) store.Update(pods[n++ & 255]);
}
BENCHMARK(BM_Update)->ArgName("compact")->Arg(static_cast<int>(CacheMode::kDecoded))->Arg(static_cast<int>(CacheMode::kCompact));

}  // namespace
