#include "controller/healthz/healthz.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "controller/log/log.h"

namespace kslice::controller::healthz {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr char kTextPlain[] = "text/plain; charset=utf-8";
constexpr char kMetricsType[] = "text/plain; version=0.0.4; charset=utf-8";

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query unescaping as Go's url.QueryUnescape ('+' is a space); a bad escape
// leaves the text as it is.
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Query {
  bool verbose = false;
  std::set<std::string> exclude;
};

Query ParseQuery(std::string_view raw) {
  Query q;
  for (absl::string_view part : absl::StrSplit(AV(raw), '&', absl::SkipEmpty())) {
    size_t eq = part.find('=');
    std::string key = Unescape(std::string_view(part.data(), eq == part.npos ? part.size() : eq));
    std::string value =
        eq == part.npos ? "" : Unescape(std::string_view(part.data() + eq + 1, part.size() - eq - 1));
    if (key == "verbose") q.verbose = true;
    if (key == "exclude") q.exclude.insert(value);
  }
  return q;
}

Response Text(int status, std::string body) {
  return Response{.status = status, .content_type = kTextPlain, .body = std::move(body)};
}

// Go's %q for the names in the "cannot be excluded" warning (ASCII names).
std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

Response HandleChecks(std::string_view endpoint, const std::vector<NamedCheck>& registered,
                      std::string_view path, std::string_view query,
                      const HandleOptions& options) {
  std::vector<NamedCheck> ping;
  const std::vector<NamedCheck>* checks = &registered;
  if (registered.empty()) {
    ping.push_back({"ping", [] { return absl::OkStatus(); }});
    checks = &ping;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty()) {
    for (const NamedCheck& c : *checks) {
      if (c.name != path) continue;
      absl::Status st = c.check ? c.check() : absl::OkStatus();
      if (st.ok()) return Text(200, "ok");
      return Text(500, absl::StrCat("internal server error: ", st.message(), "\n"));
    }
    return Text(404, "404 page not found\n");
  }

  Query q = ParseQuery(query);
  std::string out;
  std::string failed_log;
  std::vector<std::string> failed;
  for (const NamedCheck& c : *checks) {
    if (q.exclude.erase(c.name) > 0) {
      absl::StrAppend(&out, "[+]", c.name, " excluded: ok\n");
      continue;
    }
    absl::Status st = c.check ? c.check() : absl::OkStatus();
    if (st.ok()) {
      absl::StrAppend(&out, "[+]", c.name, " ok\n");
      continue;
    }
    failed.push_back(c.name);
    absl::StrAppend(&out, "[-]", c.name, " failed: ",
                    options.show_reasons ? st.message() : "reason withheld", "\n");
    absl::StrAppend(&failed_log, "[-]", c.name, " failed: ", st.message(), "\n");
  }
  if (!q.exclude.empty()) {
    std::vector<std::string> names;
    for (const std::string& n : q.exclude) names.push_back(Quoted(n));
    absl::StrAppend(&out, "warn: some health checks cannot be excluded: no matches for ",
                    absl::StrJoin(names, ","), "\n");
  }
  if (!failed.empty()) {
    KSLICE_V(2).Info("Health check failed",
                     {{"endpoint", endpoint}, {"checks", absl::StrJoin(failed, ",")},
                      {"details", failed_log}});
    absl::StrAppend(&out, AV(endpoint), " check failed\n");
    return Text(500, std::move(out));
  }
  if (!q.verbose) return Text(200, "ok");
  absl::StrAppend(&out, AV(endpoint), " check passed\n");
  return Text(200, std::move(out));
}

absl::Status ParseBindAddress(std::string_view value, std::string* host, int* port) {
  size_t colon = value.rfind(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("bind address \"", AV(value), "\": missing port (want host:port or :port)"));
  }
  std::string_view h = value.substr(0, colon);
  std::string_view p = value.substr(colon + 1);
  if (h.starts_with('[')) {
    if (!h.ends_with(']')) {
      return absl::InvalidArgumentError(absl::StrCat("bind address \"", AV(value), "\": bad IPv6"));
    }
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("bind address \"", AV(value), "\": IPv6 addresses need brackets"));
  }
  int n = 0;
  if (p.empty() || !absl::SimpleAtoi(AV(p), &n) || n < 0 || n > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bind address \"", AV(value), "\": bad port"));
  }
  *host = h.empty() ? "0.0.0.0" : std::string(h);
  *port = n;
  return absl::OkStatus();
}

