#include "cmd/kslice-proxy/flags.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "cmd/internal/flags/flags.h"

namespace kslice::proxy::cmd {
namespace {

using ::kslice::cmd::flags::Bad;
using ::kslice::cmd::flags::BoolSetter;
using ::kslice::cmd::flags::DurationSetter;
using ::kslice::cmd::flags::Flag;
using ::kslice::cmd::flags::FloatSetter;
using ::kslice::cmd::flags::Int32Setter;
using ::kslice::cmd::flags::IntSetter;
using ::kslice::cmd::flags::KeyValueSetter;
using ::kslice::cmd::flags::ParseArgs;
using ::kslice::cmd::flags::Setter;
using ::kslice::cmd::flags::StringSetter;

// "10.0.1.0/16" -> "10.0.0.0/16" (the network, as Go's IPNet.String()); nullopt-like
// error for anything that is not an IPv4 or IPv6 CIDR.
absl::StatusOr<std::string> CanonicalCIDR(absl::string_view text) {
  std::pair<std::string, std::string> parts = absl::StrSplit(text, absl::MaxSplits('/', 1));
  int bits = -1;
  if (parts.second.empty() || !absl::SimpleAtoi(parts.second, &bits)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a CIDR"));
  }
  unsigned char addr[16];
  int family = parts.first.find(':') == std::string::npos ? AF_INET : AF_INET6;
  const int max_bits = family == AF_INET ? 32 : 128;
  if (inet_pton(family, parts.first.c_str(), addr) != 1 || bits < 0 || bits > max_bits) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a CIDR"));
  }
  for (int i = 0; i < max_bits / 8; ++i) {
    const int keep = bits - i * 8;
    if (keep >= 8) continue;
    addr[i] &= keep <= 0 ? 0 : static_cast<unsigned char>(0xff << (8 - keep));
  }
  char out[INET6_ADDRSTRLEN];
  if (inet_ntop(family, addr, out, sizeof(out)) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a CIDR"));
  }
  return absl::StrCat(out, "/", bits);
}

Setter CIDRListSetter(std::string name, std::vector<std::string>* out) {
  return [name, out](const std::string& v) {
    out->clear();
    for (absl::string_view item : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
      absl::StatusOr<std::string> cidr = CanonicalCIDR(absl::StripAsciiWhitespace(item));
      if (!cidr.ok()) return Bad(name, cidr.status().message());
      out->push_back(*std::move(cidr));
    }
    return absl::OkStatus();
  };
}

}  // namespace

absl::StatusOr<std::string> WithDefaultPort(const std::string& value, int default_port) {
  if (value.empty()) return value;
  // "[v6]:port", "host:port", ":port"; an IPv6 literal alone has several colons.
  if (absl::StartsWith(value, "[")) {
    size_t close = value.find(']');
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("\"", value, "\": unterminated '['"));
    }
    if (close + 1 == value.size()) return absl::StrCat(value, ":", default_port);
    if (value[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("\"", value, "\": want [IPv6]:PORT"));
    }
    return value;
  }
  const size_t colons = std::count(value.begin(), value.end(), ':');
  if (colons == 0) return absl::StrCat(value, ":", default_port);
  if (colons > 1) return absl::StrCat("[", value, "]:", default_port);
  return value;
}

