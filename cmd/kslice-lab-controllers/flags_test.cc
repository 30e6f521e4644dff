#include "cmd/kslice-lab-controllers/flags.h"

#include "gtest/gtest.h"

namespace kslice::labcontrollers {
namespace {

TEST(LabFlagsTest, Defaults) {
  auto f = ParseLabFlags({});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->run_deployment && f->run_replicaset && f->run_daemonset && f->run_scheduler);
  EXPECT_FALSE(f->leader_election.leader_elect);
  EXPECT_EQ(f->leader_election.lease_name, "kslice-lab-controllers");
  EXPECT_EQ(f->health_bind_address, ":8082");
  EXPECT_EQ(f->deployment_workers, 5);
}

TEST(LabFlagsTest, ControllersList) {
  auto f = ParseLabFlags({"--controllers=*,-scheduler"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->run_deployment && f->run_replicaset && f->run_daemonset);
  EXPECT_FALSE(f->run_scheduler);
  f = ParseLabFlags({"--controllers", "scheduler, daemonset"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->run_scheduler && f->run_daemonset);
  EXPECT_FALSE(f->run_deployment || f->run_replicaset);
  f = ParseLabFlags({"--controllers=statefulset"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("--controllers"), std::string::npos) << f.status();
}

TEST(LabFlagsTest, ValuesAndErrors) {
  auto f = ParseLabFlags({"--kubeconfig=/tmp/k", "--master", "https://x:6443", "--leader-elect",
                          "--health-bind-address=", "--concurrent-daemonset-syncs=3"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->kubeconfig, "/tmp/k");
  EXPECT_EQ(f->master, "https://x:6443");
  EXPECT_TRUE(f->leader_election.leader_elect);
  EXPECT_EQ(f->health_bind_address, "");
  EXPECT_EQ(f->daemonset_workers, 3);
  EXPECT_FALSE(ParseLabFlags({"--concurrent-replicaset-syncs=0"}).ok());
  EXPECT_FALSE(ParseLabFlags({"--nope"}).ok());
  EXPECT_FALSE(ParseLabFlags({"--leader-elect", "--leader-elect-lease-duration=1s"}).ok());
  EXPECT_TRUE(ParseLabFlags({"--help"})->help);
}

}  // namespace
}  // namespace kslice::labcontrollers
