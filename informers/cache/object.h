// Objects held by informer caches, and their keys.
//
// A cached object is an immutable kslice API message (api/<group>/<version>/*.proto) whose
// field 1 is `metadata` (kslice.api.meta.v1.ObjectMeta). It is shared, never copied: the
// cache, the DeltaFIFO, event handlers and listers all hold the same instance. Nobody may
// modify a cached object; copy it first (ObjectPtr points to const).
#ifndef KSLICE_INFORMERS_CACHE_OBJECT_H_
#define KSLICE_INFORMERS_CACHE_OBJECT_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "api/meta/v1/meta.pb.h"
#include "google/protobuf/message.h"

namespace kslice::informers {

// A cached object: immutable and shared across threads.
using ObjectPtr = std::shared_ptr<const google::protobuf::Message>;

// The metadata of `object` (field 1, by reflection). Objects without an ObjectMeta field 1
// read as the default (empty) ObjectMeta. `object` must be of a generated class or a
// DynamicMessage built from the generated descriptor pool.
const kslice::api::meta::v1::ObjectMeta& MetaOf(const google::protobuf::Message& object);

// client-go's MetaNamespaceKeyFunc: "namespace/name", or "name" for cluster-scoped objects
// (empty namespace). An object without metadata has the key "".
std::string KeyOf(const google::protobuf::Message& object);

// The inverse of KeyOf (client-go's SplitMetaNamespaceKey): "ns/name" -> {ns, name},
// "name" -> {"", name}. The split is at the first '/', so a malformed key with more than
// one '/' yields a name containing '/' (client-go returns an error for it instead).
std::pair<std::string, std::string> SplitKey(absl::string_view key);

}  // namespace kslice::informers

#endif  // KSLICE_INFORMERS_CACHE_OBJECT_H_
