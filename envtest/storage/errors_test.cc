#include "envtest/storage/errors.h"

#include <string>
#include <vector>

#include "envtest/storage/options.h"
#include "gtest/gtest.h"

namespace kslice::envtest::storage {
namespace {

struct ErrorCase {
  std::string name;
  absl::Status status;
  absl::StatusCode code;
  int http;
  std::string reason;
  std::string message;
};

class ErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ErrorTest, CodeReasonMessage) {
  const ErrorCase& c = GetParam();
  EXPECT_EQ(c.status.code(), c.code);
  EXPECT_EQ(c.status.message(), c.message);
  std::optional<MetaStatus> st = ApiStatusOf(c.status);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->status(), "Failure");
  EXPECT_EQ(st->code(), c.http);
  EXPECT_EQ(st->reason(), c.reason);
  EXPECT_EQ(st->message(), c.message);
  EXPECT_EQ(ReasonOf(c.status), c.reason);
}

const ResourceKey kPods{"", "pods"};
const ResourceKey kSlices{"discovery.k8s.io", "endpointslices"};

INSTANTIATE_TEST_SUITE_P(
    Upstream, ErrorTest,
    ::testing::Values(
        ErrorCase{"NotFound", NotFoundError(kPods, "web"), absl::StatusCode::kNotFound, 404,
                  "NotFound", R"(pods "web" not found)"},
        ErrorCase{"NotFoundGroup", NotFoundError(kSlices, "s"), absl::StatusCode::kNotFound, 404,
                  "NotFound", R"(endpointslices.discovery.k8s.io "s" not found)"},
        ErrorCase{"AlreadyExists", AlreadyExistsError(kPods, "web"),
                  absl::StatusCode::kAlreadyExists, 409, "AlreadyExists",
                  R"(pods "web" already exists)"},
        ErrorCase{"GenerateName", GenerateNameConflictError(kPods, "web-abcde", 1),
                  absl::StatusCode::kAlreadyExists, 409, "AlreadyExists",
                  R"(pods "web-abcde" already exists, the server was not able to generate a unique name for the object)"},
        ErrorCase{"Conflict", ConflictError(kPods, "web"), absl::StatusCode::kAborted, 409,
                  "Conflict",
                  R"(Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again)"},
        ErrorCase{"Expired", ExpiredError("too old resource version: 1 (5)"),
                  absl::StatusCode::kOutOfRange, 410, "Expired",
                  "too old resource version: 1 (5)"},
        ErrorCase{"BadRequest", BadRequestError("bad"), absl::StatusCode::kInvalidArgument, 400,
                  "BadRequest", "bad"},
        ErrorCase{"TooLarge", TooLargeResourceVersionError(10, 7, 1),
                  absl::StatusCode::kDeadlineExceeded, 504, "Timeout",
                  "Timeout: Too large resource version: 10, current: 7"},
        ErrorCase{"Unknown",
                  UnknownServerError("resourceVersion should not be set on objects to be created"),
                  absl::StatusCode::kInternal, 500, "",
                  "resourceVersion should not be set on objects to be created"},
        ErrorCase{"InvalidOne",
                  InvalidError("", "Pod", "x", {FieldError::Required("metadata.name", "")}),
                  absl::StatusCode::kInvalidArgument, 422, "Invalid",
                  R"(Pod "x" is invalid: metadata.name: Required value)"},
        ErrorCase{"InvalidMany",
                  InvalidError("meta.k8s.io", "ListOptions", "",
                               {FieldError::Forbidden("a", "no"),
                                FieldError::Invalid("b", "v\"1", "bad"),
                                FieldError::NotSupported("c", "X", {"A", ""})}),
                  absl::StatusCode::kInvalidArgument, 422, "Invalid",
                  R"(ListOptions.meta.k8s.io "" is invalid: [a: Forbidden: no, b: Invalid value: "v\"1": bad, c: Unsupported value: "X": supported values: "A", ""])"}),
    [](const ::testing::TestParamInfo<ErrorCase>& i) { return i.param.name; });

