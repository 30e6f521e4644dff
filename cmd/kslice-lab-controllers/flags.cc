#include "cmd/kslice-lab-controllers/flags.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kslice::labcontrollers {
namespace {

namespace flags = cmd::flags;

// kube-controller-manager's --controllers syntax: "*" (all), names, and "-name" to
// turn one off; "*" with exclusions runs everything but those.
absl::Status ApplyControllers(const std::string& value, LabFlags& f) {
  const std::set<std::string> known = {kDeployment, kReplicaSet, kDaemonSet, kScheduler};
  std::set<std::string> on, off;
  bool star = false;
  for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    std::string name(absl::StripAsciiWhitespace(part));
    if (name == "*") {
      star = true;
      continue;
    }
    const bool disable = absl::StartsWith(name, "-");
    if (disable) name = name.substr(1);
    if (!known.contains(name)) {
      return flags::Bad("controllers",
                        absl::StrCat("\"", name, "\" is not in the list of known controllers "
                                     "(deployment, replicaset, daemonset, scheduler)"));
    }
    (disable ? off : on).insert(name);
  }
  auto enabled = [&](const char* n) { return !off.contains(n) && (star || on.contains(n)); };
  f.run_deployment = enabled(kDeployment);
  f.run_replicaset = enabled(kReplicaSet);
  f.run_daemonset = enabled(kDaemonSet);
  f.run_scheduler = enabled(kScheduler);
  return absl::OkStatus();
}

absl::Status CheckWorkers(const char* flag, int v) {
  if (v < 1 || v > 50) return flags::Bad(flag, absl::StrCat(v, " is not in 1..50"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LabFlags> ParseLabFlags(const std::vector<std::string>& args) {
  LabFlags f;
  f.leader_election.leader_elect = false;
  f.leader_election.lease_name = "kslice-lab-controllers";
  std::string controllers = "*";
  std::vector<flags::Flag> table = {
      {{"kubeconfig"}, false, flags::StringSetter(&f.kubeconfig)},
      {{"master"}, false, flags::StringSetter(&f.master)},
      {{"kube-api-qps"}, false, flags::FloatSetter("kube-api-qps", &f.kube_api_qps)},
      {{"kube-api-burst"}, false, flags::IntSetter("kube-api-burst", &f.kube_api_burst)},
      {{"controllers"}, false, flags::StringSetter(&controllers)},
      {{"concurrent-deployment-syncs"}, false,
       flags::IntSetter("concurrent-deployment-syncs", &f.deployment_workers)},
      {{"concurrent-replicaset-syncs"}, false,
       flags::IntSetter("concurrent-replicaset-syncs", &f.replicaset_workers)},
      {{"concurrent-daemonset-syncs"}, false,
       flags::IntSetter("concurrent-daemonset-syncs", &f.daemonset_workers)},
      {{"health-bind-address"}, false, flags::StringSetter(&f.health_bind_address)},
      {{"help", "h"}, true, flags::BoolSetter("help", &f.help)},
  };
  flags::AddLeaderElectionFlags(&f.leader_election, &table);
  if (absl::Status s = flags::ParseArgs(args, table); !s.ok()) return s;
  if (f.help) return f;
  if (absl::Status s = ApplyControllers(controllers, f); !s.ok()) return s;
  if (absl::Status s = CheckWorkers("concurrent-deployment-syncs", f.deployment_workers); !s.ok()) return s;
  if (absl::Status s = CheckWorkers("concurrent-replicaset-syncs", f.replicaset_workers); !s.ok()) return s;
  if (absl::Status s = CheckWorkers("concurrent-daemonset-syncs", f.daemonset_workers); !s.ok()) return s;
  if (f.kube_api_qps <= 0) return flags::Bad("kube-api-qps", "must be greater than 0");
  if (f.kube_api_burst < 1) return flags::Bad("kube-api-burst", "must be at least 1");
  if (f.leader_election.leader_elect) {
    if (absl::Status s = flags::ValidateLeaderElection(f.leader_election); !s.ok()) return s;
  }
  return f;
}

std::string LabUsage() {
  return R"(kslice-lab-controllers runs the Deployment, ReplicaSet and DaemonSet controllers and a
minimal scheduler (docs/workloads.md) in one process.

Usage:
  kslice-lab-controllers [flags]

Flags:
      --kubeconfig string                    kubeconfig file (else $KUBECONFIG, ~/.kube/config, in-cluster)
      --master string                        the API server's address (overrides the kubeconfig)
      --kube-api-qps float                   client QPS (default 20)
      --kube-api-burst int                   client burst (default 30)
      --controllers strings                  "*", names, "-name" to turn one off: deployment,
                                             replicaset, daemonset, scheduler (default "*")
      --concurrent-deployment-syncs int      deployment workers, 1..50 (default 5)
      --concurrent-replicaset-syncs int      replicaset workers, 1..50 (default 5)
      --concurrent-daemonset-syncs int       daemonset workers, 1..50 (default 2)
      --leader-elect                         hold a coordination.k8s.io Lease while running (default false)
      --leader-elect-lease-duration duration (default 15s)
      --leader-elect-renew-deadline duration (default 10s)
      --leader-elect-retry-period duration   (default 2s)
      --leader-elect-resource-name string    (default "kslice-lab-controllers")
      --leader-elect-resource-namespace string (default "kube-system")
      --leader-elect-resource-lock string    only "leases" (default "leases")
      --health-bind-address string           /healthz /livez /readyz /metrics over HTTP; "" turns it
                                             off (default ":8082")
  -v, --v int                                log verbosity
      --vmodule string                       per-file verbosity
      --logging-format string                text or json (default "text")
  -h, --help                                 this text
)";
}

}  // namespace kslice::labcontrollers
