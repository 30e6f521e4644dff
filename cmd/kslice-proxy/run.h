// The running kslice-proxy, apart from main() so that tests can start it in process
// against an embedded API server (with a test backend registered under its own
// --proxy-mode):
//
//   absl::StatusOr<ProxyFlags> f = ParseProxyFlags({"--run-endpointslice-controller", ...}, host);
//   absl::Status s = RunProxy(*f, rest_config, stop);     // until `stop`
//
// What runs:
//  - per IP family (two when dual-stack): the backend of --proxy-mode and a Proxier;
//  - kube-proxy's /healthz server (health.h) and /metrics;
//  - after every successful sync (the proxier's after_sync hook): the service
//    health-check NodePorts (proxy/healthcheck), and the stale UDP conntrack cleanup
//    (proxy/conntrack) when the conntrack tool is installed;
//  - with --run-endpointslice-controller, the EndpointSlice controller too, on the SAME
//    SharedInformerFactory (one list+watch and one cache per resource), through a
//    controller::Manager: the proxy runs on every replica, the controller only while this
//    process holds the Lease (docs/proxy.md, "Shared cache, one process").
#ifndef KSLICE_CMD_KSLICE_PROXY_RUN_H_
#define KSLICE_CMD_KSLICE_PROXY_RUN_H_

#include <stop_token>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/config/rest_config.h"
#include "cmd/kslice-proxy/flags.h"
#include "proxy/backend.h"
#include "proxy/types.h"

namespace kslice::proxy::cmd {

// This machine's addresses of `family` inside the CIDRs (kube-proxy resolves
// --nodeport-addresses against the node's interfaces the same way, per family).
std::vector<std::string> LocalAddressesIn(const std::vector<std::string>& cidrs, IPFamily family);

// Backend options of both families from the flags: cluster_cidrs holds every
// --cluster-cidr entry (ForFamily narrows them), --backend-opt entries in `extra`.
BackendOptions ToBackendOptions(const ProxyFlags& f);

// One family's backend options: --nodeport-addresses resolved for the family
// ("iptables.nodeport-addresses"), then --backend-opt entries, which win.
BackendOptions FamilyBackendOptions(const ProxyFlags& f, IPFamily family);

// Runs the proxy (and, with --run-endpointslice-controller, the controller) against the
// API server of `config` (qps, burst and user agent already set) until `stop`. OK after a
// stop; an error when something could not be started, a proxier failed, or (controller
// mode) leadership was lost — the process should then exit, as upstream's managers do;
// the dataplane rules stay in place meanwhile.
absl::Status RunProxy(const ProxyFlags& f, const client::RestConfig& config, std::stop_token stop);

}  // namespace kslice::proxy::cmd

#endif  // KSLICE_CMD_KSLICE_PROXY_RUN_H_
