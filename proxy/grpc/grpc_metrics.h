// Metrics of the grpc backend's streams, one child per IP family:
//
//   kslice_proxy_grpc_clients{ip_family}                  Watch streams open now
//   kslice_proxy_grpc_updates_sent_total{ip_family}       updates (snapshots + deltas) handed to streams
//   kslice_proxy_grpc_snapshots_sent_total{ip_family}
//   kslice_proxy_grpc_snapshots_forced_total{ip_family}   queue overflows (slow clients)
//   kslice_proxy_grpc_resumes_total{ip_family,result}     reconnects: result "delta" or "snapshot"
//
// Registered on a controller::metrics::Registry given in GrpcBackendOptions::registry
// (BackendOptions carries none yet, so kslice-proxy does not export them; see
// docs/proxy-grpc.md).
#ifndef KSLICE_PROXY_GRPC_GRPC_METRICS_H_
#define KSLICE_PROXY_GRPC_GRPC_METRICS_H_

#include "absl/status/statusor.h"
#include "controller/metrics/metrics.h"
#include "proxy/types.h"

namespace kslice::proxy::grpc {

// Pointers are owned by the registry and live as long as it; never null after Create.
struct GrpcMetrics {
  controller::metrics::Gauge* clients = nullptr;
  controller::metrics::Counter* updates_sent = nullptr;
  controller::metrics::Counter* snapshots_sent = nullptr;
  controller::metrics::Counter* snapshots_forced = nullptr;
  controller::metrics::Counter* resumed_with_deltas = nullptr;
  controller::metrics::Counter* resumed_with_snapshot = nullptr;

  // The children for `family` (families are shared when created twice on a registry).
  static absl::StatusOr<GrpcMetrics> Create(controller::metrics::Registry& registry,
                                            IPFamily family);
};

}  // namespace kslice::proxy::grpc

#endif  // KSLICE_PROXY_GRPC_GRPC_METRICS_H_
