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

Pod RealisticPod() {
  Pod pod;
  auto* m = pod.mutable_metadata();
  m->set_name("checkout-7d9f8b6c5-x2x9k");
  m->set_generatename("checkout-7d9f8b6c5-");
  m->set_namespace_("shop");
  m->set_uid("6f1c1e7a-2f43-4c1b-9a55-0d6f1c2b7e11");
  m->set_resourceversion("187233412");
  m->mutable_creationtimestamp()->set_seconds(1760000000);
  (*m->mutable_labels())["app.kubernetes.io/name"] = "checkout";
  (*m->mutable_labels())["app.kubernetes.io/part-of"] = "shop";
  (*m->mutable_labels())["pod-template-hash"] = "7d9f8b6c5";
  (*m->mutable_labels())["tier"] = "backend";
  (*m->mutable_annotations())["prometheus.io/scrape"] = "true";
  (*m->mutable_annotations())["prometheus.io/port"] = "9090";
  auto* owner = m->add_ownerreferences();
  owner->set_apiversion("apps/v1");
  owner->set_kind("ReplicaSet");
  owner->set_name("checkout-7d9f8b6c5");
  owner->set_uid("0b1d2c3e-4f50-6172-8394-a5b6c7d8e9f0");
  owner->set_controller(true);
  owner->set_blockownerdeletion(true);
  auto* mf = m->add_managedfields();
  mf->set_manager("kube-controller-manager");
  mf->set_operation("Update");
  mf->set_apiversion("v1");
  mf->mutable_time()->set_seconds(1760000000);
  mf->set_fieldstype("FieldsV1");
  mf->mutable_fieldsv1()->set_raw(
      R"({"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app.kubernetes.io/name":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{}}}}})");
  auto* spec = pod.mutable_spec();
  spec->set_nodename("node-17.zone-b");
  spec->set_serviceaccountname("checkout");
  spec->set_restartpolicy("Always");
  spec->set_dnspolicy("ClusterFirst");
  spec->set_terminationgraceperiodseconds(30);
  for (const char* name : {"app", "sidecar-proxy", "log-shipper"}) {
    auto* c = spec->add_containers();
    c->set_name(name);
    c->set_image(std::string("registry.example.com/shop/") + name + ":v1.42.0");
    c->add_args("--config=/etc/" + std::string(name) + "/config.yaml");
    auto* port = c->add_ports();
    port->set_name("http");
    port->set_containerport(8080);
    port->set_protocol("TCP");
    auto* env = c->add_env();
    env->set_name("POD_NAME");
    env->mutable_valuefrom()->mutable_fieldref()->set_fieldpath("metadata.name");
    (*c->mutable_resources()->mutable_requests())["cpu"].set_string("250m");
    (*c->mutable_resources()->mutable_requests())["memory"].set_string("256Mi");
    (*c->mutable_resources()->mutable_limits())["memory"].set_string("512Mi");
    auto* vm = c->add_volumemounts();
    vm->set_name("kube-api-access");
    vm->set_mountpath("/var/run/secrets/kubernetes.io/serviceaccount");
    vm->set_readonly(true);
    auto* probe = c->mutable_readinessprobe();
    probe->mutable_handler()->mutable_httpget()->set_path("/healthz");
    probe->mutable_handler()->mutable_httpget()->mutable_port()->set_type(1);
    probe->mutable_handler()->mutable_httpget()->mutable_port()->set_strval("http");
    probe->set_periodseconds(10);
    c->set_terminationmessagepath("/dev/termination-log");
    c->set_imagepullpolicy("IfNotPresent");
  }
  auto* status = pod.mutable_status();
  status->set_phase("Running");
  status->set_hostip("10.0.17.4");
  status->set_podip("192.168.17.23");
  status->add_podips()->set_ip("192.168.17.23");
  status->mutable_starttime()->set_seconds(1760000001);
  status->set_qosclass("Burstable");
  for (const char* type :
       {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
    auto* cond = status->add_conditions();
    cond->set_type(type);
    cond->set_status("True");
    cond->mutable_lasttransitiontime()->set_seconds(1760000005);
  }
  for (const auto& c : spec->containers()) {
    auto* cs = status->add_containerstatuses();
    cs->set_name(c.name());
    cs->set_image(c.image());
    cs->set_imageid("registry.example.com/shop/app@sha256:0123456789abcdef0123456789abcdef");
    cs->set_containerid("containerd://0123456789abcdef0123456789abcdef0123456789abcdef");
    cs->set_ready(true);
    cs->set_started(true);
    cs->mutable_state()->mutable_running()->mutable_startedat()->set_seconds(1760000004);
  }
  return pod;
}

// kEvents MODIFIED events of the pod, each with a new resourceVersion and restart count.
std::string Stream(bool protobuf) {
  Pod pod = RealisticPod();
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
  const Pod pod = RealisticPod();
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
  const Pod pod = RealisticPod();
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
