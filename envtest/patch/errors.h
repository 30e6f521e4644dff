// The errors a PATCH request gets from the API server, as absl::Status values carrying
// the metav1.Status payload (the convention of envtest/storage/errors.h, same payload
// URL). Which patch failure becomes which answer follows apiserver
// pkg/endpoints/handlers/patch.go:
//
//   failure                                               HTTP  reason                 absl code
//   body not JSON (any patch type)                        400   BadRequest             kInvalidArgument
//   JSON patch not a list of objects; merge patch null    400   BadRequest             kInvalidArgument
//   JSON patch over 10000 operations                      413   RequestEntityTooLarge  kInvalidArgument
//   JSON patch op fails (test, missing path, bad index)   422   Invalid (generic)      kInvalidArgument
//   strategic: bad $deleteFromPrimitiveList, $retainKeys,
//     $setElementOrder; no schema (custom resources)      400   BadRequest             kInvalidArgument
//   strategic: list of lists                              422   Invalid (generic)      kInvalidArgument
//   strategic: any other error (missing merge key, ...)   500   "" (Unknown)           kInternal
//   patched object does not decode (other kind, ...)      422   Invalid (patch field)  kInvalidArgument
//
// The generic 422 is NewGenericServerResponse(422, ...): the message is always "the
// server rejected our request due to an error in our request" and the reason of the
// failure is not sent to the client. The absl::Status message keeps that reason after
// the generic text, for logs and tests; the payload is exactly upstream's.
#ifndef KSLICE_ENVTEST_PATCH_ERRORS_H_
#define KSLICE_ENVTEST_PATCH_ERRORS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/codec/node.h"

namespace kslice::envtest::patch {

// upstream's generic 422 message (apimachinery errors.NewGenericServerResponse).
inline constexpr absl::string_view kGenericInvalidMessage =
    "the server rejected our request due to an error in our request";

// 422 reason Invalid, message kGenericInvalidMessage, empty details. `detail` (the
// underlying error, e.g. "testing value /metadata/name failed: test failed") goes only
// into the absl message.
absl::Status UnprocessablePatchError(absl::string_view detail);

// 413 reason RequestEntityTooLarge "Request entity too large: <message>".
absl::Status RequestEntityTooLargeError(absl::string_view message);

// 422 Invalid for a patched object that does not decode into its type:
// ` "" is invalid: patch: Invalid value: "<patched JSON>": <detail>` with one
// FieldValueInvalid cause for field "patch" (what the API server answers when the
// result of a JSON or merge patch fails to decode, e.g. a wrong field type).
absl::Status PatchedObjectInvalidError(const codec::Node& patched, absl::string_view detail);

}  // namespace kslice::envtest::patch

#endif  // KSLICE_ENVTEST_PATCH_ERRORS_H_
