// Command-line flags of kslice-proxy, with kube-proxy's names and defaults
// (cmd/kube-proxy/app/options.go; shared/spec/kube-proxy.md §9) so that a node's
// kube-proxy flags can be copied over, plus the dry-run flags.
//
//   absl::StatusOr<ProxyFlags> f = ParseProxyFlags({"--proxy-mode=iptables"});
//   if (!f.ok()) { std::cerr << f.status().message(); return 2; }
//
// Syntax as pflag: --flag=value and --flag value, booleans as --flag / --flag=false, Go
// durations ("30s", "1m"). -v, --vmodule and --logging-format are read by
// kslice::log::ParseFlags before this parser runs. Errors are InvalidArgument naming
// the flag; the binary exits 2 on them. Whether --proxy-mode names a registered backend
// is checked by the binary (the registry is filled by what it links).
#ifndef KSLICE_CMD_KSLICE_PROXY_FLAGS_H_
#define KSLICE_CMD_KSLICE_PROXY_FLAGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/internal/flags/flags.h"
#include "controller/endpointslice/controller.h"

namespace kslice::proxy::cmd {

struct ProxyFlags {
  std::string kubeconfig;  // --kubeconfig
  std::string master;      // --master: overrides the kubeconfig's server
  // --kube-api-qps / --kube-api-burst: kube-proxy's defaults, or kube-controller-manager's
  // (20, 30) with --run-endpointslice-controller when they are not given.
  float kube_api_qps = 5.0f;
  int kube_api_burst = 10;

  // --hostname-override; when not given, the OS hostname. Always lower-cased and trimmed
  // (kube-proxy's nodeutil.GetHostname).
  std::string hostname;
  std::string proxy_mode = "iptables";  // --proxy-mode ("" means iptables)
  // --cluster-cidr, comma separated (dual-stack lists allowed); canonical CIDRs.
  std::vector<std::string> cluster_cidrs;
  bool masquerade_all = false;                          // --masquerade-all
  int masquerade_bit = 14;                              // --iptables-masquerade-bit (0..31)
  absl::Duration sync_period = absl::Seconds(30);       // --iptables-sync-period (> 0)
  absl::Duration min_sync_period = absl::Seconds(1);    // --iptables-min-sync-period (>= 0)
  bool localhost_nodeports = true;                      // --iptables-localhost-nodeports
  // --nodeport-addresses: CIDRs; NodePorts are served on this node's addresses inside
  // them (empty: every local address).
  std::vector<std::string> nodeport_addresses;
  // Plain HTTP servers; "" turns one off. A missing port gets the default one
  // (kube-proxy appends it too).
  std::string healthz_bind_address = "0.0.0.0:10256";  // /healthz, /livez
  std::string metrics_bind_address = "127.0.0.1:10249";  // /metrics, /healthz

  // --backend-opt KEY=VALUE (repeatable): backend-specific settings handed to the backend
  // as BackendOptions.extra ("grpc.listen", "iptables.node-ip", ...). A key the binary
  // also derives from other flags (iptables.node-ip from the Node, iptables.nodeport-
  // addresses from --nodeport-addresses) is overridden by the value given here.
  std::map<std::string, std::string> backend_opts;

  // --run-endpointslice-controller: also run the EndpointSlice controller in this process,
  // on the same informers (one list+watch and one cache per resource), leader-elected
  // across the nodes (docs/proxy.md "Shared cache, one process").
  bool run_endpointslice_controller = false;
  // --concurrent-service-endpoint-syncs, --max-endpoints-per-slice,
  // --endpointslice-updates-batch-period (kube-controller-manager's names and ranges).
  endpointslice::EndpointSliceControllerOptions endpointslice;
  // --leader-elect* (kube-controller-manager's names); the Lease defaults to
  // kube-system/endpointslice-controller, the one the standalone controller takes, so the
  // two never write at the same time.
  ::kslice::cmd::flags::LeaderElectionFlags leader_election;

  bool cleanup = false;  // --cleanup: remove this mode's rules and exit

  // --dry-run -f FILE: print the ruleset for the objects in FILE, touch nothing.
  bool dry_run = false;
  std::string file;  // -f / --filename ("-" is stdin)

  bool help = false;  // -h / --help
};

// Parses the arguments (without the program name and the logging flags) and validates
// them. `os_hostname` is the default of --hostname-override.
absl::StatusOr<ProxyFlags> ParseProxyFlags(const std::vector<std::string>& args,
                                           const std::string& os_hostname);

// The --help text.
std::string ProxyUsage();

// "0.0.0.0:10256" for "0.0.0.0" and default port 10256; "[::]:10256" for "::"; a value
// with a port is returned as is. InvalidArgument for a malformed value.
absl::StatusOr<std::string> WithDefaultPort(const std::string& value, int default_port);

}  // namespace kslice::proxy::cmd

#endif  // KSLICE_CMD_KSLICE_PROXY_FLAGS_H_
