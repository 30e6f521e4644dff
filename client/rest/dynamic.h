// Clients for what the typed client does not know: any group/version/resource as JSON
// (custom resources), and the API server's discovery documents.
//
//   DynamicClient dyn(client);  // not owned
//   GroupVersionResource widgets{"example.com", "v1", "widgets", /*namespaced=*/true};
//   absl::StatusOr<codec::Node> w = dyn.Get(widgets, "default", "w1");
//
//   DiscoveryClient disco(client);
//   absl::StatusOr<api::meta::v1::APIGroupList> groups = disco.Groups();
#ifndef KSLICE_CLIENT_REST_DYNAMIC_H_
#define KSLICE_CLIENT_REST_DYNAMIC_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/codec/node.h"
#include "api/meta/v1/meta.pb.h"
#include "client/rest/client.h"

namespace kslice::client {

// A resource named by its coordinates alone.
struct GroupVersionResource {
  std::string group;
  std::string version;
  std::string resource;
  bool namespaced = true;
};

class DynamicClient {
 public:
  explicit DynamicClient(RestClient& client) : client_(client) {}  // not owned

  absl::StatusOr<codec::Node> Get(const GroupVersionResource& r, absl::string_view ns,
                                  absl::string_view name, absl::string_view subresource = "");
  absl::StatusOr<codec::Node> List(const GroupVersionResource& r, absl::string_view ns,
                                   const ListOptions& options = {});
  // The object's metadata.namespace is used when ns is empty.
  absl::StatusOr<codec::Node> Create(const GroupVersionResource& r, absl::string_view ns,
                                     const codec::Node& object);
  absl::StatusOr<codec::Node> Update(const GroupVersionResource& r, absl::string_view ns,
                                     const codec::Node& object, absl::string_view subresource = "");
  absl::StatusOr<codec::Node> Patch(const GroupVersionResource& r, absl::string_view ns,
                                    absl::string_view name, PatchType type,
                                    absl::string_view patch, const PatchOptions& options = {});
  absl::Status Delete(const GroupVersionResource& r, absl::string_view ns, absl::string_view name,
                      const api::meta::v1::DeleteOptions* options = nullptr);
  // Events carry their object as Event::node.
  absl::Status Watch(const GroupVersionResource& r, absl::string_view ns, ListOptions options,
                     const std::function<absl::Status(watch::Event)>& on_event,
                     const CancelToken* cancel = nullptr);

 private:
  absl::StatusOr<codec::Node> Call(absl::string_view method, const std::string& path,
                                   std::string body, absl::string_view content_type,
                                   const GroupVersionResource& r, absl::string_view name);
  RestClient& client_;
};

class DiscoveryClient {
 public:
  explicit DiscoveryClient(RestClient& client) : client_(client) {}  // not owned

  absl::StatusOr<api::meta::v1::APIVersions> CoreVersions();   // GET /api
  absl::StatusOr<api::meta::v1::APIGroupList> Groups();        // GET /apis
  // GET /api/v1 or /apis/{group}/{version}.
  absl::StatusOr<api::meta::v1::APIResourceList> Resources(absl::string_view group_version);

 private:
  RestClient& client_;
};

// The resource path of a GroupVersionResource (as ResourcePath does for known kinds).
std::string DynamicPath(const GroupVersionResource& r, absl::string_view ns,
                        absl::string_view name = "", absl::string_view subresource = "");

}  // namespace kslice::client

#endif  // KSLICE_CLIENT_REST_DYNAMIC_H_
