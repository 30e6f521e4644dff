// confighash: the example controller as a process. Flags: --kubeconfig, -v, --leader-elect.
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "client/config/client_config.h"
#include "controller/log/log.h"
#include "examples/confighash/confighash.h"

int main(int argc, char** argv) {
  absl::StatusOr<kslice::log::Options> logging = kslice::log::ParseFlags(&argc, argv);
  if (!logging.ok() || !kslice::log::Configure(*logging).ok()) {
    std::cerr << "confighash: bad logging flags\n";
    return 2;
  }
  kslice::controller::ManagerOptions o;
  o.name = "confighash";
  std::string kubeconfig;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (absl::StartsWith(a, "--kubeconfig=")) kubeconfig = a.substr(13);
    else if (a == "--leader-elect") o.leader_elect = true;
    else if (absl::StartsWith(a, "--health-probe-bind-address=")) o.health_bind_address = a.substr(28);
    else { std::cerr << "confighash: unknown flag " << a << "\n"; return 2; }
  }
  kslice::client::ClientConfigOptions co;
  co.kubeconfig = kubeconfig;
  absl::StatusOr<kslice::client::RestConfig> config = kslice::client::LoadRestConfig(co);
  if (!config.ok()) { std::cerr << "confighash: " << config.status().message() << "\n"; return 1; }
  auto mgr = kslice::controller::Manager::Create(*config, o);
  if (!mgr.ok()) { std::cerr << "confighash: " << mgr.status().message() << "\n"; return 1; }
  auto ctl = kslice::examples::SetUpConfigHash(**mgr);
  if (!ctl.ok()) { std::cerr << "confighash: " << ctl.status().message() << "\n"; return 1; }
  absl::Status s = (*mgr)->Run(kslice::controller::SetupSignalHandler());
  if (!s.ok()) kslice::log::Error(s, "manager stopped");
  return s.ok() ? 0 : 1;
}
