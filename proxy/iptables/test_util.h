// Test helpers: build ProxyState snapshots by hand and load golden files.
#ifndef KSLICE_PROXY_IPTABLES_TEST_UTIL_H_
#define KSLICE_PROXY_IPTABLES_TEST_UTIL_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proxy/types.h"

namespace kslice::proxy::iptables::testing {

// A mutable builder for ProxyState: services and endpoints by ServicePortName.
class StateBuilder {
 public:
  explicit StateBuilder(std::string node_name = "test-node", IPFamily family = IPFamily::kIPv4);

  // Adds or replaces a service port; returns it for further edits.
  ServicePortInfo& Service(const std::string& ns, const std::string& name,
                           const std::string& port_name, const std::string& cluster_ip, int port,
                           const std::string& protocol = "TCP");
  void RemoveService(const std::string& ns, const std::string& name, const std::string& port_name,
                     const std::string& protocol = "TCP");
  // Adds an endpoint (ready, serving, not terminating, on `node`) to a service port's
  // list; the list is kept sorted by "ip:port".
  EndpointInfo& Endpoint(const std::string& ns, const std::string& name,
                         const std::string& port_name, const std::string& ip, int port,
                         const std::string& node = "", const std::string& protocol = "TCP");
  void ClearEndpoints(const std::string& ns, const std::string& name, const std::string& port_name,
                      const std::string& protocol = "TCP");

  // A snapshot; later edits do not affect it.
  ProxyState Build();

 private:
  std::string node_name_;
  IPFamily family_;
  uint64_t version_ = 0;
  std::map<ServicePortName, ServicePortInfo> services_;
  std::map<ServicePortName, EndpointList> endpoints_;
};

// Reads testdata/<name> (from the runfiles), dropping lines that start with '#'.
std::string ReadGolden(const std::string& name);

// Writes `payload` next to the golden as <name>.actual under TEST_UNDECLARED_OUTPUTS_DIR
// (when set), to make updating goldens easy.
void SaveActual(const std::string& name, const std::string& payload);

}  // namespace kslice::proxy::iptables::testing

#endif  // KSLICE_PROXY_IPTABLES_TEST_UTIL_H_
