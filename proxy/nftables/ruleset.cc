#include "proxy/nftables/ruleset.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "proxy/iptables/chain_names.h"
#include "proxy/topology.h"

namespace kslice::proxy::nftables {
namespace {

constexpr char kMarkMasqChain[] = "mark-for-masquerade";
constexpr char kRejectChain[] = "reject-chain";

struct Cidr {
  int af = 0;
  unsigned char bytes[16] = {};
  int prefix = 0;
};

bool ParseAddr(absl::string_view s, Cidr* c) {
  std::string text(s);
  if (inet_pton(AF_INET, text.c_str(), c->bytes) == 1) {
    c->af = AF_INET;
    c->prefix = 32;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), c->bytes) == 1) {
    c->af = AF_INET6;
    c->prefix = 128;
    return true;
  }
  return false;
}

// "a.b.c.d/n" -> network with host bits cleared.
bool ParseCidr(absl::string_view s, Cidr* c) {
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(s, '/');
  if (!ParseAddr(absl::StripAsciiWhitespace(parts.first), c)) return false;
  int bits = c->prefix;
  if (parts.second.empty()) return true;
  int prefix = 0;
  if (!absl::SimpleAtoi(parts.second, &prefix) || prefix < 0 || prefix > bits) return false;
  c->prefix = prefix;
  for (int i = 0; i < bits / 8; ++i) {
    int keep = std::clamp(prefix - i * 8, 0, 8);
    c->bytes[i] &= static_cast<unsigned char>(0xff00 >> keep);
  }
  return true;
}

std::string FormatCidr(const Cidr& c) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(c.af, c.bytes, buf, sizeof(buf));
  return absl::StrCat(buf, "/", c.prefix);
}

bool Contains(const Cidr& net, absl::string_view ip) {
  Cidr a;
  if (!ParseAddr(ip, &a) || a.af != net.af) return false;
  for (int i = 0; i < (net.af == AF_INET ? 4 : 16); ++i) {
    int keep = std::clamp(net.prefix - i * 8, 0, 8);
    unsigned char mask = static_cast<unsigned char>(0xff00 >> keep);
    if ((a.bytes[i] & mask) != net.bytes[i]) return false;
  }
  return true;
}

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

}  // namespace

const char* FamilyKeyword(IPFamily family) { return family == IPFamily::kIPv6 ? "ip6" : "ip"; }

std::string Hash8(absl::string_view s) { return iptables::Hash16(s).substr(0, 8); }

std::string ServicePortBase(const ServicePortName& name) {
  return absl::StrCat(name.ns, "/", name.name, "/", absl::AsciiStrToLower(name.protocol), "/",
                      name.port);
}

std::string ServicePortChainSuffix(const ServicePortName& name) {
  std::string base = ServicePortBase(name);
  return absl::StrCat(Hash8(base), "-", base);
}

std::string EndpointChainSuffix(const ServicePortName& name, const EndpointInfo& ep) {
  std::string ip = absl::StrReplaceAll(ep.ip, {{":", "."}});
  std::string base = absl::StrCat(ServicePortBase(name), "__", ip, "/", ep.port);
  std::string out = absl::StrCat(Hash8(base), "-", base);
  if (out.size() > 240) out = absl::StrCat(out.substr(0, 237), "...");
  return out;
}

RulesetGenerator::RulesetGenerator(RulesetOptions options) : options_(std::move(options)) {
  const bool v6 = options_.family == IPFamily::kIPv6;
  mark_ = absl::StrCat("0x", absl::Hex(uint32_t{1} << options_.masquerade_bit));
  daddr_ = v6 ? "ip6 daddr" : "ip daddr";
  saddr_ = v6 ? "ip6 saddr" : "ip saddr";
  addr_type_ = v6 ? "ipv6_addr" : "ipv4_addr";
  prefix_ = absl::StrCat(FamilyKeyword(options_.family), " ", kTableName);
}

