// Per-message facts read once from the schema annotations (internal to api/codec).
#ifndef KSLICE_API_CODEC_SCHEMA_INFO_H_
#define KSLICE_API_CODEC_SCHEMA_INFO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "api/proto/annotations.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace kslice::codec::internal {

struct FieldInfo {
  const google::protobuf::FieldDescriptor* field;
  std::string json_name;
  bool nullable;    // Go pointer (or []byte): presence is meaningful
  bool emit_empty;  // Go json tag without omitempty
  bool omit_zero;   // Go json tag with omitzero
  bool inline_;     // Go embedded struct: its fields sit in the parent's JSON object
};

struct MessageInfo {
  kslice::api::JsonFormat format;
  std::vector<FieldInfo> fields;  // declaration (Go struct) order
  // JSON key -> the field, reached through inline fields when path.size() > 1.
  absl::flat_hash_map<std::string, std::vector<const FieldInfo*>> by_json_name;
};

// A field path ("spec.containers[0].ports[1].containerPort") built on the stack as
// the codecs descend, and rendered only when an error needs it.
struct Path {
  const Path* parent = nullptr;
  absl::string_view name;  // field or JSON key; empty for an element
  int64_t index = -1;      // array element when >= 0
  absl::string_view key;   // map entry when has_key
  bool has_key = false;

  Path Field(absl::string_view n) const { return Path{this, n, -1, {}, false}; }
  Path Index(int64_t i) const { return Path{this, {}, i, {}, false}; }
  Path Key(absl::string_view k) const { return Path{this, {}, -1, k, true}; }
  std::string ToString() const;
};

// Thread-safe; the result lives as long as the program.
const MessageInfo& InfoFor(const google::protobuf::Descriptor* descriptor);

// A scalar value of any protobuf type; the member matching the field's type is used.
struct ScalarValue {
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  bool b = false;
  std::string s;
  int enum_value = 0;
};

// Sets a singular field to v, or appends v to a repeated field.
void StoreScalar(google::protobuf::Message* msg, const google::protobuf::Reflection* r,
                 const google::protobuf::FieldDescriptor* f, ScalarValue v);

// A singular scalar field holds its type's zero value (0, "", false).
bool IsZeroScalar(const google::protobuf::Message& msg, const google::protobuf::Reflection* r,
                  const google::protobuf::FieldDescriptor* f);

// Go's zero time.Time (0001-01-01T00:00:00Z) in Unix seconds.
inline constexpr int64_t kZeroTimeSeconds = -62135596800;

}  // namespace kslice::codec::internal

#endif  // KSLICE_API_CODEC_SCHEMA_INFO_H_
