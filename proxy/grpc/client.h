// WatchClient: the client side of the proxy state API. It keeps a StateReplica of one
// node's proxy state up to date over a Watch stream, reconnecting and resuming (from
// the last version it applied) when the stream breaks.
//
//   absl::StatusOr<std::unique_ptr<WatchClient>> c =
//       WatchClient::Create({.target = "unix:/run/kslice-proxy/grpc.sock"});
//   absl::Status s = (*c)->Run(stop_token, [&](const ProxyState& state,
//                                              const AppliedUpdate& update) { ... });
//
// The callback runs on Run()'s thread after every complete update (a snapshot, or a
// delta whose changes `update` lists); the state it gets is immutable and may be kept.
// Run() returns when `stop` is requested (OK), or on an error retrying cannot fix:
// INVALID_ARGUMENT, NOT_FOUND (the server streams another node), UNIMPLEMENTED. Every
// other failure (server down, TLS handshake, stream cut, a delta that does not follow
// the replica) reconnects after a backoff; a broken chain reconnects asking for a
// fresh snapshot.
#ifndef KSLICE_PROXY_GRPC_CLIENT_H_
#define KSLICE_PROXY_GRPC_CLIENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proxy/grpc/codec.h"
#include "proxy/types.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace kslice::proxy::grpc {

struct WatchClientOptions {
  std::string target{};           // "unix:/path.sock" or "host:port"
  std::string tls_ca_file{};      // PEM: use TLS, trusting this CA
  std::string tls_cert_file{};    // PEM client certificate + key (mutual TLS)
  std::string tls_key_file{};
  std::string tls_server_name{};  // expected server name (default: the target's host)
  std::string node_name{};        // ask the server to confirm it streams this node
  std::optional<IPFamily> family{};  // unset: the server's default (IPv4 if served)
  absl::Duration backoff_initial = absl::Milliseconds(100);
  absl::Duration backoff_max = absl::Seconds(5);
  // Called (on Run()'s thread) with the status that ended each stream before the
  // client reconnects, e.g. to log it. May be empty.
  std::function<void(const absl::Status&)> on_stream_end{};
};

class WatchClient {
 public:
  using UpdateCallback = std::function<void(const ProxyState&, const AppliedUpdate&)>;

  // InvalidArgument for an empty target or half-given client certificate;
  // FailedPrecondition when a TLS file cannot be read.
  static absl::StatusOr<std::unique_ptr<WatchClient>> Create(WatchClientOptions options);
  ~WatchClient();

  // Streams until `stop` (see the file comment). Call from one thread at a time.
  absl::Status Run(std::stop_token stop, const UpdateCallback& on_update);

  // Streams opened so far (1 + reconnects) and complete updates applied. Thread-safe.
  int64_t connects() const { return connects_.load(); }
  int64_t updates() const { return updates_.load(); }

 private:
  explicit WatchClient(WatchClientOptions options) : options_(std::move(options)) {}
  // One stream: OK when stopped, else the status that ended it.
  absl::Status RunStream(std::stop_token stop, const UpdateCallback& on_update, bool* progressed);

  const WatchClientOptions options_;
  std::shared_ptr<::grpc::Channel> channel_;
  StateReplica replica_;
  std::atomic<int64_t> connects_{0};
  std::atomic<int64_t> updates_{0};
};

}  // namespace kslice::proxy::grpc

#endif  // KSLICE_PROXY_GRPC_CLIENT_H_