absl::StatusOr<RulesetGenerator> RulesetGenerator::Create(RulesetOptions options) {
  if (options.masquerade_bit < 0 || options.masquerade_bit > 31) {
    return absl::InvalidArgumentError(
        absl::StrCat("masquerade bit ", options.masquerade_bit, " is outside [0, 31]"));
  }
  const int af = options.family == IPFamily::kIPv6 ? AF_INET6 : AF_INET;
  if (!options.cluster_cidr.empty()) {
    Cidr c;
    if (!ParseCidr(options.cluster_cidr, &c) || c.af != af ||
        options.cluster_cidr.find('/') == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("cluster CIDR \"", options.cluster_cidr,
                                                     "\" is not a CIDR of the proxy's family"));
    }
    options.cluster_cidr = FormatCidr(c);
  }
  for (std::string& cidr : options.service_cidrs) {
    Cidr c;
    if (!ParseCidr(cidr, &c) || c.af != af || cidr.find('/') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("service CIDR \"", cidr, "\" is not a CIDR of the proxy's family"));
    }
    cidr = FormatCidr(c);
  }
  for (const std::string& ip : options.nodeport_ips) {
    Cidr c;
    if (!ParseAddr(ip, &c) || c.af != af) {
      return absl::InvalidArgumentError(
          absl::StrCat("NodePort address \"", ip, "\" is not an IP of the proxy's family"));
    }
  }
  if (!options.node_ip.empty()) {
    Cidr c;
    if (!ParseAddr(options.node_ip, &c) || c.af != af) {
      return absl::InvalidArgumentError(
          absl::StrCat("node IP \"", options.node_ip, "\" is not an IP of the proxy's family"));
    }
  }
  return RulesetGenerator(std::move(options));
}

