// Endpoint selection: which endpoints of a service port each kind of traffic may use on
// this node, as kube-proxy's CategorizeEndpoints (pkg/proxy/topology.go).
//
//   CategorizedEndpoints c = CategorizeEndpoints(state.EndpointsOf(port), *info, state.node);
//   for (const EndpointInfo* ep : c.cluster) ...   // ClusterIP traffic (policy Cluster)
//
// Rules:
//  - cluster (only when info.UsesClusterEndpoints()): the ready endpoints allowed by the
//    topology mode; if none, the serving-and-terminating ones (topology ignored).
//  - Topology mode, decided on ready endpoints only: with node hints enabled, when every
//    ready endpoint has a node hint and one names this node -> keep those hinted for this
//    node ("PreferSameNode"); else when every ready endpoint has a zone hint and one names
//    this node's zone -> keep those hinted for the zone ("PreferSameZone"); else no
//    filtering. (Hints are written by the EndpointSlice controller from
//    spec.trafficDistribution or the topology-mode annotation; the proxy only reads them.)
//  - local (only when info.UsesLocalEndpoints()): local ready endpoints, else local
//    serving-and-terminating ones, else none. Topology does not apply.
//  - all_reachable: cluster when local is not used; local when cluster is not used;
//    cluster when no topology filtering happened and local holds ready endpoints only
//    (then cluster is a superset); else the union of both.
//  - has_any: some endpoint anywhere in the cluster is usable (ready, or serving and
//    terminating) for this service port — even when none is reachable from this node.
//
// Pointers point into `endpoints` and are valid as long as it is. Every list keeps the
// order of `endpoints` (sorted by "ip:port"), the union included.
#ifndef KSLICE_PROXY_TOPOLOGY_H_
#define KSLICE_PROXY_TOPOLOGY_H_

#include <string>
#include <vector>

#include "proxy/types.h"

namespace kslice::proxy {

enum class TopologyMode { kNone, kPreferSameZone, kPreferSameNode };

struct CategorizedEndpoints {
  std::vector<const EndpointInfo*> cluster;
  std::vector<const EndpointInfo*> local;
  std::vector<const EndpointInfo*> all_reachable;
  bool has_any = false;
  TopologyMode topology_mode = TopologyMode::kNone;
};

struct CategorizeOptions {
  // Feature gate PreferSameTrafficDistribution (node hints); on as in current releases.
  bool prefer_same_node = true;
};

// The topology mode the hints of `endpoints` give for this node (see the file comment).
TopologyMode TopologyModeFromHints(const EndpointList& endpoints, const std::string& node_name,
                                   const std::string& zone, CategorizeOptions options = {});

CategorizedEndpoints CategorizeEndpoints(const EndpointList& endpoints,
                                         const ServicePortInfo& info, const NodeContext& node,
                                         CategorizeOptions options = {});

}  // namespace kslice::proxy

#endif  // KSLICE_PROXY_TOPOLOGY_H_
