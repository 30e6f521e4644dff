// The DaemonSet controller on the kslice runtime (upstream pkg/controller/daemon/
// daemon_controller.go and update.go, reduced): see daemonset.h.
#include "controller/workloads/daemonset.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/labels/meta_selector.h"
#include "client/errors/errors.h"
#include "client/rest/client.h"
#include "controller/log/log.h"
#include "controller/record/recorder.h"
#include "controller/runtime/controller.h"
#include "controller/scheduler/predicates.h"
#include "controller/workloads/control.h"
#include "controller/workloads/plumbing.h"
#include "controller/workloads/util.h"
#include "informers/cache/object.h"
#include "informers/lister.h"
#include "informers/typed.h"

namespace kslice::workloads {

using api::apps::v1::DaemonSet;
using api::apps::v1::DaemonSetList;
using api::core::v1::Node;
using api::core::v1::PodList;
using api::core::v1::PodSpec;
using api::core::v1::Taint;
using api::core::v1::Toleration;
using PodPtr = std::shared_ptr<const Pod>;

namespace {

constexpr char kQueueName[] = "daemonset";
constexpr char kEventComponent[] = "daemonset-controller";
constexpr int kMaxRetries = 15;

absl::Time Created(const Pod& p) {
  return absl::FromUnixSeconds(p.metadata().creationtimestamp().seconds()) +
         absl::Nanoseconds(p.metadata().creationtimestamp().nanos());
}

bool IsPodUpdated(const Pod& pod, const std::string& hash, int64_t generation) {
  const auto& l = pod.metadata().labels();
  auto h = l.find(kControllerRevisionHashLabel);
  if (!hash.empty() && h != l.end() && h->second == hash) return true;
  auto g = l.find(kPodTemplateGenerationLabel);
  return g != l.end() && g->second == absl::StrCat(generation);
}

}  // namespace

void AddDaemonPodTolerations(PodSpec& spec) {
  auto add = [&spec](const char* key, const char* effect) {
    Toleration t;
    t.set_key(key);
    t.set_operator_("Exists");
    t.set_effect(effect);
    for (const Toleration& x : spec.tolerations()) {
      if (x.key() == t.key() && x.operator_() == t.operator_() && x.value() == t.value() &&
          x.effect() == t.effect()) {
        return;
      }
    }
    *spec.add_tolerations() = std::move(t);
  };
  add(scheduler::kTaintNodeNotReady, scheduler::kEffectNoExecute);
  add(scheduler::kTaintNodeUnreachable, scheduler::kEffectNoExecute);
  add(scheduler::kTaintNodeDiskPressure, scheduler::kEffectNoSchedule);
  add(scheduler::kTaintNodeMemoryPressure, scheduler::kEffectNoSchedule);
  add(scheduler::kTaintNodePIDPressure, scheduler::kEffectNoSchedule);
  add(scheduler::kTaintNodeUnschedulable, scheduler::kEffectNoSchedule);
  if (spec.hostnetwork()) add(scheduler::kTaintNodeNetworkUnavailable, scheduler::kEffectNoSchedule);
}

void SetDaemonPodNodeAffinity(PodSpec& spec, const std::string& node) {
  auto* required = spec.mutable_affinity()
                       ->mutable_nodeaffinity()
                       ->mutable_requiredduringschedulingignoredduringexecution();
  required->clear_nodeselectorterms();
  api::core::v1::NodeSelectorRequirement* req = required->add_nodeselectorterms()->add_matchfields();
  req->set_key("metadata.name");
  req->set_operator_("In");
  req->add_values(node);
}

namespace {

// The template generation: upstream's deprecated.daemonset.template.generation
// annotation (set by kube-apiserver), else metadata.generation.
int64_t TemplateGeneration(const DaemonSet& ds) {
  auto it = ds.metadata().annotations().find("deprecated.daemonset.template.generation");
  int64_t g = 0;
  if (it != ds.metadata().annotations().end() && absl::SimpleAtoi(it->second, &g)) return g;
  return ds.metadata().generation();
}

}  // namespace

Pod NewDaemonPod(const DaemonSet& ds, const std::string& node, const std::string& hash) {
  Pod pod;
  *pod.mutable_metadata()->mutable_labels() = ds.spec().template_().metadata().labels();
  *pod.mutable_metadata()->mutable_annotations() = ds.spec().template_().metadata().annotations();
  (*pod.mutable_metadata()->mutable_labels())[kPodTemplateGenerationLabel] =
      absl::StrCat(TemplateGeneration(ds));
  if (!hash.empty()) (*pod.mutable_metadata()->mutable_labels())[kControllerRevisionHashLabel] = hash;
  *pod.mutable_spec() = ds.spec().template_().spec();
  AddDaemonPodTolerations(*pod.mutable_spec());
  SetDaemonPodNodeAffinity(*pod.mutable_spec(), node);
  return pod;
}

std::pair<bool, bool> NodeShouldRunDaemonPod(const Node& node, const DaemonSet& ds) {
  // Upstream's NewPod: the template as is (its own node affinity) plus the default
  // tolerations.
  Pod pod;
  *pod.mutable_metadata()->mutable_labels() = ds.spec().template_().metadata().labels();
  *pod.mutable_spec() = ds.spec().template_().spec();
  AddDaemonPodTolerations(*pod.mutable_spec());
  if (!ds.spec().template_().spec().nodename().empty() &&
      ds.spec().template_().spec().nodename() != node.metadata().name()) {
    return {false, false};
  }
  if (!scheduler::PodMatchesNodeSelectorAndAffinity(pod, node)) return {false, false};
  std::vector<Taint> taints(node.spec().taints().begin(), node.spec().taints().end());
  if (scheduler::FindUntoleratedTaint(taints, pod.spec().tolerations(),
                                      scheduler::IsNoScheduleOrNoExecute)
          .has_value()) {
    const bool evicted = scheduler::FindUntoleratedTaint(taints, pod.spec().tolerations(),
                                                         scheduler::IsNoExecute)
                             .has_value();
    return {false, !evicted};
  }
  return {true, true};
}

std::string TargetNodeName(const Pod& pod) {
  if (!pod.spec().nodename().empty()) return pod.spec().nodename();
  const auto& na = pod.spec().affinity().nodeaffinity();
  if (!na.has_requiredduringschedulingignoredduringexecution()) return "";
  for (const auto& term : na.requiredduringschedulingignoredduringexecution().nodeselectorterms()) {
    for (const auto& f : term.matchfields()) {
      if (f.key() == "metadata.name" && f.operator_() == "In" && f.values_size() == 1) {
        return f.values(0);
      }
    }
  }
  return "";
}

class DaemonSetController::Impl {
 public:
  Impl(controller::Manager& manager, DaemonSetControllerOptions options)
      : manager_(manager), options_(options) {}
  absl::Status Init();

