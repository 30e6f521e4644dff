// conn_tally: opens N connections, one after another, to IP:PORT, sends an HTTP GET on
// each and tallies who answered (whoami_server's name) and how the others failed
// (refused, unreachable, timeout, reset, error), in netcheck.h's FormatTally lines.
// Each connection is bounded by --timeout-ms. Exit status 0 whatever the outcomes (the
// caller judges them); 2 for bad arguments.
//
//   conn_tally --target=10.96.100.10:80 --connections=200 --timeout-ms=2000
//   conn_tally --target=[fd00:10:96::100:10]:80 --connections=100
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "e2e/tools/netcheck.h"

namespace {

int Usage(const std::string& error) {
  std::cerr << "conn_tally: " << error
            << "\nusage: conn_tally --target=IPv4:PORT|[IPv6]:PORT [--connections=N] [--timeout-ms=MS]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string target;
  int connections = 1;
  int timeout_ms = 2000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (absl::StartsWith(arg, "--target=")) {
      target = arg.substr(9);
    } else if (absl::StartsWith(arg, "--connections=")) {
      if (!absl::SimpleAtoi(arg.substr(14), &connections) || connections < 1) {
        return Usage("--connections wants a positive number");
      }
    } else if (absl::StartsWith(arg, "--timeout-ms=")) {
      if (!absl::SimpleAtoi(arg.substr(13), &timeout_ms) || timeout_ms < 1) {
        return Usage("--timeout-ms wants a positive number");
      }
    } else {
      return Usage("unknown argument " + arg);
    }
  }
  std::string ip;
  int port = 0;
  if (absl::Status s = kslice::e2e::ParseHostPort(target, &ip, &port); !s.ok()) {
    return Usage(std::string(s.message()));
  }
  kslice::e2e::Tally t =
      kslice::e2e::ProbeMany(ip, port, connections, absl::Milliseconds(timeout_ms));
  std::cout << kslice::e2e::FormatTally(t);
  return 0;
}
