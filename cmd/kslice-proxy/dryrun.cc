#include "cmd/kslice-proxy/dryrun.h"

#include <memory>
#include <string>
#include <utility>

#include "proxy/proxier.h"

namespace kslice::proxy::cmd {

std::string NodeIP(const api::core::v1::Node& node, IPFamily family) {
  for (const char* type : {"InternalIP", "ExternalIP"}) {
    for (const auto& a : node.status().addresses()) {
      if (a.type() != type || a.address().empty()) continue;
      const bool v6 = a.address().find(':') != std::string::npos;
      if (v6 == (family == IPFamily::kIPv6)) return a.address();
    }
  }
  return "";
}

absl::Status RunDryRun(const ::kslice::cmd::objectfile::ObjectSet& objects,
                       const std::string& proxy_mode, BackendOptions options, std::ostream& out) {
  for (const auto& node : objects.nodes) {
    if (node->metadata().name() != options.node_name) continue;
    if (std::string ip = NodeIP(*node, options.family);
        !ip.empty() && options.extra.count("iptables.node-ip") == 0) {
      options.extra["iptables.node-ip"] = ip;
    }
  }
  options.dry_run = true;
  options.dry_run_output = &out;
  absl::StatusOr<std::unique_ptr<Backend>> backend = NewBackend(proxy_mode, options);
  if (!backend.ok()) return backend.status();
  ProxierOptions po;
  po.node_name = options.node_name;
  po.family = options.family;
  po.min_sync_period = options.min_sync_period;
  po.sync_period = options.sync_period;
  absl::StatusOr<std::unique_ptr<Proxier>> proxier = Proxier::Create(**backend, std::move(po));
  if (!proxier.ok()) return proxier.status();
  for (const auto& node : objects.nodes) (*proxier)->OnNodeUpdate(node);
  for (const auto& service : objects.services) (*proxier)->OnServiceUpdate(nullptr, service);
  for (const auto& slice : objects.slices) (*proxier)->OnEndpointSliceUpdate(slice, false);
  return (*proxier)->SyncOnce();
}

}  // namespace kslice::proxy::cmd
