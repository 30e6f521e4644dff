#include "envtest/apiserver/allocator.h"

#include <arpa/inet.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kslice::envtest::apiserver {

std::optional<uint32_t> ParseIpv4(absl::string_view ip) {
  std::vector<absl::string_view> parts = absl::StrSplit(ip, '.');
  if (parts.size() != 4) return std::nullopt;
  uint32_t out = 0;
  for (absl::string_view p : parts) {
    if (p.empty() || p.size() > 3) return std::nullopt;
    if (p.size() > 1 && p[0] == '0') return std::nullopt;  // Go rejects leading zeros
    uint32_t v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<uint32_t>(c - '0');
    }
    if (v > 255) return std::nullopt;
    out = (out << 8) | v;
  }
  return out;
}

std::string FormatIpv4(uint32_t ip) {
  return absl::StrCat(ip >> 24, ".", (ip >> 16) & 255, ".", (ip >> 8) & 255, ".", ip & 255);
}

RangeAllocator::RangeAllocator(uint64_t base, uint64_t size, uint64_t seed)
    : base_(base),
      size_(size),
      static_size_(std::min<uint64_t>(std::max<uint64_t>(16, size / 16), 256) < size
                       ? std::min<uint64_t>(std::max<uint64_t>(16, size / 16), 256)
                       : 0),
      rng_(seed) {}

absl::Status RangeAllocator::Allocate(uint64_t value) {
  if (value < base_ || value >= base_ + size_) return absl::OutOfRangeError("out of range");
  std::lock_guard<std::mutex> l(mu_);
  if (!used_.insert(value).second) return absl::FailedPreconditionError("already allocated");
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> RangeAllocator::AllocateNext() {
  std::lock_guard<std::mutex> l(mu_);
  if (used_.size() >= size_) return absl::ResourceExhaustedError("range is full");
  // Dynamic band [static_size_, size_) first, then the static band.
  auto scan = [&](uint64_t lo, uint64_t hi) -> std::optional<uint64_t> {
    if (hi <= lo) return std::nullopt;
    uint64_t n = hi - lo;
    uint64_t start = rng_() % n;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t v = base_ + lo + (start + i) % n;
      if (used_.insert(v).second) return v;
    }
    return std::nullopt;
  };
  if (std::optional<uint64_t> v = scan(static_size_, size_)) return *v;
  if (std::optional<uint64_t> v = scan(0, static_size_)) return *v;
  return absl::ResourceExhaustedError("range is full");
}

void RangeAllocator::Release(uint64_t value) {
  std::lock_guard<std::mutex> l(mu_);
  used_.erase(value);
}

bool RangeAllocator::Has(uint64_t value) const {
  std::lock_guard<std::mutex> l(mu_);
  return used_.contains(value);
}

size_t RangeAllocator::Used() const {
  std::lock_guard<std::mutex> l(mu_);
  return used_.size();
}

const char* IpFamilyName(IpFamily family) {
  return family == IpFamily::kIPv4 ? "IPv4" : "IPv6";
}

namespace {

// An IPv6 address in 16 bytes; nullopt when `ip` is not one (IPv4 is not accepted).
std::optional<std::array<uint8_t, 16>> ParseIpv6(absl::string_view ip) {
  if (ip.find(':') == absl::string_view::npos || ip.size() > INET6_ADDRSTRLEN) {
    return std::nullopt;
  }
  std::array<uint8_t, 16> out{};
  std::string text(ip);
  if (inet_pton(AF_INET6, text.c_str(), out.data()) != 1) return std::nullopt;
  return out;
}

std::string FormatIpv6(const std::array<uint8_t, 16>& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET6, ip.data(), buf, sizeof(buf)) == nullptr) return "";
  return buf;
}

uint64_t Low64(const std::array<uint8_t, 16>& a) {
  uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | a[i];
  return v;
}

}  // namespace

