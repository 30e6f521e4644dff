#include "proxy/grpc/test_states.h"

#include <iterator>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"

namespace kslice::proxy::grpc::testing {
namespace {

std::string Ip(IPFamily family, int a, int b) {
  if (family == IPFamily::kIPv6) return absl::StrCat("fd00::", a % 65536, ":", b % 65536 + 1);
  return absl::StrCat("10.", (a / 256) % 256, ".", a % 256, ".", b % 250 + 1);
}

ServicePortName Name(int i) {
  return ServicePortName{absl::StrCat("ns-", i % 7), absl::StrCat("svc-", i), "http", "TCP"};
}

ServicePortInfo Info(IPFamily family, int i, int variant) {
  ServicePortInfo s;
  s.cluster_ip = family == IPFamily::kIPv6 ? absl::StrCat("fd00:96::", i % 65536 + 1)
                                           : Ip(family, 9600 + i / 250, i);
  s.port = 80 + variant % 3;
  s.protocol = "TCP";
  s.service_type = variant % 4 == 1 ? "NodePort" : "ClusterIP";
  if (variant % 4 == 1) s.node_port = 30000 + i % 2000;
  if (variant % 5 == 2) {
    s.session_affinity = SessionAffinity::kClientIP;
    s.sticky_max_age_seconds = 10800;
  }
  if (variant % 6 == 3) s.external_ips.push_back(Ip(family, 200, i));
  if (variant % 7 == 4) {
    s.service_type = "LoadBalancer";
    s.node_port = 31000 + i % 1000;
    s.load_balancer_vips.push_back(Ip(family, 201, i));
    s.load_balancer_source_ranges.push_back(family == IPFamily::kIPv6 ? "fd01::/64"
                                                                        : "192.168.0.0/16");
    s.external_policy_local = true;
    s.health_check_node_port = 32000 + i % 700;
  }
  if (variant % 9 == 5) s.internal_policy_local = true;
  if (variant % 11 == 6) s.traffic_distribution = "PreferClose";
  return s;
}

EndpointInfo Ep(IPFamily family, int svc, int j, int variant, const std::string& node) {
  EndpointInfo e;
  e.ip = Ip(family, 1000 + svc, j);
  e.port = 8080;
  e.ready = variant % 5 != 0;
  e.serving = e.ready || variant % 3 == 0;
  e.terminating = !e.ready;
  e.node_name = j % 3 == 0 ? node : absl::StrCat("node-", j % 5);
  e.is_local = e.node_name == node;
  e.zone = absl::StrCat("z", j % 3);
  if (variant % 4 == 0) e.zone_hints = {e.zone};
  if (variant % 8 == 0) e.node_hints = {e.node_name};
  return e;
}

EndpointListPtr Endpoints(IPFamily family, int svc, int count, int variant,
                          const std::string& node) {
  std::map<std::string, EndpointInfo> sorted;
  for (int j = 0; j < count; ++j) {
    EndpointInfo e = Ep(family, svc, j + variant % 4, variant + j, node);
    sorted[e.String()] = e;
  }
  auto list = std::make_shared<EndpointList>();
  for (auto& [_, e] : sorted) list->push_back(std::move(e));
  return list;
}

}  // namespace

ProxyState BigState(int services, int endpoints, IPFamily family) {
  auto svcs = std::make_shared<ServicePortMap>();
  auto eps = std::make_shared<EndpointsMap>();
  for (int i = 0; i < services; ++i) {
    (*svcs)[Name(i)] = std::make_shared<const ServicePortInfo>(Info(family, i, i));
    if (endpoints > 0) (*eps)[Name(i)] = Endpoints(family, i, endpoints, 1, "node-a");
  }
  ProxyState s;
  s.version = 1;
  s.family = family;
  s.services = std::move(svcs);
  s.endpoints = std::move(eps);
  s.node.name = "node-a";
  s.node.labels = {{"topology.kubernetes.io/zone", "z1"}};
  return s;
}

Churn::Churn(uint64_t seed, IPFamily family) : rng_(seed), family_(family) {}

ProxyState Churn::Next(const ProxyState& from, int changes, SyncHint* hint) {
  auto svcs = std::make_shared<ServicePortMap>(*from.services);
  auto eps = std::make_shared<EndpointsMap>(*from.endpoints);
  ProxyState next = from;
  next.version = from.version + 1;
  *hint = SyncHint{};
  hint->full = false;
  hint->previous_version = from.version;
  auto pick = [&](int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); };
  for (int c = 0; c < changes; ++c) {
    const int i = pick(60);  // a small key space: adds, removes and edits all happen
    const ServicePortName name = Name(i);
    const int variant = ++counter_ + pick(1000);
    switch (pick(7)) {
      case 0:
      case 1:  // add or modify the Service port
        (*svcs)[name] = std::make_shared<const ServicePortInfo>(Info(family_, i, variant));
        break;
      case 2:  // remove the Service port (endpoints may stay: slices outlive Services)
        svcs->erase(name);
        break;
      case 3:
      case 4:  // new endpoint list
        (*eps)[name] = Endpoints(family_, i, 1 + pick(6), variant, from.node.name);
        break;
      case 5:  // no endpoints any more
        eps->erase(name);
        break;
      case 6:  // a value-equal copy: a change that is no change
        if (auto it = svcs->find(name); it != svcs->end()) {
          it->second = std::make_shared<const ServicePortInfo>(*it->second);
        }
        break;
    }
    hint->changed_ports.insert(name);
    hint->changed_services.insert(name.NamespacedName());
  }
  if (pick(10) == 0) {
    next.node.labels["topology.kubernetes.io/zone"] = absl::StrCat("z", pick(3));
    hint->full = true;  // the proxier makes node label changes full
    hint->changed_ports.clear();
    hint->changed_services.clear();
  }
  next.services = std::move(svcs);
  next.endpoints = std::move(eps);
  return next;
}

ProxyState Churn::FlipEndpoint(const ProxyState& from, int index, SyncHint* hint) {
  auto eps = std::make_shared<EndpointsMap>(*from.endpoints);
  const ServicePortName name = Name(index);
  auto it = eps->find(name);
  auto list = std::make_shared<EndpointList>(it == eps->end() ? EndpointList{} : *it->second);
  if (list->empty()) list->push_back(Ep(family_, index, 0, 1, from.node.name));
  (*list)[0].ready = !(*list)[0].ready;
  (*eps)[name] = std::move(list);
  ProxyState next = from;
  next.version = from.version + 1;
  next.endpoints = std::move(eps);
  *hint = SyncHint{};
  hint->full = false;
  hint->previous_version = from.version;
  hint->changed_ports = {name};
  hint->changed_services = {name.NamespacedName()};
  return next;
}

bool SameContent(const ProxyState& a, const ProxyState& b, std::string* why) {
  auto same_map = [&](const auto& x, const auto& y, const char* what) {
    if (x.size() != y.size()) {
      *why = absl::StrCat(what, ": ", x.size(), " entries vs ", y.size());
      return false;
    }
    for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
      if (!(i->first == j->first) || !(*i->second == *j->second)) {
        *why = absl::StrCat(what, ": differ at ", i->first.String(), " / ", j->first.String());
        return false;
      }
    }
    return true;
  };
  if (!(a.node == b.node)) {
    *why = "node context differs";
    return false;
  }
  if (a.family != b.family) {
    *why = "family differs";
    return false;
  }
  return same_map(*a.services, *b.services, "services") &&
         same_map(*a.endpoints, *b.endpoints, "endpoints");
}

}  // namespace kslice::proxy::grpc::testing
