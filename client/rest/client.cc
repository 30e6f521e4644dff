#include "client/rest/client.h"

#include <algorithm>

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/codec/codec.h"
#include "api/scheme/scheme.h"
#include "client/errors/errors.h"
#include "client/watch/decoder.h"

namespace kslice::client {

namespace {

using google::protobuf::Message;

const api::meta::v1::ObjectMeta* MetaOf(const Message& object) {
  const auto* d = object.GetDescriptor();
  if (d->field_count() == 0 || d->field(0)->name() != "metadata" ||
      d->field(0)->message_type() != api::meta::v1::ObjectMeta::descriptor()) {
    return nullptr;
  }
  return static_cast<const api::meta::v1::ObjectMeta*>(
      &object.GetReflection()->GetMessage(object, d->field(0)));
}

}  // namespace

absl::string_view PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "";
}

RestClient::RestClient(RestConfig config, ClientOptions options)
    : config_(std::move(config)),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : &flowcontrol::Clock::Real()) {}

absl::StatusOr<std::unique_ptr<RestClient>> RestClient::Create(const RestConfig& config,
                                                              ClientOptions options) {
  if (absl::Status s = config.Validate(); !s.ok()) return s;
  absl::StatusOr<ServerUrl> server = config.Server();
  if (!server.ok()) return server.status();
  std::unique_ptr<RestClient> client(new RestClient(config, options));
  client->credentials_ = std::make_unique<Credentials>(config);
  client->limiter_ = flowcontrol::TokenBucketRateLimiter::Create(config.qps, config.burst,
                                                                 client->clock_);
  TransportOptions t;
  t.max_response_bytes = options.max_response_bytes;
  t.tls.ca_pem = config.tls.ca_data;
  t.tls.insecure_skip_verify = config.tls.insecure_skip_tls_verify;
  t.tls.server_name = config.tls.server_name;
  absl::StatusOr<ClientCertificate> cert = client->credentials_->CurrentClientCertificate();
  if (!cert.ok()) return cert.status();
  t.tls.cert_pem = cert->cert_pem;
  t.tls.key_pem = cert->key_pem;
  t.proxy_url = config.proxy_url;
  t.user_agent = config.user_agent;
  client->transport_options_ = t;
  client->transport_cert_ = t.tls.cert_pem;
  absl::StatusOr<std::unique_ptr<Transport>> transport = Transport::Create(std::move(t));
  if (!transport.ok()) return transport.status();
  client->transport_ = *std::move(transport);
  return client;
}

absl::StatusOr<std::shared_ptr<Transport>> RestClient::CurrentTransport() {
  if (!config_.exec.has_value() || !config_.tls.client_cert_data.empty()) {
    std::lock_guard<std::mutex> l(transport_mu_);
    return transport_;
  }
  absl::StatusOr<ClientCertificate> cert = credentials_->CurrentClientCertificate();
  if (!cert.ok()) return cert.status();
  std::lock_guard<std::mutex> l(transport_mu_);
  if (cert->cert_pem == transport_cert_) return transport_;
  TransportOptions t = transport_options_;
  t.tls.cert_pem = cert->cert_pem;
  t.tls.key_pem = cert->key_pem;
  absl::StatusOr<std::unique_ptr<Transport>> fresh = Transport::Create(std::move(t));
  if (!fresh.ok()) return fresh.status();
  transport_ = *std::move(fresh);
  transport_cert_ = cert->cert_pem;
  return transport_;
}

std::string RestClient::Accept() const {
  return options_.prefer_json ? "application/json"
                              : "application/vnd.kubernetes.protobuf, application/json";
}

