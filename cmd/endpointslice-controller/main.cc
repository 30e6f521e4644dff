// endpointslice-controller: kube-controller-manager's endpointslice-controller and
// endpointslice-mirroring-controller as their own process, with kube-controller-manager's
// flag names (flags.h), and a `reconcile` dry-run subcommand (dryrun.h).
//
//   endpointslice-controller --kubeconfig=/etc/kubernetes/controller.conf --leader-elect
//   endpointslice-controller reconcile -f cluster-dump.yaml --show-actions
//
// The controller waits up to 10 s for the API server's /healthz (as kube-controller-manager
// does) and exits 1 with a message when it cannot be reached; then it runs the Manager
// (informers, leader election on the Lease, /healthz /readyz /metrics on
// --health-bind-address) until SIGTERM or SIGINT, releasing the Lease on the way out.
#include <fstream>
#include <iostream>
#include <iterator>
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
#include "cmd/endpointslice-controller/dryrun.h"
#include "cmd/endpointslice-controller/flags.h"
#include "controller/endpointslice/controller.h"
#include "controller/endpointslicemirroring/controller.h"
#include "controller/log/log.h"
#include "controller/manager/manager.h"

namespace {

namespace esc = kslice::endpointslice;
namespace escmd = kslice::endpointslice::cmd;

constexpr char kProgram[] = "endpointslice-controller";

int UsageError(const absl::Status& s, const char* help) {
  std::cerr << kProgram << ": " << s.message() << "\nRun '" << kProgram << help
            << " --help' for usage.\n";
  return 2;
}

// The dry run: exit 0, 1 (unreadable input, or a service's reconcile failed), 2 (flags).
int RunReconcile(const std::vector<std::string>& args) {
  absl::StatusOr<escmd::ReconcileFlags> flags = escmd::ParseReconcileFlags(args);
  if (!flags.ok()) return UsageError(flags.status(), " reconcile");
  if (flags->help) {
    std::cout << escmd::ReconcileUsage();
    return 0;
  }
  std::string data;
  if (flags->file == "-") {
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(flags->file, std::ios::binary);
    if (!in) {
      std::cerr << kProgram << ": cannot read " << flags->file << "\n";
      return 1;
    }
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  absl::StatusOr<escmd::DryRunInput> input = escmd::ParseDryRunInput(data);
  if (!input.ok()) {
    std::cerr << kProgram << ": " << flags->file << ": " << input.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<escmd::DryRunResult> result =
      escmd::RunDryRun(*input, {.max_endpoints_per_slice = flags->max_endpoints_per_slice});
  if (!result.ok()) {
    std::cerr << kProgram << ": " << result.status().message() << "\n";
    return 1;
  }
  if (flags->show_actions) {
    for (const escmd::PlannedAction& a : result->actions) {
      std::cerr << "action: " << escmd::DescribeAction(a) << "\n";
    }
  }
  for (const std::string& e : result->events) std::cerr << "event: " << e << "\n";
  for (const std::string& e : result->errors) std::cerr << "error: " << e << "\n";
  absl::StatusOr<std::string> out = escmd::EncodeSliceList(
      result->slices, flags->output == "json" ? kslice::codec::Format::kJson
                                              : kslice::codec::Format::kYaml);
  if (!out.ok()) {
    std::cerr << kProgram << ": encoding the result: " << out.status().message() << "\n";
    return 1;
  }
  std::cout << *out;
  std::cout.flush();
  if (!std::cout.good()) return 1;
  return result->errors.empty() ? 0 : 1;
}

int RunController(const std::vector<std::string>& args) {
  absl::StatusOr<escmd::ControllerFlags> flags = escmd::ParseControllerFlags(args);
  if (!flags.ok()) return UsageError(flags.status(), "");
  if (flags->help) {
    std::cout << escmd::ControllerUsage();
    return 0;
  }

  // clientcmd.BuildConfigFromFlags: --master overrides the kubeconfig's server, and
  // alone is enough.
  kslice::client::ClientConfigOptions co;
  co.kubeconfig = flags->kubeconfig;
  absl::StatusOr<kslice::client::RestConfig> config = kslice::client::LoadRestConfig(co);
  if (!flags->master.empty()) {
    if (!config.ok() && flags->kubeconfig.empty()) config = kslice::client::RestConfig();
    if (config.ok()) config->host = flags->master;
  }
  if (!config.ok()) {
    std::cerr << kProgram << ": loading the client configuration: " << config.status().message()
              << "\n";
    return 1;
  }
  config->qps = flags->kube_api_qps;
  config->burst = flags->kube_api_burst;
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
  o.leader_elect = flags->leader_elect;
  o.leader_election_namespace = flags->lease_namespace;
  o.leader_election_id = flags->lease_name;
  o.lease_duration = flags->lease_duration;
  o.renew_deadline = flags->renew_deadline;
  o.retry_period = flags->retry_period;
  o.release_on_cancel = true;
  o.health_bind_address = flags->health_bind_address;
  absl::StatusOr<std::unique_ptr<kslice::controller::Manager>> mgr =
      kslice::controller::Manager::Create(*config, o);
  if (!mgr.ok()) {
    std::cerr << kProgram << ": " << mgr.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<esc::EndpointSliceController> slices;
  std::unique_ptr<kslice::endpointslicemirroring::MirroringController> mirroring;
  if (flags->run_endpointslice) {
    auto c = esc::SetUpEndpointSliceController(**mgr, flags->endpointslice);
    if (!c.ok()) {
      std::cerr << kProgram << ": " << escmd::kEndpointSliceControllerName << ": "
                << c.status().message() << "\n";
      return 1;
    }
    slices = *std::move(c);
  }
  if (flags->run_mirroring) {
    auto c = kslice::endpointslicemirroring::SetUpMirroringController(**mgr, flags->mirroring);
    if (!c.ok()) {
      std::cerr << kProgram << ": " << escmd::kMirroringControllerName << ": "
                << c.status().message() << "\n";
      return 1;
    }
    mirroring = *std::move(c);
  }
  kslice::log::Info("starting", {{"endpointslice", flags->run_endpointslice},
                                 {"mirroring", flags->run_mirroring},
                                 {"leaderElect", flags->leader_elect},
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
  if (!logging.ok()) return UsageError(logging.status(), "");
  if (absl::Status s = kslice::log::Configure(*logging); !s.ok()) return UsageError(s, "");
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "reconcile") {
    return RunReconcile(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  return RunController(args);
}
