#include "proxy/service_change_tracker.h"

#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "proxy/internal/net.h"

namespace kslice::proxy {
namespace {

using api::core::v1::Service;

// The Service's cluster IP of `family` ("" if none): clusterIPs when set, else clusterIP.
std::string ClusterIPOfFamily(const Service& svc, IPFamily family) {
  const auto& spec = svc.spec();
  if (spec.clusterips_size() == 0) {
    auto ip = internal::ParseIP(spec.clusterip());
    return ip && ip->family == family ? ip->text : std::string();
  }
  for (const std::string& s : spec.clusterips()) {
    auto ip = internal::ParseIP(s);
    if (ip && ip->family == family) return ip->text;
  }
  return "";
}

std::string TypeOf(const Service& svc) {
  return svc.spec().has_type() && !svc.spec().type().empty() ? svc.spec().type() : "ClusterIP";
}

// apiservice.ExternallyAccessible: LoadBalancer, NodePort, or ClusterIP with externalIPs.
bool ServiceExternallyAccessible(const Service& svc) {
  const std::string type = TypeOf(svc);
  return type == "LoadBalancer" || type == "NodePort" ||
         (type == "ClusterIP" && svc.spec().externalips_size() > 0);
}

bool ExternalPolicyLocal(const Service& svc) {
  return ServiceExternallyAccessible(svc) && svc.spec().externaltrafficpolicy() == "Local";
}

bool InternalPolicyLocal(const Service& svc) {
  return svc.spec().has_internaltrafficpolicy() && svc.spec().internaltrafficpolicy() == "Local";
}

// Load-balancer ingress in VIP mode: ipMode unset or "VIP".
bool IsVIPMode(const api::core::v1::LoadBalancerIngress& ing) {
  return !ing.has_ipmode() || ing.ipmode() == "VIP";
}

ServicePortInfo MakeInfo(const Service& svc, const std::string& cluster_ip, IPFamily family,
                         const api::core::v1::ServicePort& port) {
  const auto& spec = svc.spec();
  ServicePortInfo info;
  info.cluster_ip = cluster_ip;
  info.port = port.port();
  info.protocol = port.protocol().empty() ? "TCP" : port.protocol();
  info.node_port = port.nodeport();
  info.service_type = TypeOf(svc);
  if (spec.sessionaffinity() == "ClientIP") {
    info.session_affinity = SessionAffinity::kClientIP;
    // The API server defaults the timeout (10800 s); keep that default for objects
    // that did not go through defaulting.
    info.sticky_max_age_seconds = 10800;
    if (spec.has_sessionaffinityconfig() && spec.sessionaffinityconfig().has_clientip() &&
        spec.sessionaffinityconfig().clientip().has_timeoutseconds()) {
      info.sticky_max_age_seconds = spec.sessionaffinityconfig().clientip().timeoutseconds();
    }
  }
  info.external_policy_local = ExternalPolicyLocal(svc);
  info.internal_policy_local = InternalPolicyLocal(svc);
  if (spec.has_trafficdistribution()) info.traffic_distribution = spec.trafficdistribution();
  for (const std::string& s : spec.externalips()) {
    auto ip = internal::ParseIP(s);
    if (ip && ip->family == family) info.external_ips.push_back(ip->text);
  }
  for (const std::string& s : spec.loadbalancersourceranges()) {
    auto cidr = internal::ParseCIDR(absl::StripAsciiWhitespace(s));
    if (cidr && cidr->family == family) info.load_balancer_source_ranges.push_back(cidr->text);
  }
  for (const auto& ing : svc.status().loadbalancer().ingress()) {
    if (ing.ip().empty() || !IsVIPMode(ing)) continue;
    auto ip = internal::ParseIP(ing.ip());
    if (ip && ip->family == family) info.load_balancer_vips.push_back(ip->text);
  }
  if (info.service_type == "LoadBalancer" && info.external_policy_local) {
    info.health_check_node_port = spec.healthchecknodeport();
  }
  return info;
}

}  // namespace

ServicePortMap ServiceToServicePortMap(const Service& svc, IPFamily family) {
  ServicePortMap out;
  const auto& spec = svc.spec();
  if (spec.clusterip().empty() || spec.clusterip() == "None" || TypeOf(svc) == "ExternalName") {
    return out;
  }
  const std::string cluster_ip = ClusterIPOfFamily(svc, family);
  if (cluster_ip.empty()) return out;
  for (const auto& port : spec.ports()) {
    ServicePortName name{svc.metadata().namespace_(), svc.metadata().name(), port.name(),
                         port.protocol().empty() ? "TCP" : port.protocol()};
    out[std::move(name)] = std::make_shared<const ServicePortInfo>(MakeInfo(svc, cluster_ip, family, port));
  }
  return out;
}

bool ServicePortMapsEqual(const ServicePortMap& a, const ServicePortMap& b) {
  if (a.size() != b.size()) return false;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    if (ia->first != ib->first) return false;
    if (ia->second != ib->second && !(*ia->second == *ib->second)) return false;
  }
  return true;
}

bool ServiceChangeTracker::Update(const Service* previous, const Service* current) {
  const Service* svc = current != nullptr ? current : previous;
  if (svc == nullptr) return false;
  std::string key = svc->metadata().namespace_() + "/" + svc->metadata().name();
  ServicePortMap cur = current != nullptr ? ServiceToServicePortMap(*current, family_) : ServicePortMap();
  std::lock_guard<std::mutex> l(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) {
    Change c;
    if (previous != nullptr) c.previous = ServiceToServicePortMap(*previous, family_);
    it = items_.emplace(key, std::move(c)).first;
  }
  it->second.current = std::move(cur);
  if (ServicePortMapsEqual(it->second.previous, it->second.current)) items_.erase(it);
  return !items_.empty();
}

size_t ServiceChangeTracker::PendingCount() const {
  std::lock_guard<std::mutex> l(mu_);
  return items_.size();
}

ServiceChangeTracker::Result ServiceChangeTracker::Apply(ServicePortMap& map,
                                                         std::set<ServicePortName>* changed_ports) {
  std::map<std::string, Change> items;
  {
    std::lock_guard<std::mutex> l(mu_);
    items.swap(items_);
  }
  Result result;
  for (auto& [key, change] : items) {
    result.updated_services.insert(key);
    for (const auto& [name, info] : change.previous) {
      if (change.current.count(name) == 0) {
        map.erase(name);
        if (changed_ports != nullptr) changed_ports->insert(name);
      }
    }
    for (auto& [name, info] : change.current) {
      auto it = map.find(name);
      if (changed_ports != nullptr && (it == map.end() || !(*it->second == *info))) {
        changed_ports->insert(name);
      }
      map[name] = info;
    }
  }
  return result;
}

}  // namespace kslice::proxy
