// Pod addresses out of the node's block (IPv4 only, as the lab).
//
//   auto ipam = IpAllocator::Create("192.168.202.192/26", "192.168.202.194", "192.168.202.193");
//   absl::StatusOr<std::string> ip = ipam->Allocate("default/web");  // 192.168.202.194
//   ipam->Release("default/web");
//
// Allocate hands out the lowest free address >= first that is not the gateway, the
// network or the broadcast address, in the order pods arrive — so a fresh lab run
// gives the same addresses as the seed. The same owner asking twice gets the address
// it already holds. Thread-safe.
#ifndef KSLICE_LAB_KUBELET_IPAM_H_
#define KSLICE_LAB_KUBELET_IPAM_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"

namespace kslice::lab::kubelet {

// "a.b.c.d" -> host-order integer; InvalidArgument otherwise.
absl::StatusOr<uint32_t> ParseIPv4(const std::string& s);
std::string FormatIPv4(uint32_t ip);

class IpAllocator {
 public:
  // cidr "a.b.c.d/n" (n in 1..30); first and gateway inside it. Errors name the bad input.
  static absl::StatusOr<IpAllocator> Create(const std::string& cidr, const std::string& first,
                                            const std::string& gateway);
  IpAllocator(IpAllocator&& o) noexcept;

  // The owner's address: the one it holds, else the lowest free one.
  // ResourceExhausted when the block has none left.
  absl::StatusOr<std::string> Allocate(const std::string& owner);
  // Marks `ip` as the owner's (adoption after a restart). AlreadyExists when another
  // owner holds it, InvalidArgument when it is outside the usable range.
  absl::Status Reserve(const std::string& owner, const std::string& ip);
  // Frees the owner's address (no-op when it holds none).
  void Release(const std::string& owner);

  int prefix_length() const { return prefix_; }
  std::string gateway() const { return FormatIPv4(gateway_); }
  size_t in_use() const;

 private:
  IpAllocator() = default;
  uint32_t network_ = 0, broadcast_ = 0, first_ = 0, gateway_ = 0;
  int prefix_ = 0;
  mutable std::mutex mu_;
  std::map<uint32_t, std::string> used_ ABSL_GUARDED_BY(mu_);  // ip -> owner
};

}  // namespace kslice::lab::kubelet

#endif  // KSLICE_LAB_KUBELET_IPAM_H_
