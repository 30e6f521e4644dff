// `kslice-proxy --dry-run`: what one full sync would apply for a set of Services,
// EndpointSlices and Nodes, with no server and no root.
//
//   absl::StatusOr<objectfile::ObjectSet> in = objectfile::ReadObjects(file_bytes);
//   BackendOptions o;  o.node_name = "node-a";  o.cluster_cidrs = {"10.0.0.0/8"};
//   absl::Status s = RunDryRun(*in, "iptables", o, std::cout);
//
// The objects go through the same path as in a cluster: Proxier's On* handlers (change
// trackers, "not ours" label filtering, endpoint selection), then SyncOnce into the
// backend of `proxy_mode` built in dry-run mode, which writes its payload (iptables:
// the iptables-restore input) to `out` instead of applying it. Nodes other than
// options.node_name are ignored (only this node's labels matter: topology zone).
//
// Dual-stack (IsDualStack): the IPv4 payload, then the line kIPv6PayloadSeparator, then
// the IPv6 payload (ip6tables-restore input). The separator is a "#" comment line, which
// iptables-restore ignores. A single-stack node gets the IPv4 payload only, unchanged.
#ifndef KSLICE_CMD_KSLICE_PROXY_DRYRUN_H_
#define KSLICE_CMD_KSLICE_PROXY_DRYRUN_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "api/core/v1/core.pb.h"
#include "cmd/internal/objectfile/objectfile.h"
#include "proxy/backend.h"
#include "proxy/types.h"

namespace kslice::proxy::cmd {

// This node's IP of `family` as kube-proxy picks it from the Node object (the first
// InternalIP of the family, else the first ExternalIP; pkg/util/node GetNodeHostIPs);
// "" when there is none. The iptables backend needs it for loadBalancerSourceRanges
// that contain the node (BackendOptions::extra["iptables.node-ip"]).
std::string NodeIP(const api::core::v1::Node& node, IPFamily family);

// Printed between the IPv4 and the IPv6 payload of a dual-stack dry run.
inline constexpr char kIPv6PayloadSeparator[] = "# IPv6 (ip6tables-restore input)\n";

// Whether this node runs kube-proxy's dual-stack "meta proxier" (one proxier per family
// on the same informers): --cluster-cidr has a CIDR of each family, or `node` (may be
// null) has addresses (InternalIP/ExternalIP) or spec.podCIDRs of both families.
// Otherwise the proxy is IPv4 only, as before.
bool IsDualStack(const std::vector<std::string>& cluster_cidrs, const api::core::v1::Node* node);

// `options` for the proxier/backend of `family`: family set, cluster_cidrs reduced to
// that family's entries (the local-traffic detector), an "iptables.node-ip" of the
// other family dropped, and "iptables.nodeport-addresses" (comma list) narrowed to the
// family's addresses.
BackendOptions ForFamily(const BackendOptions& options, IPFamily family);

// `options.cluster_cidrs` may hold both families (each proxier gets its own; see
// ForFamily); `options.family` is ignored. `options.dry_run` and `dry_run_output` are
// set here. When the objects hold the Node named options.node_name and
// "iptables.node-ip" is not set, it is set per family from NodeIP. NotFound (listing
// the registered modes) for an unknown mode; the backend's error if a sync fails.
absl::Status RunDryRun(const ::kslice::cmd::objectfile::ObjectSet& objects,
                       const std::string& proxy_mode, BackendOptions options, std::ostream& out);

}  // namespace kslice::proxy::cmd

#endif  // KSLICE_CMD_KSLICE_PROXY_DRYRUN_H_