TEST(ErrorDetailsTest, ResourceDetails) {
  MetaStatus st = *ApiStatusOf(NotFoundError(kSlices, "s1"));
  EXPECT_EQ(st.details().name(), "s1");
  EXPECT_EQ(st.details().group(), "discovery.k8s.io");
  EXPECT_EQ(st.details().kind(), "endpointslices");

  st = *ApiStatusOf(GenerateNameConflictError(kPods, "web-x", 1));
  EXPECT_EQ(st.details().retryafterseconds(), 1);

  st = *ApiStatusOf(TooLargeResourceVersionError(10, 7, 1));
  EXPECT_EQ(st.details().retryafterseconds(), 1);
  ASSERT_EQ(st.details().causes_size(), 1);
  EXPECT_EQ(st.details().causes(0).reason(), "ResourceVersionTooLarge");
  EXPECT_EQ(st.details().causes(0).message(), "Too large resource version");

  st = *ApiStatusOf(InvalidError("", "Pod", "p", {FieldError::Required("metadata.name", "x")}));
  EXPECT_EQ(st.details().kind(), "Pod");
  ASSERT_EQ(st.details().causes_size(), 1);
  EXPECT_EQ(st.details().causes(0).reason(), "FieldValueRequired");
  EXPECT_EQ(st.details().causes(0).field(), "metadata.name");
  EXPECT_EQ(st.details().causes(0).message(), "Required value: x");

  st = *ApiStatusOf(ExpiredError("old", "tok"));
  EXPECT_EQ(st.metadata().continue_(), "tok");
}

TEST(ToApiStatusTest, WithoutPayload) {
  MetaStatus st = ToApiStatus(absl::InternalError("disk on fire"));
  EXPECT_EQ(st.code(), 500);
  EXPECT_EQ(st.reason(), "InternalError");
  EXPECT_EQ(st.message(), "Internal error occurred: disk on fire");
  EXPECT_EQ(ToApiStatus(absl::OkStatus()).status(), "Success");
  EXPECT_FALSE(ApiStatusOf(absl::OkStatus()).has_value());
  EXPECT_EQ(ReasonOf(absl::NotFoundError("plain")), "");
}

TEST(GoQuoteTest, Escapes) {
  EXPECT_EQ(GoQuote("a"), "\"a\"");
  EXPECT_EQ(GoQuote("a\"b\\c\n"), R"("a\"b\\c\n")");
  EXPECT_EQ(GoQuote(std::string("\x01", 1)), R"("\x01")");
}

// ---- ListOptions validation (upstream's ValidateListOptions) ----

struct OptionsCase {
  std::string name;
  ListOptions options;
  bool watch;
  std::string error;  // "" = valid
};

class ValidateListOptionsTest : public ::testing::TestWithParam<OptionsCase> {};

TEST_P(ValidateListOptionsTest, Validates) {
  const OptionsCase& c = GetParam();
  absl::Status s = ValidateListOptions(c.options, c.watch, /*watch_list_enabled=*/true);
  if (c.error.empty()) {
    EXPECT_TRUE(s.ok()) << s;
  } else {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(s), "Invalid");
    EXPECT_EQ(s.message(), "ListOptions.meta.k8s.io \"\" is invalid: " + c.error);
  }
}

ListOptions Opt(std::string rv, ResourceVersionMatch m, std::string cont = "",
                std::optional<bool> sie = std::nullopt) {
  ListOptions o;
  o.resource_version = std::move(rv);
  o.resource_version_match = m;
  o.continue_token = std::move(cont);
  o.send_initial_events = sie;
  return o;
}

using M = ResourceVersionMatch;