 private:
  using NodeToPods = std::map<std::string, std::vector<PodPtr>>;

  absl::StatusOr<controller::Result> Sync(const std::string& key);
  absl::StatusOr<NodeToPods> NodesToDaemonPods(const DaemonSet& ds);
  absl::Status Manage(const DaemonSet& ds, const std::vector<std::shared_ptr<const Node>>& nodes,
                      const std::string& hash, const std::string& key);
  absl::Status RollingUpdate(const DaemonSet& ds, const std::vector<std::shared_ptr<const Node>>& nodes,
                             const std::string& hash, const std::string& key);
  absl::Status SyncNodes(const DaemonSet& ds, const std::vector<PodPtr>& to_delete,
                         const std::vector<std::string>& nodes_needing, const std::string& hash,
                         const std::string& key);
  absl::StatusOr<controller::Result> UpdateStatus(const DaemonSet& ds,
                                                  const std::vector<std::shared_ptr<const Node>>& nodes,
                                                  const std::string& hash);

  std::string OwnerKey(const Pod& pod) const;
  void EnqueueAll();

  controller::Manager& manager_;  // not owned
  const DaemonSetControllerOptions options_;
  std::unique_ptr<controller::record::Recorder> recorder_;
  std::optional<informers::TypedInformer<DaemonSet>> dss_;
  std::optional<informers::TypedInformer<Pod>> pods_;
  std::optional<informers::TypedInformer<Node>> nodes_;
  Expectations expectations_;
  std::unique_ptr<controller::Controller> queue_;
  HandlerRegistrations registrations_;  // last: handlers are removed first
};

absl::Status DaemonSetController::Impl::Init() {
  if (absl::Status s = GetInformers(manager_, dss_, pods_, nodes_); !s.ok()) return s;

  auto rec = NewEventRecorder(manager_, kEventComponent);
  if (!rec.ok()) return rec.status();
  recorder_ = *std::move(rec);

  queue_ = NewQueue(manager_,
                    {.name = kQueueName,
                     .workers = options_.workers,
                     .max_retries = kMaxRetries,
                     .drop_message = "Dropping daemon set out of the queue"},
                    [this](const std::string& key) { return Sync(key); });

  absl::Status s = registrations_.Add<DaemonSet>(
      *dss_, EnqueueObject<DaemonSet>(queue_.get(), [this](const std::string& key) {
        expectations_.Delete(key);
      }));
  if (!s.ok()) return s;
  s = registrations_.Add<Pod>(
      *pods_,
      {.add = [this](const PodPtr& p, bool) {
         std::string k = OwnerKey(*p);
         if (k.empty()) return;
         if (IsPodTerminating(*p)) {
           expectations_.DeletionObserved(k, informers::KeyOf(*p));
         } else {
           expectations_.CreationObserved(k);
         }
         queue_->Enqueue(k);
       },
       .update = [this](const PodPtr& o, const PodPtr& p) {
         if (o->metadata().resourceversion() == p->metadata().resourceversion()) return;
         std::string old_key = OwnerKey(*o);
         std::string k = OwnerKey(*p);
         if (!old_key.empty() && old_key != k) queue_->Enqueue(old_key);
         if (k.empty()) return;
         if (IsPodTerminating(*p) && !IsPodTerminating(*o)) {
           expectations_.DeletionObserved(k, informers::KeyOf(*p));
         }
         queue_->Enqueue(k);
       },
       .del = [this](const informers::TypedDeletedObject<Pod>& d) {
         if (d.object == nullptr) return;
         std::string k = OwnerKey(*d.object);
         if (k.empty()) return;
         expectations_.DeletionObserved(k, d.key);
         queue_->Enqueue(k);
       }});
  if (!s.ok()) return s;
  s = registrations_.Add<Node>(
      *nodes_, {.add = [this](const std::shared_ptr<const Node>&, bool) { EnqueueAll(); },
                .update = [this](const std::shared_ptr<const Node>& o,
                                 const std::shared_ptr<const Node>& n) {
                  if (!StringMapsEqual(o->metadata().labels(), n->metadata().labels()) ||
                      o->spec().SerializeAsString() != n->spec().SerializeAsString() ||
                      scheduler::IsNodeReady(*o) != scheduler::IsNodeReady(*n)) {
                    EnqueueAll();
                  }
                },
                .del = [this](const informers::TypedDeletedObject<Node>&) { EnqueueAll(); }});
  if (!s.ok()) return s;
  manager_.AddController(queue_.get());
  return absl::OkStatus();
}

std::string DaemonSetController::Impl::OwnerKey(const Pod& pod) const {
  const OwnerReference* ref = GetControllerOf(pod.metadata());
  if (ref == nullptr || ref->kind() != "DaemonSet") return "";
  auto ds = dss_->Lister().Get(pod.metadata().namespace_(), ref->name());
  if (!ds.ok() || (*ds)->metadata().uid() != ref->uid()) return "";
  return informers::KeyOf(**ds);
}

void DaemonSetController::Impl::EnqueueAll() {
  for (const auto& ds : dss_->Lister().List()) queue_->Enqueue(informers::KeyOf(*ds));
}

absl::StatusOr<DaemonSetController::Impl::NodeToPods> DaemonSetController::Impl::NodesToDaemonPods(
    const DaemonSet& ds) {
  auto sel = labels::FromLabelSelector(ds.spec().has_selector() ? &ds.spec().selector() : nullptr);
  if (!sel.ok()) return sel.status();
  const std::string ns = ds.metadata().namespace_(), name = ds.metadata().name();
  std::vector<PodPtr> candidates;
  for (auto& p : pods_->Lister().Namespace(ns).List()) {
    // Orphans being deleted are not adopted; ours being deleted still count (Claim).
    candidates.push_back(std::move(p));
  }
  std::vector<PodPtr> claimed;
  Owner owner{&ds.metadata(), "apps/v1", "DaemonSet"};
  client::Typed<DaemonSet, DaemonSetList> ds_client(manager_.client());
  absl::Status s = Claim<Pod>(
      manager_.client(), owner, *sel, candidates,
      [&]() -> absl::Status {
        auto fresh = ds_client.Get(ns, name);
        return CheckCanAdopt(ds.metadata(), fresh.ok() ? absl::StatusOr<ObjectMeta>(fresh->metadata())
                                                       : absl::StatusOr<ObjectMeta>(fresh.status()));
      },
      &claimed);
  if (!s.ok()) return s;
  NodeToPods out;
  for (PodPtr& p : claimed) {
    std::string node = TargetNodeName(*p);
    if (node.empty()) continue;
    out[node].push_back(std::move(p));
  }
  return out;
}

absl::StatusOr<controller::Result> DaemonSetController::Impl::Sync(const std::string& key) {
  auto [ns, name] = informers::SplitKey(key);
  auto got = dss_->Lister().Get(ns, name);
  if (!got.ok()) {
    if (absl::IsNotFound(got.status())) {
      expectations_.Delete(key);
      return controller::Result{};
    }
    return got.status();
  }
  const DaemonSet& ds = **got;
  auto sel = labels::FromLabelSelector(ds.spec().has_selector() ? &ds.spec().selector() : nullptr);
  if (!sel.ok()) {
    log::Error(sel.status(), "Invalid selector", {{"daemonset", log::KObj(ds)}});
    return controller::Result{};
  }
  if (sel->Empty()) {
    recorder_->Event(ds, controller::record::kEventTypeWarning, "SelectingAll",
                     "This daemon set is selecting all pods. A non-empty selector is required.");
    return controller::Result{};
  }
  if (ds.metadata().has_deletiontimestamp()) return controller::Result{};
  const std::vector<std::shared_ptr<const Node>> nodes = nodes_->Lister().List();
  std::optional<int32_t> collisions;
  if (ds.status().has_collisioncount()) collisions = ds.status().collisioncount();
  const std::string hash = ComputeHash(ds.spec().template_(), collisions);

  absl::Status err;
  if (expectations_.Satisfied(key)) {
    err = Manage(ds, nodes, hash, key);
    if (err.ok() && expectations_.Satisfied(key) &&
        (ds.spec().updatestrategy().type().empty() ||
         ds.spec().updatestrategy().type() == "RollingUpdate")) {
      err = RollingUpdate(ds, nodes, hash, key);
    }
  }
  absl::StatusOr<controller::Result> st = UpdateStatus(ds, nodes, hash);
  if (!err.ok()) return err;
  return st;
}

absl::Status DaemonSetController::Impl::Manage(const DaemonSet& ds,
                                               const std::vector<std::shared_ptr<const Node>>& nodes,
                                               const std::string& hash, const std::string& key) {
  absl::StatusOr<NodeToPods> by_node = NodesToDaemonPods(ds);
  if (!by_node.ok()) return by_node.status();
  std::vector<std::string> needing;
  std::vector<PodPtr> to_delete;
  std::set<std::string> existing_nodes;
  for (const auto& node : nodes) {
    const std::string& n = node->metadata().name();
    existing_nodes.insert(n);
    auto [should_run, should_continue] = NodeShouldRunDaemonPod(*node, ds);
    auto it = by_node->find(n);
    const bool exists = it != by_node->end();
    if (should_run && !exists) {
      needing.push_back(n);
    } else if (should_continue && exists) {
      std::vector<PodPtr> running;
      for (const PodPtr& p : it->second) {
        if (IsPodTerminating(*p)) continue;
        if (p->status().phase() == "Failed") {
          to_delete.push_back(p);  // replaced at the next sync (no backoff here)
          continue;
        }
        running.push_back(p);
      }
      if (running.size() > 1) {
        std::sort(running.begin(), running.end(), [](const PodPtr& a, const PodPtr& b) {
          if (Created(*a) != Created(*b)) return Created(*a) < Created(*b);
          return a->metadata().name() < b->metadata().name();
        });
        to_delete.insert(to_delete.end(), running.begin() + 1, running.end());
      }
    } else if (!should_continue && exists) {
      for (const PodPtr& p : it->second) {
        if (!IsPodTerminating(*p)) to_delete.push_back(p);
      }
    }
  }
  // Pods for nodes that are gone (upstream: unscheduled ones here, bound ones by podgc).
  for (const auto& [n, pods] : *by_node) {
    if (existing_nodes.contains(n)) continue;
    for (const PodPtr& p : pods) {
      if (!IsPodTerminating(*p)) to_delete.push_back(p);
    }
  }
  std::sort(needing.begin(), needing.end());
  return SyncNodes(ds, to_delete, needing, hash, key);
}

absl::Status DaemonSetController::Impl::SyncNodes(const DaemonSet& ds,
                                                  const std::vector<PodPtr>& to_delete_in,
                                                  const std::vector<std::string>& needing_in,
                                                  const std::string& hash, const std::string& key) {
  std::vector<std::string> needing = needing_in;
  if (static_cast<int>(needing.size()) > options_.burst_replicas) needing.resize(options_.burst_replicas);
  std::vector<PodPtr> to_delete = to_delete_in;
  if (static_cast<int>(to_delete.size()) > options_.burst_replicas) to_delete.resize(options_.burst_replicas);
  if (needing.empty() && to_delete.empty()) return absl::OkStatus();

  client::Typed<Pod, PodList> pod_client(manager_.client());
  absl::Status first;
  if (!needing.empty()) {
    expectations_.ExpectCreations(key, static_cast<int>(needing.size()));
    const OwnerReference ref = NewControllerRef(ds.metadata(), "apps/v1", "DaemonSet");
    std::mutex mu;
    size_t next = 0;
    auto [ok, err] = SlowStartBatch(static_cast<int>(needing.size()), 1, [&]() -> absl::Status {
      std::string node;
      {
        std::lock_guard<std::mutex> lock(mu);
        node = needing[next++];
      }
      Pod tmpl = NewDaemonPod(ds, node, hash);
      api::core::v1::PodTemplateSpec t;
      *t.mutable_metadata() = tmpl.metadata();
      *t.mutable_spec() = tmpl.spec();
      Pod pod = PodFromTemplate(t, ds.metadata().namespace_(), ds.metadata().name(), ref);
      absl::StatusOr<Pod> created = pod_client.Create(pod);
      if (!created.ok()) {
        recorder_->Event(ds, controller::record::kEventTypeWarning, "FailedCreate",
                         absl::StrCat("Error creating: ", created.status().message()));
        return created.status();
      }
      recorder_->Event(ds, controller::record::kEventTypeNormal, "SuccessfulCreate",
                       absl::StrCat("Created pod: ", created->metadata().name()));
      return absl::OkStatus();
    });
    for (size_t i = ok; i < needing.size(); ++i) expectations_.CreationObserved(key);
    if (!err.ok()) first = err;
  }
  if (!to_delete.empty()) {
    std::vector<std::string> keys;
    for (const PodPtr& p : to_delete) keys.push_back(informers::KeyOf(*p));
    expectations_.ExpectDeletions(key, keys);
    for (const PodPtr& p : to_delete) {
      absl::Status s = pod_client.Delete(p->metadata().namespace_(), p->metadata().name());
      if (!s.ok()) {
        expectations_.DeletionObserved(key, informers::KeyOf(*p));
        if (absl::IsNotFound(s)) continue;
        recorder_->Event(ds, controller::record::kEventTypeWarning, "FailedDelete",
                         absl::StrCat("Error deleting: ", s.message()));
        if (first.ok()) first = s;
        continue;
      }
      recorder_->Event(ds, controller::record::kEventTypeNormal, "SuccessfulDelete",
                       absl::StrCat("Deleted pod: ", p->metadata().name()));
    }
  }
  return first;
}

absl::Status DaemonSetController::Impl::RollingUpdate(
    const DaemonSet& ds, const std::vector<std::shared_ptr<const Node>>& nodes,
    const std::string& hash, const std::string& key) {
  absl::StatusOr<NodeToPods> by_node = NodesToDaemonPods(ds);
  if (!by_node.ok()) return by_node.status();
  int32_t desired = 0;
  for (const auto& node : nodes) {
    if (NodeShouldRunDaemonPod(*node, ds).first) ++desired;
  }
  int32_t max_unavailable = 1;
  const auto& ru = ds.spec().updatestrategy().rollingupdate();
  if (ru.has_maxunavailable()) {
    absl::StatusOr<int32_t> v = ScaledValue(&ru.maxunavailable(), desired, true);
    if (!v.ok()) return v.status();
    max_unavailable = *v;
  }
  if (max_unavailable == 0) max_unavailable = 1;  // no maxSurge here
  const absl::Time now = absl::Now();
  int32_t unavailable = 0;
  std::vector<PodPtr> replace_now, candidates;
  std::vector<std::string> node_names;
  for (const auto& [n, _] : *by_node) node_names.push_back(n);
  std::sort(node_names.begin(), node_names.end());
  for (const std::string& n : node_names) {
    PodPtr new_pod, old_pod;
    bool ok = true;
    for (const PodPtr& p : (*by_node)[n]) {
      if (IsPodTerminating(*p)) continue;
      PodPtr& slot = IsPodUpdated(*p, hash, TemplateGeneration(ds)) ? new_pod : old_pod;
      if (slot != nullptr) ok = false;
      slot = p;
    }
    if (!ok || (new_pod == nullptr) == (old_pod == nullptr)) {
      ++unavailable;  // manage fixes it; count it as unavailable meanwhile
      continue;
    }
    if (new_pod != nullptr) {
      if (!IsPodAvailable(*new_pod, ds.spec().minreadyseconds(), now)) ++unavailable;
      continue;
    }
    if (!IsPodAvailable(*old_pod, ds.spec().minreadyseconds(), now)) {
      replace_now.push_back(old_pod);
    } else if (unavailable < max_unavailable) {
      candidates.push_back(old_pod);
    }
  }
  int32_t remaining = std::max(0, max_unavailable - unavailable);
  remaining = std::min<int32_t>(remaining, static_cast<int32_t>(candidates.size()));
  std::vector<PodPtr> to_delete = replace_now;
  to_delete.insert(to_delete.end(), candidates.begin(), candidates.begin() + remaining);
  return SyncNodes(ds, to_delete, {}, hash, key);
}

absl::StatusOr<controller::Result> DaemonSetController::Impl::UpdateStatus(
    const DaemonSet& ds, const std::vector<std::shared_ptr<const Node>>& nodes,
    const std::string& hash) {
  absl::StatusOr<NodeToPods> by_node = NodesToDaemonPods(ds);
  if (!by_node.ok()) return by_node.status();
  int32_t desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
  const absl::Time now = absl::Now();
  for (const auto& node : nodes) {
    auto [should_run, _] = NodeShouldRunDaemonPod(*node, ds);
    auto it = by_node->find(node->metadata().name());
    const bool scheduled = it != by_node->end() && !it->second.empty();
    if (should_run) {
      ++desired;
      if (!scheduled) continue;
      ++current;
      // The newest pod, running ones first (podByCreationTimestampAndPhase).
      std::vector<PodPtr> pods = it->second;
      std::sort(pods.begin(), pods.end(), [](const PodPtr& a, const PodPtr& b) {
        const bool ra = a->status().phase() == "Running", rb = b->status().phase() == "Running";
        if (ra != rb) return ra;
        return Created(*a) > Created(*b);
      });
      const Pod& p = *pods[0];
      if (IsPodReady(p)) {
        ++ready;
        if (IsPodAvailable(p, ds.spec().minreadyseconds(), now)) ++available;
      }
      if (IsPodUpdated(p, hash, TemplateGeneration(ds))) ++updated;
    } else if (scheduled) {
      ++misscheduled;
    }
  }
  DaemonSet next = ds;
  auto* st = next.mutable_status();
  st->set_desirednumberscheduled(desired);
  st->set_currentnumberscheduled(current);
  st->set_numbermisscheduled(misscheduled);
  st->set_numberready(ready);
  st->set_numberavailable(available);
  st->set_updatednumberscheduled(updated);
  st->set_numberunavailable(desired - available);
  st->set_observedgeneration(ds.metadata().generation());
  if (next.status().SerializeAsString() != ds.status().SerializeAsString()) {
    absl::StatusOr<DaemonSet> r =
        client::Typed<DaemonSet, DaemonSetList>(manager_.client()).UpdateStatus(next);
    if (!r.ok() && !absl::IsNotFound(r.status())) return r.status();
  }
  if (ds.spec().minreadyseconds() > 0 && ready != available) {
    return controller::Result{.requeue_after = absl::Seconds(ds.spec().minreadyseconds())};
  }
  return controller::Result{};
}

absl::StatusOr<std::unique_ptr<DaemonSetController>> SetUpDaemonSetController(
    controller::Manager& manager, DaemonSetControllerOptions options) {
  if (options.workers < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("concurrent-daemonset-syncs must be at least 1, got ", options.workers));
  }
  if (options.burst_replicas < 1) return absl::InvalidArgumentError("burst_replicas must be at least 1");
  auto impl = std::make_unique<DaemonSetController::Impl>(manager, options);
  if (absl::Status s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<DaemonSetController>(new DaemonSetController(std::move(impl)));
}

DaemonSetController::DaemonSetController(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DaemonSetController::~DaemonSetController() = default;

}  // namespace kslice::workloads
