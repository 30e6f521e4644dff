// kslice-trace's engine: how traffic to one Service flows through a node's rules, and
// where those rules differ from what the proxy would program there.
//
//   TraceInput in;  in.service = svc;  in.slices = slices;  in.node_name = "lab-worker";
//   absl::StatusOr<SavedRuleset> live = ParseIptablesSave(iptables_save_output);
//   absl::StatusOr<Report> r = TraceIptables(in, IPFamily::kIPv4, *live, {});
//   std::cout << RenderText(*r);   // r->DriftCount() > 0: the node has drifted
//
// One mechanism for the iptables mode: the Service and its slices go through the
// proxy's own change trackers into a ProxyState, the proxy's own RulesetGenerator
// writes the rules kube-proxy (and kslice-proxy) would have for it, and both the
// expected and the live rules are parsed by the same parser (iptables_save.h) and
// compared in the canonical form. The live chains are walked from the service's
// entry rules (KUBE-SERVICES / KUBE-NODEPORTS) for the explanation; the expected ones
// name what is missing. Drift is classified where a specific cause can be told
// (endpoint missing or extra, wrong probability, unequal shares, wrong chain hash,
// missing KUBE-SERVICES rule, missing REJECT), and otherwise reported rule by rule.
//
// The nftables mode (TraceNftables) reads upstream kube-proxy's `ip kube-proxy` table
// layout (pkg/proxy/nftables/proxier.go) from `nft -j list table ip kube-proxy`: the
// service-ips / service-nodeports verdict maps, service-<hash>-ns/name/proto/port
// chains, the numgen vmap and endpoint-<hash>-... chains with their dnat. Expected
// endpoints come from the same trackers and CategorizeEndpoints; chain names are
// checked against upstream's hash. There is no nftables generator to diff against yet,
// so its checks are the endpoint set, names, shares and the no-endpoint verdicts.
#ifndef KSLICE_PROXY_TRACE_TRACE_H_
#define KSLICE_PROXY_TRACE_TRACE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "proxy/trace/iptables_save.h"
#include "proxy/trace/nft_json.h"
#include "proxy/trace/report.h"
#include "proxy/types.h"

namespace kslice::proxy::trace {

struct TraceInput {
  // The Service (required, as the API server returns it: defaulted).
  std::shared_ptr<const api::core::v1::Service> service;
  // Its EndpointSlices; slices of other services are ignored (label
  // kubernetes.io/service-name), as the proxy ignores them.
  std::vector<std::shared_ptr<const api::discovery::v1::EndpointSlice>> slices;
  // This node's Node object, or null (then no labels: no zone).
  std::shared_ptr<const api::core::v1::Node> node;
  std::string node_name;  // required
  std::string port_name;  // only this service port when not empty
};

struct TraceOptions {
  // The proxy's --cluster-cidr of the traced family. "" = take it from the live
  // masquerade rule (`! -s CIDR -j KUBE-MARK-MASQ` in a KUBE-SVC chain) if there is one.
  std::string cluster_cidr;
  bool masquerade_all = false;  // --masquerade-all
  int masquerade_bit = 14;      // --iptables-masquerade-bit
};

// Traces the iptables rules. `live` holds at least the nat table (and the filter table
// for REJECT/DROP rules; without it those are not checked and a note says so).
// InvalidArgument when the service port named in `in.port_name` does not exist, the
// Service is of type ExternalName, or `live` has no nat table. A Service without a
// ClusterIP of `family` (headless, the other family only) gives a Report without ports.
absl::StatusOr<Report> TraceIptables(const TraceInput& in, IPFamily family,
                                     const SavedRuleset& live, const TraceOptions& options);

// Traces upstream kube-proxy's nftables table.
absl::StatusOr<Report> TraceNftables(const TraceInput& in, IPFamily family,
                                     const NftRuleset& live, const TraceOptions& options);

// The Report of several families merged (ports appended).
void MergeReport(Report& into, Report other);

}  // namespace kslice::proxy::trace

#endif  // KSLICE_PROXY_TRACE_TRACE_H_
