#include "cmd/kslice-lab-kubelet/flags.h"

#include "gtest/gtest.h"

namespace kslice::lab::cmd {
namespace {

TEST(FlagsTest, TheContractsCommandLine) {
  absl::StatusOr<Flags> f =
      ParseFlags({"--kubeconfig",
                  "/tmp/kc",
                  "--node-name",
                  "lab-worker",
                  "--node-ip",
                  "172.18.0.3",
                  "--pod-cidr",
                  "192.168.202.192/26",
                  "--first-pod-ip",
                  "192.168.202.194",
                  "--pod-gateway",
                  "192.168.202.193",
                  "--bridge",
                  "cni0",
                  "--node-labels",
                  "topology.kubernetes.io/zone=zone-a,node-role.kubernetes.io/control-plane=",
                  "--register-with-taints",
                  "node-role.kubernetes.io/control-plane:NoSchedule,a=b:NoExecute",
                  "--state-dir=/tmp/s",
                  "--cluster-domain",
                  "cluster.local",
                  "--healthz-bind-address",
                  "0",
                  "--restart-backoff-base=1s"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->kubeconfig, "/tmp/kc");
  const kubelet::KubeletOptions& o = f->options;
  EXPECT_EQ(o.node_name, "lab-worker");
  EXPECT_EQ(o.node_ip, "172.18.0.3");
  EXPECT_EQ(o.pod_cidr, "192.168.202.192/26");
  EXPECT_EQ(o.first_pod_ip, "192.168.202.194");
  EXPECT_EQ(o.pod_gateway, "192.168.202.193");
  EXPECT_EQ(o.state_dir, "/tmp/s");
  EXPECT_EQ(o.restart_backoff_base, absl::Seconds(1));
  EXPECT_EQ(o.node_labels.at("topology.kubernetes.io/zone"), "zone-a");
  EXPECT_EQ(o.node_labels.at("node-role.kubernetes.io/control-plane"), "");
  ASSERT_EQ(o.register_with_taints.size(), 2u);
  EXPECT_EQ(o.register_with_taints[0].key(), "node-role.kubernetes.io/control-plane");
  EXPECT_FALSE(o.register_with_taints[0].has_value());
  EXPECT_EQ(o.register_with_taints[0].effect(), "NoSchedule");
  EXPECT_EQ(o.register_with_taints[1].value(), "b");
  EXPECT_FALSE(f->cleanup);
  kubelet::KubeletOptions copy = o;
  EXPECT_TRUE(kubelet::ValidateOptions(&copy).ok());
}

TEST(FlagsTest, Errors) {
  EXPECT_FALSE(ParseFlags({"--bogus", "x"}).ok());
  EXPECT_FALSE(ParseFlags({"--node-name"}).ok());
  EXPECT_FALSE(ParseFlags({"stray"}).ok());
  EXPECT_FALSE(ParseFlags({"--register-with-taints", "k=v:Sometimes"}).ok());
  EXPECT_FALSE(ParseFlags({"--register-with-taints", "k=v"}).ok());
  EXPECT_FALSE(ParseFlags({"--node-labels", "novalue"}).ok());
  EXPECT_FALSE(ParseFlags({"--restart-backoff-max", "soon"}).ok());
  EXPECT_FALSE(ParseFlags({"--cleanup", "--node-name", "n"}).ok()) << "needs --state-dir";
  absl::StatusOr<Flags> c = ParseFlags({"--cleanup", "--node-name", "n", "--state-dir", "/s"});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->cleanup);
}

TEST(FlagsTest, ValidationNamesTheProblem) {
  absl::StatusOr<Flags> f =
      ParseFlags({"--node-name", "n", "--node-ip", "10.0.0.1", "--pod-cidr", "10.1.0.0/26",
                  "--pod-gateway", "10.2.0.1", "--state-dir", "/s"});
  ASSERT_TRUE(f.ok());
  absl::Status st = kubelet::ValidateOptions(&f->options);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("gateway"), std::string::npos) << st;
  f = ParseFlags({"--node-name", "n", "--node-ip", "10.0.0.1", "--pod-cidr", "10.1.0.0/26",
                  "--pod-gateway", "10.1.0.1", "--state-dir", "/s"});
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(kubelet::ValidateOptions(&f->options).ok());
  EXPECT_EQ(f->options.first_pod_ip, "10.1.0.2");
  f = ParseFlags({"--node-name", "n", "--pod-cidr", "10.1.0.0/26"});
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(kubelet::ValidateOptions(&f->options).ok());
}

}  // namespace
}  // namespace kslice::lab::cmd