INSTANTIATE_TEST_SUITE_P(
    Upstream, ValidateListOptionsTest,
    ::testing::Values(
        OptionsCase{"ListPlain", Opt("", M::kUnset), false, ""},
        OptionsCase{"ListExact", Opt("5", M::kExact), false, ""},
        OptionsCase{"ListNotOlderThan0", Opt("0", M::kNotOlderThan), false, ""},
        OptionsCase{"ListMatchWithoutRV", Opt("", M::kNotOlderThan), false,
                    "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
                    "resourceVersion is provided"},
        OptionsCase{"ListExact0", Opt("0", M::kExact), false,
                    "resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden "
                    "for resourceVersion \"0\""},
        OptionsCase{"ListMatchWithContinue", Opt("5", M::kExact, "tok"), false,
                    "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when "
                    "continue is provided"},
        OptionsCase{"ListSendInitialEvents", Opt("", M::kUnset, "", true), false,
                    "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"},
        OptionsCase{"WatchPlain", Opt("5", M::kUnset), true, ""},
        OptionsCase{"WatchList", Opt("", M::kNotOlderThan, "", true), true, ""},
        OptionsCase{"WatchInitialWithoutMatch", Opt("", M::kUnset, "", true), true,
                    "resourceVersionMatch: Forbidden: sendInitialEvents requires setting "
                    "resourceVersionMatch to NotOlderThan"},
        OptionsCase{"WatchMatchWithoutInitial", Opt("5", M::kNotOlderThan), true,
                    "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for "
                    "watch unless sendInitialEvents is provided"},
        OptionsCase{"WatchExact", Opt("5", M::kExact, "", false), true,
                    "[resourceVersionMatch: Forbidden: sendInitialEvents requires setting "
                    "resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported "
                    "value: \"Exact\": supported values: \"NotOlderThan\"]"}),
    [](const ::testing::TestParamInfo<OptionsCase>& i) { return i.param.name; });

TEST(ValidateListOptionsTest, WatchListGate) {
  absl::Status s =
      ValidateListOptions(Opt("", M::kNotOlderThan, "", true), true, /*watch_list_enabled=*/false);
  EXPECT_EQ(s.message(),
            "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: "
            "sendInitialEvents is forbidden for watch unless the WatchList feature gate is "
            "enabled");
}

TEST(ParseResourceVersionMatchTest, Values) {
  EXPECT_EQ(*ParseResourceVersionMatch("", false), M::kUnset);
  EXPECT_EQ(*ParseResourceVersionMatch("Exact", false), M::kExact);
  EXPECT_EQ(*ParseResourceVersionMatch("NotOlderThan", true), M::kNotOlderThan);
  absl::StatusOr<M> bad = ParseResourceVersionMatch("exact", false);
  EXPECT_EQ(bad.status().message(),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported value: "
            "\"exact\": supported values: \"Exact\", \"NotOlderThan\", \"\"");
  bad = ParseResourceVersionMatch("Exact", true);
  EXPECT_EQ(bad.status().message(),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported value: "
            "\"Exact\": supported values: \"NotOlderThan\"");
}

TEST(ParseResourceVersionTest, Values) {
  EXPECT_EQ(*ParseResourceVersion(""), 0u);
  EXPECT_EQ(*ParseResourceVersion("0"), 0u);
  EXPECT_EQ(*ParseResourceVersion("18446744073709551615"), 18446744073709551615u);
  absl::StatusOr<uint64_t> bad = ParseResourceVersion("abc");
  EXPECT_EQ(ReasonOf(bad.status()), "BadRequest");
  EXPECT_EQ(bad.status().message(),
            "invalid resource version: resourceVersion: Invalid value: \"abc\": "
            "strconv.ParseUint: parsing \"abc\": invalid syntax");
  bad = ParseResourceVersion("18446744073709551616");
  EXPECT_EQ(bad.status().message(),
            "invalid resource version: resourceVersion: Invalid value: "
            "\"18446744073709551616\": strconv.ParseUint: parsing \"18446744073709551616\": "
            "value out of range");
  EXPECT_FALSE(ParseResourceVersion("-1").ok());
}

}  // namespace
}  // namespace kslice::envtest::storage
