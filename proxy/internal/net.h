// IP address and CIDR helpers for the proxy: parse sloppily as Kubernetes does
// (netutils.ParseIPSloppy accepts IPv4 octets with leading zeros, read as decimal), and
// print canonically as Go's net.IP.String() / net.IPNet.String() do.
#ifndef KSLICE_PROXY_INTERNAL_NET_H_
#define KSLICE_PROXY_INTERNAL_NET_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "proxy/types.h"

namespace kslice::proxy::internal {

struct ParsedIP {
  std::string text;  // canonical form: "10.0.0.1", "fd00::1"
  IPFamily family = IPFamily::kIPv4;
};

// The canonical form and family of an IP address; nullopt when `s` is not one.
// IPv4-mapped IPv6 addresses ("::ffff:1.2.3.4") are IPv4, as in Go.
std::optional<ParsedIP> ParseIP(absl::string_view s);

// The network of a CIDR in canonical form with host bits cleared ("10.0.0.0/8"), and
// its family; nullopt when `s` is not a CIDR.
std::optional<ParsedIP> ParseCIDR(absl::string_view s);

}  // namespace kslice::proxy::internal

#endif  // KSLICE_PROXY_INTERNAL_NET_H_
