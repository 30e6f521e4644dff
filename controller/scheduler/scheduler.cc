// The scheduler on the kslice runtime (kube-scheduler's scheduleOne, reduced): see
// scheduler.h for what it does and docs/workloads.md for what it leaves out.
#include "controller/scheduler/scheduler.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "api/codec/codec.h"
#include "api/core/v1/core.pb.h"
#include "client/errors/errors.h"
#include "client/rest/client.h"
#include "client/rest/resource.h"
#include "controller/log/log.h"
#include "controller/record/recorder.h"
#include "controller/runtime/controller.h"
#include "controller/scheduler/predicates.h"
#include "controller/workloads/plumbing.h"
#include "informers/cache/object.h"
#include "informers/lister.h"
#include "informers/typed.h"

namespace kslice::scheduler {
namespace {

using api::core::v1::Binding;
using api::core::v1::PodCondition;
using api::core::v1::PodList;

constexpr char kQueueName[] = "scheduler";
constexpr char kEventComponent[] = "default-scheduler";
// Pods by spec.nodeName (non-terminal, bound pods only).
constexpr char kNodeNameIndex[] = "scheduler.kslice.io/node-name";

std::vector<std::string> NodeNameValues(const google::protobuf::Message& m) {
  const auto* pod = dynamic_cast<const Pod*>(&m);
  if (pod == nullptr || pod->spec().nodename().empty()) return {};
  if (pod->status().phase() == "Succeeded" || pod->status().phase() == "Failed") return {};
  return {pod->spec().nodename()};
}

const PodCondition* FindCondition(const Pod& pod, const std::string& type) {
  for (const PodCondition& c : pod.status().conditions()) {
    if (c.type() == type) return &c;
  }
  return nullptr;
}

}  // namespace

class Scheduler::Impl {
 public:
  Impl(controller::Manager& manager, SchedulerOptions options)
      : manager_(manager), options_(std::move(options)) {}

  absl::Status Init();

 private:
  absl::StatusOr<controller::Result> ScheduleOne(const std::string& key);
  absl::Status Bind(const Pod& pod, const std::string& node);
  absl::Status MarkUnschedulable(const Pod& pod, const std::string& message);
  std::vector<NodeInfo> Snapshot();
  void RetryUnschedulable();
  void OnPod(const Pod* old_pod, const Pod* pod);
  bool Ours(const Pod& pod) const { return NeedsScheduling(pod, options_.scheduler_names); }

  controller::Manager& manager_;  // not owned
  const SchedulerOptions options_;
  std::unique_ptr<controller::record::Recorder> recorder_;
  std::optional<informers::TypedInformer<Pod>> pods_;
  std::optional<informers::TypedInformer<Node>> nodes_;
  std::unique_ptr<controller::Controller> queue_;
  controller::metrics::CounterVec* attempts_ = nullptr;  // scheduler_schedule_attempts_total
  controller::metrics::HistogramVec* attempt_seconds_ = nullptr;

