// The Deployment controller on the kslice runtime (upstream pkg/controller/deployment,
// reduced): see deployment.h. Function names follow upstream's so the two read side by
// side: syncDeployment -> Sync, getAllReplicaSetsAndSyncRevision -> GetAllReplicaSets,
// rolloutRolling / rolloutRecreate, reconcileNewReplicaSet / reconcileOldReplicaSets,
// scale, cleanupDeployment, syncRolloutStatus.
#include "controller/workloads/deployment.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
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
#include "controller/workloads/deployment_util.h"
#include "controller/workloads/util.h"
#include "informers/cache/object.h"
#include "informers/lister.h"
#include "informers/typed.h"

namespace kslice::workloads {
namespace {

using api::apps::v1::DeploymentList;
using api::apps::v1::ReplicaSetList;
using RSPtr = std::shared_ptr<const ReplicaSet>;

constexpr char kQueueName[] = "deployment";
constexpr char kEventComponent[] = "deployment-controller";
constexpr int kMaxRetries = 15;
constexpr int32_t kDefaultRevisionHistoryLimit = 10;

absl::Time CreationTime(const ReplicaSet& rs) {
  return absl::FromUnixSeconds(rs.metadata().creationtimestamp().seconds()) +
         absl::Nanoseconds(rs.metadata().creationtimestamp().nanos());
}

// ReplicaSetsByCreationTimestamp: oldest first, then by name.
void SortByCreation(std::vector<RSPtr>& rss) {
  std::sort(rss.begin(), rss.end(), [](const RSPtr& a, const RSPtr& b) {
    if (CreationTime(*a) != CreationTime(*b)) return CreationTime(*a) < CreationTime(*b);
    return a->metadata().name() < b->metadata().name();
  });
}

std::vector<const ReplicaSet*> Raw(const std::vector<RSPtr>& rss, const RSPtr& extra = nullptr) {
  std::vector<const ReplicaSet*> out;
  for (const RSPtr& r : rss) out.push_back(r.get());
  if (extra != nullptr) out.push_back(extra.get());
  return out;
}

std::vector<RSPtr> FilterActive(const std::vector<RSPtr>& rss) {
  std::vector<RSPtr> out;
  for (const RSPtr& r : rss) {
    if (r != nullptr && RSReplicas(*r) > 0) out.push_back(r);
  }
  return out;
}

}  // namespace

class DeploymentController::Impl {
 public:
  Impl(controller::Manager& manager, DeploymentControllerOptions options)
      : manager_(manager), options_(options), dclient_(manager.client()), rsclient_(manager.client()) {}
  absl::Status Init();

 private:
  // Per-sync state: the deployment as this sync sees it (updated as we write it).
  struct State {
    Deployment d;
    std::vector<RSPtr> rss;  // claimed
  };

  absl::StatusOr<controller::Result> Sync(const std::string& key);
  absl::StatusOr<std::vector<RSPtr>> ClaimReplicaSets(const Deployment& d);
  // getAllReplicaSetsAndSyncRevision: the new RS (created when asked and missing) and
  // the old ones.
  absl::Status GetAllReplicaSets(State& s, bool create, RSPtr* new_rs, std::vector<RSPtr>* old);
  absl::StatusOr<RSPtr> GetNewReplicaSet(State& s, const std::vector<RSPtr>& old, bool create);
  absl::StatusOr<controller::Result> RolloutRolling(State& s);
  absl::StatusOr<controller::Result> RolloutRecreate(State& s);
  absl::StatusOr<controller::Result> SyncScaleOnly(State& s);
  absl::StatusOr<bool> ReconcileNewReplicaSet(State& s, const std::vector<RSPtr>& all, RSPtr& new_rs);
  absl::StatusOr<bool> ReconcileOldReplicaSets(State& s, std::vector<RSPtr> old, const RSPtr& new_rs);
  absl::Status Scale(State& s, const RSPtr& new_rs, std::vector<RSPtr>& old);
  absl::StatusOr<bool> ScaleReplicaSet(State& s, RSPtr& rs, int32_t replicas);
  absl::Status Cleanup(State& s, const std::vector<RSPtr>& old);
  absl::StatusOr<controller::Result> SyncRolloutStatus(State& s, const std::vector<RSPtr>& all,
                                                       const RSPtr& new_rs);
  absl::Status SyncStatusOnly(State& s, const std::vector<RSPtr>& all, const RSPtr& new_rs);
  absl::Status WriteStatus(State& s, const DeploymentStatus& st);
  bool IsScalingEvent(State& s);

  std::string OwnerKey(const api::meta::v1::ObjectMeta& rs_meta) const;
  void EnqueueMatching(const ReplicaSet& rs);

