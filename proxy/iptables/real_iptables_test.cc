// Smoke test against the real iptables-restore, inside a fresh network namespace so the
// host's tables are never touched. Skips (with the reason) when iptables-restore is not
// installed or the process may not create a network namespace.
#include <sched.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
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

// chain -> its rules, from `iptables-save` output (declarations only name the chain).
std::map<std::string, std::vector<std::string>> RulesByChain(const std::string& save) {
  std::map<std::string, std::vector<std::string>> out;
  for (absl::string_view line : absl::StrSplit(save, '\n')) {
    if (absl::ConsumePrefix(&line, ":")) {
      out[std::string(line.substr(0, line.find(' ')))];
    } else if (absl::ConsumePrefix(&line, "-A ")) {
      out[std::string(line.substr(0, line.find(' ')))].emplace_back(line);
    }
  }
  return out;
}

TEST_F(RealIptablesTest, PartialSyncSkippingUnchangedChainsKeepsThem) {
  IptablesBackendOptions o;
  o.ruleset.local_detector = LocalTrafficDetector::ClusterCIDR("192.168.0.0/16");
  o.ruleset.nfacct_ct_state_invalid = false;
  o.ruleset.nfacct_localhost_nodeports = false;
  ASSERT_TRUE(o.skip_unchanged_chains);
  absl::StatusOr<std::unique_ptr<IptablesBackend>> b = IptablesBackend::Create(o, NewExecRunner());
  ASSERT_TRUE(b.ok()) << b.status();

  testing::StateBuilder s("k8-services-worker");
  for (int i = 1; i <= 4; ++i) {
    const std::string ns = absl::StrCat("ns", i);
    s.Service(ns, "svc", "http", absl::StrCat("10.96.0.", i), 80).node_port = 30000 + i;
    s.Endpoint(ns, "svc", "http", absl::StrCat("192.168.", i, ".1"), 8080);
    s.Endpoint(ns, "svc", "http", absl::StrCat("192.168.", i, ".2"), 8080);
  }
  ASSERT_TRUE((*b)->Sync(s.Build(), SyncHint{}).ok());
  const auto nat_before = RulesByChain(Save("nat"));
  const auto filter_before = RulesByChain(Save("filter"));
  ASSERT_TRUE(nat_before.contains("KUBE-SERVICES"));

  // ns2's endpoints change: one goes, one comes.
  s.ClearEndpoints("ns2", "svc", "http");
  s.Endpoint("ns2", "svc", "http", "192.168.2.1", 8080);
  s.Endpoint("ns2", "svc", "http", "192.168.2.3", 8080);
  SyncHint partial;
  partial.full = false;
  partial.changed_services = {"ns2/svc"};
  ASSERT_TRUE((*b)->Sync(s.Build(), partial).ok());
  EXPECT_FALSE(absl::StrContains((*b)->last_payload(), ":KUBE-SERVICES"))
      << (*b)->last_payload();
  EXPECT_GT((*b)->last_skipped_chains(), 0u);
  const auto nat_after = RulesByChain(Save("nat"));
  const auto filter_after = RulesByChain(Save("filter"));
  EXPECT_EQ(filter_after, filter_before);

  // Every chain that does not mention ns2's service or its endpoints is unchanged.
  std::vector<std::string> changed;
  for (const auto& [chain, rules] : nat_before) {
    const bool ns2 = absl::c_any_of(rules, [](const std::string& r) {
      return absl::StrContains(r, "ns2/svc") && !absl::StartsWith(r, "KUBE-SERVICES ") &&
             !absl::StartsWith(r, "KUBE-NODEPORTS ");
    });
    if (ns2) {
      changed.push_back(chain);
      continue;
    }
    auto it = nat_after.find(chain);
    ASSERT_NE(it, nat_after.end()) << chain;
    EXPECT_EQ(it->second, rules) << chain;
  }
  // ns2's SVC, EXT and two SEP chains; the 192.168.2.2 SEP chain is gone, .3 is new.
  EXPECT_EQ(changed.size(), 4u) << absl::StrJoin(changed, " ");
  size_t ns2_seps = 0;
  for (const auto& [chain, rules] : nat_after) {
    for (const std::string& r : rules) {
      EXPECT_FALSE(absl::StrContains(r, "192.168.2.2")) << r;
      if (absl::StrContains(r, "DNAT") && absl::StrContains(r, "192.168.2.")) ++ns2_seps;
    }
  }
  EXPECT_EQ(ns2_seps, 2u);

  // The result is what a full sync of the same state writes.
  o.skip_unchanged_chains = false;
  absl::StatusOr<std::unique_ptr<IptablesBackend>> reference =
      IptablesBackend::Create(o, NewExecRunner());
  ASSERT_TRUE(reference.ok()) << reference.status();
  ASSERT_TRUE((*reference)->Sync(s.Build(), SyncHint{}).ok());
  EXPECT_EQ(RulesByChain(Save("nat")), nat_after);
  EXPECT_EQ(RulesByChain(Save("filter")), filter_after);
}

}  // namespace
}  // namespace kslice::proxy::iptables
