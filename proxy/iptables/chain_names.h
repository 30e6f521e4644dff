// Names of the per-service and per-endpoint chains the iptables backend writes, exactly
// as kube-proxy computes them (pkg/proxy/iptables/proxier.go), so that a node programmed
// by kslice-proxy looks the same as one programmed by kube-proxy and rules survive a
// switch from one to the other.
//
//   hash16(s)  = first 16 characters of base32 (RFC 4648, upper case) of sha256(s)
//   KUBE-SVC-  hash16(spn + proto)              cluster-policy dispatch chain
//   KUBE-SVL-  hash16(spn + proto)              local-policy dispatch chain
//   KUBE-EXT-  hash16(spn + proto)              external-destination chain
//   KUBE-FW-   hash16(spn + proto)              loadBalancerSourceRanges firewall chain
//   KUBE-SEP-  hash16(spn + proto + endpoint)   one endpoint (DNAT)
//
// where spn is ServicePortName::String() ("default/nginx-service:http"), proto the
// lower-case protocol ("tcp") and endpoint the "ip:port" string ("[fd00::1]:80" for
// IPv6). No separators: "default/nginx-service:httptcp192.168.156.5:80".
// Names are at most 25 characters, inside iptables' 28-character limit.
#ifndef KSLICE_PROXY_IPTABLES_CHAIN_NAMES_H_
#define KSLICE_PROXY_IPTABLES_CHAIN_NAMES_H_

#include <string>

#include "absl/strings/string_view.h"

namespace kslice::proxy::iptables {

inline constexpr char kServicePortPolicyClusterChainPrefix[] = "KUBE-SVC-";
inline constexpr char kServicePortPolicyLocalChainPrefix[] = "KUBE-SVL-";
inline constexpr char kServiceFirewallChainPrefix[] = "KUBE-FW-";
inline constexpr char kServiceExternalChainPrefix[] = "KUBE-EXT-";
inline constexpr char kServicePortEndpointChainPrefix[] = "KUBE-SEP-";

// The 16-character hash of `s` (see above). Pure; thread-safe.
std::string Hash16(absl::string_view s);

// hash16(spn + proto); shared by the SVC, SVL, EXT and FW chains of one service port.
// `protocol` must already be lower case.
std::string PortProtoHash(absl::string_view service_port_name, absl::string_view protocol);

std::string ServicePortPolicyClusterChain(absl::string_view spn, absl::string_view protocol);
std::string ServicePortPolicyLocalChain(absl::string_view spn, absl::string_view protocol);
std::string ServiceFirewallChain(absl::string_view spn, absl::string_view protocol);
std::string ServiceExternalChain(absl::string_view spn, absl::string_view protocol);
// `endpoint` is the endpoint's "ip:port" string (EndpointInfo::String()).
std::string ServicePortEndpointChain(absl::string_view spn, absl::string_view protocol,
                                     absl::string_view endpoint);

// Whether `chain` has one of the five per-service prefixes above: the chains the
// backend owns and deletes when they are no longer in use.
bool IsServiceChainName(absl::string_view chain);

// The lower-case protocol used in chain names and `-m <proto> -p <proto>` ("tcp").
std::string LowerProtocol(absl::string_view protocol);

}  // namespace kslice::proxy::iptables

#endif  // KSLICE_PROXY_IPTABLES_CHAIN_NAMES_H_
