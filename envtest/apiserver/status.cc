#include "envtest/apiserver/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace kslice::envtest::apiserver {
namespace {

absl::StatusCode CodeFor(int http) {
  switch (http) {
    case 400: return absl::StatusCode::kInvalidArgument;
    case 401: return absl::StatusCode::kUnauthenticated;
    case 403: return absl::StatusCode::kPermissionDenied;
    case 404: return absl::StatusCode::kNotFound;
    case 405: return absl::StatusCode::kUnimplemented;
    case 406: return absl::StatusCode::kInvalidArgument;
    case 409: return absl::StatusCode::kAborted;
    case 410: return absl::StatusCode::kOutOfRange;
    case 413: return absl::StatusCode::kInvalidArgument;  // as client/errors maps it
    case 415: return absl::StatusCode::kInvalidArgument;
    case 422: return absl::StatusCode::kInvalidArgument;
    case 429: return absl::StatusCode::kResourceExhausted;
    case 503: return absl::StatusCode::kUnavailable;
    case 504: return absl::StatusCode::kDeadlineExceeded;
    default: return http >= 500 ? absl::StatusCode::kInternal : absl::StatusCode::kUnknown;
  }
}

}  // namespace

absl::Status HttpError(int code, absl::string_view reason, absl::string_view message) {
  storage::MetaStatus st;
  st.set_status("Failure");
  st.set_code(code);
  if (!reason.empty()) st.set_reason(std::string(reason));
  st.set_message(std::string(message));
  absl::Status s(CodeFor(code), message);
  std::string bytes;
  st.SerializeToString(&bytes);
  s.SetPayload(storage::kStatusPayloadUrl, absl::Cord(bytes));
  return s;
}

absl::Status UnauthorizedError() { return HttpError(401, "Unauthorized", "Unauthorized"); }

absl::Status ForbiddenError(absl::string_view message, const storage::ResourceKey& resource,
                            absl::string_view name) {
  storage::MetaStatus st;
  st.set_status("Failure");
  st.set_code(403);
  st.set_reason("Forbidden");
  st.set_message(std::string(message));
  if (!resource.resource.empty()) {
    auto* d = st.mutable_details();
    if (!name.empty()) d->set_name(std::string(name));
    if (!resource.group.empty()) d->set_group(resource.group);
    d->set_kind(resource.resource);
  }
  absl::Status s(absl::StatusCode::kPermissionDenied, message);
  std::string bytes;
  st.SerializeToString(&bytes);
  s.SetPayload(storage::kStatusPayloadUrl, absl::Cord(bytes));
  return s;
}

absl::Status MethodNotAllowedError() {
  return HttpError(405, "MethodNotAllowed",
                   "the server does not allow this method on the requested resource");
}

absl::Status NotAcceptableError(absl::string_view message) {
  return HttpError(406, "NotAcceptable", message);
}

absl::Status UnsupportedMediaTypeError(absl::string_view /*content_type*/) {
  return HttpError(415, "UnsupportedMediaType",
                   "the body of the request was in an unknown format - accepted media types "
                   "include: application/json, application/yaml, "
                   "application/vnd.kubernetes.protobuf");
}

absl::Status RequestEntityTooLargeError(size_t limit) {
  return HttpError(413, "RequestEntityTooLarge",
                   absl::StrCat("Request entity too large: limit is ", limit));
}

absl::Status InternalServerError(absl::string_view message) {
  return HttpError(500, "InternalError", absl::StrCat("Internal error occurred: ", message));
}

absl::Status NotFoundPathError() {
  return HttpError(404, "NotFound", "the server could not find the requested resource");
}

int HttpCodeOf(const absl::Status& status) {
  if (status.ok()) return 200;
  if (std::optional<storage::MetaStatus> st = storage::ApiStatusOf(status); st && st->code() > 0) {
    return st->code();
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kOutOfRange: return 410;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

}  // namespace kslice::envtest::apiserver
