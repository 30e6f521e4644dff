#include "cmd/kslice-lab-kubelet/flags.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cmd/internal/flags/flags.h"

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

namespace {

namespace flags = ::kslice::cmd::flags;

// A setter for a duration that must be positive.
flags::Setter PositiveDurationSetter(std::string name, absl::Duration* out) {
  return [name, out, parse = flags::DurationSetter(name, out)](const std::string& v) {
    if (absl::Status s = parse(v); !s.ok()) return s;
    if (*out <= absl::ZeroDuration()) return flags::Bad(name, "the duration must be positive");
    return absl::OkStatus();
  };
}

}  // namespace

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags f;
  kubelet::KubeletOptions& o = f.options;
  o.healthz_bind_address = "0";
  std::vector<flags::Flag> table = {
      {{"help", "h"}, true, flags::BoolSetter("help", &f.help)},
      {{"cleanup"}, true, flags::BoolSetter("cleanup", &f.cleanup)},
      {{"kubeconfig"}, false, flags::StringSetter(&f.kubeconfig)},
      {{"netns"}, false, flags::StringSetter(&f.netns)},
      {{"node-name", "hostname-override"}, false, flags::StringSetter(&o.node_name)},
      {{"node-ip"}, false, flags::StringSetter(&o.node_ip)},
      {{"pod-cidr"}, false, flags::StringSetter(&o.pod_cidr)},
      {{"first-pod-ip"}, false, flags::StringSetter(&o.first_pod_ip)},
      {{"pod-gateway"}, false, flags::StringSetter(&o.pod_gateway)},
      {{"bridge"}, false, flags::StringSetter(&o.bridge)},
      {{"state-dir"}, false, flags::StringSetter(&o.state_dir)},
      {{"cluster-domain"}, false, flags::StringSetter(&o.cluster_domain)},
      {{"healthz-bind-address"}, false, flags::StringSetter(&o.healthz_bind_address)},
      {{"node-status-update-frequency"}, false,
       PositiveDurationSetter("node-status-update-frequency", &o.node_status_period)},
      {{"restart-backoff-base"}, false,
       PositiveDurationSetter("restart-backoff-base", &o.restart_backoff_base)},
      {{"restart-backoff-max"}, false,
       PositiveDurationSetter("restart-backoff-max", &o.restart_backoff_max)},
      {{"node-labels"}, false,
       [&o](const std::string& v) {
         absl::StatusOr<std::map<std::string, std::string>> l = ParseLabels(v);
         if (!l.ok()) return flags::Bad("node-labels", l.status().message());
         for (const auto& [k, val] : *l) o.node_labels[k] = val;
         return absl::OkStatus();
       }},
      {{"register-with-taints"}, false,
       [&o](const std::string& v) {
         absl::StatusOr<std::vector<api::core::v1::Taint>> t = ParseTaints(v);
         if (!t.ok()) return flags::Bad("register-with-taints", t.status().message());
         o.register_with_taints.insert(o.register_with_taints.end(), t->begin(), t->end());
         return absl::OkStatus();
       }},
  };
  if (absl::Status s = flags::ParseArgs(args, table); !s.ok()) return s;
  if (f.cleanup && (o.node_name.empty() || o.state_dir.empty())) {
    return absl::InvalidArgumentError("--cleanup needs --node-name and --state-dir");
  }
  return f;
}

}  // namespace kslice::lab::cmd
