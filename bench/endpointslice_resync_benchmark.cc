// The EndpointSlice controller converging a cluster from scratch, then resyncing it
// after a restart, against the embedded API server over HTTPS (in-process).
//
//   1. fill: N services x M pods (Running, Ready, with IPs through the status
//      subresource), created from parallel client threads;
//   2. converge: a manager with the controller starts; timed until every service has
//      its slice with its M endpoints; API writes counted by the controller's
//      endpoint_slice_controller_changes metric;
//   3. resync: a second manager (the first stopped, as after a restart or a leader
//      change) starts over the converged state; timed until every service has been
//      synced once; writes should be 0.
// Peak RSS (getrusage) includes the embedded server and the filling client. The
// informers start with a streaming list (--watch_list=0: a plain LIST).
//
//   bazel run -c opt //bench:endpointslice_resync_benchmark                 # 5,000 x 20
//   bazel run -c opt //bench:endpointslice_resync_benchmark -- --services=200 --pods=10
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "client/rest/client.h"
#include "controller/endpointslice/controller.h"
#include "controller/endpointslice/controller_test_util.h"
#include "controller/manager/manager.h"
#include "controller/metrics/metrics.h"
#include "envtest/environment/environment.h"

namespace {

namespace es = kslice::endpointslice;
using kslice::api::core::v1::Node;
using kslice::api::core::v1::NodeList;
using kslice::api::core::v1::Service;
using kslice::api::core::v1::ServiceList;
using kslice::api::discovery::v1::EndpointSlice;
using kslice::api::discovery::v1::EndpointSliceList;
using kslice::client::RestClient;
using kslice::client::Typed;

struct Flags {
  int services = 5000;
  int pods = 20;          // per service
  int threads = 32;       // filling client threads
  int workers = 5;        // --concurrent-service-endpoint-syncs
  double controller_qps = 0;  // 0: the environment's (1000 qps, burst 2000)
  // The informers' initial list as one streaming watch (sendInitialEvents); 0: a plain
  // LIST (100,000 pods is one ~120 MB protobuf response).
  int watch_list = 1;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "endpointslice_resync_benchmark: %s\n", what.c_str());
  std::exit(1);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name, auto* out) {
      std::string prefix = absl::StrCat("--", name, "=");
      if (a.rfind(prefix, 0) != 0) return false;
      if (!absl::SimpleAtoi(a.substr(prefix.size()), out)) Die("bad value: " + a);
      return true;
    };
    if (value("services", &f.services) || value("pods", &f.pods) ||
        value("threads", &f.threads) || value("workers", &f.workers) ||
        value("watch_list", &f.watch_list)) {
      continue;
    }
    if (a.rfind("--controller_qps=", 0) == 0) {
      if (!absl::SimpleAtod(a.substr(17), &f.controller_qps)) Die("bad value: " + a);
      continue;
    }
    Die("unknown flag " + a + " (--services, --pods, --threads, --workers, --controller_qps, --watch_list)");
  }
  return f;
}

double PeakRssMiB() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // KiB on Linux
}

double CurrentRssMiB() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024.0) / 1024.0;
}

// A manager running the controller until Stop().
struct Controller {
  kslice::controller::metrics::Registry registry;
  std::unique_ptr<kslice::controller::Manager> mgr;
  std::unique_ptr<es::EndpointSliceController> esc;
  std::stop_source stop;
  std::thread thread;

  void Stop() {
    stop.request_stop();
    if (thread.joinable()) thread.join();
  }
  double Metric(const char* name) { return es::testutil::MetricSum(registry, name); }
  // Every informer of the manager has synced (checked without waiting).
  bool Synced() {
    std::stop_source now;
    now.request_stop();
    std::map<std::string, bool> state = mgr->informers().WaitForCacheSync(now.get_token());
    if (state.size() < 4) return false;
    for (const auto& [name, ok] : state) {
      if (!ok) return false;
    }
    return true;
  }
};

// Polls `c` until its informers have synced; the time since `start`.
absl::Duration TimeToSync(Controller& c, absl::Time start) {
  while (!c.Synced()) absl::SleepFor(absl::Milliseconds(5));
  return absl::Now() - start;
}