// ---- the HTTP server ----

class Session;

struct Server::Impl {
  ServerOptions options;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  int port = 0;
  std::string host;
  std::atomic<bool> stopping{false};
  bool stopped = false;  // guarded by stop_mu
  std::mutex stop_mu;

  std::mutex checks_mu;
  std::vector<NamedCheck> healthz, livez, readyz;  // guarded by checks_mu

  std::mutex sessions_mu;
  std::condition_variable sessions_cv;
  std::set<std::shared_ptr<Session>> sessions;  // guarded by sessions_mu

  void Accept();
  void Remove(Session* s);
  absl::Status AddCheck(std::vector<NamedCheck>* list, std::string name, Checker check);
  Response Route(std::string_view target);
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server::Impl* impl, tcp::socket socket) : impl_(impl), stream_(std::move(socket)) {}

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  // Graceful close: now when idle, after the answer when a request is in progress.
  void Close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (!self->busy_) self->Shutdown();
    });
  }

  // Abrupt close (after the shutdown timeout).
  void Abort() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->Shutdown(); });
  }

 private:
  void Read() {
    if (closing_) return Shutdown();
    request_ = {};
    stream_.expires_after(std::chrono::nanoseconds(absl::ToInt64Nanoseconds(impl_->options.idle_timeout)));
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->OnRead(ec);
                     });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return Shutdown();
    busy_ = true;
    std::string_view target(request_.target().data(), request_.target().size());
    Response r = impl_->Route(target);
    response_ = {};
    response_.version(request_.version());
    response_.result(static_cast<http::status>(r.status));
    response_.set(http::field::content_type, r.content_type);
    response_.set("X-Content-Type-Options", "nosniff");
    response_.body() = std::move(r.body);
    response_.keep_alive(request_.keep_alive() && !closing_ &&
                         !impl_->stopping.load(std::memory_order_relaxed));
    response_.prepare_payload();
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code wec, std::size_t) {
                        self->busy_ = false;
                        if (wec || !self->response_.keep_alive()) return self->Shutdown();
                        self->Read();
                      });
  }

  void Shutdown() {
    if (done_) return;
    done_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    impl_->Remove(this);
  }

  Server::Impl* impl_;  // not owned; outlives every session
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  bool busy_ = false;
  bool closing_ = false;
  bool done_ = false;
};

void Server::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec || stopping.load()) {
      if (ec == asio::error::operation_aborted || stopping.load()) return;
      Accept();  // transient (e.g. too many open files): keep going
      return;
    }
    auto session = std::make_shared<Session>(this, std::move(socket));
    {
      std::lock_guard<std::mutex> lock(sessions_mu);
      sessions.insert(session);
    }
    session->Start();
    Accept();
  });
}

void Server::Impl::Remove(Session* s) {
  std::lock_guard<std::mutex> lock(sessions_mu);
  for (auto it = sessions.begin(); it != sessions.end(); ++it) {
    if (it->get() == s) {
      sessions.erase(it);
      break;
    }
  }
  sessions_cv.notify_all();
}

absl::Status Server::Impl::AddCheck(std::vector<NamedCheck>* list, std::string name,
                                    Checker check) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("invalid check name \"", name, "\""));
  }
  if (!check) return absl::InvalidArgumentError("check \"" + name + "\" has no function");
  std::lock_guard<std::mutex> lock(checks_mu);
  for (const NamedCheck& c : *list) {
    if (c.name == name) {
      return absl::AlreadyExistsError(absl::StrCat("check \"", name, "\" is already registered"));
    }
  }
  list->push_back({std::move(name), std::move(check)});
  return absl::OkStatus();
}