FixedPart RulesetGenerator::Fixed() const {
  const bool v6 = options_.family == IPFamily::kIPv6;
  FixedPart f;
  const std::string key3 = absl::StrCat(addr_type_, " . inet_proto . inet_service");
  f.sets.push_back({"set cluster-ips",
                    absl::StrCat("{ type ", addr_type_, " ; comment \"Active ClusterIPs\" ; }")});
  // Loopback addresses never take NodePorts in this mode.
  std::vector<std::string> nodeport_ips;
  for (const std::string& ip : options_.nodeport_ips) {
    Cidr c;
    ParseAddr(ip, &c);
    const bool loopback = c.af == AF_INET
                              ? c.bytes[0] == 127
                              : (std::count(c.bytes, c.bytes + 15, 0) == 15 && c.bytes[15] == 1);
    if (!loopback) nodeport_ips.push_back(ip);
  }
  const bool match_all = options_.nodeport_ips.empty();
  if (!match_all) {
    f.sets.push_back(
        {"set nodeport-ips", absl::StrCat("{ type ", addr_type_,
                                          " ; comment \"IPs that accept NodePort traffic\" ; }")});
  }
  f.sets.push_back(
      {"map firewall-ips", absl::StrCat("{ type ", key3,
                                        " : verdict ; comment \"destinations that are subject to "
                                        "LoadBalancerSourceRanges\" ; }")});
  f.sets.push_back({"map no-endpoint-nodeports",
                    "{ type inet_proto . inet_service : verdict ; comment \"vmap to drop or "
                    "reject packets to service nodeports with no endpoints\" ; }"});
  f.sets.push_back({"map no-endpoint-services",
                    absl::StrCat("{ type ", key3,
                                 " : verdict ; comment \"vmap to drop or reject packets to "
                                 "services with no endpoints\" ; }")});
  f.sets.push_back(
      {"map service-ips", absl::StrCat("{ type ", key3,
                                       " : verdict ; comment \"ClusterIP, "
                                       "ExternalIP and LoadBalancer IP traffic\" ; }")});
  f.sets.push_back(
      {"map service-nodeports",
       "{ type inet_proto . inet_service : verdict ; comment \"NodePort traffic\" ; }"});

  auto chain = [&](const char* name, const char* spec, std::vector<std::string> rules) {
    f.chains.push_back({name, std::move(rules)});
    f.chain_specs.push_back(spec);
  };
  const std::string nodeport_match =
      match_all ? absl::StrCat("fib daddr type local ", daddr_, " != ", v6 ? "::1" : "127.0.0.0/8")
                : absl::StrCat(daddr_, " @nodeport-ips");
  std::vector<std::string> cluster_ips_check = {absl::StrCat(
      daddr_, " @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\"")};
  if (!options_.service_cidrs.empty()) {
    cluster_ips_check.push_back(absl::StrCat(daddr_, " { ",
                                             absl::StrJoin(options_.service_cidrs, ", "),
                                             " } drop comment \"Drop traffic to unallocated "
                                             "ClusterIPs\""));
  }
  chain("cluster-ips-check", "", std::move(cluster_ips_check));
  chain("filter-prerouting-pre-dnat", "{ type filter hook prerouting priority -110 ; }",
        {"ct state new jump firewall-check"});
  chain("filter-output-pre-dnat", "{ type filter hook output priority -110 ; }",
        {"ct state new jump firewall-check"});
  chain("filter-forward", "{ type filter hook forward priority 0 ; }",
        {"ct state new jump service-endpoints-check", "ct state new jump cluster-ips-check"});
  chain(
      "filter-input", "{ type filter hook input priority 0 ; }",
      {"ct state new jump nodeport-endpoints-check", "ct state new jump service-endpoints-check"});
  chain("filter-output", "{ type filter hook output priority 0 ; }",
        {"ct state new jump service-endpoints-check", "ct state new jump cluster-ips-check"});
  chain("firewall-check", "",
        {absl::StrCat(daddr_, " . meta l4proto . th dport vmap @firewall-ips")});
  chain(kMarkMasqChain, "", {absl::StrCat("mark set mark or ", mark_)});
  chain("masquerading", "",
        {absl::StrCat("mark and ", mark_, " == 0 return"),
         absl::StrCat("mark set mark xor ", mark_), "masquerade fully-random"});
  chain("nat-output", "{ type nat hook output priority -100 ; }", {"jump services"});
  chain("nat-postrouting", "{ type nat hook postrouting priority 100 ; }", {"jump masquerading"});
  chain("nat-prerouting", "{ type nat hook prerouting priority -100 ; }", {"jump services"});
  chain("nodeport-endpoints-check", "",
        {absl::StrCat(nodeport_match, " meta l4proto . th dport vmap @no-endpoint-nodeports")});
  chain(kRejectChain, "{ comment \"helper for @no-endpoint-services / @no-endpoint-nodeports\" ; }",
        {"reject"});
  chain("services", "",
        {absl::StrCat(daddr_, " . meta l4proto . th dport vmap @service-ips"),
         absl::StrCat(nodeport_match, " meta l4proto . th dport vmap @service-nodeports")});
  chain("service-endpoints-check", "",
        {absl::StrCat(daddr_, " . meta l4proto . th dport vmap @no-endpoint-services")});
  for (const std::string& ip : nodeport_ips) f.elements.push_back({"nodeport-ips", ip, ""});
  return f;
}

