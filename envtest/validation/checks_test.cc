#include "envtest/validation/checks.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kslice::envtest::validation::internal {
namespace {

using Msgs = std::vector<std::string>;

TEST(Checks, DNS1123Label) {
  EXPECT_EQ(IsDNS1123Label("my-name"), Msgs{});
  EXPECT_EQ(IsDNS1123Label("123-abc"), Msgs{});
  EXPECT_EQ(IsDNS1123Label("a.b"), Msgs{"must not contain dots"});
  const Msgs bad = IsDNS1123Label("-a");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].rfind("a lowercase RFC 1123 label must consist of", 0), 0u);
  const Msgs long_label = IsDNS1123Label(std::string(64, 'a'));
  EXPECT_EQ(long_label, Msgs{"must be no more than 63 characters"});
}

TEST(Checks, DNS1123Subdomain) {
  EXPECT_EQ(IsDNS1123Subdomain("example.com"), Msgs{});
  EXPECT_EQ(IsDNS1123Subdomain("a-1.b-2.c"), Msgs{});
  EXPECT_EQ(IsDNS1123Subdomain("a..b").size(), 1u);
  EXPECT_EQ(IsDNS1123Subdomain("Example.com").size(), 1u);
  EXPECT_EQ(IsDNS1123Subdomain("").size(), 1u);
  EXPECT_EQ(IsDNS1123Subdomain(std::string(254, 'a'))[0], "must be no more than 253 characters");
}

TEST(Checks, DNS1035Label) {
  EXPECT_EQ(IsDNS1035Label("abc-123"), Msgs{});
  EXPECT_EQ(IsDNS1035Label("1abc").size(), 1u);
  EXPECT_EQ(IsDNS1035Label("abc-").size(), 1u);
}

TEST(Checks, GenerateNamePrefixMasksTrailingDash) {
  // maskTrailingDash turns "web-" into "wea".
  EXPECT_EQ(NameIsDNSSubdomain("web-", true), Msgs{});
  EXPECT_EQ(NameIsDNSSubdomain("web-", false).size(), 1u);
  EXPECT_EQ(NameIsDNS1035Label("w-", true), Msgs{});
  EXPECT_EQ(NameIsDNSLabel("a.b-", true), Msgs{"must not contain dots"});
}

TEST(Checks, QualifiedNameAndLabelValue) {
  EXPECT_EQ(IsQualifiedName("example.com/MyName"), Msgs{});
  EXPECT_EQ(IsQualifiedName("/a"), Msgs{"prefix part must be non-empty"});
  EXPECT_EQ(IsQualifiedName("a/").size(), 2u);  // name part empty + regex
  EXPECT_EQ(IsQualifiedName("Bad_Prefix/a"),
            Msgs{"prefix part " + IsDNS1123Subdomain("Bad_Prefix")[0]});
  EXPECT_EQ(IsQualifiedName(std::string(64, 'a')), Msgs{"name part must be no more than 63 bytes"});
  EXPECT_EQ(IsValidLabelValue(""), Msgs{});
  EXPECT_EQ(IsValidLabelValue("my_value.1"), Msgs{});
  EXPECT_EQ(IsValidLabelValue("-x").size(), 1u);
  EXPECT_EQ(IsValidLabelValue(std::string(64, 'a'))[0], "must be no more than 63 bytes");
}

