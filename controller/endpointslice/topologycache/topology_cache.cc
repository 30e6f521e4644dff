// TopologyCache: topology-aware hints for topology-mode: Auto (upstream
// k8s.io/endpointslice topologycache/topologycache.go, sliceinfo.go, utils.go).
//
// Outline of AddHints for one (service, address type) with N ready endpoints:
//   1. Allocations: per zone desired = ratio * N, minimum = ceil(desired / 1.2),
//      maximum = minimum + N - sum(minimums). Failure (no ratios, < 2 zones, zones > N,
//      minimums > N) removes the hints with a Warning event.
//   2. Unchanged slices keep their hints when every ready endpoint has one for an
//      allocated zone and no zone goes over its maximum; others move to to_update.
//   3. Every ready endpoint of to_create/to_update is hinted to its own zone.
//   4. Zones over their desired count give endpoints to zones under it, whole endpoints
//      at a time, while at least half an endpoint is owed on both sides.
//
// Where upstream iterates Go maps (random order) to break ties between zones, this
// code uses zone-name order, so results are deterministic; upstream's results for the
// same input are one of the orders this could produce.
#include "controller/endpointslice/topologycache/topology_cache.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/resource/quantity.h"

namespace kslice::endpointslice::topologycache {
namespace {

using api::core::v1::Node;
using api::discovery::v1::Endpoint;

constexpr char kLabelTopologyZone[] = "topology.kubernetes.io/zone";
constexpr char kLabelControlPlane[] = "node-role.kubernetes.io/control-plane";
constexpr char kLabelMaster[] = "node-role.kubernetes.io/master";

// How many endpoints a zone should get.
struct Allocation {
  int minimum = 0;
  int maximum = 0;
  double desired = 0;
};
using Allocations = std::map<std::string, Allocation>;

// 1 / (1 + overloadThreshold), evaluated the way Go folds its typed float64 constants
// (each step rounded to double), which is plain IEEE double arithmetic.
double OverloadFactor() { return 1.0 / (1.0 + kOverloadThreshold); }

bool NodeReady(const Node& node) {
  for (const auto& condition : node.status().conditions()) {
    if (condition.type() == "Ready") return condition.status() == "True";
  }
  return false;
}

bool HasExcludedLabels(const Node& node) {
  const auto& labels = node.metadata().labels();
  return labels.count(kLabelControlPlane) > 0 || labels.count(kLabelMaster) > 0;
}

// status.allocatable["cpu"]; zero when absent or unparsable (the API server never
// stores an unparsable quantity).
resource::Quantity AllocatableCpu(const Node& node) {
  const auto& allocatable = node.status().allocatable();
  auto it = allocatable.find("cpu");
  if (it == allocatable.end()) return resource::Quantity();
  absl::StatusOr<resource::Quantity> q = resource::Quantity::Parse(it->second.string());
  return q.ok() ? *q : resource::Quantity();
}

int NumReadyEndpoints(const EndpointSlice& slice) {
  int n = 0;
  for (const Endpoint& endpoint : slice.endpoints()) n += EndpointReady(endpoint) ? 1 : 0;
  return n;
}

int TotalReadyEndpoints(const SliceInfo& si) {
  int total = 0;
  for (const EndpointSlice& slice : si.to_create) total += NumReadyEndpoints(slice);
  for (const EndpointSlice& slice : si.to_update) total += NumReadyEndpoints(slice);
  for (const auto& slice : si.unchanged) total += NumReadyEndpoints(*slice);
  return total;
}

// Upstream getAllocations. On failure returns nullopt and sets *event.
std::optional<Allocations> GetAllocations(
    const std::optional<std::map<std::string, double>>& ratios, int num_endpoints,
    HintEvent* event) {
  auto fail = [event](std::string message) {
    *event = HintEvent{kEventTypeWarning, kReasonHintsDisabled, std::move(message)};
    return std::nullopt;
  };
  if (!ratios.has_value()) return fail(kInsufficientNodeInfo);
  const int zones = static_cast<int>(ratios->size());
  if (zones < 2) return fail(kNodesReadyInOneZoneOnly);
  if (zones > num_endpoints) {
    return fail(absl::StrCat(kInsufficientNumberOfEndpoints, " (", num_endpoints,
                             " endpoints, ", zones, " zones)"));
  }
  int remaining = num_endpoints;
  int min_total = 0;
  Allocations allocations;
  for (const auto& [zone, ratio] : *ratios) {
    const double desired = ratio * static_cast<double>(num_endpoints);
    const int minimum = static_cast<int>(std::ceil(desired * OverloadFactor()));
    allocations[zone] = Allocation{minimum, 0, std::max(desired, static_cast<double>(minimum))};
    min_total += minimum;
    remaining -= minimum;
    if (remaining < 0) {
      return fail(absl::StrCat(kMinAllocationExceedsOverloadThreshold, " (", num_endpoints,
                               " endpoints, ", zones, " zones)"));
    }
  }
  for (auto& [zone, allocation] : allocations) {
    allocation.maximum = allocation.minimum + num_endpoints - min_total;
  }
  return allocations;
}

// Upstream getHintsByZone: the hints per zone of an unchanged slice, or nullopt when the
// slice needs new hints (a ready endpoint without zone hints, a hint for a zone that is
// not allocated, or a zone pushed over its maximum).
std::optional<EndpointZoneInfo> HintsByZone(const EndpointSlice& slice,
                                            const EndpointZoneInfo& allocated,
                                            const Allocations& allocations) {
  EndpointZoneInfo hints;
  for (const Endpoint& endpoint : slice.endpoints()) {
    if (!EndpointReady(endpoint)) continue;
    if (!endpoint.has_hints() || endpoint.hints().forzones().empty()) return std::nullopt;
    for (const auto& for_zone : endpoint.hints().forzones()) {
      if (allocations.count(for_zone.name()) == 0) return std::nullopt;
      ++hints[for_zone.name()];
    }
  }
  for (const auto& [zone, count] : hints) {
    auto already = allocated.find(zone);
    const int before = already == allocated.end() ? 0 : already->second;
    auto allocation = allocations.find(zone);
    if (allocation == allocations.end() || count + before > allocation->second.maximum) {
      return std::nullopt;
    }
  }
  return hints;
}

// Upstream SliceInfo.getAllocatedHintsByZone: counts the hints of the unchanged slices
// that can keep them and moves copies of the others into to_update.
EndpointZoneInfo AllocatedHintsByZone(SliceInfo& si, const Allocations& allocations) {
  EndpointZoneInfo allocated;
  std::vector<std::shared_ptr<const EndpointSlice>> still_unchanged;
  still_unchanged.reserve(si.unchanged.size());
  for (auto& slice : si.unchanged) {
    std::optional<EndpointZoneInfo> hints = HintsByZone(*slice, allocated, allocations);
    if (!hints.has_value()) {
      si.to_update.push_back(*slice);
      continue;
    }
    for (const auto& [zone, count] : *hints) allocated[zone] += count;
    still_unchanged.push_back(std::move(slice));
  }
  si.unchanged = std::move(still_unchanged);
  return allocated;
}

// The zone with the largest positive amount (first in name order on ties), or "".
std::pair<std::string, double> Most(const std::map<std::string, double>& zones) {
  std::string zone;
  double most = 0;
  for (const auto& [z, n] : zones) {
    if (n > most) {
      zone = z;
      most = n;
    }
  }
  return {zone, most};
}

// Upstream getGivingAndReceivingZones: whole endpoints each zone gives / receives.
std::pair<std::map<std::string, int>, std::map<std::string, int>> GivingAndReceivingZones(
    const Allocations& allocations, const EndpointZoneInfo& allocated) {
  std::map<std::string, double> giving_desired;
  std::map<std::string, double> receiving_desired;
  for (const auto& [zone, allocation] : allocations) {
    auto it = allocated.find(zone);
    const double have = it == allocated.end() ? 0.0 : static_cast<double>(it->second);
    if (have > allocation.desired) {
      giving_desired[zone] = have - allocation.desired;
    } else if (have < allocation.desired) {
      receiving_desired[zone] = allocation.desired - have;
    }
  }
  std::map<std::string, int> giving;
  std::map<std::string, int> receiving;
  while (true) {
    auto [giving_zone, to_give] = Most(giving_desired);
    auto [receiving_zone, to_receive] = Most(receiving_desired);
    if (giving_zone.empty() || receiving_zone.empty() || (to_give < 1.0 && to_receive < 1.0) ||
        to_give < 0.5 || to_receive < 0.5) {
      break;
    }
    ++giving[giving_zone];
    giving_desired[giving_zone] -= 1;
    ++receiving[receiving_zone];
    receiving_desired[receiving_zone] -= 1;
  }
  return {std::move(giving), std::move(receiving)};
}

// Upstream redistributeHints: re-hints ready endpoints of giving zones to receiving
// zones; returns the change in count per zone.
std::map<std::string, int> RedistributeHints(const std::vector<EndpointSlice*>& slices,
                                             std::map<std::string, int> giving,
                                             std::map<std::string, int> receiving) {
  std::map<std::string, int> changes;
  for (EndpointSlice* slice : slices) {
    for (Endpoint& endpoint : *slice->mutable_endpoints()) {
      // Upstream means to clear a not-ready endpoint's hints here but assigns to a copy,
      // so they are left as they are.
      if (!EndpointReady(endpoint)) continue;
      if (giving.empty() || receiving.empty()) return changes;
      if (!endpoint.has_zone() || endpoint.zone().empty()) continue;  // caught earlier
      const std::string& giving_zone = endpoint.zone();
      auto give = giving.find(giving_zone);
      if (give == giving.end() || give->second <= 0) continue;
      for (auto receive = receiving.begin(); receive != receiving.end(); ++receive) {
        if (receive->second <= 0) continue;
        const std::string receiving_zone = receive->first;
        endpoint.clear_hints();
        endpoint.mutable_hints()->add_forzones()->set_name(receiving_zone);
        if (--give->second == 0) giving.erase(give);
        if (--receive->second == 0) receiving.erase(receive);
        ++changes[receiving_zone];
        --changes[giving_zone];
        break;
      }
    }
  }
  return changes;
}

// Upstream serviceOverloaded.
bool ServiceOverloaded(const EndpointZoneInfo& ezi,
                       const std::optional<std::map<std::string, double>>& ratios) {
  if (ezi.empty()) return false;
  if (!ratios.has_value() || ratios->empty()) return true;
  double total = 0;
  for (const auto& [zone, count] : ezi) total += static_cast<double>(count);
  for (const auto& [zone, ratio] : *ratios) {
    auto it = ezi.find(zone);
    if (it == ezi.end()) return true;
    const double minimum = std::ceil(total * ratio * OverloadFactor());
    if (it->second < static_cast<int>(minimum)) return true;
  }
  return false;
}

}  // namespace

void TopologyCache::AddHints(SliceInfo& si, std::vector<HintEvent>* events) {
  const int total = TotalReadyEndpoints(si);
  std::optional<std::map<std::string, double>> ratios;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ratios = cpu_ratios_by_zone_;
  }
  HintEvent failure;
  std::optional<Allocations> allocations = GetAllocations(ratios, total, &failure);
  auto remove_all = [&](HintEvent event) {
    event.message = FormatWithAddressType(event.message, si.address_type);
    events->push_back(std::move(event));
    RemoveHints(si.service_key, si.address_type);
    RemoveHintsFromSlices(si);
  };
  if (!allocations.has_value()) {
    remove_all(std::move(failure));
    return;
  }

