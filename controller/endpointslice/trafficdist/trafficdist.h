// Hints from spec.trafficDistribution (PreferClose / PreferSameZone: a ready endpoint is
// hinted to its own zone; PreferSameNode: also to its own node), as upstream's
// k8s.io/endpointslice trafficdist/trafficdist.go.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICE_TRAFFICDIST_TRAFFICDIST_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICE_TRAFFICDIST_TRAFFICDIST_H_

#include <optional>
#include <string>

#include "controller/endpointslice/topologycache/topology_cache.h"

namespace kslice::endpointslice::trafficdist {

inline constexpr char kPreferClose[] = "PreferClose";
inline constexpr char kPreferSameZone[] = "PreferSameZone";
inline constexpr char kPreferSameNode[] = "PreferSameNode";

// Valid and in use: PreferClose always; PreferSameZone/PreferSameNode when
// `prefer_same` (the PreferSameTrafficDistribution gate).
bool Valid(const std::optional<std::string>& traffic_distribution, bool prefer_same);

// Sets the hints of ready endpoints in si.to_create and si.to_update for
// `traffic_distribution` (nullopt or an unknown value: hints removed from every
// endpoint, ready or not), and moves into
// to_update (copies) the unchanged slices whose hints are not what they should be.
void ReconcileHints(const std::optional<std::string>& traffic_distribution,
                    topologycache::SliceInfo& si);

}  // namespace kslice::endpointslice::trafficdist

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICE_TRAFFICDIST_TRAFFICDIST_H_
