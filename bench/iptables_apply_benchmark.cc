// iptables backend on the real kernel: how long applying kube-proxy's ruleset for
// 10,000 services x 10 endpoints takes (issue 7 "Benchmarks"; docs/proxy.md).
//
// Each measurement runs in a forked child that first enters a fresh network namespace
// (unshare(CLONE_NEWNET)), so it starts from empty tables, never touches the host's, and
// its peak memory is only its own children's (wait4 / RUSAGE_CHILDREN):
//
//   bare      `iptables-restore` of the payload our RulesetGenerator writes for the state,
//             into the empty table: what loading that file costs at least. With
//             iptables-legacy that is `-w 5 -W 100000 --noflush --counters`; with the
//             nf_tables flavour it is the same without --noflush, because iptables 1.8.x's
//             nf_tables --noflush restore is quadratic in the chains of a batch
//             (IptablesBackendOptions::nft_flavor) and would be no baseline at all;
//   full      IptablesBackend::Sync with a full hint on the empty table: generation, the
//             jump rules and canaries (`iptables -N/-C/-I`), `iptables-save -t nat` for
//             stale chains, and the --noflush restore (which, with nf_tables, starts each
//             large table section with `-S` so that it stays linear);
//   partial   then, on that table, partial syncs (hint: one changed service) that change
//             one service's endpoints, alternating between two lists;
//   bare partial  the same two partial payloads restored alone (`--noflush`) on a table
//             loaded by a flushing restore.
//   skip / noskip partial  IptablesBackend partial syncs of that one service, end to end
//             (generation, leaving out unchanged chains, restore), with
//             skip_unchanged_chains on / off, after the backend's own full Sync. With
//             skipping on, only the changed service's chains are written; off,
//             kube-proxy's partial payload (which also rewrites KUBE-SERVICES with a rule
//             per service).
//
// Flavour: --flavor=legacy or nft runs the iptables-legacy* or iptables-nft* binaries
// through PATH (for the backend's Runner too); the default is the system's `iptables`.
//
// Target (issue 7): full within 1.1x of bare. Needs root; exits 1 with the reason
// otherwise. Wall times are of the whole step; "rss" is the largest child's peak RSS.
//
//   bazel run -c opt //bench:iptables_apply_benchmark -- [--services=10000]
//       [--endpoints=10] [--repetitions=3] [--partials=5] [--dump=FILE (write the payload, exit)]
//       [--flavor=system|nft|legacy] [--partial-only (bare, skip and noskip partial steps only)]
#include <sched.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
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
#include "proxy/iptables/iptables_backend.h"
#include "proxy/iptables/ruleset.h"
#include "proxy/iptables/runner.h"
#include "proxy/types.h"

namespace {

using kslice::proxy::ProxyState;
using kslice::proxy::ServicePortName;
using kslice::proxy::SyncHint;
namespace ipt = kslice::proxy::iptables;

using kslice::bench::WithFewerEndpoints;

ProxyState MakeState(int services, int endpoints) {
  return kslice::bench::MakeProxyState(services, endpoints);
}

ipt::RulesetConfig Config() {
  ipt::RulesetConfig c;
  c.local_detector = ipt::LocalTrafficDetector::ClusterCIDR("10.0.0.0/8");
  // No nfacct counters are created here; the backend would drop their matches too.
  c.nfacct_ct_state_invalid = false;
  c.nfacct_localhost_nodeports = false;
  return c;
}

// Runs argv with `input` on stdin (through a temp file, so the child reads as fast as it
// can) and waits for it; returns its exit status and fills its peak RSS.
int RunWithInput(const std::vector<std::string>& argv, const std::string& input, long* maxrss_kb,
                 std::string* err) {
  char path[] = "/tmp/iptables-apply-bench.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    *err = "mkstemp failed";
    return -1;
  }
  unlink(path);
  size_t off = 0;
  while (off < input.size()) {
    ssize_t n = write(fd, input.data() + off, input.size() - off);
    if (n <= 0) {
      *err = "write failed";
      close(fd);
      return -1;
    }
    off += static_cast<size_t>(n);
  }
  lseek(fd, 0, SEEK_SET);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd, 0);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fd);
  int status = 0;
  rusage ru = {};
  wait4(pid, &status, 0, &ru);
  *maxrss_kb = ru.ru_maxrss;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// What one forked measurement reports back, one "key value" per line.