  EndpointZoneInfo allocated = AllocatedHintsByZone(si, *allocations);

  // Pointers are taken only now: AllocatedHintsByZone may have grown to_update.
  std::vector<EndpointSlice*> allocatable;
  allocatable.reserve(si.to_create.size() + si.to_update.size());
  for (EndpointSlice& slice : si.to_create) allocatable.push_back(&slice);
  for (EndpointSlice& slice : si.to_update) allocatable.push_back(&slice);

  // Step 1: every ready endpoint starts hinted to its own zone.
  for (EndpointSlice* slice : allocatable) {
    for (Endpoint& endpoint : *slice->mutable_endpoints()) {
      // Not-ready endpoints keep whatever hints they have (upstream quirk, see
      // RedistributeHints).
      if (!EndpointReady(endpoint)) continue;
      if (!endpoint.has_zone() || endpoint.zone().empty()) {
        remove_all(HintEvent{kEventTypeWarning, kReasonHintsDisabled, kNoZoneSpecified});
        return;
      }
      ++allocated[endpoint.zone()];
      endpoint.clear_hints();
      endpoint.mutable_hints()->add_forzones()->set_name(endpoint.zone());
    }
  }

  // Steps 2 and 3: move endpoints from zones over their share to zones under it.
  auto [giving, receiving] = GivingAndReceivingZones(*allocations, allocated);
  for (const auto& [zone, change] :
       RedistributeHints(allocatable, std::move(giving), std::move(receiving))) {
    allocated[zone] += change;
  }

