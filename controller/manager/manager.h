// The Manager: one place that owns what a controller process needs — the REST
// client, the shared informer factory, the event recorder, the metrics registry, the
// health/readiness/metrics endpoint and leader election — and runs controllers
// (controller-runtime's Manager, kube-controller-manager's main loop).
//
//   ManagerOptions o;
//   o.name = "my-controller";
//   o.leader_elect = true;
//   auto mgr = Manager::Create(*config, o);
//   auto pods = (*mgr)->informers().For<Pod>();
//   Controller c({.name = "mine", .workers = 2}, reconcile);
//   pods->Informer().AddEventHandler(...c.Enqueue(...)...);
//   (*mgr)->AddController(&c);
//   return (*mgr)->Run(SetupSignalHandler()).ok() ? 0 : 1;
//
// Run: starts the health server (/healthz with a leader-election watchdog, /readyz =
// informers synced, /metrics = the registry), starts the informers, waits for their
// caches, then runs the runnables — at once without leader election; with it, only
// while this process holds the Lease. Leadership lost ends Run with an error (the
// process should exit, as upstream's managers do, so no stale leader keeps acting).
// A stop request ends the runnables (controllers drain), then Run returns OK.
#ifndef KSLICE_CONTROLLER_MANAGER_MANAGER_H_
#define KSLICE_CONTROLLER_MANAGER_MANAGER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/config/rest_config.h"
#include "client/rest/client.h"
#include "controller/healthz/healthz.h"
#include "controller/leaderelection/leader_elector.h"
#include "controller/leaderelection/lease_lock.h"
#include "controller/metrics/metrics.h"
#include "controller/record/recorder.h"
#include "controller/runtime/controller.h"
#include "informers/factory.h"

namespace kslice::controller {

struct ManagerOptions {
  // The component: events' source, the default Lease name, log prefix.
  std::string name = "kslice-controller-manager";
  client::ClientOptions client{};
  informers::FactoryOptions informers{};
  // Leader election on a coordination.k8s.io/v1 Lease (client-go defaults).
  bool leader_elect = false;
  std::string leader_election_namespace = "kube-system";
  std::string leader_election_id{};  // the Lease's name; empty: `name`
  std::string identity{};            // empty: hostname + "_" + a random suffix
  absl::Duration lease_duration = absl::Seconds(15);
  absl::Duration renew_deadline = absl::Seconds(10);
  absl::Duration retry_period = absl::Seconds(2);
  bool release_on_cancel = true;
  // Health probes and /metrics, "host:port" (":8081"); empty: no server.
  std::string health_bind_address = ":8081";
  // nullptr: metrics::Registry::Default().
  metrics::Registry* registry = nullptr;
};

// Work the manager runs: returns when `stop` is requested (or on a fatal error).
using Runnable = std::function<absl::Status(std::stop_token stop)>;

class Manager {
 public:
  static absl::StatusOr<std::unique_ptr<Manager>> Create(const client::RestConfig& config,
                                                         ManagerOptions options);
  ~Manager();

  client::RestClient& client() { return *client_; }
  informers::SharedInformerFactory& informers() { return *factory_; }
  record::Recorder& recorder() { return *recorder_; }
  metrics::Registry& registry() { return *registry_; }
  // nullptr without a health server, or before Run.
  healthz::Server* health() { return health_.get(); }
  const std::string& identity() const { return identity_; }
  bool IsLeader() const { return leading_.load(); }

  // Adds work (before Run). `needs_leader`: with leader election, run only while leading.
  void Add(std::string name, Runnable runnable, bool needs_leader = true);
  // A controller, run once the factory's informers have synced. Not owned.
  void AddController(Controller* controller);

  absl::Status Run(std::stop_token stop);

 private:
  Manager() = default;
  // Runs every runnable selected by `leader_only` on its own thread until `stop`.
  absl::Status RunRunnables(std::stop_token stop, bool leader_only);

  struct Entry {
    std::string name;
    Runnable runnable;
    bool needs_leader = true;
  };
  ManagerOptions options_;
  std::string identity_;
  std::unique_ptr<client::RestClient> client_;
  std::unique_ptr<informers::SharedInformerFactory> factory_;
  std::unique_ptr<record::Recorder> recorder_;
  metrics::Registry* registry_ = nullptr;
  std::unique_ptr<healthz::Server> health_;
  std::unique_ptr<leaderelection::LeaseClient> lease_client_;
  std::unique_ptr<leaderelection::LeaseLock> lock_;
  leaderelection::HealthzAdaptor watchdog_{absl::Seconds(20)};
  std::mutex mu_;
  std::vector<Entry> runnables_;  // guarded by mu_
  std::atomic<bool> synced_{false};
  std::atomic<bool> leading_{false};
};

// A stop token requested on the first SIGINT or SIGTERM; a second signal exits the
// process with status 1 (as controller-runtime's SetupSignalHandler). Call once.
std::stop_token SetupSignalHandler();

}  // namespace kslice::controller

#endif  // KSLICE_CONTROLLER_MANAGER_MANAGER_H_
