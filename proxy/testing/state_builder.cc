#include "proxy/testing/state_builder.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kslice::proxy::testing {

StateBuilder::StateBuilder(std::string node_name, IPFamily family)
    : node_name_(std::move(node_name)), family_(family) {}

ServicePortInfo& StateBuilder::Service(const std::string& ns, const std::string& name,
                                       const std::string& port_name, const std::string& cluster_ip,
                                       int port, const std::string& protocol) {
  ServicePortInfo& info = services_[ServicePortName{ns, name, port_name, protocol}];
  info = ServicePortInfo();
  info.cluster_ip = cluster_ip;
  info.port = port;
  info.protocol = protocol;
  info.service_type = "ClusterIP";
  return info;
}

void StateBuilder::RemoveService(const std::string& ns, const std::string& name,
                                 const std::string& port_name, const std::string& protocol) {
  services_.erase(ServicePortName{ns, name, port_name, protocol});
}

EndpointInfo& StateBuilder::Endpoint(const std::string& ns, const std::string& name,
                                     const std::string& port_name, const std::string& ip, int port,
                                     const std::string& node, const std::string& protocol) {
  EndpointList& list = endpoints_[ServicePortName{ns, name, port_name, protocol}];
  EndpointInfo ep;
  ep.ip = ip;
  ep.port = port;
  ep.node_name = node;
  ep.is_local = !node.empty() && node == node_name_;
  list.push_back(ep);
  std::sort(list.begin(), list.end(),
            [](const EndpointInfo& a, const EndpointInfo& b) { return a.String() < b.String(); });
  for (EndpointInfo& e : list) {
    if (e.ip == ip && e.port == port) return e;
  }
  return list.back();  // not reached: the endpoint was just added
}

void StateBuilder::ClearEndpoints(const std::string& ns, const std::string& name,
                                  const std::string& port_name, const std::string& protocol) {
  endpoints_.erase(ServicePortName{ns, name, port_name, protocol});
}

ProxyState StateBuilder::Build() {
  ProxyState state;
  state.version = ++version_;
  state.family = family_;
  state.node.name = node_name_;
  auto services = std::make_shared<ServicePortMap>();
  for (const auto& [k, v] : services_) {
    services->emplace(k, std::make_shared<const ServicePortInfo>(v));
  }
  auto endpoints = std::make_shared<EndpointsMap>();
  for (const auto& [k, v] : endpoints_) {
    if (!v.empty()) endpoints->emplace(k, std::make_shared<const EndpointList>(v));
  }
  state.services = std::move(services);
  state.endpoints = std::move(endpoints);
  return state;
}

std::string ReadTestdata(const std::string& path, absl::string_view skip_prefix) {
  std::string full = path;
  if (const char* dir = std::getenv("TEST_SRCDIR")) {
    const char* ws = std::getenv("TEST_WORKSPACE");
    full = absl::StrCat(dir, "/", ws != nullptr ? ws : "kslice", "/", path);
  }
  std::ifstream in(full);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string out;
  for (absl::string_view line : absl::StrSplit(ss.str(), '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, skip_prefix)) continue;
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

void SaveActual(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (dir == nullptr) return;
  std::ofstream(absl::StrCat(dir, "/", name, ".actual")) << text;
}

}  // namespace kslice::proxy::testing
