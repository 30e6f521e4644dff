#include "cmd/kslice-proxy/dryrun.h"

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "api/core/v1/core.pb.h"
#include "cmd/internal/objectfile/objectfile.h"
#include "gtest/gtest.h"

namespace kslice::proxy::cmd {
namespace {

using ::kslice::cmd::objectfile::ObjectSet;
using ::kslice::cmd::objectfile::ReadObjects;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The golden without its leading "# " description lines.
std::string Golden() {
  std::string out;
  for (absl::string_view line :
       absl::StrSplit(ReadFile("proxy/iptables/testdata/lab_nginx_service.golden"), '\n')) {
    if (absl::StartsWith(line, "#")) continue;
    out.append(line.data(), line.size());
    out.push_back('\n');
  }
  out.pop_back();  // StrSplit gave one more (empty) piece after the final newline
  return out;
}

BackendOptions LabOptions() {
  BackendOptions o;
  o.node_name = "k8-services-worker";
  o.cluster_cidrs = {"192.168.0.0/16"};
  return o;
}

TEST(DryRunTest, LabFixtureGivesTheLabGolden) {
  absl::StatusOr<ObjectSet> in = ReadObjects(ReadFile("testdata/proxy/lab.yaml"));
  ASSERT_TRUE(in.ok()) << in.status();
  std::ostringstream out;
  ASSERT_TRUE(RunDryRun(*in, "iptables", LabOptions(), out).ok());
  EXPECT_EQ(out.str(), Golden());
}

TEST(DryRunTest, UnknownModeListsTheRegisteredOnes) {
  std::ostringstream out;
  absl::Status s = RunDryRun(ObjectSet{}, "ipvs", LabOptions(), out);
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "iptables")) << s;
}

TEST(DryRunTest, ServicesOfAnotherProxyAreLeftOut) {
  absl::StatusOr<ObjectSet> in = ReadObjects(ReadFile("testdata/proxy/lab.yaml"));
  ASSERT_TRUE(in.ok()) << in.status();
  auto svc = std::make_shared<api::core::v1::Service>(*in->services[0]);
  (*svc->mutable_metadata()->mutable_labels())["service.kubernetes.io/service-proxy-name"] = "other";
  in->services[0] = svc;
  std::ostringstream out;
  ASSERT_TRUE(RunDryRun(*in, "iptables", LabOptions(), out).ok());
  EXPECT_FALSE(absl::StrContains(out.str(), "nginx-service")) << out.str();
}

// A dual-stack Service with an IPv4 and an IPv6 slice: the IPv4 payload, the separator,
// the IPv6 payload (its ClusterIP, "[addr]:port" DNAT targets, the IPv6 cluster CIDR).
BackendOptions DualStackOptions() {
  BackendOptions o;
  o.node_name = "node-a";
  o.cluster_cidrs = {"10.244.0.0/16", "fd00:10:244::/56"};
  return o;
}

TEST(DryRunTest, DualStackFixtureGivesBothPayloads) {
  absl::StatusOr<ObjectSet> in = ReadObjects(ReadFile("testdata/proxy/dualstack.yaml"));
  ASSERT_TRUE(in.ok()) << in.status();
  std::ostringstream out;
  ASSERT_TRUE(RunDryRun(*in, "iptables", DualStackOptions(), out).ok());
  EXPECT_EQ(out.str(), ReadFile("testdata/proxy/dualstack.golden"));
  std::vector<std::string> parts = absl::StrSplit(out.str(), kIPv6PayloadSeparator);
  ASSERT_EQ(parts.size(), 2u) << out.str();
  EXPECT_TRUE(absl::StrContains(parts[0], "-d 10.96.0.20 --dport 80")) << parts[0];
  EXPECT_TRUE(absl::StrContains(parts[0], "--to-destination 10.244.1.5:8080")) << parts[0];
  EXPECT_FALSE(absl::StrContains(parts[0], "fd00:")) << parts[0];
  EXPECT_TRUE(absl::StrContains(parts[1], "-d fd00:10:96::20 --dport 80 ! -s fd00:10:244::/56"))
      << parts[1];
  EXPECT_TRUE(absl::StrContains(parts[1], "--to-destination [fd00:10:244:1::5]:8080")) << parts[1];
  EXPECT_TRUE(absl::StrContains(parts[1], "--to-destination [fd00:10:244:2::7]:8080")) << parts[1];
  EXPECT_FALSE(absl::StrContains(parts[1], "10.244.")) << parts[1];
}

TEST(DryRunTest, DualStackFromTheNodeAlone) {
  // Only an IPv4 --cluster-cidr, but the Node has pod CIDRs and addresses of both
  // families: still two payloads; the IPv6 one has no local-traffic detector rule.
  absl::StatusOr<ObjectSet> in = ReadObjects(ReadFile("testdata/proxy/dualstack.yaml"));
  ASSERT_TRUE(in.ok()) << in.status();
  BackendOptions o = DualStackOptions();
  o.cluster_cidrs = {"10.244.0.0/16"};
  std::ostringstream out;
  ASSERT_TRUE(RunDryRun(*in, "iptables", o, out).ok());
  std::vector<std::string> parts = absl::StrSplit(out.str(), kIPv6PayloadSeparator);
  ASSERT_EQ(parts.size(), 2u) << out.str();
  EXPECT_TRUE(absl::StrContains(parts[1], "--to-destination [fd00:10:244:1::5]:8080")) << parts[1];
  EXPECT_FALSE(absl::StrContains(parts[1], "! -s ")) << parts[1];
}

