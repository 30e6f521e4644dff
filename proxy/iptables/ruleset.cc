#include "proxy/iptables/ruleset.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "proxy/iptables/chain_names.h"
#include "proxy/topology.h"

namespace kslice::proxy::iptables {
namespace {

constexpr char kServicesChain[] = "KUBE-SERVICES";
constexpr char kExternalServicesChain[] = "KUBE-EXTERNAL-SERVICES";
constexpr char kNodePortsChain[] = "KUBE-NODEPORTS";
constexpr char kPostroutingChain[] = "KUBE-POSTROUTING";
constexpr char kMarkMasqChain[] = "KUBE-MARK-MASQ";
constexpr char kForwardChain[] = "KUBE-FORWARD";
constexpr char kProxyFirewallChain[] = "KUBE-PROXY-FIREWALL";
constexpr char kKubeletFirewallChain[] = "KUBE-FIREWALL";

constexpr char kCtStateInvalidCounter[] = "ct_state_invalid_dropped_pkts";
constexpr char kLocalhostNodePortsCounter[] = "localhost_nps_accepted_pkts";

// `"text"`: comments with spaces are quoted in the payload, as kube-proxy writes them.
std::string Quoted(absl::string_view text) { return absl::StrCat("\"", text, "\""); }

// A parsed address: family and 16 bytes (IPv4 in the first 4).
struct Addr {
  int af = 0;
  unsigned char bytes[16] = {};
};

bool ParseAddr(absl::string_view text, Addr* out) {
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), out->bytes) == 1) {
    out->af = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out->bytes) == 1) {
    out->af = AF_INET6;
    return true;
  }
  return false;
}

std::string FormatAddr(const Addr& a) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(a.af, a.bytes, buf, sizeof(buf)) == nullptr) return "";
  return buf;
}

// Parses "a.b.c.d/n" into the network (host bits cleared) and prefix length.
bool ParseCidr(absl::string_view cidr, Addr* network, int* prefix) {
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(cidr, '/');
  if (parts.second.empty() || !ParseAddr(parts.first, network)) return false;
  int bits = network->af == AF_INET ? 32 : 128;
  if (!absl::SimpleAtoi(parts.second, prefix) || *prefix < 0 || *prefix > bits) {
    return false;
  }
  for (int i = 0; i < bits / 8; ++i) {
    int keep = std::clamp(*prefix - i * 8, 0, 8);
    network->bytes[i] &= static_cast<unsigned char>(0xff00 >> keep);
  }
  return true;
}

// Go's net.IPNet.String() of a parsed CIDR: "203.0.113.0/25" for " 203.0.113.7/25".
std::string CanonicalCidr(absl::string_view cidr) {
  Addr network;
  int prefix = 0;
  if (!ParseCidr(cidr, &network, &prefix)) return std::string(cidr);
  return absl::StrCat(FormatAddr(network), "/", prefix);
}

bool CidrContains(absl::string_view cidr, absl::string_view ip) {
  Addr network, addr;
  int prefix = 0;
  if (!ParseCidr(cidr, &network, &prefix) || !ParseAddr(ip, &addr)) return false;
  if (network.af != addr.af) return false;
  for (int i = 0; i < (network.af == AF_INET ? 4 : 16); ++i) {
    int keep = std::clamp(prefix - i * 8, 0, 8);
    unsigned char mask = static_cast<unsigned char>(0xff00 >> keep);
    if ((addr.bytes[i] & mask) != network.bytes[i]) return false;
  }
  return true;
}

bool IsLoopback(absl::string_view ip) {
  Addr a;
  if (!ParseAddr(ip, &a)) return false;
  if (a.af == AF_INET) return a.bytes[0] == 127;
  static const unsigned char kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(a.bytes, kLoopback6, 16) == 0;
}

}  // namespace

std::string LocalTrafficDetector::IfLocal() const {
  switch (mode) {
    case Mode::kNone:
      return "";
    case Mode::kClusterCIDR:
    case Mode::kNodeCIDR:
      return absl::StrCat("-s ", value);
    case Mode::kBridgeInterface:
      return absl::StrCat("-i ", value);
    case Mode::kInterfaceNamePrefix:
      return absl::StrCat("-i ", value, "+");
  }
  return "";
}