absl::StatusOr<ProxyFlags> ParseProxyFlags(const std::vector<std::string>& args,
                                           const std::string& os_hostname) {
  ProxyFlags f;
  std::string hostname_override;
  std::string healthz = f.healthz_bind_address, metrics = f.metrics_bind_address;
  bool qps_set = false, burst_set = false;
  Setter qps = FloatSetter("kube-api-qps", &f.kube_api_qps);
  Setter burst = IntSetter("kube-api-burst", &f.kube_api_burst);
  f.leader_election.lease_name = "endpointslice-controller";
  std::vector<Flag> flags = {
      {{"h", "help"}, true, BoolSetter("help", &f.help)},
      {{"kubeconfig"}, false, StringSetter(&f.kubeconfig)},
      {{"master"}, false, StringSetter(&f.master)},
      {{"kube-api-qps"}, false,
       [&](const std::string& v) {
         qps_set = true;
         return qps(v);
       }},
      {{"kube-api-burst"}, false,
       [&](const std::string& v) {
         burst_set = true;
         return burst(v);
       }},
      {{"hostname-override"}, false, StringSetter(&hostname_override)},
      {{"proxy-mode"}, false, StringSetter(&f.proxy_mode)},
      {{"cluster-cidr"}, false, CIDRListSetter("cluster-cidr", &f.cluster_cidrs)},
      {{"masquerade-all"}, true, BoolSetter("masquerade-all", &f.masquerade_all)},
      {{"iptables-masquerade-bit"}, false,
       IntSetter("iptables-masquerade-bit", &f.masquerade_bit)},
      {{"iptables-sync-period"}, false, DurationSetter("iptables-sync-period", &f.sync_period)},
      {{"iptables-min-sync-period"}, false,
       DurationSetter("iptables-min-sync-period", &f.min_sync_period)},
      {{"iptables-localhost-nodeports"}, true,
       BoolSetter("iptables-localhost-nodeports", &f.localhost_nodeports)},
      {{"nodeport-addresses"}, false,
       CIDRListSetter("nodeport-addresses", &f.nodeport_addresses)},
      {{"healthz-bind-address"}, false, StringSetter(&healthz)},
      {{"metrics-bind-address"}, false, StringSetter(&metrics)},
      {{"cleanup"}, true, BoolSetter("cleanup", &f.cleanup)},
      {{"dry-run"}, true, BoolSetter("dry-run", &f.dry_run)},
      {{"f", "filename"}, false, StringSetter(&f.file)},
      {{"backend-opt"}, false, KeyValueSetter("backend-opt", &f.backend_opts)},
      {{"run-endpointslice-controller"}, true,
       BoolSetter("run-endpointslice-controller", &f.run_endpointslice_controller)},
      {{"concurrent-service-endpoint-syncs"}, false,
       IntSetter("concurrent-service-endpoint-syncs", &f.endpointslice.workers)},
      {{"max-endpoints-per-slice"}, false,
       Int32Setter("max-endpoints-per-slice", &f.endpointslice.max_endpoints_per_slice)},
      {{"endpointslice-updates-batch-period"}, false,
       DurationSetter("endpointslice-updates-batch-period",
                      &f.endpointslice.endpoint_updates_batch_period)},
  };
  ::kslice::cmd::flags::AddLeaderElectionFlags(&f.leader_election, &flags);
  if (absl::Status s = ParseArgs(args, flags); !s.ok()) return s;
  if (f.help) return f;
  if (f.run_endpointslice_controller) {
    if (!qps_set) f.kube_api_qps = 20.0f;
    if (!burst_set) f.kube_api_burst = 30;
  }

  if (f.proxy_mode.empty()) f.proxy_mode = "iptables";
  f.hostname = absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(hostname_override.empty() ? os_hostname : hostname_override));
  if (f.hostname.empty()) {
    return Bad("hostname-override", "empty, and the OS hostname is empty too");
  }
  if (f.masquerade_bit < 0 || f.masquerade_bit > 31) {
    return Bad("iptables-masquerade-bit", "must be within 0..31");
  }
  if (f.sync_period <= absl::ZeroDuration()) {
    return Bad("iptables-sync-period", "must be greater than 0");
  }
  if (f.min_sync_period < absl::ZeroDuration()) {
    return Bad("iptables-min-sync-period", "must be greater than or equal to 0");
  }
  if (!(f.kube_api_qps > 0)) return Bad("kube-api-qps", "must be greater than 0");
  if (f.kube_api_burst < 1) return Bad("kube-api-burst", "must be at least 1");
  absl::StatusOr<std::string> h = WithDefaultPort(healthz, 10256);
  if (!h.ok()) return Bad("healthz-bind-address", h.status().message());
  absl::StatusOr<std::string> m = WithDefaultPort(metrics, 10249);
  if (!m.ok()) return Bad("metrics-bind-address", m.status().message());
  f.healthz_bind_address = *h;
  f.metrics_bind_address = *m;
  if (f.dry_run && f.file.empty()) {
    return absl::InvalidArgumentError("--dry-run needs -f FILE (\"-f -\" reads stdin)");
  }
  if (!f.dry_run && !f.file.empty()) {
    return absl::InvalidArgumentError("-f is only used with --dry-run");
  }
  if (f.dry_run && f.cleanup) {
    return absl::InvalidArgumentError("--dry-run and --cleanup cannot be combined");
  }
  if (f.run_endpointslice_controller) {
    if (f.dry_run || f.cleanup) {
      return absl::InvalidArgumentError(
          "--run-endpointslice-controller cannot be combined with --dry-run or --cleanup");
    }
    if (absl::Status s = endpointslice::ValidateOptions(f.endpointslice); !s.ok()) return s;
    if (f.leader_election.leader_elect) {
      if (absl::Status s = ::kslice::cmd::flags::ValidateLeaderElection(f.leader_election);
          !s.ok()) {
        return s;
      }
    }
  }
  return f;
}

