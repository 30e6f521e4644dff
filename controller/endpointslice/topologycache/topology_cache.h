// Topology-aware hints for services annotated service.kubernetes.io/topology-mode: Auto
// (or the deprecated service.kubernetes.io/topology-aware-hints): endpoints are
// allocated to zones in proportion to the zones' allocatable CPU, with upstream's
// overload safeguards (k8s.io/endpointslice topologycache/).
// Thread-safe.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICE_TOPOLOGYCACHE_TOPOLOGY_CACHE_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICE_TOPOLOGYCACHE_TOPOLOGY_CACHE_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "google/protobuf/map.h"

namespace kslice::endpointslice::topologycache {

using api::discovery::v1::EndpointSlice;

// Zone -> number of endpoints hinted to it.
using EndpointZoneInfo = std::map<std::string, int>;

// The slices of one (service, address type) after packing. The hint code may change
// endpoints of to_create and to_update in place, and moves an unchanged slice that
// needs new hints into to_update (a copy; erased from `unchanged`).
struct SliceInfo {
  std::string service_key;   // "ns/name"
  std::string address_type;  // "IPv4", "IPv6"
  std::vector<EndpointSlice> to_create;
  std::vector<EndpointSlice> to_update;
  std::vector<std::shared_ptr<const EndpointSlice>> unchanged;
};

// An event to record on the Service (messages already carry ", addressType: X").
struct HintEvent {
  std::string type;  // "Normal" / "Warning"
  std::string reason;
  std::string message;
};

// Event reasons and messages (upstream topologycache/event.go). Every event is recorded
// on the Service with ", addressType: <type>" appended (FormatWithAddressType).
inline constexpr char kEventTypeNormal[] = "Normal";
inline constexpr char kEventTypeWarning[] = "Warning";
inline constexpr char kReasonHintsEnabled[] = "TopologyAwareHintsEnabled";
inline constexpr char kReasonHintsDisabled[] = "TopologyAwareHintsDisabled";
inline constexpr char kNoZoneSpecified[] = "One or more endpoints do not have a zone specified";
inline constexpr char kNoAllocatedHintsForZones[] = "No hints allocated for zones";
inline constexpr char kTopologyAwareHintsEnabled[] = "Topology Aware Hints has been enabled";
inline constexpr char kTopologyAwareHintsDisabled[] = "Topology Aware Hints has been disabled";
inline constexpr char kInsufficientNodeInfo[] =
    "Insufficient Node information: allocatable CPU or zone not specified on one or more nodes";
inline constexpr char kNodesReadyInOneZoneOnly[] = "Nodes only ready in one zone";
// Followed by " (<N> endpoints, <Z> zones)".
inline constexpr char kInsufficientNumberOfEndpoints[] = "Insufficient number of endpoints";
inline constexpr char kMinAllocationExceedsOverloadThreshold[] =
    "Unable to allocate minimum required endpoints to each zone without exceeding overload "
    "threshold";

// The maximum overload any single endpoint should see (upstream overloadThreshold).
inline constexpr double kOverloadThreshold = 0.2;

inline constexpr char kAnnotationTopologyMode[] = "service.kubernetes.io/topology-mode";
inline constexpr char kAnnotationTopologyAwareHints[] =
    "service.kubernetes.io/topology-aware-hints";

// True when the annotations ask for Auto hints (deprecated key wins when present).
bool HintsEnabled(const google::protobuf::Map<std::string, std::string>& annotations);

// True when the endpoint's ready condition is set and true (null is not ready, as in
// upstream's topologycache.EndpointReady).
bool EndpointReady(const api::discovery::v1::Endpoint& endpoint);

// Clears hints on every endpoint of to_create and to_update, and moves unchanged slices
// having any hinted endpoint into to_update with their hints cleared.
void RemoveHintsFromSlices(SliceInfo& si);

// "<s>, addressType: <type>".
std::string FormatWithAddressType(const std::string& s, const std::string& address_type);

class TopologyCache {
 public:
  // Allocates hints for si (see topology_cache.cc); on failure removes hints from the
  // slices and the cache entry. Appends the events to record.
  void AddHints(SliceInfo& si, std::vector<HintEvent>* events);
  void SetHints(const std::string& service_key, const std::string& address_type,
                EndpointZoneInfo allocated);
  void RemoveHints(const std::string& service_key, const std::string& address_type);
  // Recomputes CPU per zone and the zone ratios from the nodes (skips control-plane and
  // not-ready nodes).
  void SetNodes(const std::vector<std::shared_ptr<const api::core::v1::Node>>& nodes);
  bool HasPopulatedHints(const std::string& service_key) const;
  // Services whose stored allocation no longer fits the zone ratios (sorted).
  std::vector<std::string> GetOverloadedServices() const;

  // Introspection (tests, debugging). Zone ratios are nullopt when the last SetNodes
  // found insufficient node information (upstream's nil map; before any SetNodes they
  // are an empty map).
  std::optional<std::map<std::string, double>> CpuRatiosByZone() const;
  std::map<std::string, int64_t> CpuByZone() const;  // milli-CPU
  bool SufficientNodeInfo() const;
  // The stored per-zone counts for (service, address type), if any.
  std::optional<EndpointZoneInfo> StoredHints(const std::string& service_key,
                                              const std::string& address_type) const;

 private:
  bool HasPopulatedHintsLocked(const std::string& service_key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetHintsLocked(const std::string& service_key, const std::string& address_type,
                      EndpointZoneInfo allocated) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveHintsLocked(const std::string& service_key, const std::string& address_type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable std::mutex mu_;
  bool sufficient_node_info_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, int64_t> cpu_by_zone_ ABSL_GUARDED_BY(mu_);  // milli-CPU
  // nullopt = upstream's nil (insufficient node info); starts empty, not nil, which is
  // why "Nodes only ready in one zone" can only be reported before the first SetNodes.
  std::optional<std::map<std::string, double>> cpu_ratios_by_zone_ ABSL_GUARDED_BY(mu_) =
      std::map<std::string, double>{};
  std::map<std::string, std::map<std::string, EndpointZoneInfo>> endpoints_by_service_
      ABSL_GUARDED_BY(mu_);
  std::set<std::string> hints_populated_by_service_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kslice::endpointslice::topologycache

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICE_TOPOLOGYCACHE_TOPOLOGY_CACHE_H_
