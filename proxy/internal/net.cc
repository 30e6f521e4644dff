#include "proxy/internal/net.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include <vector>

namespace kslice::proxy::internal {
namespace {

// Dotted-decimal IPv4 with 1-3 digit decimal octets (leading zeros allowed).
bool ParseIPv4Sloppy(absl::string_view s, uint8_t out[4]) {
  std::vector<absl::string_view> parts = absl::StrSplit(s, '.');
  if (parts.size() != 4) return false;
  for (int i = 0; i < 4; ++i) {
    absl::string_view p = parts[i];
    if (p.empty() || p.size() > 3) return false;
    int v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
    out[i] = static_cast<uint8_t>(v);
  }
  return true;
}

std::string FormatIPv4(const uint8_t b[4]) {
  return absl::StrCat(b[0], ".", b[1], ".", b[2], ".", b[3]);
}

std::string FormatIPv6(const uint8_t b[16]) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, b, buf, sizeof(buf)) == nullptr) return "";
  return buf;
}

// Parses into 16 bytes; sets *v4 when the address is IPv4 (dotted or v4-mapped).
bool ParseBytes(absl::string_view s, uint8_t out[16], bool* v4) {
  if (s.find(':') == absl::string_view::npos) {
    uint8_t b[4];
    if (!ParseIPv4Sloppy(s, b)) return false;
    std::memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    std::memcpy(out + 12, b, 4);
    *v4 = true;
    return true;
  }
  std::string z(s);
  if (inet_pton(AF_INET6, z.c_str(), out) != 1) return false;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  *v4 = std::memcmp(out, kMapped, 12) == 0;
  return true;
}

}  // namespace

std::optional<ParsedIP> ParseIP(absl::string_view s) {
  uint8_t b[16];
  bool v4 = false;
  if (!ParseBytes(s, b, &v4)) return std::nullopt;
  if (v4) return ParsedIP{FormatIPv4(b + 12), IPFamily::kIPv4};
  return ParsedIP{FormatIPv6(b), IPFamily::kIPv6};
}

std::optional<ParsedIP> ParseCIDR(absl::string_view s) {
  size_t slash = s.find('/');
  if (slash == absl::string_view::npos) return std::nullopt;
  absl::string_view len_text = s.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 3) return std::nullopt;
  for (char c : len_text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int len = 0;
  if (!absl::SimpleAtoi(len_text, &len)) return std::nullopt;
  uint8_t b[16];
  bool v4 = false;
  absl::string_view addr = s.substr(0, slash);
  if (!ParseBytes(addr, b, &v4)) return std::nullopt;
  // Go: an IPv4-mapped address written in IPv6 form keeps the IPv6 prefix length.
  bool written_v4 = addr.find(':') == absl::string_view::npos;
  int bits = written_v4 ? 32 : 128;
  if (len > bits) return std::nullopt;
  int total = written_v4 ? len + 96 : len;
  for (int i = 0; i < 16; ++i) {
    int keep = total - i * 8;
    if (keep >= 8) continue;
    b[i] &= keep <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
  }
  if (written_v4) return ParsedIP{absl::StrCat(FormatIPv4(b + 12), "/", len), IPFamily::kIPv4};
  if (v4) {
    // ::ffff:a.b.c.d/len: Go prints the IPv4 network with len-96 when len >= 96.
    if (len >= 96) {
      return ParsedIP{absl::StrCat(FormatIPv4(b + 12), "/", len - 96), IPFamily::kIPv4};
    }
  }
  return ParsedIP{absl::StrCat(FormatIPv6(b), "/", len), IPFamily::kIPv6};
}

}  // namespace kslice::proxy::internal