PortUnit RulesetGenerator::Unit(const ServicePortName& name, const ServicePortInfo& svc,
                                const EndpointList& endpoints, const NodeContext& node) const {
  PortUnit u;
  u.comment = name.String();
  const std::string proto = absl::AsciiStrToLower(svc.protocol);
  const std::string suffix = ServicePortChainSuffix(name);
  const std::string svc_chain = absl::StrCat("service-", suffix);
  const std::string local_chain = absl::StrCat("local-", suffix);
  const std::string ext_chain = absl::StrCat("external-", suffix);
  const std::string fw_chain = absl::StrCat("firewall-", suffix);
  const std::string port = absl::StrCat(svc.port);
  const std::string spn_comment = Quoted(u.comment);

  CategorizedEndpoints cat = CategorizeEndpoints(endpoints, svc, node);
  const bool has_endpoints = cat.has_any;
  const bool uses_cluster_chain = !cat.cluster.empty() && svc.UsesClusterEndpoints();
  const bool uses_local_chain = !cat.local.empty() && svc.UsesLocalEndpoints();

  const std::string* internal_chain = &svc_chain;
  bool has_internal = has_endpoints;
  if (svc.internal_policy_local) {
    internal_chain = &local_chain;
    if (cat.local.empty()) has_internal = false;
  }
  const std::string* external_policy_chain = &svc_chain;
  bool has_external = has_endpoints;
  if (svc.external_policy_local) {
    external_policy_chain = &local_chain;
    if (cat.local.empty()) has_external = false;
  }
  const bool uses_external_chain = has_endpoints && svc.ExternallyAccessible();
  const bool uses_fw_chain =
      has_endpoints && !svc.load_balancer_vips.empty() && !svc.load_balancer_source_ranges.empty();

  std::string internal_verdict, external_verdict;
  if (!has_endpoints) {
    internal_verdict = external_verdict = absl::StrCat("goto ", kRejectChain);
  } else {
    if (!has_internal) {
      internal_verdict = "drop";
      ++u.no_local_internal;
    }
    if (!has_external) {
      external_verdict = "drop";
      ++u.no_local_external;
    }
  }

  // Per-endpoint chain names (index = position in `endpoints`).
  auto index_of = [&](const EndpointInfo* ep) {
    return static_cast<size_t>(ep - endpoints.data());
  };
  std::vector<std::string> ep_suffix(endpoints.size());
  auto ep_name = [&](const EndpointInfo* ep) -> const std::string& {
    std::string& s = ep_suffix[index_of(ep)];
    if (s.empty()) s = EndpointChainSuffix(name, *ep);
    return s;
  };
  const bool affinity = svc.session_affinity == SessionAffinity::kClientIP;

  // Affinity sets, declared before the chains that use them.
  if (affinity) {
    for (const EndpointInfo* ep : cat.all_reachable) {
      u.sets.push_back({absl::StrCat("affinity-", ep_name(ep)),
                        absl::StrCat("{ type ", addr_type_, " ; flags dynamic,timeout ; timeout ",
                                     svc.sticky_max_age_seconds, "s ; }")});
    }
  }

  // Dispatch chains: masquerade rule (service chain only), affinity, balancing.
  auto dispatch = [&](const std::string& chain_name, const std::vector<const EndpointInfo*>& eps,
                      bool masq_rule) {
    Chain c{chain_name, {}};
    if (masq_rule) {
      if (options_.masquerade_all) {
        c.rules.push_back(absl::StrCat(daddr_, " ", svc.cluster_ip, " jump ", kMarkMasqChain));
      } else if (!options_.cluster_cidr.empty()) {
        c.rules.push_back(absl::StrCat(daddr_, " ", svc.cluster_ip, " ", saddr_,
                                       " != ", options_.cluster_cidr, " jump ", kMarkMasqChain));
      }
    }
    if (affinity) {
      for (const EndpointInfo* ep : eps) {
        c.rules.push_back(
            absl::StrCat(saddr_, " @affinity-", ep_name(ep), " goto endpoint-", ep_name(ep)));
      }
    }
    const size_t n = eps.size();
    if (options_.numgen_vmap) {
      std::vector<std::string> entries;
      for (size_t i = 0; i < n; ++i) {
        entries.push_back(absl::StrCat(i, " : goto endpoint-", ep_name(eps[i])));
      }
      c.rules.push_back(
          absl::StrCat("numgen random mod ", n, " vmap { ", absl::StrJoin(entries, " , "), " }"));
    } else {
      for (size_t i = 0; i < n; ++i) {
        if (i + 1 < n) {
          c.rules.push_back(
              absl::StrCat("numgen random mod ", n - i, " == 0 goto endpoint-", ep_name(eps[i])));
        } else {
          c.rules.push_back(absl::StrCat("goto endpoint-", ep_name(eps[i])));
        }
      }
    }
    u.chains.push_back(std::move(c));
  };
  if (uses_cluster_chain) dispatch(svc_chain, cat.cluster, /*masq_rule=*/true);
  if (uses_local_chain) dispatch(local_chain, cat.local, /*masq_rule=*/svc.internal_policy_local);

  if (uses_external_chain) {
    Chain c{ext_chain, {}};
    if (!svc.external_policy_local) {
      c.rules.push_back(absl::StrCat("jump ", kMarkMasqChain));
    } else {
      if (!options_.cluster_cidr.empty()) {
        c.rules.push_back(absl::StrCat(saddr_, " ", options_.cluster_cidr, " goto ", svc_chain,
                                       " comment \"short-circuit pod traffic\""));
      }
      c.rules.push_back(absl::StrCat("fib saddr type local jump ", kMarkMasqChain,
                                     " comment \"masquerade local traffic\""));
      c.rules.push_back(absl::StrCat("fib saddr type local goto ", svc_chain,
                                     " comment \"short-circuit local traffic\""));
    }
    if (has_external) c.rules.push_back(absl::StrCat("goto ", *external_policy_chain));
    u.chains.push_back(std::move(c));
  }

  // Endpoint chains: hairpin masquerade, affinity update, DNAT.
  for (const EndpointInfo* ep : cat.all_reachable) {
    Chain c{absl::StrCat("endpoint-", ep_name(ep)), {}};
    c.rules.push_back(absl::StrCat(saddr_, " ", ep->ip, " jump ", kMarkMasqChain));
    if (affinity) {
      c.rules.push_back(absl::StrCat("update @affinity-", ep_name(ep), " { ", saddr_, " }"));
    }
    const bool v6 = options_.family == IPFamily::kIPv6;
    c.rules.push_back(absl::StrCat("meta l4proto ", proto, " dnat to ",
                                   v6 ? absl::StrCat("[", ep->ip, "]") : ep->ip, ":", ep->port));
    u.chains.push_back(std::move(c));
  }

  if (uses_fw_chain) {
    std::vector<std::string> sources;
    bool allow_from_node = false;
    for (const std::string& range : svc.load_balancer_source_ranges) {
      Cidr c;
      if (!ParseCidr(range, &c)) continue;
      sources.push_back(FormatCidr(c));
      if (!options_.node_ip.empty() && Contains(c, options_.node_ip)) allow_from_node = true;
    }
    if (allow_from_node) {
      for (const std::string& ip : svc.load_balancer_vips) sources.push_back(ip);
    }
    u.chains.push_back(
        {fw_chain, {absl::StrCat(saddr_, " != { ", absl::StrJoin(sources, ", "), " } drop")}});
  }

  // Map and set elements.
  const std::string key_tail = absl::StrCat(" . ", proto, " . ", port);
  u.elements.push_back({"cluster-ips", svc.cluster_ip, ""});
  if (has_internal) {
    u.elements.push_back(
        {"service-ips", absl::StrCat(svc.cluster_ip, key_tail), " : goto " + *internal_chain});
  } else {
    u.elements.push_back({"no-endpoint-services", absl::StrCat(svc.cluster_ip, key_tail),
                          absl::StrCat(" comment ", spn_comment, " : ", internal_verdict)});
  }
  for (const std::string& ip : svc.external_ips) {
    if (has_endpoints) {
      u.elements.push_back({"service-ips", absl::StrCat(ip, key_tail), " : goto " + ext_chain});
    }
    if (!has_external) {
      u.elements.push_back({"no-endpoint-services", absl::StrCat(ip, key_tail),
                            absl::StrCat(" comment ", spn_comment, " : ", external_verdict)});
    }
  }
  for (const std::string& ip : svc.load_balancer_vips) {
    if (has_endpoints) {
      u.elements.push_back({"service-ips", absl::StrCat(ip, key_tail), " : goto " + ext_chain});
    }
    if (uses_fw_chain) {
      u.elements.push_back({"firewall-ips", absl::StrCat(ip, key_tail), " : goto " + fw_chain});
    }
    if (!has_external) {
      u.elements.push_back({"no-endpoint-services", absl::StrCat(ip, key_tail),
                            absl::StrCat(" comment ", spn_comment, " : ", external_verdict)});
    }
  }
  if (svc.node_port != 0) {
    const std::string key = absl::StrCat(proto, " . ", svc.node_port);
    if (has_endpoints) {
      u.elements.push_back({"service-nodeports", key, " : goto " + ext_chain});
    }
    if (!has_external) {
      u.elements.push_back({"no-endpoint-nodeports", key,
                            absl::StrCat(" comment ", spn_comment, " : ", external_verdict)});
    }
  }
  return u;
}

