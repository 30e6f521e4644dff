#include "envtest/storage/errors.h"

#include "api/codec/go_strings.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace kslice::envtest::storage {
namespace {

using kslice::api::meta::v1::StatusCause;

constexpr absl::string_view kFailure = "Failure";

absl::Status WithPayload(absl::StatusCode code, const MetaStatus& status) {
  absl::Status s(code, status.message());
  std::string bytes;
  status.SerializeToString(&bytes);
  s.SetPayload(kStatusPayloadUrl, absl::Cord(bytes));
  return s;
}

MetaStatus Failure(int code, absl::string_view reason, absl::string_view message) {
  MetaStatus st;
  st.set_status(std::string(kFailure));
  st.set_code(code);
  if (!reason.empty()) st.set_reason(std::string(reason));
  st.set_message(std::string(message));
  return st;
}

void SetResourceDetails(MetaStatus* st, const ResourceKey& resource, absl::string_view name) {
  auto* d = st->mutable_details();
  if (!name.empty()) d->set_name(std::string(name));
  if (!resource.group.empty()) d->set_group(resource.group);
  if (!resource.resource.empty()) d->set_kind(resource.resource);
}

}  // namespace

FieldError FieldError::Required(std::string field, absl::string_view detail) {
  return {"FieldValueRequired", std::move(field),
          detail.empty() ? "Required value" : absl::StrCat("Required value: ", detail)};
}

FieldError FieldError::Forbidden(std::string field, absl::string_view detail) {
  return {"FieldValueForbidden", std::move(field),
          detail.empty() ? "Forbidden" : absl::StrCat("Forbidden: ", detail)};
}

FieldError FieldError::Invalid(std::string field, absl::string_view value,
                               absl::string_view detail) {
  std::string body = absl::StrCat("Invalid value: ", GoQuote(value));
  if (!detail.empty()) absl::StrAppend(&body, ": ", detail);
  return {"FieldValueInvalid", std::move(field), std::move(body)};
}

FieldError FieldError::NotSupported(std::string field, absl::string_view value,
                                    const std::vector<std::string>& supported) {
  std::string body = absl::StrCat("Unsupported value: ", GoQuote(value));
  if (!supported.empty()) {
    absl::StrAppend(&body, ": supported values: ",
                    absl::StrJoin(supported, ", ", [](std::string* out, const std::string& v) {
                      out->append(GoQuote(v));
                    }));
  }
  return {"FieldValueNotSupported", std::move(field), std::move(body)};
}

absl::Status NotFoundError(const ResourceKey& resource, absl::string_view name) {
  MetaStatus st = Failure(404, "NotFound",
                          absl::StrCat(resource.String(), " ", GoQuote(name), " not found"));
  SetResourceDetails(&st, resource, name);
  return WithPayload(absl::StatusCode::kNotFound, st);
}

absl::Status ResourceNotServedError(const ResourceKey& resource) {
  MetaStatus st = Failure(404, "NotFound", "the server could not find the requested resource");
  SetResourceDetails(&st, resource, "");
  return WithPayload(absl::StatusCode::kNotFound, st);
}

absl::Status AlreadyExistsError(const ResourceKey& resource, absl::string_view name) {
  MetaStatus st = Failure(409, "AlreadyExists",
                          absl::StrCat(resource.String(), " ", GoQuote(name), " already exists"));
  SetResourceDetails(&st, resource, name);
  return WithPayload(absl::StatusCode::kAlreadyExists, st);
}

absl::Status GenerateNameConflictError(const ResourceKey& resource, absl::string_view name,
                                       int retry_after_seconds) {
  MetaStatus st = Failure(
      409, "AlreadyExists",
      absl::StrCat(resource.String(), " ", GoQuote(name),
                   " already exists, the server was not able to generate a unique name for "
                   "the object"));
  SetResourceDetails(&st, resource, name);
  st.mutable_details()->set_retryafterseconds(retry_after_seconds);
  return WithPayload(absl::StatusCode::kAlreadyExists, st);
}

absl::Status ConflictError(const ResourceKey& resource, absl::string_view name,
                           absl::string_view detail) {
  MetaStatus st = Failure(409, "Conflict",
                          absl::StrCat("Operation cannot be fulfilled on ", resource.String(), " ",
                                       GoQuote(name), ": ", detail));
  SetResourceDetails(&st, resource, name);
  return WithPayload(absl::StatusCode::kAborted, st);
}

absl::Status ExpiredError(absl::string_view message, absl::string_view continue_token) {
  MetaStatus st = Failure(410, "Expired", message);
  if (!continue_token.empty()) st.mutable_metadata()->set_continue_(std::string(continue_token));
  return WithPayload(absl::StatusCode::kOutOfRange, st);
}

absl::Status BadRequestError(absl::string_view message) {
  return WithPayload(absl::StatusCode::kInvalidArgument, Failure(400, "BadRequest", message));
}

