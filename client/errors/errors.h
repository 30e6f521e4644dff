// Kubernetes API errors: the metav1.Status an API server returns with every failed
// request, as a C++ value, and the conversions kslice uses to pass it through
// absl::Status.
//
// Client side:
//
//   ResponseInfo info;
//   info.content_type = response.header("Content-Type");
//   info.retry_after = response.header("Retry-After");
//   StatusError err = StatusError::FromResponse(response.code, response.body, info);
//   absl::Status s = ToStatus(err);             // what library calls return
//   ...
//   if (IsConflict(s)) { ... }                  // callers inspect the reason
//   if (std::optional<StatusError> e = FromStatus(s)) { log(e->status().message()); }
//
// Server side (the embedded API server builds its replies with these):
//
//   StatusError e = NewNotFound({"", "pods"}, "web-0");   // pods "web-0" not found
//   write(e.code(), codec::Encode(e.status(), format));
//
// The predicates follow client-go (k8s.io/apimachinery/pkg/api/errors): a predicate
// is true when the Status carries its reason, or when the reason is not one of the
// reasons Kubernetes defines and the HTTP code is the one that reason uses (so a
// bare 404 from a proxy still counts as NotFound). The absl::Status overloads look
// only at the Status payload ToStatus attaches; an absl::Status without one (a
// transport error, or absl::NotFoundError from unrelated code) matches no predicate.
#ifndef KSLICE_CLIENT_ERRORS_ERRORS_H_
#define KSLICE_CLIENT_ERRORS_ERRORS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/meta/v1/meta.pb.h"

namespace kslice::client {

using MetaStatus = kslice::api::meta::v1::Status;

// metav1.StatusReason values.
namespace reason {
inline constexpr absl::string_view kUnknown = "";
inline constexpr absl::string_view kUnauthorized = "Unauthorized";
inline constexpr absl::string_view kForbidden = "Forbidden";
inline constexpr absl::string_view kNotFound = "NotFound";
inline constexpr absl::string_view kAlreadyExists = "AlreadyExists";
inline constexpr absl::string_view kConflict = "Conflict";
inline constexpr absl::string_view kGone = "Gone";
inline constexpr absl::string_view kInvalid = "Invalid";
inline constexpr absl::string_view kServerTimeout = "ServerTimeout";
inline constexpr absl::string_view kStoreReadError = "StorageReadError";
inline constexpr absl::string_view kTimeout = "Timeout";
inline constexpr absl::string_view kTooManyRequests = "TooManyRequests";
inline constexpr absl::string_view kBadRequest = "BadRequest";
inline constexpr absl::string_view kMethodNotAllowed = "MethodNotAllowed";
inline constexpr absl::string_view kNotAcceptable = "NotAcceptable";
inline constexpr absl::string_view kRequestEntityTooLarge = "RequestEntityTooLarge";
inline constexpr absl::string_view kUnsupportedMediaType = "UnsupportedMediaType";
inline constexpr absl::string_view kInternalError = "InternalError";
inline constexpr absl::string_view kExpired = "Expired";
inline constexpr absl::string_view kServiceUnavailable = "ServiceUnavailable";
}  // namespace reason

// metav1.CauseType values (StatusCause.reason).
namespace cause {
inline constexpr absl::string_view kFieldValueNotFound = "FieldValueNotFound";
inline constexpr absl::string_view kFieldValueRequired = "FieldValueRequired";
inline constexpr absl::string_view kFieldValueDuplicate = "FieldValueDuplicate";
inline constexpr absl::string_view kFieldValueInvalid = "FieldValueInvalid";
inline constexpr absl::string_view kFieldValueNotSupported = "FieldValueNotSupported";
inline constexpr absl::string_view kFieldValueForbidden = "FieldValueForbidden";
inline constexpr absl::string_view kFieldValueTooLong = "FieldValueTooLong";
inline constexpr absl::string_view kFieldValueTooMany = "FieldValueTooMany";
inline constexpr absl::string_view kInternal = "InternalError";
inline constexpr absl::string_view kFieldValueTypeInvalid = "FieldValueTypeInvalid";
inline constexpr absl::string_view kUnexpectedServerResponse = "UnexpectedServerResponse";
inline constexpr absl::string_view kFieldManagerConflict = "FieldManagerConflict";
inline constexpr absl::string_view kResourceVersionTooLarge = "ResourceVersionTooLarge";
}  // namespace cause

inline constexpr absl::string_view kStatusFailure = "Failure";
inline constexpr absl::string_view kStatusSuccess = "Success";

// The detail of an optimistic-concurrency conflict (NewConflict's default).
inline constexpr absl::string_view kOptimisticLockErrorMsg =
    "the object has been modified; please apply your changes to the latest version and try "
    "again";

// The absl::Status payload key under which ToStatus stores the serialized
// metav1.Status (plain protobuf bytes of kslice.api.meta.v1.Status, no envelope).
inline constexpr absl::string_view kStatusPayloadUrl =
    "type.googleapis.com/kslice.api.meta.v1.Status";

// What the client knows about a failed request besides its body; all optional.
struct ResponseInfo {
  std::string content_type;  // the response's Content-Type header
  std::string retry_after;   // the response's Retry-After header ("" when absent)
  std::string verb;          // HTTP method, e.g. "GET" (a 409 on POST means AlreadyExists)
  std::string group;         // API group of the resource requested ("" for core)
  std::string resource;      // e.g. "pods"
  std::string name;          // object name, if the request named one
};

// A failed API request: the server's metav1.Status. Always describes a failure
// (status "Failure"); code() is the HTTP status code.
class StatusError {
 public:
  StatusError() = default;
  // Takes `status` as is, except that an empty `status` field becomes "Failure".
  explicit StatusError(MetaStatus status);

