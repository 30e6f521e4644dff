// Errors of the storage engine, in the API server's words.
//
// Every error is an absl::Status whose code carries the retry decision and whose
// payload is the metav1.Status the API server would send, so the HTTP layer writes it
// as is:
//
//   absl::Status s = store.Update(pods, std::move(pod)).status();
//   if (s.code() == absl::StatusCode::kAborted) { /* Conflict: re-read and retry */ }
//   kslice::api::meta::v1::Status body = ToApiStatus(s);   // code 409, reason Conflict
//
// The payload is the plain protobuf encoding of kslice.api.meta.v1.Status under
// kStatusPayloadUrl, the same convention as client/errors (ToStatus / FromStatus), so
// client-side predicates work on storage errors too. Codes:
//
//   reason           HTTP  absl code            when
//   NotFound         404   kNotFound            Get/Update/Delete of a missing object
//   AlreadyExists    409   kAlreadyExists       Create of a taken name
//   Conflict         409   kAborted             stale resourceVersion, failed precondition
//   Expired          410   kOutOfRange          RV or continue token older than the history
//   Invalid          422   kInvalidArgument     bad object metadata, bad ListOptions
//   BadRequest       400   kInvalidArgument     bad continue token, unknown field label
//   Timeout          504   kDeadlineExceeded    "Too large resource version"
//   "" (Unknown)     500   kInternal            create with resourceVersion set
#ifndef KSLICE_ENVTEST_STORAGE_ERRORS_H_
#define KSLICE_ENVTEST_STORAGE_ERRORS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/meta/v1/meta.pb.h"
#include "envtest/storage/resource_key.h"

namespace kslice::envtest::storage {

using MetaStatus = kslice::api::meta::v1::Status;

// Same key as client/errors: the serialized kslice.api.meta.v1.Status.
inline constexpr absl::string_view kStatusPayloadUrl =
    "type.googleapis.com/kslice.api.meta.v1.Status";

// The optimistic-concurrency detail of a Conflict (upstream's OptimisticLockErrorMsg).
inline constexpr absl::string_view kOptimisticLockErrorMsg =
    "the object has been modified; please apply your changes to the latest version and try "
    "again";

// One field validation error (upstream field.Error): a cause of an Invalid Status.
struct FieldError {
  std::string type;   // cause type: "FieldValueRequired", "FieldValueForbidden", ...
  std::string field;  // "resourceVersionMatch", "metadata.name"
  std::string body;   // "Forbidden: ...", "Required value: ...", "Invalid value: \"x\": ..."

  std::string ToString() const { return field + ": " + body; }

  static FieldError Required(std::string field, absl::string_view detail);
  static FieldError Forbidden(std::string field, absl::string_view detail);
  static FieldError Invalid(std::string field, absl::string_view value, absl::string_view detail);
  static FieldError NotSupported(std::string field, absl::string_view value,
                                 const std::vector<std::string>& supported);
};

// 404 `pods "x" not found`; details {name, group, kind = resource}.
absl::Status NotFoundError(const ResourceKey& resource, absl::string_view name);
// 404 for a resource the store does not serve: "the server could not find the
// requested resource".
absl::Status ResourceNotServedError(const ResourceKey& resource);
// 409 `pods "x" already exists`.
absl::Status AlreadyExistsError(const ResourceKey& resource, absl::string_view name);
// 409 AlreadyExists after generateName found no free name:
// `pods "web-abcde" already exists, the server was not able to generate a unique name
// for the object`, retryAfterSeconds set.
absl::Status GenerateNameConflictError(const ResourceKey& resource, absl::string_view name,
                                       int retry_after_seconds);
// 409 `Operation cannot be fulfilled on pods "x": <detail>`. `resource` is printed as
// given (upstream passes the Kind as the resource for delete preconditions).
absl::Status ConflictError(const ResourceKey& resource, absl::string_view name,
                           absl::string_view detail = kOptimisticLockErrorMsg);
// 410 reason Expired with the message as given; `continue_token` (if not empty) goes
// to the Status's metadata.continue (the "continue from here, inconsistently" token).
absl::Status ExpiredError(absl::string_view message, absl::string_view continue_token = "");
// 400 reason BadRequest with the message as given.
absl::Status BadRequestError(absl::string_view message);
// 422 `<Kind>[.<group>] "<name>" is invalid: <error>` (several errors: "[e1, e2]"); one
// cause per error; details {name, group, kind}.
absl::Status InvalidError(absl::string_view group, absl::string_view kind, absl::string_view name,
                          const std::vector<FieldError>& errors);
// 504 reason Timeout "Timeout: Too large resource version: N, current: M" with cause
// ResourceVersionTooLarge and retryAfterSeconds.
absl::Status TooLargeResourceVersionError(uint64_t minimum, uint64_t current,
                                          int retry_after_seconds);
// 500 with an empty reason (metav1.StatusReasonUnknown) and the message as given:
// what the API server answers for a plain Go error from storage.
absl::Status UnknownServerError(absl::string_view message);

// The metav1.Status carried by `status`; nullopt for OK or when there is none.
std::optional<MetaStatus> ApiStatusOf(const absl::Status& status);
// The carried Status, or for an error without one a 500 InternalError
// "Internal error occurred: <message>"; for OK a Success Status.
MetaStatus ToApiStatus(const absl::Status& status);
// The carried Status's reason ("Conflict", "Expired", ...); "" when there is none.
std::string ReasonOf(const absl::Status& status);

// Go's %q for the strings that appear in messages: '"' and '\' escaped, control bytes
// as \n, \t, \x00 ...
std::string GoQuote(absl::string_view s);

// More field.Error constructors (upstream field.Duplicate, NotFound, TooLong, TooMany,
// and Invalid with a value that is not a string). `value` here is the bad value already
// rendered as upstream prints non-string values (JSON: `80`, `true`, `{"a":1}`).
FieldError InvalidRenderedFieldError(std::string field, absl::string_view rendered_value,
                                     absl::string_view detail);
// "Duplicate value: \"x\"" (string value) and the rendered form for other values.
FieldError DuplicateFieldError(std::string field, absl::string_view value);
FieldError DuplicateRenderedFieldError(std::string field, absl::string_view rendered_value);
// "Not found: \"x\"".
FieldError NotFoundFieldError(std::string field, absl::string_view value);
// "Too long: may not be more than N bytes" (the value is omitted, as upstream).
FieldError TooLongFieldError(std::string field, int max_length);
// "Too many: N: must have at most M items".
FieldError TooManyFieldError(std::string field, int actual, int max_quantity);

}  // namespace kslice::envtest::storage

#endif  // KSLICE_ENVTEST_STORAGE_ERRORS_H_
