// Health, readiness and metrics endpoints for a controller process, in the format
// of Kubernetes' healthz handlers (k8s.io/apiserver/pkg/server/healthz, and
// controller-runtime's pkg/healthz):
//
//   GET /readyz            200 "ok" when every check passes
//   GET /readyz?verbose    200 "[+]ping ok\n[+]informers ok\nreadyz check passed\n"
//   (a failing check)      500 "[+]ping ok\n[-]informers failed: reason withheld\nreadyz check failed\n"
//   GET /readyz?exclude=informers   skips that check ("[+]informers excluded: ok")
//   GET /readyz/informers  one check: 200 "ok" or 500 "internal server error: <reason>\n"
//   GET /metrics           the text of ServerOptions::metrics (Prometheus exposition format)
//
// /healthz, /livez and /readyz each have their own list of named checks; a list
// without checks answers as if it held only "ping". Failure reasons are withheld
// from the aggregated answer (as upstream: the endpoints are public) and logged at
// V(2); ServerOptions::show_reasons puts them in the answer instead.
//
//   auto server = healthz::Server::Start({.address = "0.0.0.0", .port = 8081,
//                                         .metrics = [&] { return registry.Text(); }});
//   (*server)->AddReadyzCheck("informers", [&] { return synced ? absl::OkStatus()
//                                                  : absl::UnavailableError("not synced"); });
//
// Checks run on the server's I/O threads, one request at a time per connection:
// they must be quick and must not block (read a flag; do not call the API server).
#ifndef KSLICE_CONTROLLER_HEALTHZ_HEALTHZ_H_
#define KSLICE_CONTROLLER_HEALTHZ_HEALTHZ_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kslice::controller::healthz {

// OK when healthy; otherwise the status message is the reason.
using Checker = std::function<absl::Status()>;

struct NamedCheck {
  std::string name;
  Checker check;
};

// An HTTP answer, independent of the transport.
struct Response {
  int status = 200;
  std::string content_type{};
  std::string body{};
};

struct HandleOptions {
  // Put the checks' error messages in the answers instead of "reason withheld".
  bool show_reasons = false;
};

// The answer of endpoint `endpoint` ("readyz") with `checks` to a request for
// `path` (the request target without the endpoint's prefix: "" or "/" for the
// aggregate, "/name" for one check) and `query` (the raw query string, without '?').
Response HandleChecks(std::string_view endpoint, const std::vector<NamedCheck>& checks,
                      std::string_view path, std::string_view query,
                      const HandleOptions& options = {});

struct ServerOptions {
  std::string address = "0.0.0.0";  // IPv4 or IPv6 literal, or "localhost"
  int port = 0;                      // 0: any free port (see Server::port())
  bool show_reasons = false;
  // The body of /metrics; empty: /metrics answers 404.
  std::function<std::string()> metrics{};
  int io_threads = 1;
  // Keep-alive connections idle this long are closed.
  absl::Duration idle_timeout = absl::Seconds(60);
  // Stop() waits this long for requests in progress before closing connections.
  absl::Duration shutdown_timeout = absl::Seconds(5);
};

// Splits "host:port", ":port" (all interfaces) or "[v6]:port" as the
// --health-probe-bind-address flag is written. Port 0 is allowed.
absl::Status ParseBindAddress(std::string_view value, std::string* host, int* port);

class Server {
 public:
  // Binds and starts serving; a bad address or a port in use is an error.
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Add a named check to an endpoint; thread-safe, also while serving. Names are
  // unique per endpoint (AlreadyExists) and may not contain '/' or be empty.
  absl::Status AddHealthzCheck(std::string name, Checker check);
  absl::Status AddLivezCheck(std::string name, Checker check);
  absl::Status AddReadyzCheck(std::string name, Checker check);

  // The bound port (the chosen one when options.port was 0).
  int port() const;
  // "http://ADDRESS:PORT" (127.0.0.1 when bound to all interfaces).
  std::string url() const;

  // Stops accepting, lets requests in progress finish (up to shutdown_timeout),
  // closes every connection and joins the threads. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kslice::controller::healthz

#endif  // KSLICE_CONTROLLER_HEALTHZ_HEALTHZ_H_
