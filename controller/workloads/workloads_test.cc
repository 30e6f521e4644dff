// The workload controllers and the scheduler together against the embedded API server,
// on the lab's three nodes (a control plane tainted NoSchedule and two workers), with a
// simulated kubelet that marks bound pods Running and Ready and removes terminating pods
// at once. Each test has its own server, so the scheduler sees only its nodes.
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/apps/v1/apps.pb.h"
#include "api/core/v1/core.pb.h"
#include "client/errors/errors.h"
#include "client/rest/client.h"
#include "controller/endpointslice/controller_test_util.h"
#include "controller/manager/manager.h"
#include "controller/metrics/metrics.h"
#include "controller/scheduler/scheduler.h"
#include "controller/workloads/daemonset.h"
#include "controller/workloads/deployment.h"
#include "controller/workloads/deployment_util.h"
#include "controller/workloads/replicaset.h"
#include "controller/workloads/util.h"
#include "envtest/environment/environment.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace kslice::workloads {
namespace {

using api::apps::v1::DaemonSet;
using api::apps::v1::DaemonSetList;
using api::apps::v1::DeploymentList;
using api::apps::v1::ReplicaSetList;
using api::core::v1::EventList;
using api::core::v1::Node;
using api::core::v1::NodeList;
using api::core::v1::PodList;
using endpointslice::testutil::WaitUntil;

constexpr absl::Duration kTimeout = absl::Seconds(30);

template <typename T>
T Parse(const std::string& text) {
  T out;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &out)) << text;
  return out;
}

class WorkloadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = envtest::Environment::Start();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    auto c = client::RestClient::Create(env_->config());
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = *std::move(c);
    auto ns = env_->CreateNamespace("wl-");
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_ = *ns;
    AddNode("lab-control-plane", true);
    AddNode("lab-worker", false);
    AddNode("lab-worker2", false);
  }

  void TearDown() override {
    kubelet_stop_.request_stop();
    if (kubelet_.joinable()) kubelet_.join();
    stop_.request_stop();
    if (run_.joinable()) run_.join();
    sched_.reset();
    dsc_.reset();
    dc_.reset();
    rsc_.reset();
    mgr_.reset();
    client_.reset();
    env_.reset();
  }

  void AddNode(const std::string& name, bool control_plane,
               const std::map<std::string, std::string>& labels = {}) {
    Node n;
    n.mutable_metadata()->set_name(name);
    (*n.mutable_metadata()->mutable_labels())["kubernetes.io/hostname"] = name;
    for (const auto& [k, v] : labels) (*n.mutable_metadata()->mutable_labels())[k] = v;
    if (control_plane) {
      auto* t = n.mutable_spec()->add_taints();
      t->set_key("node-role.kubernetes.io/control-plane");
      t->set_effect("NoSchedule");
    }
    client::Typed<Node, NodeList> nodes(*client_);
    auto created = nodes.Create(n);
    ASSERT_TRUE(created.ok()) << created.status();
    auto* c = created->mutable_status()->add_conditions();
    c->set_type("Ready");
    c->set_status("True");
    auto updated = nodes.UpdateStatus(*created);
    ASSERT_TRUE(updated.ok()) << updated.status();
  }

  // All four, in one manager, as cmd/kslice-lab-controllers runs them.
  void Start() {
    controller::ManagerOptions o;
    o.name = "kslice-lab-controllers";
    o.health_bind_address = "";
    o.registry = &registry_;
    auto mgr = controller::Manager::Create(env_->config(), o);
    ASSERT_TRUE(mgr.ok()) << mgr.status();
    mgr_ = *std::move(mgr);
    auto rsc = SetUpReplicaSetController(*mgr_, {});
    ASSERT_TRUE(rsc.ok()) << rsc.status();
    rsc_ = *std::move(rsc);
    auto dc = SetUpDeploymentController(*mgr_, {});
    ASSERT_TRUE(dc.ok()) << dc.status();
    dc_ = *std::move(dc);
    auto dsc = SetUpDaemonSetController(*mgr_, {});
    ASSERT_TRUE(dsc.ok()) << dsc.status();
    dsc_ = *std::move(dsc);
    auto sched = scheduler::SetUpScheduler(*mgr_, {});
    ASSERT_TRUE(sched.ok()) << sched.status();
    sched_ = *std::move(sched);
    run_ = std::thread([this] { EXPECT_TRUE(mgr_->Run(stop_.get_token()).ok()); });
    kubelet_ = std::thread([this] { Kubelet(kubelet_stop_.get_token()); });
  }

  // The simulated kubelet: bound pods become Running and Ready with an IP; pods being
  // deleted are removed at once (grace 0).
  void Kubelet(std::stop_token stop) {
    client::Typed<Pod, PodList> pods(*client_);
    int ip = 1;
    while (!stop.stop_requested()) {
      auto list = pods.List(ns_);
      if (list.ok()) {
        for (const Pod& p : list->items()) {
          if (p.metadata().has_deletiontimestamp()) {
            api::meta::v1::DeleteOptions opts;
            opts.set_graceperiodseconds(0);
            (void)pods.Delete(ns_, p.metadata().name(), &opts);
            continue;
          }
          if (p.spec().nodename().empty() || !kubelet_ready_.load() || IsPodReady(p)) continue;
          (void)endpointslice::testutil::SetPodStatus(*client_, p, endpointslice::testutil::IPForIndex(ip++), true);
        }
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  std::vector<Pod> Pods(const std::string& prefix = "") {
    std::vector<Pod> out;
    auto list = client::Typed<Pod, PodList>(*client_).List(ns_);
    if (!list.ok()) return out;
    for (const Pod& p : list->items()) {
      if (absl::StartsWith(p.metadata().name(), prefix)) out.push_back(p);
    }
    return out;
  }

  // Pods with `prefix` once there are exactly `n`, all bound, none terminating.
  std::vector<Pod> WaitForBoundPods(const std::string& prefix, size_t n) {
    std::vector<Pod> last;
    bool ok = WaitUntil(
        [&] {
          last = Pods(prefix);
          if (last.size() != n) return false;
          for (const Pod& p : last) {
            if (p.spec().nodename().empty() || p.metadata().has_deletiontimestamp()) return false;
          }
          return true;
        },
        kTimeout);
    EXPECT_TRUE(ok) << "wanted " << n << " bound pods " << prefix << "*, have " << last.size();
    return last;
  }

  Deployment GetDeployment(const std::string& name) {
    auto d = client::Typed<Deployment, DeploymentList>(*client_).Get(ns_, name);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : Deployment();
  }

  bool DeploymentSettled(const std::string& name, int32_t replicas) {
    Deployment d = GetDeployment(name);
    const DeploymentStatus& st = d.status();
    const DeploymentCondition* p = GetCondition(st, "Progressing");
    return st.observedgeneration() >= d.metadata().generation() && st.replicas() == replicas &&
           st.updatedreplicas() == replicas && st.readyreplicas() == replicas &&
           st.availablereplicas() == replicas && st.unavailablereplicas() == 0 && p != nullptr &&
           p->reason() == kReasonNewRSAvailable;
  }

  std::vector<std::string> EventMessages(const std::string& reason) {
    std::vector<std::string> out;
    auto list = client::Typed<api::core::v1::Event, EventList>(*client_).List(ns_);
    if (!list.ok()) return out;
    for (const auto& e : list->items()) {
      if (e.reason() == reason) out.push_back(e.message());
    }
    return out;
  }

  std::unique_ptr<envtest::Environment> env_;
  std::unique_ptr<client::RestClient> client_;
  std::string ns_;
  controller::metrics::Registry registry_;
  std::unique_ptr<controller::Manager> mgr_;
  std::unique_ptr<ReplicaSetController> rsc_;
  std::unique_ptr<DeploymentController> dc_;
  std::unique_ptr<DaemonSetController> dsc_;
  std::unique_ptr<scheduler::Scheduler> sched_;
  std::stop_source stop_;
  std::thread run_;
  std::atomic<bool> kubelet_ready_{true};
  std::stop_source kubelet_stop_;
  std::thread kubelet_;
};

Deployment NginxDeployment(const std::string& ns, int replicas) {
  Deployment d = Parse<Deployment>(R"(
    metadata { name: "nginx-deployment" labels { key: "app" value: "nginx" } }
    spec {
      selector { matchLabels { key: "app" value: "nginx" } }
      template {
        metadata { labels { key: "app" value: "nginx" } }
        spec { containers { name: "nginx" image: "nginx:1.28" ports { containerPort: 80 } } }
      }
    })");
  d.mutable_metadata()->set_namespace_(ns);
  d.mutable_spec()->set_replicas(replicas);
  return d;
}

TEST_F(WorkloadsTest, DeploymentSpreadsScalesRollsAndIsCollected) {
  Start();
  client::Typed<Deployment, DeploymentList> deployments(*client_);
  auto created = deployments.Create(NginxDeployment(ns_, 2));
  ASSERT_TRUE(created.ok()) << created.status();

  // One ReplicaSet named after the template hash; two pods, one on each worker.
  std::vector<Pod> pods = WaitForBoundPods("nginx-deployment-", 2);
  ASSERT_EQ(pods.size(), 2u);
  std::set<std::string> nodes;
  for (const Pod& p : pods) nodes.insert(p.spec().nodename());
  EXPECT_EQ(nodes, (std::set<std::string>{"lab-worker", "lab-worker2"}));
  auto rss = client::Typed<ReplicaSet, ReplicaSetList>(*client_).List(ns_);
  ASSERT_TRUE(rss.ok());
  ASSERT_EQ(rss->items_size(), 1);
  const ReplicaSet& rs = rss->items(0);
  const std::string hash = rs.metadata().labels().at(kPodTemplateHashLabel);
  EXPECT_EQ(rs.metadata().name(), "nginx-deployment-" + hash);
  EXPECT_EQ(rs.spec().selector().matchlabels().at(kPodTemplateHashLabel), hash);
  EXPECT_EQ(rs.metadata().annotations().at(kRevisionAnnotation), "1");
  ASSERT_NE(GetControllerOf(rs.metadata()), nullptr);
  EXPECT_EQ(GetControllerOf(rs.metadata())->kind(), "Deployment");
  for (const Pod& p : pods) {
    // nginx-deployment-<hash>-<5 characters of the alphabet>
    const std::string& name = p.metadata().name();
    ASSERT_EQ(name.size(), rs.metadata().name().size() + 6) << name;
    EXPECT_TRUE(absl::StartsWith(name, rs.metadata().name() + "-")) << name;
    for (char ch : name.substr(name.size() - 5)) {
      EXPECT_NE(std::string(kSafeAlphabet).find(ch), std::string::npos) << name;
    }
    EXPECT_EQ(p.metadata().labels().at(kPodTemplateHashLabel), hash);
    const OwnerReference* ref = GetControllerOf(p.metadata());
    ASSERT_NE(ref, nullptr);
    EXPECT_EQ(ref->uid(), rs.metadata().uid());
    EXPECT_TRUE(ref->blockownerdeletion());
  }
  EXPECT_TRUE(WaitUntil([&] { return DeploymentSettled("nginx-deployment", 2); }, kTimeout))
      << GetDeployment("nginx-deployment").status().ShortDebugString();
  Deployment d = GetDeployment("nginx-deployment");
  EXPECT_EQ(d.metadata().annotations().at(kRevisionAnnotation), "1");
  // The revision went through /status: no generation bump, as on a real cluster.
  EXPECT_EQ(d.metadata().generation(), 1);
  EXPECT_EQ(d.status().observedgeneration(), 1);
  const DeploymentCondition* avail = GetCondition(d.status(), "Available");
  ASSERT_NE(avail, nullptr);
  EXPECT_EQ(avail->status(), "True");
  EXPECT_EQ(avail->reason(), kReasonMinimumReplicasAvailable);
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (const std::string& m : EventMessages("Scheduled")) {
          if (absl::StartsWith(m, "Successfully assigned " + ns_ + "/nginx-deployment-")) return true;
        }
        return false;
      },
      kTimeout));

  // Scale to 3, then to 1.
  auto scale = [&](int32_t n) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      Deployment cur = GetDeployment("nginx-deployment");
      cur.mutable_spec()->set_replicas(n);
      auto u = deployments.Update(cur);
      if (u.ok()) return;
      ASSERT_TRUE(client::IsConflict(u.status())) << u.status();
    }
    FAIL() << "could not scale";
  };
  scale(3);
  WaitForBoundPods("nginx-deployment-", 3);
  EXPECT_TRUE(WaitUntil([&] { return DeploymentSettled("nginx-deployment", 3); }, kTimeout));
  scale(1);
  WaitForBoundPods("nginx-deployment-", 1);
  EXPECT_TRUE(WaitUntil([&] { return DeploymentSettled("nginx-deployment", 1); }, kTimeout));
  scale(2);
  EXPECT_TRUE(WaitUntil([&] { return DeploymentSettled("nginx-deployment", 2); }, kTimeout));

  // A template change rolls to a second ReplicaSet; the first ends at 0.
  for (int attempt = 0; attempt < 5; ++attempt) {
    Deployment cur = GetDeployment("nginx-deployment");
    cur.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image("nginx:1.29");
    if (deployments.Update(cur).ok()) break;
  }
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto list = client::Typed<ReplicaSet, ReplicaSetList>(*client_).List(ns_);
        if (!list.ok() || list->items_size() != 2) return false;
        for (const ReplicaSet& r : list->items()) {
          const bool is_new = r.spec().template_().spec().containers(0).image() == "nginx:1.29";
          if (r.spec().replicas() != (is_new ? 2 : 0)) return false;
          if (is_new && r.metadata().annotations().at(kRevisionAnnotation) != "2") return false;
        }
        return DeploymentSettled("nginx-deployment", 2);
      },
      kTimeout))
      << GetDeployment("nginx-deployment").status().ShortDebugString();
  std::vector<Pod> rolled = WaitForBoundPods("nginx-deployment-", 2);
  for (const Pod& p : rolled) EXPECT_EQ(p.spec().containers(0).image(), "nginx:1.29");
  EXPECT_EQ(GetDeployment("nginx-deployment").metadata().annotations().at(kRevisionAnnotation), "2");
  EXPECT_FALSE(EventMessages("ScalingReplicaSet").empty());

  // Deleting the Deployment: the server's garbage collector removes ReplicaSets and pods.
  ASSERT_TRUE(deployments.Delete(ns_, "nginx-deployment").ok());
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto list = client::Typed<ReplicaSet, ReplicaSetList>(*client_).List(ns_);
        return list.ok() && list->items_size() == 0 && Pods("nginx-deployment-").empty();
      },
      kTimeout));
}

