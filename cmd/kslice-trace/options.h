// kslice-trace's command line and the small decisions made before tracing: which
// Service (and port), which node, which ruleset.
//
//   kslice-trace SERVICE [--node NODE] [--kubeconfig K] [--master URL]
//       [--cluster-cidr CIDR] [--ruleset-file FILE] [--objects-file FILE]
//       [--mode iptables|nftables] [-o text|json]
//
// SERVICE is "ns/name", or "name" (namespace "default"), optionally ":port-name".
// Flags use pflag's syntax (cmd/internal/flags). Errors are InvalidArgument; the binary
// prints them and exits 2.
#ifndef KSLICE_CMD_KSLICE_TRACE_OPTIONS_H_
#define KSLICE_CMD_KSLICE_TRACE_OPTIONS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/core/v1/core.pb.h"

namespace kslice::trace::cmd {

struct Options {
  std::string ns = "default";
  std::string name;
  std::string port;  // "" = every port
  std::string node;  // --node; "" = find out (ChooseNode)
  std::string kubeconfig;
  std::string master;
  std::string cluster_cidr;  // may hold one CIDR per family, comma separated
  std::string ruleset_file;
  std::string objects_file;
  std::string mode = "iptables";
  std::string output = "text";
  bool help = false;
};

// Parses argv without the program name.
absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args);

// The --help text.
std::string Usage();

// The node this trace is about when --node is not given, in this order:
//  1. a Node whose InternalIP/ExternalIP is an address of this network namespace
//     (`ip netns exec lab-worker kslice-trace ...` finds lab-worker by its eth0 address);
//  2. a Node named as the network namespace this process runs in (/run/netns/NAME,
//     compared by inode with /proc/self/ns/net);
//  3. the only Node, when exactly one is known;
//  4. the OS hostname, lower-cased (kube-proxy's default --hostname-override).
// `local_addresses` and `netns_name` are passed in so that tests can choose them.
std::string ChooseNode(const std::vector<std::shared_ptr<const api::core::v1::Node>>& nodes,
                       const std::vector<std::string>& local_addresses,
                       const std::string& netns_name, const std::string& hostname);

// This network namespace's interface addresses (getifaddrs), canonical text.
std::vector<std::string> LocalAddresses();
// The name under /run/netns of the network namespace this process is in, or "".
std::string CurrentNetnsName();
// The OS hostname, lower-cased and trimmed.
std::string Hostname();

// The CIDR of `cidrs` (comma separated) of the family of `v6`, or "".
std::string CidrForFamily(const std::string& cidrs, bool v6);

}  // namespace kslice::trace::cmd

#endif  // KSLICE_CMD_KSLICE_TRACE_OPTIONS_H_
