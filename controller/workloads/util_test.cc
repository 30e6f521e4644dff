// The workload controllers' pure parts: the template hash and its alphabet, the order
// pods are deleted in, expectations, percentages, rollout arithmetic, conditions, and
// what a DaemonSet pod looks like and where it may run.
#include <memory>
#include <string>
#include <vector>

#include "api/apps/v1/apps.pb.h"
#include "controller/workloads/daemonset.h"
#include "controller/workloads/deployment_util.h"
#include "controller/workloads/util.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace kslice::workloads {
namespace {

template <typename T>
T Parse(const std::string& text) {
  T out;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &out)) << text;
  return out;
}

TEST(HashTest, FnvAndAlphabet) {
  // FNV-1a test vectors.
  EXPECT_EQ(Fnv32a(""), 2166136261u);
  EXPECT_EQ(Fnv32a("a"), 0xe40c292cu);
  EXPECT_EQ(Fnv32a("foobar"), 0xbf9cf968u);
  // The digits of a hash map through upstream's alphabet: the seed's
  // nginx-deployment-55d7bb4b86 is the hash 1183660642.
  EXPECT_EQ(SafeEncodeString("1183660642"), "55d7bb4b86");
  EXPECT_EQ(SafeEncodeString("0123456789"), "456789bcdf");
}

TEST(HashTest, ComputeHash) {
  PodTemplateSpec a = Parse<PodTemplateSpec>(
      R"(metadata { labels { key: "app" value: "nginx" } labels { key: "tier" value: "web" } }
         spec { containers { name: "nginx" image: "nginx:1.28" } })");
  PodTemplateSpec b = Parse<PodTemplateSpec>(
      R"(metadata { labels { key: "tier" value: "web" } labels { key: "app" value: "nginx" } }
         spec { containers { name: "nginx" image: "nginx:1.28" } })");
  const std::string h = ComputeHash(a, std::nullopt);
  EXPECT_EQ(h, ComputeHash(b, std::nullopt));  // map order does not matter
  EXPECT_LE(h.size(), 10u);
  EXPECT_GE(h.size(), 1u);
  for (char c : h) EXPECT_NE(std::string(kSafeAlphabet).find(c), std::string::npos) << h;
  EXPECT_NE(h, ComputeHash(a, 1));
  EXPECT_NE(ComputeHash(a, 1), ComputeHash(a, 2));
  b.mutable_spec()->mutable_containers(0)->set_image("nginx:1.29");
  EXPECT_NE(h, ComputeHash(b, std::nullopt));
}

std::shared_ptr<const Pod> P(const std::string& text) {
  return std::make_shared<Pod>(Parse<Pod>(text));
}

TEST(DeletionOrderTest, UpstreamRanking) {
  const absl::Time now = absl::FromUnixSeconds(1'000'000);
  const std::string ready_old = R"(status { phase: "Running" conditions { type: "Ready" status: "True" lastTransitionTime { seconds: 1000 } } })";
  const std::string ready_new = R"(status { phase: "Running" conditions { type: "Ready" status: "True" lastTransitionTime { seconds: 999990 } } })";
  std::vector<std::shared_ptr<const Pod>> pods = {
      P(R"(metadata { name: "ready-old" uid: "1" } spec { nodeName: "n1" } )" + ready_old),
      P(R"(metadata { name: "running-not-ready" uid: "2" } spec { nodeName: "n1" } status { phase: "Running" })"),
      P(R"(metadata { name: "ready-new" uid: "3" } spec { nodeName: "n1" } )" + ready_new),
      P(R"(metadata { name: "pending" uid: "4" } spec { nodeName: "n1" } status { phase: "Pending" })"),
      P(R"(metadata { name: "unassigned" uid: "5" } spec {} status { phase: "Pending" })"),
      P(R"(metadata { name: "unknown" uid: "6" } spec { nodeName: "n1" } status { phase: "Unknown" })"),
  };
  SortPodsForDeletion(pods, {}, now);
  std::vector<std::string> names;
  for (const auto& p : pods) names.push_back(p->metadata().name());
  EXPECT_EQ(names, (std::vector<std::string>{"unassigned", "pending", "unknown", "running-not-ready",
                                             "ready-new", "ready-old"}));
}

