// The proxy's model: what a dataplane backend receives.
//
// The change trackers (service_change_tracker.h, endpoints_change_tracker.h) turn
// Services and EndpointSlices into two maps keyed by ServicePortName, as kube-proxy's
// ServicePortMap and EndpointsMap (pkg/proxy/serviceport.go, endpoint.go):
//
//   ServicePortMap:  default/nginx-service:http (TCP) -> ClusterIP 10.96.204.67, port 80, ...
//   EndpointsMap:    default/nginx-service:http (TCP) -> [192.168.156.5:80, 192.168.202.196:80]
//
// A ProxyState is one immutable snapshot of both maps plus the node context. Values are
// shared_ptr-to-const, so a snapshot is cheap to copy and a backend may keep the previous
// one (to diff, or to stream deltas) for as long as it likes: nothing in a snapshot is
// ever modified after it is published. Every snapshot carries a version number that
// increases by one per published state; the SyncHint given with it names what changed
// since the previous version (backend.h).
//
// Which endpoints a given kind of traffic may use (ready, serving-terminating fallback,
// traffic policy Local, topology hints) is computed by CategorizeEndpoints
// (topology.h) from an entry of each map and the node context; backends call it.
#ifndef KSLICE_PROXY_TYPES_H_
#define KSLICE_PROXY_TYPES_H_

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace kslice::proxy {

enum class IPFamily { kIPv4, kIPv6 };

// "IPv4" / "IPv6" (the EndpointSlice addressType and Service ipFamilies spelling).
const char* IPFamilyName(IPFamily family);

// Identifies one port of one Service: namespace, name, port name and protocol
// (upstream's ServicePortName). Protocol is part of the key but not of String().
struct ServicePortName {
  std::string ns;         // namespace
  std::string name;       // Service name
  std::string port;       // spec.ports[].name; "" for an unnamed single port
  std::string protocol;   // "TCP", "UDP" or "SCTP"

  // "<namespace>/<name>" plus ":<port>" when the port name is non-empty, e.g.
  // "default/nginx-service:http" or "default/kubernetes". Used in rule comments.
  std::string String() const;
  // "<namespace>/<name>".
  std::string NamespacedName() const { return ns + "/" + name; }

  auto operator<=>(const ServicePortName&) const = default;
  bool operator==(const ServicePortName&) const = default;
};

// Session affinity of a service port.
enum class SessionAffinity { kNone, kClientIP };

// One tracked Service port (upstream's BaseServicePortInfo). Addresses are in this
// proxy's IP family only; addresses of the other family were dropped by the tracker.
struct ServicePortInfo {
  std::string cluster_ip;                        // canonical text form
  int32_t port = 0;
  std::string protocol;                          // "TCP", "UDP", "SCTP"
  int32_t node_port = 0;                         // 0: none
  std::vector<std::string> external_ips;         // spec.externalIPs of this family
  std::vector<std::string> load_balancer_vips;   // status ingress IPs (ipMode != Proxy)
  std::vector<std::string> load_balancer_source_ranges;  // trimmed CIDRs of this family
  SessionAffinity session_affinity = SessionAffinity::kNone;
  int32_t sticky_max_age_seconds = 0;            // ClientIP timeout; 0 without affinity
  int32_t health_check_node_port = 0;            // LoadBalancer + ETP=Local only
  bool external_policy_local = false;            // externalTrafficPolicy Local (applies)
  bool internal_policy_local = false;            // internalTrafficPolicy Local
  std::string traffic_distribution;              // spec.trafficDistribution, "" if unset
  std::string service_type;                      // spec.type ("ClusterIP" if unset)

  // NodePort, load-balancer VIPs or external IPs: reachable from outside the cluster.
  bool ExternallyAccessible() const {
    return node_port != 0 || !load_balancer_vips.empty() || !external_ips.empty();
  }
  // Whether some traffic to this port may go to any endpoint in the cluster.
  bool UsesClusterEndpoints() const {
    return !internal_policy_local || ExternallyAccessible();
  }
  // Whether some traffic to this port must stay on node-local endpoints.
  bool UsesLocalEndpoints() const {
    return internal_policy_local || (external_policy_local && ExternallyAccessible());
  }
  // "10.96.204.67:80/TCP" (logs only).
  std::string String() const;

  bool operator==(const ServicePortInfo&) const = default;
};

// One endpoint of one service port (upstream's BaseEndpointInfo).
struct EndpointInfo {
  std::string ip;            // canonical text form of addresses[0]
  int32_t port = 0;
  bool ready = true;         // conditions.ready (unset: true)
  bool serving = true;       // conditions.serving (unset: true)
  bool terminating = false;  // conditions.terminating (unset: false)
  bool is_local = false;     // nodeName equals this proxy's node name
  std::string node_name;     // endpoint nodeName, "" if unset
  std::string zone;          // endpoint zone, "" if unset
  std::set<std::string> zone_hints;  // hints.forZones[].name
  std::set<std::string> node_hints;  // hints.forNodes[].name (PreferSameNode gate)

  // "10.180.0.1:80", "[fd00::1]:80". The key endpoints are merged and sorted by.
  std::string String() const;

  bool operator==(const EndpointInfo&) const = default;
};

using ServicePortInfoPtr = std::shared_ptr<const ServicePortInfo>;
using EndpointList = std::vector<EndpointInfo>;  // sorted by String()
using EndpointListPtr = std::shared_ptr<const EndpointList>;

// Sorted by ServicePortName, so iteration order (and so generated rules) is
// deterministic. Entries are never null.
using ServicePortMap = std::map<ServicePortName, ServicePortInfoPtr>;
// Service ports with at least one endpoint; lists are never null nor empty.
using EndpointsMap = std::map<ServicePortName, EndpointListPtr>;

// What the proxy knows about its own node. Changing labels (the zone) calls for a full
// sync, as in kube-proxy.
struct NodeContext {
  std::string name;                           // --hostname-override / OS hostname
  std::map<std::string, std::string> labels;  // of the Node object, empty if unknown
  // labels["topology.kubernetes.io/zone"], or "" when unset.
  std::string Zone() const;

  bool operator==(const NodeContext&) const = default;
};

// One immutable snapshot of the proxy's state. Cheap to copy (three shared pointers
// and the node context). `services` and `endpoints` are never null.
struct ProxyState {
  // 1 for the first published state, +1 for each following one.
  uint64_t version = 0;
  IPFamily family = IPFamily::kIPv4;
  std::shared_ptr<const ServicePortMap> services = std::make_shared<const ServicePortMap>();
  std::shared_ptr<const EndpointsMap> endpoints = std::make_shared<const EndpointsMap>();
  NodeContext node;

  // The endpoints of a service port; an empty list when it has none.
  const EndpointList& EndpointsOf(const ServicePortName& port) const;
  // Total number of endpoints over all service ports (kube-proxy's large-cluster test).
  size_t TotalEndpoints() const;
};

}  // namespace kslice::proxy

#endif  // KSLICE_PROXY_TYPES_H_
