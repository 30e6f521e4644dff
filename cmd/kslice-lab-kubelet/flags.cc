#include "cmd/kslice-lab-kubelet/flags.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace kslice::lab::cmd {

const char kUsage[] =
    R"(kslice-lab-kubelet: the kslice lab's kubelet (docs/lab-kubelet.md). Run it as root
inside the node's network namespace.

  kslice-lab-kubelet --kubeconfig FILE --node-name NAME --node-ip IP --pod-cidr CIDR
      --pod-gateway IP [--first-pod-ip IP] [--bridge cni0] --state-dir DIR [flags]
  kslice-lab-kubelet --cleanup --node-name NAME --state-dir DIR

Flags:
  --kubeconfig FILE             the API server and credentials (else $KUBECONFIG, ~/.kube/config)
  --netns NAME                  enter the network namespace /run/netns/NAME first (instead of
                                starting it with `ip netns exec`, which it also handles)
  --node-name NAME              the Node to register and whose pods to run (required)
  --node-ip IP                  the node's InternalIP and the pods' hostIP (required)
  --pod-cidr CIDR               the node's IPv4 pod block, e.g. 192.168.202.192/26 (required)
  --pod-gateway IP              the bridge's address in the block; pods' default route (required)
  --first-pod-ip IP             lowest address handed out (default: the one after the gateway)
  --bridge NAME                 the node's pod bridge (default cni0)
  --node-labels k=v,...         labels added to the Node
  --register-with-taints k=v:Effect,...   taints the Node is registered with
  --state-dir DIR               where pod records, logs and files live (required)
  --cluster-domain DOMAIN       (default cluster.local)
  --healthz-bind-address ADDR:PORT   /healthz; 0 or empty: off (default 0)
  --node-status-update-frequency DURATION   (default 10s)
  --restart-backoff-base DURATION, --restart-backoff-max DURATION   (default 10s, 5m)
  --cleanup                     kill and remove every pod this node's kubelet created, then exit
  -v N, --vmodule, --logging-format   logging
)";

absl::StatusOr<std::map<std::string, std::string>> ParseLabels(const std::string& s) {
  std::map<std::string, std::string> out;
  for (absl::string_view kv : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    if (p.first.empty() || !absl::StrContains(kv, '=')) {
      return absl::InvalidArgumentError(absl::StrCat("invalid label \"", kv, "\": want key=value"));
    }
    out[p.first] = p.second;
  }
  return out;
}

absl::StatusOr<std::vector<api::core::v1::Taint>> ParseTaints(const std::string& s) {
  std::vector<api::core::v1::Taint> out;
  for (absl::string_view t : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    size_t colon = t.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid taint \"", t, "\": want key[=value]:Effect"));
    }
    std::string effect(t.substr(colon + 1));
    if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid taint effect \"", effect, "\" in \"", t,
                       "\": want NoSchedule, PreferNoSchedule or NoExecute"));
    }
    std::pair<std::string, std::string> kv =
        absl::StrSplit(t.substr(0, colon), absl::MaxSplits('=', 1));
    if (kv.first.empty())
      return absl::InvalidArgumentError(absl::StrCat("invalid taint \"", t, "\": empty key"));
    api::core::v1::Taint taint;
    taint.set_key(kv.first);
    if (!kv.second.empty()) taint.set_value(kv.second);
    taint.set_effect(effect);
    out.push_back(taint);
  }
  return out;
}

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags f;
  kubelet::KubeletOptions& o = f.options;
  o.healthz_bind_address = "0";
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i], value;
    bool has_value = false;
    if (!absl::StartsWith(name, "-")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", name, "\""));
    }
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    if (absl::StartsWith(name, "--"))
      name = name.substr(2);
    else
      name = name.substr(1);
    if (name == "cleanup" || name == "help" || name == "h") {
      bool b = true;
      if (has_value && !absl::SimpleAtob(value, &b)) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid value \"", value, "\" for --", name));
      }
      if (name == "cleanup")
        f.cleanup = b;
      else
        f.help = b;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size())
        return absl::InvalidArgumentError(absl::StrCat("flag needs an argument: --", name));
      value = args[++i];
    }
    auto duration = [&](absl::Duration* d) -> absl::Status {
      if (!absl::ParseDuration(value, d) || *d <= absl::ZeroDuration()) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid duration \"", value, "\" for --", name));
      }
      return absl::OkStatus();
    };
    absl::Status st;
    if (name == "kubeconfig")
      f.kubeconfig = value;
    else if (name == "netns")
      f.netns = value;
    else if (name == "node-name" || name == "hostname-override")
      o.node_name = value;
    else if (name == "node-ip")
      o.node_ip = value;
    else if (name == "pod-cidr")
      o.pod_cidr = value;
    else if (name == "first-pod-ip")
      o.first_pod_ip = value;
    else if (name == "pod-gateway")
      o.pod_gateway = value;
    else if (name == "bridge")
      o.bridge = value;
    else if (name == "state-dir")
      o.state_dir = value;
    else if (name == "cluster-domain")
      o.cluster_domain = value;
    else if (name == "healthz-bind-address")
      o.healthz_bind_address = value;
    else if (name == "node-status-update-frequency")
      st = duration(&o.node_status_period);
    else if (name == "restart-backoff-base")
      st = duration(&o.restart_backoff_base);
    else if (name == "restart-backoff-max")
      st = duration(&o.restart_backoff_max);
    else if (name == "node-labels") {
      absl::StatusOr<std::map<std::string, std::string>> l = ParseLabels(value);
      if (!l.ok())
        return absl::InvalidArgumentError(absl::StrCat("--node-labels: ", l.status().message()));
      for (const auto& [k, v] : *l) o.node_labels[k] = v;
    } else if (name == "register-with-taints") {
      absl::StatusOr<std::vector<api::core::v1::Taint>> t = ParseTaints(value);
      if (!t.ok())
        return absl::InvalidArgumentError(
            absl::StrCat("--register-with-taints: ", t.status().message()));
      o.register_with_taints.insert(o.register_with_taints.end(), t->begin(), t->end());
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag: --", name));
    }
    if (!st.ok()) return st;
  }
  if (f.cleanup && (o.node_name.empty() || o.state_dir.empty())) {
    return absl::InvalidArgumentError("--cleanup needs --node-name and --state-dir");
  }
  return f;
}

}  // namespace kslice::lab::cmd