TEST(DeletionOrderTest, CostRanksRestartsAndAge) {
  const absl::Time now = absl::FromUnixSeconds(1'000'000);
  const std::string running = R"(spec { nodeName: "n" } status { phase: "Running" })";
  // Deletion cost beats everything after readiness.
  std::vector<std::shared_ptr<const Pod>> pods = {
      P(R"(metadata { name: "cheap" uid: "a" annotations { key: "controller.kubernetes.io/pod-deletion-cost" value: "-5" } creationTimestamp { seconds: 1 } } )" + running),
      P(R"(metadata { name: "normal" uid: "b" creationTimestamp { seconds: 999000 } } )" + running),
  };
  SortPodsForDeletion(pods, {}, now);
  EXPECT_EQ(pods[1]->metadata().name(), "normal");
  EXPECT_EQ(pods[0]->metadata().name(), "cheap");
  // Doubled-up pods (higher rank) first.
  pods = {P(R"(metadata { name: "alone" uid: "a" } )" + running),
          P(R"(metadata { name: "crowded" uid: "b" } )" + running)};
  SortPodsForDeletion(pods, {1, 3}, now);
  EXPECT_EQ(pods[0]->metadata().name(), "crowded");
  // More restarts first.
  pods = {P(R"(metadata { name: "calm" uid: "a" } )" + running),
          P(R"(metadata { name: "flappy" uid: "b" } spec { nodeName: "n" } status { phase: "Running" containerStatuses { name: "c" restartCount: 4 } })")};
  SortPodsForDeletion(pods, {}, now);
  EXPECT_EQ(pods[0]->metadata().name(), "flappy");
  // Newer first on a log2 scale of age; the same bucket falls back to uid.
  pods = {P(R"(metadata { name: "old" uid: "z" creationTimestamp { seconds: 1000 } } )" + running),
          P(R"(metadata { name: "new" uid: "y" creationTimestamp { seconds: 999000 } } )" + running)};
  SortPodsForDeletion(pods, {}, now);
  EXPECT_EQ(pods[0]->metadata().name(), "new");
  pods = {P(R"(metadata { name: "z-pod" uid: "z" creationTimestamp { seconds: 999001 } } )" + running),
          P(R"(metadata { name: "y-pod" uid: "y" creationTimestamp { seconds: 999000 } } )" + running)};
  SortPodsForDeletion(pods, {}, now);
  EXPECT_EQ(pods[0]->metadata().name(), "y-pod");
}

TEST(PodStateTest, ReadyAndAvailable) {
  Pod p = Parse<Pod>(R"(status { phase: "Running" conditions { type: "Ready" status: "True" lastTransitionTime { seconds: 100 } } })");
  EXPECT_TRUE(IsPodReady(p));
  EXPECT_TRUE(IsPodActive(p));
  EXPECT_TRUE(IsPodAvailable(p, 0, absl::FromUnixSeconds(100)));
  EXPECT_FALSE(IsPodAvailable(p, 10, absl::FromUnixSeconds(105)));
  EXPECT_TRUE(IsPodAvailable(p, 10, absl::FromUnixSeconds(111)));
  EXPECT_FALSE(IsPodActive(Parse<Pod>(R"(status { phase: "Succeeded" })")));
  EXPECT_FALSE(IsPodActive(Parse<Pod>(R"(metadata { deletionTimestamp { seconds: 1 } })")));
}

TEST(ExpectationsTest, CreationsAndDeletions) {
  Expectations e;
  EXPECT_TRUE(e.Satisfied("ns/rs"));
  e.ExpectCreations("ns/rs", 2);
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  e.CreationObserved("ns/rs");
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  e.CreationObserved("ns/rs");
  EXPECT_TRUE(e.Satisfied("ns/rs"));
  e.ExpectDeletions("ns/rs", {"ns/a", "ns/b"});
  e.DeletionObserved("ns/rs", "ns/a");
  e.DeletionObserved("ns/rs", "ns/a");
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  e.DeletionObserved("ns/rs", "ns/b");
  EXPECT_TRUE(e.Satisfied("ns/rs"));
  Expectations expired(absl::ZeroDuration());
  expired.ExpectCreations("k", 5);
  absl::SleepFor(absl::Milliseconds(2));
  EXPECT_TRUE(expired.Satisfied("k"));
}

