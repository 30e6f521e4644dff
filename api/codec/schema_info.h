// Per-message facts read once from the schema annotations (internal to api/codec).
#ifndef KSLICE_API_CODEC_SCHEMA_INFO_H_
#define KSLICE_API_CODEC_SCHEMA_INFO_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "api/proto/annotations.pb.h"
#include "google/protobuf/descriptor.h"

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

// Thread-safe; the result lives as long as the program.
const MessageInfo& InfoFor(const google::protobuf::Descriptor* descriptor);

// Go's zero time.Time (0001-01-01T00:00:00Z) in Unix seconds.
inline constexpr int64_t kZeroTimeSeconds = -62135596800;

}  // namespace kslice::codec::internal

#endif  // KSLICE_API_CODEC_SCHEMA_INFO_H_
