#include "bench/proxy_state_fixture.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"

namespace kslice::bench {

using proxy::EndpointInfo;
using proxy::EndpointList;
using proxy::EndpointsMap;
using proxy::ProxyState;
using proxy::ServicePortInfo;
using proxy::ServicePortMap;
using proxy::ServicePortName;

ProxyState MakeProxyState(int services, int endpoints) {
  auto svc_map = std::make_shared<ServicePortMap>();
  auto eps_map = std::make_shared<EndpointsMap>();
  for (int i = 0; i < services; ++i) {
    ServicePortName name{absl::StrCat("ns", i % 100), absl::StrCat("svc", i), "http", "TCP"};
    auto info = std::make_shared<ServicePortInfo>();
    info->cluster_ip = absl::StrCat("172.30.", i / 250, ".", i % 250 + 1);
    info->port = 80;
    info->protocol = "TCP";
    (*svc_map)[name] = info;
    auto list = std::make_shared<EndpointList>();
    for (int e = 0; e < endpoints; ++e) {
      EndpointInfo ep;
      int n = i * endpoints + e;
      ep.ip = absl::StrCat("10.", n / 65536, ".", (n / 256) % 256, ".", n % 256);
      ep.port = 8080;
      ep.node_name = absl::StrCat("node-", n % 100);
      list->push_back(ep);
    }
    std::sort(list->begin(), list->end(),
              [](const EndpointInfo& a, const EndpointInfo& b) { return a.String() < b.String(); });
    (*eps_map)[name] = list;
  }
  ProxyState state;
  state.version = 1;
  state.services = svc_map;
  state.endpoints = eps_map;
  state.node.name = "node-0";
  return state;
}

ProxyState WithFewerEndpoints(const ProxyState& base, const ServicePortName& port, size_t keep,
                              uint64_t version) {
  auto eps_map = std::make_shared<EndpointsMap>(*base.endpoints);
  const EndpointList& old = base.EndpointsOf(port);
  auto list =
      std::make_shared<EndpointList>(old.begin(), old.begin() + std::min(keep, old.size()));
  (*eps_map)[port] = list;
  ProxyState s = base;
  s.version = version;
  s.endpoints = eps_map;
  return s;
}

}  // namespace kslice::bench
