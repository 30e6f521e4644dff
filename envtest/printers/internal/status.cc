#include "envtest/printers/internal/status.h"

#include <string>

#include "absl/strings/cord.h"
#include "envtest/storage/errors.h"

namespace kslice::envtest::printers::internal {

absl::Status NotAcceptableError(absl::string_view message) {
  storage::MetaStatus st;
  st.set_status("Failure");
  st.set_code(406);
  st.set_reason("NotAcceptable");
  st.set_message(std::string(message));
  std::string bytes;
  st.SerializeToString(&bytes);
  absl::Status s(absl::StatusCode::kInvalidArgument, message);
  s.SetPayload(storage::kStatusPayloadUrl, absl::Cord(bytes));
  return s;
}

}  // namespace kslice::envtest::printers::internal