std::optional<IpFamily> IpFamilyOf(absl::string_view ip) {
  if (ParseIpv4(ip)) return IpFamily::kIPv4;
  if (ParseIpv6(ip)) return IpFamily::kIPv6;
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<ClusterIpAllocator>> ClusterIpAllocator::Create(
    absl::string_view cidr, uint64_t seed) {
  std::vector<absl::string_view> parts = absl::StrSplit(cidr, '/');
  int bits = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &bits)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid service CIDR \"", cidr, "\""));
  }
  if (std::optional<uint32_t> ip = ParseIpv4(parts[0])) {
    if (bits < 0 || bits > 30) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid service CIDR \"", cidr, "\": want an IPv4 CIDR of /30 or larger"));
    }
    uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    uint32_t network = *ip & mask;
    uint64_t size = uint64_t{1} << (32 - bits);
    std::array<uint8_t, 16> net{};
    for (int i = 0; i < 4; ++i) net[i] = static_cast<uint8_t>(network >> (24 - 8 * i));
    return std::unique_ptr<ClusterIpAllocator>(
        new ClusterIpAllocator(absl::StrCat(FormatIpv4(network), "/", bits), IpFamily::kIPv4,
                               net, size, seed));
  }
  if (std::optional<std::array<uint8_t, 16>> ip = ParseIpv6(parts[0])) {
    if (bits < 108 || bits > 126) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid service CIDR \"", cidr,
          "\": want an IPv6 CIDR of /108 to /126 (a larger range is too large for 128-bit "
          "addresses, as in kube-apiserver)"));
    }
    std::array<uint8_t, 16> net = *ip;
    for (int b = bits; b < 128; ++b) net[b / 8] &= static_cast<uint8_t>(~(0x80u >> (b % 8)));
    uint64_t size = uint64_t{1} << (128 - bits);
    return std::unique_ptr<ClusterIpAllocator>(new ClusterIpAllocator(
        absl::StrCat(FormatIpv6(net), "/", bits), IpFamily::kIPv6, net, size, seed));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid service CIDR \"", cidr, "\": not an IPv4 or IPv6 CIDR"));
}

// IPv4 loses the network and broadcast addresses; IPv6 only the network (subnet-router
// anycast) address, as upstream's allocator does.
ClusterIpAllocator::ClusterIpAllocator(std::string cidr, IpFamily family,
                                       std::array<uint8_t, 16> network, uint64_t size,
                                       uint64_t seed)
    : cidr_(std::move(cidr)),
      family_(family),
      network_(network),
      size_(size),
      range_(1, family == IpFamily::kIPv4 ? size - 2 : size - 1, seed) {}

std::optional<uint64_t> ClusterIpAllocator::OffsetOf(absl::string_view ip) const {
  if (family_ == IpFamily::kIPv4) {
    std::optional<uint32_t> v = ParseIpv4(ip);
    if (!v) return std::nullopt;
    uint32_t net = (uint32_t{network_[0]} << 24) | (uint32_t{network_[1]} << 16) |
                   (uint32_t{network_[2]} << 8) | network_[3];
    if (*v < net || *v - net >= size_) return std::nullopt;
    return *v - net;
  }
  std::optional<std::array<uint8_t, 16>> v = ParseIpv6(ip);
  if (!v) return std::nullopt;
  // The range is at most 2^20 addresses: the first 8 bytes must equal the network's.
  for (int i = 0; i < 8; ++i) {
    if ((*v)[i] != network_[i]) return std::nullopt;
  }
  uint64_t a = Low64(*v), n = Low64(network_);
  if (a < n || a - n >= size_) return std::nullopt;
  return a - n;
}

std::string ClusterIpAllocator::AddressAt(uint64_t offset) const {
  if (family_ == IpFamily::kIPv4) {
    uint32_t net = (uint32_t{network_[0]} << 24) | (uint32_t{network_[1]} << 16) |
                   (uint32_t{network_[2]} << 8) | network_[3];
    return FormatIpv4(static_cast<uint32_t>(net + offset));
  }
  std::array<uint8_t, 16> a = network_;
  uint64_t low = Low64(network_) + offset;  // no carry: the network is aligned
  for (int i = 15; i >= 8; --i) {
    a[i] = static_cast<uint8_t>(low & 0xff);
    low >>= 8;
  }
  return FormatIpv6(a);
}

