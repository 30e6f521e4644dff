// The ReplicaSet controller on the kslice runtime (upstream pkg/controller/replicaset/
// replica_set.go, reduced): see replicaset.h.
#include "controller/workloads/replicaset.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "api/apps/v1/apps.pb.h"
#include "api/labels/meta_selector.h"
#include "client/errors/errors.h"
#include "client/rest/client.h"
#include "controller/log/log.h"
#include "controller/record/recorder.h"
#include "controller/runtime/controller.h"
#include "controller/workloads/control.h"
#include "controller/workloads/plumbing.h"
#include "controller/workloads/util.h"
#include "informers/cache/object.h"
#include "informers/lister.h"
#include "informers/typed.h"

namespace kslice::workloads {
namespace {

using api::apps::v1::ReplicaSet;
using api::apps::v1::ReplicaSetCondition;
using api::apps::v1::ReplicaSetList;
using api::core::v1::PodList;

constexpr char kQueueName[] = "replicaset";
constexpr char kEventComponent[] = "replicaset-controller";
constexpr int kMaxRetries = 15;

int32_t Replicas(const ReplicaSet& rs) {
  return rs.spec().has_replicas() ? rs.spec().replicas() : 1;
}

// Whether the pod carries every label of the template (fullyLabeledReplicas).
bool FullyLabeled(const Pod& pod, const ReplicaSet& rs) {
  for (const auto& [k, v] : rs.spec().template_().metadata().labels()) {
    auto it = pod.metadata().labels().find(k);
    if (it == pod.metadata().labels().end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

class ReplicaSetController::Impl {
 public:
  Impl(controller::Manager& manager, ReplicaSetControllerOptions options)
      : manager_(manager), options_(options) {}
  absl::Status Init();

 private:
  absl::StatusOr<controller::Result> Sync(const std::string& key);
  absl::Status ManageReplicas(const std::vector<std::shared_ptr<const Pod>>& pods,
                              const std::vector<std::shared_ptr<const Pod>>& related,
                              const ReplicaSet& rs, const std::string& key);
  absl::Status UpdateStatus(const ReplicaSet& rs,
                            const std::vector<std::shared_ptr<const Pod>>& pods,
                            const absl::Status& manage_error, int32_t* ready, int32_t* available);

  // The ReplicaSet controlling `pod` per its controller reference (uid checked), or "".
  std::string OwnerKey(const Pod& pod) const;
  void EnqueueMatching(const Pod& pod);
  void OnPodAdd(const Pod& pod);
  void OnPodUpdate(const Pod& old_pod, const Pod& pod);
  void OnPodDelete(const informers::TypedDeletedObject<Pod>& d);

  controller::Manager& manager_;  // not owned
  const ReplicaSetControllerOptions options_;
  std::unique_ptr<controller::record::Recorder> recorder_;
  std::optional<informers::TypedInformer<ReplicaSet>> rss_;
  std::optional<informers::TypedInformer<Pod>> pods_;
  Expectations expectations_;
  std::unique_ptr<controller::Controller> queue_;
  HandlerRegistrations registrations_;  // last: handlers are removed first
};

absl::Status ReplicaSetController::Impl::Init() {
  if (absl::Status s = GetInformers(manager_, rss_, pods_); !s.ok()) return s;

  auto rec = NewEventRecorder(manager_, kEventComponent);
  if (!rec.ok()) return rec.status();
  recorder_ = *std::move(rec);

  queue_ = NewQueue(manager_,
                    {.name = kQueueName,
                     .workers = options_.workers,
                     .max_retries = kMaxRetries,
                     .drop_message = "Dropping replica set out of the queue"},
                    [this](const std::string& key) { return Sync(key); });

  absl::Status s = registrations_.Add<ReplicaSet>(
      *rss_, EnqueueObject<ReplicaSet>(queue_.get(), [this](const std::string& key) {
        expectations_.Delete(key);
      }));
  if (!s.ok()) return s;
  s = registrations_.Add<Pod>(
      *pods_, {.add = [this](const std::shared_ptr<const Pod>& p, bool) { OnPodAdd(*p); },
               .update = [this](const std::shared_ptr<const Pod>& o,
                                const std::shared_ptr<const Pod>& p) { OnPodUpdate(*o, *p); },
               .del = [this](const informers::TypedDeletedObject<Pod>& d) { OnPodDelete(d); }});
  if (!s.ok()) return s;
  manager_.AddController(queue_.get());
  return absl::OkStatus();
}

std::string ReplicaSetController::Impl::OwnerKey(const Pod& pod) const {
  const OwnerReference* ref = GetControllerOf(pod.metadata());
  if (ref == nullptr || ref->kind() != "ReplicaSet") return "";
  auto rs = rss_->Lister().Get(pod.metadata().namespace_(), ref->name());
  if (!rs.ok() || (*rs)->metadata().uid() != ref->uid()) return "";
  return informers::KeyOf(**rs);
}

void ReplicaSetController::Impl::EnqueueMatching(const Pod& pod) {
  for (const auto& rs : rss_->Lister().Namespace(pod.metadata().namespace_()).List()) {
    auto sel = labels::FromLabelSelector(rs->spec().has_selector() ? &rs->spec().selector() : nullptr);
    if (!sel.ok() || sel->Empty()) continue;
    if (sel->Matches(pod.metadata().labels())) queue_->Enqueue(informers::KeyOf(*rs));
  }
}

void ReplicaSetController::Impl::OnPodAdd(const Pod& pod) {
  if (IsPodTerminating(pod)) {
    // Restarted controller seeing a pod already being deleted: a deletion, not a creation.
    std::string key = OwnerKey(pod);
    if (!key.empty()) {
      expectations_.DeletionObserved(key, informers::KeyOf(pod));
      queue_->Enqueue(key);
    }
    return;
  }
  if (GetControllerOf(pod.metadata()) != nullptr) {
    std::string key = OwnerKey(pod);
    if (key.empty()) return;
    expectations_.CreationObserved(key);
    queue_->Enqueue(key);
    return;
  }
  EnqueueMatching(pod);
}

void ReplicaSetController::Impl::OnPodUpdate(const Pod& old_pod, const Pod& pod) {
  if (old_pod.metadata().resourceversion() == pod.metadata().resourceversion()) return;
  const bool labels_changed = !StringMapsEqual(old_pod.metadata().labels(), pod.metadata().labels());
  if (IsPodTerminating(pod) && !IsPodTerminating(old_pod)) {
    std::string key = OwnerKey(pod);
    if (!key.empty()) {
      expectations_.DeletionObserved(key, informers::KeyOf(pod));
      queue_->Enqueue(key);
    }
    if (labels_changed) {
      std::string old_key = OwnerKey(old_pod);
      if (!old_key.empty() && old_key != key) queue_->Enqueue(old_key);
    }
    return;
  }
  const OwnerReference* old_ref = GetControllerOf(old_pod.metadata());
  const OwnerReference* ref = GetControllerOf(pod.metadata());
  const bool ref_changed = (old_ref == nullptr) != (ref == nullptr) ||
                           (old_ref != nullptr && old_ref->uid() != ref->uid());
  if (ref_changed && old_ref != nullptr) {
    std::string old_key = OwnerKey(old_pod);
    if (!old_key.empty()) queue_->Enqueue(old_key);
  }
  if (ref != nullptr) {
    std::string key = OwnerKey(pod);
    if (key.empty()) return;
    queue_->Enqueue(key);
    // A pod turning ready becomes available minReadySeconds later: look again then.
    if (!IsPodReady(old_pod) && IsPodReady(pod)) {
      auto rs = rss_->Lister().Get(pod.metadata().namespace_(), ref->name());
      if (rs.ok() && (*rs)->spec().minreadyseconds() > 0) {
        queue_->EnqueueAfter(key, absl::Seconds((*rs)->spec().minreadyseconds()) + absl::Seconds(1));
      }
    }
    return;
  }
  if (labels_changed || ref_changed) EnqueueMatching(pod);
}

void ReplicaSetController::Impl::OnPodDelete(const informers::TypedDeletedObject<Pod>& d) {
  if (d.object == nullptr) return;
  std::string key = OwnerKey(*d.object);
  if (key.empty()) return;
  expectations_.DeletionObserved(key, d.key);
  queue_->Enqueue(key);
}

absl::StatusOr<controller::Result> ReplicaSetController::Impl::Sync(const std::string& key) {
  auto [ns, name] = informers::SplitKey(key);
  auto got = rss_->Lister().Get(ns, name);
  if (!got.ok()) {
    if (absl::IsNotFound(got.status())) {
      expectations_.Delete(key);
      return controller::Result{};
    }
    return got.status();
  }
  const ReplicaSet& rs = **got;
  const bool needs_sync = expectations_.Satisfied(key);
  auto selector =
      labels::FromLabelSelector(rs.spec().has_selector() ? &rs.spec().selector() : nullptr);
  if (!selector.ok()) {
    log::Error(selector.status(), "Error converting pod selector to selector",
               {{"replicaSet", log::KObj(rs)}});
    return controller::Result{};
  }

  std::vector<std::shared_ptr<const Pod>> active;
  for (auto& p : pods_->Lister().Namespace(ns).List()) {
    if (IsPodActive(*p)) active.push_back(std::move(p));
  }
  std::vector<std::shared_ptr<const Pod>> pods;
  Owner owner{&rs.metadata(), "apps/v1", "ReplicaSet"};
  client::Typed<ReplicaSet, ReplicaSetList> rs_client(manager_.client());
  absl::Status claim = Claim<Pod>(
      manager_.client(), owner, *selector, active,
      [&]() -> absl::Status {
        auto fresh = rs_client.Get(ns, name);
        return CheckCanAdopt(rs.metadata(), fresh.ok() ? absl::StatusOr<ObjectMeta>(fresh->metadata())
                                                       : absl::StatusOr<ObjectMeta>(fresh.status()));
      },
      &pods);
  if (!claim.ok()) return claim;

  // Pods of the ReplicaSets sharing our controller (a Deployment's): the ranks' "related".
  std::vector<std::shared_ptr<const Pod>> related = pods;
  if (const OwnerReference* dref = GetControllerOf(rs.metadata()); dref != nullptr) {
    std::set<std::string> siblings;
    for (const auto& other : rss_->Lister().Namespace(ns).List()) {
      const OwnerReference* r = GetControllerOf(other->metadata());
      if (r != nullptr && r->uid() == dref->uid() && other->metadata().uid() != rs.metadata().uid()) {
        siblings.insert(other->metadata().uid());
      }
    }
    for (const auto& p : active) {
      const OwnerReference* r = GetControllerOf(p->metadata());
      if (r != nullptr && siblings.contains(r->uid())) related.push_back(p);
    }
  }

  absl::Status manage;
  if (needs_sync && !rs.metadata().has_deletiontimestamp()) {
    manage = ManageReplicas(pods, related, rs, key);
  }
  int32_t ready = 0, available = 0;
  absl::Status st = UpdateStatus(rs, pods, manage, &ready, &available);
  if (!manage.ok()) return manage;
  if (!st.ok()) return st;
  if (rs.spec().minreadyseconds() > 0 && ready != available) {
    return controller::Result{.requeue_after = absl::Seconds(rs.spec().minreadyseconds())};
  }
  return controller::Result{};
}

absl::Status ReplicaSetController::Impl::ManageReplicas(
    const std::vector<std::shared_ptr<const Pod>>& pods,
    const std::vector<std::shared_ptr<const Pod>>& related, const ReplicaSet& rs,
    const std::string& key) {
  int diff = static_cast<int>(pods.size()) - Replicas(rs);
  client::Typed<Pod, PodList> pod_client(manager_.client());
  if (diff < 0) {
    diff = std::min(-diff, options_.burst_replicas);
    expectations_.ExpectCreations(key, diff);
    log::V(2).Info("Too few replicas", {{"replicaSet", log::KObj(rs)},
                                        {"need", Replicas(rs)},
                                        {"creating", diff}});
    const Pod pod = PodFromTemplate(rs.spec().template_(), rs.metadata().namespace_(),
                                    rs.metadata().name(),
                                    NewControllerRef(rs.metadata(), "apps/v1", "ReplicaSet"));
    auto [ok, err] = SlowStartBatch(diff, 1, [&]() -> absl::Status {
      absl::StatusOr<Pod> created = pod_client.Create(pod);
      if (!created.ok()) {
        recorder_->Event(rs, controller::record::kEventTypeWarning, "FailedCreate",
                         absl::StrCat("Error creating: ", created.status().message()));
        return created.status();
      }
      recorder_->Event(rs, controller::record::kEventTypeNormal, "SuccessfulCreate",
                       absl::StrCat("Created pod: ", created->metadata().name()));
      return absl::OkStatus();
    });
    for (int i = ok; i < diff; ++i) expectations_.CreationObserved(key);
    return err;
  }
  if (diff > 0) {
    diff = std::min(diff, options_.burst_replicas);
    // Ranks: how many related pods share each pod's node.
    std::map<std::string, int> on_node;
    for (const auto& p : related) {
      if (!p->spec().nodename().empty() && IsPodActive(*p)) ++on_node[p->spec().nodename()];
    }
    std::vector<std::shared_ptr<const Pod>> order = pods;
    std::vector<int> ranks;
    for (const auto& p : order) {
      ranks.push_back(p->spec().nodename().empty() ? 0 : on_node[p->spec().nodename()]);
    }
    SortPodsForDeletion(order, ranks, absl::Now());
    order.resize(diff);
    std::vector<std::string> keys;
    for (const auto& p : order) keys.push_back(informers::KeyOf(*p));
    expectations_.ExpectDeletions(key, keys);
    log::V(2).Info("Too many replicas", {{"replicaSet", log::KObj(rs)},
                                         {"need", Replicas(rs)},
                                         {"deleting", diff}});
    absl::Status first;
    for (const auto& p : order) {
      absl::Status s = pod_client.Delete(p->metadata().namespace_(), p->metadata().name());
      if (!s.ok()) {
        expectations_.DeletionObserved(key, informers::KeyOf(*p));
        if (absl::IsNotFound(s)) continue;
        recorder_->Event(rs, controller::record::kEventTypeWarning, "FailedDelete",
                         absl::StrCat("Error deleting: ", s.message()));
        if (first.ok()) first = s;
        continue;
      }
      recorder_->Event(rs, controller::record::kEventTypeNormal, "SuccessfulDelete",
                       absl::StrCat("Deleted pod: ", p->metadata().name()));
    }
    return first;
  }
  return absl::OkStatus();
}

absl::Status ReplicaSetController::Impl::UpdateStatus(
    const ReplicaSet& rs, const std::vector<std::shared_ptr<const Pod>>& pods,
    const absl::Status& manage_error, int32_t* ready, int32_t* available) {
  ReplicaSet next = rs;
  auto* st = next.mutable_status();
  int32_t fully = 0;
  *ready = 0;
  *available = 0;
  const absl::Time now = absl::Now();
  for (const auto& p : pods) {
    if (FullyLabeled(*p, rs)) ++fully;
    if (IsPodReady(*p)) {
      ++*ready;
      if (IsPodAvailable(*p, rs.spec().minreadyseconds(), now)) ++*available;
    }
  }
  st->set_replicas(static_cast<int32_t>(pods.size()));
  st->set_fullylabeledreplicas(fully);
  st->set_readyreplicas(*ready);
  st->set_availablereplicas(*available);
  st->set_observedgeneration(rs.metadata().generation());
  // ReplicaFailure: set while creating or deleting fails, removed once it works.
  auto* conds = st->mutable_conditions();
  auto existing = std::find_if(conds->begin(), conds->end(),
                               [](const ReplicaSetCondition& c) { return c.type() == "ReplicaFailure"; });
  if (!manage_error.ok()) {
    if (existing == conds->end()) {
      ReplicaSetCondition* c = conds->Add();
      c->set_type("ReplicaFailure");
      c->set_status("True");
      const bool creating = static_cast<int>(pods.size()) < Replicas(rs);
      c->set_reason(creating ? "FailedCreate" : "FailedDelete");
      c->set_message(std::string(manage_error.message()));
      c->mutable_lasttransitiontime()->set_seconds(absl::ToUnixSeconds(now));
    }
  } else if (existing != conds->end()) {
    conds->erase(existing);
  }
  if (next.status().SerializeAsString() == rs.status().SerializeAsString()) return absl::OkStatus();
  absl::StatusOr<ReplicaSet> r =
      client::Typed<ReplicaSet, ReplicaSetList>(manager_.client()).UpdateStatus(next);
  if (!r.ok() && absl::IsNotFound(r.status())) return absl::OkStatus();
  return r.status();
}

absl::StatusOr<std::unique_ptr<ReplicaSetController>> SetUpReplicaSetController(
    controller::Manager& manager, ReplicaSetControllerOptions options) {
  if (options.workers < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("concurrent-replicaset-syncs must be at least 1, got ", options.workers));
  }
  if (options.burst_replicas < 1) {
    return absl::InvalidArgumentError("burst_replicas must be at least 1");
  }
  auto impl = std::make_unique<ReplicaSetController::Impl>(manager, options);
  if (absl::Status s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<ReplicaSetController>(new ReplicaSetController(std::move(impl)));
}

ReplicaSetController::ReplicaSetController(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ReplicaSetController::~ReplicaSetController() = default;

}  // namespace kslice::workloads
