#include "envtest/apiserver/allocator.h"

#include <algorithm>
#include <memory>

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

absl::StatusOr<std::unique_ptr<ClusterIpAllocator>> ClusterIpAllocator::Create(
    absl::string_view cidr, uint64_t seed) {
  std::vector<absl::string_view> parts = absl::StrSplit(cidr, '/');
  int bits = 0;
  std::optional<uint32_t> ip;
  if (parts.size() != 2 || !(ip = ParseIpv4(parts[0])) || !absl::SimpleAtoi(parts[1], &bits) ||
      bits < 0 || bits > 30) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid service CIDR \"", cidr, "\": want an IPv4 CIDR of /30 or larger"));
  }
  uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  uint32_t network = *ip & mask;
  uint32_t size = bits == 0 ? 0xffffffffu : (uint32_t{1} << (32 - bits));
  return std::unique_ptr<ClusterIpAllocator>(new ClusterIpAllocator(
      absl::StrCat(FormatIpv4(network), "/", bits), network, size, seed));
}

ClusterIpAllocator::ClusterIpAllocator(std::string cidr, uint32_t network, uint32_t size,
                                       uint64_t seed)
    : cidr_(std::move(cidr)), network_(network), range_(1, size - 2, seed) {}

absl::Status ClusterIpAllocator::Allocate(absl::string_view ip) {
  std::optional<uint32_t> v = ParseIpv4(ip);
  if (!v) return absl::InvalidArgumentError(absl::StrCat(ip, " is not a valid IP"));
  uint64_t offset = *v - static_cast<uint64_t>(network_);
  if (*v < network_ || offset < range_.base() || offset >= range_.base() + range_.size()) {
    return absl::OutOfRangeError(absl::StrCat(
        "provided IP is not in the valid range. The range of valid IPs is ", cidr_));
  }
  if (!range_.Allocate(offset).ok()) {
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
  return FormatIpv4(static_cast<uint32_t>(network_ + *off));
}

void ClusterIpAllocator::Release(absl::string_view ip) {
  std::optional<uint32_t> v = ParseIpv4(ip);
  if (v && *v >= network_) range_.Release(*v - network_);
}

bool ClusterIpAllocator::Contains(absl::string_view ip) const {
  std::optional<uint32_t> v = ParseIpv4(ip);
  if (!v || *v < network_) return false;
  uint64_t offset = *v - static_cast<uint64_t>(network_);
  return offset >= range_.base() && offset < range_.base() + range_.size();
}

std::string ClusterIpAllocator::FirstAddress() const { return FormatIpv4(network_ + 1); }

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