TEST_F(WorkloadsTest, RecreateReplacesAllPodsAtOnce) {
  Start();
  client::Typed<Deployment, DeploymentList> deployments(*client_);
  Deployment d = NginxDeployment(ns_, 2);
  d.mutable_spec()->mutable_strategy()->set_type("Recreate");
  ASSERT_TRUE(deployments.Create(d).ok());
  EXPECT_TRUE(WaitUntil([&] { return DeploymentSettled("nginx-deployment", 2); }, kTimeout));
  for (int attempt = 0; attempt < 5; ++attempt) {
    Deployment cur = GetDeployment("nginx-deployment");
    cur.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image("nginx:1.29");
    if (deployments.Update(cur).ok()) break;
  }
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::vector<Pod> pods = Pods("nginx-deployment-");
        if (pods.size() != 2) return false;
        for (const Pod& p : pods) {
          if (p.spec().containers(0).image() != "nginx:1.29") return false;
        }
        return DeploymentSettled("nginx-deployment", 2);
      },
      kTimeout))
      << GetDeployment("nginx-deployment").status().ShortDebugString();
}

DaemonSet Multitool(const std::string& ns, const std::string& name, bool tolerate_control_plane) {
  DaemonSet ds = Parse<DaemonSet>(R"(
    spec {
      template { spec { containers { name: "network-multitool" image: "wbitt/network-multitool" } } }
    })");
  ds.mutable_metadata()->set_name(name);
  ds.mutable_metadata()->set_namespace_(ns);
  (*ds.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = name;
  (*ds.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = name;
  if (tolerate_control_plane) {
    auto* t = ds.mutable_spec()->mutable_template_()->mutable_spec()->add_tolerations();
    t->set_key("node-role.kubernetes.io/control-plane");
    t->set_operator_("Exists");
    t->set_effect("NoSchedule");
  }
  return ds;
}

TEST_F(WorkloadsTest, DaemonSetsRunOnePodPerEligibleNode) {
  Start();
  client::Typed<DaemonSet, DaemonSetList> dss(*client_);
  ASSERT_TRUE(dss.Create(Multitool(ns_, "multitool-1", false)).ok());
  ASSERT_TRUE(dss.Create(Multitool(ns_, "multitool-2", true)).ok());

  std::vector<Pod> one = WaitForBoundPods("multitool-1-", 2);
  std::set<std::string> nodes;
  for (const Pod& p : one) {
    nodes.insert(p.spec().nodename());
    EXPECT_EQ(p.metadata().name().size(), std::string("multitool-1-").size() + 5);
    EXPECT_EQ(TargetNodeName(p), p.spec().nodename());
    EXPECT_EQ(p.metadata().labels().count(kControllerRevisionHashLabel), 1u);
  }
  EXPECT_EQ(nodes, (std::set<std::string>{"lab-worker", "lab-worker2"}));
  std::vector<Pod> two = WaitForBoundPods("multitool-2-", 3);
  nodes.clear();
  for (const Pod& p : two) nodes.insert(p.spec().nodename());
  EXPECT_EQ(nodes, (std::set<std::string>{"lab-control-plane", "lab-worker", "lab-worker2"}));

  auto settled = [&](const std::string& name, int32_t n) {
    auto ds = dss.Get(ns_, name);
    if (!ds.ok()) return false;
    const auto& st = ds->status();
    return st.observedgeneration() == ds->metadata().generation() &&
           st.desirednumberscheduled() == n && st.currentnumberscheduled() == n &&
           st.numberready() == n && st.numberavailable() == n && st.updatednumberscheduled() == n &&
           st.numbermisscheduled() == 0 && st.numberunavailable() == 0;
  };
  EXPECT_TRUE(WaitUntil([&] { return settled("multitool-1", 2) && settled("multitool-2", 3); }, kTimeout))
      << dss.Get(ns_, "multitool-1")->status().ShortDebugString();

  // A new node gets its pod; a node that goes away loses it.
  AddNode("lab-worker3", false);
  WaitForBoundPods("multitool-1-", 3);
  client::Typed<Node, NodeList> node_client(*client_);
  ASSERT_TRUE(node_client.Delete("", "lab-worker3").ok());
  WaitForBoundPods("multitool-1-", 2);
  EXPECT_TRUE(WaitUntil([&] { return settled("multitool-1", 2); }, kTimeout));

  // A template change rolls node by node (maxUnavailable 1).
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto cur = dss.Get(ns_, "multitool-1");
    ASSERT_TRUE(cur.ok());
    cur->mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image("multitool:2");
    if (dss.Update(*cur).ok()) break;
  }
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::vector<Pod> pods = Pods("multitool-1-");
        if (pods.size() != 2) return false;
        for (const Pod& p : pods) {
          if (p.spec().containers(0).image() != "multitool:2" || p.spec().nodename().empty()) return false;
        }
        return settled("multitool-1", 2);
      },
      kTimeout));
}