TEST(ScaledValueTest, IntsAndPercents) {
  api::intstr::IntOrString v;
  v.set_intval(3);
  EXPECT_EQ(*ScaledValue(&v, 10, true), 3);
  v.set_type(1);
  v.set_strval("25%");
  EXPECT_EQ(*ScaledValue(&v, 2, true), 1);
  EXPECT_EQ(*ScaledValue(&v, 2, false), 0);
  EXPECT_EQ(*ScaledValue(&v, 8, false), 2);
  v.set_strval("lots");
  EXPECT_FALSE(ScaledValue(&v, 2, true).ok());
  EXPECT_FALSE(ScaledValue(nullptr, 2, true).ok());
}

TEST(OwnerTest, PatchesAndPodFromTemplate) {
  ObjectMeta owner = Parse<ObjectMeta>(R"(name: "web-abc" uid: "u-1")");
  OwnerReference ref = NewControllerRef(owner, "apps/v1", "ReplicaSet");
  EXPECT_TRUE(ref.controller());
  EXPECT_TRUE(ref.blockownerdeletion());
  EXPECT_EQ(AdoptPatch(ref, "pod-uid"),
            R"({"metadata":{"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-abc","uid":"u-1","controller":true,"blockOwnerDeletion":true}],"uid":"pod-uid"}})");
  EXPECT_EQ(ReleasePatch("u-1", "pod-uid"),
            R"({"metadata":{"ownerReferences":[{"$patch":"delete","uid":"u-1"}],"uid":"pod-uid"}})");
  PodTemplateSpec t = Parse<PodTemplateSpec>(R"(metadata { labels { key: "app" value: "web" } } spec { containers { name: "c" } })");
  Pod p = PodFromTemplate(t, "default", "web-abc", ref);
  EXPECT_EQ(p.metadata().generatename(), "web-abc-");
  EXPECT_EQ(p.metadata().name(), "");
  EXPECT_EQ(p.metadata().namespace_(), "default");
  EXPECT_EQ(p.metadata().labels().at("app"), "web");
  ASSERT_NE(GetControllerOf(p.metadata()), nullptr);
  EXPECT_EQ(GetControllerOf(p.metadata())->uid(), "u-1");
}

Deployment Dep(int replicas, const std::string& strategy = "") {
  Deployment d;
  d.mutable_spec()->set_replicas(replicas);
  if (!strategy.empty()) d.mutable_spec()->mutable_strategy()->set_type(strategy);
  return d;
}

TEST(DeploymentUtilTest, Fenceposts) {
  EXPECT_EQ(MaxSurge(Dep(2)), 1);
  EXPECT_EQ(MaxUnavailable(Dep(2)), 0);
  EXPECT_EQ(MaxSurge(Dep(4)), 1);
  EXPECT_EQ(MaxUnavailable(Dep(4)), 1);
  EXPECT_EQ(MaxSurge(Dep(3, "Recreate")), 0);
  EXPECT_EQ(MaxUnavailable(Dep(3, "Recreate")), 0);
  Deployment zero = Dep(3);
  zero.mutable_spec()->mutable_strategy()->mutable_rollingupdate()->mutable_maxsurge()->set_intval(0);
  zero.mutable_spec()->mutable_strategy()->mutable_rollingupdate()->mutable_maxunavailable()->set_intval(0);
  EXPECT_EQ(MaxUnavailable(zero), 1);  // both zero: one may be unavailable
}

TEST(DeploymentUtilTest, NewReplicaSetGrowth) {
  Deployment d = Dep(3);
  ReplicaSet old = Parse<ReplicaSet>("spec { replicas: 3 }");
  ReplicaSet fresh = Parse<ReplicaSet>("spec { replicas: 0 }");
  EXPECT_EQ(NewRSNewReplicas(d, {&old, &fresh}, fresh), 1);  // 3 + maxSurge 1 = 4 total
  fresh.mutable_spec()->set_replicas(1);
  EXPECT_EQ(NewRSNewReplicas(d, {&old, &fresh}, fresh), 1);  // at the cap
  old.mutable_spec()->set_replicas(2);
  EXPECT_EQ(NewRSNewReplicas(d, {&old, &fresh}, fresh), 2);
  EXPECT_EQ(NewRSNewReplicas(Dep(3, "Recreate"), {&old, &fresh}, fresh), 3);
}