std::string LocalTrafficDetector::IfNotLocal() const {
  std::string local = IfLocal();
  return local.empty() ? "" : absl::StrCat("! ", local);
}

std::string ComputeProbability(int n) { return absl::StrFormat("%0.10f", 1.0 / n); }

std::string MasqueradeMark(int bit) {
  // Go's "%#08x" pads the digits to 8 and then adds "0x" (0x00004000), unlike C's,
  // which counts the prefix in the width.
  return absl::StrFormat("0x%08x", static_cast<uint32_t>(1u << bit));
}

absl::StatusOr<std::unique_ptr<RulesetGenerator>> RulesetGenerator::Create(RulesetConfig config) {
  if (config.masquerade_bit < 0 || config.masquerade_bit > 31) {
    return absl::InvalidArgumentError(
        absl::StrCat("masquerade bit ", config.masquerade_bit, " not in [0, 31]"));
  }
  const LocalTrafficDetector& d = config.local_detector;
  if (d.IsImplemented() && d.value.empty()) {
    return absl::InvalidArgumentError("local traffic detector without a value");
  }
  if (d.mode == LocalTrafficDetector::Mode::kClusterCIDR ||
      d.mode == LocalTrafficDetector::Mode::kNodeCIDR) {
    Addr network;
    int prefix = 0;
    if (!ParseCidr(d.value, &network, &prefix)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid CIDR \"", d.value, "\""));
    }
    bool v6 = network.af == AF_INET6;
    if (v6 != (config.family == IPFamily::kIPv6)) {
      return absl::InvalidArgumentError(
          absl::StrCat("CIDR ", d.value, " is not of family ", IPFamilyName(config.family)));
    }
  }
  if (config.family == IPFamily::kIPv6) config.localhost_nodeports = false;
  return std::unique_ptr<RulesetGenerator>(new RulesetGenerator(std::move(config)));
}

RulesetGenerator::RulesetGenerator(RulesetConfig config) : config_(std::move(config)) {
  mark_ = MasqueradeMark(config_.masquerade_bit);
  mark_match_ = absl::StrCat(mark_, "/", mark_);
  if_local_ = config_.local_detector.IfLocal();
  if_not_local_ = config_.local_detector.IfNotLocal();
  probabilities_.push_back("<bad value>");
}

const std::string& RulesetGenerator::Probability(size_t n) {
  while (probabilities_.size() <= n) {
    probabilities_.push_back(ComputeProbability(static_cast<int>(probabilities_.size())));
  }
  return probabilities_[n];
}

void RulesetGenerator::Prepare(PortCache& pc, const ServicePortName& name,
                               const EndpointListPtr& endpoints) {
  if (pc.spn.empty()) {  // a new entry
    pc.spn = name.String();
    pc.protocol = LowerProtocol(name.protocol);
    std::string hash = PortProtoHash(pc.spn, pc.protocol);
    pc.svc = absl::StrCat(kServicePortPolicyClusterChainPrefix, hash);
    pc.svl = absl::StrCat(kServicePortPolicyLocalChainPrefix, hash);
    pc.ext = absl::StrCat(kServiceExternalChainPrefix, hash);
    pc.fw = absl::StrCat(kServiceFirewallChainPrefix, hash);
  }
  if (endpoints != pc.endpoints) {
    if (pc.endpoints != nullptr && *endpoints == *pc.endpoints) {
      pc.endpoints = endpoints;  // equal content in a new snapshot: keep everything
      return;
    }
    // A new endpoint list: keep the hashes of endpoints still present, add the others.
    Retire(pc);  // active_ points into the strings replaced below
    absl::flat_hash_map<std::string, std::string> old;
    for (size_t i = 0; i < pc.ep_strings.size(); ++i) {
      old.emplace(std::move(pc.ep_strings[i]), std::move(pc.sep_chains[i]));
    }
    pc.ep_strings.clear();
    pc.sep_chains.clear();
    pc.ep_strings.reserve(endpoints->size());
    pc.sep_chains.reserve(endpoints->size());
    for (const EndpointInfo& ep : *endpoints) {
      std::string key = ep.String();
      auto found = old.find(key);
      pc.sep_chains.push_back(
          found != old.end() ? found->second : ServicePortEndpointChain(pc.spn, pc.protocol, key));
      pc.ep_strings.push_back(std::move(key));
    }
    pc.endpoints = endpoints;
    pc.rendered = false;
  }
}

