// The proxier against the embedded API server: Services, EndpointSlices and the Node
// go through real informers; a fake backend receives the states.
#include <memory>
#include <stop_token>
#include <thread>

#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "client/rest/client.h"
#include "envtest/environment/environment.h"
#include "gtest/gtest.h"
#include "informers/factory.h"
#include "proxy/proxier.h"
#include "proxy/testing/fake_backend.h"

namespace kslice::proxy {
namespace {

using api::core::v1::Node;
using api::core::v1::NodeList;
using api::core::v1::Service;
using api::core::v1::ServiceList;
using api::discovery::v1::EndpointSlice;
using api::discovery::v1::EndpointSliceList;

TEST(ProxierEnvtest, ServiceAndSlicesReachTheBackend) {
  auto env = envtest::Environment::Start();
  ASSERT_TRUE(env.ok()) << env.status();
  auto ns = (*env)->CreateNamespace("proxy-");
  ASSERT_TRUE(ns.ok()) << ns.status();
  auto c = client::RestClient::Create((*env)->config());
  ASSERT_TRUE(c.ok()) << c.status();

  testing::FakeBackend backend;
  ProxierOptions o;
  o.node_name = "node-a";
  o.min_sync_period = absl::ZeroDuration();
  auto proxier = Proxier::Create(backend, o);
  ASSERT_TRUE(proxier.ok()) << proxier.status();
  informers::FactoryOptions fo;
  fo.tweak = ProxyListOptionsTweak();
  informers::SharedInformerFactory factory(**c, fo);
  ASSERT_TRUE((*proxier)->AttachInformers(factory).ok());
  std::stop_source stop;
  factory.Start(stop.get_token());
  std::thread run([&] { EXPECT_TRUE((*proxier)->Run(stop.get_token()).ok()); });

  // This node, in zone-a.
  Node node;
  node.mutable_metadata()->set_name("node-a");
  (*node.mutable_metadata()->mutable_labels())["topology.kubernetes.io/zone"] = "zone-a";
  ASSERT_TRUE((client::Typed<Node, NodeList>(**c).Create(node).ok()));

  Service svc;
  svc.mutable_metadata()->set_namespace_(*ns);
  svc.mutable_metadata()->set_name("nginx-service");
  svc.mutable_spec()->set_type("ClusterIP");
  svc.mutable_spec()->set_clusterip("10.96.204.67");
  svc.mutable_spec()->add_clusterips("10.96.204.67");
  (*svc.mutable_spec()->mutable_selector())["app"] = "nginx";
  auto* port = svc.mutable_spec()->add_ports();
  port->set_name("http");
  port->set_protocol("TCP");
  port->set_port(80);
  port->mutable_targetport()->set_intval(80);
  auto created = client::Typed<Service, ServiceList>(**c).Create(svc);
  ASSERT_TRUE(created.ok()) << created.status();

  EndpointSlice slice;
  slice.mutable_metadata()->set_namespace_(*ns);
  slice.mutable_metadata()->set_name("nginx-service-abcde");
  (*slice.mutable_metadata()->mutable_labels())["kubernetes.io/service-name"] = "nginx-service";
  slice.set_addresstype("IPv4");
  auto* sp = slice.add_ports();
  sp->set_name("http");
  sp->set_protocol("TCP");
  sp->set_port(80);
  for (const char* ip : {"192.168.156.5", "192.168.202.196"}) {
    auto* ep = slice.add_endpoints();
    ep->add_addresses(ip);
    ep->mutable_conditions()->set_ready(true);
  }
  slice.mutable_endpoints(0)->set_nodename("node-a");
  client::Typed<EndpointSlice, EndpointSliceList> slices(**c);
  auto created_slice = slices.Create(slice);
  ASSERT_TRUE(created_slice.ok()) << created_slice.status();

  const ServicePortName spn{*ns, "nginx-service", "http", "TCP"};
  testing::FakeBackend::Call call;
  ASSERT_TRUE(backend.WaitFor(
      [&](const testing::FakeBackend::Call& x) {
        return x.state.EndpointsOf(spn).size() == 2 && x.state.services->count(spn) > 0 &&
               x.state.node.Zone() == "zone-a";
      },
      &call));
  const ServicePortInfo& info = *call.state.services->at(spn);
  EXPECT_EQ(info.cluster_ip, "10.96.204.67");
  EXPECT_EQ(info.port, 80);
  EXPECT_EQ(info.protocol, "TCP");
  const EndpointList& eps = call.state.EndpointsOf(spn);
  EXPECT_EQ(eps[0].String(), "192.168.156.5:80");
  EXPECT_TRUE(eps[0].is_local);
  EXPECT_EQ(eps[1].String(), "192.168.202.196:80");
  EXPECT_FALSE(eps[1].is_local);
  const uint64_t version = call.state.version;

  // Remove one endpoint: a later, partial sync for this Service only.
  EndpointSlice updated = *created_slice;
  updated.mutable_endpoints()->RemoveLast();
  ASSERT_TRUE(slices.Update(updated).ok());
  ASSERT_TRUE(backend.WaitFor(
      [&](const testing::FakeBackend::Call& x) {
        return x.state.version > version && x.state.EndpointsOf(spn).size() == 1;
      },
      &call));
  EXPECT_FALSE(call.hint.full);
  EXPECT_EQ(call.hint.changed_services, std::set<std::string>{*ns + "/nginx-service"});
  EXPECT_EQ(call.hint.changed_ports, std::set<ServicePortName>{spn});
  EXPECT_EQ(call.state.EndpointsOf(spn)[0].String(), "192.168.156.5:80");

  stop.request_stop();
  run.join();
  factory.Shutdown();
}

}  // namespace
}  // namespace kslice::proxy