absl::StatusOr<Response> RestClient::Send(absl::string_view method,
                                          absl::string_view path_and_query, std::string body,
                                          absl::string_view content_type,
                                          const ResourceInfo* resource, absl::string_view name,
                                          absl::string_view accept) {
  absl::StatusOr<ServerUrl> server = config_.Server();
  if (!server.ok()) return server.status();
  Request request;
  request.method = std::string(method);
  request.url = absl::StrCat(server->String(), path_and_query);
  request.body = std::move(body);
  if (config_.timeout > absl::ZeroDuration()) request.timeout = config_.timeout;
  request.headers.emplace_back("Accept", accept.empty() ? Accept() : std::string(accept));
  if (!content_type.empty()) request.headers.emplace_back("Content-Type", std::string(content_type));

  flowcontrol::RequestRetry retry(flowcontrol::RequestKind::kRequest, request.method,
                                  options_.max_retries);
  bool reauthenticated = false;
  while (true) {
    if (absl::Status s = limiter_->Wait(); !s.ok()) return s;
    absl::StatusOr<std::string> auth = credentials_->AuthorizationHeader();
    if (!auth.ok()) return auth.status();
    Request attempt = request;
    if (!auth->empty()) attempt.headers.emplace_back("Authorization", *auth);
    absl::StatusOr<std::shared_ptr<Transport>> transport = CurrentTransport();
    if (!transport.ok()) return transport.status();
    absl::StatusOr<Response> response = (*transport)->Do(attempt);
    if (!response.ok()) {
      // Only GETs are retried after a transport failure, as client-go does.
      std::optional<absl::Duration> wait =
          absl::IsUnavailable(response.status())
              ? retry.OnTransportError(flowcontrol::TransportError::kConnectionReset)
              : std::nullopt;
      if (!wait) return response.status();
      clock_->SleepUntil(clock_->Now() + *wait);
      continue;
    }
    if (response->status == 401 && credentials_->UsesExecPlugin() && !reauthenticated) {
      credentials_->Invalidate();  // the plugin's credential was refused: run it again
      reauthenticated = true;
      continue;
    }
    if (response->status >= 200 && response->status < 300) return response;
    if (std::optional<absl::Duration> wait =
            retry.OnResponse(response->status, response->Header("retry-after"))) {
      clock_->SleepUntil(clock_->Now() + *wait);
      continue;
    }
    ResponseInfo info;
    info.content_type = response->Header("content-type");
    info.retry_after = response->Header("retry-after");
    info.verb = request.method;
    if (resource != nullptr) {
      info.group = resource->group;
      info.resource = resource->resource;
    }
    info.name = std::string(name);
    return ToStatus(StatusError::FromResponse(response->status, response->body, info));
  }
}

absl::StatusOr<std::unique_ptr<Message>> RestClient::DecodeBody(const Response& response) {
  absl::StatusOr<codec::Format> format =
      codec::FormatForContentType(response.Header("content-type"));
  if (!format.ok()) {
    return absl::InternalError(absl::StrCat("server answered with ", format.status().message()));
  }
  // The body was already bounded by max_response_bytes; the codec's own default limit
  // (64 MiB) would refuse large lists (100,000 pods is ~120 MB).
  codec::DecodeOptions decode;
  decode.limits.max_bytes = std::max<size_t>(decode.limits.max_bytes, options_.max_response_bytes);
  return codec::Decode(response.body, *format, decode);
}

absl::StatusOr<std::string> RestClient::EncodeBody(const Message& object,
                                                   std::string* content_type) {
  const codec::Format format = options_.prefer_json ? codec::Format::kJson : codec::Format::kProtobuf;
  *content_type = std::string(codec::ContentType(format));
  return codec::Encode(object, format);
}

absl::StatusOr<std::unique_ptr<Message>> RestClient::Get(const ResourceInfo& resource,
                                                         absl::string_view ns,
                                                         absl::string_view name,
                                                         absl::string_view subresource) {
  if (name.empty()) return absl::InvalidArgumentError("get needs a name");
  auto response =
      Send("GET", ResourcePath(resource, ns, name, subresource), "", "", &resource, name);
  if (!response.ok()) return response.status();
  return DecodeBody(*response);
}

absl::StatusOr<std::unique_ptr<Message>> RestClient::List(const ResourceInfo& resource,
                                                          absl::string_view ns,
                                                          const ListOptions& options) {
  ListOptions o = options;
  o.watch = false;
  auto response = Send("GET", ResourcePath(resource, ns) + QueryString(o), "", "", &resource);
  if (!response.ok()) return response.status();
  return DecodeBody(*response);
}

absl::StatusOr<std::unique_ptr<Message>> RestClient::Create(const Message& object) {
  const ResourceInfo* resource = ResourceFor(object.GetDescriptor());
  const api::meta::v1::ObjectMeta* meta = MetaOf(object);
  if (resource == nullptr || meta == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(object.GetDescriptor()->full_name(), " is not a known object kind"));
  }
  std::string content_type;
  absl::StatusOr<std::string> body = EncodeBody(object, &content_type);
  if (!body.ok()) return body.status();
  auto response = Send("POST", ResourcePath(*resource, meta->namespace_()), *std::move(body),
                       content_type, resource, meta->name());
  if (!response.ok()) return response.status();
  return DecodeBody(*response);
}

absl::StatusOr<std::unique_ptr<Message>> RestClient::Update(const Message& object,
                                                            absl::string_view subresource) {
  const ResourceInfo* resource = ResourceFor(object.GetDescriptor());
  const api::meta::v1::ObjectMeta* meta = MetaOf(object);
  if (resource == nullptr || meta == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(object.GetDescriptor()->full_name(), " is not a known object kind"));
  }
  if (meta->name().empty()) return absl::InvalidArgumentError("update needs metadata.name");
  std::string content_type;
  absl::StatusOr<std::string> body = EncodeBody(object, &content_type);
  if (!body.ok()) return body.status();
  auto response =
      Send("PUT", ResourcePath(*resource, meta->namespace_(), meta->name(), subresource),
           *std::move(body), content_type, resource, meta->name());
  if (!response.ok()) return response.status();
  return DecodeBody(*response);
}