void RulesetGenerator::Retire(PortCache& pc) {
  for (const std::string* chain : pc.active_chains) {
    active_.erase(*chain);
    retired_.push_back(*chain);
  }
  pc.active_chains.clear();
}

void RulesetGenerator::Render(PortCache& pc, const ServicePortInfo& svc, const NodeContext& node,
                              bool comments) {
  const bool ipv6 = config_.family == IPFamily::kIPv6;
  const std::string& spn = pc.spn;
  const std::string& proto = pc.protocol;
  pc.filter_rules.Reset();
  pc.nat_service_rules.Reset();
  pc.nat_chains.Reset();
  pc.nat_rules.Reset();
  pc.active_chains.clear();
  pc.no_local_internal = 0;
  pc.no_local_external = 0;
  LineBuffer& filter_rules = pc.filter_rules;
  LineBuffer& nat_rules = pc.nat_service_rules;
  const EndpointList& all_endpoints = *pc.endpoints;
  // Index of an endpoint of `all_endpoints` (categorized lists point into it).
  auto index_of = [&](const EndpointInfo* ep) {
    return static_cast<size_t>(ep - all_endpoints.data());
  };

  CategorizedEndpoints cat = CategorizeEndpoints(all_endpoints, svc, node);
  const bool has_endpoints = cat.has_any;

  const bool uses_cluster_chain = !cat.cluster.empty() && svc.UsesClusterEndpoints();
  const bool uses_local_chain = !cat.local.empty() && svc.UsesLocalEndpoints();

  const std::string* internal_chain = &pc.svc;
  bool has_internal = has_endpoints;
  if (svc.internal_policy_local) {
    internal_chain = &pc.svl;
    if (cat.local.empty()) has_internal = false;
  }
  const std::string* external_policy_chain = &pc.svc;
  bool has_external = has_endpoints;
  if (svc.external_policy_local) {
    external_policy_chain = &pc.svl;
    if (cat.local.empty()) has_external = false;
  }
  const std::string& external_chain = pc.ext;
  // The EXT chain also carries the short-circuit rules for pod/host traffic, so it is
  // needed whenever the service has endpoints anywhere, not only local ones.
  const bool uses_external_chain = has_endpoints && svc.ExternallyAccessible();
  const bool uses_fw_chain =
      has_endpoints && !svc.load_balancer_vips.empty() && !svc.load_balancer_source_ranges.empty();
  const std::string& lb_chain = uses_fw_chain ? pc.fw : external_chain;

  std::string internal_filter_target, internal_filter_comment;
  std::string external_filter_target, external_filter_comment;
  if (!has_endpoints) {
    internal_filter_target = "REJECT";
    internal_filter_comment = Quoted(absl::StrCat(spn, " has no endpoints"));
    external_filter_target = internal_filter_target;
    external_filter_comment = internal_filter_comment;
  } else {
    if (!has_internal) {
      internal_filter_target = "DROP";
      internal_filter_comment = Quoted(absl::StrCat(spn, " has no local endpoints"));
      ++pc.no_local_internal;
    }
    if (!has_external) {
      external_filter_target = "DROP";
      external_filter_comment = Quoted(absl::StrCat(spn, " has no local endpoints"));
      ++pc.no_local_external;
    }
  }

  const std::string port = absl::StrCat(svc.port);
  const std::string match_proto = absl::StrCat("-m ", proto, " -p ", proto);
  const std::string cluster_ip_comment = Quoted(absl::StrCat(spn, " cluster IP"));

  // 1. ClusterIP.
  if (has_internal) {
    nat_rules.Write("-A", kServicesChain, "-m comment --comment", cluster_ip_comment, match_proto,
                    "-d", svc.cluster_ip, "--dport", port, "-j", *internal_chain);
  } else {
    filter_rules.Write("-A", kServicesChain, "-m comment --comment", internal_filter_comment,
                       match_proto, "-d", svc.cluster_ip, "--dport", port, "-j",
                       internal_filter_target);
  }

  // 2. External IPs.
  if (!svc.external_ips.empty()) {
    const std::string comment = Quoted(absl::StrCat(spn, " external IP"));
    for (const std::string& ip : svc.external_ips) {
      if (has_endpoints) {
        nat_rules.Write("-A", kServicesChain, "-m comment --comment", comment, match_proto, "-d",
                        ip, "--dport", port, "-j", external_chain);
      }
      if (!has_external) {
        filter_rules.Write("-A", kExternalServicesChain, "-m comment --comment",
                           external_filter_comment, match_proto, "-d", ip, "--dport", port, "-j",
                           external_filter_target);
      }
    }
  }

  // 3. Load-balancer ingress IPs.
  if (!svc.load_balancer_vips.empty()) {
    const std::string comment = Quoted(absl::StrCat(spn, " loadbalancer IP"));
    const std::string fw_comment = Quoted(absl::StrCat(spn, " traffic not accepted by ", pc.fw));
    for (const std::string& ip : svc.load_balancer_vips) {
      if (has_endpoints) {
        nat_rules.Write("-A", kServicesChain, "-m comment --comment", comment, match_proto, "-d",
                        ip, "--dport", port, "-j", lb_chain);
      }
      if (uses_fw_chain) {
        filter_rules.Write("-A", kProxyFirewallChain, "-m comment --comment", fw_comment,
                           match_proto, "-d", ip, "--dport", port, "-j DROP");
      }
    }
    if (!has_external) {
      for (const std::string& ip : svc.load_balancer_vips) {
        filter_rules.Write("-A", kExternalServicesChain, "-m comment --comment",
                           external_filter_comment, match_proto, "-d", ip, "--dport", port, "-j",
                           external_filter_target);
      }
    }
  }

  // 4. NodePort.
  if (svc.node_port != 0) {
    const std::string node_port = absl::StrCat(svc.node_port);
    if (has_endpoints) {
      if (config_.localhost_nodeports && !ipv6 && config_.nfacct_localhost_nodeports) {
        nat_rules.Write("-A", kNodePortsChain, "-m comment --comment", spn, match_proto,
                        "-d 127.0.0.0/8 --dport", node_port, "-m nfacct --nfacct-name",
                        kLocalhostNodePortsCounter, "-j", external_chain);
      }
      nat_rules.Write("-A", kNodePortsChain, "-m comment --comment", spn, match_proto, "--dport",
                      node_port, "-j", external_chain);
    }
    if (!has_external) {
      filter_rules.Write("-A", kExternalServicesChain, "-m comment --comment",
                         external_filter_comment, "-m addrtype --dst-type LOCAL", match_proto,
                         "--dport", node_port, "-j", external_filter_target);
    }
  }

  // 5. Health-check node port: always open, endpoints or not.
  if (svc.health_check_node_port != 0) {
    filter_rules.Write("-A", kNodePortsChain, "-m comment --comment",
                       Quoted(absl::StrCat(spn, " health check node port")),
                       "-m tcp -p tcp --dport", svc.health_check_node_port, "-j ACCEPT");
  }

  // 6. From here on the service's own chains, which a partial sync leaves out when the
  // service did not change (Generate decides; they stay active either way).
  LineBuffer* chains = &pc.nat_chains;
  LineBuffer* rules = &pc.nat_rules;

  // 7. Masquerade off-cluster traffic to the ClusterIP (it may bounce off-node).
  if (has_internal) {
    if (config_.masquerade_all) {
      rules->Write("-A", *internal_chain, "-m comment --comment", cluster_ip_comment, match_proto,
                   "-d", svc.cluster_ip, "--dport", port, "-j", kMarkMasqChain);
    } else if (config_.local_detector.IsImplemented()) {
      rules->Write("-A", *internal_chain, "-m comment --comment", cluster_ip_comment, match_proto,
                   "-d", svc.cluster_ip, "--dport", port, if_not_local_, "-j", kMarkMasqChain);
    }
  }

  // 8. External-destination chain.
  if (uses_external_chain) {
    chains->WriteChainLine(external_chain);
    pc.active_chains.push_back(&external_chain);
    if (!svc.external_policy_local) {
      rules->Write("-A", external_chain, "-m comment --comment",
                   Quoted(absl::StrCat("masquerade traffic for ", spn, " external destinations")),
                   "-j", kMarkMasqChain);
    } else {
      if (config_.local_detector.IsImplemented()) {
        // Pod -> external IP traffic is subject to neither policy (as if it went out
        // to the load balancer and came back).
        rules->Write("-A", external_chain, "-m comment --comment",
                     Quoted(absl::StrCat("pod traffic for ", spn, " external destinations")),
                     if_local_, "-j", pc.svc);
      }
      rules->Write(
          "-A", external_chain, "-m comment --comment",
          Quoted(absl::StrCat("masquerade LOCAL traffic for ", spn, " external destinations")),
          "-m addrtype --src-type LOCAL -j", kMarkMasqChain);
      rules->Write("-A", external_chain, "-m comment --comment",
                   Quoted(absl::StrCat("route LOCAL traffic for ", spn, " external destinations")),
                   "-m addrtype --src-type LOCAL -j", pc.svc);
    }
    if (has_external) rules->Write("-A", external_chain, "-j", *external_policy_chain);
  }

  // 9. loadBalancerSourceRanges firewall.
  if (uses_fw_chain) {
    chains->WriteChainLine(pc.fw);
    pc.active_chains.push_back(&pc.fw);
    const std::string comment = Quoted(absl::StrCat(spn, " loadbalancer IP"));
    bool allow_from_node = false;
    for (const std::string& range : svc.load_balancer_source_ranges) {
      std::string cidr = CanonicalCidr(range);
      rules->Write("-A", pc.fw, "-m comment --comment", comment, "-s", cidr, "-j", external_chain);
      if (!config_.node_ip.empty() && CidrContains(cidr, config_.node_ip)) {
        allow_from_node = true;
      }
    }
    if (allow_from_node) {
      for (const std::string& ip : svc.load_balancer_vips) {
        rules->Write("-A", pc.fw, "-m comment --comment", comment, "-s", ip, "-j", external_chain);
      }
    }
    rules->Write(
        "-A", pc.fw, "-m comment --comment",
        Quoted(absl::StrCat("other traffic to ", spn, " will be dropped by KUBE-PROXY-FIREWALL")));
  }

  // 10./11. Dispatch to endpoints: affinity rules, then one rule per endpoint.
  auto write_dispatch = [&](const std::string& chain,
                            const std::vector<const EndpointInfo*>& endpoints) {
    chains->WriteChainLine(chain);
    pc.active_chains.push_back(&chain);
    if (svc.session_affinity == SessionAffinity::kClientIP) {
      const std::string seconds = absl::StrCat(svc.sticky_max_age_seconds);
      for (const EndpointInfo* ep : endpoints) {
        const std::string& ep_string = pc.ep_strings[index_of(ep)];
        const std::string& sep = pc.sep_chains[index_of(ep)];
        rules->Write("-A", chain, comments ? "-m comment --comment" : "",
                     comments ? Quoted(absl::StrCat(spn, " -> ", ep_string)) : "",
                     "-m recent --name", sep, "--rcheck --seconds", seconds, "--reap -j", sep);
      }
    }
    const size_t n = endpoints.size();
    for (size_t i = 0; i < n; ++i) {
      const std::string& ep_string = pc.ep_strings[index_of(endpoints[i])];
      const std::string& sep = pc.sep_chains[index_of(endpoints[i])];
      rules->Write("-A", chain, comments ? "-m comment --comment" : "",
                   comments ? Quoted(absl::StrCat(spn, " -> ", ep_string)) : "",
                   i + 1 < n ? "-m statistic --mode random --probability" : "",
                   i + 1 < n ? absl::string_view(Probability(n - i)) : "", "-j", sep);
    }
  };
  if (uses_cluster_chain) write_dispatch(pc.svc, cat.cluster);
  if (uses_local_chain) write_dispatch(pc.svl, cat.local);

  // 12. One chain per reachable endpoint: hairpin masquerade, then DNAT.
  const bool affinity = svc.session_affinity == SessionAffinity::kClientIP;
  for (const EndpointInfo* ep : cat.all_reachable) {
    const std::string& ep_string = pc.ep_strings[index_of(ep)];
    const std::string& sep = pc.sep_chains[index_of(ep)];
    chains->WriteChainLine(sep);
    pc.active_chains.push_back(&sep);
    absl::string_view comment_flag = comments ? "-m comment --comment" : "";
    absl::string_view comment = comments ? absl::string_view(spn) : "";
    rules->Write("-A", sep, comment_flag, comment, "-s", ep->ip, "-j", kMarkMasqChain);
    if (affinity) {
      rules->Write("-A", sep, comment_flag, comment, "-m recent --name", sep, "--set", match_proto,
                   "-j DNAT --to-destination", ep_string);
    } else {
      rules->Write("-A", sep, comment_flag, comment, match_proto, "-j DNAT --to-destination",
                   ep_string);
    }
  }
}

