#include "proxy/iptables/chain_names.h"

#include "gtest/gtest.h"

namespace kslice::proxy::iptables {
namespace {

// Names from kube-proxy's proxier_test.go dumps and the lab case (spec §3.2, §4).
TEST(ChainNamesTest, MatchesKubeProxy) {
  EXPECT_EQ(ServicePortPolicyClusterChain("ns1/svc1:p80", "tcp"), "KUBE-SVC-XPGD46QRK7WJZT7O");
  EXPECT_EQ(ServiceExternalChain("ns2/svc2:p80", "tcp"), "KUBE-EXT-GNZBNJ2PO5MGZ6GT");
  EXPECT_EQ(ServicePortPolicyLocalChain("ns2/svc2:p80", "tcp"), "KUBE-SVL-GNZBNJ2PO5MGZ6GT");
  EXPECT_EQ(ServiceFirewallChain("ns5/svc5:p80", "tcp"), "KUBE-FW-NUKIZ6OKUXPJNT4C");
  EXPECT_EQ(ServicePortEndpointChain("ns1/svc1:p80", "tcp", "10.180.0.1:80"),
            "KUBE-SEP-SXIVWICOYRO3J4NJ");
  EXPECT_EQ(ServicePortPolicyClusterChain("ns2/svc2:p8080", "tcp"), "KUBE-SVC-2VJB64SDSIJUP5T6");
  EXPECT_EQ(ServicePortEndpointChain("ns2/svc2:p8080", "tcp", "10.0.2.1:8080"),
            "KUBE-SEP-UHEGFW77JX3KXTOV");
  EXPECT_EQ(ServicePortPolicyClusterChain("default/nginx-service:http", "tcp"),
            "KUBE-SVC-6IM33IEVEEV7U3GP");
  EXPECT_EQ(ServicePortEndpointChain("default/nginx-service:http", "tcp", "192.168.156.5:80"),
            "KUBE-SEP-M6MI3YLHVX7DA53R");
  EXPECT_EQ(ServicePortEndpointChain("default/nginx-service:http", "tcp", "192.168.202.196:80"),
            "KUBE-SEP-MJ46KNWYZBDUIDMY");
}

TEST(ChainNamesTest, HashIsBase32OfSha256) {
  // sha256("") = e3b0c442 98fc1c14 9afbf4c8 ...; base32 of its first 10 bytes.
  EXPECT_EQ(Hash16(""), "4OYMIQUY7QOBJGX3");
  EXPECT_EQ(Hash16("ns1/svc1:p80tcp"), "XPGD46QRK7WJZT7O");
  EXPECT_EQ(PortProtoHash("ns1/svc1:p80", "tcp"), Hash16("ns1/svc1:p80tcp"));
  // Protocol and endpoint change the hash; the chain differs per protocol.
  EXPECT_NE(PortProtoHash("ns1/svc1:p80", "udp"), PortProtoHash("ns1/svc1:p80", "tcp"));
}

TEST(ChainNamesTest, IsServiceChainName) {
  EXPECT_TRUE(IsServiceChainName("KUBE-SVC-XPGD46QRK7WJZT7O"));
  EXPECT_TRUE(IsServiceChainName("KUBE-SVL-XPGD46QRK7WJZT7O"));
  EXPECT_TRUE(IsServiceChainName("KUBE-EXT-XPGD46QRK7WJZT7O"));
  EXPECT_TRUE(IsServiceChainName("KUBE-FW-XPGD46QRK7WJZT7O"));
  EXPECT_TRUE(IsServiceChainName("KUBE-SEP-SXIVWICOYRO3J4NJ"));
  EXPECT_FALSE(IsServiceChainName("KUBE-SERVICES"));
  EXPECT_FALSE(IsServiceChainName("KUBE-NODEPORTS"));
  EXPECT_FALSE(IsServiceChainName("KUBE-MARK-MASQ"));
  EXPECT_FALSE(IsServiceChainName("KUBE-FORWARD"));
}

TEST(ChainNamesTest, LowerProtocol) {
  EXPECT_EQ(LowerProtocol("TCP"), "tcp");
  EXPECT_EQ(LowerProtocol("SCTP"), "sctp");
}

}  // namespace
}  // namespace kslice::proxy::iptables
