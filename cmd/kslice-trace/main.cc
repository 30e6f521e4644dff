// kslice-trace: how traffic to a Service flows through this node's proxy rules, and the
// drift between those rules and what the proxy would program (docs/kslice-trace.md).
//
//   ip netns exec lab-worker kslice-trace default/nginx-service --kubeconfig K
//   kslice-trace default/nginx-service --objects-file dump.yaml --ruleset-file save.txt
//
// Exit status: 0 consistent, 1 drift, 2 error (bad flags, unreachable server, unknown
// Service, unreadable or unparseable ruleset).
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "client/config/client_config.h"
#include "client/config/version.h"
#include "client/rest/client.h"
#include "cmd/internal/objectfile/objectfile.h"
#include "cmd/kslice-trace/options.h"
#include "proxy/iptables/runner.h"
#include "proxy/trace/iptables_save.h"
#include "proxy/trace/nft_json.h"
#include "proxy/trace/report.h"
#include "proxy/trace/trace.h"
#include "proxy/types.h"

namespace {

using kslice::api::core::v1::Node;
using kslice::api::core::v1::NodeList;
using kslice::api::core::v1::Service;
using kslice::api::core::v1::ServiceList;
using kslice::api::discovery::v1::EndpointSlice;
using kslice::api::discovery::v1::EndpointSliceList;
using kslice::proxy::IPFamily;
namespace tr = ::kslice::proxy::trace;
namespace tc = ::kslice::trace::cmd;

constexpr char kProgram[] = "kslice-trace";
// What kslice-proxy --dry-run prints between the IPv4 and the IPv6 payload.
constexpr char kIPv6Separator[] = "# IPv6 (ip6tables-restore input)";

int Fail(absl::string_view what, const absl::Status& s) {
  std::cerr << kProgram << ": " << what << ": " << s.message() << "\n";
  return 2;
}

struct Objects {
  std::shared_ptr<const Service> service;
  std::vector<std::shared_ptr<const EndpointSlice>> slices;
  std::vector<std::shared_ptr<const Node>> nodes;
};

bool IsSliceOf(const EndpointSlice& s, const tc::Options& o) {
  auto it = s.metadata().labels().find("kubernetes.io/service-name");
  return s.metadata().namespace_() == o.ns && it != s.metadata().labels().end() &&
         it->second == o.name;
}

absl::StatusOr<Objects> FromFile(const tc::Options& o) {
  absl::StatusOr<std::string> data = kslice::cmd::objectfile::ReadInput(o.objects_file);
  if (!data.ok()) return data.status();
  absl::StatusOr<kslice::cmd::objectfile::ObjectSet> set =
      kslice::cmd::objectfile::ReadObjects(*data);
  if (!set.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(o.objects_file, ": ", set.status().message()));
  }
  Objects out;
  for (const auto& s : set->services) {
    std::string ns = s->metadata().namespace_().empty() ? "default" : s->metadata().namespace_();
    if (ns == o.ns && s->metadata().name() == o.name) out.service = s;
  }
  if (out.service == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("Service ", o.ns, "/", o.name, " is not in ", o.objects_file));
  }
  for (const auto& s : set->slices) {
    if (IsSliceOf(*s, o)) out.slices.push_back(s);
  }
  out.nodes = set->nodes;
  return out;
}