void RulesetGenerator::AppendTable(std::string& out) const {
  absl::StrAppend(&out, "add table ", prefix_, " { comment \"rules for kube-proxy\" ; }\n");
}

void RulesetGenerator::AppendAddChain(std::string& out, absl::string_view chain,
                                      absl::string_view spec) const {
  absl::StrAppend(&out, "add chain ", prefix_, " ", chain, spec.empty() ? "" : " ", spec, "\n");
}

void RulesetGenerator::AppendFlushChain(std::string& out, absl::string_view chain) const {
  absl::StrAppend(&out, "flush chain ", prefix_, " ", chain, "\n");
}

void RulesetGenerator::AppendDeleteChain(std::string& out, absl::string_view chain) const {
  absl::StrAppend(&out, "delete chain ", prefix_, " ", chain, "\n");
}

void RulesetGenerator::AppendRules(std::string& out, const Chain& chain) const {
  for (const std::string& rule : chain.rules) {
    absl::StrAppend(&out, "add rule ", prefix_, " ", chain.name, " ", rule, "\n");
  }
}

void RulesetGenerator::AppendAddSet(std::string& out, const NamedSet& set) const {
  absl::string_view name = set.name;
  absl::string_view kind = "set";
  if (absl::StartsWith(name, "map ") || absl::StartsWith(name, "set ")) {
    kind = name.substr(0, 3);
    name.remove_prefix(4);
  }
  absl::StrAppend(&out, "add ", kind, " ", prefix_, " ", name, " ", set.spec, "\n");
}

