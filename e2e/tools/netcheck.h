// netcheck: the two ends of the dataplane end-to-end test (e2e/dataplane_e2e.sh).
//
//  - WhoamiServer: a TCP server that answers every HTTP request with its own name
//    (the pod name of the backend it stands for), so a client can tell which endpoint
//    a ClusterIP or NodePort connection reached.
//  - Probe / ProbeMany: a client that opens connections one after another (each one a new
//    source port, hence a new conntrack entry and a new load-balancing decision) and
//    classifies each outcome: answered (with the name), refused (RST / ICMP port
//    unreachable: what kube-proxy's REJECT rule for a service without endpoints gives),
//    unreachable, timed out, reset, or another error. Every step has a deadline, so a
//    black-holed address costs at most the timeout.
//
// IPv4 and IPv6: addresses are literals ("10.244.1.11", "fd00:10:244:1::11"; no names, no
// zones); on the command line an IPv6 address is bracketed ("[fd00:10:96::10]:80"). Plain
// POSIX sockets, no threads inside.
#ifndef KSLICE_E2E_TOOLS_NETCHECK_H_
#define KSLICE_E2E_TOOLS_NETCHECK_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kslice::e2e {

// Parses "IPv4:PORT" or "[IPv6]:PORT" (port 0..65535) into the bare address and the port.
// An IPv6 address without brackets, a bracketed IPv4 address and host names are errors.
absl::Status ParseHostPort(absl::string_view s, std::string* ip, int* port);

// The inverse: "IPv4:PORT", or "[IPv6]:PORT" when `ip` contains a colon.
std::string JoinHostPort(absl::string_view ip, int port);

class WhoamiServer {
 public:
  // Binds and listens on ip:port (port 0 picks a free port). An IPv6 address ("::"
  // included) listens on IPv6 only (IPV6_V6ONLY).
  static absl::StatusOr<std::unique_ptr<WhoamiServer>> Listen(const std::string& ip, int port,
                                                              std::string name);
  ~WhoamiServer();

  int port() const { return port_; }
  // Connections answered so far.
  uint64_t served() const { return served_.load(); }

  // Accepts and answers connections, one at a time, until `stop` becomes true (checked
  // at least every 100 ms). Each connection gets `HTTP/1.0 200 OK` with the name and a
  // newline as the body once its request headers are in (or after a 2 s read deadline,
  // or EOF), then is closed.
  void Serve(const std::atomic<bool>& stop);

 private:
  WhoamiServer(int fd, int port, std::string name) : fd_(fd), port_(port), name_(std::move(name)) {}
  void Answer(int conn);

  int fd_;
  int port_;
  std::string name_;
  std::atomic<uint64_t> served_{0};
};

enum class Outcome { kAnswered, kRefused, kUnreachable, kTimeout, kReset, kError };
absl::string_view OutcomeName(Outcome o);

struct ProbeResult {
  Outcome outcome = Outcome::kError;
  std::string answer;  // the body, trimmed (kAnswered only)
  std::string error;   // what failed, for logs
  absl::Duration elapsed;
};

// One connection to ip:port: connect, send `GET / HTTP/1.0`, read the answer to EOF.
// `timeout` bounds the whole exchange.
ProbeResult Probe(const std::string& ip, int port, absl::Duration timeout);

struct Tally {
  std::map<std::string, int> answers;  // name -> connections it answered
  std::map<Outcome, int> outcomes;     // every outcome, kAnswered included
  absl::Duration max_elapsed;
  std::string last_error;
};

// `connections` probes in sequence.
Tally ProbeMany(const std::string& ip, int port, int connections, absl::Duration timeout);

// The tally as lines for shell scripts:
//   answer <name> <count>      (one per name, sorted)
//   answered|refused|unreachable|timeout|reset|error <count>   (all six, always)
//   max_ms <milliseconds>
//   last_error <text>          (only when there was one)
std::string FormatTally(const Tally& t);

}  // namespace kslice::e2e

#endif  // KSLICE_E2E_TOOLS_NETCHECK_H_
