#include "client/errors/errors.h"

#include <climits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "api/codec/codec.h"
#include "api/scheme/scheme.h"

namespace kslice::client {

namespace {

using kslice::api::meta::v1::StatusCause;

// client-go keeps at most this much of a body it could not read as a Status.
constexpr size_t kMaxUnstructuredBodyBytes = 2048;

bool IsKnownReason(absl::string_view r) {
  static const auto* known = new absl::flat_hash_set<absl::string_view>{
      reason::kUnauthorized,
      reason::kForbidden,
      reason::kNotFound,
      reason::kAlreadyExists,
      reason::kConflict,
      reason::kGone,
      reason::kInvalid,
      reason::kServerTimeout,
      reason::kStoreReadError,
      reason::kTimeout,
      reason::kTooManyRequests,
      reason::kBadRequest,
      reason::kMethodNotAllowed,
      reason::kNotAcceptable,
      reason::kRequestEntityTooLarge,
      reason::kUnsupportedMediaType,
      reason::kInternalError,
      reason::kExpired,
      reason::kServiceUnavailable,
  };
  return known->contains(r);
}

// reason == want, or (reason unknown to Kubernetes and code == code_if_unknown).
bool ReasonOrCode(const StatusError& e, absl::string_view want, int code_if_unknown) {
  if (e.reason() == want) return true;
  return !IsKnownReason(e.reason()) && e.code() == code_if_unknown;
}

// A Scheme that reads Status under both names servers use ("v1" and, rarely,
// "meta.k8s.io/v1"); decoding a Status body goes through it.
const kslice::api::Scheme& StatusScheme() {
  static const kslice::api::Scheme* scheme = [] {
    auto* s = new kslice::api::Scheme();
    (void)s->Register("v1", "Status", &MetaStatus::default_instance());
    (void)s->Register("meta.k8s.io/v1", "Status", &MetaStatus::default_instance());
    return s;
  }();
  return *scheme;
}

// Go's mime.ParseMediaType + strings.HasPrefix(media, "text/"), with an empty
// content type counting as text (client-go's isTextResponse).
bool IsTextContentType(absl::string_view content_type) {
  absl::string_view media = absl::StripAsciiWhitespace(content_type);
  if (media.empty()) return true;
  media = absl::StripAsciiWhitespace(media.substr(0, media.find(';')));
  return absl::StartsWithIgnoreCase(media, "text/");
}

// Cuts `s` to at most n bytes without splitting a UTF-8 sequence.
absl::string_view CutUtf8(absl::string_view s, size_t n) {
  if (s.size() <= n) return s;
  size_t end = n;
  // Step back over continuation bytes (10xxxxxx) to the start of a sequence.
  size_t back = 0;
  while (end > 0 && back < 3 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) {
    --end;
    ++back;
  }
  return s.substr(0, end);
}

std::string StrLower(absl::string_view s) { return absl::AsciiStrToLower(s); }

MetaStatus Failure(int code, absl::string_view r, std::string message) {
  MetaStatus s;
  s.set_status(std::string(kStatusFailure));
  s.set_code(code);
  s.set_reason(std::string(r));
  s.set_message(std::move(message));
  return s;
}

void SetDetails(MetaStatus* s, const GroupResource& gr, absl::string_view name) {
  auto* d = s->mutable_details();
  d->set_group(gr.group);
  d->set_kind(gr.resource);
  d->set_name(std::string(name));
}

// Go's %v of a bad value rendered by field.Error.ErrorBody.
std::string Body(absl::string_view type_text, absl::string_view value, absl::string_view detail) {
  std::string s(type_text);
  if (!value.empty()) absl::StrAppend(&s, ": ", value);
  if (!detail.empty()) absl::StrAppend(&s, ": ", detail);
  return s;
}

}  // namespace

// ---- StatusError ----

StatusError::StatusError(MetaStatus status) : status_(std::move(status)) {
  if (status_.status().empty()) status_.set_status(std::string(kStatusFailure));
}

StatusError StatusError::FromResponse(int http_code, absl::string_view body,
                                      const ResponseInfo& info) {
  std::optional<int> retry_after = ParseRetryAfterSeconds(info.retry_after);

  if (!body.empty()) {
    codec::Format format = codec::Format::kJson;
    bool decodable = true;
    if (!absl::StripAsciiWhitespace(info.content_type).empty()) {
      absl::StatusOr<codec::Format> f = codec::FormatForContentType(info.content_type);
      if (f.ok()) {
        format = *f;
      } else {
        decodable = false;
      }
    } else if (absl::StartsWith(body, codec::kProtobufMagic)) {
      format = codec::Format::kProtobuf;
    }
    if (decodable) {
      codec::DecodeOptions options;
      options.scheme = &StatusScheme();
      MetaStatus status;
      if (codec::DecodeInto(body, format, &status, options).ok() &&
          status.status() == kStatusFailure) {
        if (status.code() == 0) status.set_code(http_code);
        if (retry_after.has_value() && *retry_after > 0 &&
            (!status.has_details() || status.details().retryafterseconds() == 0)) {
          status.mutable_details()->set_retryafterseconds(*retry_after);
        }
        return StatusError(std::move(status));
      }
    }
  }

  // Not a Status: synthesize one (client-go's NewGenericServerResponse).
  std::string server_message = "unknown";
  if (IsTextContentType(info.content_type)) {
    server_message =
        std::string(absl::StripAsciiWhitespace(CutUtf8(body, kMaxUnstructuredBodyBytes)));
  }
  absl::string_view r = reason::kUnknown;
  std::string message = absl::StrFormat(
      "the server responded with the status code %d but did not return more information",
      http_code);
  bool message_has_body = false;
  switch (http_code) {
    case 409:
      r = StrLower(info.verb) == "post" ? reason::kAlreadyExists : reason::kConflict;
      message = "the server reported a conflict";
      break;
    case 404:
      r = reason::kNotFound;
      message = "the server could not find the requested resource";
      break;
    case 400:
      r = reason::kBadRequest;
      message = "the server rejected our request for an unknown reason";
      break;
    case 401:
      r = reason::kUnauthorized;
      message = "the server has asked for the client to provide credentials";
      break;
    case 403:
      r = reason::kForbidden;
      message = server_message;
      message_has_body = true;
      break;
    case 406:
      r = reason::kNotAcceptable;
      if (server_message.empty() || server_message == "unknown") {
        message = "the server was unable to respond with a content type that the client supports";
      } else {
        message = server_message;
        message_has_body = true;
      }
      break;
    case 415:
      r = reason::kUnsupportedMediaType;
      message = server_message;
      message_has_body = true;
      break;
    case 405:
      r = reason::kMethodNotAllowed;
      message = "the server does not allow this method on the requested resource";
      break;
    case 422:
      r = reason::kInvalid;
      message = "the server rejected our request due to an error in our request";
      break;
    case 503:
      r = reason::kServiceUnavailable;
      message = "the server is currently unable to handle the request";
      break;
    case 504:
      r = reason::kTimeout;
      message =
          "the server was unable to return a response in the time allotted, but may still be "
          "processing the request";
      break;
    case 429:
      r = reason::kTooManyRequests;
      message = "the server has received too many requests and has asked us to try again later";
      break;
    default:
      if (http_code >= 500) {
        r = reason::kInternalError;
        message = absl::StrCat("an error on the server (", GoQuote(server_message),
                               ") has prevented the request from succeeding");
        message_has_body = true;
      }
      break;
  }
  GroupResource gr{info.group, info.resource};
  if (!gr.empty() && !info.name.empty()) {
    absl::StrAppend(&message, " (", StrLower(info.verb), " ", gr.String(), " ", info.name, ")");
  } else if (!gr.empty()) {
    absl::StrAppend(&message, " (", StrLower(info.verb), " ", gr.String(), ")");
  }
  if (!message_has_body && !server_message.empty() && server_message != "unknown") {
    absl::StrAppend(&message, ": ", server_message);
  }
  MetaStatus status = Failure(http_code, r, std::move(message));
  SetDetails(&status, gr, info.name);
  StatusCause* c = status.mutable_details()->add_causes();
  c->set_reason(std::string(cause::kUnexpectedServerResponse));
  c->set_message(server_message);
  if (retry_after.has_value()) status.mutable_details()->set_retryafterseconds(*retry_after);
  return StatusError(std::move(status));
}

std::string StatusError::ToString() const {
  absl::string_view r = reason().empty() ? absl::string_view("Unknown") : reason();
  return absl::StrCat(r, " (", code(), "): ", message());
}

// ---- absl::Status ----

absl::StatusCode CanonicalCode(const StatusError& error) {
  absl::string_view r = error.reason();
  if (r == reason::kNotFound) return absl::StatusCode::kNotFound;
  if (r == reason::kAlreadyExists) return absl::StatusCode::kAlreadyExists;
  if (r == reason::kConflict) return absl::StatusCode::kAborted;
  if (r == reason::kGone || r == reason::kExpired) return absl::StatusCode::kOutOfRange;
  if (r == reason::kInvalid || r == reason::kBadRequest || r == reason::kRequestEntityTooLarge) {
    return absl::StatusCode::kInvalidArgument;
  }
  if (r == reason::kForbidden) return absl::StatusCode::kPermissionDenied;
  if (r == reason::kUnauthorized) return absl::StatusCode::kUnauthenticated;
  if (r == reason::kTooManyRequests) return absl::StatusCode::kResourceExhausted;
  if (r == reason::kServerTimeout || r == reason::kTimeout) {
    return absl::StatusCode::kDeadlineExceeded;
  }
  if (r == reason::kInternalError) return absl::StatusCode::kInternal;
  if (r == reason::kStoreReadError) return absl::StatusCode::kDataLoss;
  if (r == reason::kServiceUnavailable) return absl::StatusCode::kUnavailable;
  if (r == reason::kMethodNotAllowed || r == reason::kNotAcceptable ||
      r == reason::kUnsupportedMediaType) {
    return absl::StatusCode::kUnimplemented;
  }
  switch (error.code()) {
    case 400:
    case 413:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 405:
    case 406:
    case 415:
    case 501:
      return absl::StatusCode::kUnimplemented;
    case 409:
      return absl::StatusCode::kAborted;
    case 410:
      return absl::StatusCode::kOutOfRange;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 502:
    case 503:
      return absl::StatusCode::kUnavailable;
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    default:
      return error.code() >= 500 ? absl::StatusCode::kInternal : absl::StatusCode::kUnknown;
  }
}

absl::Status ToStatus(const StatusError& error) {
  std::string message(error.message());
  if (message.empty()) {
    message = absl::StrCat("the server responded with status code ", error.code(),
                           error.reason().empty() ? "" : absl::StrCat(" (", error.reason(), ")"));
  }
  absl::Status s(CanonicalCode(error), message);
  std::string bytes;
  error.status().SerializeToString(&bytes);
  s.SetPayload(absl::string_view(kStatusPayloadUrl), absl::Cord(bytes));
  return s;
}

std::optional<StatusError> FromStatus(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  auto payload = status.GetPayload(absl::string_view(kStatusPayloadUrl));
  if (!payload.has_value()) return std::nullopt;
  MetaStatus meta;
  if (!meta.ParseFromString(std::string(*payload))) return std::nullopt;
  return StatusError(std::move(meta));
}

// ---- Predicates ----

bool IsNotFound(const StatusError& e) { return ReasonOrCode(e, reason::kNotFound, 404); }
bool IsAlreadyExists(const StatusError& e) { return e.reason() == reason::kAlreadyExists; }
bool IsConflict(const StatusError& e) { return ReasonOrCode(e, reason::kConflict, 409); }
bool IsGone(const StatusError& e) { return ReasonOrCode(e, reason::kGone, 410); }
bool IsResourceExpired(const StatusError& e) { return ReasonOrCode(e, reason::kExpired, 410); }
bool IsGoneOrExpired(const StatusError& e) { return IsGone(e) || IsResourceExpired(e); }
bool IsInvalid(const StatusError& e) { return ReasonOrCode(e, reason::kInvalid, 422); }
bool IsBadRequest(const StatusError& e) { return ReasonOrCode(e, reason::kBadRequest, 400); }
bool IsForbidden(const StatusError& e) { return ReasonOrCode(e, reason::kForbidden, 403); }
bool IsUnauthorized(const StatusError& e) { return ReasonOrCode(e, reason::kUnauthorized, 401); }
bool IsMethodNotSupported(const StatusError& e) {
  return ReasonOrCode(e, reason::kMethodNotAllowed, 405);
}
bool IsNotAcceptable(const StatusError& e) { return ReasonOrCode(e, reason::kNotAcceptable, 406); }
bool IsUnsupportedMediaType(const StatusError& e) {
  return ReasonOrCode(e, reason::kUnsupportedMediaType, 415);
}
bool IsTooManyRequests(const StatusError& e) {
  return e.reason() == reason::kTooManyRequests || e.code() == 429;
}
bool IsRequestEntityTooLarge(const StatusError& e) {
  return e.reason() == reason::kRequestEntityTooLarge || e.code() == 413;
}
bool IsServerTimeout(const StatusError& e) { return e.reason() == reason::kServerTimeout; }
bool IsTimeout(const StatusError& e) { return ReasonOrCode(e, reason::kTimeout, 504); }
bool IsInternalError(const StatusError& e) { return ReasonOrCode(e, reason::kInternalError, 500); }
bool IsServiceUnavailable(const StatusError& e) {
  return ReasonOrCode(e, reason::kServiceUnavailable, 503);
}
bool IsStoreReadError(const StatusError& e) { return e.reason() == reason::kStoreReadError; }
bool IsUnexpectedServerError(const StatusError& e) {
  return FindCause(e, cause::kUnexpectedServerResponse).has_value();
}

std::optional<StatusCause> FindCause(const StatusError& e, absl::string_view type) {
  if (!e.status().has_details()) return std::nullopt;
  for (const StatusCause& c : e.status().details().causes()) {
    if (c.reason() == type) return c;
  }
  return std::nullopt;
}

std::optional<int> SuggestsClientDelay(const StatusError& e) {
  if (!e.status().has_details()) return std::nullopt;
  int seconds = e.status().details().retryafterseconds();
  if (e.reason() == reason::kServerTimeout) return seconds;
  if (seconds > 0) return seconds;
  return std::nullopt;
}

#define KSLICE_STATUS_PREDICATE(Name)             \
  bool Name(const absl::Status& s) {              \
    std::optional<StatusError> e = FromStatus(s); \
    return e.has_value() && Name(*e);             \
  }
KSLICE_STATUS_PREDICATE(IsConflict)
KSLICE_STATUS_PREDICATE(IsGone)
KSLICE_STATUS_PREDICATE(IsResourceExpired)
KSLICE_STATUS_PREDICATE(IsGoneOrExpired)
KSLICE_STATUS_PREDICATE(IsInvalid)
KSLICE_STATUS_PREDICATE(IsBadRequest)
KSLICE_STATUS_PREDICATE(IsForbidden)
KSLICE_STATUS_PREDICATE(IsUnauthorized)
KSLICE_STATUS_PREDICATE(IsMethodNotSupported)
KSLICE_STATUS_PREDICATE(IsNotAcceptable)
KSLICE_STATUS_PREDICATE(IsUnsupportedMediaType)
KSLICE_STATUS_PREDICATE(IsTooManyRequests)
KSLICE_STATUS_PREDICATE(IsRequestEntityTooLarge)
KSLICE_STATUS_PREDICATE(IsServerTimeout)
KSLICE_STATUS_PREDICATE(IsTimeout)
KSLICE_STATUS_PREDICATE(IsInternalError)
KSLICE_STATUS_PREDICATE(IsServiceUnavailable)
KSLICE_STATUS_PREDICATE(IsStoreReadError)
KSLICE_STATUS_PREDICATE(IsUnexpectedServerError)
#undef KSLICE_STATUS_PREDICATE

std::optional<int> SuggestsClientDelay(const absl::Status& s) {
  std::optional<StatusError> e = FromStatus(s);
  if (!e.has_value()) return std::nullopt;
  return SuggestsClientDelay(*e);
}

std::string ReasonForError(const absl::Status& s) {
  std::optional<StatusError> e = FromStatus(s);
  return e.has_value() ? std::string(e->reason()) : std::string();
}

// ---- Constructors ----

std::string GroupResource::String() const {
  return group.empty() ? resource : absl::StrCat(resource, ".", group);
}

std::string GroupKind::String() const {
  return group.empty() ? kind : absl::StrCat(kind, ".", group);
}

std::string FieldError::ToString() const { return absl::StrCat(field, ": ", body); }

FieldError FieldError::Required(std::string field, absl::string_view detail) {
  return {std::string(cause::kFieldValueRequired), std::move(field),
          Body("Required value", "", detail)};
}

FieldError FieldError::Forbidden(std::string field, absl::string_view detail) {
  return {std::string(cause::kFieldValueForbidden), std::move(field),
          Body("Forbidden", "", detail)};
}

FieldError FieldError::Invalid(std::string field, absl::string_view value,
                               absl::string_view detail) {
  return {std::string(cause::kFieldValueInvalid), std::move(field),
          Body("Invalid value", GoQuote(value), detail)};
}

FieldError FieldError::Invalid(std::string field, int64_t value, absl::string_view detail) {
  return {std::string(cause::kFieldValueInvalid), std::move(field),
          Body("Invalid value", absl::StrCat(value), detail)};
}

FieldError FieldError::TypeInvalid(std::string field, absl::string_view value,
                                   absl::string_view detail) {
  return {std::string(cause::kFieldValueTypeInvalid), std::move(field),
          Body("Invalid value", GoQuote(value), detail)};
}

FieldError FieldError::NotSupported(std::string field, absl::string_view value,
                                    const std::vector<std::string>& supported) {
  std::string detail;
  if (!supported.empty()) {
    detail = absl::StrCat(
        "supported values: ",
        absl::StrJoin(supported, ", ",
                      [](std::string* out, const std::string& v) { out->append(GoQuote(v)); }));
  }
  return {std::string(cause::kFieldValueNotSupported), std::move(field),
          Body("Unsupported value", GoQuote(value), detail)};
}

FieldError FieldError::Duplicate(std::string field, absl::string_view value) {
  return {std::string(cause::kFieldValueDuplicate), std::move(field),
          Body("Duplicate value", GoQuote(value), "")};
}

FieldError FieldError::NotFound(std::string field, absl::string_view value) {
  return {std::string(cause::kFieldValueNotFound), std::move(field),
          Body("Not found", GoQuote(value), "")};
}

FieldError FieldError::TooLong(std::string field, int max_bytes) {
  std::string detail = max_bytes >= 0 ? absl::StrCat("may not be more than ", max_bytes,
                                                     max_bytes == 1 ? " byte" : " bytes")
                                      : "value is too long";
  return {std::string(cause::kFieldValueTooLong), std::move(field), Body("Too long", "", detail)};
}

FieldError FieldError::TooMany(std::string field, int actual, int max_items) {
  std::string detail = max_items >= 0 ? absl::StrCat("must have at most ", max_items,
                                                     max_items == 1 ? " item" : " items")
                                      : "has too many items";
  return {std::string(cause::kFieldValueTooMany), std::move(field),
          Body("Too many", actual >= 0 ? absl::StrCat(actual) : "", detail)};
}

FieldError FieldError::Internal(std::string field, absl::string_view detail) {
  return {std::string(cause::kInternal), std::move(field), Body("Internal error", "", detail)};
}

StatusError NewNotFound(const GroupResource& gr, absl::string_view name) {
  MetaStatus s =
      Failure(404, reason::kNotFound, absl::StrCat(gr.String(), " ", GoQuote(name), " not found"));
  SetDetails(&s, gr, name);
  return StatusError(std::move(s));
}

StatusError NewAlreadyExists(const GroupResource& gr, absl::string_view name) {
  MetaStatus s = Failure(409, reason::kAlreadyExists,
                         absl::StrCat(gr.String(), " ", GoQuote(name), " already exists"));
  SetDetails(&s, gr, name);
  return StatusError(std::move(s));
}

StatusError NewGenerateNameConflict(const GroupResource& gr, absl::string_view name,
                                    int retry_after_seconds) {
  MetaStatus s = Failure(
      409, reason::kAlreadyExists,
      absl::StrCat(gr.String(), " ", GoQuote(name),
                   " already exists, the server was not able to generate a unique name for the "
                   "object"));
  SetDetails(&s, gr, name);
  s.mutable_details()->set_retryafterseconds(retry_after_seconds);
  return StatusError(std::move(s));
}

StatusError NewConflict(const GroupResource& gr, absl::string_view name, absl::string_view detail) {
  MetaStatus s = Failure(409, reason::kConflict,
                         absl::StrCat("Operation cannot be fulfilled on ", gr.String(), " ",
                                      GoQuote(name), ": ", detail));
  SetDetails(&s, gr, name);
  return StatusError(std::move(s));
}

StatusError NewApplyConflict(std::vector<StatusCause> causes, absl::string_view message) {
  MetaStatus s = Failure(409, reason::kConflict, std::string(message));
  auto* d = s.mutable_details();
  for (StatusCause& c : causes) *d->add_causes() = std::move(c);
  return StatusError(std::move(s));
}

StatusError NewGone(absl::string_view message) {
  return StatusError(Failure(410, reason::kGone, std::string(message)));
}

StatusError NewResourceExpired(absl::string_view message) {
  return StatusError(Failure(410, reason::kExpired, std::string(message)));
}

StatusError NewInvalid(const GroupKind& gk, absl::string_view name,
                       const std::vector<FieldError>& errors) {
  std::string message = absl::StrCat(gk.String(), " ", GoQuote(name), " is invalid");
  if (!errors.empty()) {
    // utilerrors.Aggregate: one error as is; several de-duplicated, in brackets
    // unless de-duplication leaves one.
    std::vector<std::string> unique;
    absl::flat_hash_set<std::string> seen;
    for (const FieldError& e : errors) {
      std::string text = e.ToString();
      if (seen.insert(text).second) unique.push_back(std::move(text));
    }
    if (errors.size() == 1 || unique.size() == 1) {
      absl::StrAppend(&message, ": ", unique[0]);
    } else {
      absl::StrAppend(&message, ": [", absl::StrJoin(unique, ", "), "]");
    }
  }
  MetaStatus s = Failure(422, reason::kInvalid, std::move(message));
  auto* d = s.mutable_details();
  d->set_group(gk.group);
  d->set_kind(gk.kind);
  d->set_name(std::string(name));
  for (const FieldError& e : errors) {
    StatusCause* c = d->add_causes();
    c->set_reason(e.type);
    c->set_message(e.body);
    c->set_field(e.field);
  }
  return StatusError(std::move(s));
}

StatusError NewBadRequest(absl::string_view message) {
  return StatusError(Failure(400, reason::kBadRequest, std::string(message)));
}

StatusError NewUnauthorized(absl::string_view message) {
  return StatusError(Failure(401, reason::kUnauthorized,
                             message.empty() ? "not authorized" : std::string(message)));
}

StatusError NewForbidden(const GroupResource& gr, absl::string_view name,
                         absl::string_view detail) {
  std::string message;
  if (gr.empty()) {
    message = absl::StrCat("forbidden: ", detail);
  } else if (name.empty()) {
    message = absl::StrCat(gr.String(), " is forbidden: ", detail);
  } else {
    message = absl::StrCat(gr.String(), " ", GoQuote(name), " is forbidden: ", detail);
  }
  MetaStatus s = Failure(403, reason::kForbidden, std::move(message));
  SetDetails(&s, gr, name);
  return StatusError(std::move(s));
}

StatusError NewMethodNotSupported(const GroupResource& gr, absl::string_view action) {
  MetaStatus s = Failure(
      405, reason::kMethodNotAllowed,
      absl::StrCat(action, " is not supported on resources of kind ", GoQuote(gr.String())));
  s.mutable_details()->set_group(gr.group);
  s.mutable_details()->set_kind(gr.resource);
  return StatusError(std::move(s));
}

StatusError NewNotAcceptable(const std::vector<std::string>& accepted) {
  return StatusError(Failure(406, reason::kNotAcceptable,
                             absl::StrCat("only the following media types are accepted: ",
                                          absl::StrJoin(accepted, ", "))));
}

StatusError NewRequestEntityTooLarge(absl::string_view message) {
  return StatusError(Failure(413, reason::kRequestEntityTooLarge,
                             absl::StrCat("Request entity too large: ", message)));
}

StatusError NewUnsupportedMediaType(const std::vector<std::string>& accepted) {
  return StatusError(Failure(
      415, reason::kUnsupportedMediaType,
      absl::StrCat("the body of the request was in an unknown format - accepted media types "
                   "include: ",
                   absl::StrJoin(accepted, ", "))));
}

StatusError NewTooManyRequests(absl::string_view message, int retry_after_seconds) {
  MetaStatus s = Failure(429, reason::kTooManyRequests, std::string(message));
  s.mutable_details()->set_retryafterseconds(retry_after_seconds);
  return StatusError(std::move(s));
}

StatusError NewInternalError(absl::string_view error) {
  MetaStatus s =
      Failure(500, reason::kInternalError, absl::StrCat("Internal error occurred: ", error));
  s.mutable_details()->add_causes()->set_message(std::string(error));
  return StatusError(std::move(s));
}

StatusError NewServerTimeout(const GroupResource& gr, absl::string_view operation,
                             int retry_after_seconds) {
  MetaStatus s = Failure(500, reason::kServerTimeout,
                         absl::StrCat("The ", operation, " operation against ", gr.String(),
                                      " could not be completed at this time, please try again."));
  SetDetails(&s, gr, operation);
  s.mutable_details()->set_retryafterseconds(retry_after_seconds);
  return StatusError(std::move(s));
}

StatusError NewServiceUnavailable(absl::string_view message) {
  return StatusError(Failure(503, reason::kServiceUnavailable, std::string(message)));
}

StatusError NewTimeoutError(absl::string_view message, int retry_after_seconds) {
  MetaStatus s = Failure(504, reason::kTimeout, absl::StrCat("Timeout: ", message));
  s.mutable_details()->set_retryafterseconds(retry_after_seconds);
  return StatusError(std::move(s));
}

// ---- Helpers ----

std::string GoQuote(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\a':
          out.append("\\a");
          break;
        case '\b':
          out.append("\\b");
          break;
        case '\f':
          out.append("\\f");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        case '\v':
          out.append("\\v");
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            absl::StrAppendFormat(&out, "\\x%02x", c);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    // Multi-byte UTF-8: validate the sequence; invalid bytes are written as \xNN.
    int len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool valid = len > 0 && i + len <= s.size();
    for (int k = 1; valid && k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        valid = false;
      } else {
        cp = (cp << 6) | (cc & 0x3F);
      }
    }
    if (valid) {
      // Overlong forms, surrogates and values past U+10FFFF are invalid UTF-8.
      static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
      valid = cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!valid) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
      ++i;
      continue;
    }
    if (cp >= 0x80 && cp <= 0x9F) {
      absl::StrAppendFormat(&out, "\\u%04x", cp);
    } else {
      out.append(s.data() + i, len);
    }
    i += len;
  }
  out.push_back('"');
  return out;
}

std::optional<int> ParseRetryAfterSeconds(absl::string_view header) {
  absl::string_view h = absl::StripAsciiWhitespace(header);
  if (h.empty()) return std::nullopt;
  // strconv.Atoi: optional sign, then decimal digits only.
  absl::string_view digits = h;
  if (digits[0] == '+' || digits[0] == '-') digits.remove_prefix(1);
  if (digits.empty()) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int64_t v = 0;
  if (!absl::SimpleAtoi(h, &v) || v > INT_MAX || v < INT_MIN) return std::nullopt;
  return static_cast<int>(v);
}

}  // namespace kslice::client
