// The scheduling rules kslice's scheduler and DaemonSet controller share, as pure
// functions of a Pod and Nodes (no server, no cache): taints and tolerations, node
// selectors and required node affinity, host ports, and the scheduler's filter and
// score with kube-scheduler's failure message.
//
//   std::vector<NodeInfo> nodes = ...;  // each Node with the pods bound to it
//   SchedulingResult r = Schedule(pod, nodes);
//   if (r.node.empty()) SetUnschedulable(pod, r.message);
//   // r.message: "0/3 nodes are available: 1 node(s) had untolerated taint
//   //   {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node
//   //   affinity/selector."
//
// Upstream references: k8s.io/api core/v1 toleration.go (ToleratesTaint),
// component-helpers/scheduling/corev1 (node affinity), kube-scheduler's plugins
// NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts and FitError.Error().
#ifndef KSLICE_CONTROLLER_SCHEDULER_PREDICATES_H_
#define KSLICE_CONTROLLER_SCHEDULER_PREDICATES_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/core/v1/core.pb.h"

namespace kslice::scheduler {

using api::core::v1::Node;
using api::core::v1::Pod;
using api::core::v1::Taint;
using api::core::v1::Toleration;

// Well-known taint keys (k8s.io/api/core/v1 well_known_taints.go).
inline constexpr char kTaintNodeNotReady[] = "node.kubernetes.io/not-ready";
inline constexpr char kTaintNodeUnreachable[] = "node.kubernetes.io/unreachable";
inline constexpr char kTaintNodeUnschedulable[] = "node.kubernetes.io/unschedulable";
inline constexpr char kTaintNodeMemoryPressure[] = "node.kubernetes.io/memory-pressure";
inline constexpr char kTaintNodeDiskPressure[] = "node.kubernetes.io/disk-pressure";
inline constexpr char kTaintNodePIDPressure[] = "node.kubernetes.io/pid-pressure";
inline constexpr char kTaintNodeNetworkUnavailable[] = "node.kubernetes.io/network-unavailable";

inline constexpr char kEffectNoSchedule[] = "NoSchedule";
inline constexpr char kEffectPreferNoSchedule[] = "PreferNoSchedule";
inline constexpr char kEffectNoExecute[] = "NoExecute";

// The scheduler name pods get by default.
inline constexpr char kDefaultSchedulerName[] = "default-scheduler";

// Toleration.ToleratesTaint: effects equal (or the toleration's empty), keys equal (or
// the toleration's empty), and operator Exists, or Equal/"" with equal values. Any
// other operator tolerates nothing.
bool ToleratesTaint(const Toleration& toleration, const Taint& taint);

// Whether some toleration tolerates `taint`.
bool TaintToleratedByTolerations(const Taint& taint,
                                 const google::protobuf::RepeatedPtrField<Toleration>& tolerations);

// The first taint of `taints` with an effect accepted by `effect_filter` that no
// toleration tolerates (v1helper.FindMatchingUntoleratedTaint), or nullopt.
std::optional<Taint> FindUntoleratedTaint(
    const std::vector<Taint>& taints,
    const google::protobuf::RepeatedPtrField<Toleration>& tolerations,
    bool (*effect_filter)(const Taint&));

bool IsNoScheduleOrNoExecute(const Taint& taint);
bool IsNoExecute(const Taint& taint);

// The taints the scheduler sees on a node: spec.taints plus the condition taints
// upstream's node lifecycle controller would add (TaintNodesByCondition), which no
// component of kslice adds: Ready False -> not-ready, Ready Unknown or missing ->
// unreachable (both NoSchedule), spec.unschedulable -> unschedulable NoSchedule. A taint
// already present with the same key and effect is not repeated.
std::vector<Taint> EffectiveTaints(const Node& node);

// Whether `pod`'s spec.nodeSelector and required node affinity
// (requiredDuringSchedulingIgnoredDuringExecution) match `node`: every nodeSelector
// pair is a label of the node, and some nodeSelectorTerm matches. A term matches when
// all its matchExpressions (In, NotIn, Exists, DoesNotExist, Gt, Lt on labels) and
// matchFields (metadata.name In/NotIn) hold and it has at least one of them; an invalid
// requirement (unknown operator, Gt/Lt without exactly one integer value, a field other
// than metadata.name) makes its term match nothing, as upstream's lazy-error selector.
bool PodMatchesNodeSelectorAndAffinity(const Pod& pod, const Node& node);

// Host ports (hostPort != 0) of the pod's containers, init containers included.
struct HostPort {
  std::string ip;        // "" means 0.0.0.0
  std::string protocol;  // "" means TCP
  int32_t port = 0;
};
std::vector<HostPort> PodHostPorts(const Pod& pod);
// Whether any port of `want` conflicts with one of `used` (same protocol and port, and
// equal IPs or either a wildcard).
bool HostPortsConflict(const std::vector<HostPort>& want, const std::vector<HostPort>& used);

// Equal label maps.
bool LabelsEqual(const google::protobuf::Map<std::string, std::string>& a,
                 const google::protobuf::Map<std::string, std::string>& b);

// Whether the node's Ready condition is True.
bool IsNodeReady(const Node& node);

// The controller owner reference's uid, or "".
std::string ControllerUID(const Pod& pod);

// A node and what is bound to it.
struct NodeInfo {
  std::shared_ptr<const Node> node;
  std::vector<std::shared_ptr<const Pod>> pods;  // non-terminal pods with spec.nodeName == node
};

// The first filter `pod` fails on `node`, as kube-scheduler's reason text without the
// count ("node(s) had untolerated taint {key: value}"), or "" when it fits. Filters in
// kube-scheduler's order: NodeUnschedulable ("node(s) were unschedulable", unless the
// pod tolerates the unschedulable taint), TaintToleration on EffectiveTaints (NoSchedule
// and NoExecute), NodeAffinity ("node(s) didn't match Pod's node affinity/selector"),
// NodePorts ("node(s) didn't have free ports for the requested pod ports").
std::string FilterReason(const Pod& pod, const NodeInfo& node);

// The score of a feasible node; lower is better, compared in member order.
struct NodeScore {
  int same_owner_pods = 0;     // pods with the same controller owner (spread)
  int prefer_no_schedule = 0;  // untolerated PreferNoSchedule taints
  int total_pods = 0;          // all pods bound to the node
  std::string name;            // deterministic tie break
  friend auto operator<=>(const NodeScore&, const NodeScore&) = default;
};
NodeScore ScoreNode(const Pod& pod, const NodeInfo& node);

struct SchedulingResult {
  std::string node;     // the chosen node; empty when none fits
  std::string message;  // FitError text when none fits
};

// Filters every node, scores the feasible ones and picks the lowest score. With none
// feasible, message is FitError's: "0/N nodes are available: " + "<count> <reason>"
// entries sorted as strings and joined with ", " + "."; with no nodes at all
// upstream's ErrNoNodesAvailable, "no nodes available to schedule pods".
SchedulingResult Schedule(const Pod& pod, const std::vector<NodeInfo>& nodes);

// Whether the scheduler should try to place `pod`: not bound, not being deleted, not
// terminal, no scheduling gates, and spec.schedulerName empty or one of `names`.
bool NeedsScheduling(const Pod& pod, const std::vector<std::string>& names);

}  // namespace kslice::scheduler

#endif  // KSLICE_CONTROLLER_SCHEDULER_PREDICATES_H_
