// Command line of kslice-proxy-agent (main.cc), parsed apart so tests can check it.
#ifndef KSLICE_CMD_KSLICE_PROXY_AGENT_FLAGS_H_
#define KSLICE_CMD_KSLICE_PROXY_AGENT_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proxy/types.h"

namespace kslice::cmd::agent {

struct AgentFlags {
  std::string server = "unix:/run/kslice-proxy/grpc.sock";
  std::string tls_ca;           // --tls-ca: use TLS, trust this CA
  std::string tls_cert;         // --tls-cert / --tls-key: client certificate (mTLS)
  std::string tls_key;
  std::string tls_server_name;  // --tls-server-name
  bool print = false;           // --print
  std::string apply;            // --apply MODE (iptables, ...)
  bool dry_run = false;         // --dry-run: with --apply, write payloads to stdout
  std::string hostname_override;  // --hostname-override; also the node asked for
  std::vector<std::string> cluster_cidrs;  // --cluster-cidr (comma list)
  proxy::IPFamily family = proxy::IPFamily::kIPv4;  // --family ipv4|ipv6
  bool masquerade_all = false;  // --masquerade-all
  absl::Duration min_sync_period = absl::Seconds(1);  // --min-sync-period
  absl::Duration sync_period = absl::Seconds(30);     // --sync-period
  int exit_after = 0;           // --exit-after N: stop after N updates (0: never)
  int verbosity = 0;            // -v
  bool help = false;
};

// The help text.
std::string Usage();

// InvalidArgument naming the flag for unknown flags, missing or bad values, and
// inconsistent combinations (neither --print nor --apply, --dry-run without --apply,
// --apply without --hostname-override).
absl::StatusOr<AgentFlags> ParseFlags(const std::vector<std::string>& args);

}  // namespace kslice::cmd::agent

#endif  // KSLICE_CMD_KSLICE_PROXY_AGENT_FLAGS_H_
