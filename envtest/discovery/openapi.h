// OpenAPI v3 documents for the embedded API server, built from kslice's protobuf
// schemas by reflection (see docs/discovery.md).
//
// Each served group version gets one document ("api/v1", "apis/coordination.k8s.io/v1")
// with the REST paths of its resources and, under components.schemas, the schema of
// every type those paths use, named as upstream names them
// ("io.k8s.api.core.v1.Pod", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").
// Schemas carry what kubectl reads: properties (JSON names, inline structs flattened),
// types and formats, required fields, x-kubernetes-group-version-kind on kinds, and the
// merge annotations x-kubernetes-patch-strategy, -patch-merge-key, -list-type,
// -list-map-keys and -map-type. There are no descriptions (protobuf descriptors do not
// keep comments) and no enums.
#ifndef KSLICE_ENVTEST_DISCOVERY_OPENAPI_H_
#define KSLICE_ENVTEST_DISCOVERY_OPENAPI_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "api/codec/node.h"
#include "envtest/discovery/resource_info.h"
#include "envtest/storage/resource.h"
#include "google/protobuf/descriptor.h"

namespace kslice::envtest::discovery {

struct GroupVersion {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  friend bool operator==(const GroupVersion&, const GroupVersion&) = default;
};

// Splits "v1" / "apps/v1". InvalidArgument for "", "a/b/c", "/v1", "apps/".
absl::StatusOr<GroupVersion> ParseApiVersion(const std::string& api_version);

// The definition name upstream gives a type: kslice.api.core.v1.Pod ->
// "io.k8s.api.core.v1.Pod"; meta.v1, runtime, intstr and resource map to their
// k8s.io/apimachinery packages ("io.k8s.apimachinery.pkg.util.intstr.IntOrString").
std::string DefinitionName(const google::protobuf::Descriptor* descriptor);

// The schema of one message as it appears in components.schemas, without the
// x-kubernetes-group-version-kind extension. Object keys are sorted.
kslice::codec::Node MessageSchema(const google::protobuf::Descriptor* descriptor);

struct OpenApiResource {
  const storage::ResourceConfig* config = nullptr;  // not owned
  ResourceInfo info;
};

struct GroupVersionDocumentOptions {
  GroupVersion group_version;
  // The resources of this group version.
  std::vector<OpenApiResource> resources;
  // Every group version the server serves: the kinds every group version has
  // (DeleteOptions, WatchEvent) list them in x-kubernetes-group-version-kind.
  std::vector<GroupVersion> all_group_versions;
  std::string title_version = "v1.34.0";  // info.version
};

// The document served at /openapi/v3/<api/v1 | apis/<group>/<version>>; object keys are
// sorted, as Go writes maps. Fails when a resource's prototype is missing.
absl::StatusOr<kslice::codec::Node> GroupVersionDocument(
    const GroupVersionDocumentOptions& options);

}  // namespace kslice::envtest::discovery

#endif  // KSLICE_ENVTEST_DISCOVERY_OPENAPI_H_
