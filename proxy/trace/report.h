// What kslice-trace found for one Service on one node: the path traffic takes through
// the node's rules, per service port, annotated with what the EndpointSlices say, and
// the drift between those rules and what the proxy would program. Produced by
// TraceIptables / TraceNftables (trace.h), printed by RenderText / RenderJson.
#ifndef KSLICE_PROXY_TRACE_REPORT_H_
#define KSLICE_PROXY_TRACE_REPORT_H_

#include <string>
#include <vector>

namespace kslice::proxy::trace {

// One endpoint of a service port as the EndpointSlices describe it, and what the
// proxy's endpoint selection (CategorizeEndpoints) does with it on this node.
struct EndpointNote {
  std::string endpoint;  // "ip:port"
  bool in_slices = false;
  bool ready = false, serving = false, terminating = false;
  std::string node, zone;
  bool local = false;
  // "cluster", "local", "cluster+local", or "unused" (not ready and not a
  // serving-terminating fallback, or filtered out by topology / traffic policy).
  std::string usage;

  // "ready, node lab-worker2, zone zone-b" / "not in any EndpointSlice".
  std::string Describe() const;
};

// One rule of a chain on the path, explained.
struct Step {
  int number = 0;        // 1-based position in its chain
  std::string rule;      // as iptables-save prints it, or nft's text
  std::string what;      // plain-language explanation
  std::string target;    // the chain or verdict it leads to ("" if none)
  // A load-balancing branch to an endpoint chain.
  bool branch = false;
  bool affinity = false;        // a session-affinity (recent / affinity set) branch
  std::string probability;      // as the kernel holds it, "" for the catch-all
  double share = -1;            // the fraction of new connections reaching it; -1 n/a
  std::string endpoint;         // "ip:port" the endpoint chain DNATs to, "" unknown
};

struct ChainTrace {
  std::string table;  // "nat", "filter", or the nft table
  std::string name;
  std::string role;   // "service (cluster policy)", "endpoint 192.168.156.5:80", ...
  std::vector<Step> steps;
};

// A way into the service: a rule in KUBE-SERVICES / KUBE-NODEPORTS (or an element of
// nft's service-ips / service-nodeports maps) for this service port.
struct Entry {
  std::string kind;   // "cluster IP", "external IP", "loadbalancer IP", "nodePort", ...
  std::string table, chain;
  std::string rule;
  std::string what;
  std::string target;
};

struct Drift {
  // missing-endpoint, extra-endpoint, wrong-probability, unequal-shares,
  // missing-service-rule, chain-name, missing-reject, missing-rule, extra-rule,
  // missing-chain, stale-chain, dangling-jump.
  std::string kind;
  std::string message;
};

struct PortReport {
  std::string spn;        // "default/nginx-service:http"
  std::string family;     // "IPv4" / "IPv6"
  std::string address;    // "10.96.204.67:80/TCP"
  std::string summary;    // type, policies, affinity
  std::vector<EndpointNote> endpoints;
  std::vector<Entry> entries;
  std::vector<ChainTrace> chains;
  std::vector<Drift> drift;
  std::vector<std::string> notes;  // assumptions made (inferred cluster CIDR, ...)
};

struct Report {
  std::string service;  // "default/nginx-service"
  std::string node;
  std::string mode;     // "iptables" / "nftables"
  std::vector<PortReport> ports;

  size_t DriftCount() const;
};

// The report as text (the manual trace of the seed, computed) and as a JSON document
// with the same content, for tools.
std::string RenderText(const Report& report);
std::string RenderJson(const Report& report);

}  // namespace kslice::proxy::trace

#endif  // KSLICE_PROXY_TRACE_REPORT_H_
