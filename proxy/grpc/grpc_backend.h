// GrpcBackend: --proxy-mode grpc. Instead of programming a dataplane, it streams the
// proxy state over the proxy state API (proxy_state.proto) to agents in other
// processes, which program theirs (cmd/kslice-proxy-agent is a sample one).
//
// Each Sync diffs the new state against the previous one — only the ports the SyncHint
// names, or everything on a full hint — and publishes one delta to every Watch stream
// (publisher.h: bounded per-client queues, snapshot on overflow, bounded history for
// resume). The gRPC server starts on the first Sync, so `kslice-proxy --cleanup` and
// a failing start-up never bind the socket; until then clients get UNAVAILABLE and
// retry. Two backends of one process with the same listen address (dual-stack) share
// the server; clients pick the family in their WatchRequest.
//
// BackendOptions::extra keys (docs/proxy-grpc.md):
//   grpc.listen         unix:/path.sock or host:port (default unix:/run/kslice-proxy/grpc.sock)
//   grpc.tls-cert, grpc.tls-key   PEM files: serve TLS
//   grpc.tls-client-ca  PEM file: require client certificates it signed (mutual TLS)
//   grpc.max-clients    concurrent Watch streams (64)
//   grpc.queue-limit    updates queued per client before it is switched to a snapshot (64)
//   grpc.history        deltas kept for resuming clients (256)
// Other grpc.* keys are InvalidArgument (typos do not pass silently).
// Dry run (BackendOptions::dry_run): each Sync writes FormatState(state) to the stream.
#ifndef KSLICE_PROXY_GRPC_GRPC_BACKEND_H_
#define KSLICE_PROXY_GRPC_GRPC_BACKEND_H_

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxy/backend.h"
#include "controller/metrics/metrics.h"
#include "proxy/grpc/publisher.h"
#include "proxy/grpc/server.h"
#include "proxy/types.h"

namespace kslice::proxy::grpc {

struct GrpcBackendOptions {
  std::string node_name{};
  IPFamily family = IPFamily::kIPv4;
  StateServerOptions server;
  PublisherOptions publisher;
  bool dry_run = false;
  std::ostream* dry_run_output = nullptr;  // not owned; used only with dry_run
  // Where to register grpc_metrics.h's families; not owned, may be null (none).
  controller::metrics::Registry* registry = nullptr;
};

// Reads the grpc.* keys of `options.extra` (see the file comment).
absl::StatusOr<GrpcBackendOptions> GrpcBackendOptionsFrom(const BackendOptions& options);

class GrpcBackend : public Backend {
 public:
  static absl::StatusOr<std::unique_ptr<GrpcBackend>> Create(GrpcBackendOptions options);
  ~GrpcBackend() override;

  absl::string_view name() const override { return "grpc"; }
  // Starts the server if needed (FailedPrecondition / InvalidArgument when it cannot),
  // then publishes. Never waits for clients.
  absl::Status Sync(const ProxyState& state, const SyncHint& hint) override;
  // Ends this backend's streams, stops the server when no other backend of the process
  // uses it (removing its unix socket), and removes a stale socket file of an earlier
  // run. A later Sync starts again.
  absl::Status Cleanup() override;

  // The publisher (stats, instance). Owned by the backend.
  const Publisher& publisher() const { return *publisher_; }
  // The bound address ("" before the first Sync).
  std::string address() const { return server_ ? server_->address() : ""; }

 private:
  explicit GrpcBackend(GrpcBackendOptions options);
  void Detach();

  const GrpcBackendOptions options_;
  std::shared_ptr<Publisher> publisher_;
  std::shared_ptr<StateServer> server_;  // shared with other backends on the address
};

}  // namespace kslice::proxy::grpc

#endif  // KSLICE_PROXY_GRPC_GRPC_BACKEND_H_