absl::Status InvalidError(absl::string_view group, absl::string_view kind, absl::string_view name,
                          const std::vector<FieldError>& errors) {
  const std::string qualified_kind =
      group.empty() ? std::string(kind) : absl::StrCat(kind, ".", group);
  std::string message = absl::StrCat(qualified_kind, " ", GoQuote(name), " is invalid");
  if (errors.size() == 1) {
    absl::StrAppend(&message, ": ", errors[0].ToString());
  } else if (errors.size() > 1) {
    absl::StrAppend(&message, ": [",
                    absl::StrJoin(errors, ", ",
                                  [](std::string* out, const FieldError& e) {
                                    out->append(e.ToString());
                                  }),
                    "]");
  }
  MetaStatus st = Failure(422, "Invalid", message);
  auto* d = st.mutable_details();
  if (!name.empty()) d->set_name(std::string(name));
  if (!group.empty()) d->set_group(std::string(group));
  d->set_kind(std::string(kind));
  for (const FieldError& e : errors) {
    StatusCause* c = d->add_causes();
    c->set_reason(e.type);
    c->set_message(e.body);
    c->set_field(e.field);
  }
  return WithPayload(absl::StatusCode::kInvalidArgument, st);
}

absl::Status TooLargeResourceVersionError(uint64_t minimum, uint64_t current,
                                          int retry_after_seconds) {
  MetaStatus st = Failure(
      504, "Timeout",
      absl::StrCat("Timeout: Too large resource version: ", minimum, ", current: ", current));
  auto* d = st.mutable_details();
  d->set_retryafterseconds(retry_after_seconds);
  StatusCause* c = d->add_causes();
  c->set_reason("ResourceVersionTooLarge");
  c->set_message("Too large resource version");
  return WithPayload(absl::StatusCode::kDeadlineExceeded, st);
}

absl::Status UnknownServerError(absl::string_view message) {
  return WithPayload(absl::StatusCode::kInternal, Failure(500, "", message));
}

std::optional<MetaStatus> ApiStatusOf(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  auto payload = status.GetPayload(kStatusPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  MetaStatus st;
  if (!st.ParseFromString(std::string(*payload))) return std::nullopt;
  return st;
}

MetaStatus ToApiStatus(const absl::Status& status) {
  if (status.ok()) {
    MetaStatus st;
    st.set_status("Success");
    return st;
  }
  if (std::optional<MetaStatus> st = ApiStatusOf(status)) return *std::move(st);
  MetaStatus st = Failure(500, "InternalError",
                          absl::StrCat("Internal error occurred: ", status.message()));
  st.mutable_details()->add_causes()->set_message(std::string(status.message()));
  return st;
}

std::string ReasonOf(const absl::Status& status) {
  std::optional<MetaStatus> st = ApiStatusOf(status);
  return st.has_value() ? st->reason() : std::string();
}

std::string GoQuote(absl::string_view s) {
  return codec::GoQuoted(std::string_view(s.data(), s.size()));
}

FieldError InvalidRenderedFieldError(std::string field, absl::string_view rendered_value,
                                     absl::string_view detail) {
  std::string body = absl::StrCat("Invalid value: ", rendered_value);
  if (!detail.empty()) absl::StrAppend(&body, ": ", detail);
  return {"FieldValueInvalid", std::move(field), std::move(body)};
}

FieldError DuplicateFieldError(std::string field, absl::string_view value) {
  return DuplicateRenderedFieldError(std::move(field), GoQuote(value));
}

FieldError DuplicateRenderedFieldError(std::string field, absl::string_view rendered_value) {
  return {"FieldValueDuplicate", std::move(field),
          absl::StrCat("Duplicate value: ", rendered_value)};
}

FieldError NotFoundFieldError(std::string field, absl::string_view value) {
  return {"FieldValueNotFound", std::move(field), absl::StrCat("Not found: ", GoQuote(value))};
}

FieldError TooLongFieldError(std::string field, int max_length) {
  std::string body = "Too long: value is too long";
  if (max_length >= 0) {
    body = absl::StrCat("Too long: may not be more than ", max_length,
                        max_length == 1 ? " byte" : " bytes");
  }
  return {"FieldValueTooLong", std::move(field), std::move(body)};
}

FieldError TooManyFieldError(std::string field, int actual, int max_quantity) {
  std::string body = "Too many";
  if (actual >= 0) absl::StrAppend(&body, ": ", actual);
  if (max_quantity >= 0) {
    absl::StrAppend(&body, ": must have at most ", max_quantity,
                    max_quantity == 1 ? " item" : " items");
  } else {
    absl::StrAppend(&body, ": has too many items");
  }
  return {"FieldValueTooMany", std::move(field), std::move(body)};
}

}  // namespace kslice::envtest::storage
