// ListerWatcher: how a Reflector reads one resource from the API server (client-go's
// cache.ListerWatcher). Two implementations: RestListerWatcher for every built-in kind
// (protobuf messages such as api::core::v1::Pod) and DynamicListerWatcher for any
// group/version/resource, whose objects become DynamicObject messages.
//
//   auto lw = RestListerWatcher::ForType(*client, Pod::descriptor(), "default",
//                                        [](client::ListOptions& o) { o.label_selector = "app=web"; });
//   absl::StatusOr<ListResult> page = (*lw)->List({.limit = 500});
//
// Objects are handed over as mutable, uniquely owned messages, so a transform can edit
// them in place before they become shared, immutable cache objects.
#ifndef KSLICE_INFORMERS_LISTER_WATCHER_H_
#define KSLICE_INFORMERS_LISTER_WATCHER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/codec/node.h"
#include "client/rest/client.h"
#include "client/rest/dynamic.h"
#include "client/rest/resource.h"
#include "client/watch/event.h"
#include "google/protobuf/message.h"
#include "informers/dynamic/dynamic_object.pb.h"

namespace kslice::informers {

// One page of a LIST.
struct ListResult {
  std::vector<std::unique_ptr<google::protobuf::Message>> items;
  std::string resource_version;  // the list's metadata.resourceVersion
  std::string continue_token;    // metadata.continue: "" on the last page
};

// One watch event. ERROR events carry the server's Status converted with
// client::ToStatus in `error` (so client::IsGoneOrExpired(error) etc. work) and no
// object; BOOKMARK events carry an object with only metadata (resourceVersion and
// possibly the k8s.io/initial-events-end annotation).
struct WatchEvent {
  client::watch::EventType type = client::watch::EventType::kAdded;
  std::unique_ptr<google::protobuf::Message> object;
  absl::Status error;
};

// Edits ListOptions before every list and watch (selectors, ...): client-go's
// TweakListOptionsFunc.
using TweakListOptionsFunc = std::function<void(client::ListOptions&)>;

class ListerWatcher {
 public:
  virtual ~ListerWatcher() = default;

  // One LIST request with exactly `options` (paging is the caller's business).
  virtual absl::StatusOr<ListResult> List(const client::ListOptions& options) = 0;

  // Opens a watch with `options` (watch=true implied) and hands every event to
  // on_event until the server ends the stream (OkStatus), on_event fails (its error
  // is returned), the connection breaks (the transport's error), or `cancel` fires
  // (kCancelled). Blocks; on_event may run on a transport thread.
  virtual absl::Status Watch(const client::ListOptions& options,
                             const std::function<absl::Status(WatchEvent)>& on_event,
                             const client::CancelToken* cancel) = 0;

  // Whether the server side may serve a streaming list (sendInitialEvents=true).
  // The reflector still falls back to LIST when the server refuses it.
  virtual bool SupportsWatchList() const { return true; }
};

// A ListerWatcher for a built-in kind through the typed RestClient.
class RestListerWatcher : public ListerWatcher {
 public:
  // `client` is not owned and must outlive this. `ns` "" means all namespaces (and is
  // ignored for cluster-scoped resources).
  RestListerWatcher(client::RestClient& client, const client::ResourceInfo& resource,
                    std::string ns = "", TweakListOptionsFunc tweak = nullptr);

  // By message type; NotFound when the Scheme has no resource for it.
  static absl::StatusOr<std::unique_ptr<RestListerWatcher>> ForType(
      client::RestClient& client, const google::protobuf::Descriptor* type, std::string ns = "",
      TweakListOptionsFunc tweak = nullptr);

  absl::StatusOr<ListResult> List(const client::ListOptions& options) override;
  absl::Status Watch(const client::ListOptions& options,
                     const std::function<absl::Status(WatchEvent)>& on_event,
                     const client::CancelToken* cancel) override;

  const client::ResourceInfo& resource() const { return resource_; }

 private:
  client::ListOptions Tweaked(const client::ListOptions& options) const;

  client::RestClient& client_;  // not owned
  const client::ResourceInfo resource_;
  const std::string ns_;
  const TweakListOptionsFunc tweak_;
};

// A ListerWatcher for any resource through the DynamicClient (JSON). Objects are
// DynamicObject messages (see dynamic/dynamic_object.proto and ToNode below).
class DynamicListerWatcher : public ListerWatcher {
 public:
  // `client` is not owned and must outlive this.
  DynamicListerWatcher(client::RestClient& client, client::GroupVersionResource resource,
                       std::string ns = "", TweakListOptionsFunc tweak = nullptr);

  absl::StatusOr<ListResult> List(const client::ListOptions& options) override;
  absl::Status Watch(const client::ListOptions& options,
                     const std::function<absl::Status(WatchEvent)>& on_event,
                     const client::CancelToken* cancel) override;

 private:
  client::ListOptions Tweaked(const client::ListOptions& options) const;

  client::RestClient& client_;  // not owned
  client::DynamicClient dynamic_;
  const client::GroupVersionResource resource_;
  const std::string ns_;
  const TweakListOptionsFunc tweak_;
};

// A DynamicObject from a JSON object (apiVersion, kind, metadata read from it).
// InvalidArgument when `node` is not an object or its metadata does not decode.
absl::StatusOr<std::unique_ptr<DynamicObject>> MakeDynamicObject(const codec::Node& node);

// The JSON tree of a cached DynamicObject (parses its json field).
absl::StatusOr<codec::Node> ToNode(const DynamicObject& object);

}  // namespace kslice::informers

#endif  // KSLICE_INFORMERS_LISTER_WATCHER_H_
