// Test helpers for the nftables backend: build ProxyState snapshots by hand and read
// golden files from proxy/nftables/testdata.
#ifndef KSLICE_PROXY_NFTABLES_TEST_UTIL_H_
#define KSLICE_PROXY_NFTABLES_TEST_UTIL_H_

#include <map>
#include <string>

#include "proxy/types.h"

namespace kslice::proxy::nftables::testing {

// A mutable builder: services and endpoints by ServicePortName; Build() snapshots.
class StateBuilder {
 public:
  explicit StateBuilder(std::string node_name = "test-node", IPFamily family = IPFamily::kIPv4);

  // Adds or replaces a service port (type ClusterIP, no extras); returns it for edits.
  ServicePortInfo& Service(const std::string& ns, const std::string& name,
                           const std::string& port_name, const std::string& cluster_ip, int port,
                           const std::string& protocol = "TCP");
  void RemoveService(const std::string& ns, const std::string& name, const std::string& port_name,
                     const std::string& protocol = "TCP");
  // Adds a ready endpoint on `node`; lists stay sorted by "ip:port".
  EndpointInfo& Endpoint(const std::string& ns, const std::string& name,
                         const std::string& port_name, const std::string& ip, int port,
                         const std::string& node = "", const std::string& protocol = "TCP");
  void ClearEndpoints(const std::string& ns, const std::string& name, const std::string& port_name,
                      const std::string& protocol = "TCP");

  ProxyState Build();

 private:
  std::string node_name_;
  IPFamily family_;
  uint64_t version_ = 0;
  std::map<ServicePortName, ServicePortInfo> services_;
  std::map<ServicePortName, EndpointList> endpoints_;
};

// testdata/<name> from the runfiles, without lines starting with "#!" (file headers).
std::string ReadGolden(const std::string& name);
// Writes `text` as <name>.actual under TEST_UNDECLARED_OUTPUTS_DIR, when set.
void SaveActual(const std::string& name, const std::string& text);

}  // namespace kslice::proxy::nftables::testing

#endif  // KSLICE_PROXY_NFTABLES_TEST_UTIL_H_
