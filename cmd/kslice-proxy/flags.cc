#include "cmd/kslice-proxy/flags.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "api/codec/go_time.h"

namespace kslice::proxy::cmd {
namespace {

using Setter = std::function<absl::Status(const std::string& value)>;

// One flag: its names and how to apply a value. `boolean` flags take no value (--flag)
// or an explicit one (--flag=false), as pflag does.
struct Flag {
  std::vector<std::string> names;
  bool boolean = false;
  Setter set;
};

absl::Status Bad(absl::string_view flag, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("invalid value for --", flag, ": ", message));
}

Setter StringSetter(std::string* out) {
  return [out](const std::string& v) {
    *out = v;
    return absl::OkStatus();
  };
}

Setter BoolSetter(std::string name, bool* out) {
  return [name, out](const std::string& v) {
    if (!absl::SimpleAtob(v, out)) return Bad(name, absl::StrCat("\"", v, "\" is not a boolean"));
    return absl::OkStatus();
  };
}

Setter IntSetter(std::string name, int* out) {
  return [name, out](const std::string& v) {
    if (!absl::SimpleAtoi(v, out)) return Bad(name, absl::StrCat("\"", v, "\" is not an integer"));
    return absl::OkStatus();
  };
}

Setter FloatSetter(std::string name, float* out) {
  return [name, out](const std::string& v) {
    if (!absl::SimpleAtof(v, out)) return Bad(name, absl::StrCat("\"", v, "\" is not a number"));
    return absl::OkStatus();
  };
}

Setter DurationSetter(std::string name, absl::Duration* out) {
  return [name, out](const std::string& v) {
    absl::StatusOr<int64_t> ns = codec::ParseGoDuration(v);
    if (!ns.ok()) {
      return Bad(name, absl::StrCat("\"", v, "\" is not a duration (examples: 500ms, 1s, 1m30s)"));
    }
    *out = absl::Nanoseconds(*ns);
    return absl::OkStatus();
  };
}

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

absl::Status ParseArgs(const std::vector<std::string>& args, const std::vector<Flag>& flags) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    absl::string_view body = arg;
    if (!absl::ConsumePrefix(&body, "--") && !absl::ConsumePrefix(&body, "-")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
    }
    std::string name(body), value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const Flag* flag = nullptr;
    for (const Flag& f : flags) {
      for (const std::string& n : f.names) {
        if (n == name) flag = &f;
      }
    }
    if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag: ", arg));
    if (!has_value) {
      if (flag->boolean) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("flag needs an argument: ", arg));
      }
    }
    if (absl::Status s = flag->set(value); !s.ok()) return s;
  }
  return absl::OkStatus();
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
  const std::vector<Flag> flags = {
      {{"h", "help"}, true, BoolSetter("help", &f.help)},
      {{"kubeconfig"}, false, StringSetter(&f.kubeconfig)},
      {{"master"}, false, StringSetter(&f.master)},
      {{"kube-api-qps"}, false, FloatSetter("kube-api-qps", &f.kube_api_qps)},
      {{"kube-api-burst"}, false, IntSetter("kube-api-burst", &f.kube_api_burst)},
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
  };
  if (absl::Status s = ParseArgs(args, flags); !s.ok()) return s;
  if (f.help) return f;

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

Other modes:
  --cleanup                         remove every rule of --proxy-mode and exit
  --dry-run -f FILE                 no server, no root: read Services, EndpointSlices and Nodes
                                    from FILE (a List, multi-document YAML or JSON; "-" is stdin)
                                    and print what one full sync would apply (iptables: the
                                    iptables-restore input)

Durations use Go syntax: 500ms, 1s, 1m30s. Exit status: 0 after SIGTERM/SIGINT (or a
finished --cleanup / --dry-run), 1 on a runtime error, 2 on bad flags.
)";
}

}  // namespace kslice::proxy::cmd
