#include "cmd/kslice-proxy-agent/flags.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kslice::cmd::agent {
namespace {

std::string Err(const std::vector<std::string>& args) {
  absl::StatusOr<AgentFlags> f = ParseFlags(args);
  return f.ok() ? "ok" : std::string(f.status().message());
}

TEST(AgentFlagsTest, Parses) {
  absl::StatusOr<AgentFlags> f = ParseFlags(
      {"--server=unix:/x.sock", "--apply", "iptables", "--dry-run", "--hostname-override", "n1",
       "--cluster-cidr", "10.0.0.0/8,fd00::/64", "--family", "ipv6", "--min-sync-period",
       "250ms", "--exit-after=3", "--print", "--masquerade-all=true", "-v", "2"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->server, "unix:/x.sock");
  EXPECT_EQ(f->apply, "iptables");
  EXPECT_TRUE(f->dry_run);
  EXPECT_TRUE(f->print);
  EXPECT_TRUE(f->masquerade_all);
  EXPECT_EQ(f->hostname_override, "n1");
  EXPECT_EQ(f->cluster_cidrs, (std::vector<std::string>{"10.0.0.0/8", "fd00::/64"}));
  EXPECT_EQ(f->family, proxy::IPFamily::kIPv6);
  EXPECT_EQ(f->min_sync_period, absl::Milliseconds(250));
  EXPECT_EQ(f->exit_after, 3);
  EXPECT_EQ(f->verbosity, 2);
  EXPECT_TRUE(ParseFlags({"--help"})->help);
}

TEST(AgentFlagsTest, Errors) {
  EXPECT_TRUE(absl::StrContains(Err({}), "--print"));
  EXPECT_TRUE(absl::StrContains(Err({"--print", "--bogus"}), "unknown flag: --bogus"));
  EXPECT_TRUE(absl::StrContains(Err({"--print", "--server"}), "flag needs an argument"));
  EXPECT_TRUE(absl::StrContains(Err({"--print", "--dry-run"}), "--apply"));
  EXPECT_TRUE(absl::StrContains(Err({"--apply", "iptables"}), "--hostname-override"));
  EXPECT_TRUE(absl::StrContains(Err({"--print", "--family", "ipx"}), "ipv4 or ipv6"));
  EXPECT_TRUE(absl::StrContains(Err({"--print", "--min-sync-period", "soon"}), "duration"));
  EXPECT_TRUE(absl::StrContains(Err({"--print", "--exit-after", "-1"}), "non-negative"));
  EXPECT_TRUE(absl::StrContains(Err({"--print", "--tls-cert", "c"}), "together"));
  EXPECT_TRUE(absl::StrContains(Err({"--print", "--tls-cert", "c", "--tls-key", "k"}),
                                "--tls-ca"));
  EXPECT_TRUE(absl::StrContains(Err({"--print", "stray"}), "unexpected argument"));
  EXPECT_TRUE(absl::StrContains(Err({"--print=maybe"}), "not a boolean"));
}

}  // namespace
}  // namespace kslice::cmd::agent
