// kslice-proxy: the service proxy as a process, with kube-proxy's flag names (flags.h):
// Services and EndpointSlices from the API server, through the proxy core (proxy/), into
// the dataplane backend chosen with --proxy-mode (iptables: proxy/iptables/).
//
//   kslice-proxy --kubeconfig=/etc/kubernetes/proxy.conf --hostname-override=node-a
//       --proxy-mode=iptables --cluster-cidr=10.244.0.0/16      (one command line)
//   kslice-proxy --dry-run -f cluster-dump.yaml --hostname-override=node-a   # no server, no root
//   kslice-proxy --cleanup                                                   # remove the rules
//
// Serving: kube-proxy's proxy health server on --healthz-bind-address (health.h) and
// /metrics (+ /healthz, /livez text checks) on --metrics-bind-address. Runs until
// SIGTERM or SIGINT, then exits 0 (the rules stay, as kube-proxy leaves them).
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <iostream>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/config/client_config.h"
#include "client/config/version.h"
#include "client/rest/client.h"
#include "cmd/internal/objectfile/objectfile.h"
#include "cmd/kslice-proxy/dryrun.h"
#include "cmd/kslice-proxy/flags.h"
#include "cmd/kslice-proxy/health.h"
#include "controller/healthz/healthz.h"
#include "controller/log/log.h"
#include "controller/manager/manager.h"
#include "controller/metrics/metrics.h"
#include "controller/metrics/process_collector.h"
#include "informers/factory.h"
#include "proxy/backend.h"
#include "proxy/metrics.h"
#include "proxy/proxier.h"

namespace {

namespace pcmd = kslice::proxy::cmd;
namespace objectfile = kslice::cmd::objectfile;
using kslice::proxy::BackendOptions;

constexpr char kProgram[] = "kslice-proxy";

int UsageError(absl::string_view message) {
  std::cerr << kProgram << ": " << message << "\nRun '" << kProgram << " --help' for usage.\n";
  return 2;
}

int Fail(absl::string_view what, const absl::Status& s) {
  std::cerr << kProgram << ": " << what << (what.empty() ? "" : ": ") << s.message() << "\n";
  return 1;
}

std::string OsHostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}

bool InCIDR(const in_addr& a, absl::string_view cidr) {
  std::pair<std::string, std::string> parts = absl::StrSplit(cidr, absl::MaxSplits('/', 1));
  in_addr net;
  int bits = 0;
  if (inet_pton(AF_INET, parts.first.c_str(), &net) != 1 || !absl::SimpleAtoi(parts.second, &bits)) {
    return false;
  }
  const uint32_t mask = bits == 0 ? 0 : htonl(~uint32_t{0} << (32 - bits));
  return (a.s_addr & mask) == (net.s_addr & mask);
}

// --nodeport-addresses: this machine's IPv4 addresses inside the CIDRs (kube-proxy
// resolves them against the node's interfaces the same way).
std::vector<std::string> LocalAddressesIn(const std::vector<std::string>& cidrs) {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const in_addr a = reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr;
    for (const std::string& c : cidrs) {
      if (c.find(':') != std::string::npos || !InCIDR(a, c)) continue;
      char text[INET_ADDRSTRLEN];
      if (inet_ntop(AF_INET, &a, text, sizeof(text)) != nullptr &&
          std::find(out.begin(), out.end(), text) == out.end()) {
        out.push_back(text);
      }
    }
  }
  freeifaddrs(list);
  return out;
}

BackendOptions ToBackendOptions(const pcmd::ProxyFlags& f) {
  BackendOptions o;
  o.node_name = f.hostname;
  o.family = kslice::proxy::IPFamily::kIPv4;
  for (const std::string& c : f.cluster_cidrs) {
    if (c.find(':') == std::string::npos) o.cluster_cidrs.push_back(c);
  }
  o.masquerade_all = f.masquerade_all;
  o.masquerade_bit = f.masquerade_bit;
  o.localhost_nodeports = f.localhost_nodeports;
  o.sync_period = f.sync_period;
  o.min_sync_period = f.min_sync_period;
  if (!f.nodeport_addresses.empty()) {
    o.extra["iptables.nodeport-addresses"] = absl::StrJoin(LocalAddressesIn(f.nodeport_addresses), ",");
  }
  return o;
}

