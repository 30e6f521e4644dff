#include "lab/kubelet/ipam.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kslice::lab::kubelet {

absl::StatusOr<uint32_t> ParseIPv4(const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 address: \"", s, "\""));
  }
  return ntohl(a.s_addr);
}

std::string FormatIPv4(uint32_t ip) {
  return absl::StrCat(ip >> 24, ".", (ip >> 16) & 255, ".", (ip >> 8) & 255, ".", ip & 255);
}

IpAllocator::IpAllocator(IpAllocator&& o) noexcept
    : network_(o.network_),
      broadcast_(o.broadcast_),
      first_(o.first_),
      gateway_(o.gateway_),
      prefix_(o.prefix_) {
  std::lock_guard<std::mutex> l(o.mu_);
  used_ = std::move(o.used_);
}

absl::StatusOr<IpAllocator> IpAllocator::Create(const std::string& cidr, const std::string& first,
                                                const std::string& gateway) {
  std::vector<std::string> parts = absl::StrSplit(cidr, '/');
  int prefix = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &prefix) || prefix < 1 || prefix > 30) {
    return absl::InvalidArgumentError(
        absl::StrCat("pod CIDR \"", cidr, "\" is not an IPv4 block a.b.c.d/n with n in 1..30"));
  }
  absl::StatusOr<uint32_t> base = ParseIPv4(parts[0]);
  if (!base.ok()) return base.status();
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  IpAllocator a;
  a.prefix_ = prefix;
  a.network_ = *base & mask;
  if (a.network_ != *base) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pod CIDR \"", cidr, "\" has host bits set (network is ", FormatIPv4(a.network_), ")"));
  }
  a.broadcast_ = a.network_ | ~mask;
  absl::StatusOr<uint32_t> gw = ParseIPv4(gateway);
  if (!gw.ok()) return gw.status();
  absl::StatusOr<uint32_t> f = ParseIPv4(first);
  if (!f.ok()) return f.status();
  auto inside = [&](uint32_t ip) { return ip > a.network_ && ip < a.broadcast_; };
  if (!inside(*gw)) {
    return absl::InvalidArgumentError(
        absl::StrCat("gateway ", gateway, " is not a usable address of ", cidr));
  }
  if (!inside(*f)) {
    return absl::InvalidArgumentError(
        absl::StrCat("first pod IP ", first, " is not a usable address of ", cidr));
  }
  a.gateway_ = *gw;
  a.first_ = *f;
  return a;
}

absl::StatusOr<std::string> IpAllocator::Allocate(const std::string& owner) {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [ip, who] : used_) {
    if (who == owner) return FormatIPv4(ip);
  }
  for (uint32_t ip = first_; ip < broadcast_; ++ip) {
    if (ip == gateway_ || used_.contains(ip)) continue;
    used_[ip] = owner;
    return FormatIPv4(ip);
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("no free pod address left in ", FormatIPv4(network_), "/", prefix_, " from ",
                   FormatIPv4(first_), " (", used_.size(), " in use)"));
}

absl::Status IpAllocator::Reserve(const std::string& owner, const std::string& ip) {
  absl::StatusOr<uint32_t> a = ParseIPv4(ip);
  if (!a.ok()) return a.status();
  if (*a <= network_ || *a >= broadcast_ || *a == gateway_) {
    return absl::InvalidArgumentError(
        absl::StrCat(ip, " is not a pod address of ", FormatIPv4(network_), "/", prefix_));
  }
  std::lock_guard<std::mutex> l(mu_);
  auto it = used_.find(*a);
  if (it != used_.end() && it->second != owner) {
    return absl::AlreadyExistsError(absl::StrCat(ip, " is already held by ", it->second));
  }
  for (auto i = used_.begin(); i != used_.end();) {
    i = (i->second == owner && i->first != *a) ? used_.erase(i) : std::next(i);
  }
  used_[*a] = owner;
  return absl::OkStatus();
}

void IpAllocator::Release(const std::string& owner) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto i = used_.begin(); i != used_.end();) {
    i = i->second == owner ? used_.erase(i) : std::next(i);
  }
}

size_t IpAllocator::in_use() const {
  std::lock_guard<std::mutex> l(mu_);
  return used_.size();
}

}  // namespace kslice::lab::kubelet
