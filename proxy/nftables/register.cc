// Registers the "nftables" proxy mode (--proxy-mode=nftables): BackendOptions ->
// NftablesBackend running `nft -f -`, or a dry-run backend printing the transactions.
//
// BackendOptions::extra keys read (the same the binary sets for the iptables mode):
// "iptables.node-ip" (this node's IP of the family, for loadBalancerSourceRanges that
// contain it) and "iptables.nodeport-addresses" (comma-separated node IPs NodePorts are
// served on; default: every local address). "nftables.service-cidrs"
// (comma-separated; traffic to unallocated ClusterIPs in them is dropped) and
// "nftables.numgen-vmap" = "true", which writes
// upstream's per-service `numgen … vmap` instead of the rule cascade (for comparisons).
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "proxy/backend.h"
#include "proxy/iptables/runner.h"
#include "proxy/nftables/nftables_backend.h"

namespace kslice::proxy::nftables {
namespace {

absl::StatusOr<std::unique_ptr<Backend>> NewNftablesBackend(const BackendOptions& o) {
  NftablesBackendOptions options;
  RulesetOptions& r = options.ruleset;
  r.family = o.family;
  r.masquerade_all = o.masquerade_all;
  r.masquerade_bit = o.masquerade_bit;
  if (!o.cluster_cidrs.empty()) r.cluster_cidr = o.cluster_cidrs.front();
  if (auto it = o.extra.find("iptables.node-ip"); it != o.extra.end()) r.node_ip = it->second;
  if (auto it = o.extra.find("iptables.nodeport-addresses"); it != o.extra.end()) {
    r.nodeport_ips = absl::StrSplit(it->second, ',', absl::SkipWhitespace());
  }
  if (auto it = o.extra.find("nftables.service-cidrs"); it != o.extra.end()) {
    r.service_cidrs = absl::StrSplit(it->second, ',', absl::SkipWhitespace());
  }
  if (auto it = o.extra.find("nftables.numgen-vmap"); it != o.extra.end()) {
    r.numgen_vmap = it->second == "true";
  }
  options.metrics = o.metrics;
  std::unique_ptr<iptables::Runner> runner;
  if (o.dry_run) {
    options.dry_run = true;
    options.dry_run_output = o.dry_run_output;
  } else {
    runner = iptables::NewExecRunner();
    options.partial_via_netlink = true;
  }
  absl::StatusOr<std::unique_ptr<NftablesBackend>> b =
      NftablesBackend::Create(std::move(options), std::move(runner));
  if (!b.ok()) return b.status();
  return std::unique_ptr<Backend>(*std::move(b));
}

}  // namespace
}  // namespace kslice::proxy::nftables

KSLICE_REGISTER_PROXY_BACKEND(nftables, ::kslice::proxy::nftables::NewNftablesBackend);
