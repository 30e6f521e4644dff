// Service health-check NodePorts, as kube-proxy's ServiceHealthServer
// (pkg/proxy/healthcheck/service_health.go; shared/spec/kube-proxy.md §8).
//
// A LoadBalancer Service with externalTrafficPolicy: Local gets a healthCheckNodePort.
// The cloud load balancer probes that port on every node and sends traffic only to nodes
// that answer 200, i.e. nodes with a ready endpoint of the Service. For each such Service
// this server listens on the port and answers any path with:
//
//   HTTP/1.1 200 OK                               (503 Service Unavailable when the node
//   Content-Type: application/json                 has no local ready endpoint, or the
//   X-Content-Type-Options: nosniff                proxy itself is unhealthy)
//   X-Load-Balancing-Endpoint-Weight: 2
//
//   {
//   	"service": {
//   		"namespace": "default",
//   		"name": "web"
//   	},
//   	"localEndpoints": 2,
//   	"serviceProxyHealthy": true
//   }
//
// (tab-indented, no final newline: upstream's exact bytes).
//
//   ServiceHealthServer::Options o;
//   o.node_name = "node-a";
//   o.proxy_healthy = [&health] { return health.IsHealthy(); };
//   auto hc = ServiceHealthServer::Create(o);
//   // after every successful sync (the proxier's after_sync hook):
//   (*hc)->SyncServices(HealthCheckNodePorts(state));
//   (*hc)->SyncEndpoints(LocalReadyEndpoints(state));
//
// SyncServices opens the ports of new Services, closes those of Services that are gone or
// whose port changed, and leaves the others alone (their connections are not disturbed).
// A port that cannot be bound (in use, no permission) is reported through
// `on_listen_error` (the binary logs it and records a Warning event
// FailedToStartServiceHealthcheck on the Service) and is not kept, so the next SyncServices
// tries again — a failure is never fatal. When SyncServices returns, the ports it closed
// are closed (a new listener may bind them at once).
//
// Serving: one thread (an asio io_context) for every port; one request per connection
// (Connection: close), read with a 5 s deadline so a silent client cannot hold it.
// Thread-safety: every method may be called from any thread.
#ifndef KSLICE_PROXY_HEALTHCHECK_SERVICE_HEALTH_H_
#define KSLICE_PROXY_HEALTHCHECK_SERVICE_HEALTH_H_

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxy/types.h"

namespace kslice::proxy::healthcheck {

// A Service: namespace and name.
struct ServiceName {
  std::string ns;
  std::string name;
  std::string String() const { return ns + "/" + name; }
  auto operator<=>(const ServiceName&) const = default;
  bool operator==(const ServiceName&) const = default;
};

// Services of `state` with a health check node port (LoadBalancer + ETP Local), and the
// port (upstream's svcInfo.HealthCheckNodePort() per service port; ports of one Service
// share it).
std::map<ServiceName, uint16_t> HealthCheckNodePorts(const ProxyState& state);

// Per Service, the number of distinct IPs among its ready endpoints on this node, over all
// its ports (upstream's EndpointsMap.LocalReadyEndpoints: 10.0.0.1:80 and 10.0.0.1:443
// count once; terminating endpoints do not count). Services without one are absent.
std::map<ServiceName, int> LocalReadyEndpoints(const ProxyState& state);

// The status and body one probe of `service` gets.
struct Answer {
  int status = 200;
  std::string body;
};
Answer Respond(const ServiceName& service, int local_endpoints, bool proxy_healthy);

class ServiceHealthServer {
 public:
  struct Options {
    // This node's name (messages only).
    std::string node_name;
    // Addresses to listen on, each with every Service's port: "0.0.0.0", "::", "10.0.0.5".
    // Empty: {"0.0.0.0"}. An IPv6 address listens on IPv6 only.
    std::vector<std::string> addresses;
    // Whether the proxy is healthy (kube-proxy's ProxyHealthServer.Health().Healthy:
    // node eligibility does not matter here). Empty: always healthy.
    std::function<bool()> proxy_healthy;
    // A Service's port could not be opened on one of the addresses: `message` is
    // upstream's event text ("node N failed to start healthcheck \"ns/name\" on port P:
    // ..."). Called on the SyncServices caller's thread. Empty: ignored.
    std::function<void(const ServiceName& service, uint16_t port, const std::string& message)>
        on_listen_error;
  };

  // InvalidArgument for an address that is not an IP. Starts the serving thread.
  static absl::StatusOr<std::unique_ptr<ServiceHealthServer>> Create(Options options);
  ~ServiceHealthServer();  // closes every port and joins the thread
  ServiceHealthServer(const ServiceHealthServer&) = delete;
  ServiceHealthServer& operator=(const ServiceHealthServer&) = delete;

  // Makes `services` (name -> port) the served set; see the file comment. Returns OK even
  // when some port could not be opened (reported through on_listen_error).
  absl::Status SyncServices(const std::map<ServiceName, uint16_t>& services);
  // Sets each served Service's local endpoint count; served Services missing from
  // `endpoints` get 0. Entries for Services not served are ignored.
  absl::Status SyncEndpoints(const std::map<ServiceName, int>& endpoints);

  // Services currently served, with their port (tests, logs).
  std::map<ServiceName, uint16_t> Serving() const;

  struct Impl;

 private:
  explicit ServiceHealthServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kslice::proxy::healthcheck

#endif  // KSLICE_PROXY_HEALTHCHECK_SERVICE_HEALTH_H_
