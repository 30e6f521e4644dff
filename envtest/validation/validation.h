// Validation of the kinds the embedded API server serves, as kube-apiserver validates
// them on create, update and status update.
//
// Each function returns the field errors upstream's validation would report, with the
// same field paths ("metadata.name", "spec.containers[0].image") and messages
// ("Required value", "Invalid value: \"x\": ..."); empty means valid. The caller turns a
// non-empty list into a 422 with storage::InvalidError(group, kind, name, errors).
//
//   std::vector<storage::FieldError> errs = validation::ValidateCreate(pod);
//   if (!errs.empty()) return storage::InvalidError("", "Pod", pod.metadata().name(), errs);
//
// Objects are our protobuf messages (kslice::api::core::v1::Pod, ...) in canonical form,
// after defaults::Apply: validation expects defaulted objects, as upstream's runs after
// defaulting (an undefaulted Pod fails with "spec.restartPolicy: Required value" and so on).
//
// Served kinds: Namespace, Pod, Service, Node, Endpoints, Event, ConfigMap (core/v1),
// Lease (coordination.k8s.io/v1), EndpointSlice (discovery.k8s.io/v1), Deployment,
// ReplicaSet, DaemonSet (apps/v1). Any other message
// yields no errors. For updates `old` must be the same message type as `object`
// (otherwise one error on "kind" is returned). Updates expect metadata.resourceVersion to
// be set: for an unconditional update the caller fills in the stored object's version
// first, as upstream's registry does.
//
// What is and is not covered, and where we differ from upstream: docs/validation.md.
#ifndef KSLICE_ENVTEST_VALIDATION_VALIDATION_H_
#define KSLICE_ENVTEST_VALIDATION_VALIDATION_H_

#include <vector>

#include "envtest/storage/errors.h"
#include "google/protobuf/message.h"

namespace kslice::envtest::validation {

// Errors for an object about to be created.
std::vector<storage::FieldError> ValidateCreate(const google::protobuf::Message& object);

// Errors for an update of `old` (the stored object) to `object`.
std::vector<storage::FieldError> ValidateUpdate(const google::protobuf::Message& object,
                                                const google::protobuf::Message& old);

// Errors for a write to the status subresource (pods, services, nodes, namespaces,
// deployments, replicasets, daemonsets; other
// kinds are validated as ValidateUpdate). The caller has already reset everything but
// status (and metadata) to the stored values, as upstream's status strategies do.
std::vector<storage::FieldError> ValidateStatusUpdate(const google::protobuf::Message& object,
                                                      const google::protobuf::Message& old);

}  // namespace kslice::envtest::validation

#endif  // KSLICE_ENVTEST_VALIDATION_VALIDATION_H_
