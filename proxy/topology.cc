#include "proxy/topology.h"

namespace kslice::proxy {
namespace {

bool AvailableForTopology(const EndpointInfo& ep, TopologyMode mode, const std::string& node,
                          const std::string& zone) {
  switch (mode) {
    case TopologyMode::kNone:
      return true;
    case TopologyMode::kPreferSameNode:
      return ep.node_hints.count(node) > 0;
    case TopologyMode::kPreferSameZone:
      return ep.zone_hints.count(zone) > 0;
  }
  return false;
}

template <typename Pred>
std::vector<const EndpointInfo*> Filter(const EndpointList& endpoints, Pred pred) {
  std::vector<const EndpointInfo*> out;
  for (const EndpointInfo& ep : endpoints) {
    if (pred(ep)) out.push_back(&ep);
  }
  return out;
}

}  // namespace

TopologyMode TopologyModeFromHints(const EndpointList& endpoints, const std::string& node_name,
                                   const std::string& zone, CategorizeOptions options) {
  bool has_ready = false;
  bool all_node_hints = true, for_node = false;
  bool all_zone_hints = true, for_zone = false;
  for (const EndpointInfo& ep : endpoints) {
    if (!ep.ready) continue;
    has_ready = true;
    if (ep.node_hints.empty()) {
      all_node_hints = false;
    } else if (ep.node_hints.count(node_name) > 0) {
      for_node = true;
    }
    if (ep.zone_hints.empty()) {
      all_zone_hints = false;
    } else if (ep.zone_hints.count(zone) > 0) {
      for_zone = true;
    }
  }
  if (!has_ready) return TopologyMode::kNone;
  if (options.prefer_same_node && all_node_hints && for_node) return TopologyMode::kPreferSameNode;
  if (all_zone_hints && for_zone) return TopologyMode::kPreferSameZone;
  return TopologyMode::kNone;
}

CategorizedEndpoints CategorizeEndpoints(const EndpointList& endpoints,
                                         const ServicePortInfo& info, const NodeContext& node,
                                         CategorizeOptions options) {
  CategorizedEndpoints out;
  if (endpoints.empty()) return out;
  const std::string zone = node.Zone();
  const bool uses_cluster = info.UsesClusterEndpoints();
  if (uses_cluster) {
    out.topology_mode = TopologyModeFromHints(endpoints, node.name, zone, options);
    out.cluster = Filter(endpoints, [&](const EndpointInfo& ep) {
      return ep.ready && AvailableForTopology(ep, out.topology_mode, node.name, zone);
    });
    if (out.cluster.empty()) {
      out.cluster = Filter(endpoints,
                           [](const EndpointInfo& ep) { return ep.serving && ep.terminating; });
    }
    out.has_any = !out.cluster.empty();
  }
  if (!info.UsesLocalEndpoints()) {
    out.all_reachable = out.cluster;
    return out;
  }
  bool local_ready = false, local_serving_terminating = false;
  for (const EndpointInfo& ep : endpoints) {
    if (ep.ready) {
      out.has_any = true;
      if (ep.is_local) local_ready = true;
    } else if (ep.serving && ep.terminating) {
      out.has_any = true;
      if (ep.is_local) local_serving_terminating = true;
    }
  }
  bool local_uses_terminating = false;
  if (local_ready) {
    out.local = Filter(endpoints, [](const EndpointInfo& ep) { return ep.is_local && ep.ready; });
  } else if (local_serving_terminating) {
    local_uses_terminating = true;
    out.local = Filter(endpoints, [](const EndpointInfo& ep) {
      return ep.is_local && ep.serving && ep.terminating;
    });
  }
  if (!uses_cluster) {
    out.all_reachable = out.local;
    return out;
  }
  if (out.topology_mode == TopologyMode::kNone && !local_uses_terminating) {
    out.all_reachable = out.cluster;
    return out;
  }
  // Union in `endpoints` order: both lists are subsequences of it.
  auto c = out.cluster.begin();
  auto l = out.local.begin();
  while (c != out.cluster.end() || l != out.local.end()) {
    if (l == out.local.end() || (c != out.cluster.end() && *c < *l)) {
      out.all_reachable.push_back(*c++);
    } else if (c == out.cluster.end() || *l < *c) {
      out.all_reachable.push_back(*l++);
    } else {
      out.all_reachable.push_back(*c++);
      ++l;
    }
  }
  return out;
}

}  // namespace kslice::proxy
