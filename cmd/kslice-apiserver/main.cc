// kslice-apiserver: the embedded API server as a process. Serves HTTPS with a
// generated CA and bearer-token authentication, writes a kubeconfig for kubectl and
// clients, and runs until SIGINT/SIGTERM.
//
//   kslice-apiserver --kubeconfig=/tmp/kslice.kubeconfig --port=6443 --data-dir=/tmp/kslice
//   kubectl --kubeconfig=/tmp/kslice.kubeconfig get namespaces
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/config/version.h"
#include "envtest/apiserver/allocator.h"
#include "envtest/apiserver/embedded.h"

namespace {

constexpr char kUsage[] =
    "usage: kslice-apiserver [flags]\n"
    "  --bind-address=ADDR            listen address (default 127.0.0.1)\n"
    "  --port=N                       listen port (default 6443; 0 picks a free port)\n"
    "  --insecure                     plain HTTP without authentication (loopback only)\n"
    "  --kubeconfig=PATH              write a kubeconfig for this server to PATH\n"
    "  --cert-dir=DIR                 keep the CA and serving certificate in DIR\n"
    "  --data-dir=DIR                 keep objects in DIR across restarts\n"
    "  --token=TOKEN                  the bearer token clients use (default: random)\n"
    "  --service-cluster-ip-range=CIDR[,CIDR]  ClusterIP range (default 10.96.0.0/12);\n"
    "                                 two CIDRs of different IP families make the server\n"
    "                                 dual-stack (10.96.0.0/12,fd00:10:96::/112)\n"
    "  --service-node-port-range=A-B  NodePort range (default 30000-32767)\n"
    "  --min-request-timeout=SECONDS  watch length without timeoutSeconds (default 1800)\n"
    "  --version                      print the version and exit\n";

int Usage(const std::string& error) {
  std::cerr << "kslice-apiserver: " << error << "\n" << kUsage;
  return 2;
}

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

}  // namespace

int main(int argc, char** argv) {
  kslice::envtest::apiserver::EmbeddedServerOptions o;
  o.port = 6443;
  std::string kubeconfig;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value_of = [&](const std::string& flag) -> std::optional<std::string> {
      if (absl::StartsWith(arg, flag + "=")) return arg.substr(flag.size() + 1);
      if (arg == flag && i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--version") {
      std::cout << "kslice-apiserver " << kslice::client::kVersion << "\n";
      return 0;
    }
    if (arg == "--insecure") {
      o.insecure = true;
    } else if (auto v = value_of("--bind-address")) {
      o.address = *v;
    } else if (auto v = value_of("--port")) {
      if (!absl::SimpleAtoi(*v, &o.port) || o.port < 0 || o.port > 65535) {
        return Usage(absl::StrCat("--port wants a number from 0 to 65535, got \"", *v, "\""));
      }
    } else if (auto v = value_of("--kubeconfig")) {
      kubeconfig = *v;
    } else if (auto v = value_of("--cert-dir")) {
      o.cert_dir = *v;
    } else if (auto v = value_of("--data-dir")) {
      o.data_dir = *v;
    } else if (auto v = value_of("--token")) {
      if (v->empty()) return Usage("--token must not be empty");
      o.token = *v;
    } else if (auto v = value_of("--service-cluster-ip-range")) {
      if (auto cidrs = kslice::envtest::apiserver::ParseServiceCidrs(*v); !cidrs.ok()) {
        return Usage(std::string(cidrs.status().message()));
      }
      o.service_cluster_ip_range = *v;
    } else if (auto v = value_of("--service-node-port-range")) {
      std::vector<std::string> parts = absl::StrSplit(*v, '-');
      if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &o.node_port_first) ||
          !absl::SimpleAtoi(parts[1], &o.node_port_last)) {
        return Usage(absl::StrCat("--service-node-port-range wants A-B, got \"", *v, "\""));
      }
    } else if (auto v = value_of("--min-request-timeout")) {
      int secs = 0;
      if (!absl::SimpleAtoi(*v, &secs) || secs <= 0) {
        return Usage(absl::StrCat("--min-request-timeout wants a positive number, got \"", *v,
                                  "\""));
      }
      o.min_request_timeout = absl::Seconds(secs);
    } else {
      return Usage(absl::StrCat("unknown flag ", arg));
    }
  }

  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  auto server = kslice::envtest::apiserver::EmbeddedServer::Start(o);
  if (!server.ok()) {
    std::cerr << "kslice-apiserver: " << server.status().message() << "\n";
    return 1;
  }
  if (!kubeconfig.empty()) {
    if (absl::Status s = (*server)->WriteKubeconfig(kubeconfig); !s.ok()) {
      std::cerr << "kslice-apiserver: " << s.message() << "\n";
      return 1;
    }
  }
  std::cout << "kslice-apiserver serving on " << (*server)->url();
  if (!kubeconfig.empty()) std::cout << ", kubeconfig " << kubeconfig;
  std::cout << std::endl;
  while (!g_stop) absl::SleepFor(absl::Milliseconds(100));
  std::cout << "kslice-apiserver stopping" << std::endl;
  (*server)->Stop();
  return 0;
}
