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
  for (const char* type : {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                           "PodScheduled"}) {
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
  static const Pod* pod = new Pod(RealisticPod());
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
    const Pod pod = RealisticPod();
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
