#include "cmd/kslice-proxy/flags.h"

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kslice::proxy::cmd {
namespace {

ProxyFlags MustParse(const std::vector<std::string>& args, const std::string& host = "Node-1") {
  absl::StatusOr<ProxyFlags> f = ParseProxyFlags(args, host);
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *f : ProxyFlags{};
}

void ExpectError(const std::vector<std::string>& args, const std::string& needle) {
  absl::StatusOr<ProxyFlags> f = ParseProxyFlags(args, "node");
  ASSERT_FALSE(f.ok()) << "accepted: " << args.front();
  EXPECT_TRUE(absl::IsInvalidArgument(f.status()));
  EXPECT_TRUE(absl::StrContains(f.status().message(), needle)) << f.status();
}

TEST(ProxyFlagsTest, KubeProxyDefaults) {
  ProxyFlags f = MustParse({});
  EXPECT_EQ(f.hostname, "node-1");  // the OS hostname, lower-cased
  EXPECT_EQ(f.proxy_mode, "iptables");
  EXPECT_TRUE(f.cluster_cidrs.empty());
  EXPECT_FALSE(f.masquerade_all);
  EXPECT_EQ(f.masquerade_bit, 14);
  EXPECT_EQ(f.sync_period, absl::Seconds(30));
  EXPECT_EQ(f.min_sync_period, absl::Seconds(1));
  EXPECT_TRUE(f.localhost_nodeports);
  EXPECT_EQ(f.healthz_bind_address, "0.0.0.0:10256");
  EXPECT_EQ(f.metrics_bind_address, "127.0.0.1:10249");
  EXPECT_FALSE(f.cleanup);
  EXPECT_FALSE(f.dry_run);
  EXPECT_FALSE(f.help);
}

TEST(ProxyFlagsTest, EveryFlagBothSyntaxes) {
  ProxyFlags f = MustParse({"--kubeconfig=/k", "--master", "https://1.2.3.4:6443",
                            "--hostname-override", " Worker-A ", "--proxy-mode=iptables",
                            "--cluster-cidr=10.244.1.0/16,fd00::1/64", "--masquerade-all",
                            "--iptables-masquerade-bit=5", "--iptables-sync-period", "1m",
                            "--iptables-min-sync-period=250ms",
                            "--iptables-localhost-nodeports=false",
                            "--nodeport-addresses=192.168.0.0/24",
                            "--healthz-bind-address=127.0.0.1", "--metrics-bind-address=::1",
                            "--kube-api-qps=50", "--kube-api-burst=100"});
  EXPECT_EQ(f.kubeconfig, "/k");
  EXPECT_EQ(f.master, "https://1.2.3.4:6443");
  EXPECT_EQ(f.hostname, "worker-a");
  // Canonical networks, as Go's IPNet.String().
  EXPECT_EQ(f.cluster_cidrs, (std::vector<std::string>{"10.244.0.0/16", "fd00::/64"}));
  EXPECT_TRUE(f.masquerade_all);
  EXPECT_EQ(f.masquerade_bit, 5);
  EXPECT_EQ(f.sync_period, absl::Minutes(1));
  EXPECT_EQ(f.min_sync_period, absl::Milliseconds(250));
  EXPECT_FALSE(f.localhost_nodeports);
  EXPECT_EQ(f.nodeport_addresses, std::vector<std::string>{"192.168.0.0/24"});
  EXPECT_EQ(f.healthz_bind_address, "127.0.0.1:10256");  // default port appended
  EXPECT_EQ(f.metrics_bind_address, "[::1]:10249");
  EXPECT_EQ(f.kube_api_qps, 50.0f);
  EXPECT_EQ(f.kube_api_burst, 100);
}

TEST(ProxyFlagsTest, EmptyModeMeansIptablesAndEmptyAddressesTurnServersOff) {
  ProxyFlags f = MustParse({"--proxy-mode=", "--healthz-bind-address=", "--metrics-bind-address="});
  EXPECT_EQ(f.proxy_mode, "iptables");
  EXPECT_EQ(f.healthz_bind_address, "");
  EXPECT_EQ(f.metrics_bind_address, "");
}

TEST(ProxyFlagsTest, UnknownModesPassTheParser) {
  // The registry (what the binary links) decides; the parser does not know the modes.
  EXPECT_EQ(MustParse({"--proxy-mode=nftables"}).proxy_mode, "nftables");
}

TEST(ProxyFlagsTest, DryRunAndCleanup) {
  ProxyFlags f = MustParse({"--dry-run", "-f", "in.yaml"});
  EXPECT_TRUE(f.dry_run);
  EXPECT_EQ(f.file, "in.yaml");
  EXPECT_TRUE(MustParse({"--cleanup"}).cleanup);
  EXPECT_EQ(MustParse({"--dry-run", "--filename=-"}).file, "-");
  ExpectError({"--dry-run"}, "needs -f FILE");
  ExpectError({"-f", "x"}, "only used with --dry-run");
  ExpectError({"--dry-run", "-f", "x", "--cleanup"}, "cannot be combined");
}

TEST(ProxyFlagsTest, HelpSkipsValidation) {
  EXPECT_TRUE(MustParse({"--iptables-masquerade-bit=99", "--help"}).help);
  EXPECT_TRUE(MustParse({"-h"}).help);
}

TEST(ProxyFlagsTest, Errors) {
  ExpectError({"--bogus"}, "unknown flag: --bogus");
  ExpectError({"positional"}, "unexpected argument");
  ExpectError({"--master"}, "flag needs an argument");
  ExpectError({"--iptables-sync-period=5"}, "not a duration");
  ExpectError({"--iptables-sync-period=0s"}, "greater than 0");
  ExpectError({"--iptables-min-sync-period=-1s"}, "greater than or equal to 0");
  ExpectError({"--iptables-masquerade-bit=32"}, "0..31");
  ExpectError({"--iptables-masquerade-bit=x"}, "not an integer");
  ExpectError({"--cluster-cidr=10.0.0.0/33"}, "not a CIDR");
  ExpectError({"--cluster-cidr=10.0.0.1"}, "not a CIDR");
  ExpectError({"--nodeport-addresses=primary"}, "not a CIDR");
  ExpectError({"--masquerade-all=yes please"}, "not a boolean");
  ExpectError({"--kube-api-qps=0"}, "greater than 0");
  ExpectError({"--healthz-bind-address=[::1"}, "healthz-bind-address");
  absl::StatusOr<ProxyFlags> f = ParseProxyFlags({}, "  ");
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(absl::StrContains(f.status().message(), "hostname-override"));
}

TEST(ProxyFlagsTest, BackendOptions) {
  ProxyFlags f = MustParse({"--backend-opt", "grpc.listen=unix:/run/kslice.sock",
                            "--backend-opt=iptables.node-ip=10.0.0.7", "--backend-opt=x=a=b"});
  const std::map<std::string, std::string> want = {{"grpc.listen", "unix:/run/kslice.sock"},
                                                   {"iptables.node-ip", "10.0.0.7"},
                                                   {"x", "a=b"}};
  EXPECT_EQ(f.backend_opts, want);
  EXPECT_TRUE(MustParse({}).backend_opts.empty());
  ExpectError({"--backend-opt=grpc.listen"}, "invalid value for --backend-opt: \"grpc.listen\" is not KEY=VALUE");
  ExpectError({"--backend-opt", "=1"}, "empty key");
  ExpectError({"--backend-opt"}, "flag needs an argument");
}

TEST(ProxyFlagsTest, SharedCacheMode) {
  ProxyFlags plain = MustParse({});
  EXPECT_FALSE(plain.run_endpointslice_controller);
  EXPECT_EQ(plain.kube_api_qps, 5.0f);  // kube-proxy's defaults stay without the mode
  EXPECT_EQ(plain.kube_api_burst, 10);

  ProxyFlags f = MustParse({"--run-endpointslice-controller"});
  EXPECT_TRUE(f.run_endpointslice_controller);
  EXPECT_EQ(f.kube_api_qps, 20.0f);  // kube-controller-manager's, when not given
  EXPECT_EQ(f.kube_api_burst, 30);
  EXPECT_EQ(f.endpointslice.workers, 5);
  EXPECT_EQ(f.endpointslice.max_endpoints_per_slice, 100);
  EXPECT_TRUE(f.leader_election.leader_elect);
  EXPECT_EQ(f.leader_election.lease_name, "endpointslice-controller");
  EXPECT_EQ(f.leader_election.lease_namespace, "kube-system");
  EXPECT_EQ(f.leader_election.lease_duration, absl::Seconds(15));

  f = MustParse({"--run-endpointslice-controller", "--kube-api-qps=7", "--kube-api-burst=9",
                 "--max-endpoints-per-slice=50", "--concurrent-service-endpoint-syncs=2",
                 "--endpointslice-updates-batch-period=500ms", "--leader-elect=false",
                 "--leader-elect-resource-name=mine"});
  EXPECT_EQ(f.kube_api_qps, 7.0f);
  EXPECT_EQ(f.kube_api_burst, 9);
  EXPECT_EQ(f.endpointslice.max_endpoints_per_slice, 50);
  EXPECT_EQ(f.endpointslice.workers, 2);
  EXPECT_EQ(f.endpointslice.endpoint_updates_batch_period, absl::Milliseconds(500));
  EXPECT_FALSE(f.leader_election.leader_elect);
  EXPECT_EQ(f.leader_election.lease_name, "mine");

  ExpectError({"--run-endpointslice-controller", "--max-endpoints-per-slice=1001"},
              "max-endpoints-per-slice");
  ExpectError({"--run-endpointslice-controller", "--concurrent-service-endpoint-syncs=0"},
              "concurrent-service-endpoint-syncs");
  ExpectError({"--run-endpointslice-controller", "--leader-elect-renew-deadline=20s"},
              "leaseDuration");
  ExpectError({"--run-endpointslice-controller", "--leader-elect-resource-lock=endpoints"},
              "only \"leases\"");
  ExpectError({"--run-endpointslice-controller", "--cleanup"}, "cannot be combined");
  ExpectError({"--run-endpointslice-controller", "--dry-run", "-f", "x"}, "cannot be combined");
}

TEST(WithDefaultPortTest, Forms) {
  EXPECT_EQ(*WithDefaultPort("0.0.0.0", 1), "0.0.0.0:1");
  EXPECT_EQ(*WithDefaultPort("0.0.0.0:2", 1), "0.0.0.0:2");
  EXPECT_EQ(*WithDefaultPort(":2", 1), ":2");
  EXPECT_EQ(*WithDefaultPort("::", 1), "[::]:1");
  EXPECT_EQ(*WithDefaultPort("[::]", 1), "[::]:1");
  EXPECT_EQ(*WithDefaultPort("[::]:3", 1), "[::]:3");
  EXPECT_EQ(*WithDefaultPort("", 1), "");
  EXPECT_FALSE(WithDefaultPort("[::]x", 1).ok());
}

}  // namespace
}  // namespace kslice::proxy::cmd
