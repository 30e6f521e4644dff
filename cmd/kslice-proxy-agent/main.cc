// kslice-proxy-agent: a sample external dataplane for kslice-proxy --proxy-mode grpc
// (docs/proxy-grpc.md). It keeps a replica of one node's proxy state through the proxy
// state API (proxy/grpc/client.h) and prints it, applies it with a backend from the
// registry (NewBackend("iptables", ...), the same code kslice-proxy runs in-process),
// or both.
//
// Applying: updates are merged into one pending SyncHint (full after a snapshot or a
// node change, else the union of the deltas' changed ports and Services since the last
// successful local sync) and a SyncRunner (proxy/sync_runner.h) applies the latest
// state with it — rate limited by --min-sync-period, retried with backoff after a
// failure, the retry being full, exactly as kslice-proxy drives its own backend.
//
// Exit: 0 on SIGTERM/SIGINT or after --exit-after updates; 1 when the server refuses
// the watch for good (another node, bad request) or the backend cannot be built; 2 on
// bad flags.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cmd/kslice-proxy-agent/flags.h"
#include "controller/log/log.h"
#include "proxy/backend.h"
#include "proxy/grpc/client.h"
#include "proxy/grpc/codec.h"
#include "proxy/sync_runner.h"

namespace {

namespace agent = kslice::cmd::agent;
namespace pg = kslice::proxy::grpc;
using kslice::proxy::Backend;
using kslice::proxy::BackendOptions;
using kslice::proxy::ProxyState;
using kslice::proxy::ServicePortName;
using kslice::proxy::SyncHint;

std::mutex stdout_mu;  // --print and --dry-run payloads come from two threads

void WriteStdout(const std::string& text) {
  std::lock_guard<std::mutex> l(stdout_mu);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// What the local backend still has to apply, merged over updates.
class Pending {
 public:
  void Add(const ProxyState& state, const pg::AppliedUpdate& u) {
    std::lock_guard<std::mutex> l(mu_);
    latest_ = state;
    if (u.snapshot || u.node_changed) full_ = true;
    changed_ports_.insert(u.changed_ports.begin(), u.changed_ports.end());
    changed_services_.insert(u.changed_services.begin(), u.changed_services.end());
  }
  // The state and hint to apply now; false when there is nothing new.
  bool Take(ProxyState* state, SyncHint* hint) {
    std::lock_guard<std::mutex> l(mu_);
    if (latest_.version == 0 || latest_.version == applied_) return false;
    *state = latest_;
    hint->previous_version = applied_;
    hint->full = full_ || applied_ == 0;
    if (!hint->full) {
      hint->changed_ports = changed_ports_;
      hint->changed_services = changed_services_;
    }
    return true;
  }
  // The sync of `version` succeeded: changes up to it are applied.
  void Done(uint64_t version) {
    std::lock_guard<std::mutex> l(mu_);
    applied_ = version;
    if (latest_.version == version) {
      full_ = false;
      changed_ports_.clear();
      changed_services_.clear();
    }
    // Otherwise newer updates arrived meanwhile; keeping the union over-reports the
    // older changes, which the contract allows (more, never less).
  }
  void Failed() {
    std::lock_guard<std::mutex> l(mu_);
    full_ = true;  // as the proxier: after a failure the next sync is full
  }

 private:
  std::mutex mu_;
  ProxyState latest_;
  uint64_t applied_ = 0;
  bool full_ = true;
  std::set<ServicePortName> changed_ports_;
  std::set<std::string> changed_services_;
};

int Run(const agent::AgentFlags& f) {
  // Signals go to a waiting thread that requests the stop.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::stop_source stop;
  std::jthread signal_thread([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig == SIGTERM || sig == SIGINT) stop.request_stop();
  });
  auto finish = [&](int code) {
    stop.request_stop();
    pthread_kill(signal_thread.native_handle(), SIGTERM);  // wake sigwait
    return code;
  };

  std::unique_ptr<Backend> backend;
  std::ostringstream payload;  // dry-run output of one local sync
  if (!f.apply.empty()) {
    BackendOptions o;
    o.node_name = f.hostname_override;
    o.family = f.family;
    o.cluster_cidrs = f.cluster_cidrs;
    o.masquerade_all = f.masquerade_all;
    o.min_sync_period = f.min_sync_period;
    o.sync_period = f.sync_period;
    o.dry_run = f.dry_run;
    o.dry_run_output = &payload;
    absl::StatusOr<std::unique_ptr<Backend>> b = kslice::proxy::NewBackend(f.apply, o);
    if (!b.ok()) {
      std::cerr << "kslice-proxy-agent: --apply " << f.apply << ": " << b.status().message()
                << "\n";
      return finish(1);
    }
    backend = *std::move(b);
  }

  Pending pending;
  std::atomic<int> updates{0};
  std::atomic<int> applied{0};
  auto maybe_exit = [&](int count) {
    if (f.exit_after > 0 && count >= f.exit_after) stop.request_stop();
  };

  std::unique_ptr<kslice::proxy::SyncRunner> runner;
  std::jthread runner_thread;
  if (backend != nullptr) {
    runner = std::make_unique<kslice::proxy::SyncRunner>(
        [&]() -> absl::Status {
          ProxyState state;
          SyncHint hint;
          if (!pending.Take(&state, &hint)) return absl::OkStatus();
          payload.str("");
          absl::Status s = backend->Sync(state, hint);
          if (!s.ok()) {
            pending.Failed();
            kslice::log::Error(s, "Local sync failed",
                               {{"version", absl::StrCat(state.version)}});
            return s;
          }
          pending.Done(state.version);
          if (f.dry_run) WriteStdout(payload.str());
          KSLICE_V(1).Info("Applied", {{"version", absl::StrCat(state.version)},
                                       {"full", hint.full ? "true" : "false"}});
          maybe_exit(++applied);
          return absl::OkStatus();
        },
        kslice::proxy::SyncRunnerOptions{.min_interval = f.min_sync_period,
                                         .retry_max = f.sync_period});
    runner_thread = std::jthread([&](std::stop_token) { runner->Loop(stop.get_token()); });
  }

  pg::WatchClientOptions co;
  co.target = f.server;
  co.tls_ca_file = f.tls_ca;
  co.tls_cert_file = f.tls_cert;
  co.tls_key_file = f.tls_key;
  co.tls_server_name = f.tls_server_name;
  co.node_name = f.hostname_override;
  co.family = f.family;
  co.on_stream_end = [](const absl::Status& s) {
    kslice::log::Warning("Watch stream ended; reconnecting",
                         {{"code", absl::StatusCodeToString(s.code())},
                          {"error", std::string(s.message())}});
  };
  absl::StatusOr<std::unique_ptr<pg::WatchClient>> client = pg::WatchClient::Create(co);
  if (!client.ok()) {
    std::cerr << "kslice-proxy-agent: " << client.status().message() << "\n";
    return finish(1);
  }
  absl::Status s = (*client)->Run(
      stop.get_token(), [&](const ProxyState& state, const pg::AppliedUpdate& u) {
        KSLICE_V(1).Info(u.snapshot ? "Snapshot" : "Delta",
                         {{"version", absl::StrCat(u.version)},
                          {"changedPorts", absl::StrCat(u.changed_ports.size())}});
        if (f.print) WriteStdout(pg::FormatState(state));
        if (runner != nullptr) {
          pending.Add(state, u);
          runner->Run();
        }
        const int n = ++updates;
        if (runner == nullptr) maybe_exit(n);
      });
  if (!s.ok()) {
    std::cerr << "kslice-proxy-agent: watch " << f.server << ": "
              << absl::StatusCodeToString(s.code()) << ": " << s.message() << "\n";
    return finish(1);
  }
  return finish(0);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<agent::AgentFlags> f = agent::ParseFlags(args);
  if (!f.ok()) {
    std::cerr << "kslice-proxy-agent: " << f.status().message()
              << "\nRun kslice-proxy-agent --help for usage.\n";
    return 2;
  }
  if (f->help) {
    std::cout << agent::Usage();
    return 0;
  }
  kslice::log::SetVerbosity(f->verbosity);
  return Run(*f);
}
