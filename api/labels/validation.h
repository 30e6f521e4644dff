// Syntax checks for label keys and values, as the Kubernetes API applies them.
//
//   label key ("qualified name"):  [prefix "/"] name
//     prefix  an RFC 1123 DNS subdomain (lower case), at most 253 characters
//     name    1..63 characters from [A-Za-z0-9_.-], starting and ending alphanumeric
//   label value: empty, or 1..63 characters with the same rules as a key's name part
//
// Each Is* function returns the list of problems found, empty when the input is valid,
// so callers can report everything wrong with a value at once.
#ifndef KSLICE_API_LABELS_VALIDATION_H_
#define KSLICE_API_LABELS_VALIDATION_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace kslice::labels {

inline constexpr std::size_t kQualifiedNameMaxLength = 63;
inline constexpr std::size_t kLabelValueMaxLength = 63;
inline constexpr std::size_t kDNS1123SubdomainMaxLength = 253;

// An RFC 1123 subdomain: dot-separated labels of [a-z0-9-], each starting and ending
// with [a-z0-9]; at most 253 characters overall.
std::vector<std::string> IsDNS1123Subdomain(std::string_view value);

// A label key / annotation key / finalizer name: see the file comment.
std::vector<std::string> IsQualifiedName(std::string_view value);

// A label value: see the file comment. The empty string is valid.
std::vector<std::string> IsValidLabelValue(std::string_view value);

// The checks above as a Status: InvalidArgument naming the offending text, or OK.
absl::Status ValidateLabelKey(std::string_view key);
absl::Status ValidateLabelValue(std::string_view key, std::string_view value);

}  // namespace kslice::labels

#endif  // KSLICE_API_LABELS_VALIDATION_H_