std::unique_ptr<Controller> StartController(kslice::client::RestConfig config, const Flags& f) {
  if (f.controller_qps > 0) {
    config.qps = static_cast<float>(f.controller_qps);
    config.burst = static_cast<int>(f.controller_qps * 1.5);
  }
  auto c = std::make_unique<Controller>();
  kslice::controller::ManagerOptions o;
  o.name = "endpointslice-controller";
  o.health_bind_address = "";
  o.registry = &c->registry;
  o.informers.reflector.use_watch_list = f.watch_list != 0;
  auto mgr = kslice::controller::Manager::Create(config, o);
  if (!mgr.ok()) Die(mgr.status().ToString());
  c->mgr = *std::move(mgr);
  es::EndpointSliceControllerOptions eo;
  eo.workers = f.workers;
  auto esc = es::SetUpEndpointSliceController(*c->mgr, eo);
  if (!esc.ok()) Die(esc.status().ToString());
  c->esc = *std::move(esc);
  Controller* raw = c.get();
  c->thread = std::thread([raw] {
    absl::Status s = raw->mgr->Run(raw->stop.get_token());
    if (!s.ok()) Die(s.ToString());
  });
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = ParseFlags(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  kslice::envtest::EnvironmentOptions eo;
  eo.embedded_only = true;
  eo.embedded.worker_threads = 16;
  auto env = kslice::envtest::Environment::Start(eo);
  if (!env.ok()) Die(env.status().ToString());
  auto ns = (*env)->CreateNamespace("bench-");
  if (!ns.ok()) Die(ns.status().ToString());
  kslice::client::RestConfig fast = (*env)->config();
  fast.qps = 1e6;
  fast.burst = 1000000;
  auto client = RestClient::Create(fast);
  if (!client.ok()) Die(client.status().ToString());
  RestClient& c = **client;

  Node node;
  node.mutable_metadata()->set_name("node-1");
  if (auto n = Typed<Node, NodeList>(c).Create(node); !n.ok()) Die(n.status().ToString());

  // 1. Fill.
  std::printf("fill: %d services x %d pods, %d client threads\n", f.services, f.pods, f.threads);
  const absl::Time fill_start = absl::Now();
  std::atomic<int> next{0};
  std::mutex mu;
  std::string error;
  const int total = f.services * (f.pods + 1);  // a service, then its pods
  std::vector<std::thread> threads;
  for (int t = 0; t < f.threads; ++t) {
    threads.emplace_back([&] {
      Typed<Service, ServiceList> services(c);
      for (int i = next++; i < total; i = next++) {
        const int svc = i / (f.pods + 1), pod = i % (f.pods + 1);
        const std::string name = absl::StrCat("svc-", svc);
        absl::Status s;
        if (pod == 0) {
          s = services
                  .Create(es::testutil::MakeService(*ns, name, {{"app", name}},
                                                    {{.name = "http", .port = 80,
                                                      .target_name = "http"}}))
                  .status();
        } else {
          s = es::testutil::CreateRunningPod(c, *ns, absl::StrCat(name, "-", pod - 1),
                                             {{"app", name}},
                                             es::testutil::IPForIndex(svc * f.pods + pod),
                                             true, "node-1")
                  .status();
        }
        if (!s.ok()) {
          std::lock_guard<std::mutex> l(mu);
          if (error.empty()) error = s.ToString();
          next = total;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (!error.empty()) Die("fill: " + error);
  const absl::Duration fill = absl::Now() - fill_start;
  std::printf("fill: %.1f s (%.0f objects/s, %d API writes)\n", absl::ToDoubleSeconds(fill),
              (f.services * (1 + f.pods)) / absl::ToDoubleSeconds(fill),
              f.services * (1 + 2 * f.pods));
  const double rss_before = CurrentRssMiB();

  // 2. Converge from scratch. Every service needs exactly one create; then one list
  //    checks the content.
  const absl::Time start = absl::Now();
  std::unique_ptr<Controller> first = StartController((*env)->config(), f);
  const absl::Duration synced = TimeToSync(*first, start);
  const char* kChanges = "endpoint_slice_controller_changes";
  while (first->Metric(kChanges) < f.services) {
    if (absl::Now() - start > absl::Minutes(30)) Die("no convergence in 30 min");
    absl::SleepFor(absl::Milliseconds(10));
  }
  const absl::Duration converge = absl::Now() - start;
  absl::SleepFor(absl::Seconds(2));  // late writes, if any, would show now
  const double writes = first->Metric(kChanges);
  const double syncs = first->Metric("endpoint_slice_controller_syncs");
  auto list = Typed<EndpointSlice, EndpointSliceList>(c).List(*ns);
  if (!list.ok()) Die(list.status().ToString());
  std::map<std::string, int> endpoints;
  for (const EndpointSlice& s : list->items()) {
    endpoints[s.metadata().labels().at("kubernetes.io/service-name")] += s.endpoints_size();
  }
  int complete = 0;
  for (const auto& [svc, n] : endpoints) complete += n == f.pods;
  std::printf(
      "converge: %.2f s (informers synced at %.2f s) to %d slices for %d services (%d "
      "complete), %.0f API writes, %.0f syncs, controller workers %d\n",
      absl::ToDoubleSeconds(converge), absl::ToDoubleSeconds(synced), list->items_size(), f.services, complete, writes, syncs,
      f.workers);
  first->Stop();
  first.reset();

  // 3. Resync after a restart: every service synced once, nothing to write.
  const absl::Time rstart = absl::Now();
  std::unique_ptr<Controller> second = StartController((*env)->config(), f);
  const absl::Duration rsynced = TimeToSync(*second, rstart);
  // Every service of the cluster, including `kubernetes` in default.
  while (second->Metric("endpoint_slice_controller_syncs") < f.services + 1) {
    if (absl::Now() - rstart > absl::Minutes(30)) Die("no resync in 30 min");
    absl::SleepFor(absl::Milliseconds(10));
  }
  const absl::Duration resync = absl::Now() - rstart;
  absl::SleepFor(absl::Seconds(2));
  std::printf("resync: %.2f s (informers synced at %.2f s) for %d syncs, %.0f API writes\n",
              absl::ToDoubleSeconds(resync), absl::ToDoubleSeconds(rsynced), f.services + 1,
              second->Metric(kChanges));
  second->Stop();
  std::printf("rss: %.0f MiB before the controller, peak %.0f MiB (server + client + controller)\n",
              rss_before, PeakRssMiB());
  return complete == f.services ? 0 : 1;
}
