// Pure scheduling rules; see predicates.h for the upstream pieces each one follows.
#include "controller/scheduler/predicates.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kslice::scheduler {
namespace {

using api::core::v1::NodeSelectorRequirement;
using api::core::v1::NodeSelectorTerm;

constexpr char kReasonUnschedulable[] = "node(s) were unschedulable";
constexpr char kReasonNodeAffinity[] = "node(s) didn't match Pod's node affinity/selector";
constexpr char kReasonNodePorts[] = "node(s) didn't have free ports for the requested pod ports";

// One label requirement of a nodeSelectorTerm; nullopt when the requirement is invalid.
std::optional<bool> MatchExpression(const NodeSelectorRequirement& r,
                                    const google::protobuf::Map<std::string, std::string>& labels) {
  auto it = labels.find(r.key());
  const bool has = it != labels.end();
  const std::string& op = r.operator_();
  if (op == "In" || op == "NotIn") {
    if (r.values().empty()) return std::nullopt;
    bool in = has && std::find(r.values().begin(), r.values().end(), it->second) != r.values().end();
    return op == "In" ? in : !in;
  }
  if (op == "Exists" || op == "DoesNotExist") {
    if (!r.values().empty()) return std::nullopt;
    return op == "Exists" ? has : !has;
  }
  if (op == "Gt" || op == "Lt") {
    int64_t bound = 0;
    if (r.values_size() != 1 || !absl::SimpleAtoi(r.values(0), &bound)) return std::nullopt;
    if (!has) return false;
    int64_t value = 0;
    if (!absl::SimpleAtoi(it->second, &value)) return false;
    return op == "Gt" ? value > bound : value < bound;
  }
  return std::nullopt;
}

// One field requirement: only metadata.name with In/NotIn and one value is valid.
std::optional<bool> MatchField(const NodeSelectorRequirement& r, const Node& node) {
  if (r.key() != "metadata.name") return std::nullopt;
  if (r.values_size() != 1) return std::nullopt;
  if (r.operator_() == "In") return node.metadata().name() == r.values(0);
  if (r.operator_() == "NotIn") return node.metadata().name() != r.values(0);
  return std::nullopt;
}

bool TermMatches(const NodeSelectorTerm& term, const Node& node) {
  if (term.matchexpressions().empty() && term.matchfields().empty()) return false;
  for (const NodeSelectorRequirement& r : term.matchexpressions()) {
    std::optional<bool> m = MatchExpression(r, node.metadata().labels());
    if (!m.has_value() || !*m) return false;
  }
  for (const NodeSelectorRequirement& r : term.matchfields()) {
    std::optional<bool> m = MatchField(r, node);
    if (!m.has_value() || !*m) return false;
  }
  return true;
}

bool IsPreferNoSchedule(const Taint& t) { return t.effect() == kEffectPreferNoSchedule; }

bool HasTaint(const std::vector<Taint>& taints, const std::string& key, const std::string& effect) {
  return std::any_of(taints.begin(), taints.end(), [&](const Taint& t) {
    return t.key() == key && t.effect() == effect;
  });
}

bool IsTerminal(const Pod& pod) {
  return pod.status().phase() == "Succeeded" || pod.status().phase() == "Failed";
}

}  // namespace

bool ToleratesTaint(const Toleration& toleration, const Taint& taint) {
  if (!toleration.effect().empty() && toleration.effect() != taint.effect()) return false;
  if (!toleration.key().empty() && toleration.key() != taint.key()) return false;
  const std::string& op = toleration.operator_();
  if (op.empty() || op == "Equal") return toleration.value() == taint.value();
  return op == "Exists";
}

bool TaintToleratedByTolerations(
    const Taint& taint, const google::protobuf::RepeatedPtrField<Toleration>& tolerations) {
  return std::any_of(tolerations.begin(), tolerations.end(),
                     [&](const Toleration& t) { return ToleratesTaint(t, taint); });
}

bool IsNoScheduleOrNoExecute(const Taint& taint) {
  return taint.effect() == kEffectNoSchedule || taint.effect() == kEffectNoExecute;
}

bool IsNoExecute(const Taint& taint) { return taint.effect() == kEffectNoExecute; }

std::optional<Taint> FindUntoleratedTaint(
    const std::vector<Taint>& taints,
    const google::protobuf::RepeatedPtrField<Toleration>& tolerations,
    bool (*effect_filter)(const Taint&)) {
  for (const Taint& t : taints) {
    if (effect_filter != nullptr && !effect_filter(t)) continue;
    if (!TaintToleratedByTolerations(t, tolerations)) return t;
  }
  return std::nullopt;
}

bool LabelsEqual(const google::protobuf::Map<std::string, std::string>& a,
                 const google::protobuf::Map<std::string, std::string>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second != v) return false;
  }
  return true;
}

bool IsNodeReady(const Node& node) {
  for (const auto& c : node.status().conditions()) {
    if (c.type() == "Ready") return c.status() == "True";
  }
  return false;
}

std::vector<Taint> EffectiveTaints(const Node& node) {
  std::vector<Taint> out(node.spec().taints().begin(), node.spec().taints().end());
  auto add = [&out](const char* key) {
    if (HasTaint(out, key, kEffectNoSchedule)) return;
    Taint t;
    t.set_key(key);
    t.set_effect(kEffectNoSchedule);
    out.push_back(std::move(t));
  };
  std::string ready;  // "" when the condition is missing
  for (const auto& c : node.status().conditions()) {
    if (c.type() == "Ready") ready = c.status();
  }
  if (ready == "False") {
    add(kTaintNodeNotReady);
  } else if (ready != "True") {
    add(kTaintNodeUnreachable);
  }
  if (node.spec().unschedulable()) add(kTaintNodeUnschedulable);
  return out;
}

