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
#ifndef KSLICE_CMD_KSLICE_PROXY_DRYRUN_H_
#define KSLICE_CMD_KSLICE_PROXY_DRYRUN_H_

#include <ostream>
#include <string>

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

// `options.dry_run` and `dry_run_output` are set here. When the objects hold the Node
// named options.node_name and "iptables.node-ip" is not set, it is set from NodeIP. NotFound (listing the registered
// modes) for an unknown mode; the backend's error if the sync fails.
absl::Status RunDryRun(const ::kslice::cmd::objectfile::ObjectSet& objects,
                       const std::string& proxy_mode, BackendOptions options, std::ostream& out);

}  // namespace kslice::proxy::cmd

#endif  // KSLICE_CMD_KSLICE_PROXY_DRYRUN_H_
