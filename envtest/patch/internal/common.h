// Shared steps of the three patch types. Internal to envtest/patch.
#ifndef KSLICE_ENVTEST_PATCH_INTERNAL_COMMON_H_
#define KSLICE_ENVTEST_PATCH_INTERNAL_COMMON_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec/node.h"

namespace kslice::envtest::patch::internal {

// Parses the request body as JSON: 400 "invalid JSON patch" when it is not (the
// API server's first check, validateAndTranscodePatch, for every patch type).
// Duplicate object keys are collapsed, the last one winning (encoding/json).
absl::StatusOr<codec::Node> ParsePatchBody(absl::string_view body);

// "object", "array", "string", "number", "bool" or "null": the JSON kind as
// encoding/json's UnmarshalTypeError names it.
absl::string_view JsonKindName(const codec::Node& v);

// What decoding the patched document into the stored type says about its apiVersion and
// kind (json serializer + conversion to the internal version): OK when they still name
// `original`'s type or are absent, else 422 Invalid "patch: Invalid value: ...".
absl::Status CheckPatchedTypeMeta(const codec::Node& original, const codec::Node& patched);

}  // namespace kslice::envtest::patch::internal

#endif  // KSLICE_ENVTEST_PATCH_INTERNAL_COMMON_H_
