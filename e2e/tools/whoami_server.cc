// whoami_server: answers every HTTP request on IP:PORT with NAME (the backend "pod" of
// the dataplane e2e test). Runs until SIGTERM or SIGINT; prints "serving NAME on
// IP:PORT" once listening, and the number of answered connections on exit.
//
//   whoami_server --listen=10.244.2.11:8080 --name=backend-b
//   whoami_server --listen=[fd00:10:244:2::11]:8080 --name=backend-b
#include <signal.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "e2e/tools/netcheck.h"

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

int Usage(const std::string& error) {
  std::cerr << "whoami_server: " << error
            << "\nusage: whoami_server --listen=IPv4:PORT|[IPv6]:PORT --name=NAME\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen, name;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (absl::StartsWith(arg, "--listen=")) {
      listen = arg.substr(9);
    } else if (absl::StartsWith(arg, "--name=")) {
      name = arg.substr(7);
    } else {
      return Usage("unknown argument " + arg);
    }
  }
  if (listen.empty() || name.empty()) return Usage("--listen and --name are required");
  std::string ip;
  int port = 0;
  if (absl::Status s = kslice::e2e::ParseHostPort(listen, &ip, &port); !s.ok()) {
    return Usage(std::string(s.message()));
  }
  auto server = kslice::e2e::WhoamiServer::Listen(ip, port, name);
  if (!server.ok()) {
    std::cerr << "whoami_server: " << server.status() << "\n";
    return 1;
  }
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::cout << "serving " << name << " on " << kslice::e2e::JoinHostPort(ip, (*server)->port())
            << std::endl;
  (*server)->Serve(g_stop);
  std::cout << "served " << (*server)->served() << std::endl;
  return 0;
}
