// Table tests of the pure scheduling rules: tolerations, node affinity, host ports, the
// filter order, the score and kube-scheduler's FitError message.
#include "controller/scheduler/predicates.h"

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace kslice::scheduler {
namespace {

template <typename T>
T Parse(const std::string& text) {
  T out;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &out)) << text;
  return out;
}

Node ReadyNode(const std::string& name, const std::string& extra = "") {
  return Parse<Node>(R"(metadata { name: ")" + name + R"(" labels { key: "kubernetes.io/hostname" value: ")" +
                     name + R"(" } } status { conditions { type: "Ready" status: "True" } } )" + extra);
}

// The lab: a tainted control plane and two workers.
std::vector<NodeInfo> Lab() {
  std::vector<NodeInfo> nodes;
  nodes.push_back({std::make_shared<Node>(ReadyNode(
                       "lab-control-plane",
                       R"(spec { taints { key: "node-role.kubernetes.io/control-plane" effect: "NoSchedule" } })")),
                   {}});
  nodes.push_back({std::make_shared<Node>(ReadyNode("lab-worker")), {}});
  nodes.push_back({std::make_shared<Node>(ReadyNode("lab-worker2")), {}});
  return nodes;
}

TEST(TolerationTest, ToleratesTaint) {
  struct Case {
    std::string toleration, taint;
    bool want;
  };
  const std::vector<Case> cases = {
      {R"(key: "a" operator: "Exists")", R"(key: "a" value: "x" effect: "NoSchedule")", true},
      {R"(key: "a" value: "x")", R"(key: "a" value: "x" effect: "NoSchedule")", true},
      {R"(key: "a" operator: "Equal" value: "y")", R"(key: "a" value: "x" effect: "NoSchedule")", false},
      {R"(key: "a" operator: "Exists" effect: "NoExecute")", R"(key: "a" effect: "NoSchedule")", false},
      {R"(operator: "Exists")", R"(key: "anything" effect: "NoExecute")", true},
      {R"(key: "b" operator: "Exists")", R"(key: "a" effect: "NoSchedule")", false},
      {R"(key: "a" operator: "Bogus")", R"(key: "a" effect: "NoSchedule")", false},
      {R"(key: "a")", R"(key: "a" effect: "NoSchedule")", true},  // Equal, both values empty
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ToleratesTaint(Parse<Toleration>(c.toleration), Parse<Taint>(c.taint)), c.want)
        << c.toleration << " vs " << c.taint;
  }
}

TEST(TaintsTest, EffectiveTaintsFromConditions) {
  Node n = Parse<Node>(R"(metadata { name: "n" } status { conditions { type: "Ready" status: "False" } })");
  std::vector<Taint> t = EffectiveTaints(n);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].key(), kTaintNodeNotReady);
  EXPECT_EQ(t[0].effect(), "NoSchedule");
  n = Parse<Node>(R"(metadata { name: "n" } spec { unschedulable: true })");
  t = EffectiveTaints(n);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].key(), kTaintNodeUnreachable);
  EXPECT_EQ(t[1].key(), kTaintNodeUnschedulable);
  EXPECT_TRUE(EffectiveTaints(ReadyNode("n")).empty());
}

