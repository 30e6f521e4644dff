#include "cmd/kslice-proxy-agent/flags.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

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

absl::StatusOr<absl::Duration> ParseDuration(const std::string& flag, const std::string& v) {
  absl::Duration d;
  if (!absl::ParseDuration(v, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": want a duration like 500ms or 1s, got \"", v, "\""));
  }
  return d;
}

}  // namespace

absl::StatusOr<AgentFlags> ParseFlags(const std::vector<std::string>& args) {
  AgentFlags f;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (!absl::StartsWith(a, "-")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", a, "\""));
    }
    a = a.substr(absl::StartsWith(a, "--") ? 2 : 1);
    std::optional<std::string> inline_value;
    if (size_t eq = a.find('='); eq != std::string::npos) {
      inline_value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("--", a, " needs a value"));
      }
      return args[++i];
    };
    auto boolean = [&](bool* out) -> absl::Status {
      if (!inline_value) {
        *out = true;
        return absl::OkStatus();
      }
      if (!absl::SimpleAtob(*inline_value, out)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", a, ": want true or false, got \"", *inline_value, "\""));
      }
      return absl::OkStatus();
    };
    absl::Status st;
    if (a == "help" || a == "h") {
      f.help = true;
      return f;
    } else if (a == "print") {
      st = boolean(&f.print);
    } else if (a == "dry-run") {
      st = boolean(&f.dry_run);
    } else if (a == "masquerade-all") {
      st = boolean(&f.masquerade_all);
    } else if (a == "server" || a == "tls-ca" || a == "tls-cert" || a == "tls-key" ||
               a == "tls-server-name" || a == "apply" || a == "hostname-override" ||
               a == "cluster-cidr" || a == "family" || a == "min-sync-period" ||
               a == "sync-period" || a == "exit-after" || a == "v") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      if (a == "server") f.server = *v;
      if (a == "tls-ca") f.tls_ca = *v;
      if (a == "tls-cert") f.tls_cert = *v;
      if (a == "tls-key") f.tls_key = *v;
      if (a == "tls-server-name") f.tls_server_name = *v;
      if (a == "apply") f.apply = *v;
      if (a == "hostname-override") f.hostname_override = *v;
      if (a == "cluster-cidr") {
        f.cluster_cidrs = absl::StrSplit(*v, ',', absl::SkipWhitespace());
      }
      if (a == "family") {
        if (*v == "ipv4" || *v == "IPv4") {
          f.family = proxy::IPFamily::kIPv4;
        } else if (*v == "ipv6" || *v == "IPv6") {
          f.family = proxy::IPFamily::kIPv6;
        } else {
          return absl::InvalidArgumentError(
              absl::StrCat("--family: want ipv4 or ipv6, got \"", *v, "\""));
        }
      }
      if (a == "min-sync-period" || a == "sync-period") {
        absl::StatusOr<absl::Duration> d = ParseDuration(a, *v);
        if (!d.ok()) return d.status();
        (a == "sync-period" ? f.sync_period : f.min_sync_period) = *d;
      }
      if (a == "exit-after" || a == "v") {
        int n = 0;
        if (!absl::SimpleAtoi(*v, &n) || n < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("--", a, ": want a non-negative integer, got \"", *v, "\""));
        }
        (a == "v" ? f.verbosity : f.exit_after) = n;
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", a));
    }
    if (!st.ok()) return st;
  }
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