  controller::Manager& manager_;  // not owned
  const DeploymentControllerOptions options_;
  client::Typed<Deployment, DeploymentList> dclient_;
  client::Typed<ReplicaSet, ReplicaSetList> rsclient_;
  std::unique_ptr<controller::record::Recorder> recorder_;
  std::optional<informers::TypedInformer<Deployment>> deployments_;
  std::optional<informers::TypedInformer<ReplicaSet>> rss_;
  std::optional<informers::TypedInformer<Pod>> pods_;
  std::unique_ptr<controller::Controller> queue_;
  HandlerRegistrations registrations_;  // last: handlers are removed first
};

absl::Status DeploymentController::Impl::Init() {
  if (absl::Status s = GetInformers(manager_, deployments_, rss_, pods_); !s.ok()) return s;

  auto rec = NewEventRecorder(manager_, kEventComponent);
  if (!rec.ok()) return rec.status();
  recorder_ = *std::move(rec);

  queue_ = NewQueue(manager_,
                    {.name = kQueueName,
                     .workers = options_.workers,
                     .max_retries = kMaxRetries,
                     .drop_message = "Dropping deployment out of the queue"},
                    [this](const std::string& key) { return Sync(key); });

  absl::Status s =
      registrations_.Add<Deployment>(*deployments_, EnqueueObject<Deployment>(queue_.get()));
  if (!s.ok()) return s;
  s = registrations_.Add<ReplicaSet>(
      *rss_,
      {.add = [this](const RSPtr& rs, bool) {
         if (GetControllerOf(rs->metadata()) != nullptr) {
           std::string k = OwnerKey(rs->metadata());
           if (!k.empty()) queue_->Enqueue(k);
           return;
         }
         if (!rs->metadata().has_deletiontimestamp()) EnqueueMatching(*rs);
       },
       .update = [this](const RSPtr& o, const RSPtr& rs) {
         if (o->metadata().resourceversion() == rs->metadata().resourceversion()) return;
         std::string old_key = OwnerKey(o->metadata());
         std::string key = OwnerKey(rs->metadata());
         if (!old_key.empty() && old_key != key) queue_->Enqueue(old_key);
         if (!key.empty()) {
           queue_->Enqueue(key);
           return;
         }
         if (GetControllerOf(rs->metadata()) == nullptr &&
             (!StringMapsEqual(o->metadata().labels(), rs->metadata().labels()) ||
              GetControllerOf(o->metadata()) != nullptr)) {
           EnqueueMatching(*rs);
         }
       },
       .del = [this](const informers::TypedDeletedObject<ReplicaSet>& d) {
         if (d.object == nullptr) return;
         std::string k = OwnerKey(d.object->metadata());
         if (!k.empty()) queue_->Enqueue(k);
       }});
  if (!s.ok()) return s;
  // Pods: only Recreate waits for them (old pods gone before the new ReplicaSet grows).
  s = registrations_.Add<Pod>(*pods_, {.add = nullptr, .update = nullptr, .del = [this](const informers::TypedDeletedObject<Pod>& d) {
                      if (d.object == nullptr) return;
                      const OwnerReference* ref = GetControllerOf(d.object->metadata());
                      if (ref == nullptr || ref->kind() != "ReplicaSet") return;
                      auto rs = rss_->Lister().Get(d.object->metadata().namespace_(), ref->name());
                      if (!rs.ok() || (*rs)->metadata().uid() != ref->uid()) return;
                      std::string k = OwnerKey((*rs)->metadata());
                      if (k.empty()) return;
                      auto [ns, name] = informers::SplitKey(k);
                      auto dep = deployments_->Lister().Get(ns, name);
                      if (dep.ok() && (*dep)->spec().strategy().type() == "Recreate") queue_->Enqueue(k);
                    }});
  if (!s.ok()) return s;
  manager_.AddController(queue_.get());
  return absl::OkStatus();
}

std::string DeploymentController::Impl::OwnerKey(const api::meta::v1::ObjectMeta& m) const {
  const OwnerReference* ref = GetControllerOf(m);
  if (ref == nullptr || ref->kind() != "Deployment") return "";
  auto d = deployments_->Lister().Get(m.namespace_(), ref->name());
  if (!d.ok() || (*d)->metadata().uid() != ref->uid()) return "";
  return informers::KeyOf(**d);
}

void DeploymentController::Impl::EnqueueMatching(const ReplicaSet& rs) {
  for (const auto& d : deployments_->Lister().Namespace(rs.metadata().namespace_()).List()) {
    auto sel = labels::FromLabelSelector(d->spec().has_selector() ? &d->spec().selector() : nullptr);
    if (!sel.ok() || sel->Empty()) continue;
    if (sel->Matches(rs.metadata().labels())) queue_->Enqueue(informers::KeyOf(*d));
  }
}

absl::StatusOr<std::vector<RSPtr>> DeploymentController::Impl::ClaimReplicaSets(const Deployment& d) {
  auto sel = labels::FromLabelSelector(d.spec().has_selector() ? &d.spec().selector() : nullptr);
  if (!sel.ok()) return sel.status();
  std::vector<RSPtr> claimed;
  Owner owner{&d.metadata(), "apps/v1", "Deployment"};
  const std::string ns = d.metadata().namespace_(), name = d.metadata().name();
  absl::Status s = Claim<ReplicaSet>(
      manager_.client(), owner, *sel, rss_->Lister().Namespace(ns).List(),
      [&]() -> absl::Status {
        auto fresh = dclient_.Get(ns, name);
        return CheckCanAdopt(d.metadata(), fresh.ok() ? absl::StatusOr<ObjectMeta>(fresh->metadata())
                                                      : absl::StatusOr<ObjectMeta>(fresh.status()));
      },
      &claimed);
  if (!s.ok()) return s;
  return claimed;
}

absl::StatusOr<controller::Result> DeploymentController::Impl::Sync(const std::string& key) {
  auto [ns, name] = informers::SplitKey(key);
  auto got = deployments_->Lister().Get(ns, name);
  if (!got.ok()) {
    if (absl::IsNotFound(got.status())) return controller::Result{};
    return got.status();
  }
  State s{**got, {}};
  Deployment& d = s.d;
  auto sel = labels::FromLabelSelector(d.spec().has_selector() ? &d.spec().selector() : nullptr);
  if (sel.ok() && sel->Empty()) {
    recorder_->Event(d, controller::record::kEventTypeWarning, "SelectingAll",
                     "This deployment is selecting all pods. A non-empty selector is required.");
    if (d.status().observedgeneration() < d.metadata().generation()) {
      DeploymentStatus st = d.status();
      st.set_observedgeneration(d.metadata().generation());
      if (absl::Status w = WriteStatus(s, st); !w.ok()) return w;
    }
    return controller::Result{};
  }
  absl::StatusOr<std::vector<RSPtr>> rss = ClaimReplicaSets(d);
  if (!rss.ok()) return rss.status();
  s.rss = *std::move(rss);

  if (d.metadata().has_deletiontimestamp()) {
    RSPtr new_rs;
    std::vector<RSPtr> old;
    if (absl::Status e = GetAllReplicaSets(s, false, &new_rs, &old); !e.ok()) return e;
    if (absl::Status e = SyncStatusOnly(s, old, new_rs); !e.ok()) return e;
    return controller::Result{};
  }
  if (d.spec().paused() || IsScalingEvent(s)) return SyncScaleOnly(s);
  if (d.spec().strategy().type() == "Recreate") return RolloutRecreate(s);
  return RolloutRolling(s);
}

absl::Status DeploymentController::Impl::GetAllReplicaSets(State& s, bool create, RSPtr* new_rs,
                                                           std::vector<RSPtr>* old) {
  // FindNewReplicaSet: the oldest ReplicaSet with the deployment's template.
  std::vector<RSPtr> sorted = s.rss;
  SortByCreation(sorted);
  RSPtr found;
  for (const RSPtr& rs : sorted) {
    if (EqualIgnoreHash(rs->spec().template_(), s.d.spec().template_())) {
      found = rs;
      break;
    }
  }
  old->clear();
  for (const RSPtr& rs : s.rss) {
    if (found == nullptr || rs->metadata().uid() != found->metadata().uid()) old->push_back(rs);
  }
  if (found == nullptr && !create) {
    *new_rs = nullptr;
    return absl::OkStatus();
  }
  // GetNewReplicaSet syncs the revision of an existing one, or creates it.
  absl::StatusOr<RSPtr> r = GetNewReplicaSet(s, *old, create);
  if (!r.ok()) return r.status();
  *new_rs = *r;
  return absl::OkStatus();
}

absl::StatusOr<RSPtr> DeploymentController::Impl::GetNewReplicaSet(State& s,
                                                                   const std::vector<RSPtr>& old,
                                                                   bool create) {
  Deployment& d = s.d;
  int64_t max_old = 0;
  for (const RSPtr& rs : old) max_old = std::max(max_old, Revision(rs->metadata()));
  const std::string new_revision = absl::StrCat(max_old + 1);
  const absl::Time now = absl::Now();

  RSPtr existing;
  {
    std::vector<RSPtr> sorted = s.rss;
    SortByCreation(sorted);
    for (const RSPtr& rs : sorted) {
      if (EqualIgnoreHash(rs->spec().template_(), d.spec().template_())) {
        existing = rs;
        break;
      }
    }
  }
  if (existing != nullptr) {
    // Revision and replica annotations of the existing new ReplicaSet.
    ReplicaSet copy = *existing;
    bool changed = false;
    if (Revision(copy.metadata()) < max_old + 1) {
      (*copy.mutable_metadata()->mutable_annotations())[kRevisionAnnotation] = new_revision;
      changed = true;
    }
    if (copy.spec().minreadyseconds() != d.spec().minreadyseconds()) {
      copy.mutable_spec()->set_minreadyseconds(d.spec().minreadyseconds());
      changed = true;
    }
    changed |= SetReplicasAnnotations(copy, DesiredReplicas(d), DesiredReplicas(d) + MaxSurge(d));
    if (changed) {
      absl::StatusOr<ReplicaSet> u = rsclient_.Update(copy);
      if (!u.ok()) return u.status();
      existing = std::make_shared<ReplicaSet>(*std::move(u));
      for (RSPtr& r : s.rss) {
        if (r->metadata().uid() == existing->metadata().uid()) r = existing;
      }
    }
    // The deployment's revision follows its new ReplicaSet.
    const std::string rev = absl::StrCat(Revision(existing->metadata()));
    auto it = d.metadata().annotations().find(kRevisionAnnotation);
    if (it == d.metadata().annotations().end() || it->second != rev) {
      Deployment copy_d = d;
      (*copy_d.mutable_metadata()->mutable_annotations())[kRevisionAnnotation] = rev;
      // Through /status, as upstream: the status strategy keeps annotations and does not
      // bump the generation (a main-resource update with new annotations would).
      absl::StatusOr<Deployment> u = dclient_.UpdateStatus(copy_d);
      if (!u.ok()) return u.status();
      d = *std::move(u);
    }
    if (HasProgressDeadline(d) && GetCondition(d.status(), "Progressing") == nullptr) {
      DeploymentStatus st = d.status();
      SetCondition(st, NewCondition("Progressing", "True", kReasonFoundNewRS,
                                    absl::StrFormat("Found new replica set \"%s\"", existing->metadata().name()),
                                    now));
      if (absl::Status w = WriteStatus(s, st); !w.ok()) return w;
    }
    return existing;
  }
  if (!create) return RSPtr();

  // A new ReplicaSet for the template.
  std::optional<int32_t> collisions;
  if (d.status().has_collisioncount()) collisions = d.status().collisioncount();
  const std::string hash = ComputeHash(d.spec().template_(), collisions);
  ReplicaSet rs;
  rs.mutable_metadata()->set_name(absl::StrCat(d.metadata().name(), "-", hash));
  rs.mutable_metadata()->set_namespace_(d.metadata().namespace_());
  *rs.mutable_metadata()->add_ownerreferences() = NewControllerRef(d.metadata(), "apps/v1", "Deployment");
  // SetNewReplicaSetAnnotations copies the deployment's annotations but kubectl's and ours.
  for (const auto& [k, v] : d.metadata().annotations()) {
    if (k == kRevisionAnnotation || k == "kubectl.kubernetes.io/last-applied-configuration" ||
        k == "deployment.kubernetes.io/revision-history") {
      continue;
    }
    (*rs.mutable_metadata()->mutable_annotations())[k] = v;
  }
  (*rs.mutable_metadata()->mutable_annotations())[kRevisionAnnotation] = new_revision;
  *rs.mutable_metadata()->mutable_labels() = d.spec().template_().metadata().labels();
  (*rs.mutable_metadata()->mutable_labels())[kPodTemplateHashLabel] = hash;
  *rs.mutable_spec()->mutable_template_() = d.spec().template_();
  (*rs.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())[kPodTemplateHashLabel] = hash;
  *rs.mutable_spec()->mutable_selector() = d.spec().selector();
  (*rs.mutable_spec()->mutable_selector()->mutable_matchlabels())[kPodTemplateHashLabel] = hash;
  rs.mutable_spec()->set_minreadyseconds(d.spec().minreadyseconds());
  rs.mutable_spec()->set_replicas(0);
  std::vector<const ReplicaSet*> all = Raw(old);
  all.push_back(&rs);
  const int32_t replicas = NewRSNewReplicas(d, all, rs);
  rs.mutable_spec()->set_replicas(replicas);
  SetReplicasAnnotations(rs, DesiredReplicas(d), DesiredReplicas(d) + MaxSurge(d));

  absl::StatusOr<ReplicaSet> created = rsclient_.Create(rs);
  if (!created.ok()) {
    if (!absl::IsAlreadyExists(created.status())) {
      DeploymentStatus st = d.status();
      SetCondition(st, NewCondition("ReplicaFailure", "True", "FailedCreate",
                                    std::string(created.status().message()), now));
      (void)WriteStatus(s, st);
      recorder_->Event(d, controller::record::kEventTypeWarning, "FailedCreate",
                       absl::StrFormat("Failed to create new replica set \"%s\": %s",
                                       rs.metadata().name(), created.status().message()));
      return created.status();
    }
    // Ours already (a stale cache), or a hash collision: bump collisionCount.
    auto current = rss_->Lister().Get(rs.metadata().namespace_(), rs.metadata().name());
    if (current.ok()) {
      const OwnerReference* ref = GetControllerOf((*current)->metadata());
      if (ref != nullptr && ref->uid() == d.metadata().uid() &&
          EqualIgnoreHash((*current)->spec().template_(), d.spec().template_())) {
        return *current;
      }
    }
    DeploymentStatus st = d.status();
    st.set_collisioncount(d.status().has_collisioncount() ? d.status().collisioncount() + 1 : 1);
    if (absl::Status w = WriteStatus(s, st); !w.ok()) return w;
    return absl::AbortedError(absl::StrCat("hash collision for replica set ", rs.metadata().name(),
                                           "; collisionCount is now ", st.collisioncount()));
  }
  auto made = std::make_shared<ReplicaSet>(*std::move(created));
  s.rss.push_back(made);
  if (replicas > 0) {
    recorder_->Event(d, controller::record::kEventTypeNormal, "ScalingReplicaSet",
                     absl::StrFormat("Scaled up replica set %s from 0 to %d", made->metadata().name(),
                                     replicas));
  }
  if (HasProgressDeadline(d)) {
    DeploymentStatus st = d.status();
    SetCondition(st, NewCondition("Progressing", "True", kReasonNewRSCreated,
                                  absl::StrFormat("Created new replica set \"%s\"", made->metadata().name()),
                                  now));
    if (absl::Status w = WriteStatus(s, st); !w.ok()) return w;
  }
  // The deployment's revision annotation.
  auto it = d.metadata().annotations().find(kRevisionAnnotation);
  if (it == d.metadata().annotations().end() || it->second != new_revision) {
    Deployment copy_d = d;
    (*copy_d.mutable_metadata()->mutable_annotations())[kRevisionAnnotation] = new_revision;
    absl::StatusOr<Deployment> u = dclient_.UpdateStatus(copy_d);  // as above
    if (!u.ok()) return u.status();
    d = *std::move(u);
  }
  return made;
}

absl::Status DeploymentController::Impl::WriteStatus(State& s, const DeploymentStatus& st) {
  if (st.SerializeAsString() == s.d.status().SerializeAsString()) return absl::OkStatus();
  Deployment copy = s.d;
  *copy.mutable_status() = st;
  absl::StatusOr<Deployment> u = dclient_.UpdateStatus(copy);
  if (!u.ok()) return u.status();
  s.d = *std::move(u);
  return absl::OkStatus();
}

absl::StatusOr<bool> DeploymentController::Impl::ScaleReplicaSet(State& s, RSPtr& rs,
                                                                 int32_t replicas) {
  const Deployment& d = s.d;
  ReplicaSet copy = *rs;
  const bool size_changes = RSReplicas(copy) != replicas;
  const bool annotations_change =
      SetReplicasAnnotations(copy, DesiredReplicas(d), DesiredReplicas(d) + MaxSurge(d));
  if (!size_changes && !annotations_change) return false;
  const int32_t from = RSReplicas(*rs);
  copy.mutable_spec()->set_replicas(replicas);
  absl::StatusOr<ReplicaSet> u = rsclient_.Update(copy);
  if (!u.ok()) return u.status();
  auto updated = std::make_shared<ReplicaSet>(*std::move(u));
  for (RSPtr& r : s.rss) {
    if (r->metadata().uid() == updated->metadata().uid()) r = updated;
  }
  rs = updated;
  if (size_changes) {
    recorder_->Event(d, controller::record::kEventTypeNormal, "ScalingReplicaSet",
                     absl::StrFormat("Scaled %s replica set %s from %d to %d",
                                     replicas > from ? "up" : "down", rs->metadata().name(), from,
                                     replicas));
  }
  return size_changes;
}

bool DeploymentController::Impl::IsScalingEvent(State& s) {
  // isScalingEvent: an active ReplicaSet annotated for another size.
  for (const RSPtr& rs : FilterActive(s.rss)) {
    std::optional<int32_t> desired = DesiredReplicasAnnotation(*rs);
    if (desired.has_value() && *desired != DesiredReplicas(s.d)) return true;
  }
  return false;
}

absl::Status DeploymentController::Impl::Scale(State& s, const RSPtr& new_rs_in, std::vector<RSPtr>& old) {
  const Deployment& d = s.d;
  RSPtr new_rs = new_rs_in;
  // FindActiveOrLatest: one active ReplicaSet (or none: the newest) takes all replicas.
  std::vector<RSPtr> all = old;
  if (new_rs != nullptr) all.push_back(new_rs);
  std::vector<RSPtr> active = FilterActive(all);
  RSPtr target;
  if (active.size() == 1) {
    target = active[0];
  } else if (active.empty()) {
    if (new_rs != nullptr) {
      target = new_rs;
    } else if (!old.empty()) {
      std::vector<RSPtr> sorted = old;
      SortByCreation(sorted);
      target = sorted.back();
    }
  }
  if (target != nullptr) {
    if (RSReplicas(*target) == DesiredReplicas(d)) return absl::OkStatus();
    return ScaleReplicaSet(s, target, DesiredReplicas(d)).status();
  }
  if (IsSaturated(d, new_rs.get())) {
    for (RSPtr& rs : old) {
      if (RSReplicas(*rs) == 0) continue;
      if (auto r = ScaleReplicaSet(s, rs, 0); !r.ok()) return r.status();
    }
    return absl::OkStatus();
  }
  if (!IsRollingUpdate(d)) return absl::OkStatus();
  // Proportional scaling over the active ReplicaSets.
  int32_t allowed = DesiredReplicas(d) > 0 ? DesiredReplicas(d) + MaxSurge(d) : 0;
  int32_t to_add = allowed - SumSpecReplicas(Raw(active));
  std::vector<RSPtr> order = active;
  std::sort(order.begin(), order.end(), [to_add](const RSPtr& a, const RSPtr& b) {
    if (RSReplicas(*a) != RSReplicas(*b)) return RSReplicas(*a) > RSReplicas(*b);
    // Scaling up: newer first; scaling down: older first.
    return to_add > 0 ? CreationTime(*a) > CreationTime(*b) : CreationTime(*a) < CreationTime(*b);
  });
  std::map<std::string, int32_t> sizes;
  int32_t added = 0;
  for (const RSPtr& rs : order) {
    int32_t p = 0;
    if (to_add != 0) {
      p = Proportion(rs.get(), d, to_add, added);
      added += p;
    }
    sizes[rs->metadata().uid()] = RSReplicas(*rs) + p;
  }
  if (!order.empty()) {
    int32_t& first = sizes[order[0]->metadata().uid()];
    first = std::max(0, first + (to_add - added));
  }
  for (RSPtr rs : order) {
    if (auto r = ScaleReplicaSet(s, rs, sizes[rs->metadata().uid()]); !r.ok()) return r.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<controller::Result> DeploymentController::Impl::SyncScaleOnly(State& s) {
  RSPtr new_rs;
  std::vector<RSPtr> old;
  if (absl::Status e = GetAllReplicaSets(s, false, &new_rs, &old); !e.ok()) return e;
  if (absl::Status e = Scale(s, new_rs, old); !e.ok()) return e;
  // Re-read our updated copies.
  RSPtr nrs;
  std::vector<RSPtr> o2;
  if (absl::Status e = GetAllReplicaSets(s, false, &nrs, &o2); !e.ok()) return e;
  if (s.d.spec().paused()) {
    if (absl::Status e = Cleanup(s, o2); !e.ok()) return e;
  }
  if (absl::Status e = SyncStatusOnly(s, o2, nrs); !e.ok()) return e;
  return controller::Result{};
}

absl::Status DeploymentController::Impl::SyncStatusOnly(State& s, const std::vector<RSPtr>& old,
                                                        const RSPtr& new_rs) {
  DeploymentStatus st = CalculateStatus(Raw(old, new_rs), new_rs.get(), s.d, absl::Now());
  return WriteStatus(s, st);
}

absl::StatusOr<bool> DeploymentController::Impl::ReconcileNewReplicaSet(State& s,
                                                                        const std::vector<RSPtr>& all,
                                                                        RSPtr& new_rs) {
  const int32_t want = DesiredReplicas(s.d);
  if (RSReplicas(*new_rs) == want) return false;
  if (RSReplicas(*new_rs) > want) return ScaleReplicaSet(s, new_rs, want);
  return ScaleReplicaSet(s, new_rs, NewRSNewReplicas(s.d, Raw(all), *new_rs));
}

absl::StatusOr<bool> DeploymentController::Impl::ReconcileOldReplicaSets(State& s,
                                                                         std::vector<RSPtr> old,
                                                                         const RSPtr& new_rs) {
  const Deployment& d = s.d;
  if (SumSpecReplicas(Raw(old)) == 0) return false;
  const int32_t all_pods = SumSpecReplicas(Raw(old, new_rs));
  const int32_t max_unavailable = MaxUnavailable(d);
  const int32_t min_available = DesiredReplicas(d) - max_unavailable;
  const int32_t new_unavailable = RSReplicas(*new_rs) - new_rs->status().availablereplicas();
  const int32_t max_scaled_down = all_pods - min_available - new_unavailable;
  if (max_scaled_down <= 0) return false;

  // cleanupUnhealthyReplicas: scale down old ReplicaSets' unavailable pods first.
  SortByCreation(old);
  int32_t cleaned = 0;
  for (RSPtr& rs : old) {
    if (cleaned >= max_scaled_down) break;
    if (RSReplicas(*rs) == 0) continue;
    const int32_t unhealthy = RSReplicas(*rs) - rs->status().availablereplicas();
    if (unhealthy <= 0) continue;
    const int32_t n = std::min(max_scaled_down - cleaned, unhealthy);
    auto r = ScaleReplicaSet(s, rs, RSReplicas(*rs) - n);
    if (!r.ok()) return r.status();
    cleaned += n;
  }
  // scaleDownOldReplicaSetsForRollingUpdate: then available ones, keeping minAvailable.
  const int32_t available = SumAvailableReplicas(Raw(old, new_rs));
  int32_t scaled = 0;
  if (available > min_available) {
    const int32_t total = available - min_available;
    for (RSPtr& rs : old) {
      if (scaled >= total) break;
      if (RSReplicas(*rs) == 0) continue;
      const int32_t n = std::min(RSReplicas(*rs), total - scaled);
      auto r = ScaleReplicaSet(s, rs, RSReplicas(*rs) - n);
      if (!r.ok()) return r.status();
      scaled += n;
    }
  }
  return cleaned + scaled > 0;
}

absl::StatusOr<controller::Result> DeploymentController::Impl::RolloutRolling(State& s) {
  RSPtr new_rs;
  std::vector<RSPtr> old;
  if (absl::Status e = GetAllReplicaSets(s, true, &new_rs, &old); !e.ok()) return e;
  std::vector<RSPtr> all = old;
  all.push_back(new_rs);
  absl::StatusOr<bool> up = ReconcileNewReplicaSet(s, all, new_rs);
  if (!up.ok()) return up.status();
  if (*up) return SyncRolloutStatus(s, old, new_rs);
  absl::StatusOr<bool> down = ReconcileOldReplicaSets(s, FilterActive(old), new_rs);
  if (!down.ok()) return down.status();
  // The scaled copies live in s.rss; re-split.
  RSPtr nrs;
  std::vector<RSPtr> o2;
  if (absl::Status e = GetAllReplicaSets(s, false, &nrs, &o2); !e.ok()) return e;
  if (*down) return SyncRolloutStatus(s, o2, nrs);
  DeploymentStatus st = CalculateStatus(Raw(o2, nrs), nrs.get(), s.d, absl::Now());
  if (DeploymentComplete(s.d, st)) {
    if (absl::Status e = Cleanup(s, o2); !e.ok()) return e;
  }
  return SyncRolloutStatus(s, o2, nrs);
}

absl::StatusOr<controller::Result> DeploymentController::Impl::RolloutRecreate(State& s) {
  RSPtr new_rs;
  std::vector<RSPtr> old;
  if (absl::Status e = GetAllReplicaSets(s, false, &new_rs, &old); !e.ok()) return e;
  bool scaled_down = false;
  for (RSPtr rs : FilterActive(old)) {
    auto r = ScaleReplicaSet(s, rs, 0);
    if (!r.ok()) return r.status();
    scaled_down |= *r;
  }
  if (scaled_down) {
    RSPtr nrs;
    std::vector<RSPtr> o2;
    if (absl::Status e = GetAllReplicaSets(s, false, &nrs, &o2); !e.ok()) return e;
    return SyncRolloutStatus(s, o2, nrs);
  }
  // Wait until no pod of an old ReplicaSet is left running.
  std::set<std::string> old_uids;
  for (const RSPtr& rs : old) old_uids.insert(rs->metadata().uid());
  bool running = false;
  for (const RSPtr& rs : old) running |= rs->status().replicas() > 0;
  for (const auto& p : pods_->Lister().Namespace(s.d.metadata().namespace_()).List()) {
    const OwnerReference* ref = GetControllerOf(p->metadata());
    if (ref == nullptr || !old_uids.contains(ref->uid())) continue;
    if (p->status().phase() != "Failed" && p->status().phase() != "Succeeded") running = true;
  }
  if (running) return SyncRolloutStatus(s, old, new_rs);
  if (new_rs == nullptr) {
    if (absl::Status e = GetAllReplicaSets(s, true, &new_rs, &old); !e.ok()) return e;
  }
  if (RSReplicas(*new_rs) != DesiredReplicas(s.d)) {
    auto r = ScaleReplicaSet(s, new_rs, DesiredReplicas(s.d));
    if (!r.ok()) return r.status();
    if (*r) return SyncRolloutStatus(s, old, new_rs);
  }
  DeploymentStatus st = CalculateStatus(Raw(old, new_rs), new_rs.get(), s.d, absl::Now());
  if (DeploymentComplete(s.d, st)) {
    if (absl::Status e = Cleanup(s, old); !e.ok()) return e;
  }
  return SyncRolloutStatus(s, old, new_rs);
}

absl::Status DeploymentController::Impl::Cleanup(State& s, const std::vector<RSPtr>& old) {
  const int32_t limit = s.d.spec().has_revisionhistorylimit() ? s.d.spec().revisionhistorylimit()
                                                              : kDefaultRevisionHistoryLimit;
  std::vector<RSPtr> cleanable;
  for (const RSPtr& rs : old) {
    if (rs->status().replicas() == 0 && RSReplicas(*rs) == 0 &&
        rs->metadata().generation() <= rs->status().observedgeneration() &&
        !rs->metadata().has_deletiontimestamp()) {
      cleanable.push_back(rs);
    }
  }
  const int diff = static_cast<int>(cleanable.size()) - limit;
  if (diff <= 0) return absl::OkStatus();
  std::sort(cleanable.begin(), cleanable.end(), [](const RSPtr& a, const RSPtr& b) {
    if (Revision(a->metadata()) != Revision(b->metadata())) {
      return Revision(a->metadata()) < Revision(b->metadata());
    }
    return CreationTime(*a) < CreationTime(*b);
  });
  for (int i = 0; i < diff; ++i) {
    log::V(4).Info("Trying to cleanup replica set for deployment",
                   {{"replicaSet", log::KObj(*cleanable[i])}, {"deployment", log::KObj(s.d)}});
    absl::Status e = rsclient_.Delete(cleanable[i]->metadata().namespace_(),
                                      cleanable[i]->metadata().name());
    if (!e.ok() && !absl::IsNotFound(e)) return e;
  }
  return absl::OkStatus();
}

absl::StatusOr<controller::Result> DeploymentController::Impl::SyncRolloutStatus(
    State& s, const std::vector<RSPtr>& old, const RSPtr& new_rs) {
  const Deployment& d = s.d;
  const absl::Time now = absl::Now();
  DeploymentStatus st = CalculateStatus(Raw(old, new_rs), new_rs.get(), d, now);
  if (!HasProgressDeadline(d)) RemoveCondition(st, "Progressing");
  const DeploymentCondition* current = GetCondition(st, "Progressing");
  const bool complete = st.replicas() == st.updatedreplicas() && current != nullptr &&
                        current->reason() == kReasonNewRSAvailable;
  if (HasProgressDeadline(d) && !complete) {
    if (DeploymentComplete(d, st)) {
      std::string msg = new_rs != nullptr
                            ? absl::StrFormat("ReplicaSet \"%s\" has successfully progressed.", new_rs->metadata().name())
                            : absl::StrFormat("Deployment \"%s\" has successfully progressed.", d.metadata().name());
      SetCondition(st, NewCondition("Progressing", "True", kReasonNewRSAvailable, msg, now));
    } else if (DeploymentProgressing(d, st)) {
      std::string msg = new_rs != nullptr
                            ? absl::StrFormat("ReplicaSet \"%s\" is progressing.", new_rs->metadata().name())
                            : absl::StrFormat("Deployment \"%s\" is progressing.", d.metadata().name());
      DeploymentCondition c = NewCondition("Progressing", "True", kReasonRSUpdated, msg, now);
      if (current != nullptr) {
        if (current->status() == "True") *c.mutable_lasttransitiontime() = current->lasttransitiontime();
        RemoveCondition(st, "Progressing");
      }
      SetCondition(st, c);
    } else if (DeploymentTimedOut(d, st, now)) {
      std::string msg = new_rs != nullptr
                            ? absl::StrFormat("ReplicaSet \"%s\" has timed out progressing.", new_rs->metadata().name())
                            : absl::StrFormat("Deployment \"%s\" has timed out progressing.", d.metadata().name());
      SetCondition(st, NewCondition("Progressing", "False", kReasonTimedOut, msg, now));
    }
  }
  // A ReplicaFailure we reported clears once the new ReplicaSet exists.
  if (new_rs != nullptr) RemoveCondition(st, "ReplicaFailure");
  if (absl::Status e = WriteStatus(s, st); !e.ok()) return e;
  // requeueStuckDeployment: look again when the progress deadline would pass.
  const DeploymentCondition* c = GetCondition(s.d.status(), "Progressing");
  if (HasProgressDeadline(s.d) && c != nullptr && c->reason() != kReasonNewRSAvailable &&
      c->reason() != kReasonTimedOut && !DeploymentComplete(s.d, s.d.status())) {
    absl::Time deadline = absl::FromUnixSeconds(c->lastupdatetime().seconds()) +
                          absl::Seconds(s.d.spec().progressdeadlineseconds());
    absl::Duration after = deadline - now;
    if (after < absl::Seconds(1)) after = absl::Seconds(1);
    return controller::Result{.requeue_after = after};
  }
  return controller::Result{};
}

absl::StatusOr<std::unique_ptr<DeploymentController>> SetUpDeploymentController(
    controller::Manager& manager, DeploymentControllerOptions options) {
  if (options.workers < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("concurrent-deployment-syncs must be at least 1, got ", options.workers));
  }
  auto impl = std::make_unique<DeploymentController::Impl>(manager, options);
  if (absl::Status s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<DeploymentController>(new DeploymentController(std::move(impl)));
}

DeploymentController::DeploymentController(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DeploymentController::~DeploymentController() = default;

}  // namespace kslice::workloads
