#include "envtest/validation/checks.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace kslice::envtest::validation::internal {
namespace {

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool MatchesDNS1123Label(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

bool MatchesDNS1123Subdomain(std::string_view s) {
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = s.find('.', start);
    if (!MatchesDNS1123Label(s.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchesLabelKeyName(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::string MaxLenError(int length) {
  return absl::StrCat("must be no more than ", length, " characters");
}
std::string MaxLenBytesError(int length) {
  return absl::StrCat("must be no more than ", length, " bytes");
}

constexpr char kDNS1123LabelFmt[] = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr char kDNS1123SubdomainFmt[] =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr char kLabelKeyFmt[] = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

std::string LabelMsg() {
  return absl::StrCat(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
      "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
      "regex used for validation is '",
      kDNS1123LabelFmt, "')");
}

std::string SubdomainMsg() {
  return absl::StrCat(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
      "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
      "regex used for validation is '",
      kDNS1123SubdomainFmt, "')");
}

std::string LabelKeyNameMsg() {
  return absl::StrCat(
      "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
      "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
      "validation is '",
      kLabelKeyFmt, "')");
}

bool HasHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Go 1.16's parseIPv4: four decimal fields 0..255 (leading zeros accepted).
bool ParseV4(std::string_view s, uint8_t out[4], bool* leading_zero) {
  int field = 0;
  std::size_t i = 0;
  while (field < 4) {
    if (field > 0) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
    const std::size_t begin = i;
    int n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      n = n * 10 + (s[i] - '0');
      if (n > 0xFFFF) return false;
      ++i;
    }
    if (i == begin || n > 255) return false;
    if (i - begin > 1 && s[begin] == '0') *leading_zero = true;
    out[field++] = static_cast<uint8_t>(n);
  }
  return i == s.size();
}

}  // namespace

std::string InclusiveRangeError(int64_t lo, int64_t hi) {
  return absl::StrCat("must be between ", lo, " and ", hi, ", inclusive");
}

std::vector<std::string> IsDNS1123Label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(MaxLenError(63));
  if (!MatchesDNS1123Label(value)) {
    if (MatchesDNS1123Subdomain(value)) {
      errs.push_back("must not contain dots");
    } else {
      errs.push_back(LabelMsg());
    }
  }
  return errs;
}

std::vector<std::string> IsDNS1123Subdomain(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 253) errs.push_back(MaxLenError(253));
  if (!MatchesDNS1123Subdomain(value)) errs.push_back(SubdomainMsg());
  return errs;
}

std::vector<std::string> IsDNS1035Label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(MaxLenError(63));
  bool ok =
      !value.empty() && value.front() >= 'a' && value.front() <= 'z' && IsLowerAlnum(value.back());
  for (char c : value) ok = ok && (IsLowerAlnum(c) || c == '-');
  if (!ok) {
    errs.push_back(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
  }
  return errs;
}

std::vector<std::string> IsQualifiedName(std::string_view value) {
  std::vector<std::string> errs;
  std::string_view name = value;
  const std::size_t slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      errs.push_back(absl::StrCat("a valid label key ", LabelKeyNameMsg(),
                                  " with an optional DNS subdomain prefix and '/' (e.g. "
                                  "'example.com/MyName')"));
      return errs;
    }
    const std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (const std::string& m : IsDNS1123Subdomain(prefix)) {
        errs.push_back(absl::StrCat("prefix part ", m));
      }
    }
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back(absl::StrCat("name part ", MaxLenBytesError(63)));
  }
  if (!MatchesLabelKeyName(name)) errs.push_back(absl::StrCat("name part ", LabelKeyNameMsg()));
  return errs;
}

std::vector<std::string> IsValidLabelValue(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(MaxLenBytesError(63));
  if (!value.empty() && !MatchesLabelKeyName(value)) {
    errs.push_back(absl::StrCat(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
        "'my_value',  or '12345', regex used for validation is '(",
        kLabelKeyFmt, ")?')"));
  }
  return errs;
}

std::vector<std::string> IsValidPortNum(int64_t port) {
  if (port >= 1 && port <= 65535) return {};
  return {InclusiveRangeError(1, 65535)};
}

std::vector<std::string> IsValidPortName(std::string_view port) {
  std::vector<std::string> errs;
  if (port.size() > 15) errs.push_back(MaxLenError(15));
  bool charset = !port.empty();
  bool letter = false;
  for (char c : port) {
    charset = charset && (IsLowerAlnum(c) || c == '-');
    letter = letter || (c >= 'a' && c <= 'z');
  }
  if (!charset) {
    errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  }
  if (!letter) errs.push_back("must contain at least one letter (a-z)");
  if (port.find("--") != std::string_view::npos) {
    errs.push_back("must not contain consecutive hyphens");
  }
  if (!port.empty() && (port.front() == '-' || port.back() == '-')) {
    errs.push_back("must not begin or end with a hyphen");
  }
  return errs;
}

