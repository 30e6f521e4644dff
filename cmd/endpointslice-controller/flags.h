// Command-line flags of the endpointslice-controller binary, with kube-controller-manager's
// names and defaults so a deployment can copy its flags over, plus the flags of the
// `reconcile` dry-run subcommand.
//
//   absl::StatusOr<ControllerFlags> f = ParseControllerFlags({"--kube-api-qps=50"});
//   if (!f.ok()) { std::cerr << f.status().message(); return 2; }
//
// Parsing is separate from main() so the rules (pflag syntax: --flag=value and
// --flag value, booleans as --flag / --flag=false; Go durations; the --controllers
// list) are unit-tested. -v, --vmodule and --logging-format are read by
// kslice::log::ParseFlags before these parsers run. Every error is InvalidArgument
// with a message naming the flag; the binary exits 2 on it.
#ifndef KSLICE_CMD_ENDPOINTSLICE_CONTROLLER_FLAGS_H_
#define KSLICE_CMD_ENDPOINTSLICE_CONTROLLER_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/endpointslice/controller.h"
#include "controller/endpointslicemirroring/controller.h"

namespace kslice::endpointslice::cmd {

// kube-controller-manager's canonical controller names (names.EndpointSliceController,
// names.EndpointSliceMirroringController); the short aliases "endpointslice" and
// "endpointslicemirroring" are accepted too.
inline constexpr char kEndpointSliceControllerName[] = "endpointslice-controller";
inline constexpr char kMirroringControllerName[] = "endpointslice-mirroring-controller";

struct ControllerFlags {
  std::string kubeconfig;  // --kubeconfig
  std::string master;      // --master: overrides the kubeconfig's server
  float kube_api_qps = 20.0f;  // --kube-api-qps
  int kube_api_burst = 30;     // --kube-api-burst

  EndpointSliceControllerOptions endpointslice;                    // --concurrent-service-endpoint-syncs, ...
  endpointslicemirroring::MirroringControllerOptions mirroring;  // --mirroring-*
  bool run_endpointslice = true;  // --controllers
  bool run_mirroring = true;

  bool leader_elect = true;  // --leader-elect (kube-controller-manager's default)
  absl::Duration lease_duration = absl::Seconds(15);
  absl::Duration renew_deadline = absl::Seconds(10);
  absl::Duration retry_period = absl::Seconds(2);
  // Not kube-controller-manager's lease name: this process runs beside it.
  std::string lease_name = "endpointslice-controller";
  std::string lease_namespace = "kube-system";

  // Plain HTTP: /healthz (+ leader-election watchdog), /livez, /readyz (caches synced),
  // /metrics. Empty: no server.
  std::string health_bind_address = ":8081";

  bool help = false;  // --help / -h
};

// Parses the controller's flags (argv without the program name and without the
// logging flags) and validates them: ranges through the controllers' ValidateOptions,
// leader-election durations as client-go's NewLeaderElector checks them.
absl::StatusOr<ControllerFlags> ParseControllerFlags(const std::vector<std::string>& args);

// The --help text of the controller.
std::string ControllerUsage();

struct ReconcileFlags {
  std::string file;            // -f / --filename; "-" is stdin
  std::string output = "yaml";  // -o / --output: json or yaml
  int32_t max_endpoints_per_slice = 100;
  bool show_actions = false;
  bool help = false;
};

// Parses the flags after `reconcile`. -f is required (unless --help).
absl::StatusOr<ReconcileFlags> ParseReconcileFlags(const std::vector<std::string>& args);

std::string ReconcileUsage();

}  // namespace kslice::endpointslice::cmd

#endif  // KSLICE_CMD_ENDPOINTSLICE_CONTROLLER_FLAGS_H_
