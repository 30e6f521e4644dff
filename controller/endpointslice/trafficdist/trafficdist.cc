// Hints from spec.trafficDistribution (upstream k8s.io/endpointslice
// trafficdist/trafficdist.go). Two heuristics:
//   - "close" (PreferClose, PreferSameZone, PreferSameNode): every ready endpoint gets
//     forZones = [own zone] when it has a zone and, for PreferSameNode only,
//     forNodes = [own node] when it has a nodeName; with neither its hints are null.
//     Not-ready endpoints are left alone.
//   - default (anything else, or unset): every endpoint's hints are cleared.
#include "controller/endpointslice/trafficdist/trafficdist.h"

#include <utility>
#include <vector>

namespace kslice::endpointslice::trafficdist {
namespace {

using api::discovery::v1::Endpoint;
using api::discovery::v1::EndpointSlice;
using topologycache::EndpointReady;

bool IsClose(const std::string& value) {
  return value == kPreferClose || value == kPreferSameZone || value == kPreferSameNode;
}

struct Heuristic {
  bool close = false;       // the "close" heuristic, else the default one
  bool node_hints = false;  // PreferSameNode

  // An unchanged slice needs an update when its hints differ from what Update sets.
  bool NeedsUpdate(const EndpointSlice& slice) const {
    if (!close) {
      for (const Endpoint& endpoint : slice.endpoints()) {
        if (endpoint.has_hints()) return true;
      }
      return false;
    }
    for (const Endpoint& endpoint : slice.endpoints()) {
      if (!EndpointReady(endpoint)) continue;
      const bool has_hints = endpoint.has_hints();
      if (endpoint.has_zone()) {
        if (!has_hints || endpoint.hints().forzones_size() != 1 ||
            endpoint.hints().forzones(0).name() != endpoint.zone()) {
          return true;
        }
      } else if (has_hints && endpoint.hints().forzones_size() > 0) {
        return true;
      }
      if (endpoint.has_nodename() && node_hints) {
        if (!has_hints || endpoint.hints().fornodes_size() != 1 ||
            endpoint.hints().fornodes(0).name() != endpoint.nodename()) {
          return true;
        }
      } else if (has_hints && endpoint.hints().fornodes_size() > 0) {
        return true;
      }
    }
    return false;
  }

  void Update(EndpointSlice& slice) const {
    for (Endpoint& endpoint : *slice.mutable_endpoints()) {
      if (!close) {
        endpoint.clear_hints();
        continue;
      }
      if (!EndpointReady(endpoint)) continue;
      const bool zone = endpoint.has_zone();
      const bool node = endpoint.has_nodename() && node_hints;
      endpoint.clear_hints();
      if (!zone && !node) continue;
      auto* hints = endpoint.mutable_hints();
      if (zone) hints->add_forzones()->set_name(endpoint.zone());
      if (node) hints->add_fornodes()->set_name(endpoint.nodename());
    }
  }
};

}  // namespace

bool Valid(const std::optional<std::string>& traffic_distribution, bool prefer_same) {
  if (!traffic_distribution.has_value()) return false;
  if (*traffic_distribution == kPreferClose) return true;
  if (!prefer_same) return false;
  return *traffic_distribution == kPreferSameZone || *traffic_distribution == kPreferSameNode;
}

void ReconcileHints(const std::optional<std::string>& traffic_distribution,
                    topologycache::SliceInfo& si) {
  Heuristic h;
  if (traffic_distribution.has_value() && IsClose(*traffic_distribution)) {
    h.close = true;
    h.node_hints = *traffic_distribution == kPreferSameNode;
  }

  // Unchanged slices are the informer's objects: copy the ones that need new hints into
  // to_update, keep the rest in order.
  std::vector<std::shared_ptr<const EndpointSlice>> still_unchanged;
  still_unchanged.reserve(si.unchanged.size());
  for (auto& slice : si.unchanged) {
    if (slice != nullptr && h.NeedsUpdate(*slice)) {
      si.to_update.push_back(*slice);
    } else {
      still_unchanged.push_back(std::move(slice));
    }
  }
  si.unchanged = std::move(still_unchanged);

  for (EndpointSlice& slice : si.to_create) h.Update(slice);
  for (EndpointSlice& slice : si.to_update) h.Update(slice);
}

}  // namespace kslice::endpointslice::trafficdist
