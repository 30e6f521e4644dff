// Command-line flags of kslice-lab-controllers, on the shared flag table
// (cmd/internal/flags): where the API server is, which controllers run, their worker
// counts, leader election (off by default: the lab runs one copy) and the health
// endpoint. -v, --vmodule and --logging-format are taken out before, by
// kslice::log::ParseFlags.
//
//   absl::StatusOr<LabFlags> f = ParseLabFlags({"--controllers=*,-scheduler"});
#ifndef KSLICE_CMD_KSLICE_LAB_CONTROLLERS_FLAGS_H_
#define KSLICE_CMD_KSLICE_LAB_CONTROLLERS_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmd/internal/flags/flags.h"

namespace kslice::labcontrollers {

// The names --controllers accepts.
inline constexpr char kDeployment[] = "deployment";
inline constexpr char kReplicaSet[] = "replicaset";
inline constexpr char kDaemonSet[] = "daemonset";
inline constexpr char kScheduler[] = "scheduler";

struct LabFlags {
  std::string kubeconfig;  // --kubeconfig
  std::string master;      // --master: overrides the kubeconfig's server
  float kube_api_qps = 20.0f;
  int kube_api_burst = 30;

  bool run_deployment = true;  // --controllers
  bool run_replicaset = true;
  bool run_daemonset = true;
  bool run_scheduler = true;

  int deployment_workers = 5;  // --concurrent-deployment-syncs
  int replicaset_workers = 5;  // --concurrent-replicaset-syncs
  int daemonset_workers = 2;   // --concurrent-daemonset-syncs

  cmd::flags::LeaderElectionFlags leader_election;  // --leader-elect* (default off here)

  // /healthz, /livez, /readyz, /metrics; "" turns it off. Not :8081, which the
  // endpointslice-controller takes on the same machine in the lab.
  std::string health_bind_address = ":8082";

  bool help = false;
};

// Parses and validates (worker counts 1..50, the --controllers list, leader election
// durations when electing). Errors are InvalidArgument naming the flag.
absl::StatusOr<LabFlags> ParseLabFlags(const std::vector<std::string>& args);

// The --help text.
std::string LabUsage();

}  // namespace kslice::labcontrollers

#endif  // KSLICE_CMD_KSLICE_LAB_CONTROLLERS_FLAGS_H_
