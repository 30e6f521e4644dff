// JSON patch (RFC 6902) with evanphx/json-patch v4's behavior and the API server's
// error answers. Expected values come from RFC 6902 Appendix A, from the behavior of
// evanphx/json-patch v4.13 (read from its source) and from apiserver
// pkg/endpoints/handlers/patch.go and its tests.
#include <string>

#include "absl/strings/str_cat.h"
#include "api/codec/node.h"
#include "envtest/patch/patch.h"
#include "envtest/patch/test_util.h"
#include "gtest/gtest.h"

namespace kslice::envtest::patch {
namespace {

using testing::AnswerOf;
using testing::Json;
using testing::JsonEq;

struct Case {
  const char* name;
  const char* doc;
  const char* patch;
  const char* want;  // nullptr: the patch fails with a 422
};

class RfcTest : public ::testing::TestWithParam<Case> {};

TEST_P(RfcTest, Applies) {
  const Case& c = GetParam();
  absl::StatusOr<codec::Node> got = ApplyJsonPatch(Json(c.doc), c.patch);
  if (c.want == nullptr) {
    ASSERT_FALSE(got.ok()) << testing::ToJson(*got);
    EXPECT_EQ(AnswerOf(got.status()).code, 422) << got.status();
    EXPECT_EQ(AnswerOf(got.status()).reason, "Invalid");
    EXPECT_EQ(AnswerOf(got.status()).message, kGenericInvalidMessage);
  } else {
    EXPECT_TRUE(JsonEq(got, c.want));
  }
}

// RFC 6902 Appendix A.
INSTANTIATE_TEST_SUITE_P(
    Rfc6902, RfcTest,
    ::testing::Values(
        Case{"A1AddMember", R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])",
             R"({"baz":"qux","foo":"bar"})"},
        Case{"A2AddElement", R"({"foo":["bar","baz"]})",
             R"([{"op":"add","path":"/foo/1","value":"qux"}])", R"({"foo":["bar","qux","baz"]})"},
        Case{"A3RemoveMember", R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])",
             R"({"foo":"bar"})"},
        Case{"A4RemoveElement", R"({"foo":["bar","qux","baz"]})",
             R"([{"op":"remove","path":"/foo/1"}])", R"({"foo":["bar","baz"]})"},
        Case{"A5Replace", R"({"baz":"qux","foo":"bar"})",
             R"([{"op":"replace","path":"/baz","value":"boo"}])", R"({"baz":"boo","foo":"bar"})"},
        Case{"A6Move", R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
             R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
             R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"},
        Case{"A7MoveElement", R"({"foo":["all","grass","cows","eat"]})",
             R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])",
             R"({"foo":["all","cows","eat","grass"]})"},
        Case{"A8TestSuccess", R"({"baz":"qux","foo":["a",2,"c"]})",
             R"([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}])",
             R"({"baz":"qux","foo":["a",2,"c"]})"},
        Case{"A9TestFailure", R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])",
             nullptr},
        Case{"A10AddNested", R"({"foo":"bar"})",
             R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
             R"({"foo":"bar","child":{"grandchild":{}}})"},
        Case{"A11IgnoreUnknownMembers", R"({"foo":"bar"})",
             R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])",
             R"({"foo":"bar","baz":"qux"})"},
        Case{"A12AddToMissingParent", R"({"foo":"bar"})",
             R"([{"op":"add","path":"/baz/bat","value":"qux"}])", nullptr},
        // A.13: duplicate "op" — encoding/json keeps the last one (remove of a missing key).
        Case{"A13DuplicateOp", R"({"foo":"bar"})",
             R"([{"op":"add","path":"/baz","value":"qux","op":"remove"}])", nullptr},
        Case{"A14EscapeOrder", R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])",
             R"({"/":9,"~1":10})"},
        Case{"A15StringIsNotNumber", R"({"/":9,"~1":10})",
             R"([{"op":"test","path":"/~01","value":"10"}])", nullptr},
        Case{"A16AddArrayValue", R"({"foo":["bar"]})",
             R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])",
             R"({"foo":["bar",["abc","def"]]})"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// What evanphx/json-patch v4 does beyond (or against) the RFC; clients rely on it.
