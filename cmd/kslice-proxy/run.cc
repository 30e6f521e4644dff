#include "cmd/kslice-proxy/run.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/core/v1/core.pb.h"
#include "client/rest/client.h"
#include "cmd/kslice-proxy/dryrun.h"
#include "cmd/kslice-proxy/health.h"
#include "controller/endpointslice/controller.h"
#include "controller/healthz/healthz.h"
#include "controller/log/log.h"
#include "controller/manager/manager.h"
#include "controller/metrics/metrics.h"
#include "controller/metrics/process_collector.h"
#include "controller/record/recorder.h"
#include "informers/factory.h"
#include "proxy/conntrack/cleanup.h"
#include "proxy/conntrack/conntrack.h"
#include "proxy/healthcheck/service_health.h"
#include "proxy/metrics.h"
#include "proxy/proxier.h"

namespace kslice::proxy::cmd {
namespace {

using api::core::v1::Node;

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

// Where a family's service health-check ports listen: this node's addresses inside
// --nodeport-addresses, else every address of the family (upstream falls back to all
// addresses too when none matches).
std::vector<std::string> HealthCheckAddresses(const ProxyFlags& f, IPFamily family) {
  const std::string any = family == IPFamily::kIPv6 ? "::" : "0.0.0.0";
  if (f.nodeport_addresses.empty()) return {any};
  std::vector<std::string> local = LocalAddressesIn(f.nodeport_addresses, family);
  if (local.empty()) {
    log::Warning("no local address matches --nodeport-addresses: health check ports listen on "
                 "every address",
                 {{"ipFamily", IPFamilyName(family)},
                  {"nodePortAddresses", absl::StrJoin(f.nodeport_addresses, ",")}});
    return {any};
  }
  return local;
}

// The proxy of one IP family: backend, health reporting wrapper, health-check ports,
// proxier.
struct FamilyProxy {
  IPFamily family;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<HealthReportingBackend> reporting;
  std::unique_ptr<healthcheck::ServiceHealthServer> service_health;
  std::unique_ptr<Proxier> proxier;
};

// Runs every family's proxier until `stop` (the IPv6 one on its own thread). Either one
// returning (an error) stops the other; the first error wins.
absl::Status RunProxiers(std::vector<FamilyProxy>& proxies, std::stop_token stop) {
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
  return absl::IsCancelled(s) ? absl::OkStatus() : s;
}

}  // namespace

std::vector<std::string> LocalAddressesIn(const std::vector<std::string>& cidrs, IPFamily family) {
  const bool v6 = family == IPFamily::kIPv6;
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

BackendOptions ToBackendOptions(const ProxyFlags& f) {
  BackendOptions o;
  o.node_name = f.hostname;
  o.family = IPFamily::kIPv4;
  o.cluster_cidrs = f.cluster_cidrs;
  o.masquerade_all = f.masquerade_all;
  o.masquerade_bit = f.masquerade_bit;
  o.localhost_nodeports = f.localhost_nodeports;
  o.sync_period = f.sync_period;
  o.min_sync_period = f.min_sync_period;
  for (const auto& [key, value] : f.backend_opts) o.extra[key] = value;
  return o;
}

BackendOptions FamilyBackendOptions(const ProxyFlags& f, IPFamily family) {
  BackendOptions o = ForFamily(ToBackendOptions(f), family);
  if (!f.nodeport_addresses.empty() && f.backend_opts.count("iptables.nodeport-addresses") == 0) {
    o.extra["iptables.nodeport-addresses"] =
        absl::StrJoin(LocalAddressesIn(f.nodeport_addresses, family), ",");
  }
  return o;
}

absl::Status RunProxy(const ProxyFlags& f, const client::RestConfig& config, std::stop_token stop) {
  controller::metrics::Registry& registry = controller::metrics::Registry::Default();
  (void)controller::metrics::RegisterProcessCollector(registry);
  absl::StatusOr<std::unique_ptr<ProxyMetrics>> metrics = ProxyMetrics::Create(registry);
  if (!metrics.ok()) return metrics.status();

  // One client and one informer factory for everything in this process. With the
  // controller they are the Manager's: the controller and the proxy register handlers
  // on the same informers, so each resource is listed, watched and cached once. The
  // factory then has no label selector (the controller needs every Service, headless
  // ones too); the proxier filters service-proxy-name / headless itself.
  std::unique_ptr<client::RestClient> own_client;
  std::unique_ptr<informers::SharedInformerFactory> own_factory;
  std::unique_ptr<controller::Manager> manager;
  std::unique_ptr<endpointslice::EndpointSliceController> slice_controller;
  client::RestClient* client = nullptr;
  informers::SharedInformerFactory* factory = nullptr;
  if (f.run_endpointslice_controller) {
    controller::ManagerOptions mo;
    mo.name = "endpointslice-controller";  // events' source, as the standalone controller
    mo.leader_elect = f.leader_election.leader_elect;
    mo.leader_election_namespace = f.leader_election.lease_namespace;
    mo.leader_election_id = f.leader_election.lease_name;
    mo.lease_duration = f.leader_election.lease_duration;
    mo.renew_deadline = f.leader_election.renew_deadline;
    mo.retry_period = f.leader_election.retry_period;
    mo.release_on_cancel = true;
    mo.health_bind_address = "";  // the proxy's own servers below
    mo.registry = &registry;
    absl::StatusOr<std::unique_ptr<controller::Manager>> m = controller::Manager::Create(config, mo);
    if (!m.ok()) return m.status();
    manager = *std::move(m);
    client = &manager->client();
    factory = &manager->informers();
    absl::StatusOr<std::unique_ptr<endpointslice::EndpointSliceController>> c =
        endpointslice::SetUpEndpointSliceController(*manager, f.endpointslice);
    if (!c.ok()) {
      return absl::Status(c.status().code(),
                          absl::StrCat("endpointslice-controller: ", c.status().message()));
    }
    slice_controller = *std::move(c);
    if (!f.leader_election.leader_elect) {
      log::Warning("--leader-elect=false: this process's EndpointSlice controller writes "
                   "whatever the others do; run it on one node only");
    }
  } else {
    absl::StatusOr<std::unique_ptr<client::RestClient>> c = client::RestClient::Create(config);
    if (!c.ok()) return c.status();
    own_client = *std::move(c);
    client = own_client.get();
    informers::FactoryOptions fo;
    fo.tweak = ProxyListOptionsTweak();
    own_factory = std::make_unique<informers::SharedInformerFactory>(*client, fo);
    factory = own_factory.get();
  }

  // Events of the proxy itself (a health-check port that cannot be opened).
  controller::record::RecorderOptions ro;
  ro.component = "kslice-proxy";
  ro.host = f.hostname;
  absl::StatusOr<std::unique_ptr<controller::record::Recorder>> recorder = controller::record::Recorder::Create(*client, ro);
  if (!recorder.ok()) return recorder.status();

  // kube-proxy reads the node IP from its Node object (only loadBalancerSourceRanges
  // that contain it need it); without one it carries on. The Node (or --cluster-cidr)
  // also says whether this node is dual-stack.
  absl::StatusOr<Node> node =
      client::Typed<Node, api::core::v1::NodeList>(*client).Get("", f.hostname);
  std::vector<IPFamily> families = {IPFamily::kIPv4};
  if (IsDualStack(f.cluster_cidrs, node.ok() ? &*node : nullptr)) {
    families.push_back(IPFamily::kIPv6);
  }

  // kube-proxy: unhealthy when a queued change waits longer than 2 x the sync period
  // (per family; both must be healthy).
  ProxyHealth health(2 * f.sync_period, [] { return absl::Now(); }, &registry);

  // Stale UDP conntrack entries: only with the conntrack tool (Debian package conntrack).
  std::unique_ptr<conntrack::Runner> ct_runner;
  std::unique_ptr<conntrack::Conntrack> ct;
  if (conntrack::ProgramAvailable()) {
    ct_runner = conntrack::NewExecRunner();
    ct = std::make_unique<conntrack::Conntrack>(*ct_runner);
  } else {
    log::Warning("conntrack tool not found: stale UDP conntrack entries will not be cleaned "
                 "up after endpoint changes (install the conntrack package)");
  }

  // Dual-stack as kube-proxy's meta proxier: one backend + proxier per family, both on
  // the same informers (each proxier's trackers keep only their family), metrics shared.
  std::vector<FamilyProxy> proxies;
  for (IPFamily family : families) {
    const std::string family_name = IPFamilyName(family);
    BackendOptions bo = FamilyBackendOptions(f, family);
    bo.metrics = metrics->get();
    std::string ip = node.ok() ? NodeIP(*node, family) : "";
    if (bo.extra.count("iptables.node-ip") > 0) {
      // --backend-opt iptables.node-ip wins over the Node's address.
    } else if (!ip.empty()) {
      bo.extra["iptables.node-ip"] = ip;
    } else {
      log::Warning("cannot determine this node's IP from its Node object",
                   {{"node", f.hostname},
                    {"ipFamily", family_name},
                    {"error", node.ok() ? std::string("no address of the family")
                                        : std::string(node.status().message())}});
    }
    if (bo.cluster_cidrs.empty() && !f.cluster_cidrs.empty()) {
      log::Warning("no --cluster-cidr of this family: no local traffic detection",
                   {{"ipFamily", family_name}});
    }
    FamilyProxy fp;
    fp.family = family;
    absl::StatusOr<std::unique_ptr<Backend>> backend = NewBackend(f.proxy_mode, bo);
    if (!backend.ok()) {
      return absl::Status(backend.status().code(), absl::StrCat("--proxy-mode=", f.proxy_mode,
                                                                ": ", backend.status().message()));
    }
    fp.backend = *std::move(backend);
    fp.reporting = std::make_unique<HealthReportingBackend>(*fp.backend, health, family);

    healthcheck::ServiceHealthServer::Options ho;
    ho.node_name = f.hostname;
    ho.addresses = HealthCheckAddresses(f, family);
    ho.proxy_healthy = [&health] { return health.IsHealthy(); };
    controller::record::Recorder* events = recorder->get();
    ho.on_listen_error = [events](const healthcheck::ServiceName& svc, uint16_t,
                                  const std::string& message) {
      // Upstream's reference: the Service, with "namespace/name" as its UID.
      api::core::v1::ObjectReference ref;
      ref.set_kind("Service");
      ref.set_namespace_(svc.ns);
      ref.set_name(svc.name);
      ref.set_uid(svc.String());
      events->Event(ref, controller::record::kEventTypeWarning, "FailedToStartServiceHealthcheck", message);
    };
    absl::StatusOr<std::unique_ptr<healthcheck::ServiceHealthServer>> hc =
        healthcheck::ServiceHealthServer::Create(ho);
    if (!hc.ok()) return hc.status();
    fp.service_health = *std::move(hc);

    ProxierOptions po;
    po.node_name = f.hostname;
    po.family = family;
    po.min_sync_period = f.min_sync_period;
    po.sync_period = f.sync_period;
    po.metrics = metrics->get();
    po.on_sync_queued = [&health, family] { health.QueuedUpdate(family); };
    po.after_sync = [hc = fp.service_health.get(), ct = ct.get(), family_name](
                        const ProxyState& previous, const ProxyState& current) {
      (void)hc->SyncServices(healthcheck::HealthCheckNodePorts(current));
      (void)hc->SyncEndpoints(healthcheck::LocalReadyEndpoints(current));
      if (ct != nullptr && conntrack::NeedsCleanup(previous, current)) {
        absl::StatusOr<conntrack::CleanupResult> r = conntrack::CleanStaleEntries(*ct, current);
        if (!r.ok()) {
          log::Error(r.status(), "failed to clean up stale conntrack entries",
                     {{"ipFamily", family_name}});
        } else if (r->filters > 0) {
          log::V(2).Info("deleted stale conntrack entries",
                         {{"ipFamily", family_name}, {"filters", r->filters}, {"entries", r->deleted}});
        }
      }
    };
    absl::StatusOr<std::unique_ptr<Proxier>> proxier = Proxier::Create(*fp.reporting, po);
    if (!proxier.ok()) return proxier.status();
    fp.proxier = *std::move(proxier);
    proxies.push_back(std::move(fp));
  }

  for (FamilyProxy& fp : proxies) {
    if (absl::Status s = fp.proxier->AttachInformers(*factory); !s.ok()) return s;
  }
  // This node's eligibility for /healthz (deleted, or tainted for deletion).
  {
    auto nodes = factory->For<Node>();
    if (!nodes.ok()) return nodes.status();
    const std::string name = f.hostname;
    informers::TypedHandlerFuncs<Node> nh;
    nh.add = [&health, name](const std::shared_ptr<const Node>& n, bool) {
      if (n->metadata().name() == name) health.SyncNode(n.get());
    };
    nh.update = [&health, name](const std::shared_ptr<const Node>&,
                                const std::shared_ptr<const Node>& n) {
      if (n->metadata().name() == name) health.SyncNode(n.get());
    };
    nh.del = [&health, name](const informers::TypedDeletedObject<Node>& d) {
      if (d.object != nullptr && d.object->metadata().name() == name) health.SyncNode(nullptr);
    };
    if (auto r = nodes->AddEventHandler(std::move(nh)); !r.ok()) return r.status();
  }

  std::unique_ptr<HealthServer> health_server;
  if (!f.healthz_bind_address.empty()) {
    auto s = HealthServer::Start(f.healthz_bind_address, health);
    if (!s.ok()) return s.status();
    health_server = *std::move(s);
  }
  std::unique_ptr<controller::healthz::Server> metrics_server;
  if (!f.metrics_bind_address.empty()) {
    controller::healthz::ServerOptions so;
    if (absl::Status s = controller::healthz::ParseBindAddress(f.metrics_bind_address,
                                                               &so.address, &so.port);
        !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--metrics-bind-address: ", s.message()));
    }
    so.metrics = [&registry] { return registry.Expose(); };
    auto s = controller::healthz::Server::Start(so);
    if (!s.ok()) return s.status();
    metrics_server = *std::move(s);
  }

  log::Info("starting", {{"node", f.hostname},
                         {"mode", f.proxy_mode},
                         {"clusterCIDR", absl::StrJoin(f.cluster_cidrs, ",")},
                         {"dualStack", proxies.size() > 1},
                         {"endpointSliceController", f.run_endpointslice_controller},
                         {"server", config.host},
                         {"healthz", f.healthz_bind_address},
                         {"metrics", f.metrics_bind_address}});
  absl::Status result;
  if (manager == nullptr) {
    factory->Start(stop);
    result = RunProxiers(proxies, stop);
    factory->Shutdown();
  } else {
    // The proxy runs on every replica (needs_leader = false), the controller's workers
    // only while leading. The Manager starts the shared informers and waits for their
    // caches first.
    std::mutex proxy_mu;
    absl::Status proxy_status;
    manager->Add(
        "proxy",
        [&proxies, &proxy_mu, &proxy_status](std::stop_token st) {
          absl::Status s = RunProxiers(proxies, st);
          std::lock_guard<std::mutex> l(proxy_mu);
          proxy_status = s;
          return s;
        },
        /*needs_leader=*/false);
    result = manager->Run(stop);
    std::lock_guard<std::mutex> l(proxy_mu);
    if (result.ok() && !proxy_status.ok()) result = proxy_status;
  }
  if (health_server) health_server->Stop();
  if (metrics_server) metrics_server->Stop();
  (*recorder)->Shutdown();
  return result;
}

}  // namespace kslice::proxy::cmd