  // The error for a non-2xx response. If `body` decodes (JSON, protobuf or YAML, per
  // the content type; JSON when none) as a metav1.Status with status "Failure", that
  // Status is used; its code is filled from `http_code` when the server left it 0,
  // and details.retryAfterSeconds from the Retry-After header when absent.
  // Otherwise a Status is synthesized as client-go does for bodies it cannot read:
  // the reason follows the HTTP code, the message is client-go's text for that code
  // (plus the verb and resource when known), details.causes holds one
  // UnexpectedServerResponse cause with the body (text responses only, at most 2 KiB,
  // trimmed), and retryAfterSeconds comes from an integer Retry-After header.
  // Differs from client-go in one way: when the body is text, the message ends with
  // ": <body>" if client-go's text does not already include it.
  static StatusError FromResponse(int http_code, absl::string_view body,
                                  const ResponseInfo& info = {});

  const MetaStatus& status() const { return status_; }
  MetaStatus& mutable_status() { return status_; }

  int32_t code() const { return status_.code(); }
  absl::string_view reason() const { return status_.reason(); }
  absl::string_view message() const { return status_.message(); }

  // "NotFound (404): pods \"x\" not found" — for logs.
  std::string ToString() const;

 private:
  MetaStatus status_;
};

// ---- absl::Status conversion ----

// The canonical code for a Status: by reason when it is a known one, otherwise by
// HTTP code. The mapping:
//
//   NotFound (404)                    kNotFound
//   AlreadyExists                     kAlreadyExists
//   Conflict (409)                    kAborted           retry the read-modify-write
//   Gone, Expired (410)               kOutOfRange        the resourceVersion lies outside
//                                                        the server's history window;
//                                                        relist, do not retry as is
//   Invalid (422), BadRequest (400),  kInvalidArgument
//   RequestEntityTooLarge (413)
//   Forbidden (403)                   kPermissionDenied
//   Unauthorized (401)                kUnauthenticated
//   TooManyRequests (429)             kResourceExhausted
//   ServerTimeout, Timeout (504)      kDeadlineExceeded
//   InternalError (500)               kInternal
//   StorageReadError                  kDataLoss
//   ServiceUnavailable (503, 502)     kUnavailable
//   MethodNotAllowed (405),           kUnimplemented
//   NotAcceptable (406),
//   UnsupportedMediaType (415), 501
//   anything else                     kUnknown (other 5xx: kInternal)
absl::StatusCode CanonicalCode(const StatusError& error);

// An absl::Status with CanonicalCode, the Status message (or a generic text when the
// server sent none) and the serialized Status as a payload under kStatusPayloadUrl.
absl::Status ToStatus(const StatusError& error);

// The StatusError carried by a Status made by ToStatus; nullopt for OK or for a
// status without (or with an unreadable) payload.
std::optional<StatusError> FromStatus(const absl::Status& status);

// ---- Predicates (client-go's IsNotFound etc.) ----

bool IsNotFound(const StatusError& e);
bool IsAlreadyExists(const StatusError& e);  // reason only (409 is ambiguous)
bool IsConflict(const StatusError& e);
bool IsGone(const StatusError& e);  // reason Gone (servers up to 1.17), or bare 410
// Reason Expired, or a bare 410 (a reason Kubernetes does not define). client-go's
// IsResourceExpired checks the reason only; accepting the bare code as well is
// deliberate: a 410 always means "your resourceVersion is too old".
bool IsResourceExpired(const StatusError& e);
// Either of the two: what the reflector treats as "relist from scratch".
bool IsGoneOrExpired(const StatusError& e);
bool IsInvalid(const StatusError& e);
bool IsBadRequest(const StatusError& e);
bool IsForbidden(const StatusError& e);
bool IsUnauthorized(const StatusError& e);
bool IsMethodNotSupported(const StatusError& e);
bool IsNotAcceptable(const StatusError& e);
bool IsUnsupportedMediaType(const StatusError& e);
bool IsTooManyRequests(const StatusError& e);        // reason, or code 429 whatever the reason
bool IsRequestEntityTooLarge(const StatusError& e);  // reason, or code 413
bool IsServerTimeout(const StatusError& e);          // reason only
bool IsTimeout(const StatusError& e);
bool IsInternalError(const StatusError& e);
bool IsServiceUnavailable(const StatusError& e);
bool IsStoreReadError(const StatusError& e);
// A Status synthesized from a body that was not a Status (UnexpectedServerResponse cause).
bool IsUnexpectedServerError(const StatusError& e);
// The cause with the given type (StatusCause.reason), if any.
std::optional<kslice::api::meta::v1::StatusCause> FindCause(const StatusError& e,
                                                            absl::string_view type);
// Seconds the server asked the client to wait: details.retryAfterSeconds when > 0, or
// any value (even 0) for reason ServerTimeout; nullopt otherwise.
std::optional<int> SuggestsClientDelay(const StatusError& e);

// The same predicates on an absl::Status made by ToStatus (false without a payload).
//
// NotFound and AlreadyExists have no overload here: absl::IsNotFound and
// absl::IsAlreadyExists (found by argument-dependent lookup, so an overload of ours
// would be ambiguous) give the same answer on a status from ToStatus, because
// CanonicalCode maps exactly the errors IsNotFound/IsAlreadyExists accept to those
// codes. Unlike the predicates below they are also true for a plain
// absl::NotFoundError that did not come from an API server.
bool IsConflict(const absl::Status& s);
bool IsGone(const absl::Status& s);
bool IsResourceExpired(const absl::Status& s);
bool IsGoneOrExpired(const absl::Status& s);
bool IsInvalid(const absl::Status& s);
bool IsBadRequest(const absl::Status& s);
bool IsForbidden(const absl::Status& s);
bool IsUnauthorized(const absl::Status& s);
bool IsMethodNotSupported(const absl::Status& s);
bool IsNotAcceptable(const absl::Status& s);
bool IsUnsupportedMediaType(const absl::Status& s);
bool IsTooManyRequests(const absl::Status& s);
bool IsRequestEntityTooLarge(const absl::Status& s);
bool IsServerTimeout(const absl::Status& s);
bool IsTimeout(const absl::Status& s);
bool IsInternalError(const absl::Status& s);
bool IsServiceUnavailable(const absl::Status& s);
bool IsStoreReadError(const absl::Status& s);
bool IsUnexpectedServerError(const absl::Status& s);
std::optional<int> SuggestsClientDelay(const absl::Status& s);
// The reason of the carried Status; "" when there is none.
std::string ReasonForError(const absl::Status& s);

// ---- Constructors for server replies (upstream's messages) ----

// schema.GroupResource: prints "pods" for the core group, "deployments.apps" otherwise.
struct GroupResource {
  std::string group;
  std::string resource;
  std::string String() const;
  bool empty() const { return group.empty() && resource.empty(); }
};

// schema.GroupKind: prints "Pod", or "Deployment.apps".
struct GroupKind {
  std::string group;
  std::string kind;
  std::string String() const;
};

// One field validation error (field.Error): a StatusCause of an Invalid Status.
struct FieldError {
  std::string type;   // cause type, e.g. "FieldValueRequired"
  std::string field;  // JSON path, e.g. "spec.containers[0].name"
  std::string body;   // the text after the field, e.g. "Required value"

