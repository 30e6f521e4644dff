// kslice-proxy: the service proxy as a process, with kube-proxy's flag names (flags.h):
// Services and EndpointSlices from the API server, through the proxy core (proxy/), into
// the dataplane backend chosen with --proxy-mode (iptables: proxy/iptables/).
//
//   kslice-proxy --kubeconfig=/etc/kubernetes/proxy.conf --hostname-override=node-a
//       --proxy-mode=iptables --cluster-cidr=10.244.0.0/16      (one command line)
//   kslice-proxy --dry-run -f cluster-dump.yaml --hostname-override=node-a   # no server, no root
//   kslice-proxy --cleanup                                                   # remove the rules
//
// Dual-stack (--cluster-cidr with one CIDR per family, or a Node with addresses or pod
// CIDRs of both families): an IPv6 proxier and backend (ip6tables-restore) run beside
// the IPv4 ones on the same informers, as kube-proxy's meta proxier; /healthz needs both.
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
#include <thread>
#include <utility>
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

// Whether `a` (an IPv4 or IPv6 address, `len` bytes) is inside `cidr` of the same family.
bool InCIDR(const unsigned char* a, size_t len, absl::string_view cidr) {
  std::pair<std::string, std::string> parts = absl::StrSplit(cidr, absl::MaxSplits('/', 1));
  unsigned char net[16] = {};
  int bits = 0;
  const int af = len == 4 ? AF_INET : AF_INET6;
  if (inet_pton(af, parts.first.c_str(), net) != 1 || !absl::SimpleAtoi(parts.second, &bits) ||
      bits < 0 || bits > static_cast<int>(len * 8)) {
    return false;
  }
  for (size_t i = 0; i < len && bits > 0; ++i, bits -= 8) {
    const unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if ((a[i] & mask) != (net[i] & mask)) return false;
  }
  return true;
}

// --nodeport-addresses: this machine's addresses of `family` inside the CIDRs (kube-proxy
// resolves them against the node's interfaces the same way, per family).
std::vector<std::string> LocalAddressesIn(const std::vector<std::string>& cidrs,
                                          kslice::proxy::IPFamily family) {
  const bool v6 = family == kslice::proxy::IPFamily::kIPv6;
  const int af = v6 ? AF_INET6 : AF_INET;
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != af) continue;
    const void* addr =
        v6 ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr)
           : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr);
    for (const std::string& c : cidrs) {
      if ((c.find(':') != std::string::npos) != v6 ||
          !InCIDR(static_cast<const unsigned char*>(addr), v6 ? 16 : 4, c)) {
        continue;
      }
      char text[INET6_ADDRSTRLEN];
      if (inet_ntop(af, addr, text, sizeof(text)) != nullptr &&
          std::find(out.begin(), out.end(), text) == out.end()) {
        out.push_back(text);
      }
    }
  }
  freeifaddrs(list);
  return out;
}

// Options of both families: cluster_cidrs holds every --cluster-cidr entry; ForFamily
// (dryrun.h) narrows them to one proxier's family.
BackendOptions ToBackendOptions(const pcmd::ProxyFlags& f) {
  BackendOptions o;
  o.node_name = f.hostname;
  o.family = kslice::proxy::IPFamily::kIPv4;
  o.cluster_cidrs = f.cluster_cidrs;
  o.masquerade_all = f.masquerade_all;
  o.masquerade_bit = f.masquerade_bit;
  o.localhost_nodeports = f.localhost_nodeports;
  o.sync_period = f.sync_period;
  o.min_sync_period = f.min_sync_period;
  return o;
}

// One family's backend options, with --nodeport-addresses resolved for that family.
BackendOptions FamilyBackendOptions(const pcmd::ProxyFlags& f, kslice::proxy::IPFamily family) {
  BackendOptions o = pcmd::ForFamily(ToBackendOptions(f), family);
  if (!f.nodeport_addresses.empty()) {
    o.extra["iptables.nodeport-addresses"] =
        absl::StrJoin(LocalAddressesIn(f.nodeport_addresses, family), ",");
  }
  return o;
}

int RunDryRun(const pcmd::ProxyFlags& f) {
  absl::StatusOr<std::string> data = objectfile::ReadInput(f.file);
  if (!data.ok()) return Fail("", data.status());
  absl::StatusOr<objectfile::ObjectSet> objects = objectfile::ReadObjects(*data);
  if (!objects.ok()) return Fail(f.file, objects.status());
  // Both families' --nodeport-addresses; RunDryRun gives each proxier its own.
  BackendOptions o = ToBackendOptions(f);
  if (!f.nodeport_addresses.empty()) {
    std::vector<std::string> local =
        LocalAddressesIn(f.nodeport_addresses, kslice::proxy::IPFamily::kIPv4);
    for (std::string& ip : LocalAddressesIn(f.nodeport_addresses, kslice::proxy::IPFamily::kIPv6)) {
      local.push_back(std::move(ip));
    }
    o.extra["iptables.nodeport-addresses"] = absl::StrJoin(local, ",");
  }
  absl::Status s = pcmd::RunDryRun(*objects, f.proxy_mode, std::move(o), std::cout);
  std::cout.flush();
  if (!s.ok()) return Fail("dry run", s);
  return std::cout.good() ? 0 : 1;
}

