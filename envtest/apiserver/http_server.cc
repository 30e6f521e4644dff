#include "envtest/apiserver/http_server.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/strings/str_cat.h"
#include "api/codec/codec.h"
#include "envtest/apiserver/status.h"

namespace kslice::envtest::apiserver {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection on its executor; `done` runs there once it is closed.
  virtual void Close(std::function<void()> done) = 0;
};

struct HttpServer::Impl {
  APIServer* api = nullptr;
  HttpServerOptions options;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  asio::ssl::context ssl{asio::ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<asio::thread_pool> pool;
  std::vector<std::thread> threads;
  int port = 0;
  std::atomic<int> active_watches{0};
  std::atomic<bool> stopped{false};

  std::mutex sessions_mu;
  std::set<std::shared_ptr<SessionBase>> sessions;  // guarded by sessions_mu

  void Accept();
  void Add(std::shared_ptr<SessionBase> s) {
    std::lock_guard<std::mutex> l(sessions_mu);
    sessions.insert(std::move(s));
  }
  void Remove(SessionBase* s) {
    std::lock_guard<std::mutex> l(sessions_mu);
    for (auto it = sessions.begin(); it != sessions.end(); ++it) {
      if (it->get() == s) {
        sessions.erase(it);
        return;
      }
    }
  }
  // Closes every session. With `wait`, returns once each close has run (or after
  // `wait_limit`, should the loop be stuck), so a client's next request cannot land
  // on a connection the server is about to close.
  void CloseAll(bool wait, std::chrono::milliseconds wait_limit = std::chrono::seconds(5)) {
    std::vector<std::shared_ptr<SessionBase>> copy;
    {
      std::lock_guard<std::mutex> l(sessions_mu);
      copy.assign(sessions.begin(), sessions.end());
    }
    struct Pending {
      std::mutex mu;
      std::condition_variable cv;
      size_t left = 0;
    };
    auto pending = std::make_shared<Pending>();
    pending->left = copy.size();
    for (auto& s : copy) {
      s->Close([pending] {
        std::lock_guard<std::mutex> l(pending->mu);
        if (--pending->left == 0) pending->cv.notify_all();
      });
    }
    if (!wait) return;
    std::unique_lock<std::mutex> l(pending->mu);
    pending->cv.wait_for(l, wait_limit, [&] { return pending->left == 0; });
  }
};

namespace {

Response ErrorAsResponse(const absl::Status& status) {
  Response r;
  r.status = HttpCodeOf(status);
  r.headers.emplace_back("Content-Type", "application/json");
  storage::MetaStatus st = storage::ToApiStatus(status);
  absl::StatusOr<std::string> body = codec::Encode(st, codec::Format::kJson);
  r.body = body.ok() ? *std::move(body) : std::string();
  return r;
}

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(HttpServer::Impl* server, Stream stream)
      : server_(server), stream_(std::move(stream)), timer_(stream_.get_executor()) {}