  std::mutex mu_;
  // Pods bound by us that the cache still shows unbound: key -> pod as bound.
  std::map<std::string, std::shared_ptr<const Pod>> assumed_ ABSL_GUARDED_BY(mu_);
  // Pods that fit nowhere at their last attempt.
  std::set<std::string> unschedulable_ ABSL_GUARDED_BY(mu_);
  workloads::HandlerRegistrations registrations_;  // last: handlers are removed first
};

absl::Status Scheduler::Impl::Init() {
  absl::Status s = workloads::GetInformers(manager_, pods_, nodes_);
  if (!s.ok()) return s;
  s = pods_->Informer().AddIndexers({{kNodeNameIndex, NodeNameValues}});
  if (!s.ok() && !absl::IsAlreadyExists(s)) return s;

  absl::StatusOr<std::unique_ptr<controller::record::Recorder>> rec =
      workloads::NewEventRecorder(manager_, kEventComponent);
  if (!rec.ok()) return rec.status();
  recorder_ = *std::move(rec);

  absl::StatusOr<controller::metrics::CounterVec*> attempts = manager_.registry().NewCounterVec(
      {.name = "scheduler_schedule_attempts_total",
       .help = "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod "
               "could not be scheduled, while 'error' means an internal scheduler problem."},
      {"result", "profile"});
  if (!attempts.ok()) return attempts.status();
  attempts_ = *attempts;
  absl::StatusOr<controller::metrics::HistogramVec*> seconds =
      manager_.registry().NewHistogramVec(
          {.name = "scheduler_scheduling_attempt_duration_seconds",
           .help = "Scheduling attempt latency in seconds (scheduling algorithm + binding)"},
          controller::metrics::ExponentialBuckets(0.001, 2, 15), {"result", "profile"});
  if (!seconds.ok()) return seconds.status();
  attempt_seconds_ = *seconds;

  queue_ = workloads::NewQueue(
      manager_,
      {.name = kQueueName,
       .workers = 1,  // one scheduling cycle at a time, as kube-scheduler
       .max_retries = -1},
      [this](const std::string& key) { return ScheduleOne(key); });

  s = registrations_.Add<Pod>(
      *pods_,
      {.add = [this](const std::shared_ptr<const Pod>& p, bool) { OnPod(nullptr, p.get()); },
       .update = [this](const std::shared_ptr<const Pod>& o,
                        const std::shared_ptr<const Pod>& p) { OnPod(o.get(), p.get()); },
       .del = [this](const informers::TypedDeletedObject<Pod>& d) {
         {
           std::lock_guard<std::mutex> lock(mu_);
           assumed_.erase(d.key);
           unschedulable_.erase(d.key);
         }
         // A pod leaving a node may free its host ports.
         if (d.object == nullptr || !d.object->spec().nodename().empty()) RetryUnschedulable();
       }});
  if (!s.ok()) return s;
  // Any node change may make room: added, removed, labels, taints, readiness.
  s = registrations_.Add<Node>(
      *nodes_, {.add = [this](const std::shared_ptr<const Node>&, bool) { RetryUnschedulable(); },
                .update = [this](const std::shared_ptr<const Node>& o,
                                 const std::shared_ptr<const Node>& n) {
                  if (!LabelsEqual(o->metadata().labels(), n->metadata().labels()) ||
                      o->spec().SerializeAsString() != n->spec().SerializeAsString() ||
                      IsNodeReady(*o) != IsNodeReady(*n)) {
                    RetryUnschedulable();
                  }
                },
                .del = [this](const informers::TypedDeletedObject<Node>&) {
                  RetryUnschedulable();
                }});
  if (!s.ok()) return s;
  manager_.AddController(queue_.get());
  return absl::OkStatus();
}

void Scheduler::Impl::OnPod(const Pod* old_pod, const Pod* pod) {
  const std::string key = informers::KeyOf(*pod);
  if (!pod->spec().nodename().empty()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      assumed_.erase(key);
      unschedulable_.erase(key);
    }
    // Bound (by us or someone else): nothing to place. A bound pod turning terminal
    // frees its host ports.
    const bool finished =
        old_pod != nullptr && NodeNameValues(*old_pod).size() != NodeNameValues(*pod).size();
    if (finished) RetryUnschedulable();
    return;
  }
  if (!Ours(*pod)) return;
  // An unschedulable pod whose update changed only its status (our own condition write)
  // waits for a cluster change instead of being tried again at once.
  if (old_pod != nullptr && LabelsEqual(old_pod->metadata().labels(), pod->metadata().labels()) &&
      old_pod->spec().SerializeAsString() == pod->spec().SerializeAsString()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (unschedulable_.contains(key)) return;
  }
  queue_->Enqueue(key);
}

void Scheduler::Impl::RetryUnschedulable() {
  std::set<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(mu_);
    keys = unschedulable_;
  }
  for (const std::string& k : keys) queue_->Enqueue(k);
}

