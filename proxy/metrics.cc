#include "proxy/metrics.h"

#include <vector>

namespace kslice::proxy {
namespace {

namespace m = controller::metrics;

// Upstream's network programming latency buckets: 0.25, 0.5, 1..59 by 1, 60..115 by 5,
// 120..300 by 30 (metrics.go: merged linear buckets).
std::vector<double> NetworkProgrammingBuckets() {
  std::vector<double> b = {0.25, 0.5};
  for (double v : m::LinearBuckets(1, 1, 59)) b.push_back(v);
  for (double v : m::LinearBuckets(60, 5, 12)) b.push_back(v);
  for (double v : m::LinearBuckets(120, 30, 7)) b.push_back(v);
  return b;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProxyMetrics>> ProxyMetrics::Create(m::Registry& registry) {
  std::unique_ptr<ProxyMetrics> p(new ProxyMetrics());
  p->registry = &registry;
  const std::vector<double> sync_buckets = m::ExponentialBuckets(0.001, 2, 15);
  auto hist = [&](Histogram*& out, const char* name, const char* help,
                  std::vector<double> buckets) -> absl::Status {
    absl::StatusOr<Histogram*> h = registry.NewHistogram({name, help}, std::move(buckets));
    if (!h.ok()) return h.status();
    out = *h;
    return absl::OkStatus();
  };
  auto gauge = [&](Gauge*& out, const char* name, const char* help) -> absl::Status {
    absl::StatusOr<Gauge*> g = registry.NewGauge({name, help});
    if (!g.ok()) return g.status();
    out = *g;
    return absl::OkStatus();
  };
  auto counter = [&](Counter*& out, const char* name, const char* help) -> absl::Status {
    absl::StatusOr<Counter*> c = registry.NewCounter({name, help});
    if (!c.ok()) return c.status();
    out = *c;
    return absl::OkStatus();
  };
  auto gauge_vec = [&](GaugeVec*& out, const char* name, const char* help,
                       const char* label) -> absl::Status {
    absl::StatusOr<GaugeVec*> g = registry.NewGaugeVec({name, help}, {label});
    if (!g.ok()) return g.status();
    out = *g;
    return absl::OkStatus();
  };
  for (absl::Status s : {
           hist(p->sync_proxy_rules_duration, "kubeproxy_sync_proxy_rules_duration_seconds",
                "[ALPHA] SyncProxyRules latency in seconds", sync_buckets),
           hist(p->sync_full_proxy_rules_duration,
                "kubeproxy_sync_full_proxy_rules_duration_seconds",
                "[ALPHA] SyncProxyRules latency in seconds for full resyncs", sync_buckets),
           hist(p->sync_partial_proxy_rules_duration,
                "kubeproxy_sync_partial_proxy_rules_duration_seconds",
                "[ALPHA] SyncProxyRules latency in seconds for partial resyncs", sync_buckets),
           gauge(p->sync_proxy_rules_last_timestamp,
                 "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                 "[ALPHA] The last time proxy rules were successfully synced"),
           gauge(p->sync_proxy_rules_last_queued_timestamp,
                 "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
                 "[ALPHA] The last time a sync of proxy rules was queued"),
           hist(p->network_programming_duration, "kubeproxy_network_programming_duration_seconds",
                "[ALPHA] In Cluster Network Programming Latency in seconds",
                NetworkProgrammingBuckets()),
           gauge(p->endpoint_changes_pending, "kubeproxy_sync_proxy_rules_endpoint_changes_pending",
                 "[ALPHA] Pending proxy rules Endpoint changes"),
           counter(p->endpoint_changes_total, "kubeproxy_sync_proxy_rules_endpoint_changes_total",
                   "[ALPHA] Cumulative proxy rules Endpoint changes"),
           gauge(p->service_changes_pending, "kubeproxy_sync_proxy_rules_service_changes_pending",
                 "[ALPHA] Pending proxy rules Service changes"),
           counter(p->service_changes_total, "kubeproxy_sync_proxy_rules_service_changes_total",
                   "[ALPHA] Cumulative proxy rules Service changes"),
           counter(p->iptables_restore_failures_total,
                   "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
                   "[ALPHA] Cumulative proxy iptables restore failures"),
           counter(p->iptables_partial_restore_failures_total,
                   "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
                   "[ALPHA] Cumulative proxy iptables partial restore failures"),
           gauge_vec(p->iptables_rules_total, "kubeproxy_sync_proxy_rules_iptables_total",
                     "[ALPHA] Total number of iptables rules owned by kube-proxy", "table"),
           gauge_vec(p->iptables_rules_last, "kubeproxy_sync_proxy_rules_iptables_last",
                     "[ALPHA] Number of iptables rules written by kube-proxy in last sync",
                     "table"),
           gauge_vec(p->no_local_endpoints_total,
                     "kubeproxy_sync_proxy_rules_no_local_endpoints_total",
                     "[ALPHA] Number of services with a Local traffic policy and no endpoints",
                     "traffic_policy"),
       }) {
    if (!s.ok()) return s;
  }
  return p;
}

}  // namespace kslice::proxy