  if (allocated.empty()) {
    remove_all(HintEvent{kEventTypeWarning, kReasonHintsDisabled, kNoAllocatedHintsForZones});
    return;
  }

  std::lock_guard<std::mutex> lock(mu_);
  const bool had_hints = HasPopulatedHintsLocked(si.service_key);
  SetHintsLocked(si.service_key, si.address_type, std::move(allocated));
  if (!had_hints) {
    events->push_back(HintEvent{kEventTypeNormal, kReasonHintsEnabled,
                                FormatWithAddressType(kTopologyAwareHintsEnabled,
                                                      si.address_type)});
  }
}

void TopologyCache::SetHints(const std::string& service_key, const std::string& address_type,
                             EndpointZoneInfo allocated) {
  std::lock_guard<std::mutex> lock(mu_);
  SetHintsLocked(service_key, address_type, std::move(allocated));
}

void TopologyCache::SetHintsLocked(const std::string& service_key,
                                   const std::string& address_type,
                                   EndpointZoneInfo allocated) {
  endpoints_by_service_[service_key][address_type] = std::move(allocated);
  hints_populated_by_service_.insert(service_key);
}

void TopologyCache::RemoveHints(const std::string& service_key,
                                const std::string& address_type) {
  std::lock_guard<std::mutex> lock(mu_);
  RemoveHintsLocked(service_key, address_type);
}

