// The REST client (client/rest/client.h) against the embedded API server over HTTPS:
// a list of 10,000 realistic pods decoded (protobuf vs JSON), watch events decoded
// from a stream, and small GETs over one keep-alive connection. Each decoded figure
// has a raw counterpart (the same bytes fetched without decoding) so the client's
// share can be told from the server's.
//
//   bazel run -c opt //bench:client_benchmark
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "api/codec/canonical.h"
#include "api/core/v1/core.pb.h"
#include "bench/realistic_pod.h"
#include "client/rest/client.h"
#include "client/transport/transport.h"
#include "client/watch/event.h"
#include "envtest/apiserver/embedded.h"
#include "envtest/storage/store.h"

namespace {

using kslice::api::core::v1::ConfigMap;
using kslice::api::core::v1::ConfigMapList;
using kslice::api::core::v1::Namespace;
using kslice::api::core::v1::NamespaceList;
using kslice::api::core::v1::Pod;
using kslice::api::core::v1::PodList;
using kslice::client::RestClient;
using kslice::client::Typed;
using kslice::envtest::apiserver::EmbeddedServer;
using kslice::envtest::apiserver::EmbeddedServerOptions;

constexpr int kPods = 10000;
constexpr char kProtobuf[] = "application/vnd.kubernetes.protobuf";
constexpr char kJson[] = "application/json";

void Die(const std::string& what) {
  std::fprintf(stderr, "client_benchmark: %s\n", what.c_str());
  std::abort();
}

std::unique_ptr<RestClient> NewClient(EmbeddedServer& server, bool json) {
  kslice::client::RestConfig config = server.RestConfig();
  config.qps = 0;  // no client-side rate limit
  config.burst = 0;
  kslice::client::ClientOptions o;
  o.prefer_json = json;
  absl::StatusOr<std::unique_ptr<RestClient>> c = RestClient::Create(config, o);
  if (!c.ok()) Die(c.status().ToString());
  return *std::move(c);
}

// A server holding 10,000 realistic pods (20 namespaces) and one small configmap.
// The pods go into the store directly; their 10,000 ADDED events stay in the
// history, so a watch from `before_pods_rv` replays them.
struct Fixture {
  std::unique_ptr<EmbeddedServer> server;
  std::string before_pods_rv;
};

Fixture& Server() {
  static Fixture* f = [] {
    auto* fx = new Fixture();
    EmbeddedServerOptions o;
    // Off: RealisticPod's owner (a ReplicaSet) does not exist, so the garbage
    // collector would delete every pod.
    o.run_controllers = false;
    o.store.history_size = 2 * kPods;
    absl::StatusOr<std::unique_ptr<EmbeddedServer>> s = EmbeddedServer::Start(o);
    if (!s.ok()) Die(s.status().ToString());
    fx->server = *std::move(s);
    std::unique_ptr<RestClient> c = NewClient(*fx->server, false);
    for (int i = -1; i < 20; ++i) {
      Namespace ns;
      ns.mutable_metadata()->set_name(i < 0 ? std::string("bench") : absl::StrCat("shop-", i));
      if (!Typed<Namespace, NamespaceList>(*c).Create(ns).ok()) Die("namespace");
    }
    ConfigMap cm;
    cm.mutable_metadata()->set_namespace_("bench");
    cm.mutable_metadata()->set_name("small");
    (*cm.mutable_data())["key"] = "value";
    if (!Typed<ConfigMap, ConfigMapList>(*c).Create(cm).ok()) Die("configmap");
    absl::StatusOr<PodList> none = Typed<Pod, PodList>(*c).List("");
    if (!none.ok()) Die(none.status().ToString());
    fx->before_pods_rv = none->metadata().resourceversion();
    kslice::envtest::storage::Store& store = fx->server->api().store();
    for (int i = 0; i < kPods; ++i) {
      auto pod = std::make_unique<Pod>(kslice::bench::RealisticPod(i, /*with_server_fields=*/true));
      pod->mutable_metadata()->clear_resourceversion();
      if (!kslice::codec::Canonicalize(pod.get()).ok()) Die("canonicalize");
      if (!store.Create({"", "pods"}, std::move(pod), {.assume_canonical = true}).ok()) {
        Die("create");
      }
    }
    return fx;
  }();
  return *f;
}

// ---- list of 10,000 pods ----

void BM_ListPods10kDecoded(benchmark::State& state) {
  std::unique_ptr<RestClient> c = NewClient(*Server().server, state.range(0) != 0);
  Typed<Pod, PodList> pods(*c);
  for (auto _ : state) {
    absl::StatusOr<PodList> list = pods.List("");
    if (!list.ok() || list->items_size() != kPods) {
      state.SkipWithError(list.ok() ? "wrong item count" : list.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kPods);
}
BENCHMARK(BM_ListPods10kDecoded)
    ->ArgName("json")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The same request, the answer read but not decoded.
void BM_ListPods10kRaw(benchmark::State& state) {
  const bool json = state.range(0) != 0;
  std::unique_ptr<RestClient> c = NewClient(*Server().server, json);
  size_t bytes = 0;
  for (auto _ : state) {
    absl::StatusOr<kslice::client::Response> r =
        c->Send("GET", "/api/v1/pods", "", "", nullptr, "", json ? kJson : kProtobuf);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    bytes = r->body.size();
  }
  state.counters["body_MB"] = static_cast<double>(bytes) / 1e6;
  state.SetItemsProcessed(state.iterations() * kPods);
}
BENCHMARK(BM_ListPods10kRaw)
    ->ArgName("json")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// ---- watch: 10,000 ADDED events replayed from the history ----

void BM_WatchDecoded(benchmark::State& state) {
  Fixture& f = Server();
  std::unique_ptr<RestClient> c = NewClient(*f.server, state.range(0) != 0);
  const kslice::client::ResourceInfo& pods = *kslice::client::ResourceFor(Pod::descriptor());
  for (auto _ : state) {
    int64_t n = 0;
    kslice::client::ListOptions o;
    o.resource_version = f.before_pods_rv;
    absl::Status s = c->Watch(pods, "", o, [&](kslice::client::watch::Event e) -> absl::Status {
      if (e.type != kslice::client::watch::EventType::kAdded) {
        return absl::InternalError("unexpected event type");
      }
      benchmark::DoNotOptimize(e.object.get());
      return ++n == kPods ? absl::CancelledError("done") : absl::OkStatus();
    });
    if (n != kPods) {
      state.SkipWithError(absl::StrCat("got ", n, " events: ", s.ToString()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kPods);
}
BENCHMARK(BM_WatchDecoded)
    ->ArgName("json")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The same stream read by the bare transport (bytes only), until as many bytes as
// the decoded run needs have arrived: the server's and transport's share.
void BM_WatchRaw(benchmark::State& state) {
  Fixture& f = Server();
  const bool json = state.range(0) != 0;
  kslice::client::TransportOptions to;
  to.tls.ca_pem = f.server->ca_pem();
  absl::StatusOr<std::unique_ptr<kslice::client::Transport>> t =
      kslice::client::Transport::Create(to);
  if (!t.ok()) Die(t.status().ToString());
  kslice::client::Request req;
  req.url =
      absl::StrCat(f.server->url(), "/api/v1/pods?watch=1&resourceVersion=", f.before_pods_rv);
  req.headers = {{"Authorization", absl::StrCat("Bearer ", f.server->token())},
                 {"Accept", json ? kJson : kProtobuf}};
  // Events are counted by their frames: JSON lines, or 4-byte length prefixes.
  for (auto _ : state) {
    int64_t n = 0;
    std::string pending;
    absl::StatusOr<kslice::client::Response> r = (*t)->Stream(req, [&](absl::string_view chunk) {
      pending.append(chunk.data(), chunk.size());
      size_t at = 0;
      while (true) {
        if (json) {
          const size_t nl = pending.find('\n', at);
          if (nl == std::string::npos) break;
          at = nl + 1;
        } else {
          if (pending.size() - at < 4) break;
          const auto* p = reinterpret_cast<const unsigned char*>(pending.data() + at);
          const size_t len =
              (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
          if (pending.size() - at - 4 < len) break;
          at += 4 + len;
        }
        ++n;
      }
      pending.erase(0, at);
      return n >= kPods ? absl::CancelledError("done") : absl::OkStatus();
    });
    if (n < kPods) {
      state.SkipWithError(absl::StrCat("got ", n, " events").c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kPods);
}
BENCHMARK(BM_WatchRaw)
    ->ArgName("json")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// ---- small GETs over one keep-alive connection ----

void BM_SmallGet(benchmark::State& state) {
  std::unique_ptr<RestClient> c = NewClient(*Server().server, state.range(0) != 0);
  Typed<ConfigMap, ConfigMapList> cms(*c);
  for (auto _ : state) {
    absl::StatusOr<ConfigMap> cm = cms.Get("bench", "small");
    if (!cm.ok()) {
      state.SkipWithError(cm.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SmallGet)
    ->ArgName("json")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// The bare transport: shows the connection is reused (connections = 1).
void BM_SmallGetTransport(benchmark::State& state) {
  Fixture& f = Server();
  kslice::client::TransportOptions to;
  to.tls.ca_pem = f.server->ca_pem();
  absl::StatusOr<std::unique_ptr<kslice::client::Transport>> t =
      kslice::client::Transport::Create(to);
  if (!t.ok()) Die(t.status().ToString());
  kslice::client::Request req;
  req.url = absl::StrCat(f.server->url(), "/api/v1/namespaces/bench/configmaps/small");
  req.headers = {{"Authorization", absl::StrCat("Bearer ", f.server->token())},
                 {"Accept", kProtobuf}};
  for (auto _ : state) {
    absl::StatusOr<kslice::client::Response> r = (*t)->Do(req);
    if (!r.ok() || r->status != 200) {
      state.SkipWithError(r.ok() ? "not 200" : r.status().ToString().c_str());
      break;
    }
  }
  state.counters["connections"] = static_cast<double>((*t)->stats().connections_opened);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SmallGetTransport)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