Response Server::Impl::Route(std::string_view target) {
  std::string_view path = target, query;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (path == "/metrics") {
    if (!options.metrics) return Text(404, "404 page not found\n");
    return Response{.status = 200, .content_type = kMetricsType, .body = options.metrics()};
  }
  for (auto [name, list] : {std::pair<std::string_view, std::vector<NamedCheck>*>{"healthz", &healthz},
                            {"livez", &livez},
                            {"readyz", &readyz}}) {
    std::string prefix = absl::StrCat("/", AV(name));
    if (path != prefix && !path.starts_with(prefix + "/")) continue;
    std::vector<NamedCheck> checks;
    {
      std::lock_guard<std::mutex> lock(checks_mu);
      checks = *list;
    }
    return HandleChecks(name, checks, path.substr(prefix.size()), query,
                        {.show_reasons = options.show_reasons});
  }
  return Text(404, "404 page not found\n");
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (impl->options.io_threads < 1) impl->options.io_threads = 1;
  if (impl->options.port < 0 || impl->options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("invalid port ", impl->options.port));
  }
  beast::error_code ec;
  std::string address = impl->options.address.empty() ? "0.0.0.0" : impl->options.address;
  if (address == "localhost") address = "127.0.0.1";
  asio::ip::address ip = asio::ip::make_address(address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid bind address \"", impl->options.address, "\": ", ec.message()));
  }
  tcp::endpoint endpoint(ip, static_cast<unsigned short>(impl->options.port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("listen on ", address, ":", impl->options.port,
                                               ": ", ec.message()));
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->host = ip.is_unspecified() ? (ip.is_v6() ? "[::1]" : "127.0.0.1")
                                   : (ip.is_v6() ? "[" + address + "]" : address);
  impl->work.emplace(impl->ioc.get_executor());
  impl->Accept();
  for (int i = 0; i < impl->options.io_threads; ++i) {
    impl->threads.emplace_back([p = impl.get()] { p->ioc.run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

absl::Status Server::AddHealthzCheck(std::string name, Checker check) {
  return impl_->AddCheck(&impl_->healthz, std::move(name), std::move(check));
}
absl::Status Server::AddLivezCheck(std::string name, Checker check) {
  return impl_->AddCheck(&impl_->livez, std::move(name), std::move(check));
}
absl::Status Server::AddReadyzCheck(std::string name, Checker check) {
  return impl_->AddCheck(&impl_->readyz, std::move(name), std::move(check));
}

int Server::port() const { return impl_->port; }

std::string Server::url() const { return absl::StrCat("http://", impl_->host, ":", impl_->port); }

void Server::Stop() {
  std::lock_guard<std::mutex> stop_lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping.store(true);
  Impl* impl = impl_.get();
  // Stop accepting (on the I/O threads, where the acceptor lives).
  std::promise<void> closed;
  asio::post(impl->ioc, [impl, &closed] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard<std::mutex> lock(impl->sessions_mu);
    sessions.assign(impl->sessions.begin(), impl->sessions.end());
  }
  for (auto& s : sessions) s->Close();
  {
    std::unique_lock<std::mutex> lock(impl->sessions_mu);
    impl->sessions_cv.wait_for(
        lock, std::chrono::nanoseconds(absl::ToInt64Nanoseconds(impl->options.shutdown_timeout)),
        [impl] { return impl->sessions.empty(); });
    sessions.assign(impl->sessions.begin(), impl->sessions.end());
  }
  for (auto& s : sessions) s->Abort();
  impl->work.reset();
  {
    std::unique_lock<std::mutex> lock(impl->sessions_mu);
    impl->sessions_cv.wait_for(lock, std::chrono::seconds(1),
                               [impl] { return impl->sessions.empty(); });
  }
  impl->ioc.stop();
  for (auto& t : impl->threads) t.join();
  impl->threads.clear();
  std::lock_guard<std::mutex> lock(impl->sessions_mu);
  impl->sessions.clear();
}

}  // namespace kslice::controller::healthz
