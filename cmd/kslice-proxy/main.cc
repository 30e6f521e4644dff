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
// Serving: kube-proxy's proxy health server on --healthz-bind-address (health.h),
// /metrics (+ /healthz, /livez text checks) on --metrics-bind-address, and the service
// health-check NodePorts. After each sync, stale UDP conntrack entries are deleted.
// --run-endpointslice-controller adds the EndpointSlice controller on the same informers
// (run.h). Runs until SIGTERM or SIGINT, then exits 0 (the rules stay, as kube-proxy
// leaves them).
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <iostream>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/config/client_config.h"
#include "client/config/version.h"
#include "cmd/internal/objectfile/objectfile.h"
#include "cmd/kslice-proxy/dryrun.h"
#include "cmd/kslice-proxy/flags.h"
#include "cmd/kslice-proxy/run.h"
#include "controller/log/log.h"
#include "controller/manager/manager.h"
#include "proxy/backend.h"

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

int RunDryRun(const pcmd::ProxyFlags& f) {
  absl::StatusOr<std::string> data = objectfile::ReadInput(f.file);
  if (!data.ok()) return Fail("", data.status());
  absl::StatusOr<objectfile::ObjectSet> objects = objectfile::ReadObjects(*data);
  if (!objects.ok()) return Fail(f.file, objects.status());
  // Both families' --nodeport-addresses; RunDryRun gives each proxier its own.
  BackendOptions o = pcmd::ToBackendOptions(f);
  if (!f.nodeport_addresses.empty() && f.backend_opts.count("iptables.nodeport-addresses") == 0) {
    std::vector<std::string> local =
        pcmd::LocalAddressesIn(f.nodeport_addresses, kslice::proxy::IPFamily::kIPv4);
    for (std::string& ip :
         pcmd::LocalAddressesIn(f.nodeport_addresses, kslice::proxy::IPFamily::kIPv6)) {
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
        kslice::proxy::NewBackend(f.proxy_mode, pcmd::FamilyBackendOptions(f, family));
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

  std::stop_token stop = kslice::controller::SetupSignalHandler();
  absl::Status s = pcmd::RunProxy(f, *config, stop);
  if (!s.ok()) {
    kslice::log::Error(s, "proxy stopped");
    return Fail("", s);
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
