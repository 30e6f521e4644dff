#include "cmd/kslice-trace/options.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cmd/internal/flags/flags.h"

namespace kslice::trace::cmd {
namespace flags = ::kslice::cmd::flags;

namespace {

// Flags that take a value (so "--node X" does not make X the SERVICE).
const std::set<std::string>& ValueFlags() {
  static const auto* names = new std::set<std::string>{
      "node", "kubeconfig", "master", "cluster-cidr", "ruleset-file", "objects-file",
      "mode", "o", "output"};
  return *names;
}

}  // namespace

std::string Usage() {
  return R"(kslice-trace SERVICE [flags]

Explains how traffic to a Service flows through this node's proxy rules (iptables or
nftables), annotated with what the Service's EndpointSlices say, and lists the drift
between those rules and what the proxy would program for the same objects.

SERVICE is NAMESPACE/NAME, or NAME in the default namespace, optionally :PORT-NAME.

Flags:
  --node NODE            the node the rules belong to (default: the Node owning one of
                         this network namespace's addresses, else the Node named as this
                         network namespace, else the hostname)
  --kubeconfig FILE      as kubectl finds it: --kubeconfig, $KUBECONFIG, ~/.kube/config,
                         in-cluster
  --master URL           overrides the kubeconfig's server
  --objects-file FILE    read the Service, EndpointSlices and Node from a file (List,
                         multi-document YAML or JSON; "-" = stdin) instead of the server
  --ruleset-file FILE    read the rules from a file instead of this host: iptables-save
                         output (or an iptables-restore payload; a kslice-proxy dry run's
                         "# IPv6 ..." separator splits IPv4 from IPv6), or for nftables
                         `nft -j list table ip kube-proxy` output
  --mode MODE            iptables (default) or nftables
  --cluster-cidr CIDRS   the proxy's --cluster-cidr (default: taken from the live
                         masquerade rule)
  -o, --output FORMAT    text (default) or json
  -h, --help             this text

Exit status: 0 consistent, 1 drift found, 2 error.
)";
}

absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args) {
  Options o;
  std::vector<std::string> flag_args;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() > 1 && a[0] == '-') {
      flag_args.push_back(a);
      std::string name(absl::StripPrefix(absl::StripPrefix(a, "-"), "-"));
      if (name.find('=') == std::string::npos && ValueFlags().count(name) > 0 &&
          i + 1 < args.size()) {
        flag_args.push_back(args[++i]);
      }
    } else {
      positional.push_back(a);
    }
  }
  std::string service;
  std::vector<flags::Flag> table = {
      {{"node"}, false, flags::StringSetter(&o.node)},
      {{"kubeconfig"}, false, flags::StringSetter(&o.kubeconfig)},
      {{"master"}, false, flags::StringSetter(&o.master)},
      {{"cluster-cidr"}, false, flags::StringSetter(&o.cluster_cidr)},
      {{"ruleset-file"}, false, flags::StringSetter(&o.ruleset_file)},
      {{"objects-file"}, false, flags::StringSetter(&o.objects_file)},
      {{"mode"}, false, flags::StringSetter(&o.mode)},
      {{"o", "output"}, false, flags::StringSetter(&o.output)},
      {{"h", "help"}, true, flags::BoolSetter("help", &o.help)},
  };
  if (absl::Status s = flags::ParseArgs(flag_args, table); !s.ok()) return s;
  if (o.help) return o;
  if (positional.empty()) {
    return absl::InvalidArgumentError("missing SERVICE (NAMESPACE/NAME[:PORT]); see --help");
  }
  if (positional.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("one SERVICE expected, got ", positional.size(), ": ",
                     absl::StrJoin(positional, " ")));
  }
  std::string spec = positional[0];
  if (size_t colon = spec.find(':'); colon != std::string::npos) {
    o.port = spec.substr(colon + 1);
    spec = spec.substr(0, colon);
    if (o.port.empty()) return absl::InvalidArgumentError("empty port name after \":\"");
  }
  std::vector<std::string> parts = absl::StrSplit(spec, '/');
  if (parts.size() == 1) {
    o.name = parts[0];
  } else if (parts.size() == 2) {
    o.ns = parts[0];
    o.name = parts[1];
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("SERVICE \"", positional[0], "\" is not NAMESPACE/NAME[:PORT]"));
  }
  if (o.ns.empty() || o.name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SERVICE \"", positional[0], "\" is not NAMESPACE/NAME[:PORT]"));
  }
  if (o.mode.empty()) o.mode = "iptables";
  if (o.mode != "iptables" && o.mode != "nftables") {
    return flags::Bad("mode", absl::StrCat("\"", o.mode, "\" (iptables or nftables)"));
  }
  if (o.output != "text" && o.output != "json") {
    return flags::Bad("output", absl::StrCat("\"", o.output, "\" (text or json)"));
  }
  return o;
}

std::string ChooseNode(const std::vector<std::shared_ptr<const api::core::v1::Node>>& nodes,
                       const std::vector<std::string>& local_addresses,
                       const std::string& netns_name, const std::string& hostname) {
  std::set<std::string> local(local_addresses.begin(), local_addresses.end());
  for (const auto& n : nodes) {
    for (const auto& a : n->status().addresses()) {
      if ((a.type() == "InternalIP" || a.type() == "ExternalIP") && local.count(a.address())) {
        return n->metadata().name();
      }
    }
  }
  if (!netns_name.empty()) {
    for (const auto& n : nodes) {
      if (n->metadata().name() == netns_name) return netns_name;
    }
  }
  if (nodes.size() == 1) return nodes[0]->metadata().name();
  return hostname;
}

std::vector<std::string> LocalAddresses() {
  std::vector<std::string> out;
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (struct ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    char buf[INET6_ADDRSTRLEN] = {0};
    if (i->ifa_addr->sa_family == AF_INET) {
      auto* sin = reinterpret_cast<struct sockaddr_in*>(i->ifa_addr);
      if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)) != nullptr) out.push_back(buf);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(i->ifa_addr);
      if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf)) != nullptr) out.push_back(buf);
    }
  }
  freeifaddrs(list);
  return out;
}

std::string CurrentNetnsName() {
  struct stat self;
  if (stat("/proc/self/ns/net", &self) != 0) return "";
  DIR* dir = opendir("/run/netns");
  if (dir == nullptr) return "";
  std::string found;
  while (struct dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (stat(absl::StrCat("/run/netns/", name).c_str(), &st) == 0 && st.st_ino == self.st_ino &&
        st.st_dev == self.st_dev) {
      found = name;
      break;
    }
  }
  closedir(dir);
  return found;
}

std::string Hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(buf));
}

std::string CidrForFamily(const std::string& cidrs, bool v6) {
  for (absl::string_view c : absl::StrSplit(cidrs, ',', absl::SkipWhitespace())) {
    std::string s(absl::StripAsciiWhitespace(c));
    if ((s.find(':') != std::string::npos) == v6) return s;
  }
  return "";
}

}  // namespace kslice::trace::cmd
