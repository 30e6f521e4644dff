#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/backend.h"
#include "proxy/testing/dry_run.h"
#include "proxy/testing/state_builder.h"
#include "proxy/types.h"

namespace kslice::proxy {
namespace {

using ::testing::HasSubstr;

TEST(NftablesModeTest, RegisteredAndDryRunPrintsTheLabTable) {
  EXPECT_THAT(RegisteredBackends(), ::testing::Contains("nftables"));
  BackendOptions o;
  o.node_name = "k8-services-worker";
  o.cluster_cidrs = {"192.168.0.0/16"};
  // The lab's nginx-service with its two endpoints.
  testing::StateBuilder sb(o.node_name);
  sb.Service("default", "nginx-service", "http", "10.96.204.67", 80);
  sb.Endpoint("default", "nginx-service", "http", "192.168.156.5", 80);
  sb.Endpoint("default", "nginx-service", "http", "192.168.202.196", 80);
  absl::StatusOr<std::string> out = testing::DryRunOnce("nftables", o, sb.Build());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(*out, HasSubstr("add rule ip kube-proxy service-PIOJ4VP5-default/nginx-service/"
                              "tcp/http ip daddr 10.96.204.67 ip saddr != 192.168.0.0/16 "
                              "jump mark-for-masquerade\n"));
  EXPECT_THAT(*out,
              HasSubstr("add element ip kube-proxy service-ips { 10.96.204.67 . tcp . "
                        "80 : goto service-PIOJ4VP5-default/nginx-service/tcp/http }\n"));
}

TEST(NftablesModeTest, BadOptionsAreAnError) {
  BackendOptions o;
  o.cluster_cidrs = {"not-a-cidr"};
  EXPECT_FALSE(NewBackend("nftables", o).ok());
  o = BackendOptions();
  o.dry_run = true;  // without an output stream
  EXPECT_FALSE(NewBackend("nftables", o).ok());
}

}  // namespace
}  // namespace kslice::proxy
