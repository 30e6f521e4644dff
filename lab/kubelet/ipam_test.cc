#include "lab/kubelet/ipam.h"

#include "gtest/gtest.h"

namespace kslice::lab::kubelet {
namespace {

TEST(IpAllocatorTest, LowestFreeFromFirstSkippingTheGateway) {
  // lab-worker2: the gateway is .1 and pods start at .3.
  auto a = IpAllocator::Create("192.168.156.0/26", "192.168.156.3", "192.168.156.1");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(*a->Allocate("default/multitool-1-x"), "192.168.156.3");
  EXPECT_EQ(*a->Allocate("default/multitool-2-y"), "192.168.156.4");
  EXPECT_EQ(*a->Allocate("default/nginx-z"), "192.168.156.5");
  EXPECT_EQ(*a->Allocate("default/nginx-z"), "192.168.156.5") << "same owner, same address";
  a->Release("default/multitool-2-y");
  EXPECT_EQ(*a->Allocate("default/new"), "192.168.156.4") << "the lowest free one again";
  EXPECT_EQ(a->prefix_length(), 26);

  // The gateway inside the range is skipped: block .192/26, gateway .193, first .193.
  auto b = IpAllocator::Create("192.168.202.192/26", "192.168.202.193", "192.168.202.193");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b->Allocate("a"), "192.168.202.194");
}

TEST(IpAllocatorTest, ExhaustionIsAnError) {
  auto a = IpAllocator::Create("10.0.0.0/29", "10.0.0.2", "10.0.0.1");  // .2 .. .6 usable
  ASSERT_TRUE(a.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(a->Allocate("p" + std::to_string(i)).ok());
  absl::StatusOr<std::string> none = a->Allocate("one-too-many");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kResourceExhausted) << none.status();
  EXPECT_NE(none.status().message().find("10.0.0.0/29"), std::string::npos);
  a->Release("p3");
  EXPECT_EQ(*a->Allocate("one-too-many"), "10.0.0.5");
}

TEST(IpAllocatorTest, ReserveForAdoption) {
  auto a = IpAllocator::Create("10.0.0.0/26", "10.0.0.9", "10.0.0.1");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->Reserve("ns/old", "10.0.0.9").ok());
  EXPECT_EQ(a->Reserve("ns/other", "10.0.0.9").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(a->Reserve("ns/x", "10.0.0.1").code(), absl::StatusCode::kInvalidArgument) << "gateway";
  EXPECT_EQ(a->Reserve("ns/x", "10.0.1.1").code(), absl::StatusCode::kInvalidArgument) << "outside";
  EXPECT_EQ(*a->Allocate("ns/new"), "10.0.0.10");
  EXPECT_EQ(a->in_use(), 2u);
}

TEST(IpAllocatorTest, BadInput) {
  EXPECT_FALSE(IpAllocator::Create("10.0.0.0", "10.0.0.2", "10.0.0.1").ok());
  EXPECT_FALSE(IpAllocator::Create("10.0.0.0/33", "10.0.0.2", "10.0.0.1").ok());
  EXPECT_FALSE(IpAllocator::Create("10.0.0.1/24", "10.0.0.2", "10.0.0.1").ok()) << "host bits";
  EXPECT_FALSE(IpAllocator::Create("10.0.0.0/24", "10.0.1.2", "10.0.0.1").ok()) << "first outside";
  EXPECT_FALSE(IpAllocator::Create("10.0.0.0/24", "10.0.0.2", "10.0.0.255").ok()) << "broadcast gw";
  EXPECT_FALSE(IpAllocator::Create("10.0.0.0/24", "x", "10.0.0.1").ok());
}

}  // namespace
}  // namespace kslice::lab::kubelet
