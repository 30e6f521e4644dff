// Watch stream decoding: events per second from a stream of pod MODIFIED events, as
// an informer would read it from an API server, in 4 KiB reads.
//
// The pod is realistic (3 containers with ports, env, resources, probes and mounts;
// labels, annotations, an owner reference, managedFields, 5 conditions, 3 container
// statuses): about 2.8 KB as protobuf and 4.8 KB as JSON. The stream holds 64
// events whose resourceVersion and one status field change, like a busy pod.
//
//   bazel run -c opt //bench:watch_benchmark
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "api/core/v1/core.pb.h"
#include "bench/realistic_pod.h"
#include "client/watch/decoder.h"
#include "client/watch/encoder.h"

namespace {

using kslice::api::core::v1::Pod;
using kslice::client::watch::Decoder;
using kslice::client::watch::DecoderOptions;
using kslice::client::watch::Event;
using kslice::client::watch::EventType;

constexpr int kEvents = 64;
constexpr size_t kReadSize = 4096;


// kEvents MODIFIED events of the pod, each with a new resourceVersion and restart count.
std::string Stream(bool protobuf) {
  Pod pod = kslice::bench::RealisticPod();
  std::string out;
  for (int i = 0; i < kEvents; ++i) {
    pod.mutable_metadata()->set_resourceversion(std::to_string(187233412 + i));
    pod.mutable_status()->mutable_containerstatuses(0)->set_restartcount(i);
    auto e = protobuf ? kslice::client::watch::EncodeProtobufFrame(EventType::kModified, pod)
                      : kslice::client::watch::EncodeJsonEvent(EventType::kModified, pod);
    if (!e.ok()) return "";
    out += *e;
  }
  return out;
}

const std::string& JsonStream() {
  static const std::string* s = new std::string(Stream(false));
  return *s;
}
const std::string& ProtobufStream() {
  static const std::string* s = new std::string(Stream(true));
  return *s;
}

void DecodeStream(benchmark::State& state, const std::string& stream, bool protobuf,
                  DecoderOptions options) {
  if (stream.empty()) {
    state.SkipWithError("encoding the stream failed");
    return;
  }
  std::vector<Event> events;
  events.reserve(8);
  int64_t decoded = 0;
  for (auto _ : state) {
    std::unique_ptr<Decoder> d = protobuf ? kslice::client::watch::NewProtobufDecoder(options)
                                          : kslice::client::watch::NewJsonDecoder(options);
    for (size_t off = 0; off < stream.size(); off += kReadSize) {
      if (!d->Feed(absl::string_view(stream).substr(off, kReadSize), &events).ok()) {
        state.SkipWithError("decode failed");
        return;
      }
      decoded += static_cast<int64_t>(events.size());
      events.clear();  // hand the events off, as an informer would
    }
    if (!d->Finish().ok()) {
      state.SkipWithError("truncated");
      return;
    }
  }
  if (decoded != static_cast<int64_t>(state.iterations()) * kEvents) {
    state.SkipWithError("wrong event count");
    return;
  }
  state.SetItemsProcessed(decoded);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
  state.counters["event_bytes"] = static_cast<double>(stream.size()) / kEvents;
}

void BM_WatchDecodeJson(benchmark::State& state) { DecodeStream(state, JsonStream(), false, {}); }

void BM_WatchDecodeProtobuf(benchmark::State& state) {
  DecodeStream(state, ProtobufStream(), true, {});
}

// Custom-resource path: JSON into a Node tree, no typed decode.
void BM_WatchDecodeJsonDynamic(benchmark::State& state) {
  DecoderOptions options;
  options.mode = kslice::client::watch::ObjectMode::kDynamic;
  DecodeStream(state, JsonStream(), false, options);
}

// The server side: encoding one event.
void BM_WatchEncodeJsonEvent(benchmark::State& state) {
  const Pod pod = kslice::bench::RealisticPod();
  size_t size = 0;
  for (auto _ : state) {
    auto e = kslice::client::watch::EncodeJsonEvent(EventType::kModified, pod);
    size = e->size();
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

void BM_WatchEncodeProtobufFrame(benchmark::State& state) {
  const Pod pod = kslice::bench::RealisticPod();
  size_t size = 0;
  for (auto _ : state) {
    auto e = kslice::client::watch::EncodeProtobufFrame(EventType::kModified, pod);
    size = e->size();
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

BENCHMARK(BM_WatchDecodeJson);
BENCHMARK(BM_WatchDecodeProtobuf);
BENCHMARK(BM_WatchDecodeJsonDynamic);
BENCHMARK(BM_WatchEncodeJsonEvent);
BENCHMARK(BM_WatchEncodeProtobufFrame);

}  // namespace
