// Canonical form of a decoded API object.
//
// Upstream's Go types distinguish values from pointers: a value field's zero ("" , 0,
// false, an empty struct, the zero time) is the same as its absence, while a pointer
// field is present or nil. The same object can therefore arrive with different
// protobuf presence bits (Go's encoder writes every value field; JSON omits most
// zero values). Every decode ends in Canonicalize(), which gives one in-memory form:
//   - value fields hold presence only when non-zero (a zero value struct is absent),
//     which also keeps cached objects small; pointer fields keep their presence;
//   - Time keeps whole seconds and MicroTime whole microseconds (as Go's protobuf
//     decoder does); the zero time is absent;
//   - Quantity holds its canonical string ("0.5" -> "500m");
//   - unknown fields are dropped, as upstream's decoder drops them.
// Two canonical messages are equal exactly when upstream's objects are.
//
// FillWireDefaults() turns a canonical message into the form Go's protobuf encoder
// writes (every value field present, even empty); serializing that deterministically
// reproduces the API server's bytes. codec.h's Encode does this on a copy.
#ifndef KSLICE_API_CODEC_CANONICAL_H_
#define KSLICE_API_CODEC_CANONICAL_H_

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace kslice::codec {

// Canonicalizes in place. Fails only on values upstream cannot represent (an
// unparseable Quantity), naming the field path.
absl::Status Canonicalize(google::protobuf::Message* message);

// Sets presence on every value field (recursively), as Go's encoder writes them.
void FillWireDefaults(google::protobuf::Message* message);

}  // namespace kslice::codec

#endif  // KSLICE_API_CODEC_CANONICAL_H_
