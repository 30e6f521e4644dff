// NetlinkApplier: applies a partial-sync transaction as one nf_tables netlink batch
// (libnftnl + libmnl), without running nft.
//
// Why: nft fetches the table's chains and sets from the kernel before it evaluates an
// `add rule` or `add element`, so with kube-proxy's layout (one chain per endpoint) a
// one-service change costs a dump of ~110k chains at 10k services x 10 endpoints
// (docs/nftables.md). A batch built here goes straight to the kernel; its cost depends
// on the size of the change only. The kernel applies a batch atomically, as nft -f.
//
// Input is the text NftablesBackend writes for partial syncs — one statement per line,
// a closed set of shapes:
//
//   add chain|flush chain|delete chain FAMILY kube-proxy NAME
//   delete set FAMILY kube-proxy NAME
//   add element|delete element FAMILY kube-proxy SET { KEY [comment "C"] [: VERDICT] }
//   add rule FAMILY kube-proxy CHAIN RULE, RULE one of
//     goto|jump C
//     ip daddr A [ip saddr != CIDR] jump|goto C
//     ip saddr A jump|goto C
//     numgen random mod N == 0 goto|jump C
//     meta l4proto P dnat to A:PORT           (IPv6: [A]:PORT; "ip6" for "ip")
//
// Anything else (affinity sets and their rules, fib, firewall sets, rule comments) makes
// Apply return Unimplemented before anything is sent; the caller then uses nft.
#ifndef KSLICE_PROXY_NFTABLES_NETLINK_APPLIER_H_
#define KSLICE_PROXY_NFTABLES_NETLINK_APPLIER_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proxy/types.h"

struct mnl_socket;

namespace kslice::proxy::nftables {

class NetlinkApplier {
 public:
  // Opens a NETLINK_NETFILTER socket in the calling thread's network namespace.
  // Unavailable when that is not possible (no permission).
  static absl::StatusOr<std::unique_ptr<NetlinkApplier>> Create(IPFamily family);
  ~NetlinkApplier();

  // Unimplemented: `text` has a statement outside the supported shapes (nothing sent).
  // Unavailable: the kernel refused the batch (nothing applied), with the first error.
  absl::Status Apply(absl::string_view text);

 private:
  NetlinkApplier(IPFamily family, mnl_socket* socket);

  IPFamily family_;
  mnl_socket* socket_;  // owned
  unsigned int port_id_ = 0;
  uint32_t seq_ = 1;
};

}  // namespace kslice::proxy::nftables

#endif  // KSLICE_PROXY_NFTABLES_NETLINK_APPLIER_H_
