// Canonical form of a decoded API object.
//
// Upstream's Go types distinguish values from pointers; its protobuf encoder always
// writes value fields (even "" and 0) and writes pointer fields only when non-nil.
// A message decoded from JSON, from YAML or from a protobuf written by another client
// may lack presence bits the Go encoder would set, so every decode ends with
// Canonicalize(): value fields get presence, Time and MicroTime take upstream's
// precision (seconds; microseconds) and zero-time form, Quantity takes its canonical
// string. Two canonical messages are equal exactly when upstream's objects are, and
// serialize (deterministically) to the bytes the API server writes.
#ifndef KSLICE_API_CODEC_CANONICAL_H_
#define KSLICE_API_CODEC_CANONICAL_H_

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace kslice::codec {

// Canonicalizes in place. Fails only on values upstream cannot represent
// (an unparseable Quantity), naming the field path.
absl::Status Canonicalize(google::protobuf::Message* message);

}  // namespace kslice::codec

#endif  // KSLICE_API_CODEC_CANONICAL_H_