Ruleset RulesetGenerator::Generate(const ProxyState& state, const GenerateRequest& request) {
  Ruleset out;
  const bool ipv6 = config_.family == IPFamily::kIPv6;

  // kube-proxy counts endpoints of the service ports it knows only.
  for (const auto& [name, info] : *state.services) {
    auto it = state.endpoints->find(name);
    if (it != state.endpoints->end()) out.total_endpoints += it->second->size();
  }
  out.large_cluster_mode = out.total_endpoints > config_.large_cluster_endpoints_threshold;
  const bool comments = !out.large_cluster_mode;
  if (!(state.node == node_)) {
    node_ = state.node;  // endpoint locality and topology depend on it
    ++node_epoch_;
  }

  // Pass 1: render each service port (or reuse its rendering) and note its chains.
  static const EndpointListPtr kNoEndpoints = std::make_shared<const EndpointList>();
  struct Entry {
    const PortCache* pc;
    bool write_chains;  // false: unchanged in a partial sync
  };
  std::vector<Entry> entries;
  entries.reserve(state.services->size());
  retired_.clear();
  std::vector<const std::string*> added;  // chains of service ports rendered now
  size_t filter_bytes = 0, nat_chain_bytes = 0, nat_rule_bytes = 0;
  // The services, the endpoints and the caches are all sorted by ServicePortName: walk
  // them together instead of looking each service up.
  auto eps_it = state.endpoints->begin();
  auto port_it = ports_.begin();
  std::string namespaced_name;
  for (const auto& [port_name, info_ptr] : *state.services) {
    while (eps_it != state.endpoints->end() && eps_it->first < port_name) ++eps_it;
    const EndpointListPtr& all_endpoints =
        eps_it != state.endpoints->end() && eps_it->first == port_name ? eps_it->second
                                                                       : kNoEndpoints;
    while (port_it != ports_.end() && port_it->first < port_name) {
      Retire(port_it->second);  // a service port that is gone
      port_it = ports_.erase(port_it);
    }
    if (port_it == ports_.end() || port_it->first != port_name) {
      port_it = ports_.try_emplace(port_it, port_name);
    }
    PortCache& pc = port_it->second;
    ++port_it;
    Prepare(pc, port_name, all_endpoints);
    if (pc.rendered && pc.info != info_ptr && *pc.info == *info_ptr) pc.info = info_ptr;
    if (!pc.rendered || pc.info != info_ptr || pc.node_epoch != node_epoch_ ||
        pc.large_cluster_mode != out.large_cluster_mode) {
      pc.info = info_ptr;
      pc.node_epoch = node_epoch_;
      pc.large_cluster_mode = out.large_cluster_mode;
      Retire(pc);
      Render(pc, *info_ptr, state.node, comments);
      pc.rendered = true;
      for (const std::string* chain : pc.active_chains) {
        active_.insert(*chain);
        added.push_back(chain);
      }
    }
    // Unchanged services keep their chains as programmed (partial sync).
    bool write_chains = request.full;
    if (!write_chains && request.changed_services != nullptr &&
        !request.changed_services->empty()) {
      namespaced_name.assign(port_name.ns);
      namespaced_name.push_back('/');
      namespaced_name.append(port_name.name);
      write_chains = request.changed_services->count(namespaced_name) > 0;
    }
    entries.push_back(Entry{&pc, write_chains});
    out.no_local_endpoints_internal += pc.no_local_internal;
    out.no_local_endpoints_external += pc.no_local_external;
    out.filter_rule_lines += pc.filter_rules.lines();
    out.nat_rule_lines += pc.nat_service_rules.lines();
    filter_bytes += pc.filter_rules.data().size();
    nat_rule_bytes += pc.nat_service_rules.data().size();
    if (write_chains) {
      out.nat_chain_lines += pc.nat_chains.lines();
      out.nat_rule_lines += pc.nat_rules.lines();
      nat_chain_bytes += pc.nat_chains.data().size();
      nat_rule_bytes += pc.nat_rules.data().size();
    } else {
      out.skipped_nat_rules += pc.nat_rules.lines();
    }
  }
  for (auto it = port_it; it != ports_.end(); ++it) Retire(it->second);
  ports_.erase(port_it, ports_.end());
  out.active_chain_count = active_.size();

  // Stale per-service chains are flushed (chain line) and deleted; new ones reported.
  const absl::flat_hash_set<std::string>* existing = request.existing_nat_chains;
  if (existing != nullptr) {
    // Against what the caller says exists.
    for (const std::string& chain : *existing) {
      if (IsServiceChainName(chain) && !active_.contains(chain)) {
        out.deleted_chains.push_back(chain);
      }
    }
    for (absl::string_view chain : active_) {
      if (!existing->contains(chain)) out.new_chains.emplace_back(chain);
    }
  } else {
    // Against the previous call: only service ports rendered again or gone matter.
    absl::flat_hash_set<absl::string_view> retired(retired_.begin(), retired_.end());
    for (const std::string& chain : retired_) {
      if (!active_.contains(chain)) out.deleted_chains.push_back(chain);
    }
    for (const std::string* chain : added) {
      if (!retired.contains(*chain)) out.new_chains.push_back(*chain);
    }
  }
  std::sort(out.deleted_chains.begin(), out.deleted_chains.end());
  std::sort(out.new_chains.begin(), out.new_chains.end());

  // The fixed parts around the per-service text.
  LineBuffer filter_chains, filter_head, filter_tail, nat_chains, nat_head, nat_stale, nat_tail;
  for (const char* chain : {kServicesChain, kExternalServicesChain, kForwardChain, kNodePortsChain,
                            kProxyFirewallChain}) {
    filter_chains.WriteChainLine(chain);
  }
  for (const char* chain : {kServicesChain, kNodePortsChain, kPostroutingChain, kMarkMasqChain}) {
    nat_chains.WriteChainLine(chain);
  }
  // Masquerade what KUBE-MARK-MASQ marked, once (the mark is cleared first).
  nat_head.Write("-A", kPostroutingChain, "-m mark ! --mark", mark_match_, "-j RETURN");
  nat_head.Write("-A", kPostroutingChain, "-j MARK --xor-mark", mark_);
  nat_head.Write("-A", kPostroutingChain,
                 "-m comment --comment \"kubernetes service traffic requiring SNAT\"",
                 "-j MASQUERADE", config_.random_fully ? "--random-fully" : "");
  nat_head.Write("-A", kMarkMasqChain, "-j MARK --or-mark", mark_);
  if (!ipv6 && config_.localhost_nodeports) {
    // route_localnet opens 127.0.0.0/8 to the outside; this is kubelet's mitigation.
    filter_chains.WriteChainLine(kKubeletFirewallChain);
    filter_head.Write("-A", kKubeletFirewallChain,
                      "-m comment --comment \"block incoming localnet connections\"",
                      "-d 127.0.0.0/8 ! -s 127.0.0.0/8",
                      "-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP");
  }
  for (const std::string& chain : out.deleted_chains) {
    nat_stale.WriteChainLine(chain);
    nat_tail.Write("-X", chain);
  }
  // The NodePort catch-all must be the last rule of KUBE-SERVICES.
  const std::string tail_comment =
      "-m comment --comment \"kubernetes service nodeports; NOTE: this must be the last "
      "rule in this chain\"";
  if (config_.nodeport_ips.empty()) {
    absl::string_view extra = "";
    if (ipv6) {
      extra = "! -d ::1/128";
    } else if (!config_.localhost_nodeports) {
      extra = "! -d 127.0.0.0/8";
    }
    nat_tail.Write("-A", kServicesChain, tail_comment, "-m addrtype --dst-type LOCAL", extra, "-j",
                   kNodePortsChain);
  } else {
    for (const std::string& ip : config_.nodeport_ips) {
      if (IsLoopback(ip) && (ipv6 || !config_.localhost_nodeports)) continue;
      nat_tail.Write("-A", kServicesChain, tail_comment, "-d", ip, "-j", kNodePortsChain);
    }
  }
  // Drop INVALID packets (they would reset connections) unless the kernel is liberal.
  if (!config_.conntrack_tcp_be_liberal) {
    filter_tail.Write("-A", kForwardChain, "-m conntrack --ctstate INVALID",
                      config_.nfacct_ct_state_invalid ? "-m nfacct --nfacct-name" : "",
                      config_.nfacct_ct_state_invalid ? kCtStateInvalidCounter : "", "-j DROP");
  }
  filter_tail.Write("-A", kForwardChain,
                    "-m comment --comment \"kubernetes forwarding rules\" -m mark --mark",
                    mark_match_, "-j ACCEPT");
  filter_tail.Write("-A", kForwardChain,
                    "-m comment --comment \"kubernetes forwarding conntrack rule\"",
                    "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");

  out.filter_chain_lines = filter_chains.lines();
  out.filter_rule_lines += filter_head.lines() + filter_tail.lines();
  out.nat_chain_lines += nat_chains.lines() + nat_stale.lines();
  out.nat_rule_lines += nat_head.lines() + nat_tail.lines();

  // Pass 2: the payload, written once at its final size.
  std::string& payload = out.payload;
  payload.reserve(32 + filter_chains.data().size() + filter_head.data().size() + filter_bytes +
                  filter_tail.data().size() + nat_chains.data().size() + nat_chain_bytes +
                  nat_stale.data().size() + nat_head.data().size() + nat_rule_bytes +
                  nat_tail.data().size());
  payload.append("*filter\n");
  payload.append(filter_chains.data());
  payload.append(filter_head.data());
  for (const Entry& e : entries) payload.append(e.pc->filter_rules.data());
  payload.append(filter_tail.data());
  payload.append("COMMIT\n*nat\n");
  payload.append(nat_chains.data());
  for (const Entry& e : entries) {
    if (e.write_chains) payload.append(e.pc->nat_chains.data());
  }
  payload.append(nat_stale.data());
  payload.append(nat_head.data());
  for (const Entry& e : entries) {
    payload.append(e.pc->nat_service_rules.data());
    if (e.write_chains) payload.append(e.pc->nat_rules.data());
  }
  payload.append(nat_tail.data());
  payload.append("COMMIT\n");

  return out;
}

}  // namespace kslice::proxy::iptables
