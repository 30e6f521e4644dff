// The HTTP(S) front of the embedded API server, on Boost.Asio/Beast: HTTP/1.1 with
// keep-alive, TLS from PEM blobs, requests handled on a worker pool (a handler may
// block), watch responses streamed as chunks straight from the storage watchers, so
// that hundreds of concurrent watches cost no thread each.
//
//   auto http = HttpServer::Start(api.get(), {.tls = true, .cert_pem = ..., .key_pem = ...});
//   std::string url = (*http)->url();   // https://127.0.0.1:PORT
//
// A watch ends when its stream ends (timeout, store, slow client), when the client
// closes the connection, or at Stop(). One second before a watch's deadline the
// server asks for a bookmark (clients that allow bookmarks learn the latest RV).
#ifndef KSLICE_ENVTEST_APISERVER_HTTP_SERVER_H_
#define KSLICE_ENVTEST_APISERVER_HTTP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "envtest/apiserver/apiserver.h"

namespace kslice::envtest::apiserver {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;  // 0 = any free port
  bool tls = true;
  std::string cert_pem{}, key_pem{};  // serving certificate chain and key (TLS)
  int io_threads = 2;                 // event loop threads
  int worker_threads = 8;             // threads running APIServer::Handle
  // Idle keep-alive connections are closed after this long.
  int idle_timeout_seconds = 300;
};

class HttpServer {
 public:
  // Binds and starts serving. `api` is not owned and must outlive the server.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(APIServer* api,
                                                          HttpServerOptions options);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops accepting, ends watches, closes connections, joins the threads.
  void Stop();
  int port() const;
  // "https://127.0.0.1:PORT" (or http).
  std::string url() const;
  // Watches being streamed right now.
  int active_watches() const;
  // Closes every open connection abruptly (tests: a client must survive this), and
  // returns once they are closed. A request the server is handling right then is
  // cut off before its answer.
  void DropConnections();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kslice::envtest::apiserver

#endif  // KSLICE_ENVTEST_APISERVER_HTTP_SERVER_H_
