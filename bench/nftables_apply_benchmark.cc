// nftables backend on the real kernel (issue 9; docs/nftables.md): services x endpoints
// from bench/proxy_state_fixture.h, for each size in --sizes:
//
//   gen        RulesetGenerator: every service port's unit and the full `nft -f` text
//              (what a recreating full sync builds before it runs nft);
//   upstream   bare `nft -f -` of upstream's layout (per-service `numgen … vmap { … }`
//              anonymous maps) into an empty table: what kube-proxy's nftables mode loads
//              (only for sizes <= --upstream-max: it is superlinear, ~100 s at 10k);
//   ours bare  bare `nft -f -` of our layout (the numgen rule cascade) into an empty table;
//   full       NftablesBackend::Sync, first (recreating) sync on an empty table, end to end;
//   resync     a periodic full sync of the same state (in-place rewrite, one transaction);
//   partial    one-service changes (the service's endpoint list alternates between 10 and
//              9 entries), --partials times, end to end: model diff, text, and a netlink
//              batch (--netlink=1, the default, as kslice-proxy) or nft (--netlink=0);
//              median;
//   pkt        per-packet cost: --connections TCP connections from the namespace to one
//              ClusterIP (DNAT by the table to a local listener), connections per second;
//              `direct` is the same without the table, to the endpoint itself.
//
// Every size runs in a fresh network namespace (unshare(CLONE_NEWNET)); the host's tables
// are never touched. Needs root and nft; exits 1 with the reason otherwise.
//
//   bazel run -c opt //bench:nftables_apply_benchmark -- [--sizes=1000,5000,10000]
//       [--endpoints=10] [--upstream-max=5000] [--partials=9] [--connections=2000]
//       [--netlink=1]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/proxy_state_fixture.h"
#include "proxy/backend.h"
#include "proxy/iptables/runner.h"
#include "proxy/nftables/nftables_backend.h"
#include "proxy/nftables/ruleset.h"