TEST(DryRunTest, SingleStackNodeGivesTheIPv4PayloadOnly) {
  absl::StatusOr<ObjectSet> in = ReadObjects(ReadFile("testdata/proxy/dualstack.yaml"));
  ASSERT_TRUE(in.ok()) << in.status();
  in->nodes.clear();
  BackendOptions o = DualStackOptions();
  o.cluster_cidrs = {"10.244.0.0/16"};
  std::ostringstream out;
  ASSERT_TRUE(RunDryRun(*in, "iptables", o, out).ok());
  EXPECT_FALSE(absl::StrContains(out.str(), kIPv6PayloadSeparator)) << out.str();
  EXPECT_FALSE(absl::StrContains(out.str(), "fd00:")) << out.str();
  EXPECT_TRUE(absl::StrContains(out.str(), "--to-destination 10.244.2.7:8080")) << out.str();
}

TEST(IsDualStackTest, ClusterCIDRsOrNode) {
  EXPECT_FALSE(IsDualStack({}, nullptr));
  EXPECT_FALSE(IsDualStack({"10.0.0.0/8"}, nullptr));
  EXPECT_FALSE(IsDualStack({"fd00::/64"}, nullptr));
  EXPECT_TRUE(IsDualStack({"10.0.0.0/8", "fd00::/64"}, nullptr));
  EXPECT_TRUE(IsDualStack({"fd00::/64", "10.0.0.0/8"}, nullptr));
  api::core::v1::Node node;
  node.mutable_spec()->add_podcidrs("10.244.1.0/24");
  EXPECT_FALSE(IsDualStack({"10.0.0.0/8"}, &node));
  node.mutable_spec()->add_podcidrs("fd00:1::/64");
  EXPECT_TRUE(IsDualStack({"10.0.0.0/8"}, &node));
  api::core::v1::Node by_address;
  auto add = [&](const std::string& type, const std::string& ip) {
    auto* a = by_address.mutable_status()->add_addresses();
    a->set_type(type);
    a->set_address(ip);
  };
  add("InternalIP", "10.0.0.7");
  add("Hostname", "fd00::is-not-an-ip");
  EXPECT_FALSE(IsDualStack({}, &by_address));
  add("ExternalIP", "2001:db8::7");
  EXPECT_TRUE(IsDualStack({}, &by_address));
}

TEST(ForFamilyTest, KeepsOnlyTheFamilysCIDRsAndNodeIP) {
  BackendOptions o = DualStackOptions();
  o.extra["iptables.node-ip"] = "192.168.10.11";
  BackendOptions v4 = ForFamily(o, IPFamily::kIPv4);
  EXPECT_EQ(v4.family, IPFamily::kIPv4);
  EXPECT_EQ(v4.cluster_cidrs, std::vector<std::string>{"10.244.0.0/16"});
  EXPECT_EQ(v4.extra["iptables.node-ip"], "192.168.10.11");
  BackendOptions v6 = ForFamily(o, IPFamily::kIPv6);
  EXPECT_EQ(v6.family, IPFamily::kIPv6);
  EXPECT_EQ(v6.cluster_cidrs, std::vector<std::string>{"fd00:10:244::/56"});
  EXPECT_EQ(v6.extra.count("iptables.node-ip"), 0u);
  o.extra["iptables.nodeport-addresses"] = "10.0.0.7,fd00::7,10.0.0.8";
  EXPECT_EQ(ForFamily(o, IPFamily::kIPv4).extra["iptables.nodeport-addresses"],
            "10.0.0.7,10.0.0.8");
  EXPECT_EQ(ForFamily(o, IPFamily::kIPv6).extra["iptables.nodeport-addresses"], "fd00::7");
  o.extra["iptables.nodeport-addresses"] = "fd00::7";
  EXPECT_EQ(ForFamily(o, IPFamily::kIPv4).extra.at("iptables.nodeport-addresses"), "");
}

TEST(NodeIPTest, InternalFirstThenExternalPerFamily) {
  api::core::v1::Node node;
  EXPECT_EQ(NodeIP(node, IPFamily::kIPv4), "");
  auto add = [&](const std::string& type, const std::string& ip) {
    auto* a = node.mutable_status()->add_addresses();
    a->set_type(type);
    a->set_address(ip);
  };
  add("Hostname", "node-a");
  add("ExternalIP", "203.0.113.7");
  EXPECT_EQ(NodeIP(node, IPFamily::kIPv4), "203.0.113.7");
  add("InternalIP", "fd00::7");
  add("InternalIP", "10.0.0.7");
  add("InternalIP", "10.0.0.8");
  EXPECT_EQ(NodeIP(node, IPFamily::kIPv4), "10.0.0.7");
  EXPECT_EQ(NodeIP(node, IPFamily::kIPv6), "fd00::7");
}

}  // namespace
}  // namespace kslice::proxy::cmd
