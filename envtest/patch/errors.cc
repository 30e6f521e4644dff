#include "envtest/patch/errors.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "api/meta/v1/meta.pb.h"
#include "envtest/storage/errors.h"

namespace kslice::envtest::patch {
namespace {

absl::Status WithPayload(absl::StatusCode code, absl::string_view message,
                         const storage::MetaStatus& status) {
  absl::Status s(code, message);
  std::string bytes;
  status.SerializeToString(&bytes);
  s.SetPayload(storage::kStatusPayloadUrl, absl::Cord(bytes));
  return s;
}

}  // namespace

absl::Status UnprocessablePatchError(absl::string_view detail) {
  storage::MetaStatus st;
  st.set_status("Failure");
  st.set_code(422);
  st.set_reason("Invalid");
  st.set_message(std::string(kGenericInvalidMessage));
  st.mutable_details();  // present and empty, as NewGenericServerResponse leaves it
  return WithPayload(absl::StatusCode::kInvalidArgument,
                     detail.empty() ? kGenericInvalidMessage
                                    : absl::StrCat(kGenericInvalidMessage, ": ", detail),
                     st);
}

absl::Status RequestEntityTooLargeError(absl::string_view message) {
  storage::MetaStatus st;
  st.set_status("Failure");
  st.set_code(413);
  st.set_reason("RequestEntityTooLarge");
  st.set_message(absl::StrCat("Request entity too large: ", message));
  return WithPayload(absl::StatusCode::kInvalidArgument, st.message(), st);
}

absl::Status PatchedObjectInvalidError(const codec::Node& patched, absl::string_view detail) {
  absl::StatusOr<std::string> json = codec::WriteJson(patched);
  return storage::InvalidError(
      "", "", "",
      {storage::FieldError::Invalid("patch", json.ok() ? *json : std::string("<unprintable>"),
                                    detail)});
}

}  // namespace kslice::envtest::patch
