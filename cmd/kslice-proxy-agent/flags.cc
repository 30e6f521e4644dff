#include "cmd/kslice-proxy-agent/flags.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cmd/internal/flags/flags.h"

namespace kslice::cmd::agent {

std::string Usage() {
  return R"(kslice-proxy-agent: a sample dataplane agent for kslice-proxy --proxy-mode grpc.

It watches one node's proxy state over gRPC (a snapshot, then deltas; it reconnects
and resumes from the last version it has) and prints it or applies it with a local
backend.

Usage: kslice-proxy-agent --server ADDR (--print | --apply MODE) [flags]

  --server ADDR            unix:/path.sock or host:port (default unix:/run/kslice-proxy/grpc.sock)
  --tls-ca FILE            use TLS and trust this CA (PEM)
  --tls-cert FILE          client certificate (PEM) for mutual TLS, with --tls-key
  --tls-key FILE           client private key (PEM)
  --tls-server-name NAME   the name the server certificate must carry (default: the host)
  --print                  print the whole state (stable text) after every update
  --apply MODE             program the state with a local backend (iptables, ...)
  --dry-run                with --apply: write what would be applied to stdout, run nothing
  --hostname-override N    this node's name; the server must stream this node (required with --apply)
  --cluster-cidr CIDRS     comma list, as kube-proxy's (local traffic detection)
  --family ipv4|ipv6       which family's state to watch (default ipv4)
  --masquerade-all         as kube-proxy's
  --min-sync-period D      least time between local syncs (default 1s)
  --sync-period D          retry period bound of the local backend (default 30s)
  --exit-after N           exit 0 after N updates (applied, with --apply)
  -v N                     log verbosity
  --help                   this text
)";
}

namespace {

// A setter for a non-negative integer (--exit-after, -v).
flags::Setter CountSetter(std::string name, int* out) {
  return [name, out](const std::string& v) -> absl::Status {
    int n = 0;
    if (!absl::SimpleAtoi(v, &n) || n < 0) {
      return flags::Bad(name, absl::StrCat("\"", v, "\" is not a non-negative integer"));
    }
    *out = n;
    return absl::OkStatus();
  };
}

// A setter for a duration that must not be negative.
flags::Setter NonNegativeDurationSetter(std::string name, absl::Duration* out) {
  return [name, out, parse = flags::DurationSetter(name, out)](const std::string& v) {
    if (absl::Status s = parse(v); !s.ok()) return s;
    if (*out < absl::ZeroDuration()) return flags::Bad(name, "the duration must not be negative");
    return absl::OkStatus();
  };
}

}  // namespace

absl::StatusOr<AgentFlags> ParseFlags(const std::vector<std::string>& args) {
  AgentFlags f;
  std::vector<flags::Flag> table = {
      {{"help", "h"}, true, flags::BoolSetter("help", &f.help)},
      {{"print"}, true, flags::BoolSetter("print", &f.print)},
      {{"dry-run"}, true, flags::BoolSetter("dry-run", &f.dry_run)},
      {{"masquerade-all"}, true, flags::BoolSetter("masquerade-all", &f.masquerade_all)},
      {{"server"}, false, flags::StringSetter(&f.server)},
      {{"tls-ca"}, false, flags::StringSetter(&f.tls_ca)},
      {{"tls-cert"}, false, flags::StringSetter(&f.tls_cert)},
      {{"tls-key"}, false, flags::StringSetter(&f.tls_key)},
      {{"tls-server-name"}, false, flags::StringSetter(&f.tls_server_name)},
      {{"apply"}, false, flags::StringSetter(&f.apply)},
      {{"hostname-override"}, false, flags::StringSetter(&f.hostname_override)},
      {{"cluster-cidr"}, false,
       [&f](const std::string& v) {
         f.cluster_cidrs = absl::StrSplit(v, ',', absl::SkipWhitespace());
         return absl::OkStatus();
       }},
      {{"family"}, false,
       [&f](const std::string& v) {
         if (v == "ipv4" || v == "IPv4") {
           f.family = proxy::IPFamily::kIPv4;
         } else if (v == "ipv6" || v == "IPv6") {
           f.family = proxy::IPFamily::kIPv6;
         } else {
           return flags::Bad("family", absl::StrCat("want ipv4 or ipv6, got \"", v, "\""));
         }
         return absl::OkStatus();
       }},
      {{"min-sync-period"}, false,
       NonNegativeDurationSetter("min-sync-period", &f.min_sync_period)},
      {{"sync-period"}, false, NonNegativeDurationSetter("sync-period", &f.sync_period)},
      {{"exit-after"}, false, CountSetter("exit-after", &f.exit_after)},
      {{"v"}, false, CountSetter("v", &f.verbosity)},
  };
  if (absl::Status s = flags::ParseArgs(args, table); !s.ok()) return s;
  if (f.help) return f;
  if (f.server.empty()) return absl::InvalidArgumentError("--server must not be empty");
  if (!f.print && f.apply.empty()) {
    return absl::InvalidArgumentError("give --print, --apply MODE, or both");
  }
  if (f.dry_run && f.apply.empty()) {
    return absl::InvalidArgumentError("--dry-run goes with --apply");
  }
  if (!f.apply.empty() && f.hostname_override.empty()) {
    return absl::InvalidArgumentError(
        "--apply needs --hostname-override: the state is computed for one node");
  }
  if (f.tls_cert.empty() != f.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!f.tls_cert.empty() && f.tls_ca.empty()) {
    return absl::InvalidArgumentError("--tls-cert needs --tls-ca (mutual TLS is TLS)");
  }
  return f;
}

}  // namespace kslice::cmd::agent
