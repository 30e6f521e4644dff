// Service address and port allocation, as kube-apiserver's service registry does it
// (pkg/registry/core/service/ipallocator and portallocator):
//   - ClusterIPs come from the service CIDR (default 10.96.0.0/12), or from one CIDR per
//     IP family on a dual-stack server ("10.96.0.0/12,fd00:10:96::/112"); the network
//     address (and IPv4's broadcast address) is never handed out; the first address is
//     the `kubernetes` service's. A requested address must be in range and free. Dynamic
//     allocation prefers the upper part of the range, leaving the lower part
//     (min(max(16, size/16), 256) addresses) to static requests, as upstream's
//     ServiceIPStaticSubrange does.
//   - NodePorts come from 30000-32767, with the same static/dynamic split.
// Both are rebuilt from the stored services when a server restarts.
//
// Thread-safe.
#ifndef KSLICE_ENVTEST_APISERVER_ALLOCATOR_H_
#define KSLICE_ENVTEST_APISERVER_ALLOCATOR_H_

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kslice::envtest::apiserver {

// A range of integers [base, base + size) with static and dynamic halves.
class RangeAllocator {
 public:
  RangeAllocator(uint64_t base, uint64_t size, uint64_t seed);
  // Takes `value`: FailedPrecondition "provided ... is already allocated" when taken,
  // OutOfRange when outside the range.
  absl::Status Allocate(uint64_t value);
  // Any free value, dynamic band first; ResourceExhausted when full.
  absl::StatusOr<uint64_t> AllocateNext();
  void Release(uint64_t value);
  bool Has(uint64_t value) const;
  size_t Used() const;
  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }

 private:
  const uint64_t base_, size_, static_size_;
  mutable std::mutex mu_;
  absl::flat_hash_set<uint64_t> used_;
  std::mt19937_64 rng_;
};

enum class IpFamily { kIPv4, kIPv6 };

// "IPv4" / "IPv6", the Service spec.ipFamilies spelling.
const char* IpFamilyName(IpFamily family);
// The family of an IP address string; nullopt when it is not an IP address.
std::optional<IpFamily> IpFamilyOf(absl::string_view ip);

// The addresses of one service CIDR (one IP family).
class ClusterIpAllocator {
 public:
  // `cidr` is an IPv4 CIDR of /30 or larger ("10.96.0.0/12") or an IPv6 CIDR of /108
  // (2^20 addresses, as kube-apiserver's bitmap allocator requires) to /126
  // ("fd00:10:96::/112").
  static absl::StatusOr<std::unique_ptr<ClusterIpAllocator>> Create(absl::string_view cidr,
                                                                   uint64_t seed = 1);
  // Errors: InvalidArgument "... is not a valid IP", OutOfRange "provided IP is not
  // in the valid range. The range of valid IPs is <cidr>", FailedPrecondition
  // "provided IP is already allocated".
  absl::Status Allocate(absl::string_view ip);
  absl::StatusOr<std::string> AllocateNext();
  void Release(absl::string_view ip);
  bool Contains(absl::string_view ip) const;
  // The first usable address (the `kubernetes` service's): 10.96.0.1, fd00:10:96::1.
  std::string FirstAddress() const;
  const std::string& cidr() const { return cidr_; }
  IpFamily family() const { return family_; }
  size_t Used() const { return range_.Used(); }

 private:
  ClusterIpAllocator(std::string cidr, IpFamily family, std::array<uint8_t, 16> network,
                     uint64_t size, uint64_t seed);
  // The offset of `ip` from the network address; nullopt when not in this CIDR.
  std::optional<uint64_t> OffsetOf(absl::string_view ip) const;
  std::string AddressAt(uint64_t offset) const;

  std::string cidr_;
  IpFamily family_;
  std::array<uint8_t, 16> network_;  // IPv4 in the first 4 bytes
  uint64_t size_;
  RangeAllocator range_;  // offsets 1 .. size-2 (IPv4), 1 .. size-1 (IPv6)
};

// The --service-cluster-ip-range value: one CIDR, or two of different families
// separated by a comma (primary first), as kube-apiserver accepts it.
absl::StatusOr<std::vector<std::unique_ptr<ClusterIpAllocator>>> ParseServiceCidrs(
    absl::string_view ranges, uint64_t seed = 1);

class NodePortAllocator {
 public:
  explicit NodePortAllocator(int first = 30000, int last = 32767, uint64_t seed = 1);
  // Errors as ClusterIpAllocator ("provided port is already allocated", "provided
  // port is not in the valid range. The range of valid ports is 30000-32767").
  absl::Status Allocate(int port);
  absl::StatusOr<int> AllocateNext();
  void Release(int port);
  std::string RangeString() const;

 private:
  int first_, last_;
  RangeAllocator range_;
};

// "10.96.0.10" -> host-order integer; nullopt when not a dotted-quad IPv4 address.
std::optional<uint32_t> ParseIpv4(absl::string_view ip);
std::string FormatIpv4(uint32_t ip);

}  // namespace kslice::envtest::apiserver

#endif  // KSLICE_ENVTEST_APISERVER_ALLOCATOR_H_
