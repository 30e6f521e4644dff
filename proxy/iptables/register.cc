// Registers the "iptables" proxy mode (--proxy-mode=iptables): BackendOptions ->
// IptablesBackend with the real runner, or a dry-run backend printing payloads.
//
// Environment checks kube-proxy does when it creates its proxier, done here:
//  - net/ipv4/conf/all/route_localnet is set to 1 when localhost NodePorts are on (IPv4);
//  - net/netfilter/nf_conntrack_tcp_be_liberal decides whether INVALID packets are dropped;
//  - the nfacct counters are created with the `nfacct` tool when it exists; rules that
//    would count into a counter that could not be created are left out.
// BackendOptions::extra keys read: "iptables.node-ip" (this node's IP of the family, for
// loadBalancerSourceRanges that contain it) and "iptables.nodeport-addresses"
// (comma-separated node IPs NodePorts are served on; default: all local addresses).
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "proxy/backend.h"
#include "proxy/iptables/iptables_backend.h"
#include "proxy/iptables/runner.h"

namespace kslice::proxy::iptables {
namespace {

// The counter exists afterwards (created now or before).
bool EnsureNfacctCounter(Runner& runner, const std::string& name) {
  absl::StatusOr<CommandResult> r = runner.Run({"nfacct", "add", name}, "");
  if (!r.ok()) return false;
  return r->exit_code == 0 || absl::StrContains(r->stderr_data, "exist");
}

absl::StatusOr<std::unique_ptr<Backend>> NewIptablesBackend(const BackendOptions& o) {
  IptablesBackendOptions options;
  RulesetConfig& c = options.ruleset;
  c.family = o.family;
  c.masquerade_all = o.masquerade_all;
  c.masquerade_bit = o.masquerade_bit;
  c.localhost_nodeports = o.localhost_nodeports && o.family == IPFamily::kIPv4;
  if (!o.cluster_cidrs.empty()) {
    c.local_detector = LocalTrafficDetector::ClusterCIDR(o.cluster_cidrs.front());
  }
  if (auto it = o.extra.find("iptables.node-ip"); it != o.extra.end()) c.node_ip = it->second;
  if (auto it = o.extra.find("iptables.nodeport-addresses"); it != o.extra.end()) {
    c.nodeport_ips = absl::StrSplit(it->second, ',', absl::SkipWhitespace());
  }
  options.sync_period = o.sync_period;
  options.metrics = o.metrics;

  if (o.dry_run) {
    options.dry_run = true;
    options.dry_run_output = o.dry_run_output;
    absl::StatusOr<std::unique_ptr<IptablesBackend>> b =
        IptablesBackend::Create(std::move(options), nullptr);
    if (!b.ok()) return b.status();
    return std::unique_ptr<Backend>(*std::move(b));
  }

  std::unique_ptr<Runner> runner = NewExecRunner();
  if (c.localhost_nodeports) {
    std::ofstream f("/proc/sys/net/ipv4/conf/all/route_localnet");
    if (!(f << "1\n") || !f.flush()) {
      return absl::FailedPreconditionError(
          "cannot set net/ipv4/conf/all/route_localnet=1 for localhost NodePorts; turn "
          "--iptables-localhost-nodeports off");
    }
  }
  {
    std::ifstream f("/proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal");
    int liberal = 0;
    if (f >> liberal) c.conntrack_tcp_be_liberal = liberal != 0;
  }
  c.nfacct_ct_state_invalid = EnsureNfacctCounter(*runner, "ct_state_invalid_dropped_pkts");
  c.nfacct_localhost_nodeports = EnsureNfacctCounter(*runner, "localhost_nps_accepted_pkts");
  absl::StatusOr<std::unique_ptr<IptablesBackend>> b =
      IptablesBackend::Create(std::move(options), std::move(runner));
  if (!b.ok()) return b.status();
  return std::unique_ptr<Backend>(*std::move(b));
}

}  // namespace
}  // namespace kslice::proxy::iptables

KSLICE_REGISTER_PROXY_BACKEND(iptables, ::kslice::proxy::iptables::NewIptablesBackend);
