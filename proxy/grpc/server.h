// StateServer: the gRPC server of the proxy state API (proxy_state.proto). It serves
// Watch streams from the Publishers registered on it, one per IP family, so that a
// dual-stack kslice-proxy (two grpc backends with the same listen address) shares one
// socket. Servers are shared per listen address inside a process: AcquireStateServer
// returns the running one or starts it; the last holder to drop it stops it.
//
//   absl::StatusOr<std::shared_ptr<StateServer>> s =
//       AcquireStateServer({.listen = "unix:/run/kslice-proxy/grpc.sock"});
//   (*s)->AddPublisher(publisher);   // publisher->family() must be free
//   ...
//   (*s)->RemovePublisher(*publisher);
//   s->reset();                      // the last reference stops it and removes the socket
//
// Addresses: "unix:/abs/path.sock" (the parent directory is created; a stale socket
// file nobody answers on is replaced; one a live server answers on is an error) or
// "host:port" (port 0 picks a free port; address() tells which).
// TLS: tls_cert_file + tls_key_file (PEM) turn TLS on; tls_client_ca_file additionally
// requires and verifies client certificates (mutual TLS).
//
// Watch errors (gRPC status codes): INVALID_ARGUMENT (unknown family value, resume
// version in the future), NOT_FOUND (node_name of another node), FAILED_PRECONDITION
// (family not served), RESOURCE_EXHAUSTED (max_clients streams already open),
// UNAVAILABLE (no publisher yet, or shutting down: retry). Unknown methods get
// UNIMPLEMENTED from gRPC.
#ifndef KSLICE_PROXY_GRPC_SERVER_H_
#define KSLICE_PROXY_GRPC_SERVER_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxy/grpc/publisher.h"
#include "proxy/types.h"

namespace grpc {
class Server;
class ServerContext;
}  // namespace grpc

namespace kslice::proxy::grpc {

inline constexpr char kDefaultListenAddress[] = "unix:/run/kslice-proxy/grpc.sock";

struct StateServerOptions {
  std::string listen = kDefaultListenAddress;
  std::string tls_cert_file{};       // PEM; with tls_key_file: serve TLS
  std::string tls_key_file{};
  std::string tls_client_ca_file{};  // PEM; require client certificates signed by it
  int max_clients = 64;            // concurrent Watch streams
};

class StateServer {
 public:
  // Starts a server (prefer AcquireStateServer, which shares one per address).
  // InvalidArgument for a malformed address or TLS settings, FailedPrecondition when
  // the address is in use or a TLS file cannot be read.
  static absl::StatusOr<std::unique_ptr<StateServer>> Start(const StateServerOptions& options);
  ~StateServer();  // Stop()

  // Serves `publisher`'s family. AlreadyExists when another publisher has it.
  absl::Status AddPublisher(std::shared_ptr<Publisher> publisher);
  // Stops serving `publisher` (its streams end when it is closed by its owner).
  void RemovePublisher(const Publisher& publisher);

  // Cancels every open Watch stream; clients see CANCELLED and reconnect (resuming
  // from their version). Tests use it to cut streams without stopping the server.
  void CancelStreams();

  // Ends all streams (UNAVAILABLE), stops listening, removes a unix socket file.
  // Idempotent.
  void Stop();

  // "unix:/path" or "host:port" with the port actually bound.
  const std::string& address() const { return address_; }
  const StateServerOptions& options() const { return options_; }
  int64_t active_streams() const { return active_streams_.load(); }

 private:
  class Service;
  explicit StateServer(const StateServerOptions& options);
  // The publisher a request asks for, or the error to return.
  absl::StatusOr<std::shared_ptr<Publisher>> PublisherFor(int family, const std::string& node);

  const StateServerOptions options_;
  std::string address_{};
  std::string unix_path_{};  // "" for TCP
  std::unique_ptr<Service> service_;
  std::unique_ptr<::grpc::Server> server_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> active_streams_{0};
  std::mutex mu_;
  std::map<IPFamily, std::shared_ptr<Publisher>> publishers_ ABSL_GUARDED_BY(mu_);
  std::set<::grpc::ServerContext*> contexts_ ABSL_GUARDED_BY(mu_);  // open streams, not owned
  std::once_flag stopped_;
};

// The running server for options.listen in this process, or a new one. A running one
// with different TLS settings is FailedPrecondition.
absl::StatusOr<std::shared_ptr<StateServer>> AcquireStateServer(
    const StateServerOptions& options);

// For a "unix:/path" address: removes the socket file when no server answers on it.
// OK when there is nothing to remove; FailedPrecondition when a server is listening.
absl::Status RemoveStaleUnixSocket(const std::string& listen);

}  // namespace kslice::proxy::grpc

#endif  // KSLICE_PROXY_GRPC_SERVER_H_