INSTANTIATE_TEST_SUITE_P(
    EvanphxV4, RfcTest,
    ::testing::Values(
        Case{"NegativeIndexTest", R"({"a":[1,2,3]})", R"([{"op":"test","path":"/a/-1","value":3}])",
             R"({"a":[1,2,3]})"},
        Case{"NegativeIndexRemove", R"({"a":[1,2,3]})", R"([{"op":"remove","path":"/a/-3"}])",
             R"({"a":[2,3]})"},
        // add counts from the end of the list grown by one: -1 appends.
        Case{"NegativeIndexAdd", R"({"a":[1,2,3]})", R"([{"op":"add","path":"/a/-1","value":9}])",
             R"({"a":[1,2,3,9]})"},
        Case{"NegativeIndexOutOfRange", R"({"a":[1,2,3]})", R"([{"op":"remove","path":"/a/-4"}])",
             nullptr},
        Case{"ReplaceMissingMemberAdds", R"({"m":{}})",
             R"([{"op":"replace","path":"/m/x","value":"foo"},{"op":"test","path":"/m/x","value":"foo"}])",
             R"({"m":{"x":"foo"}})"},
        Case{"ReplaceMissingElementFails", R"({"a":[1]})",
             R"([{"op":"replace","path":"/a/1","value":2}])", nullptr},
        Case{"ReplaceRoot", R"({"a":1})", R"([{"op":"replace","path":"","value":{"b":2}}])",
             R"({"b":2})"},
        Case{"ReplaceRootWithScalarFails", R"({"a":1})",
             R"([{"op":"replace","path":"","value":3}])", nullptr},
        Case{"CopyFromMissingMemberCopiesNull", R"({"a":{}})",
             R"([{"op":"copy","from":"/a/x","path":"/b"}])", R"({"a":{},"b":null})"},
        Case{"CopyElement", R"({"a":[{"x":1}]})", R"([{"op":"copy","from":"/a/0","path":"/a/-"}])",
             R"({"a":[{"x":1},{"x":1}]})"},
        Case{"AddWithoutValueAddsNull", R"({})", R"([{"op":"add","path":"/a"}])", R"({"a":null})"},
        Case{"AddNullValue", R"({})", R"([{"op":"add","path":"/a","value":null}])",
             R"({"a":null})"},
        Case{"TestMissingMemberAgainstNull", R"({"a":{}})",
             R"([{"op":"test","path":"/a/x","value":null}])", R"({"a":{}})"},
        Case{"TestMissingMemberAgainstValue", R"({"a":{}})",
             R"([{"op":"test","path":"/a/x","value":1}])", nullptr},
        Case{"TestWholeDocument", R"({"a":[1,{"b":true}]})",
             R"([{"op":"test","path":"","value":{"a":[1,{"b":true}]}}])", R"({"a":[1,{"b":true}]})"},
        // Numbers compare by their text, as the raw JSON bytes are compared.
        Case{"TestNumberText", R"({"a":1})", R"([{"op":"test","path":"/a","value":1.0}])", nullptr},
        // Only the last segment names the target; the first one is dropped.
        Case{"PathWithoutLeadingSlash", R"({"a":1})", R"([{"op":"add","path":"x/b","value":2}])",
             R"({"a":1,"b":2})"},
        Case{"PathWithoutSlashFails", R"({"a":1})", R"([{"op":"add","path":"b","value":2}])",
             nullptr},
        Case{"EmptyKey", R"({})", R"([{"op":"add","path":"/","value":1}])", R"({"":1})"},
        Case{"AddPastEndFails", R"({"a":[1]})", R"([{"op":"add","path":"/a/2","value":2}])",
             nullptr},
        Case{"HugeIndexFails", R"({"a":[1]})",
             R"([{"op":"add","path":"/a/99999999999999999999999","value":2}])", nullptr},
        Case{"NonNumericIndexFails", R"({"a":[1]})", R"([{"op":"add","path":"/a/x","value":2}])",
             nullptr},
        Case{"TraverseThroughScalarFails", R"({"a":"s"})",
             R"([{"op":"add","path":"/a/b","value":2}])", nullptr},
        Case{"TraverseThroughNullFails", R"({"a":null})",
             R"([{"op":"add","path":"/a/b","value":2}])", nullptr},
        Case{"RemoveMissingFails", R"({})", R"([{"op":"remove","path":"/a"}])", nullptr},
        Case{"MoveMissingFails", R"({})", R"([{"op":"move","from":"/a","path":"/b"}])", nullptr},
        Case{"MoveIntoItselfFails", R"({"a":{"b":{}}})",
             R"([{"op":"move","from":"/a","path":"/a/b/c"}])", nullptr},
        Case{"UnknownOpFails", R"({})", R"([{"op":"merge","path":"/a","value":1}])", nullptr},
        Case{"MissingOpFails", R"({})", R"([{"path":"/a","value":1}])", nullptr},
        Case{"NullOperationFails", R"({})", R"([null])", nullptr},
        Case{"MissingPathFails", R"({})", R"([{"op":"add","value":1}])", nullptr},
        Case{"NonStringPathFails", R"({})", R"([{"op":"add","path":1,"value":1}])", nullptr},
        Case{"OperationsApplyInOrder", R"({"a":1})",
             R"([{"op":"copy","from":"/a","path":"/b"},{"op":"replace","path":"/a","value":2},
                 {"op":"test","path":"/b","value":1},{"op":"move","from":"/b","path":"/c"}])",
             R"({"a":2,"c":1})"},
        Case{"EmptyPatch", R"({"a":1})", R"([])", R"({"a":1})"},
        Case{"NullPatchIsEmpty", R"({"a":1})", R"(null)", R"({"a":1})"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// The cases of apiserver's TestJSONPatch (handlers/rest_test.go) on a pod.
TEST(JsonPatchTest, ApiServerCases) {
  const codec::Node pod = Json(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"podA","finalizers":["foo"]},"spec":{}})");
  EXPECT_TRUE(ApplyJsonPatch(pod, R"([{"op": "test", "value": "podA", "path": "/metadata/name"}])").ok());
  EXPECT_TRUE(
      ApplyJsonPatch(pod, R"([{"op": "test", "value": "foo", "path": "/metadata/finalizers/-1"}])")
          .ok());
  EXPECT_TRUE(ApplyJsonPatch(pod, R"([{"op":"replace", "path":"/metadata/path", "value":"foo"},
                                      {"op":"test", "path":"/metadata/path", "value":"foo"}])")
                  .ok());

  absl::Status bad_syntax = ApplyJsonPatch(pod, "invalid json patch").status();
  EXPECT_EQ(AnswerOf(bad_syntax).code, 400);
  EXPECT_EQ(AnswerOf(bad_syntax).reason, "BadRequest");
  EXPECT_EQ(AnswerOf(bad_syntax).message, "invalid JSON patch");

  absl::Status bad_semantics =
      ApplyJsonPatch(pod, R"([{"op": "test", "value": "podA", "path": "/invalid/path"}])").status();
  EXPECT_EQ(AnswerOf(bad_semantics).code, 422);
  EXPECT_EQ(AnswerOf(bad_semantics).reason, "Invalid");
  EXPECT_EQ(AnswerOf(bad_semantics).message,
            "the server rejected our request due to an error in our request");
  // The reason stays in the absl message for logs.
  EXPECT_EQ(bad_semantics.message(),
            "the server rejected our request due to an error in our request: test operation does "
            "not apply: is missing path: /invalid/path: missing value");
}

