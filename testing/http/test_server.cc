#include "testing/http/test_server.h"

#include <openssl/x509.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <sys/socket.h>

#include <cctype>
#include <list>

namespace kslice::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string TestRequest::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return v;
    }
  }
  return "";
}

struct TestServer::Impl {
  asio::io_context io;
  asio::ssl::context ssl{asio::ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  std::mutex sockets_mu;
  std::list<std::weak_ptr<tcp::socket>> sockets;  // to shut down on stop
};

namespace {

template <typename Stream>
class Responder : public TestResponder {
 public:
  Responder(Stream& stream, bool keep_alive) : stream_(stream), keep_alive_(keep_alive) {}

  void Respond(int status, std::vector<std::pair<std::string, std::string>> headers,
               std::string body) override {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    for (auto& [k, v] : headers) res.set(k, v);
    res.body() = std::move(body);
    res.keep_alive(keep_alive_);
    res.prepare_payload();
    beast::error_code ec;
    http::write(stream_, res, ec);
    ok_ = !ec;
    done_ = true;
  }

  bool StartStream(int status, std::vector<std::pair<std::string, std::string>> headers) override {
    http::response<http::empty_body> res{static_cast<http::status>(status), 11};
    for (auto& [k, v] : headers) res.set(k, v);
    res.chunked(true);
    res.keep_alive(keep_alive_);
    http::response_serializer<http::empty_body> sr{res};
    beast::error_code ec;
    http::write_header(stream_, sr, ec);
    ok_ = !ec;
    streaming_ = true;
    return ok_;
  }

  bool Write(const std::string& chunk) override {
    if (!ok_ || chunk.empty()) return ok_;
    beast::error_code ec;
    asio::write(stream_, http::make_chunk(asio::buffer(chunk)), ec);
    ok_ = !ec;
    return ok_;
  }

  void Finish() override {
    if (ok_ && streaming_) {
      beast::error_code ec;
      asio::write(stream_, http::make_chunk_last(), ec);
      ok_ = !ec;
    }
    done_ = true;
  }

  void Abort() override {
    ok_ = false;
    done_ = true;
    aborted_ = true;
  }

  bool reusable() const { return ok_ && done_ && !aborted_ && keep_alive_; }

 private:
  Stream& stream_;
  bool keep_alive_;
  bool ok_ = true;
  bool done_ = false;
  bool streaming_ = false;
  bool aborted_ = false;
};

template <typename Stream>
void Serve(Stream& stream, const TestHandler& handler, const std::string& client_cn,
           const std::atomic<bool>& stopping) {
  beast::flat_buffer buffer;
  while (!stopping.load()) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec) return;
    auto& req = parser.get();
    TestRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    for (const auto& field : req) {
      r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    r.body = req.body();
    r.client_cert_cn = client_cn;
    Responder<Stream> responder(stream, req.keep_alive());
    handler(r, responder);
    if (!responder.reusable()) return;
  }
}

std::string PeerCommonName(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return "";
  char buf[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof(buf));
  X509_free(cert);
  return buf;
}

}  // namespace

TestServer::TestServer(TestServerOptions options, TestHandler handler)
    : impl_(std::make_unique<Impl>()), options_(std::move(options)), handler_(std::move(handler)) {
  if (options_.tls) {
    impl_->ssl.use_certificate_chain(asio::buffer(options_.cert_pem));
    impl_->ssl.use_private_key(asio::buffer(options_.key_pem), asio::ssl::context::pem);
    if (!options_.client_ca_pem.empty()) {
      impl_->ssl.add_certificate_authority(asio::buffer(options_.client_ca_pem));
      impl_->ssl.set_verify_mode(asio::ssl::verify_peer);  // optional client certificate
    }
  }
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  acceptor_ = std::thread([this] {
    while (!stopping_.load()) {
      auto socket = std::make_shared<tcp::socket>(impl_->io);
      beast::error_code ec;
      impl_->acceptor.accept(*socket, ec);
      if (ec || stopping_.load()) return;
      ++accepted_;
      {
        std::lock_guard<std::mutex> lock(impl_->sockets_mu);
        impl_->sockets.push_back(socket);
      }
      std::lock_guard<std::mutex> lock(mu_);
      workers_.emplace_back([this, socket] {
        if (!options_.tls) {
          Serve(*socket, handler_, "", stopping_);
        } else {
          asio::ssl::stream<tcp::socket&> stream(*socket, impl_->ssl);
          beast::error_code hec;
          stream.handshake(asio::ssl::stream_base::server, hec);
          if (!hec) Serve(stream, handler_, PeerCommonName(stream.native_handle()), stopping_);
        }
        std::lock_guard<std::mutex> lock(impl_->sockets_mu);
        beast::error_code ignored;
        socket->shutdown(tcp::socket::shutdown_both, ignored);
        socket->close(ignored);
      });
    }
  });
}

TestServer::~TestServer() {
  stopping_.store(true);
  beast::error_code ec;
  {
    // Wake the blocking accept() with a connection of our own; the acceptor thread
    // then sees stopping_ and returns before anyone touches the acceptor again.
    asio::io_context io;
    tcp::socket poke(io);
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)),
                 ec);
  }
  if (acceptor_.joinable()) acceptor_.join();
  impl_->acceptor.close(ec);
  {
    // Unblock workers reading from their sockets; they close them under the same lock.
    std::lock_guard<std::mutex> lock(impl_->sockets_mu);
    for (auto& weak : impl_->sockets) {
      if (auto s = weak.lock(); s && s->is_open()) ::shutdown(s->native_handle(), SHUT_RDWR);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

std::string TestServer::url() const {
  return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

}  // namespace kslice::testing
