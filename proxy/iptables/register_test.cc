#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/backend.h"
#include "proxy/testing/dry_run.h"
#include "proxy/testing/state_builder.h"
#include "proxy/types.h"

namespace kslice::proxy {
namespace {

TEST(IptablesModeTest, RegisteredAndDryRunPrintsTheLabRuleset) {
  EXPECT_THAT(RegisteredBackends(), ::testing::Contains("iptables"));
  BackendOptions o;
  o.node_name = "k8-services-worker";
  o.cluster_cidrs = {"192.168.0.0/16"};
  // The lab's nginx-service with its two endpoints.
  testing::StateBuilder sb(o.node_name);
  sb.Service("default", "nginx-service", "http", "10.96.204.67", 80);
  sb.Endpoint("default", "nginx-service", "http", "192.168.156.5", 80);
  sb.Endpoint("default", "nginx-service", "http", "192.168.202.196", 80);
  absl::StatusOr<std::string> out = testing::DryRunOnce("iptables", o, sb.Build());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(*out, ::testing::HasSubstr(
                        "-A KUBE-SVC-6IM33IEVEEV7U3GP -m comment --comment "
                        "\"default/nginx-service:http cluster IP\" -m tcp -p tcp -d "
                        "10.96.204.67 --dport 80 ! -s 192.168.0.0/16 -j KUBE-MARK-MASQ\n"));
  EXPECT_THAT(*out, ::testing::HasSubstr("-j MASQUERADE --random-fully\n"));
}

}  // namespace
}  // namespace kslice::proxy