  void Start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      ReadHeader();
    } else {
      auto self = this->shared_from_this();
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self](beast::error_code ec) {
                                if (ec) return self->Done();
                                self->ReadHeader();
                              });
    }
  }

  void Close(std::function<void()> done) override {
    auto self = this->shared_from_this();
    asio::post(stream_.get_executor(), [self, done = std::move(done)] {
      self->closing_ = true;
      if (self->watch_) self->watch_->Stop();
      beast::error_code ec;
      beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(self->stream_).close();
      self->timer_.cancel();
      done();
    });
  }

 private:
  void ReadHeader() {
    if (closing_) return Done();
    parser_.emplace();
    parser_->header_limit(64 * 1024);
    parser_->body_limit(server_->api->options().max_request_body_bytes + 1);
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::seconds(server_->options.idle_timeout_seconds));
    auto self = this->shared_from_this();
    http::async_read_header(stream_, buffer_, *parser_,
                            [self](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      linger_ = true;
      return Write(ErrorAsResponse(
          RequestEntityTooLargeError(server_->api->options().max_request_body_bytes)));
    }
    if (ec == http::error::header_limit) {
      keep_alive_ = false;
      linger_ = true;
      return Write(ErrorAsResponse(HttpError(431, "RequestHeaderFieldsTooLarge",
                                             "Request Header Fields Too Large")));
    }
    if (ec && ec.category() == beast::error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      // Not HTTP: answer 400 as Go's server does, then close.
      keep_alive_ = false;
      linger_ = true;
      return Write(ErrorAsResponse(storage::BadRequestError("malformed HTTP request")));
    }
    if (ec) return Done();
    auto& req = parser_->get();
    auto self = this->shared_from_this();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      http::async_write(stream_, *cont, [self, cont](beast::error_code ec2, size_t) {
        if (ec2) return self->Done();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    auto self = this->shared_from_this();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, *parser_, [self](beast::error_code ec, size_t) {
      if (ec == http::error::body_limit) {
        self->keep_alive_ = false;
        self->linger_ = true;
        return self->Write(ErrorAsResponse(
            RequestEntityTooLargeError(self->server_->api->options().max_request_body_bytes)));
      }
      if (ec) return self->Done();
      self->OnRequest();
    });
  }

  void OnRequest() {
    beast::get_lowest_layer(stream_).expires_never();
    http::request<http::string_body> msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    auto req = std::make_shared<Request>();
    req->method = std::string(msg.method_string());
    req->target = std::string(msg.target());
    for (const auto& f : msg) {
      req->headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    req->body = std::move(msg.body());
    auto self = this->shared_from_this();
    asio::post(*server_->pool, [self, req] {
      Response resp = self->server_->api->Handle(*req);
      auto shared = std::make_shared<Response>(std::move(resp));
      asio::post(self->stream_.get_executor(), [self, shared] { self->Write(std::move(*shared)); });
    });
  }

  void Write(Response r) {
    if (closing_) return Done();
    if (r.stream) return StartWatch(std::move(r));
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), 11);
    for (auto& [k, v] : r.headers) res->insert(k, v);
    if (res->find(http::field::cache_control) == res->end()) {
      res->set(http::field::cache_control, "no-cache, private");
    }
    res->set(http::field::date, HttpDate());
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    auto self = this->shared_from_this();
    http::async_write(stream_, *res, [self, res](beast::error_code ec, size_t) {
      if (!ec && self->linger_) return self->Linger();
      if (ec || !self->keep_alive_) return self->Shutdown();
      self->ReadHeader();
    });
  }

  // After refusing a request whose body was not read: stop sending, read and drop
  // what the client is still sending for a moment, then close — so the client reads
  // our answer instead of a connection reset (as Go's server does).
  void Linger() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
    beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(500));
    Discard();
  }
  void Discard() {
    auto self = this->shared_from_this();
    stream_.async_read_some(asio::buffer(probe_), [self](beast::error_code ec, size_t) {
      if (ec) return self->Shutdown();
      self->Discard();
    });
  }

  // ---- watch streaming
  void StartWatch(Response r) {
    watch_ = r.stream;
    ++server_->active_watches;
    counted_ = true;
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::ok, 11);
    for (auto& [k, v] : r.headers) res->insert(k, v);
    res->set(http::field::cache_control, "no-cache, private");
    res->set(http::field::date, HttpDate());
    res->chunked(true);
    res->keep_alive(keep_alive_);
    auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    auto self = this->shared_from_this();
    http::async_write_header(stream_, *sr, [self, res, sr](beast::error_code ec, size_t) {
      if (ec) return self->EndWatch(false);
      std::weak_ptr<Session> weak = self;
      auto executor = self->stream_.get_executor();
      self->watch_->SetWake([weak, executor] {
        asio::post(executor, [weak] {
          if (auto s = weak.lock()) s->Pump();
        });
      });
      self->ArmTimer();
      self->WatchForClose();
      self->Pump();
    });
  }

  void ArmTimer() {
    absl::Duration left = watch_->deadline() - absl::Now();
    bool bookmark_first = !bookmark_requested_ && left > absl::Seconds(1);
    absl::Duration wait = bookmark_first ? left - absl::Seconds(1) : left;
    if (wait < absl::ZeroDuration()) wait = absl::ZeroDuration();
    timer_.expires_after(std::chrono::milliseconds(absl::ToInt64Milliseconds(wait)));
    auto self = this->shared_from_this();
    timer_.async_wait([self, bookmark_first](beast::error_code ec) {
      if (ec || !self->watch_) return;
      if (bookmark_first) {
        self->bookmark_requested_ = true;
        self->watch_->RequestBookmark();
        self->ArmTimer();
        return;
      }
      self->deadline_passed_ = true;
      self->Pump();
    });
  }

  // A read completing during a watch means the client closed (or misbehaves).
  void WatchForClose() {
    auto self = this->shared_from_this();
    stream_.async_read_some(asio::buffer(probe_), [self](beast::error_code, size_t) {
      if (!self->watch_) return;
      self->client_gone_ = true;
      self->watch_->Stop();
      self->Pump();
    });
  }

  void Pump() {
    if (!watch_ || writing_) return;
    if (client_gone_ || closing_) return EndWatch(false);
    out_.clear();
    bool more = !deadline_passed_ && watch_->Poll(&out_);
    if (!out_.empty()) {
      writing_ = true;
      auto self = this->shared_from_this();
      asio::async_write(stream_, http::make_chunk(asio::buffer(out_)),
                        [self](beast::error_code ec, size_t) {
                          self->writing_ = false;
                          if (ec) return self->EndWatch(false);
                          self->Pump();
                        });
      return;
    }
    if (!more) EndWatch(true);
  }

  void EndWatch(bool clean) {
    if (!watch_) return;
    std::shared_ptr<WatchStream> w = std::move(watch_);
    w->SetWake(nullptr);
    w->Stop();
    timer_.cancel();
    if (counted_) {
      --server_->active_watches;
      counted_ = false;
    }
    if (!clean || client_gone_ || closing_) return Shutdown();
    writing_ = true;
    auto self = this->shared_from_this();
    asio::async_write(stream_, http::make_chunk_last(), [self](beast::error_code, size_t) {
      self->writing_ = false;
      // The read probe may hold buffered bytes of a next request: close instead of
      // trying to reuse the connection.
      self->Shutdown();
    });
  }

  void Shutdown() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      stream_.close();
      Done();
    } else {
      auto self = this->shared_from_this();
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self](beast::error_code) {
        beast::get_lowest_layer(self->stream_).close();
        self->Done();
      });
    }
  }

  void Done() {
    if (watch_) {
      watch_->SetWake(nullptr);
      watch_->Stop();
      watch_.reset();
      if (counted_) {
        --server_->active_watches;
        counted_ = false;
      }
    }
    timer_.cancel();
    server_->Remove(this);
  }

  static std::string HttpDate() {
    return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::Now(), absl::UTCTimeZone());
  }

  HttpServer::Impl* server_;
  Stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  bool closing_ = false;
  bool linger_ = false;
  // Watch state (on the session's strand).
  std::shared_ptr<WatchStream> watch_;
  std::string out_;
  bool writing_ = false;
  bool counted_ = false;
  bool bookmark_requested_ = false;
  bool deadline_passed_ = false;
  bool client_gone_ = false;
  char probe_[64];
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!stopped) Accept();
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (options.tls) {
      auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          this, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), ssl));
      Add(s);
      s->Start();
    } else {
      auto s = std::make_shared<Session<beast::tcp_stream>>(this,
                                                            beast::tcp_stream(std::move(socket)));
      Add(s);
      s->Start();
    }
    Accept();
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(APIServer* api,
                                                             HttpServerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->api = api;
  impl->options = options;
  if (options.tls) {
    beast::error_code ec;
    impl->ssl.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1);
    impl->ssl.use_certificate_chain(asio::buffer(options.cert_pem), ec);
    if (ec) return absl::InvalidArgumentError("serving certificate: " + ec.message());
    impl->ssl.use_private_key(asio::buffer(options.key_pem), asio::ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError("serving key: " + ec.message());
  }
  beast::error_code ec;
  asio::ip::address addr = asio::ip::make_address(options.address, ec);
  if (ec) return absl::InvalidArgumentError("bad listen address " + options.address);
  tcp::endpoint ep(addr, static_cast<unsigned short>(options.port));
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.address, ":", options.port, ": ", ec.message()));
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->pool = std::make_unique<asio::thread_pool>(std::max(1, options.worker_threads));
  impl->work.emplace(impl->ioc.get_executor());
  impl->Accept();
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    impl->threads.emplace_back([p = impl.get()] { p->ioc.run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  asio::post(impl_->ioc, [p = impl_.get()] {
    beast::error_code ec;
    p->acceptor.close(ec);
  });
  impl_->CloseAll(/*wait=*/false);
  impl_->pool->join();
  // Let sessions run their close handlers, then stop the loop.
  impl_->work.reset();
  for (int i = 0; i < 200 && impl_->active_watches.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  std::lock_guard<std::mutex> l(impl_->sessions_mu);
  impl_->sessions.clear();
}

int HttpServer::port() const { return impl_->port; }

std::string HttpServer::url() const {
  return absl::StrCat(impl_->options.tls ? "https" : "http", "://", impl_->options.address, ":",
                      impl_->port);
}

int HttpServer::active_watches() const { return impl_->active_watches.load(); }

void HttpServer::DropConnections() { impl_->CloseAll(/*wait=*/true); }

}  // namespace kslice::envtest::apiserver
