// TraceNftables: upstream kube-proxy's nftables layout (pkg/proxy/nftables/proxier.go),
// checked against the endpoints the proxy's trackers and CategorizeEndpoints select.
#include <cmath>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "proxy/iptables/chain_names.h"
#include "proxy/topology.h"
#include "proxy/trace/model.h"
#include "proxy/trace/trace.h"

namespace kslice::proxy::trace {
namespace {

using internal::FindNote;
using internal::Model;
using internal::Percent;

// Upstream's chain names: "<prefix>-" + first 8 characters of base32(sha256(base)) +
// "-" + base, base = "ns/name/proto/portName" (+ "__ip/port" for endpoints, IPv6
// colons as dots).
std::string Hash8(const std::string& s) { return iptables::Hash16(s).substr(0, 8); }

struct Names {
  std::string base;
  std::string service, local, external, firewall;
  std::string Endpoint(const EndpointInfo& e) const {
    std::string ep = absl::StrCat(absl::StrReplaceAll(e.ip, {{":", "."}}), "/", e.port);
    std::string text = absl::StrCat(base, "__", ep);
    return absl::StrCat("endpoint-", Hash8(text), "-", text);
  }
};

Names NamesFor(const ServicePortName& p) {
  Names n;
  n.base = absl::StrCat(p.ns, "/", p.name, "/", absl::AsciiStrToLower(p.protocol), "/", p.port);
  std::string h = Hash8(n.base);
  n.service = absl::StrCat("service-", h, "-", n.base);
  n.local = absl::StrCat("local-", h, "-", n.base);
  n.external = absl::StrCat("external-", h, "-", n.base);
  n.firewall = absl::StrCat("firewall-", h, "-", n.base);
  return n;
}

bool IsServiceChain(const std::string& name) { return name.find('/') != std::string::npos; }

std::string EndpointOf(const NftRuleset& rs, const std::string& chain) {
  auto it = rs.chains.find(chain);
  if (it == rs.chains.end()) return "";
  for (const NftRule& r : it->second.rules) {
    if (!r.dnat.empty()) return r.dnat;
  }
  return "";
}

class NftPortTracer {
 public:
  NftPortTracer(const Model& model, const ServicePortName& port, const NftRuleset& live,
                const std::string& cidr, PortReport& out)
      : model_(model), port_(port), info_(*model.state.services->at(port)), live_(live),
        cidr_(cidr), out_(out), names_(NamesFor(port)), spn_(port.String()) {}

  void Run() {
    out_.endpoints = internal::EndpointNotes(model_, port_);
    cat_ = CategorizeEndpoints(model_.state.EndpointsOf(port_), info_, model_.state.node);
    Entries();
    Walk();
  }

 private:
  void AddDrift(std::string kind, std::string message) {
    out_.drift.push_back(Drift{std::move(kind), std::move(message)});
  }

  const NftMapElement* FindElement(const std::string& map, const std::vector<std::string>& key,
                                   std::vector<const NftMapElement*>* all = nullptr) const {
    auto it = live_.maps.find(map);
    if (it == live_.maps.end()) return nullptr;
    const NftMapElement* found = nullptr;
    for (const NftMapElement& e : it->second) {
      if (e.key == key) {
        if (found == nullptr) found = &e;
        if (all != nullptr) all->push_back(&e);
      }
    }
    return found;
  }

