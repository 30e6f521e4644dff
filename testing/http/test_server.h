// A small HTTP/1.1 server for transport tests, on Boost.Beast: plain or TLS (with
// optional client-certificate verification), one thread per connection, keep-alive.
// Handlers see the request and answer with a whole response or a chunked stream that
// they feed until they stop (or the client goes away).
//
//   TestServer server(options, [](const TestRequest& req, TestResponder& out) {
//     out.Respond(200, {{"Content-Type", "application/json"}}, R"({"ok":true})");
//   });
//   std::string url = server.url();  // "https://127.0.0.1:PORT"
#ifndef KSLICE_TESTING_HTTP_TEST_SERVER_H_
#define KSLICE_TESTING_HTTP_TEST_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kslice::testing {

struct TestRequest {
  std::string method;
  std::string target;  // path and query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string client_cert_cn;  // CN of a verified client certificate, if any
  std::string Header(const std::string& name) const;
};

class TestResponder {
 public:
  virtual ~TestResponder() = default;
  // A complete response with Content-Length.
  virtual void Respond(int status, std::vector<std::pair<std::string, std::string>> headers,
                       std::string body) = 0;
  // Starts a chunked response; then Write() chunks; false once the client is gone.
  virtual bool StartStream(int status, std::vector<std::pair<std::string, std::string>> headers) = 0;
  virtual bool Write(const std::string& chunk) = 0;
  // Ends a stream cleanly (the final zero-length chunk).
  virtual void Finish() = 0;
  // Drops the connection without finishing the response.
  virtual void Abort() = 0;
};

using TestHandler = std::function<void(const TestRequest&, TestResponder&)>;

struct TestServerOptions {
  bool tls = true;
  std::string cert_pem, key_pem;  // serving certificate (TLS)
  std::string client_ca_pem;      // if set, client certificates are requested and verified
};

class TestServer {
 public:
  TestServer(TestServerOptions options, TestHandler handler);
  ~TestServer();  // stops accepting, closes connections, joins threads

  std::string url() const;  // scheme://127.0.0.1:port
  int port() const { return port_; }
  int connections_accepted() const { return accepted_.load(); }
  bool stopping() const { return stopping_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  TestServerOptions options_;
  TestHandler handler_;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
};

}  // namespace kslice::testing

#endif  // KSLICE_TESTING_HTTP_TEST_SERVER_H_