  // "spec.containers[0].name: Required value"
  std::string ToString() const;

  static FieldError Required(std::string field, absl::string_view detail = "");
  static FieldError Forbidden(std::string field, absl::string_view detail);
  // The bad value is printed Go-quoted ("Invalid value: \"x\"") or as a number.
  static FieldError Invalid(std::string field, absl::string_view value, absl::string_view detail);
  static FieldError Invalid(std::string field, int64_t value, absl::string_view detail);
  static FieldError TypeInvalid(std::string field, absl::string_view value,
                                absl::string_view detail);
  static FieldError NotSupported(std::string field, absl::string_view value,
                                 const std::vector<std::string>& supported);
  static FieldError Duplicate(std::string field, absl::string_view value);
  static FieldError NotFound(std::string field, absl::string_view value);
  static FieldError TooLong(std::string field, int max_bytes);
  static FieldError TooMany(std::string field, int actual, int max_items);
  static FieldError Internal(std::string field, absl::string_view detail);
};

// 404 `pods "x" not found`; details {name, group, kind=resource}.
StatusError NewNotFound(const GroupResource& gr, absl::string_view name);
// 409 `pods "x" already exists`.
StatusError NewAlreadyExists(const GroupResource& gr, absl::string_view name);
// 409 AlreadyExists when generateName found no free name; retryAfterSeconds set.
StatusError NewGenerateNameConflict(const GroupResource& gr, absl::string_view name,
                                    int retry_after_seconds);
// 409 `Operation cannot be fulfilled on pods "x": <detail>`.
StatusError NewConflict(const GroupResource& gr, absl::string_view name,
                        absl::string_view detail = kOptimisticLockErrorMsg);
// 409 Conflict for server-side apply, with FieldManagerConflict causes.
StatusError NewApplyConflict(std::vector<kslice::api::meta::v1::StatusCause> causes,
                             absl::string_view message);
// 410 reason Gone (what servers up to 1.17 sent; prefer NewResourceExpired).
StatusError NewGone(absl::string_view message);
// 410 reason Expired, e.g. "too old resource version: 5 (10)".
StatusError NewResourceExpired(absl::string_view message);
// 422 `Pod "x" is invalid: [spec.a: Required value, spec.b: Invalid value: "z"]`;
// one cause per field error; details.kind is the kind.
StatusError NewInvalid(const GroupKind& gk, absl::string_view name,
                       const std::vector<FieldError>& errors);
// 400 with the message as given.
StatusError NewBadRequest(absl::string_view message);
// 401; "not authorized" when the reason is empty.
StatusError NewUnauthorized(absl::string_view message = "");
// 403 `pods "x" is forbidden: <detail>` (or `pods is forbidden: ...` without a name,
// `forbidden: ...` without a resource).
StatusError NewForbidden(const GroupResource& gr, absl::string_view name, absl::string_view detail);
// 405 `<action> is not supported on resources of kind "pods"`.
StatusError NewMethodNotSupported(const GroupResource& gr, absl::string_view action);
// 406 `only the following media types are accepted: a, b`.
StatusError NewNotAcceptable(const std::vector<std::string>& accepted);
// 413 `Request entity too large: <message>`.
StatusError NewRequestEntityTooLarge(absl::string_view message);
// 415 `the body of the request was in an unknown format - accepted media types include: ...`.
StatusError NewUnsupportedMediaType(const std::vector<std::string>& accepted);
// 429 with the message as given and retryAfterSeconds.
StatusError NewTooManyRequests(absl::string_view message, int retry_after_seconds);
// 500 `Internal error occurred: <error>`; causes [{message: error}].
StatusError NewInternalError(absl::string_view error);
// 500 reason ServerTimeout: `The <operation> operation against <resource> could not be
// completed at this time, please try again.`
StatusError NewServerTimeout(const GroupResource& gr, absl::string_view operation,
                             int retry_after_seconds);
// 503 with the message as given.
StatusError NewServiceUnavailable(absl::string_view message);
// 504 `Timeout: <message>`; retryAfterSeconds.
StatusError NewTimeoutError(absl::string_view message, int retry_after_seconds);

// Go's strconv.Quote for the printable cases: `"` and `\` escaped, control bytes and
// invalid UTF-8 as \a \n \x01 ..., valid UTF-8 kept (C1 controls as \u0085).
std::string GoQuote(absl::string_view s);

// Parses an HTTP Retry-After value the way client-go does (an integer, optional sign;
// HTTP dates are not accepted). nullopt when absent or malformed.
std::optional<int> ParseRetryAfterSeconds(absl::string_view header);

}  // namespace kslice::client

#endif  // KSLICE_CLIENT_ERRORS_ERRORS_H_