bool PodMatchesNodeSelectorAndAffinity(const Pod& pod, const Node& node) {
  const auto& labels = node.metadata().labels();
  for (const auto& [k, v] : pod.spec().nodeselector()) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  if (!pod.spec().has_affinity() || !pod.spec().affinity().has_nodeaffinity() ||
      !pod.spec().affinity().nodeaffinity().has_requiredduringschedulingignoredduringexecution()) {
    return true;
  }
  const auto& terms = pod.spec()
                          .affinity()
                          .nodeaffinity()
                          .requiredduringschedulingignoredduringexecution()
                          .nodeselectorterms();
  return std::any_of(terms.begin(), terms.end(),
                     [&](const NodeSelectorTerm& t) { return TermMatches(t, node); });
}

std::vector<HostPort> PodHostPorts(const Pod& pod) {
  std::vector<HostPort> out;
  auto collect = [&out](const auto& containers) {
    for (const auto& c : containers) {
      for (const auto& p : c.ports()) {
        if (p.hostport() == 0) continue;
        out.push_back({p.hostip(), p.protocol().empty() ? "TCP" : p.protocol(), p.hostport()});
      }
    }
  };
  collect(pod.spec().initcontainers());
  collect(pod.spec().containers());
  return out;
}

bool HostPortsConflict(const std::vector<HostPort>& want, const std::vector<HostPort>& used) {
  auto wildcard = [](const std::string& ip) { return ip.empty() || ip == "0.0.0.0" || ip == "::"; };
  for (const HostPort& w : want) {
    for (const HostPort& u : used) {
      if (w.port != u.port || w.protocol != u.protocol) continue;
      if (wildcard(w.ip) || wildcard(u.ip) || w.ip == u.ip) return true;
    }
  }
  return false;
}

std::string ControllerUID(const Pod& pod) {
  for (const auto& ref : pod.metadata().ownerreferences()) {
    if (ref.controller()) return ref.uid();
  }
  return "";
}

std::string FilterReason(const Pod& pod, const NodeInfo& info) {
  const Node& node = *info.node;
  if (node.spec().unschedulable()) {
    Taint t;
    t.set_key(kTaintNodeUnschedulable);
    t.set_effect(kEffectNoSchedule);
    if (!TaintToleratedByTolerations(t, pod.spec().tolerations())) return kReasonUnschedulable;
  }
  std::optional<Taint> untolerated =
      FindUntoleratedTaint(EffectiveTaints(node), pod.spec().tolerations(), IsNoScheduleOrNoExecute);
  if (untolerated.has_value()) {
    return absl::StrCat("node(s) had untolerated taint {", untolerated->key(), ": ",
                        untolerated->value(), "}");
  }
  if (!PodMatchesNodeSelectorAndAffinity(pod, node)) return kReasonNodeAffinity;
  std::vector<HostPort> want = PodHostPorts(pod);
  if (!want.empty()) {
    std::vector<HostPort> used;
    for (const auto& p : info.pods) {
      std::vector<HostPort> ports = PodHostPorts(*p);
      used.insert(used.end(), ports.begin(), ports.end());
    }
    if (HostPortsConflict(want, used)) return kReasonNodePorts;
  }
  return "";
}

NodeScore ScoreNode(const Pod& pod, const NodeInfo& info) {
  NodeScore s;
  s.name = info.node->metadata().name();
  const std::string owner = ControllerUID(pod);
  for (const auto& p : info.pods) {
    ++s.total_pods;
    if (!owner.empty() && ControllerUID(*p) == owner) ++s.same_owner_pods;
  }
  for (const Taint& t : info.node->spec().taints()) {
    if (IsPreferNoSchedule(t) && !TaintToleratedByTolerations(t, pod.spec().tolerations())) {
      ++s.prefer_no_schedule;
    }
  }
  return s;
}

SchedulingResult Schedule(const Pod& pod, const std::vector<NodeInfo>& nodes) {
  SchedulingResult r;
  std::optional<NodeScore> best;
  std::map<std::string, int> reasons;
  if (nodes.empty()) {
    r.message = "no nodes available to schedule pods";
    return r;
  }
  for (const NodeInfo& n : nodes) {
    std::string reason = FilterReason(pod, n);
    if (!reason.empty()) {
      ++reasons[reason];
      continue;
    }
    NodeScore s = ScoreNode(pod, n);
    if (!best.has_value() || s < *best) best = std::move(s);
  }
  if (best.has_value()) {
    r.node = best->name;
    return r;
  }
  std::vector<std::string> parts;
  for (const auto& [reason, count] : reasons) parts.push_back(absl::StrCat(count, " ", reason));
  std::sort(parts.begin(), parts.end());
  r.message = absl::StrCat("0/", nodes.size(), " nodes are available: ",
                           absl::StrJoin(parts, ", "), ".");
  return r;
}

bool NeedsScheduling(const Pod& pod, const std::vector<std::string>& names) {
  if (!pod.spec().nodename().empty()) return false;
  if (pod.metadata().has_deletiontimestamp()) return false;
  if (IsTerminal(pod)) return false;
  if (!pod.spec().schedulinggates().empty()) return false;
  const std::string& name = pod.spec().schedulername();
  if (name.empty()) {
    return std::find(names.begin(), names.end(), kDefaultSchedulerName) != names.end();
  }
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace kslice::scheduler