struct Report {
  std::vector<std::pair<std::string, double>> values;
  std::string error;
  void Add(const std::string& key, double v) { values.emplace_back(key, v); }
  std::string Serialize() const {
    std::string out;
    for (const auto& [k, v] : values)
      absl::StrAppend(&out, k, " ", absl::StrFormat("%.6f", v), "\n");
    if (!error.empty()) absl::StrAppend(&out, "error ", error, "\n");
    return out;
  }
};

// Forks; the child enters a new network namespace, runs `body` and writes its report.
template <typename Body>
Report InFreshNetns(Body body) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return Report{{}, "pipe failed"};
  std::cout.flush();
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    Report r;
    if (unshare(CLONE_NEWNET) != 0) {
      r.error = absl::StrCat("unshare(CLONE_NEWNET): ", std::strerror(errno));
    } else {
      body(r);
    }
    std::string text = r.Serialize();
    (void)!write(pipefd[1], text.data(), text.size());
    _exit(0);
  }
  close(pipefd[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  Report r;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "error ")) {
      r.error = std::string(line.substr(6));
      continue;
    }
    std::vector<std::string> kv = absl::StrSplit(line, ' ');
    double v = 0;
    if (kv.size() == 2 && absl::SimpleAtod(kv[1], &v)) r.Add(kv[0], v);
  }
  if (text.empty()) r.error = "measurement child died";
  return r;
}

double Get(const Report& r, const std::string& key) {
  for (const auto& [k, v] : r.values) {
    if (k == key) return v;
  }
  return -1;
}

