// The service health-check server with real sockets on 127.0.0.1: the exact answer
// (status, headers, body), ports opened and closed as the served set changes, a port
// that cannot be bound reported and retried, and the inputs computed from a ProxyState.
#include "proxy/healthcheck/service_health.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kslice::proxy::healthcheck {
namespace {

// A TCP port free right now on 127.0.0.1 (bound by the kernel, then released).
uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

struct Reply {
  bool connected = false;
  std::string raw;
  int status = 0;
  std::string Header(const std::string& name) const {
    const std::string key = absl::StrCat("\r\n", name, ": ");
    size_t at = raw.find(key);
    if (at == std::string::npos) return "";
    at += key.size();
    return raw.substr(at, raw.find("\r\n", at) - at);
  }
  std::string Body() const {
    size_t at = raw.find("\r\n\r\n");
    return at == std::string::npos ? "" : raw.substr(at + 4);
  }
};

Reply Get(uint16_t port, const std::string& path = "/") {
  Reply r;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return r;
  }
  r.connected = true;
  const std::string req = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) r.raw.append(buf, n);
  close(fd);
  if (absl::StartsWith(r.raw, "HTTP/1.1 ")) r.status = std::stoi(r.raw.substr(9, 3));
  return r;
}

std::unique_ptr<ServiceHealthServer> NewServer(std::atomic<bool>* healthy,
                                               std::vector<std::string>* errors = nullptr) {
  ServiceHealthServer::Options o;
  o.node_name = "node-a";
  o.addresses = {"127.0.0.1"};
  o.proxy_healthy = [healthy] { return healthy->load(); };
  if (errors != nullptr) {
    o.on_listen_error = [errors](const ServiceName&, uint16_t, const std::string& m) {
      errors->push_back(m);
    };
  }
  auto s = ServiceHealthServer::Create(o);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

TEST(Respond, UpstreamBytes) {
  Answer a = Respond({"default", "web"}, 2, true);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body,
            "{\n\t\"service\": {\n\t\t\"namespace\": \"default\",\n\t\t\"name\": \"web\"\n\t},"
            "\n\t\"localEndpoints\": 2,\n\t\"serviceProxyHealthy\": true\n}");
  EXPECT_EQ(Respond({"default", "web"}, 0, true).status, 503);
  Answer sick = Respond({"default", "web"}, 3, false);
  EXPECT_EQ(sick.status, 503);  // endpoints, but the proxy is unhealthy
  EXPECT_TRUE(absl::StrContains(sick.body, "\"serviceProxyHealthy\": false"));
  EXPECT_TRUE(absl::StrContains(Respond({"a\"b", "n"}, 1, true).body, "\"a\\\"b\""));
}

TEST(ServiceHealthServer, ServesAnyPathWithUpstreamHeadersAndStatus) {
  std::atomic<bool> healthy{true};
  auto server = NewServer(&healthy);
  const uint16_t port = FreePort();
  const ServiceName web{"default", "web"};
  ASSERT_TRUE(server->SyncServices({{web, port}}).ok());
  EXPECT_EQ(server->Serving(), (std::map<ServiceName, uint16_t>{{web, port}}));

  // No endpoints reported yet: 503, weight 0.
  Reply r = Get(port, "/healthz");
  ASSERT_TRUE(r.connected);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.Header("X-Load-Balancing-Endpoint-Weight"), "0");
  EXPECT_EQ(r.Body(), Respond(web, 0, true).body);

  ASSERT_TRUE(server->SyncEndpoints({{web, 2}, {{"other", "x"}, 5}}).ok());
  r = Get(port, "/any/path?x=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("X-Load-Balancing-Endpoint-Weight"), "2");
  EXPECT_EQ(r.Body(),
            "{\n\t\"service\": {\n\t\t\"namespace\": \"default\",\n\t\t\"name\": \"web\"\n\t},"
            "\n\t\"localEndpoints\": 2,\n\t\"serviceProxyHealthy\": true\n}");

  healthy = false;
  r = Get(port);
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(absl::StrContains(r.Body(), "\"serviceProxyHealthy\": false"));
  healthy = true;

  // A service missing from the endpoint counts drops to 0.
  ASSERT_TRUE(server->SyncEndpoints({}).ok());
  EXPECT_EQ(Get(port).status, 503);
}