void RulesetGenerator::AppendDeleteSet(std::string& out, absl::string_view name) const {
  absl::StrAppend(&out, "delete set ", prefix_, " ", name, "\n");
}

void RulesetGenerator::AppendAddElement(std::string& out, const Element& e) const {
  absl::StrAppend(&out, "add element ", prefix_, " ", e.set, " { ", e.key, e.rest, " }\n");
}

void RulesetGenerator::AppendDeleteElement(std::string& out, const Element& e) const {
  absl::StrAppend(&out, "delete element ", prefix_, " ", e.set, " { ", e.key, " }\n");
}

std::string RulesetGenerator::FullText(const std::vector<PortUnit>& units, bool recreate) const {
  std::string out;
  size_t estimate = 4096;
  for (const PortUnit& u : units) {
    for (const Chain& c : u.chains) estimate += c.rules.size() * (c.name.size() + 96);
    estimate += u.elements.size() * 160;
  }
  out.reserve(estimate);
  AppendTable(out);
  if (recreate) {
    absl::StrAppend(&out, "delete table ", prefix_, "\n");
    AppendTable(out);
  }
  const FixedPart fixed = Fixed();
  for (const NamedSet& s : fixed.sets) AppendAddSet(out, s);
  for (size_t i = 0; i < fixed.chains.size(); ++i) {
    AppendAddChain(out, fixed.chains[i].name, fixed.chain_specs[i]);
  }
  for (const Chain& c : fixed.chains) AppendRules(out, c);
  for (const Element& e : fixed.elements) AppendAddElement(out, e);
  // All chains and sets of all units first: a rule may only name what exists.
  for (const PortUnit& u : units) {
    for (const NamedSet& s : u.sets) AppendAddSet(out, s);
    for (const Chain& c : u.chains) AppendAddChain(out, c.name, "");
  }
  // An element two service ports share (the ClusterIP of a multi-port service) once.
  absl::flat_hash_set<std::string> seen;
  for (const PortUnit& u : units) {
    absl::StrAppend(&out, "# ", u.comment, "\n");
    for (const Chain& c : u.chains) AppendRules(out, c);
    for (const Element& e : u.elements) {
      if (seen.insert(absl::StrCat(e.set, "\n", e.key)).second) AppendAddElement(out, e);
    }
  }
  return out;
}

}  // namespace kslice::proxy::nftables
