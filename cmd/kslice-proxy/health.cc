#include "cmd/kslice-proxy/health.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <tuple>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/healthz/healthz.h"

namespace kslice::proxy::cmd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string GoTimeString(absl::Time t) {
  if (t == absl::InfinitePast()) return "0001-01-01 00:00:00 +0000 UTC";
  // %E*S: seconds with as many fractional digits as needed (none for whole seconds),
  // as Go's ".999999999" layout.
  return absl::FormatTime("%Y-%m-%d %H:%M:%E*S +0000 UTC", t, absl::UTCTimeZone());
}

ProxyHealth::ProxyHealth(absl::Duration health_timeout, std::function<absl::Time()> now,
                         controller::metrics::Registry* registry)
    : timeout_(health_timeout), now_(std::move(now)) {
  if (registry != nullptr) {
    auto h = registry->NewCounterVec(
        {.name = "kubeproxy_proxy_healthz_total",
         .help = "Cumulative proxy healthz HTTP status"},
        {"code"});
    if (h.ok()) healthz_total_ = *h;
    auto l = registry->NewCounterVec(
        {.name = "kubeproxy_proxy_livez_total",
         .help = "Cumulative proxy livez HTTP status"},
        {"code"});
    if (l.ok()) livez_total_ = *l;
  }
}

void ProxyHealth::QueuedUpdate(IPFamily family) {
  const absl::Time now = now_();
  std::lock_guard<std::mutex> l(mu_);
  absl::Time& oldest = oldest_pending_[Index(family)];
  if (oldest == absl::InfinitePast()) oldest = now;
}

void ProxyHealth::Updated(IPFamily family) {
  const absl::Time now = now_();
  std::lock_guard<std::mutex> l(mu_);
  oldest_pending_[Index(family)] = absl::InfinitePast();
  last_updated_[Index(family)] = now;
}

void ProxyHealth::SyncNode(const api::core::v1::Node* node) {
  bool eligible = node != nullptr && !node->metadata().has_deletiontimestamp();
  if (eligible) {
    for (const auto& taint : node->spec().taints()) {
      if (taint.key() == kToBeDeletedTaint) eligible = false;
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  node_eligible_ = eligible;
}

std::pair<bool, absl::Time> ProxyHealth::Check(absl::Time now) const {
  // As upstream: only the families that have synced at least once count; healthy when
  // none of them has a change pending for `timeout_`, reporting the latest update; else
  // the failing family's last update.
  absl::Time latest = absl::InfinitePast();
  for (size_t i = 0; i < last_updated_.size(); ++i) {
    if (last_updated_[i] == absl::InfinitePast()) continue;
    latest = std::max(latest, last_updated_[i]);
    if (oldest_pending_[i] == absl::InfinitePast()) continue;
    if (now - oldest_pending_[i] < timeout_) continue;
    return {false, last_updated_[i]};
  }
  return {true, latest};
}

bool ProxyHealth::IsHealthy() const {
  const absl::Time now = now_();
  std::lock_guard<std::mutex> l(mu_);
  return Check(now).first;
}

bool ProxyHealth::NodeEligible() const {
  std::lock_guard<std::mutex> l(mu_);
  return node_eligible_;
}

HealthAnswer ProxyHealth::Healthz() {
  const absl::Time now = now_();
  bool healthy, eligible;
  absl::Time last;
  {
    std::lock_guard<std::mutex> l(mu_);
    std::tie(healthy, last) = Check(now);
    eligible = node_eligible_;
  }
  healthy = healthy && eligible;
  if (healthy) last = now;
  if (healthz_total_ != nullptr) healthz_total_->WithLabelValues({healthy ? "200" : "503"}).Inc();
  return {healthy ? 200 : 503,
          absl::StrFormat(R"({"lastUpdated": "%s","currentTime": "%s", "nodeEligible": %s})",
                          GoTimeString(last), GoTimeString(now), eligible ? "true" : "false")};
}

HealthAnswer ProxyHealth::Livez() {
  const absl::Time now = now_();
  bool healthy;
  absl::Time last;
  {
    std::lock_guard<std::mutex> l(mu_);
    std::tie(healthy, last) = Check(now);
  }
  if (healthy) last = now;
  if (livez_total_ != nullptr) livez_total_->WithLabelValues({healthy ? "200" : "503"}).Inc();
  return {healthy ? 200 : 503, absl::StrFormat(R"({"lastUpdated": "%s","currentTime": "%s"})",
                                               GoTimeString(last), GoTimeString(now))};
}

absl::Status HealthReportingBackend::Sync(const ProxyState& state, const SyncHint& hint) {
  absl::Status s = inner_.Sync(state, hint);
  if (s.ok()) health_.Updated(family_);
  return s;
}

// ---- HTTP ----

struct HealthServer::Impl {
  explicit Impl(ProxyHealth& h) : health(h) {}
  ProxyHealth& health;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  std::atomic<bool> stopped{false};
  int port = 0;

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || stopped) return;
      } else {
        Serve(std::move(socket));
      }
      if (!stopped) Accept();
    });
  }

  // One request per connection; reads time out after 5 s so a silent client cannot
  // hold the (single) server thread.
  void Serve(tcp::socket socket) {
    struct timeval tv = {5, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    beast::error_code ec;
    http::read(socket, buffer, req, ec);
    if (ec) return;
    std::string target(req.target());
    if (size_t q = target.find('?'); q != std::string::npos) target.resize(q);
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(false);
    if (target == "/healthz" || target == "/livez") {
      HealthAnswer a = target == "/healthz" ? health.Healthz() : health.Livez();
      res.result(a.status);
      res.set(http::field::content_type, "application/json");
      res.set("X-Content-Type-Options", "nosniff");
      res.body() = std::move(a.body);
    } else {
      res.result(http::status::not_found);
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.set("X-Content-Type-Options", "nosniff");
      res.body() = "404 page not found\n";
    }
    if (req.method() == http::verb::head) {
      res.content_length(res.body().size());
      http::response_serializer<http::string_body> sr(res);
      http::write_header(socket, sr, ec);
    } else {
      res.prepare_payload();
      http::write(socket, res, ec);
    }
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }
};

absl::StatusOr<std::unique_ptr<HealthServer>> HealthServer::Start(const std::string& address,
                                                                  ProxyHealth& health) {
  std::string host;
  int port = 0;
  if (absl::Status s = controller::healthz::ParseBindAddress(address, &host, &port); !s.ok()) {
    return s;
  }
  auto impl = std::make_unique<Impl>(health);
  beast::error_code ec;
  asio::ip::address ip = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("bind address \"", address, "\": ", ec.message()));
  tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("failed to start proxy healthz on ", address, ": ", ec.message()));
  }
  impl->port = impl->acceptor.local_endpoint(ec).port();
  impl->Accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<HealthServer>(new HealthServer(std::move(impl)));
}

HealthServer::HealthServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HealthServer::~HealthServer() { Stop(); }

int HealthServer::port() const { return impl_->port; }

void HealthServer::Stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace kslice::proxy::cmd
