#include "proxy/types.h"

#include "absl/strings/str_cat.h"

namespace kslice::proxy {

const char* IPFamilyName(IPFamily family) {
  return family == IPFamily::kIPv6 ? "IPv6" : "IPv4";
}

std::string ServicePortName::String() const {
  if (port.empty()) return absl::StrCat(ns, "/", name);
  return absl::StrCat(ns, "/", name, ":", port);
}

namespace {
// host:port with IPv6 hosts in brackets (Go's net.JoinHostPort).
std::string JoinHostPort(const std::string& host, int32_t port) {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}
}  // namespace

std::string ServicePortInfo::String() const {
  return absl::StrCat(JoinHostPort(cluster_ip, port), "/", protocol);
}

std::string EndpointInfo::String() const { return JoinHostPort(ip, port); }

std::string NodeContext::Zone() const {
  auto it = labels.find("topology.kubernetes.io/zone");
  return it == labels.end() ? std::string() : it->second;
}

const EndpointList& ProxyState::EndpointsOf(const ServicePortName& port) const {
  static const EndpointList* const kEmpty = new EndpointList();
  auto it = endpoints->find(port);
  return it == endpoints->end() ? *kEmpty : *it->second;
}

size_t ProxyState::TotalEndpoints() const {
  size_t n = 0;
  for (const auto& [_, list] : *endpoints) n += list->size();
  return n;
}

}  // namespace kslice::proxy
