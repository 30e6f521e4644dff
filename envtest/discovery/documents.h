// The discovery and OpenAPI documents of the embedded API server, built once from a
// ResourceRegistry and served from memory.
//
//   discovery::Documents::Options options;
//   options.version.git_version = "v1.34.0-kslice";
//   absl::StatusOr<std::unique_ptr<discovery::Documents>> docs =
//       discovery::Documents::Build(storage::ResourceRegistry::Builtin(), options);
//   ...
//   // In the HTTP handler, before resource routing:
//   if (std::optional<discovery::Response> r =
//           (*docs)->Serve(path, query, accept_header, if_none_match_header)) {
//     reply(r->status, r->headers, r->body);
//   }
//
// Paths served (GET/HEAD; the caller rejects other methods):
//   /version                     version.Info
//   /api, /apis                  legacy APIVersions / APIGroupList, or the aggregated
//                                APIGroupDiscoveryList (apidiscovery.k8s.io v2 or v2beta1)
//                                when Accept asks for it; aggregated replies carry an ETag
//                                and answer a matching If-None-Match with 304
//   /api/v1, /apis/<g>/<v>       APIResourceList
//   /apis/<g>                    APIGroup
//   /openapi/v3                  the index: {"paths":{"api/v1":{"serverRelativeURL":...}}}
//   /openapi/v3/<gv>?hash=H      one group version's OpenAPI v3 document (JSON only);
//                                a stale hash redirects (301) to the current one
//   /openapi/v2                  404: not served (kubectl 1.32 does not need it, see
//                                docs/discovery.md)
// Any other path under these prefixes is a 404; paths outside them (/api/v1/pods, ...)
// return nullopt so that the caller routes them to resources.
//
// A Documents is immutable after Build; Serve may be called from any thread.
#ifndef KSLICE_ENVTEST_DISCOVERY_DOCUMENTS_H_
#define KSLICE_ENVTEST_DISCOVERY_DOCUMENTS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envtest/discovery/openapi.h"
#include "envtest/discovery/resource_info.h"
#include "envtest/storage/resource.h"

namespace kslice::envtest::discovery {

// The /version document (k8s.io/apimachinery/pkg/version.Info). Empty strings are
// left out for the omitempty fields (emulation*, minCompatibility*).
struct VersionInfo {
  std::string major = "1";
  std::string minor = "34";
  std::string emulation_major = "1";
  std::string emulation_minor = "34";
  std::string min_compatibility_major = "1";
  std::string min_compatibility_minor = "33";
  std::string git_version = "v1.34.0-kslice";
  std::string git_commit = "0000000000000000000000000000000000000000";
  std::string git_tree_state = "clean";
  std::string build_date = "1970-01-01T00:00:00Z";
  std::string go_version = "go1.24.0";
  std::string compiler = "gc";
  std::string platform = "linux/amd64";
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type, ETag, ...
  std::string body;
};

// Media types of the aggregated discovery documents.
inline constexpr absl::string_view kAggregatedV2ContentType =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
inline constexpr absl::string_view kAggregatedV2Beta1ContentType =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

class Documents {
 public:
  struct Options {
    VersionInfo version;
    // serverAddressByClientCIDRs of /api ("127.0.0.1:6443" -> one entry for
    // 0.0.0.0/0); empty writes null.
    std::string server_address;
    // Discovery facts that replace InfoFor()'s for the given resources (short names
    // for a resource registered later, fewer verbs, ...).
    absl::flat_hash_map<storage::ResourceKey, ResourceInfo> resource_info;
  };

  // Builds every document. Fails (InvalidArgument) when a resource has a malformed
  // api_version, no prototype, or its kind cannot be described.
  static absl::StatusOr<std::unique_ptr<Documents>> Build(const storage::ResourceRegistry& registry,
                                                          Options options);

  // The reply for a GET of `path` (without query) with the raw query string, Accept
  // and If-None-Match headers; nullopt when the path is not a discovery or OpenAPI
  // path.
  std::optional<Response> Serve(absl::string_view path, absl::string_view query,
                                absl::string_view accept, absl::string_view if_none_match) const;

  // The hash in the index's serverRelativeURL of one OpenAPI v3 document
  // ("api/v1", "apis/coordination.k8s.io/v1"): upper-case hex SHA-512 of its JSON;
  // "" when there is no such document.
  std::string OpenApiV3Hash(absl::string_view group_version_path) const;

 private:
  struct Entity {
    std::string content_type;
    std::string body;
    std::string etag;  // unquoted
  };

  Documents() = default;

  std::optional<Response> ServeOpenApi(absl::string_view rest, absl::string_view query,
                                       absl::string_view accept,
                                       absl::string_view if_none_match) const;

  Entity version_;
  Entity api_legacy_;
  Entity apis_legacy_;
  Entity api_v2_, api_v2beta1_;
  Entity apis_v2_, apis_v2beta1_;
  std::map<std::string, Entity, std::less<>> resource_lists_;  // "api/v1", "apis/g/v"
  std::map<std::string, Entity, std::less<>> groups_;          // "apis/g"
  Entity openapi_index_;
  std::map<std::string, Entity, std::less<>> openapi_v3_;  // "api/v1", "apis/g/v"
};

}  // namespace kslice::envtest::discovery

#endif  // KSLICE_ENVTEST_DISCOVERY_DOCUMENTS_H_