absl::StatusOr<std::unique_ptr<Message>> RestClient::Patch(
    const ResourceInfo& resource, absl::string_view ns, absl::string_view name, PatchType type,
    absl::string_view patch, const PatchOptions& options, absl::string_view subresource) {
  if (type == PatchType::kApply && options.field_manager.empty()) {
    return absl::InvalidArgumentError("server-side apply needs a field manager");
  }
  std::string query;
  if (!options.field_manager.empty()) {
    absl::StrAppend(&query, "?fieldManager=", PercentEncode(options.field_manager));
  }
  if (options.force) absl::StrAppend(&query, query.empty() ? "?" : "&", "force=true");
  auto response = Send("PATCH", ResourcePath(resource, ns, name, subresource) + query,
                       std::string(patch), PatchContentType(type), &resource, name);
  if (!response.ok()) return response.status();
  return DecodeBody(*response);
}

absl::Status RestClient::Delete(const ResourceInfo& resource, absl::string_view ns,
                                absl::string_view name,
                                const api::meta::v1::DeleteOptions* options) {
  std::string body, content_type;
  if (options != nullptr) {
    absl::StatusOr<std::string> encoded = codec::Encode(*options, codec::Format::kJson);
    if (!encoded.ok()) return encoded.status();
    body = *std::move(encoded);
    content_type = "application/json";
  }
  return Send("DELETE", ResourcePath(resource, ns, name), std::move(body), content_type,
              &resource, name)
      .status();
}

absl::Status RestClient::DeleteCollection(const ResourceInfo& resource, absl::string_view ns,
                                          const ListOptions& list_options,
                                          const api::meta::v1::DeleteOptions* options) {
  std::string body, content_type;
  if (options != nullptr) {
    absl::StatusOr<std::string> encoded = codec::Encode(*options, codec::Format::kJson);
    if (!encoded.ok()) return encoded.status();
    body = *std::move(encoded);
    content_type = "application/json";
  }
  ListOptions o = list_options;
  o.watch = false;
  return Send("DELETE", ResourcePath(resource, ns) + QueryString(o), std::move(body),
              content_type, &resource)
      .status();
}

absl::Status RestClient::Watch(const ResourceInfo& resource, absl::string_view ns,
                               ListOptions options,
                               const std::function<absl::Status(watch::Event)>& on_event,
                               const CancelToken* cancel) {
  options.watch = true;
  return WatchPath(ResourcePath(resource, ns) + QueryString(options), &resource,
                   /*dynamic=*/false, on_event, cancel);
}

absl::Status RestClient::WatchPath(absl::string_view path_and_query, const ResourceInfo* resource,
                                   bool dynamic,
                                   const std::function<absl::Status(watch::Event)>& on_event,
                                   const CancelToken* cancel) {
  absl::StatusOr<ServerUrl> server = config_.Server();
  if (!server.ok()) return server.status();
  if (absl::Status s = limiter_->Wait(); !s.ok()) return s;
  absl::StatusOr<std::string> auth = credentials_->AuthorizationHeader();
  if (!auth.ok()) return auth.status();
  Request request;
  request.url = absl::StrCat(server->String(), path_and_query);
  request.headers.emplace_back("Accept", dynamic ? std::string("application/json") : Accept());
  if (!auth->empty()) request.headers.emplace_back("Authorization", *auth);

  std::unique_ptr<watch::Decoder> decoder;
  std::string error_body;
  std::vector<watch::Event> events;
  absl::StatusOr<std::shared_ptr<Transport>> transport = CurrentTransport();
  if (!transport.ok()) return transport.status();
  absl::StatusOr<Response> head = (*transport)->Stream(
      request,
      [&](absl::string_view chunk) -> absl::Status {
        if (decoder == nullptr) {  // an error answer: keep its body for the Status
          if (error_body.size() < (1u << 20)) error_body.append(chunk.data(), chunk.size());
          return absl::OkStatus();
        }
        events.clear();
        absl::Status fed = decoder->Feed(chunk, &events);
        for (watch::Event& e : events) {
          if (absl::Status s = on_event(std::move(e)); !s.ok()) return s;
        }
        return fed;
      },
      cancel,
      [&](const Response& response) -> absl::Status {
        if (response.status < 200 || response.status >= 300) return absl::OkStatus();
        watch::DecoderOptions options;
        if (dynamic) options.mode = watch::ObjectMode::kDynamic;
        auto d = watch::NewDecoderForContentType(response.Header("content-type"), options);
        if (!d.ok()) return d.status();
        decoder = *std::move(d);
        return absl::OkStatus();
      });
  if (!head.ok()) return head.status();
  if (decoder == nullptr) {
    ResponseInfo info;
    info.content_type = head->Header("content-type");
    info.verb = "GET";
    if (resource != nullptr) {
      info.group = resource->group;
      info.resource = resource->resource;
    }
    return ToStatus(StatusError::FromResponse(head->status, error_body, info));
  }
  return decoder->Finish();
}

}  // namespace kslice::client
