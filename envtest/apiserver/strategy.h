// Per-kind write rules of kube-apiserver's registry strategies
// (k8s.io/kubernetes pkg/registry/<group>/<kind>/strategy.go) that the generic REST
// handlers apply around storage: what create resets, what update keeps, which kinds
// have a status subresource, create-on-update, graceful deletion.
#ifndef KSLICE_ENVTEST_APISERVER_STRATEGY_H_
#define KSLICE_ENVTEST_APISERVER_STRATEGY_H_

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "envtest/storage/resource.h"
#include "google/protobuf/message.h"

namespace kslice::envtest::apiserver {

// pods, services, nodes, namespaces, and the apps/v1 deployments, replicasets, daemonsets.
bool HasStatusSubresource(const storage::ResourceConfig& config);
// deployments and replicasets (apps/v1): `scale` reads and writes spec.replicas as an
// autoscaling/v1 Scale.
bool HasScaleSubresource(const storage::ResourceConfig& config);
// PUT of a missing object creates it: endpoints, events, leases (as upstream).
bool AllowCreateOnUpdate(const storage::ResourceConfig& config);
// DELETE answers with the deleted object (pods) rather than a Success Status.
bool ReturnsDeletedObject(const storage::ResourceConfig& config);

// Create: pods start Pending with their QoS class, services, deployments, replicasets and
// daemonsets with an empty status, namespaces Active with the `kubernetes` finalizer;
// every other kind as given.
void PrepareForCreate(google::protobuf::Message* object);

// Update of the main resource (`subresource` "") keeps the stored status of kinds with
// a status subresource; an update of "status" keeps everything but the status and
// resets metadata as metav1.ResetObjectMetaForStatus does (labels, annotations,
// finalizers, ownerReferences, deletionTimestamp, generation from the stored object).
// Both keep deletionTimestamp / deletionGracePeriodSeconds from the stored object.
void PrepareForUpdate(google::protobuf::Message* object, const google::protobuf::Message& old,
                      absl::string_view subresource);

// Pods: the grace period a DELETE gets (pod strategy CheckGracefulDelete): the
// request's, else spec.terminationGracePeriodSeconds; 0 for pods never scheduled or
// already Succeeded/Failed; negative becomes 1. nullopt for kinds without graceful
// deletion.
std::optional<int64_t> GracePeriodFor(const google::protobuf::Message& object,
                                      std::optional<int64_t> requested);

// Services: values the server allocated that an update may omit (a `kubectl replace`
// of a manifest without clusterIP) are carried over from the stored object before
// validation, as upstream's service REST BeginUpdate does: clusterIP(s), ipFamilies,
// ipFamilyPolicy, nodePorts (matched by port name, else port and protocol) and
// healthCheckNodePort.
void PatchAllocatedValues(google::protobuf::Message* object, const google::protobuf::Message& old);

// Pods: status.podIP/podIPs and hostIP/hostIPs made consistent as upstream's
// v1 conversion does (the singular field wins; an empty singular takes the first of
// the list).
void NormalizePodIps(google::protobuf::Message* object);

// The QoS class of a pod: Guaranteed, Burstable or BestEffort (pkg/apis/core/helper/qos).
std::string PodQosClass(const google::protobuf::Message& pod);

}  // namespace kslice::envtest::apiserver

#endif  // KSLICE_ENVTEST_APISERVER_STRATEGY_H_
