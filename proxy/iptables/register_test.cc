#include <memory>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/backend.h"
#include "proxy/types.h"

namespace kslice::proxy {
namespace {

TEST(IptablesModeTest, RegisteredAndDryRunPrintsTheLabRuleset) {
  EXPECT_THAT(RegisteredBackends(), ::testing::Contains("iptables"));
  std::ostringstream out;
  BackendOptions o;
  o.node_name = "k8-services-worker";
  o.cluster_cidrs = {"192.168.0.0/16"};
  o.dry_run = true;
  o.dry_run_output = &out;
  absl::StatusOr<std::unique_ptr<Backend>> b = NewBackend("iptables", o);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->name(), "iptables");

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
  EXPECT_THAT(out.str(), ::testing::HasSubstr(
                             "-A KUBE-SVC-6IM33IEVEEV7U3GP -m comment --comment "
                             "\"default/nginx-service:http cluster IP\" -m tcp -p tcp -d "
                             "10.96.204.67 --dport 80 ! -s 192.168.0.0/16 -j KUBE-MARK-MASQ\n"));
  EXPECT_THAT(out.str(), ::testing::HasSubstr("-j MASQUERADE --random-fully\n"));
}

}  // namespace
}  // namespace kslice::proxy
