// Test helpers shared by the backends' tests: StateBuilder, a mutable ProxyState made
// by hand (services and endpoints by ServicePortName, snapshotted by Build), and
// golden-file helpers (ReadTestdata, SaveActual).
//
//   proxy::testing::StateBuilder b("node-a");
//   b.Service("default", "web", "http", "10.96.0.10", 80).node_port = 30080;
//   b.Endpoint("default", "web", "http", "10.180.0.1", 8080, "node-a");
//   ProxyState state = b.Build();  // version 1; the next Build is version 2
#ifndef KSLICE_PROXY_TESTING_STATE_BUILDER_H_
#define KSLICE_PROXY_TESTING_STATE_BUILDER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "proxy/types.h"

namespace kslice::proxy::testing {

class StateBuilder {
 public:
  explicit StateBuilder(std::string node_name = "test-node", IPFamily family = IPFamily::kIPv4);

  // Adds or replaces a service port (type ClusterIP, no extras); returns it for further
  // edits, valid until the next call that adds or removes a service port.
  ServicePortInfo& Service(const std::string& ns, const std::string& name,
                           const std::string& port_name, const std::string& cluster_ip, int port,
                           const std::string& protocol = "TCP");
  void RemoveService(const std::string& ns, const std::string& name, const std::string& port_name,
                     const std::string& protocol = "TCP");
  // Adds an endpoint (ready, serving, not terminating, on `node`; local when `node` is
  // this builder's node) to a service port's list, kept sorted by "ip:port". Returns it
  // for further edits, valid until the next Endpoint or ClearEndpoints call.
  EndpointInfo& Endpoint(const std::string& ns, const std::string& name,
                         const std::string& port_name, const std::string& ip, int port,
                         const std::string& node = "", const std::string& protocol = "TCP");
  void ClearEndpoints(const std::string& ns, const std::string& name, const std::string& port_name,
                      const std::string& protocol = "TCP");

  // A snapshot with the next version (1, 2, ...); later edits do not affect it. Service
  // ports with no endpoints have no EndpointsMap entry.
  ProxyState Build();

 private:
  std::string node_name_;
  IPFamily family_;
  uint64_t version_ = 0;
  std::map<ServicePortName, ServicePortInfo> services_;
  std::map<ServicePortName, EndpointList> endpoints_;
};

// The text of `path` (relative to the workspace root, read from the test's runfiles),
// without empty lines and without lines starting with `skip_prefix` (file headers).
// A missing file reads as "" (the comparison with it then fails and shows the output).
std::string ReadTestdata(const std::string& path, absl::string_view skip_prefix);

// Writes `text` as <name>.actual under TEST_UNDECLARED_OUTPUTS_DIR, when set, to make
// updating goldens easy.
void SaveActual(const std::string& name, const std::string& text);

}  // namespace kslice::proxy::testing

#endif  // KSLICE_PROXY_TESTING_STATE_BUILDER_H_