TEST_F(WorkloadsTest, UnschedulablePodWaitsForANode) {
  Start();
  Pod p = Parse<Pod>(R"(metadata { name: "picky" }
      spec { nodeSelector { key: "disk" value: "ssd" } containers { name: "c" image: "x" } })");
  p.mutable_metadata()->set_namespace_(ns_);
  client::Typed<Pod, PodList> pods(*client_);
  ASSERT_TRUE(pods.Create(p).ok());
  const std::string want =
      "0/3 nodes are available: 1 node(s) had untolerated taint "
      "{node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node "
      "affinity/selector.";
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto got = pods.Get(ns_, "picky");
        if (!got.ok()) return false;
        for (const auto& c : got->status().conditions()) {
          if (c.type() == "PodScheduled" && c.status() == "False" && c.reason() == "Unschedulable" &&
              c.message() == want) {
            return true;
          }
        }
        return false;
      },
      kTimeout));
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (const std::string& m : EventMessages("FailedScheduling")) {
          if (m == want) return true;
        }
        return false;
      },
      kTimeout));
  // A node that fits appears: the pod is retried and bound there.
  AddNode("lab-worker3", false, {{"disk", "ssd"}});
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto got = pods.Get(ns_, "picky");
        return got.ok() && got->spec().nodename() == "lab-worker3";
      },
      kTimeout));
}

