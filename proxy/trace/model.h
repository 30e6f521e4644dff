// Internal to proxy/trace: the Service and its slices as the proxy sees them, built
// with the proxy's own change trackers, and the endpoint notes from CategorizeEndpoints.
#ifndef KSLICE_PROXY_TRACE_MODEL_H_
#define KSLICE_PROXY_TRACE_MODEL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/trace/report.h"
#include "proxy/trace/trace.h"
#include "proxy/types.h"

namespace kslice::proxy::trace::internal {

struct Model {
  // Only the traced ports of the Service and their endpoints; node context from the
  // Node object (labels) and TraceInput::node_name.
  ProxyState state;
  std::vector<ServicePortName> ports;  // traced, in ServicePortMap order
  std::string node_ip;                 // this node's IP of the family, "" unknown
};

// InvalidArgument for a missing service / node name or an unknown port name. A
// Service without a ClusterIP of `family` gives a Model without ports.
absl::StatusOr<Model> BuildModel(const TraceInput& in, IPFamily family);

// The state reduced to one service port (what the generator is given).
ProxyState OnePort(const Model& model, const ServicePortName& port);

// The slices' endpoints of `port` with their usage on this node.
std::vector<EndpointNote> EndpointNotes(const Model& model, const ServicePortName& port);

// "ClusterIP; internal traffic policy Cluster; session affinity None" and friends.
std::string PortSummary(const ServicePortInfo& info);

// "10.96.204.67:80/TCP" ("[fd00::1]:80/TCP").
std::string PortAddress(const ServicePortInfo& info);

// The note for `endpoint` among `notes`, or null.
const EndpointNote* FindNote(const std::vector<EndpointNote>& notes, const std::string& endpoint);

// "33.3%".
std::string Percent(double share);

}  // namespace kslice::proxy::trace::internal

#endif  // KSLICE_PROXY_TRACE_MODEL_H_
