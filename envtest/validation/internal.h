// Shared machinery of envtest/validation: field-error helpers and the per-kind
// validators that validation.cc dispatches to. Not a public API.
#ifndef KSLICE_ENVTEST_VALIDATION_INTERNAL_H_
#define KSLICE_ENVTEST_VALIDATION_INTERNAL_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "api/apps/v1/apps.pb.h"
#include "api/coordination/v1/coordination.pb.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "api/meta/v1/meta.pb.h"
#include "envtest/storage/errors.h"
#include "google/protobuf/map.h"
#include "google/protobuf/repeated_field.h"

namespace kslice::envtest::validation::internal {

using storage::FieldError;
using Errors = std::vector<FieldError>;
using StringMap = google::protobuf::Map<std::string, std::string>;
using StringList = google::protobuf::RepeatedPtrField<std::string>;

inline constexpr char kFieldImmutable[] = "field is immutable";

// Debian's abseil has its own string_view type.
inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// field.Path helpers: Child("a", "b") -> "a.b"; Index(p, 3) -> "p[3]"; Key(p, "k") -> "p[k]".
inline std::string Child(std::string_view path, std::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(Sv(path), ".", Sv(name));
}
inline std::string Index(std::string_view path, int i) {
  return absl::StrCat(Sv(path), "[", i, "]");
}
inline std::string Key(std::string_view path, std::string_view key) {
  return absl::StrCat(Sv(path), "[", Sv(key), "]");
}

// Error constructors with upstream's bodies.
inline FieldError Required(std::string path, std::string_view detail = "") {
  return FieldError::Required(std::move(path), Sv(detail));
}
inline FieldError Forbidden(std::string path, std::string_view detail) {
  return FieldError::Forbidden(std::move(path), Sv(detail));
}
inline FieldError Invalid(std::string path, std::string_view value, std::string_view detail) {
  return FieldError::Invalid(std::move(path), Sv(value), Sv(detail));
}
inline FieldError InvalidInt(std::string path, int64_t value, std::string_view detail) {
  return storage::InvalidRenderedFieldError(std::move(path), absl::StrCat(value), Sv(detail));
}
inline FieldError InvalidJson(std::string path, std::string_view json, std::string_view detail) {
  return storage::InvalidRenderedFieldError(std::move(path), Sv(json), Sv(detail));
}
inline FieldError NotSupported(std::string path, std::string_view value,
                               const std::vector<std::string>& supported) {
  return FieldError::NotSupported(std::move(path), Sv(value), supported);
}
inline FieldError Duplicate(std::string path, std::string_view value) {
  return storage::DuplicateFieldError(std::move(path), Sv(value));
}
inline FieldError TooLong(std::string path, int max) {
  return storage::TooLongFieldError(std::move(path), max);
}
inline FieldError TooMany(std::string path, int actual, int max) {
  return storage::TooManyFieldError(std::move(path), actual, max);
}

// JSON renderings of bad values that are not strings.
std::string JsonString(std::string_view s);
std::string JsonStringList(const StringList& list);

// Map keys in sorted order (upstream iterates Go maps in random order; we pick one).
template <typename V>
std::vector<std::string> SortedKeys(const google::protobuf::Map<std::string, V>& m) {
  std::vector<std::string> keys;
  keys.reserve(m.size());
  for (const auto& [k, v] : m) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// --- object meta (apimachinery pkg/api/validation/objectmeta.go) ---
enum class NameRule { kDNSSubdomain, kDNSLabel, kDNS1035Label };
void ValidateObjectMeta(const api::meta::v1::ObjectMeta& meta, bool namespaced, NameRule rule,
                        Errors* errs);
void ValidateObjectMetaUpdate(const api::meta::v1::ObjectMeta& meta,
                              const api::meta::v1::ObjectMeta& old, Errors* errs);
void ValidateLabels(const StringMap& labels, const std::string& path, Errors* errs);
void ValidateDNS1123Label(std::string_view value, const std::string& path, Errors* errs);
void ValidateDNS1123Subdomain(std::string_view value, const std::string& path, Errors* errs);
void ValidateQualifiedName(std::string_view value, const std::string& path, Errors* errs);
void ValidateNonnegative(int64_t value, const std::string& path, Errors* errs);
// IsValidIPForLegacyField (non-strict): "must be a valid IP address, (e.g. ...)".
void ValidateIPLegacy(std::string_view ip, const std::string& path, Errors* errs);
// ValidateEndpointIP: a parseable IP that is not unspecified/loopback/link-local.
void ValidateEndpointIP(std::string_view ip, const std::string& path, Errors* errs);

// --- kinds ---
void ValidatePod(const api::core::v1::Pod& pod, Errors* errs);
void ValidatePodUpdate(const api::core::v1::Pod& pod, const api::core::v1::Pod& old, Errors* errs);
void ValidatePodStatusUpdate(const api::core::v1::Pod& pod, const api::core::v1::Pod& old,
                             Errors* errs);

// A pod template's labels and spec, with paths under `path` ("spec.template").
void ValidatePodTemplateSpec(const api::core::v1::PodTemplateSpec& tmpl, const std::string& path,
                             Errors* errs);

void ValidateService(const api::core::v1::Service& svc, Errors* errs);
void ValidateServiceUpdate(const api::core::v1::Service& svc, const api::core::v1::Service& old,
                           Errors* errs);
void ValidateServiceStatusUpdate(const api::core::v1::Service& svc,
                                 const api::core::v1::Service& old, Errors* errs);

void ValidateNamespace(const api::core::v1::Namespace& ns, Errors* errs);
void ValidateNamespaceUpdate(const api::core::v1::Namespace& ns,
                             const api::core::v1::Namespace& old, Errors* errs);
void ValidateNamespaceStatusUpdate(const api::core::v1::Namespace& ns,
                                   const api::core::v1::Namespace& old, Errors* errs);

void ValidateNode(const api::core::v1::Node& node, Errors* errs);
void ValidateNodeUpdate(const api::core::v1::Node& node, const api::core::v1::Node& old,
                        Errors* errs);

void ValidateEndpoints(const api::core::v1::Endpoints& ep, Errors* errs);
void ValidateEndpointsUpdate(const api::core::v1::Endpoints& ep,
                             const api::core::v1::Endpoints& old, Errors* errs);

void ValidateEvent(const api::core::v1::Event& ev, Errors* errs);
void ValidateEventUpdate(const api::core::v1::Event& ev, const api::core::v1::Event& old,
                         Errors* errs);

void ValidateConfigMap(const api::core::v1::ConfigMap& cm, Errors* errs);
void ValidateConfigMapUpdate(const api::core::v1::ConfigMap& cm,
                             const api::core::v1::ConfigMap& old, Errors* errs);

void ValidateLease(const api::coordination::v1::Lease& lease, Errors* errs);
void ValidateLeaseUpdate(const api::coordination::v1::Lease& lease,
                         const api::coordination::v1::Lease& old, Errors* errs);

void ValidateEndpointSlice(const api::discovery::v1::EndpointSlice& slice, Errors* errs);
void ValidateEndpointSliceUpdate(const api::discovery::v1::EndpointSlice& slice,
                                 const api::discovery::v1::EndpointSlice& old, Errors* errs);

// apps/v1 (apps.cc): pkg/apis/apps/validation and the apps registry strategies (the
// selector is immutable in apps/v1).
void ValidateDeployment(const api::apps::v1::Deployment& d, Errors* errs);
void ValidateDeploymentUpdate(const api::apps::v1::Deployment& d,
                              const api::apps::v1::Deployment& old, Errors* errs);
void ValidateDeploymentStatusUpdate(const api::apps::v1::Deployment& d,
                                    const api::apps::v1::Deployment& old, Errors* errs);
void ValidateReplicaSet(const api::apps::v1::ReplicaSet& rs, Errors* errs);
void ValidateReplicaSetUpdate(const api::apps::v1::ReplicaSet& rs,
                              const api::apps::v1::ReplicaSet& old, Errors* errs);
void ValidateReplicaSetStatusUpdate(const api::apps::v1::ReplicaSet& rs,
                                    const api::apps::v1::ReplicaSet& old, Errors* errs);
void ValidateDaemonSet(const api::apps::v1::DaemonSet& ds, Errors* errs);
void ValidateDaemonSetUpdate(const api::apps::v1::DaemonSet& ds,
                             const api::apps::v1::DaemonSet& old, Errors* errs);
void ValidateDaemonSetStatusUpdate(const api::apps::v1::DaemonSet& ds,
                                   const api::apps::v1::DaemonSet& old, Errors* errs);

}  // namespace kslice::envtest::validation::internal

#endif  // KSLICE_ENVTEST_VALIDATION_INTERNAL_H_