TEST(ServiceHealthServer, PortsFollowTheServedSet) {
  std::atomic<bool> healthy{true};
  auto server = NewServer(&healthy);
  const ServiceName a{"ns", "a"}, b{"ns", "b"};
  const uint16_t pa = FreePort(), pb = FreePort();
  ASSERT_NE(pa, pb);
  ASSERT_TRUE(server->SyncServices({{a, pa}, {b, pb}}).ok());
  ASSERT_TRUE(server->SyncEndpoints({{a, 1}, {b, 1}}).ok());
  EXPECT_EQ(Get(pa).status, 200);
  EXPECT_EQ(Get(pb).status, 200);
  EXPECT_TRUE(absl::StrContains(Get(pb).Body(), "\"name\": \"b\""));

  // b goes away: its port is closed when SyncServices returns; a keeps its count.
  ASSERT_TRUE(server->SyncServices({{a, pa}}).ok());
  EXPECT_FALSE(Get(pb).connected);
  EXPECT_EQ(Get(pa).status, 200);

  // a moves to another port: the old one closes, the new one opens (count starts at 0).
  const uint16_t pa2 = FreePort();
  ASSERT_TRUE(server->SyncServices({{a, pa2}}).ok());
  EXPECT_FALSE(Get(pa).connected);
  EXPECT_EQ(Get(pa2).status, 503);
  ASSERT_TRUE(server->SyncEndpoints({{a, 3}}).ok());
  EXPECT_EQ(Get(pa2).Header("X-Load-Balancing-Endpoint-Weight"), "3");

  ASSERT_TRUE(server->SyncServices({}).ok());
  EXPECT_FALSE(Get(pa2).connected);
  EXPECT_TRUE(server->Serving().empty());
}

TEST(ServiceHealthServer, PortInUseIsReportedAndRetried) {
  // Someone else holds the port.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const uint16_t port = ntohs(addr.sin_port);

  std::atomic<bool> healthy{true};
  std::vector<std::string> errors;
  auto server = NewServer(&healthy, &errors);
  const ServiceName web{"default", "web"};
  ASSERT_TRUE(server->SyncServices({{web, port}}).ok());  // never fatal
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(
      errors[0], absl::StrCat("node node-a failed to start healthcheck \"default/web\" on port ",
                              port, ": listen tcp 127.0.0.1:", port, ": ")))
      << errors[0];
  EXPECT_TRUE(server->Serving().empty());

  // Freed: the next sync opens it.
  close(fd);
  ASSERT_TRUE(server->SyncServices({{web, port}}).ok());
  EXPECT_EQ(errors.size(), 1u);
  ASSERT_TRUE(server->SyncEndpoints({{web, 1}}).ok());
  EXPECT_EQ(Get(port).status, 200);
}

TEST(ServiceHealthServer, BadAddress) {
  ServiceHealthServer::Options o;
  o.addresses = {"eth0"};
  EXPECT_TRUE(absl::IsInvalidArgument(ServiceHealthServer::Create(o).status()));
}

TEST(StateInputs, PortsAndLocalReadyIPs) {
  auto services = std::make_shared<ServicePortMap>();
  auto endpoints = std::make_shared<EndpointsMap>();
  auto info = [](int32_t hc) {
    auto i = std::make_shared<ServicePortInfo>();
    i->health_check_node_port = hc;
    return i;
  };
  const ServicePortName lb_http{"ns", "lb", "http", "TCP"}, lb_https{"ns", "lb", "https", "TCP"};
  const ServicePortName plain{"ns", "plain", "", "TCP"};
  (*services)[lb_http] = info(30999);
  (*services)[lb_https] = info(30999);
  (*services)[plain] = info(0);
  auto ep = [](std::string ip, int32_t port, bool ready, bool local) {
    EndpointInfo e;
    e.ip = std::move(ip);
    e.port = port;
    e.ready = ready;
    e.is_local = local;
    return e;
  };
  // 10.0.0.1 on both ports counts once; a remote one and a not-ready local one do not.
  (*endpoints)[lb_http] = std::make_shared<EndpointList>(EndpointList{
      ep("10.0.0.1", 80, true, true), ep("10.0.0.2", 80, true, false),
      ep("10.0.0.3", 80, false, true)});
  (*endpoints)[lb_https] = std::make_shared<EndpointList>(
      EndpointList{ep("10.0.0.1", 443, true, true), ep("10.0.0.4", 443, true, true)});
  (*endpoints)[plain] = std::make_shared<EndpointList>(EndpointList{ep("10.0.0.9", 80, true, true)});
  ProxyState state;
  state.services = services;
  state.endpoints = endpoints;
  EXPECT_EQ(HealthCheckNodePorts(state),
            (std::map<ServiceName, uint16_t>{{ServiceName{"ns", "lb"}, 30999}}));
  EXPECT_EQ(LocalReadyEndpoints(state),
            (std::map<ServiceName, int>{{ServiceName{"ns", "lb"}, 2}, {ServiceName{"ns", "plain"}, 1}}));
}

}  // namespace
}  // namespace kslice::proxy::healthcheck
