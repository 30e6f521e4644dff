// Where Kubernetes resources live on the API server's HTTP surface.
//
//   const ResourceInfo* pods = ResourceFor(Pod::descriptor());  // "", v1, pods, namespaced
//   ResourcePath(*pods, "default", "web", "status")
//       == "/api/v1/namespaces/default/pods/web/status"
//   QueryString(options) == "?labelSelector=app%3Dweb&limit=100"
#ifndef KSLICE_CLIENT_REST_RESOURCE_H_
#define KSLICE_CLIENT_REST_RESOURCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace kslice::client {

struct ResourceInfo {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "pods"
  std::string kind;      // "Pod"
  bool namespaced = true;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
};

// The resource of a built-in kind (every object kind in the Scheme), or nullptr.
// Plurals follow upstream's names (endpoints stays endpoints); cluster-scoped kinds
// (Node, Namespace, PersistentVolume, ComponentStatus) are marked so.
const ResourceInfo* ResourceFor(const google::protobuf::Descriptor* descriptor);
// The same by apiVersion and kind (the object kind, not the List).
const ResourceInfo* ResourceFor(absl::string_view api_version, absl::string_view kind);

// "/api/v1[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]" or
// "/apis/{group}/{version}/...". Empty namespace on a namespaced resource means all
// namespaces. Path segments are percent-encoded.
std::string ResourcePath(const ResourceInfo& resource, absl::string_view ns,
                         absl::string_view name = "", absl::string_view subresource = "");

// Query parameters of list, watch, get and delete-collection calls, named as upstream.
struct ListOptions {
  std::string label_selector{};
  std::string field_selector{};
  int64_t limit = 0;  // 0: no paging
  std::string continue_token{};
  std::string resource_version{};        // "", "0" or a version
  std::string resource_version_match{};  // "", "NotOlderThan", "Exact"
  std::optional<int64_t> timeout_seconds{};
  bool watch = false;
  bool allow_watch_bookmarks = false;
  std::optional<bool> send_initial_events{};
};

// "?k=v&..." (empty when there is nothing to send); values percent-encoded.
std::string QueryString(const ListOptions& options);
// Percent-encodes everything but RFC 3986 unreserved characters.
std::string PercentEncode(absl::string_view s);

}  // namespace kslice::client

#endif  // KSLICE_CLIENT_REST_RESOURCE_H_