TEST(Checks, Ports) {
  EXPECT_EQ(IsValidPortNum(1), Msgs{});
  EXPECT_EQ(IsValidPortNum(65535), Msgs{});
  EXPECT_EQ(IsValidPortNum(0), Msgs{"must be between 1 and 65535, inclusive"});
  EXPECT_EQ(IsValidPortName("http"), Msgs{});
  EXPECT_EQ(IsValidPortName("h2c-1"), Msgs{});
  EXPECT_EQ(IsValidPortName("a--b"), Msgs{"must not contain consecutive hyphens"});
  EXPECT_EQ(IsValidPortName("HTTP"),
            (Msgs{"must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                  "must contain at least one letter (a-z)"}));
  EXPECT_EQ(IsValidPortName("abcdefghijklmnop"), Msgs{"must be no more than 15 characters"});
}

TEST(Checks, ConfigMapKey) {
  EXPECT_EQ(IsConfigMapKey("app.properties"), Msgs{});
  EXPECT_EQ(IsConfigMapKey("."), Msgs{"must not be '.'"});
  EXPECT_EQ(IsConfigMapKey("..a"), Msgs{"must not start with '..'"});
  EXPECT_EQ(IsConfigMapKey("a/b").size(), 1u);
}

TEST(Checks, ParseIPSloppyAsGo) {
  auto ip = ParseIPSloppy("10.0.0.1");
  ASSERT_TRUE(ip.has_value());
  EXPECT_TRUE(ip->Is4());
  EXPECT_EQ(ip->String(), "10.0.0.1");
  // net.ParseIP (Go 1.16) accepts leading zeros as decimal.
  ip = ParseIPSloppy("010.000.000.001");
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ(ip->String(), "10.0.0.1");
  EXPECT_TRUE(ip->has_leading_zero);
  EXPECT_FALSE(ParseIPSloppy("10.0.0.256").has_value());
  EXPECT_FALSE(ParseIPSloppy("10.0.0").has_value());
  EXPECT_FALSE(ParseIPSloppy("10.0.0.1 ").has_value());
  EXPECT_FALSE(ParseIPSloppy("").has_value());
  // IPv6, RFC 5952 output as Go's net.IP.String().
  ip = ParseIPSloppy("2001:0DB8:0:0:0:0:0:1");
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ(ip->String(), "2001:db8::1");
  EXPECT_EQ(ParseIPSloppy("2001:db8:0:1:0:0:0:1")->String(), "2001:db8:0:1::1");
  EXPECT_EQ(ParseIPSloppy("2001:db8:0:1:1:1:1:1")->String(), "2001:db8:0:1:1:1:1:1");
  EXPECT_EQ(ParseIPSloppy("::")->String(), "::");
  EXPECT_EQ(ParseIPSloppy("::0.0.1.2")->String(), "::102");
  // IPv4-mapped IPv6 prints as IPv4 in Go.
  ip = ParseIPSloppy("::ffff:1.2.3.4");
  ASSERT_TRUE(ip.has_value());
  EXPECT_TRUE(ip->is_v4_mapped);
  EXPECT_EQ(ip->String(), "1.2.3.4");
  EXPECT_FALSE(ParseIPSloppy("fe80::1%eth0").has_value());
}

TEST(Checks, SpecialRanges) {
  EXPECT_TRUE(ParseIPSloppy("0.0.0.0")->IsUnspecified());
  EXPECT_TRUE(ParseIPSloppy("::")->IsUnspecified());
  EXPECT_TRUE(ParseIPSloppy("127.1.2.3")->IsLoopback());
  EXPECT_TRUE(ParseIPSloppy("::1")->IsLoopback());
  EXPECT_TRUE(ParseIPSloppy("169.254.169.254")->IsLinkLocalUnicast());
  EXPECT_TRUE(ParseIPSloppy("fe80::1")->IsLinkLocalUnicast());
  EXPECT_TRUE(ParseIPSloppy("224.0.0.251")->IsLinkLocalMulticast());
  EXPECT_TRUE(ParseIPSloppy("ff02::1")->IsLinkLocalMulticast());
  EXPECT_FALSE(ParseIPSloppy("10.0.0.1")->IsLoopback());
  EXPECT_FALSE(ParseIPSloppy("224.0.1.1")->IsLinkLocalMulticast());
}

TEST(Checks, StrictIP) {
  EXPECT_EQ(IsValidIPStrict("10.0.0.1"), Msgs{});
  EXPECT_EQ(IsValidIPStrict("2001:db8::1"), Msgs{});
  EXPECT_EQ(IsValidIPStrict("bad"),
            Msgs{"must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"});
  EXPECT_EQ(IsValidIPStrict("010.0.0.1"), Msgs{"must not have leading 0s"});
  EXPECT_EQ(IsValidIPStrict("::ffff:1.2.3.4"), Msgs{"must not be an IPv4-mapped IPv6 address"});
  EXPECT_EQ(IsValidIPStrict("2001:DB8::1"), Msgs{"must be in canonical form (\"2001:db8::1\")"});
}

TEST(Checks, CIDR) {
  EXPECT_TRUE(IsCIDR("10.0.0.0/8"));
  EXPECT_TRUE(IsCIDR("fd00::/64"));
  EXPECT_FALSE(IsCIDR("10.0.0.0"));
  EXPECT_FALSE(IsCIDR("10.0.0.0/33"));
  EXPECT_FALSE(IsCIDR("fd00::/129"));
  EXPECT_FALSE(IsCIDR("10.0.0.0/"));
}

}  // namespace
}  // namespace kslice::envtest::validation::internal
