// Reading Kubernetes objects from a file for the binaries' dry-run modes
// (`endpointslice-controller reconcile -f`, `kslice-proxy --dry-run -f`): one object, a
// List, multi-document YAML or a stream of JSON objects, as `kubectl get -o yaml|json`
// and hand-written manifests give them.
//
//   absl::StatusOr<ObjectSet> objects = ReadObjects(file_bytes);
//   for (const auto& svc : objects->services) ...
//
// Only the kinds the dry runs use are decoded (v1 Service, Pod, Node and
// discovery.k8s.io/v1 EndpointSlice); other kinds are counted in `ignored`.
#ifndef KSLICE_CMD_INTERNAL_OBJECTFILE_OBJECTFILE_H_
#define KSLICE_CMD_INTERNAL_OBJECTFILE_OBJECTFILE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"

namespace kslice::cmd::objectfile {

struct ObjectSet {
  std::vector<std::shared_ptr<const api::core::v1::Service>> services;
  std::vector<std::shared_ptr<const api::core::v1::Pod>> pods;
  std::vector<std::shared_ptr<const api::core::v1::Node>> nodes;
  std::vector<std::shared_ptr<const api::discovery::v1::EndpointSlice>> slices;
  int ignored = 0;  // objects of other kinds
};

// Reads objects from `data`: one object, a List (kind "List" or a typed list such as
// PodList, whose items may lack apiVersion/kind), multi-document YAML ("---"
// separators) or a stream of concatenated JSON objects, in input order. A document that
// does not parse, or an object of a kept kind that does not decode, is an
// InvalidArgument error naming the document ("document 2, item 5 (Pod): ..."). Kept
// objects are defaulted as the API server defaults them on create (envtest/defaults:
// container port protocols, Service ipFamilies, ...), so hand-written input behaves like
// objects read from a cluster.
absl::StatusOr<ObjectSet> ReadObjects(absl::string_view data);

// The contents of `path`, or of stdin when `path` is "-". NotFound / Unavailable with
// the path in the message.
absl::StatusOr<std::string> ReadInput(const std::string& path);

}  // namespace kslice::cmd::objectfile

#endif  // KSLICE_CMD_INTERNAL_OBJECTFILE_OBJECTFILE_H_