std::vector<std::string> IsConfigMapKey(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 253) errs.push_back(MaxLenError(253));
  bool ok = !value.empty();
  for (char c : value) ok = ok && (IsAlnum(c) || c == '-' || c == '_' || c == '.');
  if (!ok) {
    errs.push_back(
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
        "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')");
  }
  if (value == ".") {
    errs.push_back("must not be '.'");
  } else if (value == "..") {
    errs.push_back("must not be '..'");
  } else if (value.substr(0, 2) == "..") {
    errs.push_back("must not start with '..'");
  }
  return errs;
}

namespace {
// Upstream's maskTrailingDash: "web-" is checked as "wea" (the last two characters
// become "a").
std::string MaskTrailingDash(std::string_view name) {
  if (name.size() > 1 && name.back() == '-') {
    return absl::StrCat(Sv(name.substr(0, name.size() - 2)), "a");
  }
  return std::string(name);
}
}  // namespace

std::vector<std::string> NameIsDNSSubdomain(std::string_view name, bool prefix) {
  return IsDNS1123Subdomain(prefix ? MaskTrailingDash(name) : std::string(name));
}

std::vector<std::string> NameIsDNSLabel(std::string_view name, bool prefix) {
  return IsDNS1123Label(prefix ? MaskTrailingDash(name) : std::string(name));
}

std::vector<std::string> NameIsDNS1035Label(std::string_view name, bool prefix) {
  return IsDNS1035Label(prefix ? MaskTrailingDash(name) : std::string(name));
}

std::optional<ParsedIP> ParseIPSloppy(std::string_view text) {
  ParsedIP ip;
  if (text.find(':') == std::string_view::npos) {
    uint8_t v4[4] = {0, 0, 0, 0};
    if (!ParseV4(text, v4, &ip.has_leading_zero)) return std::nullopt;
    ip.is_v4 = true;
    ip.bytes[10] = 0xff;
    ip.bytes[11] = 0xff;
    std::memcpy(ip.bytes + 12, v4, 4);
    return ip;
  }
  if (text.size() > 64) return std::nullopt;
  for (char c : text) {
    if (!HasHex(c) && c != ':' && c != '.') return std::nullopt;
  }
  std::string s(text);
  // Go accepts leading zeros in an embedded IPv4 part; inet_pton does not. Re-check
  // the tail ourselves.
  const std::size_t last_colon = s.rfind(':');
  std::string tail = s.substr(last_colon + 1);
  if (tail.find('.') != std::string::npos) {
    uint8_t v4[4] = {0, 0, 0, 0};
    if (!ParseV4(tail, v4, &ip.has_leading_zero)) return std::nullopt;
    s = absl::StrCat(s.substr(0, last_colon + 1), v4[0], ".", v4[1], ".", v4[2], ".", v4[3]);
  }
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes) != 1) return std::nullopt;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  ip.is_v4_mapped = std::memcmp(ip.bytes, kMapped, 12) == 0;
  return ip;
}

bool ParsedIP::Is4() const {
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(bytes, kMapped, 12) == 0;
}

std::string ParsedIP::String() const {
  if (Is4()) return absl::StrCat(bytes[12], ".", bytes[13], ".", bytes[14], ".", bytes[15]);
  uint16_t words[8];
  for (int i = 0; i < 8; ++i)
    words[i] = static_cast<uint16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (words[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && words[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ":";
    absl::StrAppend(&out, absl::Hex(words[i]));
  }
  return out;
}

bool ParsedIP::IsUnspecified() const {
  if (Is4()) return bytes[12] == 0 && bytes[13] == 0 && bytes[14] == 0 && bytes[15] == 0;
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

bool ParsedIP::IsLoopback() const {
  if (Is4()) return bytes[12] == 127;
  for (int i = 0; i < 15; ++i) {
    if (bytes[i] != 0) return false;
  }
  return bytes[15] == 1;
}

bool ParsedIP::IsLinkLocalUnicast() const {
  if (Is4()) return bytes[12] == 169 && bytes[13] == 254;
  return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
}

bool ParsedIP::IsLinkLocalMulticast() const {
  if (Is4()) return bytes[12] == 224 && bytes[13] == 0 && bytes[14] == 0;
  return bytes[0] == 0xff && (bytes[1] & 0x0f) == 0x02;
}

std::vector<std::string> IsValidIPStrict(std::string_view value) {
  std::optional<ParsedIP> ip = ParseIPSloppy(value);
  if (!ip) return {"must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"};
  std::vector<std::string> errs;
  if (ip->has_leading_zero) errs.push_back("must not have leading 0s");
  if (ip->is_v4_mapped) errs.push_back("must not be an IPv4-mapped IPv6 address");
  if (!errs.empty()) return errs;
  const std::string canonical = ip->String();
  if (canonical != value) {
    errs.push_back(absl::StrCat("must be in canonical form (\"", canonical, "\")"));
  }
  return errs;
}

bool IsCIDR(std::string_view value) {
  const std::size_t slash = value.find('/');
  if (slash == std::string_view::npos) return false;
  std::optional<ParsedIP> ip = ParseIPSloppy(value.substr(0, slash));
  if (!ip) return false;
  const std::string_view bits = value.substr(slash + 1);
  if (bits.empty() || bits.size() > 3) return false;
  int n = 0;
  for (char c : bits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  return n <= ((ip->is_v4) ? 32 : 128);
}

}  // namespace kslice::envtest::validation::internal