absl::StatusOr<Objects> FromServer(const tc::Options& o) {
  // clientcmd.BuildConfigFromFlags: --master overrides the kubeconfig's server.
  kslice::client::ClientConfigOptions co;
  co.kubeconfig = o.kubeconfig;
  absl::StatusOr<kslice::client::RestConfig> config = kslice::client::LoadRestConfig(co);
  if (!o.master.empty()) {
    if (!config.ok() && o.kubeconfig.empty()) config = kslice::client::RestConfig();
    if (config.ok()) config->host = o.master;
  }
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat("loading the client configuration: ", config.status().message()));
  }
  config->timeout = absl::Seconds(10);
  config->user_agent = absl::StrCat(kProgram, " ", kslice::client::kDefaultUserAgent);
  if (absl::Status s = config->Validate(); !s.ok()) return s;
  kslice::client::ClientOptions copts;
  copts.max_retries = 1;
  absl::StatusOr<std::unique_ptr<kslice::client::RestClient>> client =
      kslice::client::RestClient::Create(*config, copts);
  if (!client.ok()) return client.status();
  const std::string where = absl::StrCat(" (server ", config->host, ")");

  Objects out;
  absl::StatusOr<Service> svc = kslice::client::Typed<Service, ServiceList>(**client).Get(o.ns, o.name);
  if (!svc.ok()) {
    if (svc.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("Service ", o.ns, "/", o.name, " not found", where));
    }
    return absl::Status(svc.status().code(),
                        absl::StrCat("getting Service ", o.ns, "/", o.name, where, ": ",
                                     svc.status().message()));
  }
  out.service = std::make_shared<Service>(std::move(*svc));
  kslice::client::ListOptions lo;
  lo.label_selector = absl::StrCat("kubernetes.io/service-name=", o.name);
  absl::StatusOr<EndpointSliceList> slices =
      kslice::client::Typed<EndpointSlice, EndpointSliceList>(**client).List(o.ns, lo);
  if (!slices.ok()) {
    return absl::Status(slices.status().code(), absl::StrCat("listing EndpointSlices", where, ": ",
                                                             slices.status().message()));
  }
  for (const EndpointSlice& s : slices->items()) {
    if (IsSliceOf(s, o)) out.slices.push_back(std::make_shared<EndpointSlice>(s));
  }
  // The Node (labels: zone; addresses: which node this is). Listing all Nodes lets
  // ChooseNode find this one; a client allowed to read only its own Node gets it by name.
  absl::StatusOr<NodeList> nodes = kslice::client::Typed<Node, NodeList>(**client).List("");
  if (nodes.ok()) {
    for (const Node& n : nodes->items()) out.nodes.push_back(std::make_shared<Node>(n));
  } else if (!o.node.empty()) {
    absl::StatusOr<Node> n = kslice::client::Typed<Node, NodeList>(**client).Get("", o.node);
    if (n.ok()) out.nodes.push_back(std::make_shared<Node>(std::move(*n)));
  }
  return out;
}

absl::StatusOr<std::string> RunTool(kslice::proxy::iptables::Runner& runner,
                                    const std::vector<std::string>& argv) {
  absl::StatusOr<kslice::proxy::iptables::CommandResult> r = runner.Run(argv, "");
  std::string cmd = kslice::proxy::iptables::CommandString(argv);
  if (!r.ok()) {
    return absl::Status(r.status().code(), absl::StrCat("running ", cmd, ": ", r.status().message()));
  }
  if (r->exit_code != 0) {
    return absl::UnavailableError(absl::StrCat(cmd, " exited with status ", r->exit_code, ": ",
                                               r->stderr_data));
  }
  return r->stdout_data;
}

bool HasFamily(const Service& s, IPFamily family) {
  auto is_v6 = [](const std::string& ip) { return ip.find(':') != std::string::npos; };
  bool want6 = family == IPFamily::kIPv6;
  if (s.spec().clusterips_size() > 0) {
    for (const std::string& ip : s.spec().clusterips()) {
      if (ip != "None" && !ip.empty() && is_v6(ip) == want6) return true;
    }
    return false;
  }
  const std::string& ip = s.spec().clusterip();
  return ip != "None" && !ip.empty() && is_v6(ip) == want6;
}