namespace kslice::bench {
namespace {

using proxy::ProxyState;
using proxy::ServicePortName;
using proxy::SyncHint;
using proxy::nftables::NftablesBackend;
using proxy::nftables::NftablesBackendOptions;
using proxy::nftables::PortUnit;
using proxy::nftables::RulesetGenerator;
using proxy::nftables::RulesetOptions;

struct Flags {
  std::vector<int> sizes = {1000, 5000, 10000};
  int endpoints = 10;
  int upstream_max = 5000;
  int partials = 9;
  int connections = 2000;
  bool netlink = true;  // partial syncs as a netlink batch (--netlink=0: through nft)
};

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

bool FreshNetns() {
  if (unshare(CLONE_NEWNET) != 0) {
    std::perror("unshare(CLONE_NEWNET)");
    return false;
  }
  return true;
}

std::string Text(const ProxyState& state, bool vmap, absl::Duration* took) {
  RulesetOptions o;
  o.cluster_cidr = "10.0.0.0/8";
  o.numgen_vmap = vmap;
  absl::Time start = absl::Now();
  RulesetGenerator g = *RulesetGenerator::Create(o);
  std::vector<PortUnit> units;
  units.reserve(state.services->size());
  for (const auto& [name, info] : *state.services) {
    units.push_back(g.Unit(name, *info, state.EndpointsOf(name), state.node));
  }
  std::string text = g.FullText(units, /*recreate=*/true);
  if (took != nullptr) *took = absl::Now() - start;
  return text;
}

// CPU time (user + system) of this process's waited-for children so far.
double ChildCpuMs() {
  rusage ru{};
  getrusage(RUSAGE_CHILDREN, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

// Runs `nft -f -` with `text`; the wall time, or a negative value on failure. `cpu_ms`
// gets nft's own CPU time (user + system, the kernel's commit work included), which
// stays meaningful on a loaded machine where wall time does not.
double NftLoad(proxy::iptables::Runner& runner, const std::string& text, double* cpu_ms) {
  double cpu0 = ChildCpuMs();
  absl::Time start = absl::Now();
  absl::StatusOr<proxy::iptables::CommandResult> r = runner.Run({"nft", "-f", "-"}, text);
  double ms = Ms(absl::Now() - start);
  if (cpu_ms != nullptr) *cpu_ms = ChildCpuMs() - cpu0;
  if (!r.ok() || r->exit_code != 0) {
    std::fprintf(stderr, "nft -f failed: %s\n",
                 r.ok() ? r->stderr_data.substr(0, 500).c_str() : r.status().ToString().c_str());
    return -1;
  }
  return ms;
}

bool Sh(proxy::iptables::Runner& runner, std::vector<std::string> argv) {
  absl::StatusOr<proxy::iptables::CommandResult> r = runner.Run(argv, "");
  if (!r.ok() || r->exit_code != 0) {
    std::fprintf(stderr, "%s failed: %s\n", absl::StrJoin(argv, " ").c_str(),
                 r.ok() ? r->stderr_data.c_str() : "");
    return false;
  }
  return true;
}

// Connections per second to `target` (a ClusterIP or an endpoint) with a listener on
// 0.0.0.0:8080 in this namespace; -1 on failure.
double ConnectionRate(const std::string& target, int port, int connections) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(8080);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(ls, 512) != 0) {
    std::perror("listen");
    close(ls);
    return -1;
  }
  std::atomic<bool> stop{false};
  std::thread acceptor([&] {
    while (!stop.load()) {
      int c = accept(ls, nullptr, nullptr);
      if (c >= 0) close(c);
    }
  });
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  inet_pton(AF_INET, target.c_str(), &dst.sin_addr);
  int ok = 0;
  absl::Time start = absl::Now();
  for (int i = 0; i < connections; ++i) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    linger l{1, 0};  // RST on close: no TIME_WAIT pile-up
    setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    if (connect(s, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) == 0) ++ok;
    close(s);
  }
  absl::Duration took = absl::Now() - start;
  stop.store(true);
  // Wake the acceptor.
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in self = addr;
  self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connect(s, reinterpret_cast<sockaddr*>(&self), sizeof(self));
  close(s);
  acceptor.join();
  close(ls);
  if (ok != connections) {
    std::fprintf(stderr, "only %d of %d connections to %s:%d succeeded\n", ok, connections,
                 target.c_str(), port);
    return -1;
  }
  return connections / absl::ToDoubleSeconds(took);
}

int Run(const Flags& f) {
  std::unique_ptr<proxy::iptables::Runner> runner = proxy::iptables::NewExecRunner();
  {
    absl::StatusOr<proxy::iptables::CommandResult> v = runner->Run({"nft", "--version"}, "");
    if (!v.ok() || v->exit_code != 0) {
      std::fprintf(stderr, "nft is not installed\n");
      return 1;
    }
    std::printf("%s", v->stdout_data.c_str());
  }
  std::printf("wall ms (nft CPU ms: user + system of the nft process)\n");
  std::printf("%-6s %7s %17s %17s %17s %9s %15s %7s %8s %8s %8s\n", "svcs", "gen", "upstream bare",
              "ours bare", "full sync", "resync", "partial (med)", "apply", "part KB", "pkt c/s",
              "direct");
  for (int n : f.sizes) {
    ProxyState state = MakeProxyState(n, f.endpoints);
    absl::Duration gen;
    std::string ours = Text(state, /*vmap=*/false, &gen);
    double upstream_ms = -1, upstream_cpu = -1, ours_cpu = -1;
    if (n <= f.upstream_max) {
      std::string upstream = Text(state, /*vmap=*/true, nullptr);
      if (!FreshNetns()) return 1;
      upstream_ms = NftLoad(*runner, upstream, &upstream_cpu);
    }
    if (!FreshNetns()) return 1;
    double ours_ms = NftLoad(*runner, ours, &ours_cpu);

    // The backend, end to end, in another empty namespace.
    if (!FreshNetns()) return 1;
    NftablesBackendOptions o;
    o.ruleset.cluster_cidr = "10.0.0.0/8";
    o.partial_via_netlink = f.netlink;
    std::unique_ptr<NftablesBackend> b =
        *NftablesBackend::Create(o, proxy::iptables::NewExecRunner());
    double cpu0 = ChildCpuMs();
    absl::Time start = absl::Now();
    absl::Status s = b->Sync(state, SyncHint{});
    double full_ms = Ms(absl::Now() - start);
    double full_nft_cpu = ChildCpuMs() - cpu0;
    if (!s.ok()) {
      std::fprintf(stderr, "full sync: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    start = absl::Now();
    s = b->Sync(state, SyncHint{});
    double resync_ms = Ms(absl::Now() - start);
    if (!s.ok()) {
      std::fprintf(stderr, "resync: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    // One service in the middle changes, alternately losing and regaining an endpoint.
    const ServicePortName changed = std::next(state.services->begin(), n / 2)->first;
    std::vector<double> partial, partial_cpu, partial_apply;
    size_t partial_bytes = 0;
    ProxyState prev = state;
    for (int i = 0; i < f.partials; ++i) {
      ProxyState next = i % 2 == 0
                            ? WithFewerEndpoints(state, changed, f.endpoints - 1, prev.version + 1)
                            : WithFewerEndpoints(state, changed, f.endpoints, prev.version + 1);
      SyncHint h;
      h.full = false;
      h.previous_version = prev.version;
      h.changed_services = {changed.NamespacedName()};
      h.changed_ports = {changed};
      cpu0 = ChildCpuMs();
      start = absl::Now();
      s = b->Sync(next, h);
      partial.push_back(Ms(absl::Now() - start));
      partial_cpu.push_back(ChildCpuMs() - cpu0);
      partial_apply.push_back(Ms(b->last_stats().apply_time));
      if (!s.ok()) {
        std::fprintf(stderr, "partial sync: %s\n", std::string(s.message()).c_str());
        return 1;
      }
      partial_bytes = b->last_stats().bytes;
      prev = next;
    }
    std::sort(partial.begin(), partial.end());
    double partial_ms = partial.empty() ? -1 : partial[partial.size() / 2];
    std::sort(partial_cpu.begin(), partial_cpu.end());
    double partial_nft_cpu = partial_cpu.empty() ? -1 : partial_cpu[partial_cpu.size() / 2];
    std::sort(partial_apply.begin(), partial_apply.end());
    double partial_apply_ms = partial_apply.empty() ? -1 : partial_apply[partial_apply.size() / 2];

    // Per-packet cost: connections to the ClusterIP of service 1 (its endpoints are
    // made local addresses) through the full table, and directly to one endpoint.
    double pkt = -1, direct = -1;
    if (f.connections > 0) {
      const ServicePortName& target = std::next(state.services->begin(), 1)->first;
      const std::string& vip = state.services->at(target)->cluster_ip;
      bool ok = Sh(*runner, {"ip", "link", "set", "lo", "up"}) &&
                Sh(*runner, {"ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1"}) &&
                Sh(*runner, {"ip", "link", "set", "d1", "up"}) &&
                Sh(*runner, {"ip", "addr", "add", "10.200.0.1/32", "dev", "d0"}) &&
                Sh(*runner, {"ip", "link", "set", "d0", "up"}) &&
                Sh(*runner, {"ip", "route", "add", "default", "dev", "d0", "src", "10.200.0.1"});
      for (const proxy::EndpointInfo& ep : state.EndpointsOf(target)) {
        ok = ok && Sh(*runner, {"ip", "addr", "add", ep.ip + "/32", "dev", "d0"});
      }
      if (ok) {
        pkt = ConnectionRate(vip, 80, f.connections);
        direct = ConnectionRate(state.EndpointsOf(target).front().ip, 8080, f.connections);
      }
    }
    std::printf(
        "%-6d %7.0f %8.0f (%6.0f) %8.0f (%6.0f) %8.0f (%6.0f) %9.0f %6.1f (%6.1f) %7.1f %8.1f "
        "%8.0f %8.0f\n",
        n, Ms(gen), upstream_ms, upstream_cpu, ours_ms, ours_cpu, full_ms, full_nft_cpu, resync_ms,
        partial_ms, partial_nft_cpu, partial_apply_ms, partial_bytes / 1024.0, pkt, direct);
    std::fflush(stdout);
  }
  std::printf("(-1: not measured; upstream only up to --upstream-max=%d)\n", f.upstream_max);
  return 0;
}

std::vector<int> ParseSizes(absl::string_view v) {
  std::vector<int> out;
  for (absl::string_view p : absl::StrSplit(v, ',', absl::SkipEmpty())) {
    int n = 0;
    if (absl::SimpleAtoi(p, &n) && n > 1) out.push_back(n);
  }
  return out;
}

}  // namespace
}  // namespace kslice::bench

int main(int argc, char** argv) {
  kslice::bench::Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    auto value = [&](absl::string_view name, int* out) {
      if (!absl::ConsumePrefix(&a, name)) return false;
      if (!absl::SimpleAtoi(a, out)) {
        std::fprintf(stderr, "bad value in %s\n", argv[i]);
        std::exit(2);
      }
      return true;
    };
    if (absl::ConsumePrefix(&a, "--sizes=")) {
      f.sizes = kslice::bench::ParseSizes(a);
    } else if (value("--endpoints=", &f.endpoints) || value("--upstream-max=", &f.upstream_max) ||
               value("--partials=", &f.partials) || value("--connections=", &f.connections)) {
    } else if (absl::ConsumePrefix(&a, "--netlink=")) {
      f.netlink = a != "0" && a != "false";
    } else {
      std::fprintf(stderr,
                   "usage: %s [--sizes=1000,5000,10000] [--endpoints=10] [--upstream-max=5000] "
                   "[--partials=9] [--connections=2000] [--netlink=1]\n",
                   argv[0]);
      return 2;
    }
  }
  if (f.endpoints < 2 || f.sizes.empty()) {
    std::fprintf(stderr, "--endpoints must be >= 2 and --sizes non-empty\n");
    return 2;
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "needs root (network namespaces, nft)\n");
    return 1;
  }
  return kslice::bench::Run(f);
}
