#include "proxy/healthcheck/service_health.h"

#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "controller/log/log.h"

namespace kslice::proxy::healthcheck {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Go's %q for the names (DNS labels in practice): quotes, backslashes and control
// characters escaped.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", c));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::map<ServiceName, uint16_t> HealthCheckNodePorts(const ProxyState& state) {
  std::map<ServiceName, uint16_t> out;
  for (const auto& [spn, info] : *state.services) {
    if (info->health_check_node_port > 0 && info->health_check_node_port <= 65535) {
      out[ServiceName{spn.ns, spn.name}] = static_cast<uint16_t>(info->health_check_node_port);
    }
  }
  return out;
}

std::map<ServiceName, int> LocalReadyEndpoints(const ProxyState& state) {
  std::map<ServiceName, std::set<std::string>> ips;
  for (const auto& [spn, list] : *state.endpoints) {
    for (const EndpointInfo& ep : *list) {
      if (ep.ready && ep.is_local) ips[ServiceName{spn.ns, spn.name}].insert(ep.ip);
    }
  }
  std::map<ServiceName, int> out;
  for (const auto& [name, set] : ips) out[name] = static_cast<int>(set.size());
  return out;
}

Answer Respond(const ServiceName& service, int local_endpoints, bool proxy_healthy) {
  Answer a;
  a.status = local_endpoints != 0 && proxy_healthy ? 200 : 503;
  a.body = absl::StrCat("{\n\t\"service\": {\n\t\t\"namespace\": ", Quote(service.ns),
                        ",\n\t\t\"name\": ", Quote(service.name), "\n\t},\n\t\"localEndpoints\": ",
                        local_endpoints, ",\n\t\"serviceProxyHealthy\": ",
                        proxy_healthy ? "true" : "false", "\n}");
  return a;
}

struct ServiceHealthServer::Impl {
  struct Instance {
    uint16_t port = 0;
    int endpoints = 0;
    std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  };

  // One probe: read a request (5 s deadline), answer, close.
  struct Session : std::enable_shared_from_this<Session> {
    Session(Impl& impl, tcp::socket socket, ServiceName name)
        : impl(impl), stream(std::move(socket)), name(std::move(name)) {}
    void Start() {
      stream.expires_after(std::chrono::seconds(5));
      http::async_read(stream, buffer, request,
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (!ec) self->Answer();
                       });
    }
    void Answer() {
      std::optional<int> count = impl.EndpointsOf(name);
      if (!count.has_value()) {
        // Closed while the request was in flight (upstream answers nothing either).
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        return;
      }
      const bool healthy = impl.options.proxy_healthy ? impl.options.proxy_healthy() : true;
      healthcheck::Answer a = Respond(name, *count, healthy);
      response.version(request.version());
      response.keep_alive(false);
      response.result(static_cast<http::status>(a.status));
      response.set(http::field::content_type, "application/json");
      response.set("X-Content-Type-Options", "nosniff");
      response.set("X-Load-Balancing-Endpoint-Weight", absl::StrCat(*count));
      response.content_length(a.body.size());
      if (request.method() != http::verb::head) response.body() = std::move(a.body);
      http::async_write(stream, response,
                        [self = shared_from_this()](beast::error_code, size_t) {
                          beast::error_code ignored;
                          self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
                        });
    }
    Impl& impl;
    beast::tcp_stream stream;
    ServiceName name;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::response<http::string_body> response;
  };

  explicit Impl(Options o) : options(std::move(o)) {}

  std::optional<int> EndpointsOf(const ServiceName& name) {
    std::lock_guard<std::mutex> l(mu);
    auto it = services.find(name);
    if (it == services.end()) return std::nullopt;
    return it->second.endpoints;
  }

  void Accept(const std::shared_ptr<tcp::acceptor>& acceptor, const ServiceName& name) {
    acceptor->async_accept([this, acceptor, name](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (!ec) std::make_shared<Session>(*this, std::move(socket), name)->Start();
      Accept(acceptor, name);
    });
  }

  // Binds `port` on every address; on failure closes what was opened.
  absl::StatusOr<std::vector<std::shared_ptr<tcp::acceptor>>> Listen(uint16_t port) {
    std::vector<std::shared_ptr<tcp::acceptor>> out;
    for (const asio::ip::address& ip : addresses) {
      auto a = std::make_shared<tcp::acceptor>(ioc);
      tcp::endpoint endpoint(ip, port);
      beast::error_code ec;
      a->open(endpoint.protocol(), ec);
      if (!ec) a->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec && ip.is_v6()) a->set_option(asio::ip::v6_only(true), ec);
      if (!ec) a->bind(endpoint, ec);
      if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        beast::error_code ignored;
        a->close(ignored);
        Close(std::move(out));
        return absl::UnavailableError(absl::StrCat(
            "listen tcp ", ip.is_v6() ? absl::StrCat("[", ip.to_string(), "]") : ip.to_string(),
            ":", port, ": ", ec.message()));
      }
      out.push_back(std::move(a));
    }
    return out;
  }

  // Closes acceptors on the serving thread (their pending accepts are cancelled) and
  // waits, so the ports are free when this returns.
  void Close(std::vector<std::shared_ptr<tcp::acceptor>> acceptors) {
    if (acceptors.empty()) return;
    std::promise<void> done;
    asio::post(ioc, [&] {
      for (auto& a : acceptors) {
        beast::error_code ignored;
        a->close(ignored);
      }
      done.set_value();
    });
    done.get_future().wait();
  }

  const Options options;
  std::vector<asio::ip::address> addresses;
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::thread thread;
  std::mutex sync_mu;  // serializes SyncServices (opening/closing ports)
  mutable std::mutex mu;
  std::map<ServiceName, Instance> services;  // guarded by mu
};

