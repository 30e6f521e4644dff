// What the netlink applier refuses to encode (the backend then uses nft). Nothing here
// reaches the kernel: unsupported text is rejected before anything is sent. Applying
// supported text is tested against the kernel in real_nft_test.
#include "proxy/nftables/netlink_applier.h"

#include <memory>

#include "gtest/gtest.h"

namespace kslice::proxy::nftables {
namespace {

TEST(NetlinkApplierTest, UnsupportedStatementsAreUnimplemented) {
  absl::StatusOr<std::unique_ptr<NetlinkApplier>> a = NetlinkApplier::Create(IPFamily::kIPv4);
  if (!a.ok()) GTEST_SKIP() << "no netfilter netlink socket here: " << a.status();
  for (const char* text : {
           "add set ip kube-proxy affinity-X { type ipv4_addr ; flags dynamic,timeout ; }\n",
           "add chain ip kube-proxy x\nadd rule ip kube-proxy x fib saddr type local jump y\n",
           "add rule ip kube-proxy x ip saddr @affinity-X goto y\n",
           "add rule ip kube-proxy x ip saddr != { 10.0.0.0/8 } drop\n",
           "add rule ip kube-proxy x jump y comment \"c\"\n",
           "add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }\n",
           "add element ip kube-proxy service-ips { 300.0.0.1 . tcp . 80 : goto x }\n",
           "add rule ip6 kube-proxy x goto y\n",  // other family than the applier's
           "add table ip kube-proxy\n",
       }) {
    absl::Status s = (*a)->Apply(text);
    EXPECT_TRUE(absl::IsUnimplemented(s)) << text << " -> " << s;
  }
  EXPECT_TRUE((*a)->Apply("# only a comment\n\n").ok());
}

}  // namespace
}  // namespace kslice::proxy::nftables