TEST(JsonPatchTest, DecodeErrorsAreBadRequests) {
  const codec::Node doc = Json(R"({"a":1})");
  struct {
    const char* patch;
    const char* message;
  } cases[] = {
      {"", "invalid JSON patch"},
      {R"([{"op":"add")", "invalid JSON patch"},
      {R"({"op":"add","path":"/a"})", "json: cannot unmarshal object into Go value of type jsonpatch.Patch"},
      {R"("x")", "json: cannot unmarshal string into Go value of type jsonpatch.Patch"},
      {R"([1])", "json: cannot unmarshal number into Go value of type jsonpatch.Operation"},
      {R"([{"op":"add","path":"/b","value":1},[]])",
       "json: cannot unmarshal array into Go value of type jsonpatch.Operation"},
  };
  for (const auto& c : cases) {
    absl::Status s = ApplyJsonPatch(doc, c.patch).status();
    EXPECT_EQ(AnswerOf(s).code, 400) << c.patch;
    EXPECT_EQ(AnswerOf(s).message, c.message) << c.patch;
  }
}

TEST(JsonPatchTest, TooManyOperations) {
  std::string patch = "[";
  for (int i = 0; i < 10001; ++i) {
    absl::StrAppend(&patch, i > 0 ? "," : "", R"({"op":"test","path":"/a","value":1})");
  }
  patch += "]";
  absl::Status s = ApplyJsonPatch(Json(R"({"a":1})"), patch).status();
  EXPECT_EQ(AnswerOf(s).code, 413);
  EXPECT_EQ(AnswerOf(s).reason, "RequestEntityTooLarge");
  EXPECT_EQ(AnswerOf(s).message,
            "Request entity too large: The allowed maximum operations in a JSON patch is 10000, "
            "got 10001");
  // 10000 is allowed.
  patch = "[";
  for (int i = 0; i < 10000; ++i) {
    absl::StrAppend(&patch, i > 0 ? "," : "", R"({"op":"test","path":"/a","value":1})");
  }
  patch += "]";
  EXPECT_TRUE(ApplyJsonPatch(Json(R"({"a":1})"), patch).ok());
}

