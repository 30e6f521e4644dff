// Helpers for the patch tests.
#ifndef KSLICE_ENVTEST_PATCH_TEST_UTIL_H_
#define KSLICE_ENVTEST_PATCH_TEST_UTIL_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec/node.h"
#include "envtest/storage/errors.h"
#include "gtest/gtest.h"

namespace kslice::envtest::patch::testing {

inline codec::Node Json(absl::string_view json) {
  absl::StatusOr<codec::Node> n = codec::ParseJson(json);
  EXPECT_TRUE(n.ok()) << n.status() << " in " << json;
  return n.ok() ? *n : codec::Node();
}

inline std::string ToJson(const codec::Node& n) {
  absl::StatusOr<std::string> s = codec::WriteJson(n);
  return s.ok() ? *s : std::string(s.status().message());
}

// Checks a patch result against the expected JSON (object key order ignored, array
// order significant).
inline ::testing::AssertionResult JsonEq(const absl::StatusOr<codec::Node>& got,
                                         absl::string_view want) {
  if (!got.ok()) return ::testing::AssertionFailure() << "error: " << got.status();
  codec::Node w = Json(want);
  if (got->Equals(w)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got  " << ToJson(*got) << "\nwant " << ToJson(w);
}

// The HTTP answer an error carries.
struct Answer {
  int code = 0;
  std::string reason;
  std::string message;
};

inline Answer AnswerOf(const absl::Status& s) {
  std::optional<storage::MetaStatus> st = storage::ApiStatusOf(s);
  if (!st.has_value()) return Answer{-1, "", std::string(s.message())};
  return Answer{st->code(), st->reason(), st->message()};
}

}  // namespace kslice::envtest::patch::testing

#endif  // KSLICE_ENVTEST_PATCH_TEST_UTIL_H_
