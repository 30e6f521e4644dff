// Helpers of the EndpointSlice controller (upstream k8s.io/endpointslice utils.go and
// util/controller_utils.go): which pods become endpoints, the endpoint built from a pod,
// port resolution, the address types a service needs, the canonical port-mapping key,
// the skeleton and labels of new slices, ownership and equality checks, and the pod
// update checks that decide which services a pod event re-syncs.
//
// All functions are pure and thread-safe.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICE_UTILS_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICE_UTILS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "google/protobuf/map.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace kslice::endpointslice {

using LabelMap = google::protobuf::Map<std::string, std::string>;
using EndpointPorts = google::protobuf::RepeatedPtrField<api::discovery::v1::EndpointPort>;

inline constexpr char kAddressTypeIPv4[] = "IPv4";
inline constexpr char kAddressTypeIPv6[] = "IPv6";

// ---- Pods -------------------------------------------------------------------------

// The pod's first condition of type Ready has status "True".
bool IsPodReady(const api::core::v1::Pod& pod);

// Not terminal (phase Succeeded/Failed), has status.podIP or status.podIPs, and (unless
// include_terminating) no deletionTimestamp. The reconciler passes true.
bool ShouldPodBeInEndpoints(const api::core::v1::Pod& pod, bool include_terminating);

// spec.hostname non-empty, spec.subdomain == service name, same namespace.
bool ShouldSetHostname(const api::core::v1::Pod& pod, const api::core::v1::Service& service);

// Parses an IP as Kubernetes' ParseIPSloppy (IPv4 octets may have leading zeros; an
// IPv6 address may end in dotted IPv4) and returns {is_ipv6, canonical text}. An
// IPv4-mapped IPv6 address counts as IPv4 ("::ffff:1.2.3.4" -> "1.2.3.4"). Unparsable
// text gives {false, "<nil>"} as Go's net.IP(nil).String() does.
std::pair<bool, std::string> CanonicalIP(std::string_view ip);

// Appends to `out` the canonical addresses of status.podIPs of the given family
// ("IPv4" or "IPv6") in order.
void EndpointAddresses(const api::core::v1::Pod& pod, std::string_view address_type,
                       google::protobuf::RepeatedPtrField<std::string>* out);

// Fills `endpoint` (cleared first) for the pod: addresses of `address_type`,
// conditions ready/serving/terminating, hostname, nodeName, zone (from `node`, may be
// null), targetRef {Pod, ns, name, uid}. No hints.
void PodToEndpoint(const api::core::v1::Pod& pod, const api::core::v1::Node* node,
                   const api::core::v1::Service& service, std::string_view address_type,
                   api::discovery::v1::Endpoint* endpoint);

// ---- Ports ------------------------------------------------------------------------

// The container port for a service port: a numeric targetPort as is; a named one from
// spec.containers[*].ports (same name and protocol), then from init containers with
// restartPolicy Always (sidecars). NotFound otherwise.
absl::StatusOr<int32_t> FindPort(const api::core::v1::Pod& pod,
                                 const api::core::v1::ServicePort& service_port);

// The pod's endpoint ports, in service order (a headless service without ports: none;
// service ports whose target cannot be resolved are skipped).
EndpointPorts GetEndpointPorts(const api::core::v1::Service& service,
                               const api::core::v1::Pod& pod);

// Sorts ports into the canonical order used for slices (name, port, protocol,
// appProtocol; unset before set). Upstream sorts by the ports' FNV hashes instead; the
// order carries no meaning (docs/endpointslice-controller.md, Differences).
void SortEndpointPorts(EndpointPorts* ports);

// A canonical, order-insensitive key for a port list: equal for lists holding the same
// (name, port, protocol, appProtocol) tuples (presence included) in any order; the empty
// list (upstream: nil or empty) has key "".
std::string PortMapKey(const EndpointPorts& ports);

// ---- Service ----------------------------------------------------------------------

// The address types to reconcile: spec.ipFamilies when set; else the family of a set
// clusterIP; else (headless or empty clusterIP) both. Sorted ("IPv4" before "IPv6").
std::vector<std::string> AddressTypesForService(const api::core::v1::Service& service);

// clusterIP is neither "" nor "None".
bool IsServiceIPSet(const api::core::v1::Service& service);

// The label is kubernetes.io/service-name, endpointslice.kubernetes.io/managed-by or
// service.kubernetes.io/headless.
bool IsReservedLabelKey(std::string_view key);