TEST_F(WorkloadsTest, ReplicaSetAdoptsAndReleases) {
  kubelet_ready_ = false;  // pods stay Pending: the deletion order is not under test here
  Start();
  client::Typed<Pod, PodList> pods(*client_);
  Pod orphan = Parse<Pod>(R"(metadata { name: "orphan" labels { key: "app" value: "web" } }
      spec { containers { name: "c" image: "x" } })");
  orphan.mutable_metadata()->set_namespace_(ns_);
  ASSERT_TRUE(pods.Create(orphan).ok());
  ReplicaSet rs = Parse<ReplicaSet>(R"(metadata { name: "web" }
      spec { replicas: 2 selector { matchLabels { key: "app" value: "web" } }
             template { metadata { labels { key: "app" value: "web" } }
                        spec { containers { name: "c" image: "x" } } } })");
  rs.mutable_metadata()->set_namespace_(ns_);
  auto created = client::Typed<ReplicaSet, ReplicaSetList>(*client_).Create(rs);
  ASSERT_TRUE(created.ok()) << created.status();
  // The orphan is adopted, one more pod is made.
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto got = pods.Get(ns_, "orphan");
        const OwnerReference* ref = got.ok() ? GetControllerOf(got->metadata()) : nullptr;
        return ref != nullptr && ref->uid() == created->metadata().uid() && Pods().size() == 2;
      },
      kTimeout));
  // Relabelled, it is released and replaced.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto got = pods.Get(ns_, "orphan");
    ASSERT_TRUE(got.ok());
    (*got->mutable_metadata()->mutable_labels())["app"] = "other";
    if (pods.Update(*got).ok()) break;
  }
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto got = pods.Get(ns_, "orphan");
        return got.ok() && GetControllerOf(got->metadata()) == nullptr && Pods("web-").size() == 2;
      },
      kTimeout));
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto got = client::Typed<ReplicaSet, ReplicaSetList>(*client_).Get(ns_, "web");
        return got.ok() && got->status().replicas() == 2 && got->status().fullylabeledreplicas() == 2 &&
               got->status().observedgeneration() == got->metadata().generation();
      },
      kTimeout));
  // Scale down deletes the unscheduled... all are pending; one pod remains.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto got = client::Typed<ReplicaSet, ReplicaSetList>(*client_).Get(ns_, "web");
    ASSERT_TRUE(got.ok());
    got->mutable_spec()->set_replicas(1);
    if (client::Typed<ReplicaSet, ReplicaSetList>(*client_).Update(*got).ok()) break;
  }
  EXPECT_TRUE(WaitUntil([&] { return Pods("web-").size() == 1; }, kTimeout));
}

}  // namespace
}  // namespace kslice::workloads