absl::Status ClusterIpAllocator::Allocate(absl::string_view ip) {
  std::optional<IpFamily> fam = IpFamilyOf(ip);
  if (!fam) return absl::InvalidArgumentError(absl::StrCat(ip, " is not a valid IP"));
  std::optional<uint64_t> offset = OffsetOf(ip);
  if (!offset || *offset < range_.base() || *offset >= range_.base() + range_.size()) {
    return absl::OutOfRangeError(absl::StrCat(
        "provided IP is not in the valid range. The range of valid IPs is ", cidr_));
  }
  if (!range_.Allocate(*offset).ok()) {
    return absl::FailedPreconditionError("provided IP is already allocated");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ClusterIpAllocator::AllocateNext() {
  absl::StatusOr<uint64_t> off = range_.AllocateNext();
  if (!off.ok()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("range is full: no IP addresses left in ", cidr_));
  }
  return AddressAt(*off);
}

void ClusterIpAllocator::Release(absl::string_view ip) {
  if (std::optional<uint64_t> offset = OffsetOf(ip)) range_.Release(*offset);
}

bool ClusterIpAllocator::Contains(absl::string_view ip) const {
  std::optional<uint64_t> offset = OffsetOf(ip);
  return offset && *offset >= range_.base() && *offset < range_.base() + range_.size();
}

std::string ClusterIpAllocator::FirstAddress() const { return AddressAt(1); }

absl::StatusOr<std::vector<std::unique_ptr<ClusterIpAllocator>>> ParseServiceCidrs(
    absl::string_view ranges, uint64_t seed) {
  std::vector<absl::string_view> parts = absl::StrSplit(ranges, ',');
  if (parts.empty() || parts.size() > 2) {
    return absl::InvalidArgumentError(
        "--service-cluster-ip-range must be one CIDR or two of different IP families "
        "(\"10.96.0.0/12,fd00:10:96::/112\")");
  }
  std::vector<std::unique_ptr<ClusterIpAllocator>> out;
  for (absl::string_view p : parts) {
    absl::StatusOr<std::unique_ptr<ClusterIpAllocator>> a =
        ClusterIpAllocator::Create(absl::StripAsciiWhitespace(p), seed);
    if (!a.ok()) return a.status();
    out.push_back(*std::move(a));
  }
  if (out.size() == 2 && out[0]->family() == out[1]->family()) {
    return absl::InvalidArgumentError(
        "service-cluster-ip-range[0] and service-cluster-ip-range[1] must be of different IP "
        "family");
  }
  return out;
}

NodePortAllocator::NodePortAllocator(int first, int last, uint64_t seed)
    : first_(first),
      last_(last),
      range_(static_cast<uint64_t>(first), static_cast<uint64_t>(last - first + 1), seed) {}

absl::Status NodePortAllocator::Allocate(int port) {
  if (port < first_ || port > last_) {
    return absl::OutOfRangeError(absl::StrCat(
        "provided port is not in the valid range. The range of valid ports is ", RangeString()));
  }
  if (!range_.Allocate(static_cast<uint64_t>(port)).ok()) {
    return absl::FailedPreconditionError("provided port is already allocated");
  }
  return absl::OkStatus();
}

absl::StatusOr<int> NodePortAllocator::AllocateNext() {
  absl::StatusOr<uint64_t> v = range_.AllocateNext();
  if (!v.ok()) return absl::ResourceExhaustedError("range is full: no node ports left");
  return static_cast<int>(*v);
}

void NodePortAllocator::Release(int port) {
  if (port >= first_ && port <= last_) range_.Release(static_cast<uint64_t>(port));
}

std::string NodePortAllocator::RangeString() const { return absl::StrCat(first_, "-", last_); }

}  // namespace kslice::envtest::apiserver
