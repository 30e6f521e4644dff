// The `endpointslice-controller reconcile` dry run: the EndpointSlices the controller
// would write for a set of Services, Pods, Nodes and existing EndpointSlices, computed
// with no server by the controller's own Reconciler over a MemoryWriter.
//
//   absl::StatusOr<DryRunInput> in = ParseDryRunInput(file_bytes);
//   absl::StatusOr<DryRunResult> r = RunDryRun(*in, {.max_endpoints_per_slice = 100});
//   absl::StatusOr<std::string> yaml = EncodeSliceList(r->slices, codec::Format::kYaml);
//
// What RunDryRun does for every Service, in namespace/name order, is what a freshly
// started controller's syncService does (pkg/controller/endpointslice): skip services
// being deleted, of type ExternalName, or without a selector; select the pods of the
// service's namespace matching its selector; take the existing slices labelled with the
// service's name and managed by endpointslice-controller.k8s.io that are not being
// deleted; compute the last-change-trigger-time a new controller would compute (the
// earliest of the service's creation and its pods' Ready transitions); reconcile. Nodes
// feed the node lookup and the topology cache (topology-mode: Auto hints).
#ifndef KSLICE_CMD_ENDPOINTSLICE_CONTROLLER_DRYRUN_H_
#define KSLICE_CMD_ENDPOINTSLICE_CONTROLLER_DRYRUN_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec/codec.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"

namespace kslice::endpointslice::cmd {

struct DryRunInput {
  std::vector<std::shared_ptr<const api::core::v1::Service>> services;
  std::vector<std::shared_ptr<const api::core::v1::Pod>> pods;
  std::vector<std::shared_ptr<const api::core::v1::Node>> nodes;
  std::vector<std::shared_ptr<const api::discovery::v1::EndpointSlice>> slices;
  int ignored = 0;  // objects of other kinds
};

// Reads objects from `data` (cmd/internal/objectfile, shared with kslice-proxy --dry-run):
// one object, a List (kind "List" or a typed list such as
// PodList, whose items may lack apiVersion/kind), multi-document YAML ("---"
// separators) or a stream of concatenated JSON objects. Services, Pods, Nodes and
// EndpointSlices are kept; other kinds are counted in `ignored`. A document that does
// not parse, or an object of a kept kind that does not decode, is an InvalidArgument
// error naming the document. Kept objects are defaulted as the API server defaults
// them on create (envtest/defaults: container port protocols, Service ipFamilies, ...),
// so hand-written input behaves like objects read from a cluster.
absl::StatusOr<DryRunInput> ParseDryRunInput(absl::string_view data);

struct DryRunOptions {
  int32_t max_endpoints_per_slice = 100;
};

// One write the controller would make.
struct PlannedAction {
  enum class Kind { kCreate, kUpdate, kDelete };
  Kind kind;
  std::string service;  // "namespace/name"
  api::discovery::v1::EndpointSlice slice;  // as sent (a create: generateName, no name)
};

struct DryRunResult {
  // Every slice managed by endpointslice-controller.k8s.io after the run: the input's
  // (unchanged, or as updated) minus the deleted ones, plus the creates as sent.
  // Sorted by namespace, kubernetes.io/service-name label, then named slices by name
  // before creates in the order they were made. An input slice without a name (this
  // output fed back in) is named "<generateName>unnamed-<index>".
  std::vector<api::discovery::v1::EndpointSlice> slices;
  std::vector<PlannedAction> actions;  // in order
  std::vector<std::string> events;     // "Warning Reason default/web: message"
  std::vector<std::string> errors;     // "default/web: message" per failed reconcile
};

// Runs the reconciler over `input` as described at the top of this file. Errors of one
// service's reconcile are collected in `errors` (its writes made before the error stay),
// as the controller would retry that service; only setup failures fail the call.
absl::StatusOr<DryRunResult> RunDryRun(const DryRunInput& input, const DryRunOptions& options);

// "create default/web-  (generateName) IPv4: 3 endpoints, ports http/TCP/80".
std::string DescribeAction(const PlannedAction& action);

// A v1 List (apiVersion: v1, kind: List, items) of the slices in JSON (2-space
// indentation, trailing newline) or YAML.
absl::StatusOr<std::string> EncodeSliceList(
    const std::vector<api::discovery::v1::EndpointSlice>& slices, codec::Format format);

}  // namespace kslice::endpointslice::cmd

#endif  // KSLICE_CMD_ENDPOINTSLICE_CONTROLLER_DRYRUN_H_
