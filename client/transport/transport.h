// HTTP transport for the REST client, on libcurl's multi interface.
//
// One Transport owns a libcurl multi handle driven by its own I/O thread. Requests
// from any thread are handed to it; over TLS with HTTP/2 (negotiated by ALPN) they are
// multiplexed on one connection, so many watches share it; over HTTP/1.1 connections
// are kept alive and reused. TLS verification is on unless asked otherwise; CA, client
// certificate and key come from memory (PEM). Cancellation from another thread takes
// effect within ~50 ms.
//
//   auto transport = Transport::Create(options);
//   absl::StatusOr<Response> r = (*transport)->Do({.method = "GET", .url = url});
//   (*transport)->Stream(request, [](absl::string_view chunk) { ...; return absl::OkStatus(); },
//                        &cancel);
//
// Errors: connection and TLS failures are kUnavailable; a timeout is
// kDeadlineExceeded; cancellation kCancelled; an oversized response kResourceExhausted.
// HTTP error codes are not errors here: the caller reads Response::status.
#ifndef KSLICE_CLIENT_TRANSPORT_TRANSPORT_H_
#define KSLICE_CLIENT_TRANSPORT_TRANSPORT_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kslice::client {

struct TlsOptions {
  std::string ca_pem;    // trusted roots; empty: the system's
  std::string cert_pem;  // client certificate
  std::string key_pem;   // its private key
  bool insecure_skip_verify = false;
  std::string server_name;  // verify (and SNI) against this name instead of the URL host
};

struct TransportOptions {
  TlsOptions tls;
  std::string proxy_url;  // empty: libcurl's defaults (the *_proxy environment)
  absl::Duration connect_timeout = absl::Seconds(30);
  std::string user_agent;
  bool http2 = true;
  size_t max_response_bytes = size_t{256} << 20;  // Do() only; streams are unbounded
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  absl::Duration timeout = absl::InfiniteDuration();  // whole request
};

struct Response {
  int status = 0;
  int http_version = 0;  // 11 or 2
  Headers headers;       // names lower-cased
  std::string body;
  // The first header named `name` (lower case), or "".
  std::string Header(absl::string_view name) const;
};

// Cancels requests from any thread. One token may serve several requests.
class CancelToken {
 public:
  void Cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

class Transport {
 public:
  static absl::StatusOr<std::unique_ptr<Transport>> Create(TransportOptions options);
  // Aborts requests still in flight (kCancelled) and stops the I/O thread.
  ~Transport();

  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Sends a request and reads the whole response.
  absl::StatusOr<Response> Do(const Request& request, const CancelToken* cancel = nullptr);

  // Sends a request and hands the response body to on_data chunk by chunk as it
  // arrives (on the I/O thread: keep it short). Returns the response head (status,
  // headers; empty body) when the body ends. An error from on_data aborts the
  // transfer and is returned. on_head, if set, runs once the headers are in.
  absl::StatusOr<Response> Stream(const Request& request,
                                  std::function<absl::Status(absl::string_view)> on_data,
                                  const CancelToken* cancel = nullptr,
                                  std::function<absl::Status(const Response&)> on_head = nullptr);

  struct Stats {
    long connections_opened = 0;  // new TCP connections made so far
  };
  Stats stats() const;

 private:
  struct Impl;
  explicit Transport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kslice::client

#endif  // KSLICE_CLIENT_TRANSPORT_TRANSPORT_H_
