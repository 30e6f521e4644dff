#include "informers/lister_watcher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/codec/object.h"
#include "api/meta/v1/meta.pb.h"
#include "client/errors/errors.h"

namespace kslice::informers {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

absl::Status EventError(const client::watch::Event& event) {
  const api::meta::v1::Status* status = client::watch::EventStatus(event);
  if (status == nullptr) return absl::InternalError("watch ERROR event without a Status");
  return client::ToStatus(client::StatusError(*status));
}

// Moves the items out of a typed list message and reads its ListMeta.
absl::StatusOr<ListResult> FromListMessage(std::unique_ptr<Message> list) {
  const google::protobuf::Descriptor* d = list->GetDescriptor();
  const FieldDescriptor* meta = d->FindFieldByName("metadata");
  const FieldDescriptor* items = d->FindFieldByName("items");
  if (meta == nullptr || items == nullptr || !items->is_repeated() ||
      items->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
      meta->message_type() != api::meta::v1::ListMeta::descriptor()) {
    return absl::InternalError(absl::StrCat("not a list type: ", d->full_name()));
  }
  const google::protobuf::Reflection* r = list->GetReflection();
  ListResult result;
  const auto& lm = static_cast<const api::meta::v1::ListMeta&>(r->GetMessage(*list, meta));
  result.resource_version = lm.resourceversion();
  result.continue_token = lm.continue_();
  int n = r->FieldSize(*list, items);
  result.items.reserve(n);
  for (int i = 0; i < n; ++i) {
    result.items.emplace_back(r->ReleaseLast(list.get(), items));
  }
  std::reverse(result.items.begin(), result.items.end());
  return result;
}

}  // namespace

RestListerWatcher::RestListerWatcher(client::RestClient& client,
                                     const client::ResourceInfo& resource, std::string ns,
                                     TweakListOptionsFunc tweak)
    : client_(client),
      resource_(resource),
      ns_(resource.namespaced ? std::move(ns) : std::string()),
      tweak_(std::move(tweak)) {}

absl::StatusOr<std::unique_ptr<RestListerWatcher>> RestListerWatcher::ForType(
    client::RestClient& client, const google::protobuf::Descriptor* type, std::string ns,
    TweakListOptionsFunc tweak) {
  const client::ResourceInfo* resource = client::ResourceFor(type);
  if (resource == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no API resource for type ", type == nullptr ? "null" : type->full_name()));
  }
  return std::make_unique<RestListerWatcher>(client, *resource, std::move(ns), std::move(tweak));
}

client::ListOptions RestListerWatcher::Tweaked(const client::ListOptions& options) const {
  client::ListOptions o = options;
  if (tweak_) tweak_(o);
  return o;
}

absl::StatusOr<ListResult> RestListerWatcher::List(const client::ListOptions& options) {
  client::ListOptions o = Tweaked(options);
  o.watch = false;
  absl::StatusOr<std::unique_ptr<Message>> list = client_.List(resource_, ns_, o);
  if (!list.ok()) return list.status();
  return FromListMessage(*std::move(list));
}

absl::Status RestListerWatcher::Watch(const client::ListOptions& options,
                                      const std::function<absl::Status(WatchEvent)>& on_event,
                                      const client::CancelToken* cancel) {
  return client_.Watch(
      resource_, ns_, Tweaked(options),
      [&](client::watch::Event e) -> absl::Status {
        WatchEvent out;
        out.type = e.type;
        if (e.type == client::watch::EventType::kError) {
          out.error = EventError(e);
        } else {
          if (e.object == nullptr) return absl::InternalError("watch event without an object");
          out.object = std::move(e.object);
        }
        return on_event(std::move(out));
      },
      cancel);
}

// ---- dynamic ----

absl::StatusOr<std::unique_ptr<DynamicObject>> MakeDynamicObject(const codec::Node& node) {
  if (!node.is_object()) return absl::InvalidArgumentError("object is not a JSON object");
  auto out = std::make_unique<DynamicObject>();
  if (const codec::Node* v = node.Find("apiVersion"); v != nullptr && v->is_string()) {
    out->set_api_version(v->text);
  }
  if (const codec::Node* k = node.Find("kind"); k != nullptr && k->is_string()) {
    out->set_kind(k->text);
  }
  if (const codec::Node* m = node.Find("metadata"); m != nullptr && !m->is_null()) {
    codec::ObjectDecodeOptions options;
    options.root_has_type_meta = false;
    if (absl::Status s = codec::NodeToMessage(*m, out->mutable_metadata(), options); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("metadata: ", s.message()));
    }
  }
  absl::StatusOr<std::string> json = codec::WriteJson(node);
  if (!json.ok()) return json.status();
  out->set_json(*std::move(json));
  return out;
}

absl::StatusOr<codec::Node> ToNode(const DynamicObject& object) {
  return codec::ParseJson(object.json());
}

DynamicListerWatcher::DynamicListerWatcher(client::RestClient& client,
                                           client::GroupVersionResource resource, std::string ns,
                                           TweakListOptionsFunc tweak)
    : client_(client),
      dynamic_(client),
      resource_(std::move(resource)),
      ns_(resource_.namespaced ? std::move(ns) : std::string()),
      tweak_(std::move(tweak)) {}

client::ListOptions DynamicListerWatcher::Tweaked(const client::ListOptions& options) const {
  client::ListOptions o = options;
  if (tweak_) tweak_(o);
  return o;
}

absl::StatusOr<ListResult> DynamicListerWatcher::List(const client::ListOptions& options) {
  client::ListOptions o = Tweaked(options);
  o.watch = false;
  absl::StatusOr<codec::Node> list = dynamic_.List(resource_, ns_, o);
  if (!list.ok()) return list.status();
  if (!list->is_object()) return absl::InternalError("list answer is not a JSON object");
  ListResult result;
  if (const codec::Node* meta = list->Find("metadata"); meta != nullptr && meta->is_object()) {
    if (const codec::Node* rv = meta->Find("resourceVersion"); rv != nullptr && rv->is_string()) {
      result.resource_version = rv->text;
    }
    if (const codec::Node* c = meta->Find("continue"); c != nullptr && c->is_string()) {
      result.continue_token = c->text;
    }
  }
  const codec::Node* items = list->Find("items");
  if (items != nullptr && items->is_array()) {
    result.items.reserve(items->values.size());
    for (const codec::Node& item : items->values) {
      absl::StatusOr<std::unique_ptr<DynamicObject>> obj = MakeDynamicObject(item);
      if (!obj.ok()) return obj.status();
      result.items.push_back(*std::move(obj));
    }
  }
  return result;
}

absl::Status DynamicListerWatcher::Watch(const client::ListOptions& options,
                                         const std::function<absl::Status(WatchEvent)>& on_event,
                                         const client::CancelToken* cancel) {
  return dynamic_.Watch(
      resource_, ns_, Tweaked(options),
      [&](client::watch::Event e) -> absl::Status {
        WatchEvent out;
        out.type = e.type;
        if (e.type == client::watch::EventType::kError) {
          out.error = EventError(e);
        } else {
          absl::StatusOr<std::unique_ptr<DynamicObject>> obj = MakeDynamicObject(e.node);
          if (!obj.ok()) return obj.status();
          out.object = *std::move(obj);
        }
        return on_event(std::move(out));
      },
      cancel);
}

}  // namespace kslice::informers
