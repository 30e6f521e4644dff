// The string checks of k8s.io/apimachinery/pkg/util/validation, with upstream's messages.
//
// Each Is* function returns the problems found (empty = valid), worded exactly as the
// API server words them, so callers turn each into one field error:
//
//   for (const std::string& msg : IsDNS1123Label(name)) errs.push_back(Invalid(path, name, msg));
//
// Internal to envtest/validation; not a public API.
#ifndef KSLICE_ENVTEST_VALIDATION_CHECKS_H_
#define KSLICE_ENVTEST_VALIDATION_CHECKS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kslice::envtest::validation::internal {

// [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters; "must not contain dots" for a
// valid subdomain.
std::vector<std::string> IsDNS1123Label(std::string_view value);
// Dot-separated DNS-1123 labels, at most 253 characters.
std::vector<std::string> IsDNS1123Subdomain(std::string_view value);
// [a-z]([-a-z0-9]*[a-z0-9])?, at most 63 characters.
std::vector<std::string> IsDNS1035Label(std::string_view value);
// A label key / qualified name: [prefix/]name.
std::vector<std::string> IsQualifiedName(std::string_view value);
// A label value: empty or a name of at most 63 characters.
std::vector<std::string> IsValidLabelValue(std::string_view value);
// 1..65535.
std::vector<std::string> IsValidPortNum(int64_t port);
// An IANA_SVC_NAME: at most 15 characters of [-a-z0-9], a letter, no "--", no hyphen at an end.
std::vector<std::string> IsValidPortName(std::string_view port);
// [-._a-zA-Z0-9]+, at most 253 characters, not "." / ".." / "..*".
std::vector<std::string> IsConfigMapKey(std::string_view value);

// "must be between lo and hi, inclusive".
std::string InclusiveRangeError(int64_t lo, int64_t hi);

// NameIsDNSSubdomain / NameIsDNSLabel / NameIsDNS1035Label: for a generateName prefix
// (`prefix` true) a trailing '-' is ignored.
std::vector<std::string> NameIsDNSSubdomain(std::string_view name, bool prefix);
std::vector<std::string> NameIsDNSLabel(std::string_view name, bool prefix);
std::vector<std::string> NameIsDNS1035Label(std::string_view name, bool prefix);

// An IP address as Go's net.ParseIP reads it (IPv4 dotted quad with decimal parts that
// may have leading zeros, or IPv6 including IPv4-mapped forms): 4 or 16 bytes.
struct ParsedIP {
  bool is_v4 = false;         // written as a dotted quad (or mapped ::ffff:a.b.c.d)
  bool is_v4_mapped = false;  // IPv6 text that holds an IPv4 address
  bool has_leading_zero = false;
  uint8_t bytes[16] = {};      // IPv4 in the last four bytes, with ::ffff: prefix
  std::string String() const;  // Go's net.IP.String()
  bool IsUnspecified() const;
  bool IsLoopback() const;
  bool IsLinkLocalUnicast() const;
  bool IsLinkLocalMulticast() const;
  bool Is4() const;  // To4() != nil
};
std::optional<ParsedIP> ParseIPSloppy(std::string_view text);

// Upstream's strict IsValidIP messages (not an IP; leading zeros; IPv4-mapped; not
// canonical).
std::vector<std::string> IsValidIPStrict(std::string_view value);

// A CIDR "a.b.c.d/n" or "x::/n" (sloppy, as net.ParseCIDR).
bool IsCIDR(std::string_view value);

}  // namespace kslice::envtest::validation::internal

#endif  // KSLICE_ENVTEST_VALIDATION_CHECKS_H_
