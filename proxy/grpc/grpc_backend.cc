#include "proxy/grpc/grpc_backend.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proxy/grpc/codec.h"

namespace kslice::proxy::grpc {
namespace {

absl::Status PositiveInt(const std::string& key, const std::string& value, size_t* out) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(value, &v) || v <= 0 || v > 1000000) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, " must be an integer in 1..1000000, got \"", value, "\""));
  }
  *out = static_cast<size_t>(v);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GrpcBackendOptions> GrpcBackendOptionsFrom(const BackendOptions& o) {
  GrpcBackendOptions g;
  g.node_name = o.node_name;
  g.family = o.family;
  g.dry_run = o.dry_run;
  g.dry_run_output = o.dry_run_output;
  for (const auto& [key, value] : o.extra) {
    if (!absl::StartsWith(key, "grpc.")) continue;  // another backend's setting
    if (key == "grpc.listen") {
      if (value.empty()) return absl::InvalidArgumentError("grpc.listen must not be empty");
      g.server.listen = value;
    } else if (key == "grpc.tls-cert") {
      g.server.tls_cert_file = value;
    } else if (key == "grpc.tls-key") {
      g.server.tls_key_file = value;
    } else if (key == "grpc.tls-client-ca") {
      g.server.tls_client_ca_file = value;
    } else if (key == "grpc.max-clients") {
      size_t n = 0;
      if (absl::Status s = PositiveInt(key, value, &n); !s.ok()) return s;
      g.server.max_clients = static_cast<int>(n);
    } else if (key == "grpc.queue-limit") {
      if (absl::Status s = PositiveInt(key, value, &g.publisher.queue_limit); !s.ok()) return s;
    } else if (key == "grpc.history") {
      if (absl::Status s = PositiveInt(key, value, &g.publisher.history_limit); !s.ok()) return s;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown grpc backend option \"", key,
          "\"; known: grpc.listen, grpc.tls-cert, grpc.tls-key, grpc.tls-client-ca, "
          "grpc.max-clients, grpc.queue-limit, grpc.history"));
    }
  }
  return g;
}

absl::StatusOr<std::unique_ptr<GrpcBackend>> GrpcBackend::Create(GrpcBackendOptions options) {
  if (options.node_name.empty()) {
    return absl::InvalidArgumentError("the grpc backend needs a node name");
  }
  if (options.dry_run && options.dry_run_output == nullptr) {
    return absl::InvalidArgumentError("dry run needs an output stream");
  }
  // Validate TLS pairing early; the server itself starts on the first Sync.
  if (options.server.tls_cert_file.empty() != options.server.tls_key_file.empty()) {
    return absl::InvalidArgumentError("grpc.tls-cert and grpc.tls-key must be given together");
  }
  if (options.server.tls_cert_file.empty() && !options.server.tls_client_ca_file.empty()) {
    return absl::InvalidArgumentError("grpc.tls-client-ca needs grpc.tls-cert and grpc.tls-key");
  }
  if (options.registry != nullptr) {
    absl::StatusOr<GrpcMetrics> m = GrpcMetrics::Create(*options.registry, options.family);
    if (!m.ok()) return m.status();
    options.publisher.metrics = *m;
  }
  return std::unique_ptr<GrpcBackend>(new GrpcBackend(std::move(options)));
}

GrpcBackend::GrpcBackend(GrpcBackendOptions options)
    : options_(std::move(options)),
      publisher_(Publisher::Create(options_.family, options_.node_name, options_.publisher)) {}

GrpcBackend::~GrpcBackend() { Detach(); }

void GrpcBackend::Detach() {
  publisher_->Close();
  if (server_ != nullptr) {
    server_->RemovePublisher(*publisher_);
    server_.reset();  // the last holder stops the server
  }
}

absl::Status GrpcBackend::Sync(const ProxyState& state, const SyncHint& hint) {
  if (options_.dry_run) {
    *options_.dry_run_output << FormatState(state);
    return absl::OkStatus();
  }
  if (server_ == nullptr) {
    absl::StatusOr<std::shared_ptr<StateServer>> s = AcquireStateServer(options_.server);
    if (!s.ok()) return s.status();
    if (absl::Status st = (*s)->AddPublisher(publisher_); !st.ok()) return st;
    server_ = *std::move(s);
  }
  publisher_->Publish(state, hint);
  return absl::OkStatus();
}

absl::Status GrpcBackend::Cleanup() {
  if (options_.dry_run) return absl::OkStatus();
  Detach();
  publisher_ = Publisher::Create(options_.family, options_.node_name, options_.publisher);
  absl::Status s = RemoveStaleUnixSocket(options_.server.listen);
  // A server still answering belongs to another backend of this process or to another
  // process: not ours to remove.
  if (s.code() == absl::StatusCode::kFailedPrecondition &&
      absl::StrContains(s.message(), "listening")) {
    return absl::OkStatus();
  }
  return s;
}

}  // namespace kslice::proxy::grpc
