// Pieces the ReplicaSet, Deployment and DaemonSet controllers share, as pure functions
// where possible (upstream: pkg/controller/controller_utils.go, controller_ref_manager.go,
// deployment/util, daemon/util, api/v1/pod util):
//
//  - the pod-template hash (ComputeHash) and upstream's SafeEncodeString alphabet;
//  - pod state: IsPodActive, IsPodReady, IsPodAvailable;
//  - the order in which a ReplicaSet deletes pods (SortPodsForDeletion);
//  - controller owner references and the adopt/release patches;
//  - pods made from a template (PodFromTemplate);
//  - Expectations: creations and deletions a controller waits to see in its cache;
//  - IntOrString percentages (ScaledValue) and SlowStartBatch.
#ifndef KSLICE_CONTROLLER_WORKLOADS_UTIL_H_
#define KSLICE_CONTROLLER_WORKLOADS_UTIL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "api/intstr/intstr.pb.h"
#include "api/meta/v1/meta.pb.h"

namespace kslice::workloads {

using api::core::v1::Pod;
using api::core::v1::PodTemplateSpec;
using api::meta::v1::ObjectMeta;
using api::meta::v1::OwnerReference;

// Labels and annotations with upstream's names.
inline constexpr char kPodTemplateHashLabel[] = "pod-template-hash";             // apps/v1 DefaultDeploymentUniqueLabelKey
inline constexpr char kControllerRevisionHashLabel[] = "controller-revision-hash";  // apps/v1 ControllerRevisionHashLabelKey
inline constexpr char kPodTemplateGenerationLabel[] = "pod-template-generation";   // DaemonSetTemplateGenerationKey
inline constexpr char kPodDeletionCostAnnotation[] = "controller.kubernetes.io/pod-deletion-cost";

// Upstream's rand.SafeEncodeString alphabet: no vowels, no 0/1/3 (no words, no look-alikes).
inline constexpr char kSafeAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";

// rand.SafeEncodeString: each byte b of `s` becomes kSafeAlphabet[b % 27].
std::string SafeEncodeString(const std::string& s);

// controller.ComputeHash's shape: FNV-32a over the template, then (when given) the
// collision count as 4 little-endian bytes; the decimal value, SafeEncodeString'd. The
// template is hashed as its deterministic protobuf serialization (map entries sorted)
// where upstream hashes a Go spew dump, so values differ from upstream's; the format
// (up to 10 characters of the alphabet) and the properties (equal templates, equal
// hashes; a collision count changes it) are the same.
std::string ComputeHash(const PodTemplateSpec& tmpl, std::optional<int32_t> collision_count);

// FNV-32a of bytes (exposed for tests).
uint32_t Fnv32a(const std::string& data, uint32_t seed = 2166136261u);

// Equal label (or annotation) maps.
bool StringMapsEqual(const google::protobuf::Map<std::string, std::string>& a,
                     const google::protobuf::Map<std::string, std::string>& b);

// Not terminal (Succeeded/Failed) and not being deleted (controller.IsPodActive).
bool IsPodActive(const Pod& pod);
bool IsPodTerminating(const Pod& pod);  // deletionTimestamp set
// The Ready condition is True.
bool IsPodReady(const Pod& pod);
// Ready for at least min_ready_seconds at `now` (podutil.IsPodAvailable).
bool IsPodAvailable(const Pod& pod, int32_t min_ready_seconds, absl::Time now);
// When the pod became Ready (the condition's lastTransitionTime), if it is Ready.
std::optional<absl::Time> PodReadyTime(const Pod& pod);

// Sorts `pods` so the ones to delete first come first, with upstream's
// ActivePodsWithRanks order: unassigned < assigned; Pending < Unknown < Running; not
// ready < ready; lower pod-deletion-cost < higher; more pods of the same owner on its
// node ("doubled up", `rank`) first; ready for less time first; more container restarts
// first; newer first. Ready and creation times compare on a log2 scale of their age at
// `now` (LogarithmicScaleDown, on by default), ties broken by uid. `ranks` must have
// the size of `pods` (or be empty for all zero).
void SortPodsForDeletion(std::vector<std::shared_ptr<const Pod>>& pods, std::vector<int> ranks,
                         absl::Time now);

// The owner reference with controller=true, or nullptr.
const OwnerReference* GetControllerOf(const ObjectMeta& meta);
// A controller reference to `owner` (controller and blockOwnerDeletion true).
OwnerReference NewControllerRef(const ObjectMeta& owner, const std::string& api_version,
                                const std::string& kind);
// Strategic merge patches of the controller ref manager: adopt (add our controller
// reference, with the dependent's uid as precondition) and release (remove it).
std::string AdoptPatch(const OwnerReference& ref, const std::string& dependent_uid);
std::string ReleasePatch(const std::string& owner_uid, const std::string& dependent_uid);

// controller.GetPodFromTemplate: labels, annotations, finalizers and spec of the
// template; generateName `<owner-name>-`; the controller reference; in `ns`.
Pod PodFromTemplate(const PodTemplateSpec& tmpl, const std::string& ns,
                    const std::string& generate_name_prefix, const OwnerReference& ref);

// intstr.GetScaledValueFromIntOrPercent: an int as is; "N%" of `total`, rounded up or
// down; InvalidArgument for anything else.
absl::StatusOr<int32_t> ScaledValue(const api::intstr::IntOrString* v, int32_t total,
                                    bool round_up);

// controller.slowStartBatch: calls fn `count` times in batches of 1, 2, 4, ... (each
// batch in parallel threads), stopping after the first batch with an error. Returns how
// many calls succeeded and the first error.
std::pair<int, absl::Status> SlowStartBatch(int count, int initial_batch,
                                            const std::function<absl::Status()>& fn);

// ControllerExpectations / UIDTrackingControllerExpectations: per controller key, how
// many creations it still expects to observe and which pod keys it expects to see
// deleted. Satisfied when nothing is pending, when nothing was ever recorded, or when
// the record is older than the TTL (5 minutes, as upstream). Thread-safe.
class Expectations {
 public:
  explicit Expectations(absl::Duration ttl = absl::Minutes(5)) : ttl_(ttl) {}

  bool Satisfied(const std::string& key) const;
  void ExpectCreations(const std::string& key, int adds);
  void ExpectDeletions(const std::string& key, const std::vector<std::string>& pod_keys);
  void CreationObserved(const std::string& key);
  void DeletionObserved(const std::string& key, const std::string& pod_key);
  void Delete(const std::string& key);

 private:
  struct Record {
    int adds = 0;
    std::set<std::string> deletes;
    absl::Time timestamp;
  };
  const absl::Duration ttl_;
  mutable std::mutex mu_;
  std::map<std::string, Record> records_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kslice::workloads

#endif  // KSLICE_CONTROLLER_WORKLOADS_UTIL_H_
