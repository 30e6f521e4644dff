// Pure Deployment helpers; see deployment_util.h.
#include "controller/workloads/deployment_util.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "controller/workloads/util.h"
#include "google/protobuf/util/message_differencer.h"

namespace kslice::workloads {

int32_t DesiredReplicas(const Deployment& d) {
  return d.spec().has_replicas() ? d.spec().replicas() : 1;
}

int32_t RSReplicas(const ReplicaSet& rs) {
  return rs.spec().has_replicas() ? rs.spec().replicas() : 1;
}

bool IsRollingUpdate(const Deployment& d) {
  return d.spec().strategy().type().empty() || d.spec().strategy().type() == "RollingUpdate";
}

void ResolveFenceposts(const Deployment& d, int32_t* surge, int32_t* unavailable) {
  const int32_t desired = DesiredReplicas(d);
  api::intstr::IntOrString quarter;
  quarter.set_type(1);
  quarter.set_strval("25%");
  const auto& ru = d.spec().strategy().rollingupdate();
  const api::intstr::IntOrString* ms = ru.has_maxsurge() ? &ru.maxsurge() : &quarter;
  const api::intstr::IntOrString* mu = ru.has_maxunavailable() ? &ru.maxunavailable() : &quarter;
  absl::StatusOr<int32_t> s = ScaledValue(ms, desired, true);
  absl::StatusOr<int32_t> u = ScaledValue(mu, desired, false);
  *surge = s.ok() ? *s : 0;
  *unavailable = u.ok() ? *u : 0;
  if (*surge == 0 && *unavailable == 0) *unavailable = 1;
}

int32_t MaxSurge(const Deployment& d) {
  if (!IsRollingUpdate(d)) return 0;
  int32_t s = 0, u = 0;
  ResolveFenceposts(d, &s, &u);
  return s;
}

int32_t MaxUnavailable(const Deployment& d) {
  if (!IsRollingUpdate(d) || DesiredReplicas(d) == 0) return 0;
  int32_t s = 0, u = 0;
  ResolveFenceposts(d, &s, &u);
  return std::min(u, DesiredReplicas(d));
}

bool EqualIgnoreHash(const api::core::v1::PodTemplateSpec& a,
                     const api::core::v1::PodTemplateSpec& b) {
  api::core::v1::PodTemplateSpec x = a, y = b;
  x.mutable_metadata()->mutable_labels()->erase(kPodTemplateHashLabel);
  y.mutable_metadata()->mutable_labels()->erase(kPodTemplateHashLabel);
  return google::protobuf::util::MessageDifferencer::Equals(x, y);
}

int64_t Revision(const api::meta::v1::ObjectMeta& meta) {
  auto it = meta.annotations().find(kRevisionAnnotation);
  int64_t v = 0;
  if (it == meta.annotations().end() || !absl::SimpleAtoi(it->second, &v)) return 0;
  return v;
}

int32_t SumSpecReplicas(const std::vector<const ReplicaSet*>& rss) {
  int32_t n = 0;
  for (const ReplicaSet* rs : rss) n += rs == nullptr ? 0 : RSReplicas(*rs);
  return n;
}
int32_t SumStatusReplicas(const std::vector<const ReplicaSet*>& rss) {
  int32_t n = 0;
  for (const ReplicaSet* rs : rss) n += rs == nullptr ? 0 : rs->status().replicas();
  return n;
}
int32_t SumReadyReplicas(const std::vector<const ReplicaSet*>& rss) {
  int32_t n = 0;
  for (const ReplicaSet* rs : rss) n += rs == nullptr ? 0 : rs->status().readyreplicas();
  return n;
}
int32_t SumAvailableReplicas(const std::vector<const ReplicaSet*>& rss) {
  int32_t n = 0;
  for (const ReplicaSet* rs : rss) n += rs == nullptr ? 0 : rs->status().availablereplicas();
  return n;
}

int32_t NewRSNewReplicas(const Deployment& d, const std::vector<const ReplicaSet*>& all,
                         const ReplicaSet& new_rs) {
  if (!IsRollingUpdate(d)) return DesiredReplicas(d);
  const int32_t current = SumSpecReplicas(all);
  const int32_t max_total = DesiredReplicas(d) + MaxSurge(d);
  if (current >= max_total) return RSReplicas(new_rs);
  int32_t up = max_total - current;
  up = std::min(up, DesiredReplicas(d) - RSReplicas(new_rs));
  return RSReplicas(new_rs) + up;
}

bool SetReplicasAnnotations(ReplicaSet& rs, int32_t desired, int32_t max) {
  auto* a = rs.mutable_metadata()->mutable_annotations();
  bool changed = false;
  auto set = [&](const char* k, int32_t v) {
    std::string s = absl::StrCat(v);
    auto it = a->find(k);
    if (it == a->end() || it->second != s) {
      (*a)[k] = s;
      changed = true;
    }
  };
  set(kDesiredReplicasAnnotation, desired);
  set(kMaxReplicasAnnotation, max);
  return changed;
}

std::optional<int32_t> DesiredReplicasAnnotation(const ReplicaSet& rs) {
  auto it = rs.metadata().annotations().find(kDesiredReplicasAnnotation);
  int32_t v = 0;
  if (it == rs.metadata().annotations().end() || !absl::SimpleAtoi(it->second, &v)) {
    return std::nullopt;
  }
  return v;
}

bool IsSaturated(const Deployment& d, const ReplicaSet* rs) {
  if (rs == nullptr) return false;
  std::optional<int32_t> desired = DesiredReplicasAnnotation(*rs);
  return desired.has_value() && *desired == DesiredReplicas(d) &&
         RSReplicas(*rs) == DesiredReplicas(d) &&
         rs->status().availablereplicas() == DesiredReplicas(d);
}

int32_t ReplicaSetFraction(const ReplicaSet& rs, const Deployment& d) {
  if (DesiredReplicas(d) == 0) return -RSReplicas(rs);
  const int32_t deployment_replicas = DesiredReplicas(d) + MaxSurge(d);
  int32_t annotated = 0;
  auto it = rs.metadata().annotations().find(kMaxReplicasAnnotation);
  if (it == rs.metadata().annotations().end() || !absl::SimpleAtoi(it->second, &annotated)) {
    annotated = d.status().replicas();
  }
  if (annotated == 0) return 0;
  double size = static_cast<double>(RSReplicas(rs)) * deployment_replicas / annotated;
  return static_cast<int32_t>(std::round(size)) - RSReplicas(rs);
}

int32_t Proportion(const ReplicaSet* rs, const Deployment& d, int32_t to_add, int32_t added) {
  if (rs == nullptr || RSReplicas(*rs) == 0 || to_add == 0 || to_add == added) return 0;
  const int32_t fraction = ReplicaSetFraction(*rs, d);
  const int32_t allowed = to_add - added;
  return to_add > 0 ? std::min(fraction, allowed) : std::max(fraction, allowed);
}

DeploymentCondition NewCondition(const std::string& type, const std::string& status,
                                 const std::string& reason, const std::string& message,
                                 absl::Time now) {
  DeploymentCondition c;
  c.set_type(type);
  c.set_status(status);
  c.set_reason(reason);
  c.set_message(message);
  c.mutable_lastupdatetime()->set_seconds(absl::ToUnixSeconds(now));
  c.mutable_lasttransitiontime()->set_seconds(absl::ToUnixSeconds(now));
  return c;
}

const DeploymentCondition* GetCondition(const DeploymentStatus& st, const std::string& type) {
  for (const DeploymentCondition& c : st.conditions()) {
    if (c.type() == type) return &c;
  }
  return nullptr;
}

void RemoveCondition(DeploymentStatus& st, const std::string& type) {
  auto* conds = st.mutable_conditions();
  for (int i = conds->size() - 1; i >= 0; --i) {
    if (conds->Get(i).type() == type) conds->DeleteSubrange(i, 1);
  }
}

void SetCondition(DeploymentStatus& st, const DeploymentCondition& c) {
  DeploymentCondition next = c;
  const DeploymentCondition* current = GetCondition(st, c.type());
  if (current != nullptr && current->status() == c.status() && current->reason() == c.reason()) {
    return;
  }
  if (current != nullptr && current->status() == c.status()) {
    *next.mutable_lasttransitiontime() = current->lasttransitiontime();
  }
  RemoveCondition(st, c.type());
  *st.add_conditions() = std::move(next);
}

DeploymentStatus CalculateStatus(const std::vector<const ReplicaSet*>& all, const ReplicaSet* new_rs,
                                 const Deployment& d, absl::Time now) {
  const int32_t available = SumAvailableReplicas(all);
  const int32_t total = SumSpecReplicas(all);
  DeploymentStatus st;
  st.set_observedgeneration(d.metadata().generation());
  st.set_replicas(SumStatusReplicas(all));
  st.set_updatedreplicas(SumStatusReplicas({new_rs}));
  st.set_readyreplicas(SumReadyReplicas(all));
  st.set_availablereplicas(available);
  st.set_unavailablereplicas(std::max(0, total - available));
  if (d.status().has_collisioncount()) st.set_collisioncount(d.status().collisioncount());
  *st.mutable_conditions() = d.status().conditions();
  if (available >= DesiredReplicas(d) - MaxUnavailable(d)) {
    SetCondition(st, NewCondition("Available", "True", kReasonMinimumReplicasAvailable,
                                  "Deployment has minimum availability.", now));
  } else {
    SetCondition(st, NewCondition("Available", "False", kReasonMinimumReplicasUnavailable,
                                  "Deployment does not have minimum availability.", now));
  }
  return st;
}

bool HasProgressDeadline(const Deployment& d) {
  return d.spec().has_progressdeadlineseconds() &&
         d.spec().progressdeadlineseconds() != INT32_MAX;
}

bool DeploymentComplete(const Deployment& d, const DeploymentStatus& st) {
  const int32_t r = DesiredReplicas(d);
  return st.updatedreplicas() == r && st.replicas() == r && st.availablereplicas() == r &&
         st.observedgeneration() >= d.metadata().generation();
}

bool DeploymentProgressing(const Deployment& d, const DeploymentStatus& st) {
  const DeploymentStatus& old = d.status();
  return st.updatedreplicas() > old.updatedreplicas() ||
         (st.replicas() - st.updatedreplicas()) < (old.replicas() - old.updatedreplicas()) ||
         st.readyreplicas() > old.readyreplicas() || st.availablereplicas() > old.availablereplicas();
}

bool DeploymentTimedOut(const Deployment& d, const DeploymentStatus& st, absl::Time now) {
  if (!HasProgressDeadline(d)) return false;
  const DeploymentCondition* c = GetCondition(st, "Progressing");
  if (c == nullptr) return false;
  if (c->reason() == kReasonNewRSAvailable) return false;
  if (c->reason() == kReasonTimedOut) return true;
  absl::Time from = absl::FromUnixSeconds(c->lastupdatetime().seconds());
  return from + absl::Seconds(d.spec().progressdeadlineseconds()) < now;
}

}  // namespace kslice::workloads