// IPv4, and IPv6 too when --cluster-cidr is dual-stack (there is no Node object here).
int RunCleanup(const pcmd::ProxyFlags& f) {
  std::vector<kslice::proxy::IPFamily> families = {kslice::proxy::IPFamily::kIPv4};
  if (pcmd::IsDualStack(f.cluster_cidrs, nullptr)) {
    families.push_back(kslice::proxy::IPFamily::kIPv6);
  }
  for (kslice::proxy::IPFamily family : families) {
    absl::StatusOr<std::unique_ptr<kslice::proxy::Backend>> backend =
        kslice::proxy::NewBackend(f.proxy_mode, FamilyBackendOptions(f, family));
    if (!backend.ok()) return Fail(absl::StrCat("--proxy-mode=", f.proxy_mode), backend.status());
    if (absl::Status s = (*backend)->Cleanup(); !s.ok()) return Fail("cleanup", s);
    kslice::log::Info("cleaned up",
                      {{"mode", f.proxy_mode}, {"ipFamily", kslice::proxy::IPFamilyName(family)}});
  }
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

  // kube-proxy reads the node IP from its Node object (only loadBalancerSourceRanges
  // that contain it need it); without one it carries on. The Node (or --cluster-cidr)
  // also says whether this node is dual-stack.
  absl::StatusOr<kslice::api::core::v1::Node> node =
      kslice::client::Typed<kslice::api::core::v1::Node, kslice::api::core::v1::NodeList>(**client)
          .Get("", f.hostname);
  std::vector<kslice::proxy::IPFamily> families = {kslice::proxy::IPFamily::kIPv4};
  if (pcmd::IsDualStack(f.cluster_cidrs, node.ok() ? &*node : nullptr)) {
    families.push_back(kslice::proxy::IPFamily::kIPv6);
  }

  // kube-proxy: unhealthy when a queued change waits longer than 2 x the sync period
  // (per family; both must be healthy).
  pcmd::ProxyHealth health(2 * f.sync_period, [] { return absl::Now(); }, &registry);

  // Dual-stack as kube-proxy's meta proxier: one backend + proxier per family, both on
  // the same informers (each proxier's trackers keep only their family), metrics shared.
  struct FamilyProxy {
    kslice::proxy::IPFamily family;
    std::unique_ptr<kslice::proxy::Backend> backend;
    std::unique_ptr<pcmd::HealthReportingBackend> reporting;
    std::unique_ptr<kslice::proxy::Proxier> proxier;
  };
  std::vector<FamilyProxy> proxies;
  for (kslice::proxy::IPFamily family : families) {
    const std::string family_name = kslice::proxy::IPFamilyName(family);
    BackendOptions bo = FamilyBackendOptions(f, family);
    bo.metrics = metrics->get();
    std::string ip = node.ok() ? pcmd::NodeIP(*node, family) : "";
    if (!ip.empty()) {
      bo.extra["iptables.node-ip"] = ip;
    } else {
      kslice::log::Warning("cannot determine this node's IP from its Node object",
                           {{"node", f.hostname},
                            {"ipFamily", family_name},
                            {"error", node.ok() ? std::string("no address of the family")
                                                : std::string(node.status().message())}});
    }
    if (bo.cluster_cidrs.empty() && !f.cluster_cidrs.empty()) {
      kslice::log::Warning("no --cluster-cidr of this family: no local traffic detection",
                           {{"ipFamily", family_name}});
    }
    FamilyProxy fp;
    fp.family = family;
    absl::StatusOr<std::unique_ptr<kslice::proxy::Backend>> backend =
        kslice::proxy::NewBackend(f.proxy_mode, bo);
    if (!backend.ok()) return Fail(absl::StrCat("--proxy-mode=", f.proxy_mode), backend.status());
    fp.backend = *std::move(backend);
    fp.reporting = std::make_unique<pcmd::HealthReportingBackend>(*fp.backend, health, family);

    kslice::proxy::ProxierOptions po;
    po.node_name = f.hostname;
    po.family = family;
    po.min_sync_period = f.min_sync_period;
    po.sync_period = f.sync_period;
    po.metrics = metrics->get();
    po.on_sync_queued = [&health, family] { health.QueuedUpdate(family); };
    absl::StatusOr<std::unique_ptr<kslice::proxy::Proxier>> proxier =
        kslice::proxy::Proxier::Create(*fp.reporting, po);
    if (!proxier.ok()) return Fail("proxier", proxier.status());
    fp.proxier = *std::move(proxier);
    proxies.push_back(std::move(fp));
  }

  kslice::informers::FactoryOptions fo;
  fo.tweak = kslice::proxy::ProxyListOptionsTweak();
  kslice::informers::SharedInformerFactory factory(**client, fo);
  for (FamilyProxy& fp : proxies) {
    if (absl::Status s = fp.proxier->AttachInformers(factory); !s.ok()) return Fail("informers", s);
  }
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
                                 {"dualStack", proxies.size() > 1 ? "true" : "false"},
                                 {"server", config->host},
                                 {"healthz", f.healthz_bind_address},
                                 {"metrics", f.metrics_bind_address}});
  factory.Start(stop);
  // The IPv6 proxier (dual-stack) runs on its own thread. Either proxier returning (an
  // error) stops the other one too; the first error wins.
  std::stop_source both;
  std::stop_callback forward(stop, [&both] { both.request_stop(); });
  absl::Status s6;
  std::thread v6_thread;
  if (proxies.size() > 1) {
    v6_thread = std::thread([&proxies, &s6, &both] {
      s6 = proxies[1].proxier->Run(both.get_token());
      both.request_stop();
    });
  }
  absl::Status s = proxies[0].proxier->Run(both.get_token());
  both.request_stop();
  if (v6_thread.joinable()) v6_thread.join();
  if (s.ok() || absl::IsCancelled(s)) {
    if (!s6.ok() && !absl::IsCancelled(s6)) s = s6;
  }
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
