// Defaulting of the kinds the embedded API server serves, as kube-apiserver defaults
// them before validation.
//
//   kslice::api::core::v1::Pod pod = ...;   // decoded, canonical
//   kslice::envtest::defaults::Apply(&pod);  // restartPolicy Always, dnsPolicy ClusterFirst, ...
//
// Apply runs upstream's SetDefaults_* functions for the object's kind and every struct it
// contains (k8s.io/kubernetes pkg/apis/core/v1/defaults.go, pkg/apis/discovery/v1/
// defaults.go, pkg/apis/apps/v1/defaults.go: Deployment replicas 1, RollingUpdate 25%/25%,
// revisionHistoryLimit 10, progressDeadlineSeconds 600; ReplicaSet replicas 1; DaemonSet
// RollingUpdate maxUnavailable 1 / maxSurge 0, revisionHistoryLimit 10; pod templates get
// the PodSpec defaults), plus the few create-time settings of the registry strategies that clients
// observe on every object (Namespace spec.finalizers [kubernetes] and status.phase Active;
// Service clusterIPs / ipFamilyPolicy / ipFamilies; Pod status.phase Pending and
// status.qosClass). Defaulting only fills unset fields, so it is idempotent and safe to run
// on updates too.
//
// Objects are our protobuf messages in canonical form (docs/api-codecs.md) and stay
// canonical. Messages of other kinds are left alone. Never fails.
//
// What is defaulted and where we differ from upstream: docs/validation.md.
#ifndef KSLICE_ENVTEST_DEFAULTS_DEFAULTS_H_
#define KSLICE_ENVTEST_DEFAULTS_DEFAULTS_H_

#include "google/protobuf/message.h"

namespace kslice::envtest::defaults {

struct Options {
  // Service clusterIPs / ipFamilyPolicy / ipFamilies from the object alone (IPv4 unless a
  // clusterIP says IPv6). The API server turns this off and decides them from its
  // service CIDRs instead (dual-stack), as upstream's service registry does.
  bool service_ip_families = true;
};

// Defaults `object` in place. `object` must not be null.
void Apply(google::protobuf::Message* object);
void Apply(google::protobuf::Message* object, const Options& options);

}  // namespace kslice::envtest::defaults

#endif  // KSLICE_ENVTEST_DEFAULTS_DEFAULTS_H_