TEST(AffinityTest, SelectorAndRequiredTerms) {
  Node node = ReadyNode("lab-worker");
  (*node.mutable_metadata()->mutable_labels())["zone"] = "a";
  (*node.mutable_metadata()->mutable_labels())["cores"] = "8";
  struct Case {
    std::string spec;
    bool want;
  };
  auto affinity = [](const std::string& terms) {
    return "affinity { nodeAffinity { requiredDuringSchedulingIgnoredDuringExecution { " + terms + " } } }";
  };
  const std::vector<Case> cases = {
      {"", true},
      {R"(nodeSelector { key: "zone" value: "a" })", true},
      {R"(nodeSelector { key: "zone" value: "b" })", false},
      {R"(nodeSelector { key: "missing" value: "a" })", false},
      {affinity(R"(nodeSelectorTerms { matchExpressions { key: "zone" operator: "In" values: "a" values: "b" } })"), true},
      {affinity(R"(nodeSelectorTerms { matchExpressions { key: "zone" operator: "NotIn" values: "a" } })"), false},
      {affinity(R"(nodeSelectorTerms { matchExpressions { key: "gpu" operator: "NotIn" values: "a" } })"), true},
      {affinity(R"(nodeSelectorTerms { matchExpressions { key: "zone" operator: "Exists" } })"), true},
      {affinity(R"(nodeSelectorTerms { matchExpressions { key: "zone" operator: "DoesNotExist" } })"), false},
      {affinity(R"(nodeSelectorTerms { matchExpressions { key: "cores" operator: "Gt" values: "4" } })"), true},
      {affinity(R"(nodeSelectorTerms { matchExpressions { key: "cores" operator: "Lt" values: "4" } })"), false},
      {affinity(R"(nodeSelectorTerms { matchExpressions { key: "cores" operator: "Gt" values: "x" } })"), false},
      {affinity(R"(nodeSelectorTerms { matchExpressions { key: "zone" operator: "Near" values: "a" } })"), false},
      {affinity(R"(nodeSelectorTerms { matchFields { key: "metadata.name" operator: "In" values: "lab-worker" } })"), true},
      {affinity(R"(nodeSelectorTerms { matchFields { key: "metadata.name" operator: "In" values: "lab-worker2" } })"), false},
      {affinity(R"(nodeSelectorTerms { matchFields { key: "metadata.uid" operator: "In" values: "lab-worker" } })"), false},
      // Terms are ORed; an empty term matches nothing; no terms match nothing.
      {affinity(R"(nodeSelectorTerms { matchFields { key: "metadata.name" operator: "In" values: "x" } }
                   nodeSelectorTerms { matchExpressions { key: "zone" operator: "In" values: "a" } })"), true},
      {affinity(R"(nodeSelectorTerms { })"), false},
      {affinity(""), false},
      // nodeSelector and affinity must both hold.
      {R"(nodeSelector { key: "zone" value: "b" } )" +
           affinity(R"(nodeSelectorTerms { matchExpressions { key: "zone" operator: "Exists" } })"), false},
  };
  for (const Case& c : cases) {
    Pod pod = Parse<Pod>("spec { " + c.spec + " }");
    EXPECT_EQ(PodMatchesNodeSelectorAndAffinity(pod, node), c.want) << c.spec;
  }
}

TEST(HostPortsTest, Conflicts) {
  EXPECT_TRUE(HostPortsConflict({{"", "TCP", 80}}, {{"10.0.0.1", "TCP", 80}}));
  EXPECT_FALSE(HostPortsConflict({{"", "TCP", 80}}, {{"", "UDP", 80}}));
  EXPECT_FALSE(HostPortsConflict({{"10.0.0.2", "TCP", 80}}, {{"10.0.0.1", "TCP", 80}}));
  EXPECT_FALSE(HostPortsConflict({{"", "TCP", 80}}, {{"", "TCP", 81}}));
  Pod p = Parse<Pod>(R"(spec { containers { ports { containerPort: 80 hostPort: 8080 } ports { containerPort: 81 } } })");
  std::vector<HostPort> hp = PodHostPorts(p);
  ASSERT_EQ(hp.size(), 1u);
  EXPECT_EQ(hp[0].port, 8080);
  EXPECT_EQ(hp[0].protocol, "TCP");
}

TEST(ScheduleTest, LabMessageWhenNothingFits) {
  // Tolerates nothing and wants a node that does not exist.
  Pod pod = Parse<Pod>(R"(metadata { name: "p" namespace: "default" } spec { nodeSelector { key: "kubernetes.io/hostname" value: "elsewhere" } })");
  SchedulingResult r = Schedule(pod, Lab());
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.message,
            "0/3 nodes are available: 1 node(s) had untolerated taint "
            "{node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node "
            "affinity/selector.");
  EXPECT_EQ(Schedule(pod, {}).message, "no nodes available to schedule pods");
}