TEST(DeploymentUtilTest, EqualIgnoreHashAndRevision) {
  api::core::v1::PodTemplateSpec a = Parse<api::core::v1::PodTemplateSpec>(R"(metadata { labels { key: "app" value: "x" } })");
  api::core::v1::PodTemplateSpec b = a;
  (*b.mutable_metadata()->mutable_labels())[kPodTemplateHashLabel] = "abc";
  EXPECT_TRUE(EqualIgnoreHash(a, b));
  (*b.mutable_metadata()->mutable_labels())["app"] = "y";
  EXPECT_FALSE(EqualIgnoreHash(a, b));
  EXPECT_EQ(Revision(Parse<ObjectMeta>(R"(annotations { key: "deployment.kubernetes.io/revision" value: "7" })")), 7);
  EXPECT_EQ(Revision(ObjectMeta()), 0);
}

TEST(DeploymentUtilTest, ConditionsAndStatus) {
  Deployment d = Dep(2);
  d.mutable_metadata()->set_generation(3);
  ReplicaSet rs = Parse<ReplicaSet>("spec { replicas: 2 } status { replicas: 2 readyReplicas: 2 availableReplicas: 1 }");
  const absl::Time t1 = absl::FromUnixSeconds(100), t2 = absl::FromUnixSeconds(200);
  DeploymentStatus st = CalculateStatus({&rs}, &rs, d, t1);
  EXPECT_EQ(st.observedgeneration(), 3);
  EXPECT_EQ(st.replicas(), 2);
  EXPECT_EQ(st.updatedreplicas(), 2);
  EXPECT_EQ(st.readyreplicas(), 2);
  EXPECT_EQ(st.availablereplicas(), 1);
  EXPECT_EQ(st.unavailablereplicas(), 1);
  const DeploymentCondition* c = GetCondition(st, "Available");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status(), "False");  // maxUnavailable is 0 for 2 replicas
  EXPECT_EQ(c->reason(), kReasonMinimumReplicasUnavailable);
  EXPECT_EQ(c->message(), "Deployment does not have minimum availability.");
  EXPECT_FALSE(DeploymentComplete(d, st));
  // Same status and reason: untouched; new reason with the same status: transition kept.
  SetCondition(st, NewCondition("Progressing", "True", kReasonRSUpdated, "m1", t1));
  SetCondition(st, NewCondition("Progressing", "True", kReasonRSUpdated, "m2", t2));
  EXPECT_EQ(GetCondition(st, "Progressing")->message(), "m1");
  SetCondition(st, NewCondition("Progressing", "True", kReasonNewRSAvailable, "done", t2));
  EXPECT_EQ(GetCondition(st, "Progressing")->lasttransitiontime().seconds(), 100);
  EXPECT_EQ(GetCondition(st, "Progressing")->lastupdatetime().seconds(), 200);
  rs.mutable_status()->set_availablereplicas(2);
  *d.mutable_status() = st;
  DeploymentStatus done = CalculateStatus({&rs}, &rs, d, t2);
  EXPECT_TRUE(DeploymentComplete(d, done));
  EXPECT_EQ(GetCondition(done, "Available")->reason(), kReasonMinimumReplicasAvailable);
  EXPECT_TRUE(DeploymentProgressing(d, done));  // available went 1 -> 2
}

TEST(DeploymentUtilTest, TimedOut) {
  Deployment d = Dep(1);
  d.mutable_spec()->set_progressdeadlineseconds(600);
  DeploymentStatus st;
  SetCondition(st, NewCondition("Progressing", "True", kReasonRSUpdated, "", absl::FromUnixSeconds(0)));
  EXPECT_FALSE(DeploymentTimedOut(d, st, absl::FromUnixSeconds(500)));
  EXPECT_TRUE(DeploymentTimedOut(d, st, absl::FromUnixSeconds(601)));
  d.mutable_spec()->clear_progressdeadlineseconds();
  EXPECT_FALSE(DeploymentTimedOut(d, st, absl::FromUnixSeconds(601)));
}

using api::core::v1::Node;
Node MakeNode(const std::string& text) { return Parse<Node>(text); }