absl::StatusOr<std::unique_ptr<ServiceHealthServer>> ServiceHealthServer::Create(Options options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  std::vector<std::string> addresses = impl->options.addresses;
  if (addresses.empty()) addresses.push_back("0.0.0.0");
  for (const std::string& a : addresses) {
    beast::error_code ec;
    asio::ip::address ip = asio::ip::make_address(a, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("service health check address \"", a, "\" is not an IP address"));
    }
    impl->addresses.push_back(ip);
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<ServiceHealthServer>(new ServiceHealthServer(std::move(impl)));
}

ServiceHealthServer::ServiceHealthServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ServiceHealthServer::~ServiceHealthServer() {
  std::vector<std::shared_ptr<tcp::acceptor>> all;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    for (auto& [name, inst] : impl_->services) {
      for (auto& a : inst.acceptors) all.push_back(a);
    }
    impl_->services.clear();
  }
  impl_->Close(std::move(all));
  impl_->work.reset();
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

absl::Status ServiceHealthServer::SyncServices(const std::map<ServiceName, uint16_t>& services) {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> sync(impl.sync_mu);
  // Remove the ones not needed any more (or whose port changed).
  std::vector<std::shared_ptr<tcp::acceptor>> closing;
  std::set<ServiceName> keep;
  {
    std::lock_guard<std::mutex> l(impl.mu);
    for (auto it = impl.services.begin(); it != impl.services.end();) {
      auto want = services.find(it->first);
      if (want == services.end() || want->second != it->second.port) {
        log::V(2).Info("closing healthcheck",
                       {{"service", it->first.String()}, {"port", it->second.port}});
        for (auto& a : it->second.acceptors) closing.push_back(std::move(a));
        it = impl.services.erase(it);
      } else {
        keep.insert(it->first);
        ++it;
      }
    }
  }
  impl.Close(std::move(closing));
  // Add the new ones.
  for (const auto& [name, port] : services) {
    if (keep.count(name) > 0) continue;
    log::V(2).Info("opening healthcheck", {{"service", name.String()}, {"port", port}});
    absl::StatusOr<std::vector<std::shared_ptr<tcp::acceptor>>> acceptors = impl.Listen(port);
    if (!acceptors.ok()) {
      const std::string message =
          absl::StrCat("node ", impl.options.node_name, " failed to start healthcheck \"",
                       name.String(), "\" on port ", port, ": ", acceptors.status().message());
      log::Error(acceptors.status(), "failed to start healthcheck",
                 {{"node", impl.options.node_name}, {"service", name.String()}, {"port", port}});
      if (impl.options.on_listen_error) impl.options.on_listen_error(name, port, message);
      continue;  // not kept: the next SyncServices tries again
    }
    {
      std::lock_guard<std::mutex> l(impl.mu);
      Impl::Instance& inst = impl.services[name];
      inst.port = port;
      inst.acceptors = *acceptors;
    }
    for (const auto& a : *acceptors) {
      asio::post(impl.ioc, [&impl, a, name = name] { impl.Accept(a, name); });
    }
  }
  return absl::OkStatus();
}

absl::Status ServiceHealthServer::SyncEndpoints(const std::map<ServiceName, int>& endpoints) {
  std::lock_guard<std::mutex> l(impl_->mu);
  for (auto& [name, inst] : impl_->services) {
    auto it = endpoints.find(name);
    inst.endpoints = it == endpoints.end() ? 0 : it->second;
  }
  return absl::OkStatus();
}

std::map<ServiceName, uint16_t> ServiceHealthServer::Serving() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  std::map<ServiceName, uint16_t> out;
  for (const auto& [name, inst] : impl_->services) out[name] = inst.port;
  return out;
}

}  // namespace kslice::proxy::healthcheck
