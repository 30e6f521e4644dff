#include "cmd/endpointslice-controller/flags.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kslice::endpointslice::cmd {
namespace {

ControllerFlags MustParse(const std::vector<std::string>& args) {
  absl::StatusOr<ControllerFlags> f = ParseControllerFlags(args);
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *f : ControllerFlags{};
}

// The error message of a rejected command line ("" if it was accepted).
std::string Error(const std::vector<std::string>& args) {
  absl::StatusOr<ControllerFlags> f = ParseControllerFlags(args);
  if (f.ok()) return "";
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(f.status().message());
}

TEST(ControllerFlagsTest, DefaultsAreKubeControllerManagers) {
  ControllerFlags f = MustParse({});
  EXPECT_EQ(f.kube_api_qps, 20.0f);
  EXPECT_EQ(f.kube_api_burst, 30);
  EXPECT_EQ(f.endpointslice.workers, 5);
  EXPECT_EQ(f.endpointslice.max_endpoints_per_slice, 100);
  EXPECT_EQ(f.endpointslice.endpoint_updates_batch_period, absl::ZeroDuration());
  EXPECT_EQ(f.mirroring.workers, 5);
  EXPECT_EQ(f.mirroring.max_endpoints_per_subset, 1000);
  EXPECT_TRUE(f.leader_elect);
  EXPECT_EQ(f.lease_duration, absl::Seconds(15));
  EXPECT_EQ(f.renew_deadline, absl::Seconds(10));
  EXPECT_EQ(f.retry_period, absl::Seconds(2));
  EXPECT_EQ(f.lease_namespace, "kube-system");
  EXPECT_EQ(f.lease_name, "endpointslice-controller");
  EXPECT_TRUE(f.run_endpointslice);
  EXPECT_TRUE(f.run_mirroring);
  EXPECT_FALSE(f.help);
}

TEST(ControllerFlagsTest, BothSyntaxesAndGoDurations) {
  ControllerFlags f = MustParse({"--kubeconfig", "/k", "--master=https://h:6443",
                                 "--kube-api-qps=50.5", "--kube-api-burst", "100",
                                 "--concurrent-service-endpoint-syncs=10",
                                 "--max-endpoints-per-slice=500",
                                 "--endpointslice-updates-batch-period=1s500ms",
                                 "--mirroring-max-endpoints-per-subset=200",
                                 "--mirroring-endpointslice-updates-batch-period", "250ms",
                                 "--leader-elect=false", "--health-bind-address=127.0.0.1:0"});
  EXPECT_EQ(f.kubeconfig, "/k");
  EXPECT_EQ(f.master, "https://h:6443");
  EXPECT_EQ(f.kube_api_qps, 50.5f);
  EXPECT_EQ(f.kube_api_burst, 100);
  EXPECT_EQ(f.endpointslice.workers, 10);
  EXPECT_EQ(f.endpointslice.max_endpoints_per_slice, 500);
  EXPECT_EQ(f.endpointslice.endpoint_updates_batch_period, absl::Milliseconds(1500));
  EXPECT_EQ(f.mirroring.max_endpoints_per_subset, 200);
  EXPECT_EQ(f.mirroring.updates_batch_period, absl::Milliseconds(250));
  EXPECT_FALSE(f.leader_elect);
  EXPECT_EQ(f.health_bind_address, "127.0.0.1:0");
}

TEST(ControllerFlagsTest, MirroringWorkersUnderBothNames) {
  EXPECT_EQ(MustParse({"--mirroring-concurrent-service-endpoint-syncs=7"}).mirroring.workers, 7);
  EXPECT_EQ(MustParse({"--concurrent-endpointslice-mirroring-syncs=8"}).mirroring.workers, 8);
}

TEST(ControllerFlagsTest, Controllers) {
  struct Case {
    std::string value;
    bool slices, mirroring;
  };
  for (const Case& c : std::vector<Case>{
           {"*", true, true},
           {"endpointslice-controller", true, false},
           {"endpointslicemirroring", false, true},
           {"*,-endpointslice-mirroring-controller", true, false},
           {"*,-endpointslice", false, true},
           {"endpointslice,endpointslice-mirroring-controller", true, true},
       }) {
    ControllerFlags f = MustParse({"--controllers=" + c.value});
    EXPECT_EQ(f.run_endpointslice, c.slices) << c.value;
    EXPECT_EQ(f.run_mirroring, c.mirroring) << c.value;
  }
  EXPECT_TRUE(absl::StrContains(Error({"--controllers=*,-garbage-collector-controller"}),
                                "\"garbage-collector-controller\" is not a known controller"));
  EXPECT_TRUE(absl::StrContains(Error({"--controllers=-endpointslice,-endpointslicemirroring"}),
                                "enables no controller"));
}

TEST(ControllerFlagsTest, BadSyntax) {
  EXPECT_EQ(Error({"--no-such-flag"}), "unknown flag: --no-such-flag");
  EXPECT_EQ(Error({"positional"}), "unexpected argument \"positional\"");
  EXPECT_EQ(Error({"--kubeconfig"}), "flag needs an argument: --kubeconfig");
  EXPECT_TRUE(absl::StrContains(Error({"--kube-api-burst=many"}), "--kube-api-burst"));
  EXPECT_TRUE(absl::StrContains(Error({"--leader-elect=maybe"}), "not a boolean"));
  EXPECT_TRUE(absl::StrContains(Error({"--endpointslice-updates-batch-period=1"}),
                                "is not a duration"));
  EXPECT_TRUE(absl::StrContains(Error({"--leader-elect-resource-lock=endpointsleases"}),
                                "only \"leases\""));
  EXPECT_TRUE(absl::StrContains(Error({"--secure-port=10257"}), "--health-bind-address"));
  EXPECT_EQ(Error({"--secure-port=0"}), "");
  EXPECT_TRUE(absl::StrContains(Error({"--bind-address=0.0.0.0"}), "--health-bind-address"));
  EXPECT_TRUE(absl::StrContains(Error({"--kube-api-qps=0"}), "--kube-api-qps"));
}

TEST(ControllerFlagsTest, RangesComeFromTheControllers) {
  // The messages are the controllers' ValidateOptions (kube-controller-manager's).
  for (const std::string arg :
       {"--max-endpoints-per-slice=0", "--max-endpoints-per-slice=1001",
        "--concurrent-service-endpoint-syncs=0", "--concurrent-service-endpoint-syncs=51",
        "--mirroring-max-endpoints-per-subset=1001",
        "--mirroring-concurrent-service-endpoint-syncs=0"}) {
    const std::string flag = arg.substr(2, arg.find('=') - 2);
    std::string message = Error({arg});
    EXPECT_TRUE(absl::StrContains(message, flag)) << arg << ": " << message;
  }
  EXPECT_EQ(Error({"--max-endpoints-per-slice=1", "--max-endpoints-per-slice=1000"}), "");
}

TEST(ControllerFlagsTest, LeaderElectionDurations) {
  EXPECT_TRUE(absl::StrContains(Error({"--leader-elect-lease-duration=10s"}),
                                "must be greater than --leader-elect-renew-deadline"));
  EXPECT_TRUE(absl::StrContains(Error({"--leader-elect-retry-period=9s"}), "JitterFactor"));
  // Not checked when leader election is off.
  EXPECT_EQ(Error({"--leader-elect=false", "--leader-elect-lease-duration=1s"}), "");
}

TEST(ControllerFlagsTest, Help) {
  EXPECT_TRUE(MustParse({"--help"}).help);
  EXPECT_TRUE(MustParse({"-h", "--max-endpoints-per-slice=0"}).help);  // help wins
  EXPECT_TRUE(absl::StrContains(ControllerUsage(), "--max-endpoints-per-slice"));
}

TEST(ReconcileFlagsTest, Parse) {
  absl::StatusOr<ReconcileFlags> f =
      ParseReconcileFlags({"-f", "-", "-o", "JSON", "--max-endpoints-per-slice=3", "--show-actions"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->file, "-");
  EXPECT_EQ(f->output, "json");
  EXPECT_EQ(f->max_endpoints_per_slice, 3);
  EXPECT_TRUE(f->show_actions);

  f = ParseReconcileFlags({"--filename=x.yaml"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->output, "yaml");

  EXPECT_FALSE(ParseReconcileFlags({}).ok());  // -f is required
  EXPECT_TRUE(ParseReconcileFlags({"--help"}).ok());
  EXPECT_FALSE(ParseReconcileFlags({"-f", "x", "-o", "table"}).ok());
  absl::StatusOr<ReconcileFlags> bad = ParseReconcileFlags({"-f", "x", "--max-endpoints-per-slice=0"});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "max-endpoints-per-slice"));
}

}  // namespace
}  // namespace kslice::endpointslice::cmd