TEST(DaemonSetTest, DaemonPodShape) {
  api::apps::v1::DaemonSet ds = Parse<api::apps::v1::DaemonSet>(
      R"(metadata { name: "multitool-1" generation: 4 }
         spec { template { metadata { labels { key: "app" value: "multitool" } }
                           spec { hostNetwork: true containers { name: "m" } } } })");
  Pod p = NewDaemonPod(ds, "lab-worker", "abc");
  EXPECT_EQ(p.metadata().labels().at(kControllerRevisionHashLabel), "abc");
  EXPECT_EQ(p.metadata().labels().at(kPodTemplateGenerationLabel), "4");
  EXPECT_EQ(TargetNodeName(p), "lab-worker");
  EXPECT_EQ(p.spec().nodename(), "");
  std::vector<std::string> keys;
  for (const auto& t : p.spec().tolerations()) keys.push_back(t.key() + ":" + t.effect());
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute",
                      "node.kubernetes.io/disk-pressure:NoSchedule",
                      "node.kubernetes.io/memory-pressure:NoSchedule",
                      "node.kubernetes.io/pid-pressure:NoSchedule",
                      "node.kubernetes.io/unschedulable:NoSchedule",
                      "node.kubernetes.io/network-unavailable:NoSchedule"}));
  // The template's terms are replaced by one matchFields term, as upstream.
  api::core::v1::PodSpec spec = Parse<api::core::v1::PodSpec>(
      R"(affinity { nodeAffinity { requiredDuringSchedulingIgnoredDuringExecution {
           nodeSelectorTerms { matchExpressions { key: "zone" operator: "In" values: "a" } } } } })");
  SetDaemonPodNodeAffinity(spec, "n2");
  const auto& required = spec.affinity().nodeaffinity().requiredduringschedulingignoredduringexecution();
  ASSERT_EQ(required.nodeselectorterms_size(), 1);
  const auto& term = required.nodeselectorterms(0);
  EXPECT_EQ(term.matchexpressions_size(), 0);
  ASSERT_EQ(term.matchfields_size(), 1);
  EXPECT_EQ(term.matchfields(0).key(), "metadata.name");
  EXPECT_EQ(term.matchfields(0).operator_(), "In");
  EXPECT_EQ(term.matchfields(0).values(0), "n2");
  // The annotation kube-apiserver keeps wins over metadata.generation.
  (*ds.mutable_metadata()->mutable_annotations())["deprecated.daemonset.template.generation"] = "2";
  EXPECT_EQ(NewDaemonPod(ds, "n", "h").metadata().labels().at(kPodTemplateGenerationLabel), "2");
}

TEST(DaemonSetTest, WhereItRuns) {
  api::apps::v1::DaemonSet ds = Parse<api::apps::v1::DaemonSet>(
      R"(spec { template { spec { containers { name: "m" } } } })");
  const Node worker = MakeNode(R"(metadata { name: "lab-worker" })");
  const Node cp = MakeNode(R"(metadata { name: "lab-control-plane" } spec { taints { key: "node-role.kubernetes.io/control-plane" effect: "NoSchedule" } })");
  const Node evicting = MakeNode(R"(metadata { name: "bad" } spec { taints { key: "k" effect: "NoExecute" } })");
  EXPECT_EQ(NodeShouldRunDaemonPod(worker, ds), std::make_pair(true, true));
  EXPECT_EQ(NodeShouldRunDaemonPod(cp, ds), std::make_pair(false, true));
  EXPECT_EQ(NodeShouldRunDaemonPod(evicting, ds), std::make_pair(false, false));
  auto* tol = ds.mutable_spec()->mutable_template_()->mutable_spec()->add_tolerations();
  tol->set_key("node-role.kubernetes.io/control-plane");
  tol->set_operator_("Exists");
  tol->set_effect("NoSchedule");
  EXPECT_EQ(NodeShouldRunDaemonPod(cp, ds), std::make_pair(true, true));
  (*ds.mutable_spec()->mutable_template_()->mutable_spec()->mutable_nodeselector())["disk"] = "ssd";
  EXPECT_EQ(NodeShouldRunDaemonPod(worker, ds), std::make_pair(false, false));
  // The template's own required affinity decides eligibility.
  ds.mutable_spec()->mutable_template_()->mutable_spec()->clear_nodeselector();
  auto* term = ds.mutable_spec()->mutable_template_()->mutable_spec()->mutable_affinity()
                   ->mutable_nodeaffinity()->mutable_requiredduringschedulingignoredduringexecution()
                   ->add_nodeselectorterms();
  auto* req = term->add_matchfields();
  req->set_key("metadata.name");
  req->set_operator_("In");
  req->add_values("lab-control-plane");
  EXPECT_EQ(NodeShouldRunDaemonPod(worker, ds), std::make_pair(false, false));
  EXPECT_EQ(NodeShouldRunDaemonPod(cp, ds), std::make_pair(true, true));
}

}  // namespace
}  // namespace kslice::workloads
