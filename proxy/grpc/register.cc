// Registers the "grpc" proxy mode (--proxy-mode grpc): BackendOptions -> GrpcBackend.
#include <memory>

#include "absl/status/statusor.h"
#include "proxy/backend.h"
#include "proxy/metrics.h"
#include "proxy/grpc/grpc_backend.h"

namespace kslice::proxy::grpc {
namespace {

absl::StatusOr<std::unique_ptr<Backend>> NewGrpcBackend(const BackendOptions& o) {
  absl::StatusOr<GrpcBackendOptions> options = GrpcBackendOptionsFrom(o);
  if (!options.ok()) return options.status();
  // kslice-proxy's /metrics then carries kslice_proxy_grpc_* too.
  if (o.metrics != nullptr && options->registry == nullptr) options->registry = o.metrics->registry;
  absl::StatusOr<std::unique_ptr<GrpcBackend>> b = GrpcBackend::Create(*std::move(options));
  if (!b.ok()) return b.status();
  return std::unique_ptr<Backend>(*std::move(b));
}

}  // namespace
}  // namespace kslice::proxy::grpc

KSLICE_REGISTER_PROXY_BACKEND(grpc, ::kslice::proxy::grpc::NewGrpcBackend);