TEST(JsonPatchTest, CopiesAreBounded) {
  // Every copy doubles the list; the accumulated copy size (3 MiB) stops it.
  std::string patch = R"([{"op":"add","path":"/a","value":["0123456789"]})";
  for (int i = 0; i < 40; ++i) {
    absl::StrAppend(&patch, R"(,{"op":"copy","from":"/a","path":"/a/-"})");
  }
  patch += "]";
  absl::Status s = ApplyJsonPatch(Json("{}"), patch).status();
  EXPECT_EQ(AnswerOf(s).code, 422);
  EXPECT_NE(s.message().find("Unable to complete the copy, the accumulated size increase of copy is"),
            absl::string_view::npos)
      << s;

  PatchOptions small;
  small.max_copy_bytes = 10;
  EXPECT_TRUE(ApplyJsonPatch(Json(R"({"a":"12345678"})"),
                             R"([{"op":"copy","from":"/a","path":"/b"}])", small)
                  .ok());  // "12345678" is 10 bytes of JSON
  EXPECT_FALSE(ApplyJsonPatch(Json(R"({"a":"123456789"})"),
                              R"([{"op":"copy","from":"/a","path":"/b"}])", small)
                   .ok());
}

TEST(JsonPatchTest, DepthIsBounded) {
  // Moving a subtree under itself repeatedly would double the depth every time.
  std::string patch = R"([{"op":"add","path":"/a","value":{"b":{"c":{}}}})";
  std::string path = "/a";
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(&patch, R"(,{"op":"copy","from":"/a","path":")", path, R"(/x"})");
    path += "/x";
  }
  patch += "]";
  PatchOptions opts;
  opts.max_depth = 16;
  absl::Status s = ApplyJsonPatch(Json("{}"), patch, opts).status();
  EXPECT_EQ(AnswerOf(s).code, 422);
  EXPECT_NE(s.message().find("deeper than 16 levels"), absl::string_view::npos) << s;
}

TEST(JsonPatchTest, KindAndApiVersionMustStayTheStoredType) {
  const codec::Node pod =
      Json(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{}})");
  // A kind this server does not know stays acceptable as long as it is unchanged.
  EXPECT_TRUE(ApplyJsonPatch(Json(R"({"apiVersion":"x/v1","kind":"Foo","spec":{}})"),
                             R"([{"op":"add","path":"/spec/a","value":1}])")
                  .ok());
  // Removing them is fine: the decoder defaults them from the stored type.
  EXPECT_TRUE(ApplyJsonPatch(pod, R"([{"op":"remove","path":"/kind"},
                                      {"op":"remove","path":"/apiVersion"}])")
                  .ok());
  struct {
    const char* patch;
    const char* detail;
  } cases[] = {
      {R"([{"op":"replace","path":"/kind","value":"Service"}])",
       "converting (v1.Service) to (core.Pod): unknown conversion"},
      {R"([{"op":"replace","path":"/kind","value":"Foo"}])",
       "no kind \"Foo\" is registered for version \"v1\" in scheme "
       "\"k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30\""},
      {R"([{"op":"replace","path":"/apiVersion","value":"v2"}])",
       "no kind \"Pod\" is registered for version \"v2\" in scheme "
       "\"k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30\""},
      {R"([{"op":"replace","path":"/kind","value":7}])",
       "couldn't get version/kind; json parse error: json: cannot unmarshal number into Go "
       "struct field .kind of type string"},
      {R"([{"op":"replace","path":"/apiVersion","value":"a/b/c"}])",
       "unexpected GroupVersion string: a/b/c"},
  };
  for (const auto& c : cases) {
    absl::Status s = ApplyJsonPatch(pod, c.patch).status();
    EXPECT_EQ(AnswerOf(s).code, 422) << c.patch;
    EXPECT_EQ(AnswerOf(s).reason, "Invalid") << c.patch;
    EXPECT_NE(AnswerOf(s).message.find(c.detail), std::string::npos)
        << c.patch << "\n" << AnswerOf(s).message;
    EXPECT_EQ(AnswerOf(s).message.rfind(" \"\" is invalid: patch: Invalid value: ", 0), 0u)
        << AnswerOf(s).message;
  }
}

}  // namespace
}  // namespace kslice::envtest::patch
