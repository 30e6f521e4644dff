// Stored objects and their metadata.
//
// The store keeps every object as an immutable, shared protobuf message in canonical
// form (api/codec/canonical.h). All kinds it stores have `metadata` (ObjectMeta) as
// field 1; these helpers reach it by reflection.
#ifndef KSLICE_ENVTEST_STORAGE_OBJECT_H_
#define KSLICE_ENVTEST_STORAGE_OBJECT_H_

#include <memory>

#include "api/meta/v1/meta.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace kslice::envtest::storage {

// A stored object. Never modified once stored; share it freely across threads.
using Object = std::shared_ptr<const google::protobuf::Message>;

// True when field 1 of `type` is a kslice.api.meta.v1.ObjectMeta message.
bool HasObjectMeta(const google::protobuf::Descriptor* type);

// The metadata of an object whose type HasObjectMeta() and whose class is the
// generated one (not a DynamicMessage). An unset metadata reads as the default.
const kslice::api::meta::v1::ObjectMeta& MetaOf(const google::protobuf::Message& object);
kslice::api::meta::v1::ObjectMeta* MutableMetaOf(google::protobuf::Message* object);

// A deep copy of `object` with the same type.
std::unique_ptr<google::protobuf::Message> CopyObject(const google::protobuf::Message& object);

}  // namespace kslice::envtest::storage

#endif  // KSLICE_ENVTEST_STORAGE_OBJECT_H_