TEST(ScheduleTest, FilterOrderAndReasons) {
  std::vector<NodeInfo> nodes;
  nodes.push_back({std::make_shared<Node>(ReadyNode("a", "spec { unschedulable: true }")), {}});
  nodes.push_back({std::make_shared<Node>(Parse<Node>(R"(metadata { name: "b" } status { conditions { type: "Ready" status: "False" } })")), {}});
  auto busy = std::make_shared<Pod>(Parse<Pod>(R"(spec { nodeName: "c" containers { ports { hostPort: 80 containerPort: 80 } } })"));
  nodes.push_back({std::make_shared<Node>(ReadyNode("c")), {busy}});
  Pod pod = Parse<Pod>(R"(spec { containers { ports { hostPort: 80 containerPort: 80 } } })");
  SchedulingResult r = Schedule(pod, nodes);
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.message,
            "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod "
            "ports, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) "
            "were unschedulable.");
  // Tolerating unschedulable and not-ready opens a and b; a comes first by name.
  pod.mutable_spec()->add_tolerations()->set_key(kTaintNodeUnschedulable);
  pod.mutable_spec()->mutable_tolerations(0)->set_operator_("Exists");
  pod.mutable_spec()->add_tolerations()->set_key(kTaintNodeNotReady);
  pod.mutable_spec()->mutable_tolerations(1)->set_operator_("Exists");
  EXPECT_EQ(Schedule(pod, nodes).node, "a");
}

TEST(ScheduleTest, SpreadsReplicasAndAvoidsTaintedControlPlane) {
  std::vector<NodeInfo> nodes = Lab();
  const std::string owner = R"(ownerReferences { kind: "ReplicaSet" name: "rs" uid: "u1" controller: true })";
  Pod p1 = Parse<Pod>(R"(metadata { name: "nginx-1" )" + owner + " } spec {}");
  SchedulingResult r1 = Schedule(p1, nodes);
  EXPECT_EQ(r1.node, "lab-worker");  // equal scores: name order
  auto bound = std::make_shared<Pod>(p1);
  bound->mutable_spec()->set_nodename("lab-worker");
  nodes[1].pods.push_back(bound);
  Pod p2 = Parse<Pod>(R"(metadata { name: "nginx-2" )" + owner + " } spec {}");
  EXPECT_EQ(Schedule(p2, nodes).node, "lab-worker2");

  // Same-owner spread beats total pod count: lab-worker2 has two foreign pods.
  nodes[2].pods.push_back(std::make_shared<Pod>());
  nodes[2].pods.push_back(std::make_shared<Pod>());
  EXPECT_EQ(Schedule(p2, nodes).node, "lab-worker2");
  // Without an owner the emptier node wins.
  Pod lone = Parse<Pod>(R"(metadata { name: "lone" } spec {})");
  EXPECT_EQ(Schedule(lone, nodes).node, "lab-worker");

  // A pod tolerating the control-plane taint may go there (it is empty).
  Pod tolerant = Parse<Pod>(R"(spec { tolerations { key: "node-role.kubernetes.io/control-plane" operator: "Exists" effect: "NoSchedule" } })");
  EXPECT_EQ(Schedule(tolerant, nodes).node, "lab-control-plane");
}

TEST(ScheduleTest, PreferNoScheduleIsOnlyAScore) {
  std::vector<NodeInfo> nodes;
  nodes.push_back({std::make_shared<Node>(ReadyNode("a", R"(spec { taints { key: "k" effect: "PreferNoSchedule" } })")), {}});
  nodes.push_back({std::make_shared<Node>(ReadyNode("b")), {std::make_shared<Pod>()}});
  Pod pod;
  EXPECT_EQ(Schedule(pod, nodes).node, "b");
  nodes.pop_back();
  EXPECT_EQ(Schedule(pod, nodes).node, "a");
}

TEST(NeedsSchedulingTest, Rules) {
  const std::vector<std::string> names = {"default-scheduler"};
  EXPECT_TRUE(NeedsScheduling(Parse<Pod>("spec {}"), names));
  EXPECT_TRUE(NeedsScheduling(Parse<Pod>(R"(spec { schedulerName: "default-scheduler" })"), names));
  EXPECT_FALSE(NeedsScheduling(Parse<Pod>(R"(spec { schedulerName: "other" })"), names));
  EXPECT_FALSE(NeedsScheduling(Parse<Pod>(R"(spec { nodeName: "n" })"), names));
  EXPECT_FALSE(NeedsScheduling(Parse<Pod>(R"(metadata { deletionTimestamp { seconds: 1 } } spec {})"), names));
  EXPECT_FALSE(NeedsScheduling(Parse<Pod>(R"(spec {} status { phase: "Failed" })"), names));
  EXPECT_FALSE(NeedsScheduling(Parse<Pod>(R"(spec { schedulingGates { name: "g" } })"), names));
}

}  // namespace
}  // namespace kslice::scheduler