  void Entries() {
    const std::string proto = absl::AsciiStrToLower(info_.protocol);
    const std::string port = absl::StrCat(info_.port);
    const bool has_endpoints = cat_.has_any;
    bool has_internal = has_endpoints && (!info_.internal_policy_local || !cat_.local.empty());
    const std::string internal_chain = info_.internal_policy_local ? names_.local : names_.service;

    struct Want {
      std::string kind, map;
      std::vector<std::string> key;
      std::string chain;  // expected goto target when there are endpoints
    };
    std::vector<Want> wants;
    wants.push_back({"cluster IP", "service-ips", {info_.cluster_ip, proto, port}, internal_chain});
    for (const std::string& ip : info_.external_ips) {
      wants.push_back({"external IP", "service-ips", {ip, proto, port}, names_.external});
    }
    for (const std::string& ip : info_.load_balancer_vips) {
      wants.push_back({"loadbalancer IP", "service-ips", {ip, proto, port}, names_.external});
    }
    if (info_.node_port != 0) {
      wants.push_back({"nodePort", "service-nodeports", {proto, absl::StrCat(info_.node_port)},
                       names_.external});
    }
    for (const Want& w : wants) {
      const bool internal = w.kind == "cluster IP";
      const bool usable = internal ? has_internal : has_endpoints;
      const NftMapElement* e = FindElement(w.map, w.key);
      if (e != nullptr) {
        Entry en;
        en.kind = w.kind;
        en.table = absl::StrCat(live_.family, " ", live_.table);
        en.chain = w.map;
        en.rule = absl::StrCat("element ", w.map, " { ", e->KeyString(), " : ", e->verdict,
                               e->target.empty() ? "" : " ", e->target, " }");
        en.what = absl::StrCat(absl::AsciiStrToUpper(proto), " to ", absl::StrJoin(w.key, " . "),
                               " -> ", e->target.empty() ? e->verdict : e->target);
        en.target = e->target;
        out_.entries.push_back(std::move(en));
        if (IsServiceChain(e->target)) to_walk_.push_back(e->target);
        if (!usable) {
          AddDrift("extra-rule", absl::StrCat(w.map, " has ", e->KeyString(),
                                              " although the service port has no usable endpoints"));
        } else if (e->target != w.chain) {
          AddDrift("chain-name", absl::StrCat(w.map, " sends ", e->KeyString(), " to ", e->target,
                                              ", but kube-proxy names that chain ", w.chain));
        }
      } else if (usable) {
        AddDrift("missing-service-rule",
                 absl::StrCat("no element ", absl::StrJoin(w.key, " . "), " in ", w.map, " (", w.kind,
                              "): that traffic is not load-balanced here (expected goto ", w.chain,
                              ")"));
      }
      // No endpoints: a no-endpoint-services / -nodeports element that rejects or drops.
      if (!usable) {
        std::string map = w.map == "service-ips" ? "no-endpoint-services" : "no-endpoint-nodeports";
        const NftMapElement* ne = FindElement(map, w.key);
        const std::string want = has_endpoints ? "drop" : "reject";
        if (ne == nullptr) {
          AddDrift(has_endpoints ? "missing-rule" : "missing-reject",
                   absl::StrCat(spn_, " has no ", has_endpoints ? "local " : "",
                                "endpoints but ", map, " has no element for ",
                                absl::StrJoin(w.key, " . "), ": connections will not be ",
                                has_endpoints ? "dropped" : "refused"));
        } else {
          Entry en;
          en.kind = has_endpoints ? "no local endpoints" : "no endpoints";
          en.table = absl::StrCat(live_.family, " ", live_.table);
          en.chain = map;
          en.rule = absl::StrCat("element ", map, " { ", ne->KeyString(),
                                 ne->comment.empty() ? "" : absl::StrCat(" comment \"", ne->comment, "\""),
                                 " : ", ne->verdict, ne->target.empty() ? "" : " ", ne->target, " }");
          bool rejects = ne->target == "reject-chain" || ne->verdict == "reject";
          en.what = absl::StrCat(absl::StrJoin(w.key, " . "), ": ",
                                 rejects ? "rejected (no endpoints)" : "dropped");
          en.target = ne->target.empty() ? ne->verdict : ne->target;
          out_.entries.push_back(std::move(en));
          if (want == "reject" && !rejects) {
            AddDrift("missing-reject", absl::StrCat(map, " ", ne->KeyString(), " is ", ne->verdict,
                                                    ", not a goto reject-chain"));
          }
        }
      }
    }
  }

