// RulesetGenerator: a ProxyState snapshot -> the exact `iptables-restore` input that
// kube-proxy's iptables mode writes for it (pkg/proxy/iptables/proxier.go,
// syncProxyRules), for one IP family.
//
// The payload is `*filter` ... `COMMIT` then `*nat` ... `COMMIT`, meant for
// `iptables-restore --noflush --counters`: every chain it names with a `:CHAIN - [0:0]`
// line is created or flushed and refilled; other chains of the tables are left alone.
// Per table all chain lines precede all rules. Layout and rule order are kube-proxy's:
//
//   filter chains  KUBE-SERVICES KUBE-EXTERNAL-SERVICES KUBE-FORWARD KUBE-NODEPORTS
//                  KUBE-PROXY-FIREWALL [KUBE-FIREWALL]
//   filter rules   KUBE-FIREWALL rule, per-service REJECT/DROP/ACCEPT rules, KUBE-FORWARD
//   nat chains     KUBE-SERVICES KUBE-NODEPORTS KUBE-POSTROUTING KUBE-MARK-MASQ, then per
//                  service EXT/FW/SVC/SVL/SEP chains, then stale chains
//   nat rules      KUBE-POSTROUTING, KUBE-MARK-MASQ, per-service rules, `-X <stale>`,
//                  and the KUBE-SERVICES -> KUBE-NODEPORTS tail rule last
//
// Services are emitted in ServicePortMap order (sorted by ServicePortName), where
// kube-proxy uses Go's random map order; only the per-service order is kube-proxy's.
//
// Partial syncs (`full` false): the fixed chains, KUBE-SERVICES, KUBE-NODEPORTS and the
// whole filter table are always rewritten, but the EXT/FW/SVC/SVL/SEP chains of services
// not in `changed_services` are left out (they stay as programmed thanks to --noflush).
// They still count as active, so they are not deleted as stale.
//
// Stale chains: every per-service chain (chain_names.h prefixes) in
// `existing_nat_chains` that this state does not use is flushed and deleted (`-X`); without
// that set, the chains the previous call used and this one does not.
//
// The payload is a function of (state, config, request) — except that, without
// `existing_nat_chains`, the `-X` lines depend on the previous call. The generator keeps
// caches between calls (chain-name hashes, the rendered text of every service port,
// probability strings), so unchanged services cost a copy: reuse one generator per
// backend. Not thread-safe.
#ifndef KSLICE_PROXY_IPTABLES_RULESET_H_
#define KSLICE_PROXY_IPTABLES_RULESET_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proxy/iptables/line_buffer.h"
#include "proxy/types.h"

namespace kslice::proxy::iptables {

// How "traffic from inside the cluster" is recognised (kube-proxy --detect-local-mode).
struct LocalTrafficDetector {
  enum class Mode {
    kNone,                 // no detection: no pod-traffic masquerade exemption
    kClusterCIDR,          // value: the cluster CIDR of this family
    kNodeCIDR,             // value: this node's pod CIDR
    kBridgeInterface,      // value: bridge interface name
    kInterfaceNamePrefix,  // value: interface name prefix ("veth")
  };
  Mode mode = Mode::kNone;
  std::string value;

  static LocalTrafficDetector None() { return {}; }
  static LocalTrafficDetector ClusterCIDR(std::string cidr) {
    return {Mode::kClusterCIDR, std::move(cidr)};
  }

  bool IsImplemented() const { return mode != Mode::kNone; }
  // Match for local traffic: "-s 10.0.0.0/8", "-i cbr0", "-i veth+"; "" for kNone.
  std::string IfLocal() const;
  // Its negation: "! -s 10.0.0.0/8", "! -i cbr0", "! -i veth+"; "" for kNone.
  std::string IfNotLocal() const;
};

// Everything besides the ProxyState that shapes the rules. Defaults are kube-proxy's
// defaults on a current kernel and iptables.
struct RulesetConfig {
  IPFamily family = IPFamily::kIPv4;
  // This node's IP of `family` (""): LB source ranges containing it also admit
  // traffic sourced from the LB IPs (a VIP looped back by the node itself).
  std::string node_ip;
  LocalTrafficDetector local_detector;
  bool masquerade_all = false;  // --masquerade-all
  int masquerade_bit = 14;      // mark = 1 << bit, printed as Go's %#08x ("0x00004000")
  // --iptables-localhost-nodeports; ignored (false) for IPv6, as in kube-proxy.
  bool localhost_nodeports = true;
  // iptables supports MASQUERADE --random-fully (iptables >= 1.6.2).
  bool random_fully = true;
  // sysctl net/netfilter/nf_conntrack_tcp_be_liberal != 0: no INVALID drop rule.
  bool conntrack_tcp_be_liberal = false;
  // nfacct counters that exist (kube-proxy adds `-m nfacct` only for those it created).
  bool nfacct_ct_state_invalid = true;     // ct_state_invalid_dropped_pkts
  bool nfacct_localhost_nodeports = true;  // localhost_nps_accepted_pkts
  // --nodeport-addresses resolved to this node's IPs of `family`; empty means all
  // local addresses (the `-m addrtype --dst-type LOCAL` tail rule).
  std::vector<std::string> nodeport_ips;
  // Above this many endpoints (over all service ports) SEP and SVC->SEP rules lose
  // their comments ("large cluster mode").
  size_t large_cluster_endpoints_threshold = 1000;
};

// What to generate in one call.
struct GenerateRequest {
  bool full = true;
  // "<namespace>/<name>" of services whose per-service chains must be rewritten in a
  // partial sync. Ignored when `full`. Not owned; may be null (nothing changed).
  const std::set<std::string>* changed_services = nullptr;
  // Chains currently in the nat table (or everything the caller programmed there).
  // Per-service chains among them that are no longer used are deleted. Not owned.
  // Null: compare with the chains of this generator's previous call instead, which is
  // right only when the previous payload was applied successfully; it costs time
  // proportional to what changed, where a set costs time proportional to its size.
  const absl::flat_hash_set<std::string>* existing_nat_chains = nullptr;
};

struct Ruleset {
  std::string payload;  // the iptables-restore input (both tables)
  // Per-service nat chains in use after this sync (including unchanged services' chains
  // left out by a partial sync); the names are RulesetGenerator::active_nat_chains().
  size_t active_chain_count = 0;
  // Active chains not in request.existing_nat_chains (all of them when that is null),
  // sorted: what a caller tracking the programmed chains adds after a successful apply.
  std::vector<std::string> new_chains;
  // Stale chains this payload deletes, sorted: what such a caller removes.
  std::vector<std::string> deleted_chains;
  size_t filter_chain_lines = 0;
  size_t filter_rule_lines = 0;
  size_t nat_chain_lines = 0;
  size_t nat_rule_lines = 0;     // including `-X` lines
  size_t skipped_nat_rules = 0;  // rules of unchanged services left out (partial sync)
  size_t total_endpoints = 0;
  bool large_cluster_mode = false;
  // Services whose internal / external traffic policy is Local but which have no
  // local endpoints (kubeproxy_sync_proxy_rules_no_local_endpoints_total).
  int no_local_endpoints_internal = 0;
  int no_local_endpoints_external = 0;

