#include "cmd/kslice-trace/options.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kslice::trace::cmd {
namespace {

TEST(OptionsTest, ServiceForms) {
  absl::StatusOr<Options> o = ParseOptions({"default/nginx-service"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->ns, "default");
  EXPECT_EQ(o->name, "nginx-service");
  EXPECT_EQ(o->port, "");
  o = ParseOptions({"web"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->ns, "default");
  EXPECT_EQ(o->name, "web");
  o = ParseOptions({"--node", "lab-worker", "kube-system/dns:udp-53", "-o", "json"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->ns, "kube-system");
  EXPECT_EQ(o->name, "dns");
  EXPECT_EQ(o->port, "udp-53");
  EXPECT_EQ(o->node, "lab-worker");
  EXPECT_EQ(o->output, "json");
  o = ParseOptions({"--mode=nftables", "--cluster-cidr=10.0.0.0/8,fd00::/48", "a/b"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->mode, "nftables");
  EXPECT_EQ(CidrForFamily(o->cluster_cidr, false), "10.0.0.0/8");
  EXPECT_EQ(CidrForFamily(o->cluster_cidr, true), "fd00::/48");
  o = ParseOptions({"--help"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
}

TEST(OptionsTest, Errors) {
  struct Case {
    std::vector<std::string> args;
    const char* error;
  } cases[] = {
      {{}, "missing SERVICE"},
      {{"a/b", "c/d"}, "one SERVICE expected"},
      {{"a/b/c"}, "not NAMESPACE/NAME"},
      {{"/b"}, "not NAMESPACE/NAME"},
      {{"a/b:"}, "empty port name"},
      {{"a/b", "--mode", "ipvs"}, "--mode"},
      {{"a/b", "-o", "yaml"}, "--output"},
      {{"a/b", "--bogus"}, "unknown flag"},
      {{"a/b", "--node"}, "--node"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Options> o = ParseOptions(c.args);
    ASSERT_FALSE(o.ok()) << c.error;
    EXPECT_TRUE(absl::StrContains(o.status().message(), c.error)) << o.status();
  }
}

std::shared_ptr<const api::core::v1::Node> MakeNode(const std::string& name, const std::string& ip) {
  auto n = std::make_shared<api::core::v1::Node>();
  n->mutable_metadata()->set_name(name);
  auto* a = n->mutable_status()->add_addresses();
  a->set_type("InternalIP");
  a->set_address(ip);
  return n;
}

TEST(OptionsTest, ChooseNode) {
  std::vector<std::shared_ptr<const api::core::v1::Node>> nodes = {
      MakeNode("lab-control-plane", "172.18.0.2"), MakeNode("lab-worker", "172.18.0.3"),
      MakeNode("lab-worker2", "172.18.0.4")};
  EXPECT_EQ(ChooseNode(nodes, {"127.0.0.1", "172.18.0.3"}, "", "host"), "lab-worker");
  EXPECT_EQ(ChooseNode(nodes, {"127.0.0.1"}, "lab-worker2", "host"), "lab-worker2");
  EXPECT_EQ(ChooseNode(nodes, {"127.0.0.1"}, "other-ns", "host"), "host");
  EXPECT_EQ(ChooseNode({nodes[1]}, {}, "", "host"), "lab-worker");
  EXPECT_EQ(ChooseNode({}, {}, "", "host"), "host");
}

}  // namespace
}  // namespace kslice::trace::cmd
