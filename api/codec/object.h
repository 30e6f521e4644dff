// Converts protobuf API objects to and from the JSON value tree (api/codec/node.h)
// with Kubernetes' JSON conventions, driven by protobuf reflection and the schema
// annotations in api/proto/annotations.proto:
//   - keys in Go struct order; `omitempty` honored, `null` written for empty fields
//     whose Go tag lacks it; a Go pointer's present zero value is written;
//   - int64 as JSON numbers, []byte as base64, maps with sorted keys;
//   - Time / MicroTime as RFC 3339, Duration as a Go duration string, IntOrString as
//     a bare number or string, Quantity as its canonical string, RawExtension and
//     FieldsV1 as embedded JSON, wrapped Go slices (Verbs) as arrays;
//   - unknown keys ignored (and optionally reported), case-sensitive keys.
// TypeMeta (apiVersion/kind) is not part of the messages; api/codec/codec.h adds it.
#ifndef KSLICE_API_CODEC_OBJECT_H_
#define KSLICE_API_CODEC_OBJECT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/codec/node.h"
#include "google/protobuf/message.h"

namespace kslice::codec {

struct ObjectDecodeOptions {
  // At the root, "apiVersion" and "kind" are skipped instead of reported unknown.
  bool root_has_type_meta = true;
  // When set, receives the path of every key the schema does not know
  // ("spec.containers[0].foo"), as kubectl's field validation reports them.
  std::vector<std::string>* unknown_fields = nullptr;
};

// Merges `node` (a JSON object) into `message`. Type mismatches, out-of-range
// numbers, invalid quantities, times and base64 are errors naming the field path.
absl::Status NodeToMessage(const Node& node, google::protobuf::Message* message,
                           const ObjectDecodeOptions& options = {});

// The JSON tree of `message` (without apiVersion/kind).
absl::StatusOr<Node> MessageToNode(const google::protobuf::Message& message);

}  // namespace kslice::codec

#endif  // KSLICE_API_CODEC_OBJECT_H_
