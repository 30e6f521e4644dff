// The REST client: verbs against an API server for any built-in kind, with the
// configuration's credentials, client-side rate limiting, retries as client-go does
// them, content negotiation (protobuf by default, JSON when asked or answered) and
// watch streams decoded as they arrive.
//
//   auto config = kslice::client::LoadRestConfig();
//   auto client = kslice::client::RestClient::Create(*config);
//   const ResourceInfo& pods = *ResourceFor(Pod::descriptor());
//   auto list = (*client)->List(pods, "default", {.label_selector = "app=web"});
//   auto typed = Typed<Pod, PodList>(**client);
//   absl::StatusOr<Pod> pod = typed.Get("default", "web");
//
// Errors: an HTTP error answer is an absl::Status carrying the server's metav1.Status
// (client/errors: IsNotFound(s), IsConflict(s), ...); transport failures keep the
// transport's codes (kUnavailable, kDeadlineExceeded, kCancelled).
#ifndef KSLICE_CLIENT_REST_CLIENT_H_
#define KSLICE_CLIENT_REST_CLIENT_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/meta/v1/meta.pb.h"
#include "client/config/credentials.h"
#include "client/config/rest_config.h"
#include "client/flowcontrol/clock.h"
#include "client/flowcontrol/rate_limiter.h"
#include "client/flowcontrol/retry.h"
#include "client/rest/resource.h"
#include "client/transport/transport.h"
#include "client/watch/event.h"
#include "google/protobuf/message.h"

namespace kslice::client {

enum class PatchType { kJson, kMerge, kStrategicMerge, kApply };
// "application/json-patch+json", ..., "application/apply-patch+yaml".
absl::string_view PatchContentType(PatchType type);

struct PatchOptions {
  std::string field_manager{};  // required for kApply
  bool force = false;         // kApply: take ownership of conflicting fields
};

struct ClientOptions {
  // Send and accept JSON instead of protobuf.
  bool prefer_json = false;
  // Largest response body accepted (watch streams are unbounded). client-go has no
  // limit; a list of 100,000 realistic pods is ~300 MB of protobuf, so the default
  // leaves room for that and still refuses a runaway answer.
  size_t max_response_bytes = size_t{2} << 30;
  // Retries of 429/5xx answers with Retry-After, and of connection resets for GETs.
  int max_retries = flowcontrol::kDefaultMaxRetries;
  // Time source for rate limiting and retry waits (not owned); nullptr: the real clock.
  flowcontrol::Clock* clock = nullptr;
};

class RestClient {
 public:
  static absl::StatusOr<std::unique_ptr<RestClient>> Create(const RestConfig& config,
                                                           ClientOptions options = {});

  // The object named ns/name (ns ignored for cluster-scoped resources).
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Get(
      const ResourceInfo& resource, absl::string_view ns, absl::string_view name,
      absl::string_view subresource = "");

  // A list (PodList, ...) with one page when options.limit > 0; the next page's
  // token is in metadata.continue.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> List(const ResourceInfo& resource,
                                                                  absl::string_view ns,
                                                                  const ListOptions& options = {});

