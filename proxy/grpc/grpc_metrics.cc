#include "proxy/grpc/grpc_metrics.h"

namespace kslice::proxy::grpc {

absl::StatusOr<GrpcMetrics> GrpcMetrics::Create(controller::metrics::Registry& r,
                                                IPFamily family) {
  const std::string f = IPFamilyName(family);
  GrpcMetrics m;
  auto clients = r.NewGaugeVec({.name = "kslice_proxy_grpc_clients",
                                .help = "Watch streams of the proxy state API open now."},
                               {"ip_family"});
  if (!clients.ok()) return clients.status();
  m.clients = &(*clients)->WithLabelValues({f});
  auto counter = [&](const char* name, const char* help) -> absl::StatusOr<
                                                              controller::metrics::Counter*> {
    auto v = r.NewCounterVec({.name = name, .help = help}, {"ip_family"});
    if (!v.ok()) return v.status();
    return &(*v)->WithLabelValues({f});
  };
  auto sent = counter("kslice_proxy_grpc_updates_sent_total",
                      "Updates (snapshots and deltas) handed to Watch streams.");
  auto snaps = counter("kslice_proxy_grpc_snapshots_sent_total", "Snapshots sent to streams.");
  auto forced = counter("kslice_proxy_grpc_snapshots_forced_total",
                        "Streams whose update queue overflowed and that were switched to a "
                        "snapshot (slow clients).");
  if (!sent.ok()) return sent.status();
  if (!snaps.ok()) return snaps.status();
  if (!forced.ok()) return forced.status();
  m.updates_sent = *sent;
  m.snapshots_sent = *snaps;
  m.snapshots_forced = *forced;
  auto resumes = r.NewCounterVec(
      {.name = "kslice_proxy_grpc_resumes_total",
       .help = "Watch requests that resumed from a version, by what they got: the deltas "
               "since it, or a snapshot."},
      {"ip_family", "result"});
  if (!resumes.ok()) return resumes.status();
  m.resumed_with_deltas = &(*resumes)->WithLabelValues({f, "delta"});
  m.resumed_with_snapshot = &(*resumes)->WithLabelValues({f, "snapshot"});
  return m;
}

}  // namespace kslice::proxy::grpc