int Run(const tc::Options& o) {
  absl::StatusOr<Objects> objects = o.objects_file.empty() ? FromServer(o) : FromFile(o);
  if (!objects.ok()) return Fail("reading the objects", objects.status());

  tr::TraceInput in;
  in.service = objects->service;
  in.slices = objects->slices;
  in.port_name = o.port;
  in.node_name = o.node.empty() ? tc::ChooseNode(objects->nodes, tc::LocalAddresses(),
                                                 tc::CurrentNetnsName(), tc::Hostname())
                                : o.node;
  for (const auto& n : objects->nodes) {
    if (n->metadata().name() == in.node_name) in.node = n;
  }

  std::vector<IPFamily> families;
  for (IPFamily f : {IPFamily::kIPv4, IPFamily::kIPv6}) {
    if (HasFamily(*in.service, f)) families.push_back(f);
  }

  std::string file_data;
  if (!o.ruleset_file.empty()) {
    absl::StatusOr<std::string> data = kslice::cmd::objectfile::ReadInput(o.ruleset_file);
    if (!data.ok()) return Fail("reading the ruleset", data.status());
    file_data = std::move(*data);
  }
  std::unique_ptr<kslice::proxy::iptables::Runner> runner;
  if (o.ruleset_file.empty()) runner = kslice::proxy::iptables::NewExecRunner();

  tr::Report report;
  report.service = absl::StrCat(o.ns, "/", o.name);
  report.node = in.node_name;
  report.mode = o.mode;
  for (IPFamily family : families) {
    const bool v6 = family == IPFamily::kIPv6;
    tr::TraceOptions topts;
    topts.cluster_cidr = tc::CidrForFamily(o.cluster_cidr, v6);
    std::string text;
    if (!o.ruleset_file.empty()) {
      size_t sep = file_data.find(kIPv6Separator);
      if (o.mode == "iptables" && sep != std::string::npos) {
        text = v6 ? file_data.substr(sep) : file_data.substr(0, sep);
      } else if (v6 && families.size() > 1) {
        continue;  // a single-family file: it holds the IPv4 rules
      } else {
        text = file_data;
      }
    } else if (o.mode == "iptables") {
      const std::string save = v6 ? "ip6tables-save" : "iptables-save";
      absl::StatusOr<std::string> nat = RunTool(*runner, {save, "-t", "nat"});
      if (!nat.ok()) return Fail("reading the live rules", nat.status());
      absl::StatusOr<std::string> filter = RunTool(*runner, {save, "-t", "filter"});
      if (!filter.ok()) return Fail("reading the live rules", filter.status());
      text = *nat + *filter;
    } else {
      absl::StatusOr<std::string> json =
          RunTool(*runner, {"nft", "-j", "list", "table", v6 ? "ip6" : "ip", "kube-proxy"});
      if (!json.ok()) return Fail("reading the live rules", json.status());
      text = std::move(*json);
    }
    absl::StatusOr<tr::Report> r;
    if (o.mode == "iptables") {
      absl::StatusOr<tr::SavedRuleset> live = tr::ParseIptablesSave(text);
      if (!live.ok()) return Fail("parsing the iptables rules", live.status());
      if (live->tables.count("nat") == 0) {
        return Fail("parsing the iptables rules",
                    absl::InvalidArgumentError("no nat table in the ruleset"));
      }
      r = tr::TraceIptables(in, family, *live, topts);
    } else {
      absl::StatusOr<tr::NftRuleset> live = tr::ParseNftJson(text);
      if (!live.ok()) return Fail("parsing the nftables rules", live.status());
      r = tr::TraceNftables(in, family, *live, topts);
    }
    if (!r.ok()) return Fail("tracing", r.status());
    tr::MergeReport(report, std::move(*r));
  }
  std::cout << (o.output == "json" ? tr::RenderJson(report) : tr::RenderText(report));
  return report.DriftCount() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<tc::Options> o = tc::ParseOptions(args);
  if (!o.ok()) {
    std::cerr << kProgram << ": " << o.status().message() << "\n";
    return 2;
  }
  if (o->help) {
    std::cout << tc::Usage();
    return 0;
  }
  return Run(*o);
}
