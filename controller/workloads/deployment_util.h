// Pure helpers of the Deployment controller (upstream pkg/controller/deployment/util):
// rollout arithmetic, template identity, revisions, conditions and status. No server.
#ifndef KSLICE_CONTROLLER_WORKLOADS_DEPLOYMENT_UTIL_H_
#define KSLICE_CONTROLLER_WORKLOADS_DEPLOYMENT_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "api/apps/v1/apps.pb.h"

namespace kslice::workloads {

using api::apps::v1::Deployment;
using api::apps::v1::DeploymentCondition;
using api::apps::v1::DeploymentStatus;
using api::apps::v1::ReplicaSet;

inline constexpr char kRevisionAnnotation[] = "deployment.kubernetes.io/revision";
inline constexpr char kDesiredReplicasAnnotation[] = "deployment.kubernetes.io/desired-replicas";
inline constexpr char kMaxReplicasAnnotation[] = "deployment.kubernetes.io/max-replicas";

// Condition reasons (deployment/util/deployment_util.go).
inline constexpr char kReasonNewRSCreated[] = "NewReplicaSetCreated";
inline constexpr char kReasonFoundNewRS[] = "FoundNewReplicaSet";
inline constexpr char kReasonRSUpdated[] = "ReplicaSetUpdated";
inline constexpr char kReasonNewRSAvailable[] = "NewReplicaSetAvailable";
inline constexpr char kReasonTimedOut[] = "ProgressDeadlineExceeded";
inline constexpr char kReasonMinimumReplicasAvailable[] = "MinimumReplicasAvailable";
inline constexpr char kReasonMinimumReplicasUnavailable[] = "MinimumReplicasUnavailable";

int32_t DesiredReplicas(const Deployment& d);  // spec.replicas, 1 when unset
int32_t RSReplicas(const ReplicaSet& rs);      // spec.replicas, 1 when unset
bool IsRollingUpdate(const Deployment& d);     // strategy type RollingUpdate or unset

// ResolveFenceposts on maxSurge (rounded up) and maxUnavailable (rounded down), 25% each
// when unset; both 0 makes maxUnavailable 1.
void ResolveFenceposts(const Deployment& d, int32_t* surge, int32_t* unavailable);
int32_t MaxSurge(const Deployment& d);        // 0 unless rolling
int32_t MaxUnavailable(const Deployment& d);  // 0 unless rolling; at most the replicas

// Templates equal apart from the pod-template-hash label (EqualIgnoreHash).
bool EqualIgnoreHash(const api::core::v1::PodTemplateSpec& a,
                     const api::core::v1::PodTemplateSpec& b);

// The revision annotation as a number (0 when missing or bad).
int64_t Revision(const api::meta::v1::ObjectMeta& meta);

// Sums over ReplicaSets (nullptr entries skipped).
int32_t SumSpecReplicas(const std::vector<const ReplicaSet*>& rss);
int32_t SumStatusReplicas(const std::vector<const ReplicaSet*>& rss);
int32_t SumReadyReplicas(const std::vector<const ReplicaSet*>& rss);
int32_t SumAvailableReplicas(const std::vector<const ReplicaSet*>& rss);

// NewRSNewReplicas: the size the new ReplicaSet may grow to now (RollingUpdate: up to
// replicas + maxSurge in total; Recreate: replicas).
int32_t NewRSNewReplicas(const Deployment& d, const std::vector<const ReplicaSet*>& all,
                         const ReplicaSet& new_rs);

// SetReplicasAnnotations: desired-replicas and max-replicas; true when they changed.
bool SetReplicasAnnotations(ReplicaSet& rs, int32_t desired, int32_t max);

// The annotation desired-replicas, when present and numeric.
std::optional<int32_t> DesiredReplicasAnnotation(const ReplicaSet& rs);

// IsSaturated: the new ReplicaSet runs exactly the deployment's replicas, all available.
bool IsSaturated(const Deployment& d, const ReplicaSet* rs);

// getReplicaSetFraction / GetProportion of proportional scaling.
int32_t ReplicaSetFraction(const ReplicaSet& rs, const Deployment& d);
int32_t Proportion(const ReplicaSet* rs, const Deployment& d, int32_t to_add, int32_t added);

// Conditions: SetDeploymentCondition keeps an existing condition of the same status and
// reason untouched (no timestamps move), and keeps the transition time when only the
// reason changes.
DeploymentCondition NewCondition(const std::string& type, const std::string& status,
                                 const std::string& reason, const std::string& message,
                                 absl::Time now);
const DeploymentCondition* GetCondition(const DeploymentStatus& st, const std::string& type);
void SetCondition(DeploymentStatus& st, const DeploymentCondition& c);
void RemoveCondition(DeploymentStatus& st, const std::string& type);

// calculateStatus: counts from the ReplicaSets, conditions copied, Available set.
DeploymentStatus CalculateStatus(const std::vector<const ReplicaSet*>& all, const ReplicaSet* new_rs,
                                 const Deployment& d, absl::Time now);

bool HasProgressDeadline(const Deployment& d);
bool DeploymentComplete(const Deployment& d, const DeploymentStatus& st);
bool DeploymentProgressing(const Deployment& d, const DeploymentStatus& st);
bool DeploymentTimedOut(const Deployment& d, const DeploymentStatus& st, absl::Time now);

}  // namespace kslice::workloads

#endif  // KSLICE_CONTROLLER_WORKLOADS_DEPLOYMENT_UTIL_H_
