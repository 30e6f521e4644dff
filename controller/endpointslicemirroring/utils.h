// Helpers of the EndpointSlice mirroring controller (kubernetes/kubernetes
// pkg/controller/endpointslicemirroring utils.go, and the Endpoints canonical form of
// pkg/api/v1/endpoints): well-known keys, IP parsing as Go's ParseIPSloppy does it,
// RepackSubsets, port-mapping keys, endpoint identity and equality, and the skeleton of
// a mirrored slice. Everything here is a pure function; thread-compatible.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_UTILS_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_UTILS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace kslice::endpointslicemirroring {

// The managed-by value of mirrored slices.
inline constexpr char kControllerName[] = "endpointslicemirroring-controller.k8s.io";
inline constexpr char kLabelServiceName[] = "kubernetes.io/service-name";
inline constexpr char kLabelManagedBy[] = "endpointslice.kubernetes.io/managed-by";
inline constexpr char kLabelSkipMirror[] = "endpointslice.kubernetes.io/skip-mirror";
// client-go's resourcelock.LeaderElectionRecordAnnotationKey: Endpoints used as a lock.
inline constexpr char kAnnotationLeader[] = "control-plane.alpha.kubernetes.io/leader";
inline constexpr char kAnnotationTriggerTime[] = "endpoints.kubernetes.io/last-change-trigger-time";
inline constexpr char kAnnotationLastApplied[] = "kubectl.kubernetes.io/last-applied-configuration";
inline constexpr char kAddressTypeIPv4[] = "IPv4";
inline constexpr char kAddressTypeIPv6[] = "IPv6";

// Event reasons (events.go).
inline constexpr char kReasonInvalidIPAddress[] = "InvalidIPAddress";
inline constexpr char kReasonTooManyAddressesToMirror[] = "TooManyAddressesToMirror";

// An IP address in Go's 16-byte form (IPv4 as ::ffff:a.b.c.d).
using IPBytes = std::array<uint8_t, 16>;

// Parses `s` as k8s.io/utils/net.ParseIPSloppy (Go 1.16's net.ParseIP): dotted IPv4
// whose octets may carry leading zeros (read as decimal), IPv6 with an optional
// trailing dotted IPv4; no zones, no CIDR, no surrounding space. nullopt: not an IP.
std::optional<IPBytes> ParseIPSloppy(std::string_view s);
// Go's IP.To4() != nil: an IPv4 address, including the IPv4-mapped IPv6 form.
bool IsIPv4(const IPBytes& ip);
// Go's IP.String(): dotted decimal for IPv4 (and mapped) addresses, otherwise RFC 5952
// (lowercase, the first longest run of two or more zero groups as "::").
std::string FormatIP(const IPBytes& ip);

// RepackSubsets (pkg/api/v1/endpoints): expands the subsets to (port, address) pairs
// and repacks them canonically: an address is identified by (ip, targetRef.uid) and
// kept as first seen; per port, not-ready wins over ready; ports offered by exactly
// the same (address, ready) set share a subset; addresses are sorted by IP bytes then
// targetRef uid (no targetRef first). A subset without ports contributes nothing. As
// upstream (Go map keys compare the appProtocol pointer), two port entries that both
// carry an appProtocol are never merged. Ports and subsets are put in a canonical
// order (upstream sorts them by a hash; the order does not change what is mirrored).
std::vector<api::core::v1::EndpointSubset> RepackSubsets(
    const google::protobuf::RepeatedPtrField<api::core::v1::EndpointSubset>& subsets);

// Converts Endpoints ports to slice ports (name, port and protocol always set;
// appProtocol when set).
std::vector<api::discovery::v1::EndpointPort> ToSlicePorts(
    const google::protobuf::RepeatedPtrField<api::core::v1::EndpointPort>& ports);

// An order-insensitive key of a port list (each field with its presence; duplicates
// count), as upstream's NewPortMapKey hash.
std::string PortMapKey(const std::vector<api::discovery::v1::EndpointPort>& ports);
std::string PortMapKey(
    const google::protobuf::RepeatedPtrField<api::discovery::v1::EndpointPort>& ports);
// "<addressType>-<PortMapKey>": what groups desired and existing slices.
std::string AddrTypePortMapKey(std::string_view address_type, const std::string& port_key);

// The identity of an endpoint in a set (endpointslice util hashEndpoint): its sorted
// addresses, hostname and targetRef namespace/name.
std::string EndpointIdentity(const api::discovery::v1::Endpoint& endpoint);
// EndpointsEqualBeyondHash: nodeName, zone, the three conditions (presence and value)
// and targetRef (every field but resourceVersion) are equal.
bool EndpointsEqualBeyondHash(const api::discovery::v1::Endpoint& a,
                              const api::discovery::v1::Endpoint& b);

// The endpoint mirrored from an address (canonical IP, ready condition only, targetRef,
// nodeName, hostname when not empty) and its address type; nullopt for an invalid IP.
struct MirroredEndpoint {
  api::discovery::v1::Endpoint endpoint;
  const char* address_type;  // kAddressTypeIPv4 or kAddressTypeIPv6
};
std::optional<MirroredEndpoint> AddressToEndpoint(const api::core::v1::EndpointAddress& address,
                                                  bool ready);

// False when the Endpoints carries skip-mirror "true" or the leader-election annotation.
bool ShouldMirror(const api::core::v1::Endpoints& endpoints);

// generateName of new slices: "<name>-", or the bare name when that is too long for a
// DNS subdomain.
std::string EndpointSlicePrefix(const std::string& name);

// A mirrored slice for `endpoints`: labels = the Endpoints' labels with service-name and
// managed-by set; annotations = the Endpoints' without the trigger-time and
// last-applied keys; one controller ownerReference to the Endpoints; name `slice_name`,
// or generateName when it is empty; no endpoints.
api::discovery::v1::EndpointSlice NewEndpointSlice(
    const api::core::v1::Endpoints& endpoints,
    const std::vector<api::discovery::v1::EndpointPort>& ports, std::string_view address_type,
    const std::string& slice_name);

}  // namespace kslice::endpointslicemirroring

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICEMIRRORING_UTILS_H_
