// kslice-lab-controllers: the Deployment, ReplicaSet and DaemonSet controllers and the
// minimal scheduler (docs/workloads.md) in one Manager, for the network-namespace lab
// and for any API server that has no kube-controller-manager / kube-scheduler of its own.
//
//   kslice-lab-controllers --kubeconfig=/tmp/kslice.kubeconfig -v=2
//   kslice-lab-controllers --controllers=*,-scheduler --leader-elect
//
// It waits up to 10 s for the API server's /healthz, then runs until SIGTERM/SIGINT
// (exit 0). Bad flags exit 2; an unreachable server or a lost Lease exit 1.
#include <chrono>
#include <iostream>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/config/client_config.h"
#include "client/config/version.h"
#include "client/rest/client.h"
#include "cmd/internal/apiserver/wait.h"
#include "cmd/kslice-lab-controllers/flags.h"
#include "controller/log/log.h"
#include "controller/manager/manager.h"
#include "controller/scheduler/scheduler.h"
#include "controller/workloads/daemonset.h"
#include "controller/workloads/deployment.h"
#include "controller/workloads/replicaset.h"

namespace {

namespace lab = kslice::labcontrollers;
constexpr char kProgram[] = "kslice-lab-controllers";

int UsageError(const absl::Status& s) {
  std::cerr << kProgram << ": " << s.message() << "\nRun '" << kProgram
            << " --help' for usage.\n";
  return 2;
}

int Run(const lab::LabFlags& flags) {
  kslice::client::ClientConfigOptions co;
  co.kubeconfig = flags.kubeconfig;
  absl::StatusOr<kslice::client::RestConfig> config = kslice::client::LoadRestConfig(co);
  if (!flags.master.empty()) {
    if (!config.ok() && flags.kubeconfig.empty()) config = kslice::client::RestConfig();
    if (config.ok()) config->host = flags.master;
  }
  if (!config.ok()) {
    std::cerr << kProgram << ": loading the client configuration: " << config.status().message()
              << "\n";
    return 1;
  }
  config->qps = flags.kube_api_qps;
  config->burst = flags.kube_api_burst;
  config->user_agent = absl::StrCat(kProgram, " ", kslice::client::kDefaultUserAgent);
  if (absl::Status s = config->Validate(); !s.ok()) {
    std::cerr << kProgram << ": client configuration: " << s.message() << "\n";
    return 1;
  }
  std::stop_token stop = kslice::controller::SetupSignalHandler();
  if (absl::Status s = kslice::cmd::apiserver::WaitForHealthz(*config, absl::Seconds(10), stop);
      !s.ok()) {
    if (absl::IsCancelled(s)) return 0;
    std::cerr << kProgram << ": " << s.message() << "\n";
    return 1;
  }

  kslice::controller::ManagerOptions o;
  o.name = kProgram;
  o.leader_elect = flags.leader_election.leader_elect;
  o.leader_election_namespace = flags.leader_election.lease_namespace;
  o.leader_election_id = flags.leader_election.lease_name;
  o.lease_duration = flags.leader_election.lease_duration;
  o.renew_deadline = flags.leader_election.renew_deadline;
  o.retry_period = flags.leader_election.retry_period;
  o.health_bind_address = flags.health_bind_address;
  auto mgr = kslice::controller::Manager::Create(*config, o);
  if (!mgr.ok()) {
    std::cerr << kProgram << ": " << mgr.status().message() << "\n";
    return 1;
  }
  auto fail = [](const char* what, const absl::Status& s) {
    std::cerr << kProgram << ": " << what << ": " << s.message() << "\n";
    return 1;
  };
  std::unique_ptr<kslice::workloads::ReplicaSetController> rsc;
  std::unique_ptr<kslice::workloads::DeploymentController> dc;
  std::unique_ptr<kslice::workloads::DaemonSetController> dsc;
  std::unique_ptr<kslice::scheduler::Scheduler> sched;
  if (flags.run_replicaset) {
    auto c = kslice::workloads::SetUpReplicaSetController(**mgr, {.workers = flags.replicaset_workers});
    if (!c.ok()) return fail(lab::kReplicaSet, c.status());
    rsc = *std::move(c);
  }
  if (flags.run_deployment) {
    auto c = kslice::workloads::SetUpDeploymentController(**mgr, {.workers = flags.deployment_workers});
    if (!c.ok()) return fail(lab::kDeployment, c.status());
    dc = *std::move(c);
  }
  if (flags.run_daemonset) {
    auto c = kslice::workloads::SetUpDaemonSetController(**mgr, {.workers = flags.daemonset_workers});
    if (!c.ok()) return fail(lab::kDaemonSet, c.status());
    dsc = *std::move(c);
  }
  if (flags.run_scheduler) {
    auto c = kslice::scheduler::SetUpScheduler(**mgr, {});
    if (!c.ok()) return fail(lab::kScheduler, c.status());
    sched = *std::move(c);
  }
  kslice::log::Info("starting", {{"deployment", flags.run_deployment},
                                 {"replicaset", flags.run_replicaset},
                                 {"daemonset", flags.run_daemonset},
                                 {"scheduler", flags.run_scheduler},
                                 {"leaderElect", flags.leader_election.leader_elect},
                                 {"server", config->host}});
  absl::Status s = (*mgr)->Run(stop);
  if (!s.ok()) {
    kslice::log::Error(s, "manager stopped");
    return 1;
  }
  kslice::log::Info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<kslice::log::Options> logging = kslice::log::ParseFlags(&argc, argv);
  if (!logging.ok()) return UsageError(logging.status());
  if (absl::Status s = kslice::log::Configure(*logging); !s.ok()) return UsageError(s);
  absl::StatusOr<lab::LabFlags> flags =
      lab::ParseLabFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!flags.ok()) return UsageError(flags.status());
  if (flags->help) {
    std::cout << lab::LabUsage();
    return 0;
  }
  return Run(*flags);
}