std::vector<NodeInfo> Scheduler::Impl::Snapshot() {
  std::map<std::string, std::shared_ptr<const Pod>> assumed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    assumed = assumed_;
  }
  std::vector<NodeInfo> out;
  const informers::Indexer& index = pods_->Informer().GetIndexer();
  for (std::shared_ptr<const Node>& node : nodes_->Lister().List()) {
    NodeInfo info;
    info.node = node;
    std::set<std::string> seen;
    absl::StatusOr<std::vector<informers::ObjectPtr>> objs =
        index.ByIndex(kNodeNameIndex, node->metadata().name());
    if (objs.ok()) {
      for (informers::ObjectPtr& o : *objs) {
        auto p = informers::internal::As<Pod>(std::move(o));
        if (p == nullptr) continue;
        seen.insert(informers::KeyOf(*p));
        info.pods.push_back(std::move(p));
      }
    }
    for (const auto& [key, p] : assumed) {
      if (p->spec().nodename() == node->metadata().name() && !seen.contains(key)) {
        info.pods.push_back(p);
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

absl::Status Scheduler::Impl::Bind(const Pod& pod, const std::string& node) {
  Binding binding;
  binding.mutable_metadata()->set_name(pod.metadata().name());
  binding.mutable_metadata()->set_namespace_(pod.metadata().namespace_());
  binding.mutable_metadata()->set_uid(pod.metadata().uid());
  binding.mutable_target()->set_kind("Node");
  binding.mutable_target()->set_name(node);
  absl::StatusOr<std::string> body = codec::Encode(binding, codec::Format::kProtobuf);
  if (!body.ok()) return body.status();
  const client::ResourceInfo* pods = client::ResourceFor(Pod::descriptor());
  absl::StatusOr<client::Response> r = manager_.client().Send(
      "POST", client::ResourcePath(*pods, pod.metadata().namespace_(), pod.metadata().name(),
                                   "binding"),
      *std::move(body), codec::ContentType(codec::Format::kProtobuf), pods, pod.metadata().name());
  return r.status();
}

absl::Status Scheduler::Impl::MarkUnschedulable(const Pod& pod, const std::string& message) {
  const PodCondition* c = FindCondition(pod, "PodScheduled");
  if (c != nullptr && c->status() == "False" && c->reason() == "Unschedulable" &&
      c->message() == message) {
    return absl::OkStatus();
  }
  Pod next = pod;
  PodCondition* nc = nullptr;
  for (PodCondition& x : *next.mutable_status()->mutable_conditions()) {
    if (x.type() == "PodScheduled") nc = &x;
  }
  if (nc == nullptr) nc = next.mutable_status()->add_conditions();
  if (nc->status() != "False" || !nc->has_lasttransitiontime()) {
    nc->mutable_lasttransitiontime()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  }
  nc->set_type("PodScheduled");
  nc->set_status("False");
  nc->set_reason("Unschedulable");
  nc->set_message(message);
  nc->clear_lastprobetime();
  absl::StatusOr<Pod> updated = client::Typed<Pod, PodList>(manager_.client()).UpdateStatus(next);
  return updated.status();
}

absl::StatusOr<controller::Result> Scheduler::Impl::ScheduleOne(const std::string& key) {
  auto [ns, name] = informers::SplitKey(key);
  absl::StatusOr<std::shared_ptr<const Pod>> got = pods_->Lister().Get(ns, name);
  if (!got.ok()) {
    if (absl::IsNotFound(got.status())) return controller::Result{};
    return got.status();
  }
  const Pod& pod = **got;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (assumed_.contains(key)) return controller::Result{};  // bound, cache not caught up
  }
  if (!Ours(pod)) return controller::Result{};

  const absl::Time start = absl::Now();
  const std::string profile = pod.spec().schedulername().empty() ? std::string(kDefaultSchedulerName)
                                                                 : pod.spec().schedulername();
  auto observe = [&](const char* result) {
    attempts_->WithLabelValues({result, profile}).Inc();
    attempt_seconds_->WithLabelValues({result, profile})
        .Observe(absl::ToDoubleSeconds(absl::Now() - start));
  };
  SchedulingResult r = Schedule(pod, Snapshot());
  if (r.node.empty()) {
    observe("unschedulable");
    log::V(2).Info("Unable to schedule pod; no fit; waiting",
                   {{"pod", log::KObj(pod)}, {"err", r.message}});
    {
      std::lock_guard<std::mutex> lock(mu_);
      unschedulable_.insert(key);
    }
    recorder_->Event(pod, controller::record::kEventTypeWarning, "FailedScheduling", r.message);
    absl::Status s = MarkUnschedulable(pod, r.message);
    if (!s.ok() && !absl::IsNotFound(s)) {
      if (client::IsConflict(s)) return s;  // the pod changed: try again with the new one
      log::Error(s, "Error updating pod", {{"pod", log::KObj(pod)}});
      return s;
    }
    return controller::Result{.requeue_after = options_.unschedulable_retry};
  }

  absl::Status s = Bind(pod, r.node);
  if (!s.ok()) {
    observe("error");
    if (absl::IsNotFound(s)) return controller::Result{};  // deleted meanwhile
    if (client::IsConflict(s)) {
      // Already bound (by someone else) or being deleted: the next event tells.
      log::V(2).Info("Binding refused", {{"pod", log::KObj(pod)}, {"err", s}});
      return controller::Result{};
    }
    recorder_->Event(pod, controller::record::kEventTypeWarning, "FailedScheduling",
                     absl::StrCat("Binding rejected: ", s.message()));
    return s;
  }
  observe("scheduled");
  auto bound = std::make_shared<Pod>(pod);
  bound->mutable_spec()->set_nodename(r.node);
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The informer may already have delivered the bound pod (OnPod erased nothing then).
    absl::StatusOr<std::shared_ptr<const Pod>> now = pods_->Lister().Get(ns, name);
    if (!now.ok() || (*now)->spec().nodename().empty()) assumed_[key] = std::move(bound);
    unschedulable_.erase(key);
  }
  log::V(2).Info("Successfully bound pod to node",
                 {{"pod", log::KObj(pod)}, {"node", r.node}});
  recorder_->Event(pod, controller::record::kEventTypeNormal, "Scheduled",
                   absl::StrFormat("Successfully assigned %s/%s to %s", ns, name, r.node));
  return controller::Result{};
}

absl::StatusOr<std::unique_ptr<Scheduler>> SetUpScheduler(controller::Manager& manager,
                                                          SchedulerOptions options) {
  if (options.scheduler_names.empty()) {
    return absl::InvalidArgumentError("scheduler_names must not be empty");
  }
  auto impl = std::make_unique<Scheduler::Impl>(manager, std::move(options));
  if (absl::Status s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<Scheduler>(new Scheduler(std::move(impl)));
}

Scheduler::Scheduler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scheduler::~Scheduler() = default;

}  // namespace kslice::scheduler