std::string ProxyUsage() {
  return R"(usage: kslice-proxy [flags]
       kslice-proxy --dry-run -f FILE --hostname-override NODE [--cluster-cidr CIDR] [--proxy-mode MODE]
       kslice-proxy --cleanup [--proxy-mode MODE]

The service proxy: programs this node's dataplane from Services and EndpointSlices, as
kube-proxy does, with kube-proxy's flag names.

Connection:
  --kubeconfig PATH                 kubeconfig (else $KUBECONFIG, ~/.kube/config, or in-cluster)
  --master URL                      API server address; overrides the kubeconfig's server
  --kube-api-qps FLOAT              client QPS (default 5)
  --kube-api-burst INT              client burst (default 10)

Proxy:
  --hostname-override NAME          this node's name (default: the hostname, lower-cased)
  --proxy-mode MODE                 dataplane backend (default iptables; the registered
                                    modes are listed when an unknown one is given)
  --cluster-cidr CIDR[,CIDR]        pod network; traffic from outside it to a ClusterIP is
                                    masqueraded (default: none)
  --masquerade-all                  masquerade all ClusterIP traffic
  --iptables-masquerade-bit INT     fwmark bit for masquerading (default 14, 0..31)
  --iptables-sync-period DUR        health timeout is twice this; retry delay cap (default 30s)
  --iptables-min-sync-period DUR    minimum time between syncs, burst 2 (default 1s)
  --iptables-localhost-nodeports[=false]  NodePorts on 127.0.0.1 too (default true)
  --nodeport-addresses CIDR[,CIDR]  serve NodePorts only on local addresses within these

Serving and logging:
  --healthz-bind-address HOST:PORT  /healthz /livez, kube-proxy's JSON (default 0.0.0.0:10256;
                                    "" turns it off)
  --metrics-bind-address HOST:PORT  /metrics /healthz (default 127.0.0.1:10249; "" off)
  -v, --v N                         log verbosity
  --vmodule SPEC                    per-file verbosity
  --logging-format text|json        (default text)
  -h, --help                        this text

Backend-specific settings:
  --backend-opt KEY=VALUE           repeatable; handed to the backend (BackendOptions.extra).
                                    iptables: iptables.node-ip=IP (else from the Node),
                                    iptables.nodeport-addresses=IP[,IP] (else from
                                    --nodeport-addresses); grpc: grpc.listen=ADDR,
                                    grpc.tls-cert=FILE, grpc.tls-key=FILE, ... (docs/proxy.md)

Shared cache, one process (EndpointSlice controller + proxy on the same informers):
  --run-endpointslice-controller    also run the endpointslice-controller, leader-elected
                                    among the proxies (one Lease: at most one writes)
  --concurrent-service-endpoint-syncs INT   workers (default 5, 1..50)
  --max-endpoints-per-slice INT             (default 100, 1..1000)
  --endpointslice-updates-batch-period DUR  (default 0)
  --leader-elect[=false]            (default true; false: every proxy's controller writes)
  --leader-elect-lease-duration DUR, --leader-elect-renew-deadline DUR,
  --leader-elect-retry-period DUR   (defaults 15s, 10s, 2s)
  --leader-elect-resource-name NAME (default endpointslice-controller: the standalone
                                    controller's Lease, so the two exclude each other)
  --leader-elect-resource-namespace NS (default kube-system)
  --leader-elect-resource-lock leases  (the only lock supported)
  With this mode --kube-api-qps / --kube-api-burst default to 20 / 30.

Other modes:
  --cleanup                         remove every rule of --proxy-mode and exit
  --dry-run -f FILE                 no server, no root: read Services, EndpointSlices and Nodes
                                    from FILE (a List, multi-document YAML or JSON; "-" is stdin)
                                    and print what one full sync would apply (iptables: the
                                    iptables-restore input)

Durations use Go syntax: 0, 500ms, 1s, 1m30s. Exit status: 0 after SIGTERM/SIGINT (or a
finished --cleanup / --dry-run), 1 on a runtime error, 2 on bad flags.
)";
}

}  // namespace kslice::proxy::cmd
