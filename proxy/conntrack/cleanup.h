// Stale UDP conntrack entries after a sync, as kube-proxy's conntrack reconciler
// (pkg/proxy/conntrack/cleanup.go, CleanStaleEntries; shared/spec/kube-proxy.md §7).
//
// Why: UDP has no connection end. Once a client's flow to a Service is in the conntrack
// table, its packets keep the DNAT chosen for the first one — to an endpoint that may be
// gone — or, when the first packets came before the Service had endpoints, no DNAT at
// all, until the entry times out (the client keeps it alive by sending). So after the
// dataplane changed, entries that no longer lead to a serving endpoint are deleted and
// the next packet is NATed afresh.
//
// Which entries (StaleFilters): for each UDP service port with at least one *serving*
// endpoint (traffic policy, topology and terminating are ignored: an existing flow is
// kept whenever its endpoint still serves, as a TCP connection would be), the frontends
// ClusterIP:port, each load-balancer IP:port and external IP:port, and *:NodePort, map
// to the set of serving endpoints. An entry whose original destination is such a
// frontend and whose reply source (the DNAT target) is not in the set is deleted. That
// covers both cases above: an endpoint removed, and a flow that was never NATed (its
// reply source is the service IP itself) once the Service has endpoints. Service ports
// without serving endpoints are left alone (nothing better to send the flow to).
//
// Difference from upstream, on purpose: upstream compares the reply source IP only; we
// compare IP and port (an endpoint that stays on the same IP but moved to another
// targetPort leaves DNAT entries to the old port, which are stale too). Only UDP, as
// upstream's reconciler (its older per-change code also cleaned SCTP).
//
//   Conntrack ct(*runner);
//   proxier options.after_sync = [&](const ProxyState& prev, const ProxyState& cur) {
//     if (NeedsCleanup(prev, cur)) CleanStaleEntries(ct, cur);
//   };
#ifndef KSLICE_PROXY_CONNTRACK_CLEANUP_H_
#define KSLICE_PROXY_CONNTRACK_CLEANUP_H_

#include <vector>

#include "absl/status/statusor.h"
#include "proxy/conntrack/conntrack.h"
#include "proxy/types.h"

namespace kslice::proxy::conntrack {

// Whether a sync from `previous` to `current` can have made UDP entries stale: the first
// sync, or a UDP service port added, removed or changed (its info or its endpoints). As
// kube-proxy's iptables mode, which reconciles only when a changed service has UDP.
bool NeedsCleanup(const ProxyState& previous, const ProxyState& current);

// The delete filters for the stale entries among `flows` (any protocol; non-UDP ones are
// ignored), one per distinct (frontend, reply source) pair, sorted. Pure: no I/O.
std::vector<Filter> StaleFilters(const ProxyState& state, const std::vector<Flow>& flows);

struct CleanupResult {
  int filters = 0;  // delete commands run
  int deleted = 0;  // entries the kernel reported deleted
};

// Lists the UDP entries of state.family, computes StaleFilters and deletes them. A failed
// delete does not stop the others; the first error is returned after all were tried
// (the entries are retried on the next cleanup, as upstream leaves them to the next
// reconcile).
absl::StatusOr<CleanupResult> CleanStaleEntries(Conntrack& conntrack, const ProxyState& state);

}  // namespace kslice::proxy::conntrack

#endif  // KSLICE_PROXY_CONNTRACK_CLEANUP_H_
