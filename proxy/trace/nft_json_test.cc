#include "proxy/trace/nft_json.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kslice::proxy::trace {
namespace {

std::string ReadTestdata(const std::string& name) {
  std::ifstream in("proxy/trace/testdata/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// testdata/lab_nft.json: `nft -j list table ip kube-proxy` of lab_nft.nft, by real nft.
TEST(NftJsonTest, ReadsUpstreamLayoutFromRealNft) {
  absl::StatusOr<NftRuleset> rs = ParseNftJson(ReadTestdata("lab_nft.json"));
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_EQ(rs->family, "ip");
  EXPECT_EQ(rs->table, "kube-proxy");
  ASSERT_EQ(rs->maps["service-ips"].size(), 1u);
  const NftMapElement& e = rs->maps["service-ips"][0];
  EXPECT_EQ(e.KeyString(), "10.96.204.67 . tcp . 80");
  EXPECT_EQ(e.verdict, "goto");
  EXPECT_EQ(e.target, "service-PIOJ4VP5-default/nginx-service/tcp/http");
  ASSERT_EQ(rs->maps["no-endpoint-services"].size(), 1u);
  EXPECT_EQ(rs->maps["no-endpoint-services"][0].comment, "default/empty:http");
  EXPECT_EQ(rs->maps["no-endpoint-services"][0].target, "reject-chain");
  EXPECT_EQ(rs->sets["cluster-ips"].size(), 2u);

  const NftChain& svc = rs->chains["service-PIOJ4VP5-default/nginx-service/tcp/http"];
  ASSERT_EQ(svc.rules.size(), 2u);
  EXPECT_EQ(svc.rules[0].daddr, "10.96.204.67");
  EXPECT_EQ(svc.rules[0].saddr, "!=192.168.0.0/16");
  EXPECT_EQ(svc.rules[0].target, "mark-for-masquerade");
  EXPECT_EQ(svc.rules[0].text,
            "ip daddr 10.96.204.67 ip saddr != 192.168.0.0/16 jump mark-for-masquerade");
  EXPECT_EQ(svc.rules[1].numgen_mod, 2);
  ASSERT_EQ(svc.rules[1].numgen_targets.size(), 2u);
  EXPECT_EQ(svc.rules[1].numgen_targets[1].second,
            "endpoint-QYMIBJBU-default/nginx-service/tcp/http__192.168.202.196/80");
  const NftChain& ep = rs->chains["endpoint-QYMIBJBU-default/nginx-service/tcp/http__192.168.202.196/80"];
  ASSERT_EQ(ep.rules.size(), 2u);
  EXPECT_EQ(ep.rules[0].saddr, "192.168.202.196");
  EXPECT_EQ(ep.rules[1].dnat, "192.168.202.196:80");
  EXPECT_EQ(ep.rules[1].text, "meta l4proto tcp dnat to 192.168.202.196:80");
}

TEST(NftJsonTest, BadInput) {
  EXPECT_FALSE(ParseNftJson("").ok());
  EXPECT_FALSE(ParseNftJson("{\"nftables\": [").ok());
  absl::StatusOr<NftRuleset> not_nft = ParseNftJson("{\"tables\": []}");
  ASSERT_FALSE(not_nft.ok());
  EXPECT_TRUE(absl::StrContains(not_nft.status().message(), "nftables")) << not_nft.status();
  EXPECT_FALSE(ParseNftJson("{\"nftables\": [{\"metainfo\": {}}]}").ok());  // no table
}

}  // namespace
}  // namespace kslice::proxy::trace
