// What an API request is about, from its method and URL, as kube-apiserver's
// RequestInfoFactory reads it (apiserver pkg/endpoints/request/requestinfo.go):
//
//   /api/v1/namespaces/default/pods/web/status   -> get pods "web" in "default", sub "status"
//   /apis/discovery.k8s.io/v1/endpointslices     -> list (or watch) across namespaces
//   /api/v1/watch/namespaces/default/pods        -> watch (deprecated prefix)
//   /api/v1/namespaces/default                   -> the namespace object "default"
//
// Paths outside /api and /apis, and the discovery documents themselves (/api, /apis,
// /api/v1, /apis/<group>[/<version>]), are non-resource requests.
#ifndef KSLICE_ENVTEST_APISERVER_REQUEST_INFO_H_
#define KSLICE_ENVTEST_APISERVER_REQUEST_INFO_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kslice::envtest::apiserver {

// Query parameters, decoded; a repeated key keeps its first value (as Go's Get does).
class Query {
 public:
  // Parses "a=1&b=x%20y+z". Malformed escapes are an InvalidArgument.
  static absl::StatusOr<Query> Parse(absl::string_view raw);
  bool Has(absl::string_view key) const;
  // "" when absent.
  std::string Get(absl::string_view key) const;
  std::optional<std::string> Find(absl::string_view key) const;
  const std::multimap<std::string, std::string>& all() const { return values_; }

 private:
  std::multimap<std::string, std::string> values_;
};

// Percent-decoding of a path segment or query component ('+' is a space only in
// queries). InvalidArgument on a bad escape.
absl::StatusOr<std::string> PercentDecode(absl::string_view s, bool plus_is_space);

struct RequestInfo {
  bool resource_request = false;
  // "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection";
  // for non-resource requests the lower-cased HTTP method.
  std::string verb;
  std::string api_prefix;  // "api" or "apis"
  std::string group;       // "" for the core group
  std::string version;
  std::string ns;
  std::string resource;
  std::string subresource;
  std::string name;
  std::vector<std::string> parts;  // decoded path segments after the version
  std::string path;                // the decoded path
};

// `path` is the URL path without the query; `query` the parsed query (watch=... makes
// a GET a watch). Errors: a bad percent escape (InvalidArgument).
absl::StatusOr<RequestInfo> ParseRequestInfo(absl::string_view method, absl::string_view path,
                                             const Query& query);

}  // namespace kslice::envtest::apiserver

#endif  // KSLICE_ENVTEST_APISERVER_REQUEST_INFO_H_