  void Walk() {
    std::deque<std::string> queue(to_walk_.begin(), to_walk_.end());
    std::set<std::string> visited;
    while (!queue.empty()) {
      std::string name = queue.front();
      queue.pop_front();
      if (!visited.insert(name).second) continue;
      auto it = live_.chains.find(name);
      if (it == live_.chains.end()) {
        AddDrift("dangling-jump", absl::StrCat("a verdict goes to ", name, ", which does not exist"));
        continue;
      }
      ChainTrace ct;
      ct.table = absl::StrCat(live_.family, " ", live_.table);
      ct.name = name;
      const bool dispatch = absl::StartsWith(name, "service-") || absl::StartsWith(name, "local-");
      if (absl::StartsWith(name, "service-")) {
        ct.role = "service, cluster traffic policy: load-balances over all usable endpoints";
      } else if (absl::StartsWith(name, "local-")) {
        ct.role = "service, local traffic policy: load-balances over this node's endpoints";
      } else if (absl::StartsWith(name, "external-")) {
        ct.role = "traffic to external destinations (nodePort, external and load-balancer IPs)";
      } else if (absl::StartsWith(name, "firewall-")) {
        ct.role = "loadBalancerSourceRanges firewall";
      } else if (absl::StartsWith(name, "endpoint-")) {
        ct.role = absl::StrCat("endpoint ", EndpointOf(live_, name));
      } else {
        ct.role = "chain";
      }
      int number = 0;
      std::vector<std::pair<std::string, std::string>> live_branches;  // chain, endpoint
      int mod = 0;
      bool masq = false;
      // kslice's cascade: each "numgen random mod k == 0 goto" rule takes 1/k of what is
      // left; a last plain goto to an endpoint chain takes the rest.
      double rest = 1.0;
      bool cascade = false, cascade_ok = true;
      int cascade_next_mod = 0;
      for (const NftRule& r : it->second.rules) {
        ++number;
        const bool to_endpoint = absl::StartsWith(r.target, "endpoint-");
        if (dispatch && to_endpoint && r.saddr_set.empty() &&
            (r.numgen_match_mod > 0 || (cascade && r.numgen_match_mod == 0))) {
          Step s;
          s.number = number;
          s.rule = r.text;
          s.branch = true;
          s.target = r.target;
          s.endpoint = EndpointOf(live_, r.target);
          if (r.numgen_match_mod > 0) {
            if (!cascade) cascade_next_mod = r.numgen_match_mod;
            cascade = true;
            if (r.numgen_match_mod != cascade_next_mod || r.numgen_match_value != 0) {
              cascade_ok = false;
            }
            cascade_next_mod = r.numgen_match_mod - 1;
            s.share = rest / r.numgen_match_mod;
            s.probability = absl::StrCat("numgen mod ", r.numgen_match_mod, " == ",
                                         r.numgen_match_value);
            s.what = absl::StrCat(Percent(s.share), " of new connections (1 in ",
                                  r.numgen_match_mod, " of the rest)");
          } else {
            if (cascade_next_mod != 1) cascade_ok = false;
            s.share = rest;
            s.probability = "the rest";
            s.what = absl::StrCat(Percent(s.share), " of new connections (the rest)");
          }
          rest -= s.share;
          ct.steps.push_back(std::move(s));
          live_branches.emplace_back(r.target, EndpointOf(live_, r.target));
          mod = static_cast<int>(live_branches.size());
          continue;
        }
        if (r.numgen_mod > 0) {
          mod = r.numgen_mod;
          for (const auto& [index, target] : r.numgen_targets) {
            Step s;
            s.number = number;
            // The vmap is one rule: print it with its first branch only.
            if (live_branches.empty() || ct.steps.empty() || ct.steps.back().number != number) {
              s.rule = r.text;
            }
            s.branch = true;
            s.target = target;
            s.endpoint = EndpointOf(live_, target);
            s.share = 1.0 / r.numgen_mod;
            s.probability = absl::StrCat(index, " of mod ", r.numgen_mod);
            s.what = absl::StrCat(Percent(s.share), " of new connections (numgen value ", index, ")");
            ct.steps.push_back(std::move(s));
            live_branches.emplace_back(target, EndpointOf(live_, target));
            if (IsServiceChain(target)) queue.push_back(target);
          }
          continue;
        }
        Step s;
        s.number = number;
        s.rule = r.text;
        s.target = r.target.empty() ? r.verdict : r.target;
        if (r.target == "mark-for-masquerade") {
          if (absl::StartsWith(r.saddr, "!=")) {
            s.what = absl::StrCat("mark for masquerade: traffic from outside the cluster CIDR ",
                                  r.saddr.substr(2));
            masq = true;
          } else if (!r.saddr.empty()) {
            s.what = absl::StrCat("hairpin: the endpoint ", r.saddr,
                                  " connecting to itself: mark for masquerade");
          } else {
            s.what = "mark for masquerade";
            masq = masq || !r.daddr.empty();
          }
        } else if (!r.dnat.empty()) {
          s.what = absl::StrCat("DNAT to ", r.dnat);
          s.endpoint = r.dnat;
        } else if (!r.saddr_set.empty() && !r.target.empty()) {
          s.branch = true;
          s.affinity = true;
          s.endpoint = EndpointOf(live_, r.target);
          s.what = absl::StrCat("session affinity: a client in @", r.saddr_set,
                                " goes back to this endpoint");
        } else if (!r.update_set.empty()) {
          s.what = absl::StrCat("remember the client in @", r.update_set, " for session affinity");
        } else if (r.verdict == "drop") {
          s.what = "dropped";
        } else if (!r.target.empty()) {
          s.what = absl::StrCat(r.verdict, " ", r.target);
        } else {
          s.what = r.text;
        }
        if (IsServiceChain(r.target)) queue.push_back(r.target);
        ct.steps.push_back(std::move(s));
      }
      if (dispatch && cascade && !cascade_ok) {
        AddDrift("unequal-shares",
                 absl::StrCat(name, " dispatches with numgen rules that do not give every "
                                    "endpoint the same share (expected mod n, n-1, ..., 2 == 0 "
                                    "and a last plain goto)"));
      }
      if (dispatch) CompareDispatch(name, mod, live_branches, masq);
      out_.chains.push_back(std::move(ct));
    }
  }

