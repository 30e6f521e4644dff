#include "informers/cache/object.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace kslice::informers {

using kslice::api::meta::v1::ObjectMeta;

const ObjectMeta& MetaOf(const google::protobuf::Message& object) {
  const google::protobuf::FieldDescriptor* f = object.GetDescriptor()->FindFieldByNumber(1);
  if (f == nullptr || f->is_repeated() ||
      f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE ||
      f->message_type() != ObjectMeta::descriptor()) {
    return ObjectMeta::default_instance();
  }
  const google::protobuf::Message& meta = object.GetReflection()->GetMessage(object, f);
  // Generated classes hold an ObjectMeta here; a DynamicMessage holds a dynamic one, which
  // cannot be downcast (return the default rather than misbehave).
  const auto* typed = dynamic_cast<const ObjectMeta*>(&meta);
  return typed != nullptr ? *typed : ObjectMeta::default_instance();
}

std::string KeyOf(const google::protobuf::Message& object) {
  const ObjectMeta& meta = MetaOf(object);
  if (meta.namespace_().empty()) return meta.name();
  return absl::StrCat(meta.namespace_(), "/", meta.name());
}

std::pair<std::string, std::string> SplitKey(absl::string_view key) {
  const size_t slash = key.find('/');
  if (slash == absl::string_view::npos) return {std::string(), std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

}  // namespace kslice::informers