  // Creates `object` (a registered kind) in its metadata.namespace.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Create(
      const google::protobuf::Message& object);

  // Replaces `object` (metadata.resourceVersion makes it conditional); subresource
  // "status" updates only the status.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Update(
      const google::protobuf::Message& object, absl::string_view subresource = "");

  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Patch(
      const ResourceInfo& resource, absl::string_view ns, absl::string_view name, PatchType type,
      absl::string_view patch, const PatchOptions& options = {},
      absl::string_view subresource = "");

  absl::Status Delete(const ResourceInfo& resource, absl::string_view ns, absl::string_view name,
                      const api::meta::v1::DeleteOptions* options = nullptr);

  absl::Status DeleteCollection(const ResourceInfo& resource, absl::string_view ns,
                                const ListOptions& list_options,
                                const api::meta::v1::DeleteOptions* options = nullptr);

  // Opens a watch (options.watch is implied) and hands every event to on_event until
  // the server ends the stream (OkStatus), on_event returns an error (returned), the
  // stream breaks, or `cancel` fires (kCancelled). An ERROR event is delivered like
  // the others: callers see e.g. 410 Expired as a Status object and relist.
  absl::Status Watch(const ResourceInfo& resource, absl::string_view ns, ListOptions options,
                     const std::function<absl::Status(watch::Event)>& on_event,
                     const CancelToken* cancel = nullptr);

  // The lowest level: one request to `path_and_query` with authentication, rate
  // limiting and retries; a non-2xx answer is returned as an error Status.
  // `accept` overrides the negotiated Accept header.
  absl::StatusOr<Response> Send(absl::string_view method, absl::string_view path_and_query,
                                std::string body = "", absl::string_view content_type = "",
                                const ResourceInfo* resource = nullptr,
                                absl::string_view name = "", absl::string_view accept = "");

  // Opens a watch on `path_and_query` (watch=true included by the caller) and feeds
  // every event to on_event; the layer under Watch() and the dynamic client's watch.
  absl::Status WatchPath(absl::string_view path_and_query, const ResourceInfo* resource,
                         bool dynamic, const std::function<absl::Status(watch::Event)>& on_event,
                         const CancelToken* cancel);

  const RestConfig& config() const { return config_; }

 private:
  RestClient(RestConfig config, ClientOptions options);
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> DecodeBody(const Response& response);
  absl::StatusOr<std::string> EncodeBody(const google::protobuf::Message& object,
                                         std::string* content_type);
  std::string Accept() const;

  RestConfig config_;
  ClientOptions options_;
  flowcontrol::Clock* clock_;
  std::unique_ptr<Credentials> credentials_;
  std::unique_ptr<flowcontrol::RateLimiter> limiter_;
  // The transport for the current client certificate. An exec plugin's certificate
  // rotates when it expires: the next request builds a new transport with it (new
  // connections), while requests in flight finish on the old one.
  absl::StatusOr<std::shared_ptr<Transport>> CurrentTransport();
  TransportOptions transport_options_;
  std::mutex transport_mu_;
  std::shared_ptr<Transport> transport_;  // guarded by transport_mu_
  std::string transport_cert_;            // guarded by transport_mu_: its cert_pem
};

// Typed convenience over RestClient for one kind and its list type.
template <typename T, typename TList>
class Typed {
 public:
  explicit Typed(RestClient& client)  // not owned
      : client_(client), resource_(ResourceFor(T::descriptor())) {}

  absl::StatusOr<T> Get(absl::string_view ns, absl::string_view name) {
    return Cast<T>(client_.Get(*resource_, ns, name));
  }
  absl::StatusOr<TList> List(absl::string_view ns, const ListOptions& options = {}) {
    return Cast<TList>(client_.List(*resource_, ns, options));
  }
  absl::StatusOr<T> Create(const T& object) { return Cast<T>(client_.Create(object)); }
  absl::StatusOr<T> Update(const T& object) { return Cast<T>(client_.Update(object)); }
  absl::StatusOr<T> UpdateStatus(const T& object) {
    return Cast<T>(client_.Update(object, "status"));
  }
  absl::StatusOr<T> Patch(absl::string_view ns, absl::string_view name, PatchType type,
                          absl::string_view patch, const PatchOptions& options = {}) {
    return Cast<T>(client_.Patch(*resource_, ns, name, type, patch, options));
  }
  absl::Status Delete(absl::string_view ns, absl::string_view name,
                      const api::meta::v1::DeleteOptions* options = nullptr) {
    return client_.Delete(*resource_, ns, name, options);
  }

 private:
  template <typename U>
  static absl::StatusOr<U> Cast(absl::StatusOr<std::unique_ptr<google::protobuf::Message>> m) {
    if (!m.ok()) return m.status();
    if ((*m)->GetDescriptor() != U::descriptor()) {
      return absl::InternalError("server answered with another kind: " +
                                 (*m)->GetDescriptor()->full_name());
    }
    return std::move(static_cast<U&>(**m));
  }

  RestClient& client_;
  const ResourceInfo* resource_;
};

}  // namespace kslice::client

#endif  // KSLICE_CLIENT_REST_CLIENT_H_
