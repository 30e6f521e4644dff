// Service address and port allocation, as kube-apiserver's service registry does it
// (pkg/registry/core/service/ipallocator and portallocator):
//   - ClusterIPs come from the service CIDR (default 10.96.0.0/12); the network and
//     broadcast addresses are never handed out; the first address is the
//     `kubernetes` service's. A requested address must be in range and free. Dynamic
//     allocation prefers the upper part of the range, leaving the lower part
//     (min(max(16, size/16), 256) addresses) to static requests, as upstream's
//     ServiceIPStaticSubrange does.
//   - NodePorts come from 30000-32767, with the same static/dynamic split.
// Both are rebuilt from the stored services when a server restarts.
//
// Thread-safe.
#ifndef KSLICE_ENVTEST_APISERVER_ALLOCATOR_H_
#define KSLICE_ENVTEST_APISERVER_ALLOCATOR_H_

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

class ClusterIpAllocator {
 public:
  // `cidr` is an IPv4 CIDR ("10.96.0.0/12") with at least 4 addresses.
  static absl::StatusOr<std::unique_ptr<ClusterIpAllocator>> Create(absl::string_view cidr,
                                                                   uint64_t seed = 1);
  // Errors: InvalidArgument "... is not a valid IP", OutOfRange "provided IP is not
  // in the valid range. The range of valid IPs is <cidr>", FailedPrecondition
  // "provided IP is already allocated".
  absl::Status Allocate(absl::string_view ip);
  absl::StatusOr<std::string> AllocateNext();
  void Release(absl::string_view ip);
  bool Contains(absl::string_view ip) const;
  // The first usable address (the `kubernetes` service's): 10.96.0.1.
  std::string FirstAddress() const;
  const std::string& cidr() const { return cidr_; }

 private:
  ClusterIpAllocator(std::string cidr, uint32_t network, uint32_t size, uint64_t seed);
  std::string cidr_;
  uint32_t network_;
  RangeAllocator range_;  // offsets 1 .. size-2
};

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