  // kube-proxy's kubeproxy_sync_proxy_rules_iptables_total{table="nat"}.
  size_t NatRulesTotal() const {
    return nat_rule_lines + skipped_nat_rules - deleted_chains.size();
  }
};

// 1/n formatted as kube-proxy does (Go "%0.10f"): 0.5000000000, 0.3333333333.
std::string ComputeProbability(int n);

// The masquerade mark 1<<bit as Go's "%#08x": 0x00004000 for bit 14.
std::string MasqueradeMark(int bit);

class RulesetGenerator {
 public:
  // InvalidArgument for a masquerade bit outside [0, 31] or an unusable detector.
  static absl::StatusOr<std::unique_ptr<RulesetGenerator>> Create(RulesetConfig config);

  const RulesetConfig& config() const { return config_; }

  // Builds the payload for `state` (whose family must be config().family).
  Ruleset Generate(const ProxyState& state, const GenerateRequest& request);

  // The per-service nat chains the last Generate uses. The views stay valid until the
  // next Generate call or the generator's destruction.
  const absl::flat_hash_set<absl::string_view>& active_nat_chains() const { return active_; }

 private:
  explicit RulesetGenerator(RulesetConfig config);

  // Everything the generator remembers about one service port between calls: its chain
  // names and, for the last (info, endpoints, node, large-cluster mode) it was rendered
  // for, the rendered rules. An unchanged service port is not rendered again: its text
  // is copied, which is what makes full syncs of large clusters cheap.
  struct PortCache {
    std::string spn;       // ServicePortName::String()
    std::string protocol;  // lower case
    std::string svc, svl, ext, fw;
    // Per endpoint of `endpoints` (same index): "ip:port" and its KUBE-SEP chain.
    EndpointListPtr endpoints;
    std::vector<std::string> ep_strings;
    std::vector<std::string> sep_chains;

    bool rendered = false;
    ServicePortInfoPtr info;  // what the output below was rendered for
    uint64_t node_epoch = 0;
    bool large_cluster_mode = false;
    LineBuffer filter_rules;       // filter table rules
    LineBuffer nat_service_rules;  // KUBE-SERVICES / KUBE-NODEPORTS rules (always written)
    LineBuffer nat_chains;         // the service's own chains (left out when unchanged)
    LineBuffer nat_rules;          // rules of those chains
    std::vector<const std::string*> active_chains;  // point into the names above
    int no_local_internal = 0;
    int no_local_external = 0;
  };
  // Takes the port's chains out of active_ (into retired_) before they change.
  void Retire(PortCache& pc);
  // Fills in the names of a new entry and follows a change of endpoint list.
  void Prepare(PortCache& pc, const ServicePortName& name, const EndpointListPtr& endpoints);
  void Render(PortCache& pc, const ServicePortInfo& svc, const NodeContext& node, bool comments);
  const std::string& Probability(size_t n);

  RulesetConfig config_;
  std::string mark_;        // "0x00004000"
  std::string mark_match_;  // "0x00004000/0x00004000"
  std::string if_local_, if_not_local_;
  std::vector<std::string> probabilities_;  // index n -> ComputeProbability(n)
  std::map<ServicePortName, PortCache> ports_;
  NodeContext node_;         // the node context rendered outputs are valid for
  uint64_t node_epoch_ = 1;  // bumped when it changes
  // Chains of all rendered service ports (views into ports_), kept up to date as ports
  // are rendered or dropped; see active_nat_chains().
  absl::flat_hash_set<absl::string_view> active_;
  std::vector<std::string> retired_;  // chains taken out of active_ in this call
};

}  // namespace kslice::proxy::iptables

#endif  // KSLICE_PROXY_IPTABLES_RULESET_H_
