#include <memory>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/backend.h"
#include "proxy/types.h"

namespace kslice::proxy {
namespace {

using ::testing::HasSubstr;

TEST(NftablesModeTest, RegisteredAndDryRunPrintsTheLabTable) {
  EXPECT_THAT(RegisteredBackends(), ::testing::Contains("nftables"));
  std::ostringstream out;
  BackendOptions o;
  o.node_name = "k8-services-worker";
  o.cluster_cidrs = {"192.168.0.0/16"};
  o.dry_run = true;
  o.dry_run_output = &out;
  absl::StatusOr<std::unique_ptr<Backend>> b = NewBackend("nftables", o);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->name(), "nftables");

  auto services = std::make_shared<ServicePortMap>();
  ServicePortName name{"default", "nginx-service", "http", "TCP"};
  auto info = std::make_shared<ServicePortInfo>();
  info->cluster_ip = "10.96.204.67";
  info->port = 80;
  info->protocol = "TCP";
  (*services)[name] = info;
  auto endpoints = std::make_shared<EndpointsMap>();
  auto list = std::make_shared<EndpointList>();
  for (const char* ip : {"192.168.156.5", "192.168.202.196"}) {
    EndpointInfo ep;
    ep.ip = ip;
    ep.port = 80;
    list->push_back(ep);
  }
  (*endpoints)[name] = list;
  ProxyState state;
  state.version = 1;
  state.services = services;
  state.endpoints = endpoints;
  state.node.name = o.node_name;
  ASSERT_TRUE((*b)->Sync(state, SyncHint{}).ok());
  EXPECT_THAT(out.str(), HasSubstr("add rule ip kube-proxy service-PIOJ4VP5-default/nginx-service/"
                                   "tcp/http ip daddr 10.96.204.67 ip saddr != 192.168.0.0/16 "
                                   "jump mark-for-masquerade\n"));
  EXPECT_THAT(out.str(),
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
