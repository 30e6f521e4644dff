#include "proxy/iptables/chain_names.h"

#include <openssl/sha.h>

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kslice::proxy::iptables {
namespace {

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// Base32 of the first 10 bytes (80 bits) of `digest`: exactly the first 16 characters
// of the standard encoding of the whole digest, since 10 bytes are 16 whole groups of
// five bits and padding only ever affects the end.
std::string Base32Prefix16(const unsigned char* digest) {
  std::string out(16, '\0');
  for (int group = 0; group < 2; ++group) {
    const unsigned char* b = digest + group * 5;
    uint64_t bits = (uint64_t{b[0]} << 32) | (uint64_t{b[1]} << 24) | (uint64_t{b[2]} << 16) |
                    (uint64_t{b[3]} << 8) | uint64_t{b[4]};
    for (int i = 0; i < 8; ++i) {
      out[group * 8 + i] = kBase32Alphabet[(bits >> (35 - 5 * i)) & 0x1f];
    }
  }
  return out;
}

std::string HashParts(absl::string_view a, absl::string_view b, absl::string_view c) {
  // One-shot SHA256 (the streaming SHA256_Init API is deprecated in OpenSSL 3).
  std::string input;
  input.reserve(a.size() + b.size() + c.size());
  input.append(a.data(), a.size());
  input.append(b.data(), b.size());
  input.append(c.data(), c.size());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return Base32Prefix16(digest);
}

}  // namespace

std::string Hash16(absl::string_view s) { return HashParts(s, "", ""); }

std::string PortProtoHash(absl::string_view service_port_name, absl::string_view protocol) {
  return HashParts(service_port_name, protocol, "");
}

std::string ServicePortPolicyClusterChain(absl::string_view spn, absl::string_view protocol) {
  return absl::StrCat(kServicePortPolicyClusterChainPrefix, PortProtoHash(spn, protocol));
}

std::string ServicePortPolicyLocalChain(absl::string_view spn, absl::string_view protocol) {
  return absl::StrCat(kServicePortPolicyLocalChainPrefix, PortProtoHash(spn, protocol));
}

std::string ServiceFirewallChain(absl::string_view spn, absl::string_view protocol) {
  return absl::StrCat(kServiceFirewallChainPrefix, PortProtoHash(spn, protocol));
}

std::string ServiceExternalChain(absl::string_view spn, absl::string_view protocol) {
  return absl::StrCat(kServiceExternalChainPrefix, PortProtoHash(spn, protocol));
}

std::string ServicePortEndpointChain(absl::string_view spn, absl::string_view protocol,
                                     absl::string_view endpoint) {
  return absl::StrCat(kServicePortEndpointChainPrefix, HashParts(spn, protocol, endpoint));
}

bool IsServiceChainName(absl::string_view chain) {
  for (const char* prefix : {kServicePortPolicyClusterChainPrefix,
                             kServicePortPolicyLocalChainPrefix, kServicePortEndpointChainPrefix,
                             kServiceFirewallChainPrefix, kServiceExternalChainPrefix}) {
    if (absl::StartsWith(chain, prefix)) return true;
  }
  return false;
}

std::string LowerProtocol(absl::string_view protocol) { return absl::AsciiStrToLower(protocol); }

}  // namespace kslice::proxy::iptables
