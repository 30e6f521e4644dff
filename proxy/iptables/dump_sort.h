// Test helper: puts an iptables-restore payload into the canonical order kube-proxy's
// own tests compare in (proxier_test.go sortIPTablesRules), so that expected dumps
// transcribed from those tests can be compared byte for byte:
//
//  - tables by name (filter before nat);
//  - chain lines: KUBE-NODEPORTS, KUBE-SERVICES, then other KUBE-* chains
//    alphabetically, then non-KUBE chains alphabetically;
//  - rules grouped by chain in that order, keeping their relative order, except that
//    the rules of KUBE-NODEPORTS and KUBE-SERVICES are stably sorted by the service name
//    in their comment (up to the first space or colon), the nat KUBE-SERVICES
//    "must be the last rule" rule staying last;
//  - `-X` lines after the rules, sorted.
#ifndef KSLICE_PROXY_IPTABLES_DUMP_SORT_H_
#define KSLICE_PROXY_IPTABLES_DUMP_SORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kslice::proxy::iptables {

// InvalidArgument for a line outside a table or a table without COMMIT.
absl::StatusOr<std::string> SortRestorePayload(absl::string_view payload);

}  // namespace kslice::proxy::iptables

#endif  // KSLICE_PROXY_IPTABLES_DUMP_SORT_H_
