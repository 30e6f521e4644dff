// TraceIptables: expected rules from the proxy's generator, live rules from the node,
// both parsed by iptables_save.h and compared in canonical form (see trace.h).
#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "proxy/iptables/chain_names.h"
#include "proxy/iptables/ruleset.h"
#include "proxy/trace/model.h"
#include "proxy/trace/trace.h"

namespace kslice::proxy::trace {
namespace {

using internal::FindNote;
using internal::Model;
using internal::Percent;
namespace ipt = ::kslice::proxy::iptables;

constexpr double kShareTolerance = 1e-6;

// Chains whose rules for a service port are entries into it.
struct EntryChain {
  const char* table;
  const char* chain;
};
constexpr EntryChain kEntryChains[] = {
    {"nat", "KUBE-SERVICES"},
    {"nat", "KUBE-NODEPORTS"},
    {"filter", "KUBE-SERVICES"},
    {"filter", "KUBE-EXTERNAL-SERVICES"},
    {"filter", "KUBE-NODEPORTS"},
    {"filter", "KUBE-PROXY-FIREWALL"},
};

// Whether a rule comment is about `spn` ("ns/name:port" alone or followed by a space;
// "ns/name:http" must not claim "ns/name:https").
bool BelongsTo(const std::string& comment, const std::string& spn) {
  return comment == spn || absl::StartsWith(comment, absl::StrCat(spn, " "));
}

std::string StripMask(const std::string& a) {
  if (absl::EndsWith(a, "/32")) return a.substr(0, a.size() - 3);
  if (absl::EndsWith(a, "/128")) return a.substr(0, a.size() - 4);
  return a;
}

std::string Negatable(const std::string& v) {
  return absl::StartsWith(v, "!") ? absl::StrCat("not ", StripMask(v.substr(1))) : StripMask(v);
}

// "TCP to 10.96.204.67 port 80", "TCP to this node's addresses port 30080".
std::string DescribeMatch(const SavedRule& r) {
  std::string proto = absl::AsciiStrToUpper(r.protocol.empty() ? "all" : r.protocol);
  std::string port = r.MatchOption(r.protocol, "--dport").value_or("");
  std::string dst;
  if (!r.destination.empty()) {
    dst = Negatable(r.destination);
  } else if (r.MatchOption("addrtype", "--dst-type").value_or("") == "LOCAL") {
    dst = "this node's addresses";
  } else {
    dst = "any address";
  }
  return port.empty() ? absl::StrCat(proto, " to ", dst)
                      : absl::StrCat(proto, " to ", dst, " port ", port);
}

// The kind of entry from its comment suffix.
std::string EntryKind(const SavedRule& r, const std::string& spn) {
  std::string c = r.Comment();
  std::string rest = c.size() > spn.size() ? c.substr(spn.size() + 1) : "";
  if (rest == "cluster IP") return "cluster IP";
  if (rest == "external IP") return "external IP";
  if (rest == "loadbalancer IP") return "loadbalancer IP";
  if (rest == "has no endpoints") return "no endpoints";
  if (rest == "has no local endpoints") return "no local endpoints";
  if (rest == "health check node port") return "health check node port";
  if (absl::StartsWith(rest, "traffic not accepted by")) return "source-range firewall";
  if (rest.empty() && r.chain == "KUBE-NODEPORTS") {
    return StripMask(r.destination) == "127.0.0.0/8" ? "nodePort (localhost)" : "nodePort";
  }
  return rest.empty() ? "rule" : rest;
}

std::optional<std::string> EndpointOfChain(const SavedRuleset& rs, const std::string& chain) {
  const SavedChain* c = rs.Find("nat", chain);
  if (c == nullptr) return std::nullopt;
  for (const SavedRule& r : c->rules) {
    if (r.target == "DNAT") {
      if (std::optional<std::string> to = r.TargetOption("--to-destination")) return *to;
    }
  }
  return std::string();
}

bool IsBranch(const SavedRule& r) {
  return absl::StartsWith(r.target, ipt::kServicePortEndpointChainPrefix);
}
bool IsAffinityBranch(const SavedRule& r) {
  return IsBranch(r) && r.MatchOption("recent", "--rcheck").has_value();
}

std::string ChainRole(const std::string& chain, const SavedRuleset& rs) {
  if (absl::StartsWith(chain, ipt::kServicePortPolicyClusterChainPrefix)) {
    return "service, cluster traffic policy: load-balances over all usable endpoints";
  }
  if (absl::StartsWith(chain, ipt::kServicePortPolicyLocalChainPrefix)) {
    return "service, local traffic policy: load-balances over this node's endpoints";
  }
  if (absl::StartsWith(chain, ipt::kServiceExternalChainPrefix)) {
    return "traffic to external destinations (nodePort, external and load-balancer IPs)";
  }
  if (absl::StartsWith(chain, ipt::kServiceFirewallChainPrefix)) {
    return "loadBalancerSourceRanges firewall";
  }
  if (absl::StartsWith(chain, ipt::kServicePortEndpointChainPrefix)) {
    std::string ep = EndpointOfChain(rs, chain).value_or("");
    return ep.empty() ? "endpoint (no DNAT rule)" : absl::StrCat("endpoint ", ep);
  }
  return "chain";
}

// Explains one rule of a per-service chain.
Step Explain(const SavedRule& r, int number, const SavedRuleset& rs) {
  Step s;
  s.number = number;
  s.rule = r.Render();
  s.target = r.target;
  const std::string& t = r.target;
  if (t == "KUBE-MARK-MASQ") {
    if (absl::StartsWith(r.source, "!")) {
      s.what = absl::StrCat("mark for masquerade: traffic from outside the cluster CIDR ",
                            r.source.substr(1));
    } else if (!r.source.empty()) {
      s.what = absl::StrCat("hairpin: the endpoint ", StripMask(r.source),
                            " connecting to itself: mark for masquerade");
    } else if (r.MatchOption("addrtype", "--src-type").value_or("") == "LOCAL") {
      s.what = "mark for masquerade: traffic from this node";
    } else if (!r.destination.empty()) {
      s.what = "mark for masquerade: all traffic to the service (--masquerade-all)";
    } else {
      s.what = "mark for masquerade";
    }
  } else if (t == "DNAT") {
    std::string to = r.TargetOption("--to-destination").value_or("?");
    s.what = absl::StrCat("DNAT to ", to);
    if (r.MatchOption("recent", "--set")) {
      absl::StrAppend(&s.what, ", remembering the client for session affinity");
    }
    s.endpoint = to;
  } else if (IsBranch(r)) {
    s.branch = true;
    s.endpoint = EndpointOfChain(rs, t).value_or("");
    if (IsAffinityBranch(r)) {
      s.affinity = true;
      s.what = absl::StrCat("session affinity: a client seen in the last ",
                            r.MatchOption("recent", "--seconds").value_or("?"),
                            " s goes back to this endpoint");
    } else {
      s.probability = r.Probability().has_value()
                          ? KernelProbability(*r.Probability()).value_or(*r.Probability())
                          : "";
    }
  } else if (t == "REJECT") {
    s.what = absl::StrCat(DescribeMatch(r), ": rejected (ICMP port unreachable)");
  } else if (t == "DROP") {
    s.what = absl::StrCat(DescribeMatch(r), ": dropped");
  } else if (ipt::IsServiceChainName(t)) {
    std::string cond;
    if (!r.source.empty()) {
      cond = absl::StrCat("from ", Negatable(r.source));
    } else if (r.MatchOption("addrtype", "--src-type").value_or("") == "LOCAL") {
      cond = "from this node";
    } else {
      cond = "everything else";
    }
    s.what = absl::StrCat(cond, ": continue in ", t);
  } else if (t.empty()) {
    s.what = r.Comment().empty() ? "no target (counts only)" : r.Comment();
  } else {
    s.what = absl::StrCat("-> ", t);
  }
  return s;
}

// Multiset difference of rules by canonical key: the rules of `a` not in `b`.
std::vector<const SavedRule*> Minus(const std::vector<const SavedRule*>& a,
                                    const std::vector<const SavedRule*>& b) {
  std::multiset<std::string> keys;
  for (const SavedRule* r : b) keys.insert(r->Key());
  std::vector<const SavedRule*> out;
  for (const SavedRule* r : a) {
    auto it = keys.find(r->Key());
    if (it != keys.end()) {
      keys.erase(it);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::string KeyWithoutTarget(const SavedRule& r) {
  SavedRule copy = r;
  copy.target.clear();
  copy.target_args.clear();
  return copy.Key();
}

std::vector<const SavedRule*> RulesOf(const SavedChain* c) {
  std::vector<const SavedRule*> out;
  if (c == nullptr) return out;
  for (const SavedRule& r : c->rules) out.push_back(&r);
  return out;
}

class PortTracer {
 public:
  PortTracer(const Model& model, const ServicePortName& port, const SavedRuleset& live,
             const SavedRuleset& expected, PortReport& out)
      : model_(model), port_(port), live_(live), expected_(expected), out_(out),
        spn_(port.String()) {}

  void Run() {
    out_.endpoints = internal::EndpointNotes(model_, port_);
    const bool have_filter = live_.tables.count("filter") > 0;
    if (!have_filter) {
      out_.notes.push_back(
          "the filter table was not read: REJECT/DROP rules for missing endpoints are not checked");
    }
    CompareEntries(have_filter);
    Walk();
    CompareChains();
    CompareUnexpectedDispatch();
    FindStaleChains();
  }

 private:
  void AddDrift(std::string kind, std::string message) {
    out_.drift.push_back(Drift{std::move(kind), std::move(message)});
  }

  std::vector<const SavedRule*> EntryRules(const SavedRuleset& rs, const char* table,
                                           const char* chain) const {
    std::vector<const SavedRule*> out;
    for (const SavedRule* r : RulesOf(rs.Find(table, chain))) {
      if (BelongsTo(r->Comment(), spn_)) out.push_back(r);
    }
    return out;
  }

  // Entry rules: expected vs live, then the live ones become the report's entries.
  void CompareEntries(bool have_filter) {
    for (const EntryChain& ec : kEntryChains) {
      const bool filter = std::string(ec.table) == "filter";
      std::vector<const SavedRule*> live = EntryRules(live_, ec.table, ec.chain);
      for (const SavedRule* r : live) {
        Step s = Explain(*r, 0, live_);
        Entry e;
        e.kind = EntryKind(*r, spn_);
        e.table = ec.table;
        e.chain = ec.chain;
        e.rule = r->Render();
        e.target = r->target;
        e.what = filter ? s.what : absl::StrCat(DescribeMatch(*r), " -> ", r->target);
        out_.entries.push_back(std::move(e));
        if (!filter && ipt::IsServiceChainName(r->target)) to_walk_.push_back(r->target);
      }
      if (filter && !have_filter) continue;
      std::vector<const SavedRule*> expected = EntryRules(expected_, ec.table, ec.chain);
      std::vector<const SavedRule*> missing = Minus(expected, live);
      std::vector<const SavedRule*> extra = Minus(live, expected);
      for (const SavedRule* m : missing) {
        // Same match, other chain: a chain name that is not the port's hash.
        const SavedRule* renamed = nullptr;
        for (auto it = extra.begin(); it != extra.end(); ++it) {
          if (KeyWithoutTarget(**it) == KeyWithoutTarget(*m) &&
              ipt::IsServiceChainName((*it)->target) && ipt::IsServiceChainName(m->target)) {
            renamed = *it;
            extra.erase(it);
            break;
          }
        }
        if (renamed != nullptr) {
          alias_[m->target] = renamed->target;
          AddDrift("chain-name",
                   absl::StrCat(ec.table, " ", ec.chain, " sends ", DescribeMatch(*m), " to ",
                                renamed->target, ", but kube-proxy names that chain ", m->target,
                                " (hash of \"", spn_, "\" + \"", ipt::LowerProtocol(port_.protocol),
                                "\")"));
          continue;
        }
        std::string kind = EntryKind(*m, spn_);
        if (!filter && (kind == "cluster IP" || kind == "external IP" ||
                        kind == "loadbalancer IP" || absl::StartsWith(kind, "nodePort"))) {
          AddDrift("missing-service-rule",
                   absl::StrCat("no ", ec.chain, " rule sends ", DescribeMatch(*m), " (", kind,
                                ") to ", m->target, ": that traffic is not load-balanced here; ",
                                "expected: ", m->Render()));
        } else if (filter && m->target == "REJECT") {
          AddDrift("missing-reject",
                   absl::StrCat(spn_, " has no endpoints but filter ", ec.chain,
                                " has no REJECT rule for ", DescribeMatch(*m),
                                ": connections will not be refused; expected: ", m->Render()));
        } else {
          AddDrift("missing-rule", absl::StrCat(ec.table, " ", ec.chain, " lacks: ", m->Render()));
        }
      }
      for (const SavedRule* x : extra) {
        AddDrift("extra-rule",
                 absl::StrCat(ec.table, " ", ec.chain, " has a rule the proxy would not write: ",
                              x->Render()));
      }
    }
  }

  // The live chains reachable from the entries, breadth first.
  void Walk() {
    std::deque<std::string> queue(to_walk_.begin(), to_walk_.end());
    while (!queue.empty()) {
      std::string name = queue.front();
      queue.pop_front();
      if (!visited_.insert(name).second) continue;
      const SavedChain* c = live_.Find("nat", name);
      if (c == nullptr) {
        AddDrift("dangling-jump", absl::StrCat("a rule jumps to ", name, ", which does not exist"));
        continue;
      }
      ChainTrace ct;
      ct.table = "nat";
      ct.name = name;
      ct.role = ChainRole(name, live_);
      double remaining = 1.0;
      int number = 0;
      for (const SavedRule& r : c->rules) {
        Step s = Explain(r, ++number, live_);
        if (s.branch && !s.affinity) {
          double p = 1.0;
          if (!s.probability.empty()) p = KernelProbabilityValue(s.probability).value_or(1.0);
          s.share = remaining * p;
          remaining *= 1.0 - p;
          s.what = absl::StrCat(Percent(s.share), " of new connections",
                                s.probability.empty()
                                    ? " (the rest)"
                                    : absl::StrCat(" (probability ", s.probability, ")"));
        }
        if (ipt::IsServiceChainName(r.target)) queue.push_back(r.target);
        ct.steps.push_back(std::move(s));
      }
      out_.chains.push_back(std::move(ct));
    }
  }

  std::string LiveName(const std::string& expected) const {
    auto it = alias_.find(expected);
    return it == alias_.end() ? expected : it->second;
  }

  std::string DescribeEndpoint(const std::string& ep) const {
    const EndpointNote* n = FindNote(out_.endpoints, ep);
    if (n == nullptr) return absl::StrCat(ep, " (in no EndpointSlice of the service)");
    return absl::StrCat(ep, " (", n->Describe(), ")");
  }

  void CompareRules(const std::string& chain, const std::vector<const SavedRule*>& expected,
                    const std::vector<const SavedRule*>& live) {
    for (const SavedRule* m : Minus(expected, live)) {
      AddDrift("missing-rule", absl::StrCat("nat ", chain, " lacks: ", m->Render()));
    }
    for (const SavedRule* x : Minus(live, expected)) {
      AddDrift("extra-rule",
               absl::StrCat("nat ", chain, " has a rule the proxy would not write: ", x->Render()));
    }
  }

  void CompareDispatch(const SavedChain& exp, const SavedChain& live) {
    std::vector<const SavedRule*> exp_other, live_other, exp_branches, live_branches;
    for (const SavedRule& r : exp.rules) {
      (IsBranch(r) && !IsAffinityBranch(r) ? exp_branches : exp_other).push_back(&r);
    }
    for (const SavedRule& r : live.rules) {
      (IsBranch(r) && !IsAffinityBranch(r) ? live_branches : live_other).push_back(&r);
    }
    CompareRules(live.name, exp_other, live_other);

    std::map<std::string, std::string> exp_eps;  // endpoint -> expected SEP chain
    for (const SavedRule* r : exp_branches) {
      exp_eps[EndpointOfChain(expected_, r->target).value_or("")] = r->target;
    }
    std::set<std::string> live_eps;
    for (const SavedRule* r : live_branches) {
      std::optional<std::string> ep = EndpointOfChain(live_, r->target);
      if (!ep.has_value()) continue;  // dangling: reported by the walk
      live_eps.insert(*ep);
      auto it = exp_eps.find(*ep);
      if (it == exp_eps.end()) {
        const EndpointNote* n = FindNote(out_.endpoints, *ep);
        std::string why = n == nullptr ? "it is in no EndpointSlice of the service"
                                       : absl::StrCat("the proxy would not use it on this node (",
                                                      n->Describe(), ")");
        AddDrift("extra-endpoint",
                 absl::StrCat(live.name, " sends traffic to ", r->target, " -> ",
                              ep->empty() ? "(no DNAT)" : *ep, ", but ", why));
      } else if (it->second != r->target) {
        AddDrift("chain-name",
                 absl::StrCat(live.name, " reaches ", *ep, " through ", r->target,
                              ", but kube-proxy names that chain ", it->second, " (hash of \"",
                              spn_, "\" + \"", ipt::LowerProtocol(port_.protocol), "\" + \"", *ep,
                              "\")"));
        alias_[it->second] = r->target;
      }
    }
    for (const auto& [ep, sep] : exp_eps) {
      if (live_eps.count(ep) == 0) {
        AddDrift("missing-endpoint",
                 absl::StrCat("endpoint ", DescribeEndpoint(ep), " should get traffic from ",
                              live.name, " but no rule there jumps to it (expected -j ", sep,
                              ")"));
      }
    }

    // Probabilities: rule i of n must carry 1/(n-i) as kube-proxy formats it (the kernel
    // keeps it in 31 bits), the last none; and every branch gets the same share.
    const size_t n = live_branches.size();
    double remaining = 1.0;
    std::vector<double> shares;
    for (size_t i = 0; i < n; ++i) {
      const SavedRule& r = *live_branches[i];
      std::optional<std::string> have = r.Probability();
      std::optional<std::string> have_k = have ? KernelProbability(*have) : std::nullopt;
      std::string ep = EndpointOfChain(live_, r.target).value_or("");
      if (i + 1 < n) {
        std::string want = ipt::ComputeProbability(static_cast<int>(n - i));
        if (!have_k || *have_k != *KernelProbability(want)) {
          AddDrift("wrong-probability",
                   absl::StrCat(live.name, " branch ", i + 1, " of ", n, " (-> ", ep, ") has ",
                                have ? absl::StrCat("probability ", *have) : "no probability",
                                ", kube-proxy writes ", want, " (1/", n - i, ")"));
        }
      } else if (have) {
        AddDrift("wrong-probability",
                 absl::StrCat(live.name, " last branch (-> ", ep, ") has probability ", *have,
                              ": kube-proxy's last branch takes all remaining connections"));
      }
      double p = have_k ? KernelProbabilityValue(*have_k).value_or(1.0) : 1.0;
      shares.push_back(remaining * p);
      remaining *= 1.0 - p;
    }
    if (n > 0) {
      bool equal = true;
      for (double s : shares) equal = equal && std::fabs(s - 1.0 / n) <= kShareTolerance;
      if (!equal || remaining > kShareTolerance) {
        std::vector<std::string> parts;
        for (size_t i = 0; i < n; ++i) {
          parts.push_back(absl::StrCat(EndpointOfChain(live_, live_branches[i]->target).value_or(""),
                                       " ", Percent(shares[i])));
        }
        std::string msg = absl::StrCat(live.name, " does not split new connections equally over its ",
                                       n, " endpoints: ", absl::StrJoin(parts, ", "));
        if (remaining > kShareTolerance) {
          absl::StrAppend(&msg, "; ", Percent(remaining),
                          " match no branch and leave the chain without DNAT");
        }
        AddDrift("unequal-shares", msg);
      }
    }
  }

  void CompareChains() {
    const SavedTable* nat = nullptr;
    if (auto it = expected_.tables.find("nat"); it != expected_.tables.end()) nat = &it->second;
    if (nat == nullptr) return;
    // Endpoints whose SEP chain is missing are reported once, as missing-endpoint.
    for (const std::string& name : nat->chain_order) {
      if (!ipt::IsServiceChainName(name)) continue;
      const SavedChain& exp = nat->chains.at(name);
      const SavedChain* live = live_.Find("nat", LiveName(name));
      const bool sep = absl::StartsWith(name, ipt::kServicePortEndpointChainPrefix);
      if (live == nullptr) {
        if (!sep) {
          AddDrift("missing-chain", absl::StrCat("chain ", name, " (", ChainRole(name, expected_),
                                                 ") does not exist"));
        }
        continue;
      }
      if (absl::StartsWith(name, ipt::kServicePortPolicyClusterChainPrefix) ||
          absl::StartsWith(name, ipt::kServicePortPolicyLocalChainPrefix)) {
        CompareDispatch(exp, *live);
      } else {
        std::vector<const SavedRule*> e = RulesOf(&exp), l = RulesOf(live);
        if (LiveName(name) != name) {
          // Compare a renamed chain's rules as if it had the expected name.
          CompareRenamed(name, e, l);
        } else {
          CompareRules(name, e, l);
        }
      }
    }
  }

  // Live dispatch chains reached from the entries that the proxy would not have at all
  // (e.g. the service lost its endpoints): every branch is an extra endpoint.
  void CompareUnexpectedDispatch() {
    std::set<std::string> known;
    if (auto it = expected_.tables.find("nat"); it != expected_.tables.end()) {
      for (const auto& [name, chain] : it->second.chains) known.insert(LiveName(name));
    }
    for (const std::string& name : visited_) {
      if (known.count(name) > 0) continue;
      if (!absl::StartsWith(name, ipt::kServicePortPolicyClusterChainPrefix) &&
          !absl::StartsWith(name, ipt::kServicePortPolicyLocalChainPrefix)) {
        continue;
      }
      const SavedChain* live = live_.Find("nat", name);
      if (live == nullptr) continue;
      SavedChain none;
      none.name = name;
      CompareDispatch(none, *live);
    }
  }

  void CompareRenamed(const std::string& name, const std::vector<const SavedRule*>& e,
                      const std::vector<const SavedRule*>& l) {
    std::vector<SavedRule> copies;
    copies.reserve(l.size());
    for (const SavedRule* r : l) {
      SavedRule c = *r;
      c.chain = name;
      copies.push_back(std::move(c));
    }
    std::vector<const SavedRule*> lp;
    for (const SavedRule& c : copies) lp.push_back(&c);
    CompareRules(name, e, lp);
  }

  // Per-service chains of this port that nothing reaches: left behind.
  void FindStaleChains() {
    auto it = live_.tables.find("nat");
    if (it == live_.tables.end()) return;
    const SavedTable* exp_nat = nullptr;
    if (auto e = expected_.tables.find("nat"); e != expected_.tables.end()) exp_nat = &e->second;
    std::set<std::string> live_targets;  // every chain some live rule jumps to
    for (const auto& [name, chain] : it->second.chains) {
      for (const SavedRule& r : chain.rules) live_targets.insert(r.target);
    }
    for (const std::string& name : it->second.chain_order) {
      if (!ipt::IsServiceChainName(name) || visited_.count(name) > 0) continue;
      if (live_targets.count(name) > 0) continue;  // reached from elsewhere
      bool ours = false;
      for (const SavedRule& r : it->second.chains.at(name).rules) {
        ours = ours || BelongsTo(r.Comment(), spn_) ||
               absl::StrContains(r.Comment(), absl::StrCat("for ", spn_, " "));
      }
      if (exp_nat != nullptr && exp_nat->chains.count(name) > 0) ours = true;
      if (!ours) continue;
      AddDrift("stale-chain", absl::StrCat("chain ", name, " (", ChainRole(name, live_),
                                           ") belongs to ", spn_,
                                           " but no rule jumps to it (left over)"));
    }
  }

  const Model& model_;
  const ServicePortName& port_;
  const SavedRuleset& live_;
  const SavedRuleset& expected_;
  PortReport& out_;
  const std::string spn_;
  std::vector<std::string> to_walk_;
  std::set<std::string> visited_;
  std::map<std::string, std::string> alias_;  // expected chain name -> live name
};

// The cluster CIDR the live rules use: `! -s CIDR -j KUBE-MARK-MASQ` in a KUBE-SVC
// chain, preferring `preferred`'s.
std::string InferClusterCidr(const SavedRuleset& live, const std::string& preferred) {
  auto it = live.tables.find("nat");
  if (it == live.tables.end()) return "";
  auto from = [](const SavedChain& c) -> std::string {
    for (const SavedRule& r : c.rules) {
      if (r.target == "KUBE-MARK-MASQ" && absl::StartsWith(r.source, "!")) return r.source.substr(1);
    }
    return "";
  };
  if (auto c = it->second.chains.find(preferred); c != it->second.chains.end()) {
    if (std::string cidr = from(c->second); !cidr.empty()) return cidr;
  }
  for (const auto& [name, chain] : it->second.chains) {
    if (!absl::StartsWith(name, ipt::kServicePortPolicyClusterChainPrefix)) continue;
    if (std::string cidr = from(chain); !cidr.empty()) return cidr;
  }
  return "";
}

// How the live proxy was configured, as far as this service's expected rules depend on it
// and the rules of the whole table tell: large-cluster mode (kube-proxy drops the SEP and
// SVC->SEP comments above 1000 endpoints) and localhost NodePorts (off with
// --iptables-localhost-nodeports=false, or without the nfacct counter).
struct LiveShape {
  bool large_cluster = false;
  bool localhost_nodeports = false;
};

LiveShape InferShape(const SavedRuleset& live) {
  LiveShape shape;
  auto it = live.tables.find("nat");
  if (it == live.tables.end()) return shape;
  int with = 0, without = 0;
  for (const auto& [name, chain] : it->second.chains) {
    for (const SavedRule& r : chain.rules) {
      if (absl::StartsWith(name, ipt::kServicePortEndpointChainPrefix) && r.target == "DNAT") {
        (r.Comment().empty() ? without : with)++;
      }
      if (name == "KUBE-NODEPORTS" && StripMask(r.destination) == "127.0.0.0/8") {
        shape.localhost_nodeports = true;
      }
    }
  }
  shape.large_cluster = without > with;
  return shape;
}

}  // namespace

absl::StatusOr<Report> TraceIptables(const TraceInput& in, IPFamily family,
                                     const SavedRuleset& live, const TraceOptions& options) {
  absl::StatusOr<Model> model = internal::BuildModel(in, family);
  if (!model.ok()) return model.status();
  Report report;
  report.service = absl::StrCat(in.service->metadata().namespace_(), "/",
                                in.service->metadata().name());
  report.node = in.node_name;
  report.mode = "iptables";
  if (live.tables.count("nat") == 0) {
    return absl::InvalidArgumentError("the ruleset has no nat table");
  }
  const LiveShape shape = InferShape(live);
  for (const ServicePortName& port : model->ports) {
    const ServicePortInfo& info = *model->state.services->at(port);
    PortReport pr;
    pr.spn = port.String();
    pr.family = IPFamilyName(family);
    pr.address = internal::PortAddress(info);
    pr.summary = internal::PortSummary(info);

    ipt::RulesetConfig config;
    if (shape.large_cluster) {
      config.large_cluster_endpoints_threshold = 0;
      pr.notes.push_back(
          "the node's endpoint chains carry no comments: kube-proxy's large-cluster mode "
          "(over 1000 endpoints), expected without comments too");
    }
    config.localhost_nodeports = shape.localhost_nodeports;
    if (info.node_port != 0 && !shape.localhost_nodeports && family == IPFamily::kIPv4) {
      pr.notes.push_back(
          "no localhost NodePort rules on this node (--iptables-localhost-nodeports=false or "
          "no nfacct counter): none expected");
    }
    config.family = family;
    config.node_ip = model->node_ip;
    config.masquerade_all = options.masquerade_all;
    config.masquerade_bit = options.masquerade_bit;
    std::string cidr = options.cluster_cidr;
    if (cidr.empty() && !options.masquerade_all) {
      cidr = InferClusterCidr(
          live, ipt::ServicePortPolicyClusterChain(pr.spn, ipt::LowerProtocol(port.protocol)));
      pr.notes.push_back(
          cidr.empty()
              ? "no --cluster-cidr given and none in the live rules: no masquerade rule expected"
              : absl::StrCat("cluster CIDR ", cidr,
                             " taken from the live masquerade rule (--cluster-cidr to check it)"));
    }
    if (!cidr.empty()) config.local_detector = ipt::LocalTrafficDetector::ClusterCIDR(cidr);
    absl::StatusOr<std::unique_ptr<ipt::RulesetGenerator>> generator =
        ipt::RulesetGenerator::Create(config);
    if (!generator.ok()) return generator.status();
    ipt::Ruleset expected_payload =
        (*generator)->Generate(internal::OnePort(*model, port), ipt::GenerateRequest{});
    absl::StatusOr<SavedRuleset> expected = ParseIptablesSave(expected_payload.payload);
    if (!expected.ok()) {
      return absl::InternalError(
          absl::StrCat("parsing the generator's own payload: ", expected.status().message()));
    }
    PortTracer(*model, port, live, *expected, pr).Run();
    report.ports.push_back(std::move(pr));
  }
  return report;
}

void MergeReport(Report& into, Report other) {
  for (PortReport& p : other.ports) into.ports.push_back(std::move(p));
}

}  // namespace kslice::proxy::trace
