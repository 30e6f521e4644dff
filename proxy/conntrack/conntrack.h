// The kernel's connection tracking table, through Debian's `conntrack` tool
// (conntrack-tools): list flows, delete flows matching a filter.
//
//   std::unique_ptr<Runner> runner = NewExecRunner();          // runs "conntrack ..."
//   Conntrack ct(*runner);
//   absl::StatusOr<std::vector<Flow>> udp = ct.List(IPFamily::kIPv4, "udp");
//   ct.Delete(IPFamily::kIPv4, {.protocol = "udp", .orig_dst = "10.96.0.10",
//                               .orig_dst_port = 53, .reply_src = "10.244.0.3"});
//
// Why the tool and not netlink: see docs/proxy.md ("UDP conntrack cleanup"). The Runner
// interface is the seam: tests pass a fake that records the argument lists and serves
// canned output; the proxy passes NewExecRunner().
//
// Thread-safety: Conntrack holds no state of its own; it is as thread-safe as its Runner
// (the exec runner is).
#ifndef KSLICE_PROXY_CONNTRACK_CONNTRACK_H_
#define KSLICE_PROXY_CONNTRACK_CONNTRACK_H_

#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxy/types.h"

namespace kslice::proxy::conntrack {

// Runs the conntrack program with `args` (no shell).
class Runner {
 public:
  struct Result {
    int exit_code = 0;
    std::string out;  // stdout
    std::string err;  // stderr (conntrack's "N flow entries have been ..." summary)
  };
  virtual ~Runner() = default;
  // An error only when the program could not be run at all (not found, ...); a non-zero
  // exit is a Result.
  virtual absl::StatusOr<Result> Run(const std::vector<std::string>& args) = 0;
};

// Runs `program` (looked up as FindProgram does when it has no '/').
std::unique_ptr<Runner> NewExecRunner(std::string program = "conntrack");

// The path of `program`: searched in $PATH, then /usr/local/sbin, /usr/sbin, /sbin,
// /usr/bin, /bin; "" when not found. A name with a '/' is checked as it is.
std::string FindProgram(const std::string& program);
bool ProgramAvailable(const std::string& program = "conntrack");

// One conntrack entry: the original-direction tuple (client -> service) and the reply
// direction (endpoint -> client, after DNAT). Addresses are canonical text.
struct Flow {
  std::string protocol;  // "udp", "tcp", "sctp", ...
  std::string orig_src, orig_dst;
  int orig_src_port = 0, orig_dst_port = 0;
  std::string reply_src, reply_dst;
  int reply_src_port = 0, reply_dst_port = 0;

  auto operator<=>(const Flow&) const = default;
  bool operator==(const Flow&) const = default;
};

// Parses `conntrack -L` output (one entry per line, "udp 17 29 src=... dst=... sport=...
// dport=... [UNREPLIED] src=... dst=... sport=... dport=... mark=0 use=1"). Lines that do
// not hold two full tuples are skipped (ICMP, summary lines).
std::vector<Flow> ParseFlows(const std::string& output);

// Which entries to delete: every field set (non-empty, non-zero) must match. At least one
// address or port must be set, so a filter never means "everything".
struct Filter {
  std::string protocol = "udp";
  std::string orig_dst;
  int orig_dst_port = 0;
  std::string reply_src;
  int reply_src_port = 0;

  // conntrack's arguments for this filter in `family` (without -D / -L).
  std::vector<std::string> Args(IPFamily family) const;

  auto operator<=>(const Filter&) const = default;
  bool operator==(const Filter&) const = default;
};

class Conntrack {
 public:
  // `runner` is not owned and must outlive this object.
  explicit Conntrack(Runner& runner) : runner_(runner) {}

  // `conntrack -L -f ipv4|ipv6 -p PROTOCOL`.
  absl::StatusOr<std::vector<Flow>> List(IPFamily family, const std::string& protocol);
  // `conntrack -D -f ... <filter>`; the number of entries deleted. No match is not an
  // error (0). InvalidArgument for a filter that matches everything.
  absl::StatusOr<int> Delete(IPFamily family, const Filter& filter);

 private:
  Runner& runner_;
};

// "fd00:0::1" -> "fd00::1"; the text unchanged when it is not an IP.
std::string CanonicalIP(const std::string& ip);

}  // namespace kslice::proxy::conntrack

#endif  // KSLICE_PROXY_CONNTRACK_CONNTRACK_H_