// The labels a slice of `service` must carry: the service's labels minus the reserved
// keys, plus service-name, managed-by = controller_name and (headless services) the
// headless label "". `changed`: the slice's labels minus reserved keys differ from the
// service's labels minus reserved keys (reserved-label drift is not detected).
LabelMap EndpointSliceLabels(const LabelMap& slice_labels, const api::core::v1::Service& service,
                             std::string_view controller_name, bool* changed);

// "<name>-", or the bare name if that is not a valid DNS-subdomain prefix.
std::string EndpointSlicePrefix(std::string_view service_name);

// A new slice of the service: generateName, namespace, one controller ownerRef to the
// Service, labels per EndpointSliceLabels, the address type and ports, no endpoints.
api::discovery::v1::EndpointSlice NewEndpointSlice(const api::core::v1::Service& service,
                                                   std::string_view address_type,
                                                   const EndpointPorts& ports,
                                                   std::string_view controller_name);

// Some ownerReference has uid == service uid, kind "Service", apiVersion "v1".
bool OwnedBy(const api::discovery::v1::EndpointSlice& slice,
             const api::core::v1::Service& service);

// "ns/<service-name label>"; InvalidArgument when the label is missing or empty.
absl::StatusOr<std::string> ServiceControllerKey(const api::discovery::v1::EndpointSlice& slice);

// Sets endpoints.kubernetes.io/last-change-trigger-time to the time in Go's RFC3339Nano
// (UTC, trailing fractional zeros trimmed); absl::InfinitePast() (Go's zero time)
// removes the annotation.
void SetTriggerTimeAnnotation(api::discovery::v1::EndpointSlice* slice, absl::Time trigger_time);
std::string FormatRFC3339Nano(absl::Time t);

// ---- Equality ---------------------------------------------------------------------

// Same nodeName, zone, ready/serving/terminating (presence and value) and targetRef
// (all fields but resourceVersion). Addresses and hostname (identity) and hints are not
// compared.
bool EndpointsEqualBeyondHash(const api::discovery::v1::Endpoint& a,
                              const api::discovery::v1::Endpoint& b);

// Placeholder comparison (upstream placeholderSliceCompare): namespace, label map,
// addressType, ports and endpoints (empty lists equal); other metadata ignored.
bool PlaceholderSliceEqual(const api::discovery::v1::EndpointSlice& a,
                           const api::discovery::v1::EndpointSlice& b);

// ---- Pod events -> services ---------------------------------------------------------

struct PodChange {
  bool pod_changed = false;     // may change the pod's endpoint (deletion, readiness, IPs)
  bool labels_changed = false;  // labels, hostname or subdomain differ
};
// Upstream podEndpointsChanged. Note: deletionTimestamp counts as changed when either
// side has one (upstream compares pointers of distinct objects).
PodChange PodChangedHelper(const api::core::v1::Pod& old_pod, const api::core::v1::Pod& new_pod);

// What a pod event needs resolved into services (upstream PodProjectionKey).
struct PodProjectionKey {
  std::string ns;
  std::map<std::string, std::string> labels;
  // Set when the labels changed in an update: services of either label set count.
  std::optional<std::map<std::string, std::string>> old_labels;
  bool pod_changed = false;  // with old_labels: union (true) or symmetric difference
  bool operator==(const PodProjectionKey&) const = default;
};
// Add: old_pod null. Delete: new_pod null. Update: nullopt when the resourceVersion is
// equal (resync) or nothing relevant changed.
std::optional<PodProjectionKey> PodUpdateProjectionKey(const api::core::v1::Pod* old_pod,
                                                       const api::core::v1::Pod* new_pod);

// The service has a selector and every selector pair is in `labels` (an equality set
// selector). An empty selector map counts as no selector and matches nothing: proto maps
// have no presence, so upstream's nil and empty selectors cannot be told apart and the
// nil reading (no endpoints managed) is the safe one (docs, Differences).
bool SelectorMatches(const api::core::v1::Service& service,
                     const std::map<std::string, std::string>& labels);

// Service keys ("ns/name") among `services` (same namespace as the key) whose selector
// matches the key's labels; with old_labels: union or symmetric difference of the new-
// and old-label matches per pod_changed.
std::set<std::string> ServicesToUpdate(
    const std::vector<std::shared_ptr<const api::core::v1::Service>>& services,
    const PodProjectionKey& key);

// PodUpdateProjectionKey + ServicesToUpdate in one call (empty when no key).
std::set<std::string> ServicesToUpdateOnPodChange(
    const std::vector<std::shared_ptr<const api::core::v1::Service>>& services,
    const api::core::v1::Pod* old_pod, const api::core::v1::Pod* new_pod);

}  // namespace kslice::endpointslice

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICE_UTILS_H_
