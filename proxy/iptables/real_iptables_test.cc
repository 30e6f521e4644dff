// Smoke test against the real iptables-restore, inside a fresh network namespace so the
// host's tables are never touched. Skips (with the reason) when iptables-restore is not
// installed or the process may not create a network namespace.
#include <sched.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/iptables/iptables_backend.h"
#include "proxy/iptables/runner.h"
#include "proxy/iptables/test_util.h"

namespace kslice::proxy::iptables {
namespace {

using ::testing::HasSubstr;

class RealIptablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runner_ = NewExecRunner();
    absl::StatusOr<CommandResult> version = runner_->Run({"iptables-restore", "--version"}, "");
    if (!version.ok() || version->exit_code != 0) {
      GTEST_SKIP() << "iptables-restore is not installed (Debian package `iptables`); "
                      "the real-dataplane smoke test cannot run here";
    }
    if (unshare(CLONE_NEWNET) != 0) {
      GTEST_SKIP() << "cannot create a network namespace (unshare(CLONE_NEWNET) failed; "
                      "needs root or CAP_SYS_ADMIN)";
    }
  }

  std::string Save(const std::string& table) {
    absl::StatusOr<CommandResult> r = runner_->Run({"iptables-save", "-t", table}, "");
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->stdout_data : "";
  }

  std::unique_ptr<Runner> runner_;
};

TEST_F(RealIptablesTest, LabCaseIsAcceptedAndCleanedUp) {
  IptablesBackendOptions o;
  o.ruleset.local_detector = LocalTrafficDetector::ClusterCIDR("192.168.0.0/16");
  // nfacct counters are not created here; leave the counting matches out.
  o.ruleset.nfacct_ct_state_invalid = false;
  o.ruleset.nfacct_localhost_nodeports = false;
  absl::StatusOr<std::unique_ptr<IptablesBackend>> b = IptablesBackend::Create(o, NewExecRunner());
  ASSERT_TRUE(b.ok()) << b.status();

  testing::StateBuilder s("k8-services-worker");
  s.Service("default", "nginx-service", "http", "10.96.204.67", 80);
  s.Endpoint("default", "nginx-service", "http", "192.168.156.5", 80);
  s.Endpoint("default", "nginx-service", "http", "192.168.202.196", 80);
  ASSERT_TRUE((*b)->Sync(s.Build(), SyncHint{}).ok());
  std::string nat = Save("nat");
  EXPECT_THAT(nat, HasSubstr(":KUBE-SVC-6IM33IEVEEV7U3GP"));
  EXPECT_THAT(nat, HasSubstr("-A KUBE-SERVICES -d 10.96.204.67/32 -p tcp -m comment --comment "
                             "\"default/nginx-service:http cluster IP\" -m tcp --dport 80 -j "
                             "KUBE-SVC-6IM33IEVEEV7U3GP"));
  EXPECT_THAT(nat, HasSubstr("-A PREROUTING -m comment --comment \"kubernetes service portals\" "
                             "-j KUBE-SERVICES"));

  // A partial sync removing one endpoint deletes its chain.
  s.ClearEndpoints("default", "nginx-service", "http");
  s.Endpoint("default", "nginx-service", "http", "192.168.156.5", 80);
  SyncHint partial;
  partial.full = false;
  partial.changed_services = {"default/nginx-service"};
  ASSERT_TRUE((*b)->Sync(s.Build(), partial).ok());
  nat = Save("nat");
  EXPECT_THAT(nat, HasSubstr(":KUBE-SEP-M6MI3YLHVX7DA53R"));
  EXPECT_FALSE(absl::StrContains(nat, "KUBE-SEP-MJ46KNWYZBDUIDMY"));

  ASSERT_TRUE((*b)->Cleanup().ok());
  nat = Save("nat");
  EXPECT_FALSE(absl::StrContains(nat, "KUBE-SVC-")) << nat;
  EXPECT_FALSE(absl::StrContains(nat, "KUBE-SERVICES")) << nat;
}

}  // namespace
}  // namespace kslice::proxy::iptables
