#include "client/watch/event.h"

namespace kslice::client::watch {

namespace {

using kslice::api::meta::v1::ObjectMeta;

// The ObjectMeta of a typed object (its `metadata` field), or nullptr.
const ObjectMeta* TypedMeta(const google::protobuf::Message& object) {
  const google::protobuf::FieldDescriptor* f = object.GetDescriptor()->FindFieldByName("metadata");
  if (f == nullptr || f->is_repeated() ||
      f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE ||
      f->message_type() != ObjectMeta::descriptor()) {
    return nullptr;
  }
  return dynamic_cast<const ObjectMeta*>(&object.GetReflection()->GetMessage(object, f));
}

// A string member of a JSON object node, or nullptr.
const std::string* NodeString(const kslice::codec::Node* node, absl::string_view key) {
  if (node == nullptr || !node->is_object()) return nullptr;
  const kslice::codec::Node* v = node->Find(key);
  if (v == nullptr || !v->is_string()) return nullptr;
  return &v->text;
}

}  // namespace

absl::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kAdded:
      return "ADDED";
    case EventType::kModified:
      return "MODIFIED";
    case EventType::kDeleted:
      return "DELETED";
    case EventType::kBookmark:
      return "BOOKMARK";
    case EventType::kError:
      return "ERROR";
  }
  return "";
}

std::optional<EventType> ParseEventType(absl::string_view name) {
  if (name == "ADDED") return EventType::kAdded;
  if (name == "MODIFIED") return EventType::kModified;
  if (name == "DELETED") return EventType::kDeleted;
  if (name == "BOOKMARK") return EventType::kBookmark;
  if (name == "ERROR") return EventType::kError;
  return std::nullopt;
}

std::string ResourceVersion(const Event& event) {
  if (event.object != nullptr) {
    const ObjectMeta* meta = TypedMeta(*event.object);
    return meta != nullptr ? meta->resourceversion() : std::string();
  }
  if (event.node.is_object()) {
    const std::string* rv = NodeString(event.node.Find("metadata"), "resourceVersion");
    return rv != nullptr ? *rv : std::string();
  }
  return std::string();
}

bool IsInitialEventsEnd(const Event& event) {
  if (event.type != EventType::kBookmark) return false;
  if (event.object != nullptr) {
    const ObjectMeta* meta = TypedMeta(*event.object);
    if (meta == nullptr) return false;
    auto it = meta->annotations().find(std::string(kInitialEventsEndAnnotation));
    return it != meta->annotations().end() && it->second == "true";
  }
  if (event.node.is_object()) {
    const kslice::codec::Node* meta = event.node.Find("metadata");
    const kslice::codec::Node* annotations =
        meta != nullptr && meta->is_object() ? meta->Find("annotations") : nullptr;
    const std::string* v = NodeString(annotations, kInitialEventsEndAnnotation);
    return v != nullptr && *v == "true";
  }
  return false;
}

const kslice::api::meta::v1::Status* EventStatus(const Event& event) {
  if (event.type != EventType::kError || event.object == nullptr) return nullptr;
  return dynamic_cast<const kslice::api::meta::v1::Status*>(event.object.get());
}

}  // namespace kslice::client::watch
