#include "proxy/trace/model.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "proxy/endpoints_change_tracker.h"
#include "proxy/service_change_tracker.h"
#include "proxy/topology.h"

namespace kslice::proxy::trace::internal {
namespace {

bool IsV6(const std::string& s) { return s.find(':') != std::string::npos; }

}  // namespace

absl::StatusOr<Model> BuildModel(const TraceInput& in, IPFamily family) {
  if (in.service == nullptr) return absl::InvalidArgumentError("no Service given");
  if (in.node_name.empty()) return absl::InvalidArgumentError("no node name given");
  const std::string svc_name =
      absl::StrCat(in.service->metadata().namespace_(), "/", in.service->metadata().name());
  if (in.service->spec().type() == "ExternalName") {
    return absl::InvalidArgumentError(
        absl::StrCat("Service ", svc_name, " is of type ExternalName: the proxy has no rules for it"));
  }
  if (!in.port_name.empty()) {
    bool found = false;
    std::vector<std::string> names;
    for (const auto& p : in.service->spec().ports()) {
      names.push_back(p.name().empty() ? "\"\"" : p.name());
      if (p.name() == in.port_name) found = true;
    }
    if (!found) {
      return absl::InvalidArgumentError(absl::StrCat("Service ", svc_name, " has no port named \"",
                                                     in.port_name, "\" (ports: ",
                                                     absl::StrJoin(names, ", "), ")"));
    }
  }

  Model m;
  // The proxy's own trackers: what kslice-proxy's informer handlers feed them.
  ServiceChangeTracker services(family);
  services.Update(nullptr, in.service.get());
  ServicePortMap all_ports;
  services.Apply(all_ports, nullptr);
  auto ports = std::make_shared<ServicePortMap>();
  for (auto& [name, info] : all_ports) {
    if (!in.port_name.empty() && name.port != in.port_name) continue;
    m.ports.push_back(name);
    ports->emplace(name, info);
  }

  EndpointsTrackerOptions eo;
  eo.node_name = in.node_name;
  eo.family = family;
  eo.start_time = absl::InfiniteFuture();  // no latency bookkeeping
  EndpointsChangeTracker endpoints(eo);
  for (const auto& slice : in.slices) {
    if (slice != nullptr) endpoints.EndpointSliceUpdate(slice, /*remove=*/false);
  }
  EndpointsMap all_endpoints;
  endpoints.Apply(all_endpoints, nullptr);
  auto eps = std::make_shared<EndpointsMap>();
  for (auto& [name, list] : all_endpoints) {
    if (ports->count(name) > 0) eps->emplace(name, list);
  }

  m.state.version = 1;
  m.state.family = family;
  m.state.services = std::move(ports);
  m.state.endpoints = std::move(eps);
  m.state.node.name = in.node_name;
  if (in.node != nullptr && in.node->metadata().name() == in.node_name) {
    for (const auto& [k, v] : in.node->metadata().labels()) m.state.node.labels[k] = v;
    for (const char* type : {"InternalIP", "ExternalIP"}) {
      for (const auto& a : in.node->status().addresses()) {
        if (m.node_ip.empty() && a.type() == type && !a.address().empty() &&
            IsV6(a.address()) == (family == IPFamily::kIPv6)) {
          m.node_ip = a.address();
        }
      }
    }
  }
  return m;
}

ProxyState OnePort(const Model& model, const ServicePortName& port) {
  ProxyState s = model.state;
  auto services = std::make_shared<ServicePortMap>();
  auto endpoints = std::make_shared<EndpointsMap>();
  if (auto it = model.state.services->find(port); it != model.state.services->end()) {
    services->emplace(it->first, it->second);
  }
  if (auto it = model.state.endpoints->find(port); it != model.state.endpoints->end()) {
    endpoints->emplace(it->first, it->second);
  }
  s.services = std::move(services);
  s.endpoints = std::move(endpoints);
  return s;
}

std::vector<EndpointNote> EndpointNotes(const Model& model, const ServicePortName& port) {
  std::vector<EndpointNote> out;
  auto info = model.state.services->find(port);
  if (info == model.state.services->end()) return out;
  const EndpointList& list = model.state.EndpointsOf(port);
  CategorizedEndpoints cat = CategorizeEndpoints(list, *info->second, model.state.node);
  auto in = [](const std::vector<const EndpointInfo*>& v, const EndpointInfo* e) {
    for (const EndpointInfo* x : v) {
      if (x == e) return true;
    }
    return false;
  };
  for (const EndpointInfo& e : list) {
    EndpointNote n;
    n.endpoint = e.String();
    n.in_slices = true;
    n.ready = e.ready;
    n.serving = e.serving;
    n.terminating = e.terminating;
    n.node = e.node_name;
    n.zone = e.zone;
    n.local = e.is_local;
    bool c = in(cat.cluster, &e);
    bool l = in(cat.local, &e);
    n.usage = c && l ? "cluster+local" : c ? "cluster" : l ? "local" : "unused";
    out.push_back(std::move(n));
  }
  return out;
}

std::string PortSummary(const ServicePortInfo& info) {
  std::string s = info.service_type.empty() ? "ClusterIP" : info.service_type;
  if (info.node_port != 0) absl::StrAppend(&s, ", nodePort ", info.node_port);
  if (!info.external_ips.empty()) {
    absl::StrAppend(&s, ", external IPs ", absl::StrJoin(info.external_ips, " "));
  }
  if (!info.load_balancer_vips.empty()) {
    absl::StrAppend(&s, ", load-balancer IPs ", absl::StrJoin(info.load_balancer_vips, " "));
  }
  if (!info.load_balancer_source_ranges.empty()) {
    absl::StrAppend(&s, ", source ranges ", absl::StrJoin(info.load_balancer_source_ranges, " "));
  }
  absl::StrAppend(&s, "; internal traffic policy ", info.internal_policy_local ? "Local" : "Cluster");
  if (info.ExternallyAccessible()) {
    absl::StrAppend(&s, ", external ", info.external_policy_local ? "Local" : "Cluster");
  }
  if (info.session_affinity == SessionAffinity::kClientIP) {
    absl::StrAppend(&s, "; session affinity ClientIP (", info.sticky_max_age_seconds, " s)");
  } else {
    absl::StrAppend(&s, "; session affinity None");
  }
  return s;
}

std::string PortAddress(const ServicePortInfo& info) {
  return absl::StrCat(IsV6(info.cluster_ip) ? absl::StrCat("[", info.cluster_ip, "]")
                                            : info.cluster_ip,
                      ":", info.port, "/", info.protocol);
}

const EndpointNote* FindNote(const std::vector<EndpointNote>& notes, const std::string& endpoint) {
  for (const EndpointNote& n : notes) {
    if (n.endpoint == endpoint) return &n;
  }
  return nullptr;
}

std::string Percent(double share) { return absl::StrFormat("%.1f%%", share * 100.0); }

}  // namespace kslice::proxy::trace::internal