  void CompareDispatch(const std::string& chain, int mod,
                       const std::vector<std::pair<std::string, std::string>>& live,
                       bool has_masq) {
    const bool local = absl::StartsWith(chain, "local-");
    const std::vector<const EndpointInfo*>& want = local ? cat_.local : cat_.cluster;
    std::map<std::string, std::string> expected;  // endpoint -> chain
    for (const EndpointInfo* e : want) expected[e->String()] = names_.Endpoint(*e);
    std::set<std::string> seen;
    for (const auto& [target, ep] : live) {
      seen.insert(ep);
      auto it = expected.find(ep);
      if (it == expected.end()) {
        const EndpointNote* n = FindNote(out_.endpoints, ep);
        AddDrift("extra-endpoint",
                 absl::StrCat(chain, " sends traffic to ", target, " -> ", ep.empty() ? "(no dnat)" : ep,
                              ", but ",
                              n == nullptr ? "it is in no EndpointSlice of the service"
                                           : absl::StrCat("the proxy would not use it on this node (",
                                                          n->Describe(), ")")));
      } else if (it->second != target) {
        AddDrift("chain-name", absl::StrCat(chain, " reaches ", ep, " through ", target,
                                            ", but kube-proxy names that chain ", it->second));
      }
    }
    for (const auto& [ep, c] : expected) {
      if (seen.count(ep) == 0) {
        const EndpointNote* n = FindNote(out_.endpoints, ep);
        AddDrift("missing-endpoint",
                 absl::StrCat("endpoint ", ep, n == nullptr ? "" : absl::StrCat(" (", n->Describe(), ")"),
                              " should get traffic from ", chain, " but its numgen map has no ",
                              "entry for it (expected goto ", c, ")"));
      }
    }
    if (!live.empty() && mod != static_cast<int>(live.size())) {
      AddDrift("unequal-shares",
               absl::StrCat(chain, " draws numgen random mod ", mod, " over ", live.size(),
                            " endpoints: ", Percent(1.0 - static_cast<double>(live.size()) / mod),
                            " of new connections match no entry"));
    }
    if (!local && !cidr_.empty() && !has_masq) {
      AddDrift("missing-rule",
               absl::StrCat(chain, " lacks the masquerade rule: ip daddr ", info_.cluster_ip,
                            " ip saddr != ", cidr_, " jump mark-for-masquerade"));
    }
  }

  const Model& model_;
  const ServicePortName& port_;
  const ServicePortInfo& info_;
  const NftRuleset& live_;
  const std::string cidr_;
  PortReport& out_;
  const Names names_;
  const std::string spn_;
  CategorizedEndpoints cat_;
  std::vector<std::string> to_walk_;
};

}  // namespace

absl::StatusOr<Report> TraceNftables(const TraceInput& in, IPFamily family, const NftRuleset& live,
                                     const TraceOptions& options) {
  absl::StatusOr<Model> model = internal::BuildModel(in, family);
  if (!model.ok()) return model.status();
  const std::string want_family = family == IPFamily::kIPv6 ? "ip6" : "ip";
  if (live.family != want_family || live.table != "kube-proxy") {
    return absl::InvalidArgumentError(absl::StrCat("expected the table ", want_family,
                                                   " kube-proxy, got ", live.family, " ",
                                                   live.table));
  }
  Report report;
  report.service = absl::StrCat(in.service->metadata().namespace_(), "/",
                                in.service->metadata().name());
  report.node = in.node_name;
  report.mode = "nftables";
  for (const ServicePortName& port : model->ports) {
    const ServicePortInfo& info = *model->state.services->at(port);
    PortReport pr;
    pr.spn = port.String();
    pr.family = IPFamilyName(family);
    pr.address = internal::PortAddress(info);
    pr.summary = internal::PortSummary(info);
    std::string cidr = options.masquerade_all ? "" : options.cluster_cidr;
    if (cidr.empty() && !options.masquerade_all) {
      pr.notes.push_back("no --cluster-cidr given: the masquerade rule is not checked");
    }
    NftPortTracer(*model, port, live, cidr, pr).Run();
    report.ports.push_back(std::move(pr));
  }
  return report;
}

}  // namespace kslice::proxy::trace