void TopologyCache::RemoveHintsLocked(const std::string& service_key,
                                      const std::string& address_type) {
  auto it = endpoints_by_service_.find(service_key);
  if (it != endpoints_by_service_.end()) {
    it->second.erase(address_type);
    if (it->second.empty()) endpoints_by_service_.erase(it);
  }
  // As upstream: the service counts as "no hints" even if the other address type still
  // has an allocation.
  hints_populated_by_service_.erase(service_key);
}

void TopologyCache::SetNodes(const std::vector<std::shared_ptr<const Node>>& nodes) {
  std::map<std::string, resource::Quantity> cpu_by_zone;
  bool sufficient = true;
  resource::Quantity total;
  for (const auto& node : nodes) {
    if (node == nullptr || HasExcludedLabels(*node) || !NodeReady(*node)) continue;
    const resource::Quantity cpu = AllocatableCpu(*node);
    const auto& labels = node->metadata().labels();
    auto zone = labels.find(kLabelTopologyZone);
    // One node without a zone or CPU makes the whole cluster's information unusable
    // (upstream bails out the same way).
    if (zone == labels.end() || zone->second.empty() || cpu.IsZero()) {
      cpu_by_zone.clear();
      sufficient = false;
      break;
    }
    total.Add(cpu);
    cpu_by_zone[zone->second].Add(cpu);
  }

  std::lock_guard<std::mutex> lock(mu_);
  if (total.IsZero() || !sufficient || cpu_by_zone.size() < 2) {
    sufficient_node_info_ = false;
    cpu_by_zone_.clear();
    cpu_ratios_by_zone_.reset();
    return;
  }
  sufficient_node_info_ = true;
  cpu_by_zone_.clear();
  std::map<std::string, double> ratios;
  const double total_milli = static_cast<double>(total.MilliValue());
  for (const auto& [zone, cpu] : cpu_by_zone) {
    cpu_by_zone_[zone] = cpu.MilliValue();
    ratios[zone] = static_cast<double>(cpu.MilliValue()) / total_milli;
  }
  cpu_ratios_by_zone_ = std::move(ratios);
}

bool TopologyCache::HasPopulatedHints(const std::string& service_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return HasPopulatedHintsLocked(service_key);
}

bool TopologyCache::HasPopulatedHintsLocked(const std::string& service_key) const {
  return hints_populated_by_service_.count(service_key) > 0;
}

std::vector<std::string> TopologyCache::GetOverloadedServices() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> keys;
  for (const auto& [key, by_address_type] : endpoints_by_service_) {
    for (const auto& [address_type, ezi] : by_address_type) {
      if (ServiceOverloaded(ezi, cpu_ratios_by_zone_)) {
        keys.push_back(key);
        break;
      }
    }
  }
  return keys;
}

std::optional<std::map<std::string, double>> TopologyCache::CpuRatiosByZone() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cpu_ratios_by_zone_;
}

std::map<std::string, int64_t> TopologyCache::CpuByZone() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cpu_by_zone_;
}

bool TopologyCache::SufficientNodeInfo() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sufficient_node_info_;
}

std::optional<EndpointZoneInfo> TopologyCache::StoredHints(
    const std::string& service_key, const std::string& address_type) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = endpoints_by_service_.find(service_key);
  if (it == endpoints_by_service_.end()) return std::nullopt;
  auto ezi = it->second.find(address_type);
  if (ezi == it->second.end()) return std::nullopt;
  return ezi->second;
}

}  // namespace kslice::endpointslice::topologycache
