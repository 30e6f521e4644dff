#include "client/rest/dynamic.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "api/codec/codec.h"

namespace kslice::client {

namespace {

ResourceInfo AsInfo(const GroupVersionResource& r) {
  ResourceInfo info;
  info.group = r.group;
  info.version = r.version;
  info.resource = r.resource;
  info.namespaced = r.namespaced;
  return info;
}

std::string NamespaceOf(const codec::Node& object) {
  const codec::Node* meta = object.Find("metadata");
  const codec::Node* ns = meta != nullptr ? meta->Find("namespace") : nullptr;
  return ns != nullptr && ns->is_string() ? ns->text : "";
}

std::string NameOf(const codec::Node& object) {
  const codec::Node* meta = object.Find("metadata");
  const codec::Node* name = meta != nullptr ? meta->Find("name") : nullptr;
  return name != nullptr && name->is_string() ? name->text : "";
}

template <typename T>
absl::StatusOr<T> GetDocument(RestClient& client, const std::string& path) {
  auto response = client.Send("GET", path, "", "", nullptr, "", "application/json");
  if (!response.ok()) return response.status();
  absl::StatusOr<codec::Format> format =
      codec::FormatForContentType(response->Header("content-type"));
  if (!format.ok()) return format.status();
  return codec::DecodeAs<T>(response->body, *format);
}

}  // namespace

std::string DynamicPath(const GroupVersionResource& r, absl::string_view ns,
                        absl::string_view name, absl::string_view subresource) {
  return ResourcePath(AsInfo(r), ns, name, subresource);
}

absl::StatusOr<codec::Node> DynamicClient::Call(absl::string_view method, const std::string& path,
                                                std::string body, absl::string_view content_type,
                                                const GroupVersionResource& r,
                                                absl::string_view name) {
  ResourceInfo info = AsInfo(r);
  auto response =
      client_.Send(method, path, std::move(body), content_type, &info, name, "application/json");
  if (!response.ok()) return response.status();
  return codec::ParseJson(response->body);
}

absl::StatusOr<codec::Node> DynamicClient::Get(const GroupVersionResource& r, absl::string_view ns,
                                               absl::string_view name,
                                               absl::string_view subresource) {
  return Call("GET", DynamicPath(r, ns, name, subresource), "", "", r, name);
}

absl::StatusOr<codec::Node> DynamicClient::List(const GroupVersionResource& r,
                                                absl::string_view ns, const ListOptions& options) {
  ListOptions o = options;
  o.watch = false;
  return Call("GET", DynamicPath(r, ns) + QueryString(o), "", "", r, "");
}

absl::StatusOr<codec::Node> DynamicClient::Create(const GroupVersionResource& r,
                                                  absl::string_view ns,
                                                  const codec::Node& object) {
  absl::StatusOr<std::string> body = codec::WriteJson(object);
  if (!body.ok()) return body.status();
  std::string where = ns.empty() ? NamespaceOf(object) : std::string(ns);
  return Call("POST", DynamicPath(r, where), *std::move(body), "application/json", r,
              NameOf(object));
}

absl::StatusOr<codec::Node> DynamicClient::Update(const GroupVersionResource& r,
                                                  absl::string_view ns, const codec::Node& object,
                                                  absl::string_view subresource) {
  std::string name = NameOf(object);
  if (name.empty()) return absl::InvalidArgumentError("update needs metadata.name");
  absl::StatusOr<std::string> body = codec::WriteJson(object);
  if (!body.ok()) return body.status();
  std::string where = ns.empty() ? NamespaceOf(object) : std::string(ns);
  return Call("PUT", DynamicPath(r, where, name, subresource), *std::move(body),
              "application/json", r, name);
}

absl::StatusOr<codec::Node> DynamicClient::Patch(const GroupVersionResource& r,
                                                 absl::string_view ns, absl::string_view name,
                                                 PatchType type, absl::string_view patch,
                                                 const PatchOptions& options) {
  if (type == PatchType::kApply && options.field_manager.empty()) {
    return absl::InvalidArgumentError("server-side apply needs a field manager");
  }
  std::string query;
  if (!options.field_manager.empty()) {
    absl::StrAppend(&query, "?fieldManager=", PercentEncode(options.field_manager));
  }
  if (options.force) absl::StrAppend(&query, query.empty() ? "?" : "&", "force=true");
  return Call("PATCH", DynamicPath(r, ns, name) + query, std::string(patch),
              PatchContentType(type), r, name);
}

absl::Status DynamicClient::Delete(const GroupVersionResource& r, absl::string_view ns,
                                   absl::string_view name,
                                   const api::meta::v1::DeleteOptions* options) {
  std::string body, content_type;
  if (options != nullptr) {
    absl::StatusOr<std::string> encoded = codec::Encode(*options, codec::Format::kJson);
    if (!encoded.ok()) return encoded.status();
    body = *std::move(encoded);
    content_type = "application/json";
  }
  ResourceInfo info = AsInfo(r);
  return client_.Send("DELETE", DynamicPath(r, ns, name), std::move(body), content_type, &info,
                      name, "application/json")
      .status();
}

absl::Status DynamicClient::Watch(const GroupVersionResource& r, absl::string_view ns,
                                  ListOptions options,
                                  const std::function<absl::Status(watch::Event)>& on_event,
                                  const CancelToken* cancel) {
  options.watch = true;
  ResourceInfo info = AsInfo(r);
  return client_.WatchPath(DynamicPath(r, ns) + QueryString(options), &info, /*dynamic=*/true,
                           on_event, cancel);
}

absl::StatusOr<api::meta::v1::APIVersions> DiscoveryClient::CoreVersions() {
  return GetDocument<api::meta::v1::APIVersions>(client_, "/api");
}

absl::StatusOr<api::meta::v1::APIGroupList> DiscoveryClient::Groups() {
  return GetDocument<api::meta::v1::APIGroupList>(client_, "/apis");
}

absl::StatusOr<api::meta::v1::APIResourceList> DiscoveryClient::Resources(
    absl::string_view group_version) {
  std::string path = group_version.find('/') == absl::string_view::npos
                         ? absl::StrCat("/api/", group_version)
                         : absl::StrCat("/apis/", group_version);
  return GetDocument<api::meta::v1::APIResourceList>(client_, path);
}

}  // namespace kslice::client
