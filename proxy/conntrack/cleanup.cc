#include "proxy/conntrack/cleanup.h"

#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kslice::proxy::conntrack {
namespace {

bool IsUDP(const ServicePortInfo& info) { return info.protocol == "UDP"; }

std::string HostPort(const std::string& ip, int port) { return absl::StrCat(ip, "|", port); }

}  // namespace

bool NeedsCleanup(const ProxyState& previous, const ProxyState& current) {
  if (previous.version == 0) return true;
  auto udp_changed = [](const ProxyState& a, const ProxyState& b) {
    for (const auto& [spn, info] : *a.services) {
      if (!IsUDP(*info)) continue;
      auto other = b.services->find(spn);
      if (other == b.services->end() || !(*other->second == *info)) return true;
      if (a.EndpointsOf(spn) != b.EndpointsOf(spn)) return true;
    }
    return false;
  };
  return udp_changed(current, previous) || udp_changed(previous, current);
}

std::vector<Filter> StaleFilters(const ProxyState& state, const std::vector<Flow>& flows) {
  // Frontend "ip|port" (ClusterIP, LB IPs, external IPs) and NodePort -> serving
  // endpoints "ip|port".
  std::map<std::string, std::set<std::string>> by_ip_port;
  std::map<int, std::set<std::string>> by_node_port;
  for (const auto& [spn, info] : *state.services) {
    if (!IsUDP(*info)) continue;
    std::set<std::string> serving;
    for (const EndpointInfo& ep : state.EndpointsOf(spn)) {
      if (ep.serving) serving.insert(HostPort(CanonicalIP(ep.ip), ep.port));
    }
    if (serving.empty()) continue;  // nothing better to send the flows to
    if (!info->cluster_ip.empty()) {
      by_ip_port[HostPort(CanonicalIP(info->cluster_ip), info->port)] = serving;
    }
    for (const std::string& ip : info->load_balancer_vips) {
      by_ip_port[HostPort(CanonicalIP(ip), info->port)] = serving;
    }
    for (const std::string& ip : info->external_ips) {
      by_ip_port[HostPort(CanonicalIP(ip), info->port)] = serving;
    }
    if (info->node_port != 0) by_node_port[info->node_port] = serving;
  }
  std::set<Filter> filters;
  for (const Flow& f : flows) {
    if (f.protocol != "udp") continue;
    const std::string reply = HostPort(f.reply_src, f.reply_src_port);
    if (auto it = by_ip_port.find(HostPort(f.orig_dst, f.orig_dst_port));
        it != by_ip_port.end() && it->second.count(reply) == 0) {
      filters.insert(Filter{"udp", f.orig_dst, f.orig_dst_port, f.reply_src, f.reply_src_port});
    }
    if (auto it = by_node_port.find(f.orig_dst_port);
        it != by_node_port.end() && it->second.count(reply) == 0) {
      filters.insert(Filter{"udp", "", f.orig_dst_port, f.reply_src, f.reply_src_port});
    }
  }
  return std::vector<Filter>(filters.begin(), filters.end());
}

absl::StatusOr<CleanupResult> CleanStaleEntries(Conntrack& conntrack, const ProxyState& state) {
  absl::StatusOr<std::vector<Flow>> flows = conntrack.List(state.family, "udp");
  if (!flows.ok()) return flows.status();
  CleanupResult result;
  absl::Status first_error;
  for (const Filter& filter : StaleFilters(state, *flows)) {
    ++result.filters;
    absl::StatusOr<int> n = conntrack.Delete(state.family, filter);
    if (!n.ok()) {
      if (first_error.ok()) first_error = n.status();
      continue;
    }
    result.deleted += *n;
  }
  if (!first_error.ok()) return first_error;
  return result;
}

}  // namespace kslice::proxy::conntrack