double Median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool FlagInt(const std::string& arg, const std::string& name, int* out) {
  std::string prefix = absl::StrCat("--", name, "=");
  if (!absl::StartsWith(arg, prefix)) return false;
  if (!absl::SimpleAtoi(arg.substr(prefix.size()), out) || *out < 1) {
    std::cerr << "bad " << arg << "\n";
    std::exit(2);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int services = 10000, endpoints = 10, repetitions = 3, partials = 5;
  std::string dump, flavor = "system";
  bool bare_partial_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (absl::StartsWith(a, "--flavor=")) {
      flavor = a.substr(9);
      if (flavor != "system" && flavor != "nft" && flavor != "legacy") {
        std::cerr << "--flavor wants system, nft or legacy\n";
        return 2;
      }
      continue;
    }
    if (a == "--bare-partial-only" || a == "--partial-only") {
      bare_partial_only = true;
      continue;
    }
    if (absl::StartsWith(a, "--dump=")) {
      dump = a.substr(7);
      continue;
    }
    if (!FlagInt(a, "services", &services) && !FlagInt(a, "endpoints", &endpoints) &&
        !FlagInt(a, "repetitions", &repetitions) && !FlagInt(a, "partials", &partials)) {
      std::cerr << "usage: iptables_apply_benchmark [--services=N] [--endpoints=N] "
                   "[--repetitions=N] [--partials=N] [--dump=FILE]\n"
                   "       [--flavor=system|nft|legacy]\n";
      return 2;
    }
  }
  if (geteuid() != 0) {
    std::cerr << "iptables_apply_benchmark: needs root (network namespaces, iptables)\n";
    return 1;
  }

  // A flavour other than the system's: a directory of iptables{,-save,-restore} links to
  // iptables-<flavor>* put first on PATH, which both the bare restore and the backend's
  // Runner use.
  bool nft_flavor = false;
  std::string link_dir;
  if (flavor != "system") {
    char tmpl[] = "/tmp/iptables-apply-bench-bin.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::cerr << "mkdtemp failed\n";
      return 1;
    }
    link_dir = tmpl;
    for (const char* tool : {"iptables", "iptables-save", "iptables-restore"}) {
      std::string base = tool;
      std::string target = absl::StrCat("/usr/sbin/iptables-", flavor, base.substr(8));
      if (symlink(target.c_str(), absl::StrCat(link_dir, "/", base).c_str()) != 0) {
        std::cerr << "symlink to " << target << " failed\n";
        return 1;
      }
    }
    const char* path = std::getenv("PATH");
    setenv("PATH", absl::StrCat(link_dir, ":", path ? path : "/usr/sbin:/usr/bin").c_str(), 1);
  }
  struct LinkDirRemover {
    std::string dir;
    ~LinkDirRemover() {
      if (dir.empty()) return;
      for (const char* tool : {"iptables", "iptables-save", "iptables-restore"}) {
        unlink(absl::StrCat(dir, "/", tool).c_str());
      }
      rmdir(dir.c_str());
    }
  } remover{link_dir};
  {
    std::string version;
    FILE* v = popen("iptables --version 2>&1", "r");
    char buf[256];
    while (v != nullptr && std::fgets(buf, sizeof(buf), v) != nullptr) version += buf;
    if (v != nullptr) pclose(v);
    std::cout << "iptables: " << absl::StripTrailingAsciiWhitespace(version)
              << " (--flavor=" << flavor << ")\n";
    nft_flavor = absl::StrContains(version, "nf_tables");
  }

  ProxyState state = MakeState(services, endpoints);
  absl::Time t0 = absl::Now();
  std::unique_ptr<ipt::RulesetGenerator> gen = *ipt::RulesetGenerator::Create(Config());
  ipt::Ruleset full = gen->Generate(state, ipt::GenerateRequest{});
  absl::Duration gen_time = absl::Now() - t0;
  size_t lines = std::count(full.payload.begin(), full.payload.end(), '\n');
  std::cout << absl::StrFormat(
      "state: %d services x %d endpoints; payload %zu lines, %.1f MB (generated in %.0f ms, "
      "fresh generator)\n",
      services, endpoints, lines, full.payload.size() / 1e6, absl::ToDoubleMilliseconds(gen_time));
  {
    // What skip_unchanged_chains adds to a full sync: digesting every chain's rules.
    absl::Time ds = absl::Now();
    ipt::ChainFilterResult digests = ipt::FilterUnchangedChains(full.payload, nullptr);
    size_t chains = 0;
    for (const auto& [table, c] : digests.declared) chains += c.size();
    std::cout << absl::StrFormat("digesting the %zu chains of the full payload: %.0f ms\n", chains,
                                 absl::ToDoubleMilliseconds(absl::Now() - ds));
  }

  if (!dump.empty()) {  // write the payload for experiments by hand, and stop
    FILE* f = std::fopen(dump.c_str(), "w");
    if (f == nullptr ||
        std::fwrite(full.payload.data(), 1, full.payload.size(), f) != full.payload.size()) {
      std::cerr << "cannot write " << dump << "\n";
      return 1;
    }
    std::fclose(f);
    return 0;
  }

  // The two partial payloads kube-proxy writes (service ns7/svc7 down to half its
  // endpoints, then back), taken from a dry-run backend without skipping, for the bare
  // measurement.
  ServicePortName changed{"ns7", "svc7", "http", "TCP"};
  auto next_state = [&](int i, uint64_t version) {
    return WithFewerEndpoints(state, changed, i % 2 == 0 ? endpoints / 2 : endpoints, version);
  };
  auto partial_hint = [&](uint64_t version) {
    SyncHint hint;
    hint.full = false;
    hint.previous_version = version - 1;
    hint.changed_services = {changed.NamespacedName()};
    hint.changed_ports = {changed};
    return hint;
  };
  std::string partial_payload[2];
  {
    std::ostringstream sink;
    ipt::IptablesBackendOptions o;
    o.ruleset = Config();
    o.detect_version = false;
    o.dry_run = true;
    o.dry_run_output = &sink;
    o.skip_unchanged_chains = false;  // kube-proxy's partial payloads
    auto dry = ipt::IptablesBackend::Create(o, nullptr);
    if (!dry.ok() || !(*dry)->Sync(state, SyncHint{}).ok()) {
      std::cerr << "dry-run backend failed\n";
      return 1;
    }
    for (int i = 0; i < 2; ++i) {
      if (!(*dry)->Sync(next_state(i, 2 + i), partial_hint(2 + i)).ok()) {
        std::cerr << "dry-run partial sync failed\n";
        return 1;
      }
      partial_payload[i] = (*dry)->last_payload();
    }
  }

  const std::vector<std::string> restore = {"iptables-restore", "-w",        "5",         "-W",
                                            "100000",           "--noflush", "--counters"};
  std::vector<double> bare_s, bare_rss, full_s, full_rss, partial_ms, ratio, bare_partial_ms;
  std::vector<double> skip_partial_ms, noskip_partial_ms;
  // Backend partial syncs on a table loaded by the backend's own full sync; fills r with "load_seconds", "partial_ms", "partial_bytes",
  // "skipped_chains".
  auto backend_partials = [&](bool skip) {
    return InFreshNetns([&](Report& r) {
      ipt::IptablesBackendOptions o;
      o.ruleset = Config();
      o.skip_unchanged_chains = skip;
      auto backend = ipt::IptablesBackend::Create(
          o, ipt::NewExecRunner());
      if (!backend.ok()) {
        r.error = backend.status().ToString();
        return;
      }
      absl::Time start = absl::Now();
      absl::Status s = (*backend)->Sync(state, SyncHint{});
      r.Add("load_seconds", absl::ToDoubleSeconds(absl::Now() - start));
      if (!s.ok()) {
        r.error = s.ToString();
        return;
      }
      uint64_t version = 1;
      for (int i = 0; i < partials; ++i) {
        ++version;
        ProxyState next = next_state(i, version);
        absl::Time ps = absl::Now();
        absl::Status st = (*backend)->Sync(next, partial_hint(version));
        r.Add("partial_ms", absl::ToDoubleMilliseconds(absl::Now() - ps));
        if (!st.ok() || (*backend)->last_sync_was_full()) {
          r.error = st.ok() ? "partial sync ran as a full one" : st.ToString();
          return;
        }
        r.Add("partial_bytes", static_cast<double>((*backend)->last_payload().size()));
        r.Add("skipped_chains", static_cast<double>((*backend)->last_skipped_chains()));
      }
    });
  };
  auto all_of = [](const Report& r, const std::string& key) {
    std::vector<double> out;
    for (const auto& [k, v] : r.values) {
      if (k == key) out.push_back(v);
    }
    return out;
  };
  auto ms_list = [](const std::vector<double>& v) {
    return absl::StrJoin(v, " ",
                         [](std::string* out, double x) { absl::StrAppendFormat(out, "%.0f", x); });
  };
  for (int rep = 0; rep < repetitions; ++rep) {
    // Bare partial: the full table loaded by a flushing restore (fast with every flavour),
    // then the partial payloads alone with --noflush.
    Report bare_partial = InFreshNetns([&](Report& r) {
      long rss = 0;
      std::string err;
      std::vector<std::string> flushing = restore;
      flushing.erase(std::find(flushing.begin(), flushing.end(), "--noflush"));
      absl::Time start = absl::Now();
      int rc = RunWithInput(flushing, full.payload, &rss, &err);
      r.Add("load_seconds", absl::ToDoubleSeconds(absl::Now() - start));
      if (rc != 0) {
        r.error = absl::StrCat("flushing iptables-restore exited ", rc, " ", err);
        return;
      }
      for (int i = 0; i < partials; ++i) {
        absl::Time ps = absl::Now();
        rc = RunWithInput(restore, partial_payload[i % 2], &rss, &err);
        r.Add("partial_ms", absl::ToDoubleMilliseconds(absl::Now() - ps));
        if (rc != 0) {
          r.error = absl::StrCat("partial iptables-restore exited ", rc, " ", err);
          return;
        }
      }
    });
    if (!bare_partial.error.empty()) {
      std::cerr << "repetition " << rep << " failed: " << bare_partial.error << "\n";
      return 1;
    }
    std::vector<double> bps;
    for (const auto& [k, v] : bare_partial.values) {
      if (k == "partial_ms") {
        bps.push_back(v);
        bare_partial_ms.push_back(v);
      }
    }
    std::cout << absl::StrFormat(
        "rep %d: bare partial restores %s ms on a table loaded in %.2f s (flushing restore)\n", rep,
        absl::StrJoin(bps, " ",
                      [](std::string* out, double v) { absl::StrAppendFormat(out, "%.0f", v); }),
        Get(bare_partial, "load_seconds"));
    for (bool skip : {true, false}) {
      Report bp = backend_partials(skip);
      if (!bp.error.empty()) {
        std::cerr << "repetition " << rep << " failed: " << bp.error << "\n";
        return 1;
      }
      std::vector<double> ms = all_of(bp, "partial_ms");
      std::vector<double>& sink = skip ? skip_partial_ms : noskip_partial_ms;
      sink.insert(sink.end(), ms.begin(), ms.end());
      std::cout << absl::StrFormat(
          "rep %d: backend partial syncs, skip_unchanged_chains=%s: %s ms (payload %.1f KB, "
          "%.0f chains skipped; table loaded in %.2f s)\n",
          rep, skip ? "true" : "false", ms_list(ms), Get(bp, "partial_bytes") / 1e3,
          Get(bp, "skipped_chains"), Get(bp, "load_seconds"));
    }
    if (bare_partial_only) continue;
    Report bare = InFreshNetns([&](Report& r) {
      long rss = 0;
      std::string err;
      std::vector<std::string> argv = restore;
      if (nft_flavor) argv.erase(std::find(argv.begin(), argv.end(), "--noflush"));
      absl::Time start = absl::Now();
      int rc = RunWithInput(argv, full.payload, &rss, &err);
      r.Add("seconds", absl::ToDoubleSeconds(absl::Now() - start));
      r.Add("rss_mb", rss / 1024.0);
      if (rc != 0) r.error = absl::StrCat("iptables-restore exited ", rc, " ", err);
    });
    Report sync = InFreshNetns([&](Report& r) {
      ipt::IptablesBackendOptions o;
      o.ruleset = Config();
      auto backend = ipt::IptablesBackend::Create(o, ipt::NewExecRunner());
      if (!backend.ok()) {
        r.error = backend.status().ToString();
        return;
      }
      absl::Time start = absl::Now();
      absl::Status s = (*backend)->Sync(state, SyncHint{});
      r.Add("seconds", absl::ToDoubleSeconds(absl::Now() - start));
      rusage ru = {};
      getrusage(RUSAGE_CHILDREN, &ru);
      r.Add("rss_mb", ru.ru_maxrss / 1024.0);
      r.Add("payload_bytes", static_cast<double>((*backend)->last_payload().size()));
      if (!s.ok()) {
        r.error = s.ToString();
        return;
      }
      // Partial syncs on top: one service loses / regains endpoints.
      uint64_t version = 1;
      for (int i = 0; i < partials; ++i) {
        ++version;
        ProxyState next = next_state(i, version);
        absl::Time ps = absl::Now();
        absl::Status st = (*backend)->Sync(next, partial_hint(version));
        r.Add("partial_ms", absl::ToDoubleMilliseconds(absl::Now() - ps));
        if (!st.ok() || (*backend)->last_sync_was_full()) {
          r.error = st.ok() ? "partial sync ran as a full one" : st.ToString();
          return;
        }
        r.Add("partial_bytes", static_cast<double>((*backend)->last_payload().size()));
      }
    });
    if (!bare.error.empty() || !sync.error.empty()) {
      std::cerr << "repetition " << rep << " failed: " << bare.error << " " << sync.error << "\n";
      return 1;
    }
    double b = Get(bare, "seconds"), f = Get(sync, "seconds");
    bare_s.push_back(b);
    bare_rss.push_back(Get(bare, "rss_mb"));
    full_s.push_back(f);
    full_rss.push_back(Get(sync, "rss_mb"));
    ratio.push_back(f / b);
    std::vector<double> ps;
    double pbytes = 0;
    for (const auto& [k, v] : sync.values) {
      if (k == "partial_ms") {
        ps.push_back(v);
        partial_ms.push_back(v);
      }
      if (k == "partial_bytes") pbytes = v;
    }
    std::cout << absl::StrFormat(
        "rep %d: bare restore %.2f s (rss %.0f MB); full sync %.2f s (rss %.0f MB, payload "
        "%.1f MB) = %.3fx; partial syncs %s ms (payload %.0f KB)\n",
        rep, b, Get(bare, "rss_mb"), f, Get(sync, "rss_mb"), Get(sync, "payload_bytes") / 1e6,
        f / b,
        absl::StrJoin(ps, " ",
                      [](std::string* out, double v) { absl::StrAppendFormat(out, "%.0f", v); }),
        pbytes / 1e3);
  }
  if (bare_partial_only) {
    std::cout << absl::StrFormat(
        "median: bare partial restore %.0f ms; backend partial sync %.0f ms with "
        "skip_unchanged_chains, %.0f ms without\n",
        Median(bare_partial_ms), Median(skip_partial_ms), Median(noskip_partial_ms));
    return 0;
  }
  std::cout << absl::StrFormat(
      "median: bare restore %.2f s, %.0f MB; full sync %.2f s, %.0f MB; full/bare %.3f "
      "(target <= 1.1); partial sync %.0f ms; bare partial restore %.0f ms; backend partial "
      "sync on a flush-loaded table %.0f ms with skip_unchanged_chains, %.0f ms without\n",
      Median(bare_s), Median(bare_rss), Median(full_s), Median(full_rss), Median(ratio),
      Median(partial_ms), Median(bare_partial_ms), Median(skip_partial_ms),
      Median(noskip_partial_ms));
  return 0;
}
