#include "proxy/internal/net.h"

#include "gtest/gtest.h"

namespace kslice::proxy::internal {
namespace {

TEST(ParseIPTest, CanonicalForms) {
  EXPECT_EQ(ParseIP("10.0.0.1")->text, "10.0.0.1");
  EXPECT_EQ(ParseIP("010.000.0.01")->text, "10.0.0.1");  // sloppy: leading zeros, decimal
  EXPECT_EQ(ParseIP("fd00:10:180:0:0::1")->text, "fd00:10:180::1");
  EXPECT_EQ(ParseIP("FD00::A")->text, "fd00::a");
  EXPECT_EQ(ParseIP("fd00::1")->family, IPFamily::kIPv6);
  EXPECT_EQ(ParseIP("::ffff:1.2.3.4")->text, "1.2.3.4");
  EXPECT_EQ(ParseIP("::ffff:1.2.3.4")->family, IPFamily::kIPv4);
  EXPECT_FALSE(ParseIP("").has_value());
  EXPECT_FALSE(ParseIP("256.0.0.1").has_value());
  EXPECT_FALSE(ParseIP("1.2.3").has_value());
  EXPECT_FALSE(ParseIP("example.com").has_value());
}

TEST(ParseCIDRTest, MasksHostBits) {
  EXPECT_EQ(ParseCIDR("203.0.113.7/25")->text, "203.0.113.0/25");
  EXPECT_EQ(ParseCIDR("192.168.0.0/16")->text, "192.168.0.0/16");
  EXPECT_EQ(ParseCIDR("0.0.0.0/0")->text, "0.0.0.0/0");
  EXPECT_EQ(ParseCIDR("2001:db8::1/64")->text, "2001:db8::/64");
  EXPECT_EQ(ParseCIDR("2001:db8::1/64")->family, IPFamily::kIPv6);
  EXPECT_FALSE(ParseCIDR("10.0.0.0/33").has_value());
  EXPECT_FALSE(ParseCIDR("10.0.0.0").has_value());
  EXPECT_FALSE(ParseCIDR("10.0.0.0/").has_value());
  EXPECT_FALSE(ParseCIDR("10.0.0.0/a").has_value());
}

}  // namespace
}  // namespace kslice::proxy::internal
