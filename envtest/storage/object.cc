#include "envtest/storage/object.h"

namespace kslice::envtest::storage {
namespace {

using kslice::api::meta::v1::ObjectMeta;

const google::protobuf::FieldDescriptor* MetaField(const google::protobuf::Descriptor* type) {
  const google::protobuf::FieldDescriptor* f = type->FindFieldByNumber(1);
  if (f == nullptr || f->is_repeated() ||
      f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE ||
      f->message_type() != ObjectMeta::descriptor()) {
    return nullptr;
  }
  return f;
}

}  // namespace

bool HasObjectMeta(const google::protobuf::Descriptor* type) { return MetaField(type) != nullptr; }

const ObjectMeta& MetaOf(const google::protobuf::Message& object) {
  const google::protobuf::FieldDescriptor* f = MetaField(object.GetDescriptor());
  if (f == nullptr) return ObjectMeta::default_instance();
  // The generated factory builds ObjectMeta for this field (the store only accepts
  // generated classes), so the downcast is exact.
  return static_cast<const ObjectMeta&>(object.GetReflection()->GetMessage(object, f));
}

ObjectMeta* MutableMetaOf(google::protobuf::Message* object) {
  const google::protobuf::FieldDescriptor* f = MetaField(object->GetDescriptor());
  if (f == nullptr) return nullptr;
  return static_cast<ObjectMeta*>(object->GetReflection()->MutableMessage(object, f));
}

std::unique_ptr<google::protobuf::Message> CopyObject(const google::protobuf::Message& object) {
  std::unique_ptr<google::protobuf::Message> copy(object.New());
  copy->CopyFrom(object);
  return copy;
}

}  // namespace kslice::envtest::storage
