// End to end without a server: the lab's Service and EndpointSlice objects (shared/seed)
// go through the proxy core (trackers, endpoint selection, Proxier::SyncOnce) into the
// iptables backend, whose restore input must be the lab golden byte for byte.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "proxy/iptables/dump_sort.h"
#include "proxy/iptables/fake_runner.h"
#include "proxy/iptables/iptables_backend.h"
#include "proxy/iptables/test_util.h"
#include "proxy/proxier.h"

namespace kslice::proxy::iptables {
namespace {

template <typename T>
std::shared_ptr<const T> Parse(const std::string& text) {
  auto msg = std::make_shared<T>();
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, msg.get())) << text;
  return msg;
}

TEST(ProxierLabTest, ServiceAndSliceToExactRestoreInput) {
  IptablesBackendOptions o;
  o.ruleset.local_detector = LocalTrafficDetector::ClusterCIDR("192.168.0.0/16");
  auto fake = std::make_unique<FakeIptables>();
  FakeIptables* ipt = fake.get();
  absl::StatusOr<std::unique_ptr<IptablesBackend>> backend =
      IptablesBackend::Create(o, std::move(fake));
  ASSERT_TRUE(backend.ok()) << backend.status();
  ProxierOptions po;
  po.node_name = "k8-services-worker";
  absl::StatusOr<std::unique_ptr<Proxier>> proxier = Proxier::Create(**backend, po);
  ASSERT_TRUE(proxier.ok()) << proxier.status();

  (*proxier)->OnServiceUpdate(nullptr, Parse<api::core::v1::Service>(R"pb(
                                metadata { namespace: "default" name: "nginx-service" }
                                spec {
                                  type: "ClusterIP"
                                  clusterIP: "10.96.204.67"
                                  clusterIPs: "10.96.204.67"
                                  ports {
                                    name: "http"
                                    protocol: "TCP"
                                    port: 80
                                    targetPort { intVal: 80 }
                                  }
                                  selector { key: "app" value: "nginx" }
                                }
                              )pb"));
  (*proxier)->OnEndpointSliceUpdate(
      Parse<api::discovery::v1::EndpointSlice>(R"pb(
        metadata {
          namespace: "default"
          name: "nginx-service-6zrf8"
          labels { key: "kubernetes.io/service-name" value: "nginx-service" }
        }
        addressType: "IPv4"
        endpoints {
          addresses: "192.168.202.196"
          conditions { ready: true serving: true terminating: false }
          nodeName: "k8-services-worker"
        }
        endpoints {
          addresses: "192.168.156.5"
          conditions { ready: true serving: true terminating: false }
          nodeName: "k8-services-worker2"
        }
        ports { name: "http" protocol: "TCP" port: 80 }
      )pb"),
      false);
  ASSERT_TRUE((*proxier)->SyncOnce().ok());
  EXPECT_EQ((*backend)->last_payload(), testing::ReadGolden("lab_nginx_service.golden"));
  EXPECT_EQ(ipt->Rules("nat", "KUBE-SVC-6IM33IEVEEV7U3GP").size(), 3u);
}

// kube-proxy's TestOverallIPTablesRules built from Service and EndpointSlice objects, so
// that the trackers' reading of LoadBalancer status, traffic policies, source ranges and
// affinity is checked too; compared with spec Dump A after upstream's sort.
TEST(ProxierLabTest, OverallRulesFromObjects) {
  IptablesBackendOptions o;
  o.detect_version = false;
  o.ruleset.random_fully = false;
  o.ruleset.node_ip = "192.168.0.2";
  o.ruleset.local_detector = LocalTrafficDetector::ClusterCIDR("10.0.0.0/8");
  absl::StatusOr<std::unique_ptr<IptablesBackend>> backend =
      IptablesBackend::Create(o, std::make_unique<FakeIptables>());
  ASSERT_TRUE(backend.ok()) << backend.status();
  ProxierOptions po;
  po.node_name = "test-node";
  absl::StatusOr<std::unique_ptr<Proxier>> proxier = Proxier::Create(**backend, po);
  ASSERT_TRUE(proxier.ok()) << proxier.status();

  auto service = [&](const std::string& ns, const std::string& spec,
                     const std::string& status = "") {
    (*proxier)->OnServiceUpdate(
        nullptr, Parse<api::core::v1::Service>(
                     absl::StrCat("metadata { namespace: \"", ns, "\" name: \"svc", ns.substr(2),
                                  "\" } spec { ", spec, " } status { ", status, " }")));
  };
  auto slice = [&](const std::string& ns, const std::string& endpoints) {
    (*proxier)->OnEndpointSliceUpdate(
        Parse<api::discovery::v1::EndpointSlice>(
            absl::StrCat("metadata { namespace: \"", ns, "\" name: \"svc", ns.substr(2),
                         "-1\" labels { key: \"kubernetes.io/service-name\" value: \"svc",
                         ns.substr(2), "\" } } addressType: \"IPv4\" ", endpoints,
                         " ports { name: \"p80\" protocol: \"TCP\" port: 80 }")),
        false);
  };
  const std::string port = "ports { name: \"p80\" protocol: \"TCP\" port: 80 ";
  service("ns1", "type: \"ClusterIP\" clusterIP: \"172.30.0.41\" " + port + "}");
  slice("ns1", "endpoints { addresses: \"10.180.0.1\" }");
  service("ns2",
          "type: \"LoadBalancer\" clusterIP: \"172.30.0.42\" externalIPs: \"192.168.99.22\" " +
              port + "nodePort: 3001 } externalTrafficPolicy: \"Local\" healthCheckNodePort: 30000",
          "loadBalancer { ingress { ip: \"1.2.3.4\" } }");
  slice("ns2", "endpoints { addresses: \"10.180.0.2\" nodeName: \"host2\" }");
  service("ns3", "type: \"NodePort\" clusterIP: \"172.30.0.43\" " + port + "nodePort: 3003 }");
  slice("ns3", "endpoints { addresses: \"10.180.0.3\" }");
  service("ns4", "type: \"ClusterIP\" clusterIP: \"172.30.0.44\" externalIPs: \"192.168.99.33\" " +
                     port + "}");
  slice("ns4",
        "endpoints { addresses: \"10.180.0.4\" } endpoints { addresses: \"10.180.0.5\" "
        "nodeName: \"host2\" }");
  service("ns5",
          "type: \"LoadBalancer\" clusterIP: \"172.30.0.45\" " + port +
              "nodePort: 3002 } externalTrafficPolicy: \"Cluster\" "
              "loadBalancerSourceRanges: \" 203.0.113.0/25\" sessionAffinity: \"ClientIP\" "
              "sessionAffinityConfig { clientIP { timeoutSeconds: 10800 } }",
          "loadBalancer { ingress { ip: \"5.6.7.8\" } }");
  slice("ns5", "endpoints { addresses: \"10.180.0.3\" }");
  service("ns6", "type: \"ClusterIP\" clusterIP: \"172.30.0.46\" " + port + "}");
  ASSERT_TRUE((*proxier)->SyncOnce().ok());

  absl::StatusOr<std::string> sorted = SortRestorePayload(
      absl::StrReplaceAll((*backend)->last_payload(), {{"0x00004000", "0x4000"}}));
  ASSERT_TRUE(sorted.ok()) << sorted.status();
  EXPECT_EQ(*sorted, testing::ReadGolden("overall_rules.golden"));
}

}  // namespace
}  // namespace kslice::proxy::iptables