int RunDryRun(const pcmd::ProxyFlags& f) {
  absl::StatusOr<std::string> data = objectfile::ReadInput(f.file);
  if (!data.ok()) return Fail("", data.status());
  absl::StatusOr<objectfile::ObjectSet> objects = objectfile::ReadObjects(*data);
  if (!objects.ok()) return Fail(f.file, objects.status());
  absl::Status s = pcmd::RunDryRun(*objects, f.proxy_mode, ToBackendOptions(f), std::cout);
  std::cout.flush();
  if (!s.ok()) return Fail("dry run", s);
  return std::cout.good() ? 0 : 1;
}

int RunCleanup(const pcmd::ProxyFlags& f) {
  absl::StatusOr<std::unique_ptr<kslice::proxy::Backend>> backend =
      kslice::proxy::NewBackend(f.proxy_mode, ToBackendOptions(f));
  if (!backend.ok()) return Fail(absl::StrCat("--proxy-mode=", f.proxy_mode), backend.status());
  if (absl::Status s = (*backend)->Cleanup(); !s.ok()) return Fail("cleanup", s);
  kslice::log::Info("cleaned up", {{"mode", f.proxy_mode}});
  return 0;
}

int RunProxy(const pcmd::ProxyFlags& f) {
  // clientcmd.BuildConfigFromFlags: --master overrides the kubeconfig's server, and alone
  // is enough.
  kslice::client::ClientConfigOptions co;
  co.kubeconfig = f.kubeconfig;
  absl::StatusOr<kslice::client::RestConfig> config = kslice::client::LoadRestConfig(co);
  if (!f.master.empty()) {
    if (!config.ok() && f.kubeconfig.empty()) config = kslice::client::RestConfig();
    if (config.ok()) config->host = f.master;
  }
  if (!config.ok()) return Fail("loading the client configuration", config.status());
  config->qps = f.kube_api_qps;
  config->burst = f.kube_api_burst;
  config->user_agent = absl::StrCat(kProgram, " ", kslice::client::kDefaultUserAgent);
  if (absl::Status s = config->Validate(); !s.ok()) return Fail("client configuration", s);
  absl::StatusOr<std::unique_ptr<kslice::client::RestClient>> client =
      kslice::client::RestClient::Create(*config);
  if (!client.ok()) return Fail("client", client.status());

  kslice::controller::metrics::Registry& registry = kslice::controller::metrics::Registry::Default();
  (void)kslice::controller::metrics::RegisterProcessCollector(registry);
  absl::StatusOr<std::unique_ptr<kslice::proxy::ProxyMetrics>> metrics =
      kslice::proxy::ProxyMetrics::Create(registry);
  if (!metrics.ok()) return Fail("metrics", metrics.status());

  BackendOptions bo = ToBackendOptions(f);
  bo.metrics = metrics->get();
  // kube-proxy reads the node IP from its Node object (only loadBalancerSourceRanges
  // that contain it need it); without one it carries on.
  {
    kslice::client::Typed<kslice::api::core::v1::Node, kslice::api::core::v1::NodeList> nodes(**client);
    absl::StatusOr<kslice::api::core::v1::Node> node = nodes.Get("", f.hostname);
    std::string ip = node.ok() ? pcmd::NodeIP(*node, bo.family) : "";
    if (!ip.empty()) {
      bo.extra["iptables.node-ip"] = ip;
    } else {
      kslice::log::Warning("cannot determine this node's IP from its Node object",
                           {{"node", f.hostname},
                            {"error", node.ok() ? std::string("no address of the family")
                                                : std::string(node.status().message())}});
    }
  }
  absl::StatusOr<std::unique_ptr<kslice::proxy::Backend>> backend =
      kslice::proxy::NewBackend(f.proxy_mode, bo);
  if (!backend.ok()) return Fail(absl::StrCat("--proxy-mode=", f.proxy_mode), backend.status());

  // kube-proxy: unhealthy when a queued change waits longer than 2 x the sync period.
  pcmd::ProxyHealth health(2 * f.sync_period, [] { return absl::Now(); }, &registry);
  pcmd::HealthReportingBackend reporting(**backend, health);

  kslice::proxy::ProxierOptions po;
  po.node_name = f.hostname;
  po.min_sync_period = f.min_sync_period;
  po.sync_period = f.sync_period;
  po.metrics = metrics->get();
  po.on_sync_queued = [&health] { health.QueuedUpdate(); };
  absl::StatusOr<std::unique_ptr<kslice::proxy::Proxier>> proxier =
      kslice::proxy::Proxier::Create(reporting, po);
  if (!proxier.ok()) return Fail("proxier", proxier.status());

  kslice::informers::FactoryOptions fo;
  fo.tweak = kslice::proxy::ProxyListOptionsTweak();
  kslice::informers::SharedInformerFactory factory(**client, fo);
  if (absl::Status s = (*proxier)->AttachInformers(factory); !s.ok()) return Fail("informers", s);
  // This node's eligibility for /healthz (deleted, or tainted for deletion).
  {
    auto nodes = factory.For<kslice::api::core::v1::Node>();
    if (!nodes.ok()) return Fail("node informer", nodes.status());
    const std::string name = f.hostname;
    kslice::informers::TypedHandlerFuncs<kslice::api::core::v1::Node> nh;
    nh.add = [&health, name](const std::shared_ptr<const kslice::api::core::v1::Node>& n, bool) {
      if (n->metadata().name() == name) health.SyncNode(n.get());
    };
    nh.update = [&health, name](const std::shared_ptr<const kslice::api::core::v1::Node>&,
                                const std::shared_ptr<const kslice::api::core::v1::Node>& n) {
      if (n->metadata().name() == name) health.SyncNode(n.get());
    };
    nh.del = [&health, name](const kslice::informers::TypedDeletedObject<kslice::api::core::v1::Node>& d) {
      if (d.object != nullptr && d.object->metadata().name() == name) health.SyncNode(nullptr);
    };
    if (auto r = nodes->AddEventHandler(std::move(nh)); !r.ok()) return Fail("node informer", r.status());
  }

  std::unique_ptr<pcmd::HealthServer> health_server;
  if (!f.healthz_bind_address.empty()) {
    auto s = pcmd::HealthServer::Start(f.healthz_bind_address, health);
    if (!s.ok()) return Fail("", s.status());
    health_server = *std::move(s);
  }
  std::unique_ptr<kslice::controller::healthz::Server> metrics_server;
  if (!f.metrics_bind_address.empty()) {
    kslice::controller::healthz::ServerOptions so;
    if (absl::Status s = kslice::controller::healthz::ParseBindAddress(f.metrics_bind_address,
                                                                       &so.address, &so.port);
        !s.ok()) {
      return Fail("--metrics-bind-address", s);
    }
    so.metrics = [&registry] { return registry.Expose(); };
    auto s = kslice::controller::healthz::Server::Start(so);
    if (!s.ok()) return Fail("metrics server", s.status());
    metrics_server = *std::move(s);
  }

  std::stop_token stop = kslice::controller::SetupSignalHandler();
  kslice::log::Info("starting", {{"node", f.hostname},
                                 {"mode", f.proxy_mode},
                                 {"clusterCIDR", absl::StrJoin(f.cluster_cidrs, ",")},
                                 {"server", config->host},
                                 {"healthz", f.healthz_bind_address},
                                 {"metrics", f.metrics_bind_address}});
  factory.Start(stop);
  absl::Status s = (*proxier)->Run(stop);
  factory.Shutdown();
  if (health_server) health_server->Stop();
  if (metrics_server) metrics_server->Stop();
  if (!s.ok() && !absl::IsCancelled(s)) {
    kslice::log::Error(s, "proxy stopped");
    return 1;
  }
  kslice::log::Info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<kslice::log::Options> logging = kslice::log::ParseFlags(&argc, argv);
  if (!logging.ok()) return UsageError(logging.status().message());
  if (absl::Status s = kslice::log::Configure(*logging); !s.ok()) return UsageError(s.message());
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<pcmd::ProxyFlags> flags = pcmd::ParseProxyFlags(args, OsHostname());
  if (!flags.ok()) return UsageError(flags.status().message());
  if (flags->help) {
    std::cout << pcmd::ProxyUsage();
    return 0;
  }
  std::vector<std::string> modes = kslice::proxy::RegisteredBackends();
  if (std::find(modes.begin(), modes.end(), flags->proxy_mode) == modes.end()) {
    return UsageError(absl::StrCat("invalid value for --proxy-mode: \"", flags->proxy_mode,
                                   "\" has no backend in this binary (registered: ",
                                   absl::StrJoin(modes, ", "), ")"));
  }
  if (flags->dry_run) return RunDryRun(*flags);
  if (flags->cleanup) return RunCleanup(*flags);
  return RunProxy(*flags);
}
