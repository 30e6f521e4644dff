#include "cmd/kslice-proxy/dryrun.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "proxy/proxier.h"

namespace kslice::proxy::cmd {
namespace {

bool IsV6(const std::string& ip_or_cidr) { return ip_or_cidr.find(':') != std::string::npos; }

// One family: its backend in dry-run mode, one proxier, one full sync.
absl::Status RunOneFamily(const ::kslice::cmd::objectfile::ObjectSet& objects,
                          const std::string& proxy_mode, BackendOptions options,
                          const api::core::v1::Node* node, std::ostream& out) {
  if (node != nullptr && options.extra.count("iptables.node-ip") == 0) {
    if (std::string ip = NodeIP(*node, options.family); !ip.empty()) {
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
  for (const auto& n : objects.nodes) (*proxier)->OnNodeUpdate(n);
  for (const auto& service : objects.services) (*proxier)->OnServiceUpdate(nullptr, service);
  for (const auto& slice : objects.slices) (*proxier)->OnEndpointSliceUpdate(slice, false);
  return (*proxier)->SyncOnce();
}

}  // namespace

std::string NodeIP(const api::core::v1::Node& node, IPFamily family) {
  for (const char* type : {"InternalIP", "ExternalIP"}) {
    for (const auto& a : node.status().addresses()) {
      if (a.type() != type || a.address().empty()) continue;
      if (IsV6(a.address()) == (family == IPFamily::kIPv6)) return a.address();
    }
  }
  return "";
}

bool IsDualStack(const std::vector<std::string>& cluster_cidrs, const api::core::v1::Node* node) {
  bool v4 = false;
  bool v6 = false;
  auto see = [&](const std::string& s) {
    if (s.empty()) return;
    (IsV6(s) ? v6 : v4) = true;
  };
  for (const std::string& c : cluster_cidrs) see(c);
  if (v4 && v6) return true;
  if (node == nullptr) return false;
  // The node on its own: both families among its addresses, or among its pod CIDRs.
  v4 = v6 = false;
  for (const auto& a : node->status().addresses()) {
    if (a.type() == "InternalIP" || a.type() == "ExternalIP") see(a.address());
  }
  if (v4 && v6) return true;
  v4 = v6 = false;
  for (const std::string& c : node->spec().podcidrs()) see(c);
  return v4 && v6;
}

BackendOptions ForFamily(const BackendOptions& options, IPFamily family) {
  BackendOptions o = options;
  o.family = family;
  o.cluster_cidrs.clear();
  for (const std::string& c : options.cluster_cidrs) {
    if (IsV6(c) == (family == IPFamily::kIPv6)) o.cluster_cidrs.push_back(c);
  }
  if (auto it = o.extra.find("iptables.node-ip");
      it != o.extra.end() && IsV6(it->second) != (family == IPFamily::kIPv6)) {
    o.extra.erase(it);
  }
  if (auto it = o.extra.find("iptables.nodeport-addresses"); it != o.extra.end()) {
    std::vector<std::string> kept;
    for (absl::string_view ip : absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
      if (IsV6(std::string(ip)) == (family == IPFamily::kIPv6)) kept.emplace_back(ip);
    }
    it->second = absl::StrJoin(kept, ",");
  }
  return o;
}

absl::Status RunDryRun(const ::kslice::cmd::objectfile::ObjectSet& objects,
                       const std::string& proxy_mode, BackendOptions options, std::ostream& out) {
  const api::core::v1::Node* node = nullptr;
  for (const auto& n : objects.nodes) {
    if (n->metadata().name() == options.node_name) node = n.get();
  }
  if (absl::Status s = RunOneFamily(objects, proxy_mode, ForFamily(options, IPFamily::kIPv4),
                                    node, out);
      !s.ok() || !IsDualStack(options.cluster_cidrs, node)) {
    return s;
  }
  out << kIPv6PayloadSeparator;
  return RunOneFamily(objects, proxy_mode, ForFamily(options, IPFamily::kIPv6), node, out);
}

}  // namespace kslice::proxy::cmd
