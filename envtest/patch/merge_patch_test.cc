// JSON merge patch (RFC 7386) with evanphx/json-patch v4's MergePatch and the API
// server's answers. Expected values: RFC 7386 Appendix A, evanphx's merge.go, apiserver
// pkg/endpoints/handlers/patch.go.
#include <string>

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
  const char* doc;
  const char* patch;
  const char* want;
};

class Rfc7386Test : public ::testing::TestWithParam<Case> {};

TEST_P(Rfc7386Test, Merges) {
  const Case& c = GetParam();
  EXPECT_TRUE(JsonEq(ApplyMergePatch(Json(c.doc), c.patch), c.want)) << c.patch;
}

// RFC 7386 Appendix A, for the documents an API server has (objects).
INSTANTIATE_TEST_SUITE_P(
    AppendixA, Rfc7386Test,
    ::testing::Values(Case{R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
                      Case{R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
                      Case{R"({"a":"b"})", R"({"a":null})", R"({})"},
                      Case{R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
                      Case{R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
                      Case{R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
                      Case{R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})",
                           R"({"a":{"b":"d"}})"},
                      Case{R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
                      Case{R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
                      Case{R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"}));

// evanphx/json-patch v4 specifics.
INSTANTIATE_TEST_SUITE_P(
    EvanphxV4, Rfc7386Test,
    ::testing::Values(
        // Nulls inside a value that replaces a non-object are dropped, at any depth...
        Case{R"({"a":1})", R"({"a":{"b":null,"c":[{"d":null,"e":1},null]}})",
             R"({"a":{"c":[{"e":1},null]}})"},
        // ...but an array replacing an object keeps them.
        Case{R"({"a":{"x":1}})", R"({"a":[{"d":null}]})", R"({"a":[{"d":null}]})"},
        // A null member of the document counts as absent.
        Case{R"({"a":null})", R"({"a":{"b":1,"c":null}})", R"({"a":{"b":1}})"},
        // Deleting what is not there is not an error.
        Case{R"({"a":1})", R"({"z":null})", R"({"a":1})"},
        // Duplicate keys: the last one wins.
        Case{R"({"a":1})", R"({"a":2,"a":3})", R"({"a":3})"},
        Case{R"({"a":{"b":1,"c":2}})", R"({"a":{"c":3,"d":4}})", R"({"a":{"b":1,"c":3,"d":4}})"}));

TEST(MergePatchTest, NonObjectPatches) {
  const codec::Node doc = Json(R"({"a":"foo"})");
  // null and scalars: ErrBadJSONPatch, which the API server answers with 400.
  for (const char* p : {"null", R"("bar")", "3", "true"}) {
    absl::Status s = ApplyMergePatch(doc, p).status();
    EXPECT_EQ(AnswerOf(s).code, 400) << p;
    EXPECT_EQ(AnswerOf(s).reason, "BadRequest") << p;
    EXPECT_EQ(AnswerOf(s).message, "Invalid JSON Patch") << p;
  }
  absl::Status s = ApplyMergePatch(doc, "{").status();
  EXPECT_EQ(AnswerOf(s).code, 400);
  EXPECT_EQ(AnswerOf(s).message, "invalid JSON patch");
  // An array replaces the document, which then is no object of any kind.
  s = ApplyMergePatch(doc, R"(["c"])").status();
  EXPECT_EQ(AnswerOf(s).code, 422);
  EXPECT_NE(AnswerOf(s).message.find("patch: Invalid value: \"[\\\"c\\\"]\": couldn't get "
                                     "version/kind; json parse error: json: cannot unmarshal "
                                     "array into Go value of type struct"),
            std::string::npos)
      << AnswerOf(s).message;
}

TEST(MergePatchTest, Pod) {
  const codec::Node pod = Json(R"({"apiVersion":"v1","kind":"Pod",
      "metadata":{"name":"p","labels":{"app":"web","tier":"fe"},"finalizers":["a","b"]},
      "spec":{"containers":[{"name":"c","image":"i:1"},{"name":"d","image":"j:1"}]}})");
  // Lists are replaced as a whole; maps merge; null deletes.
  EXPECT_TRUE(JsonEq(
      ApplyMergePatch(pod, R"({"metadata":{"labels":{"tier":null,"env":"prod"},"finalizers":["c"]},
                              "spec":{"containers":[{"name":"c","image":"i:2"}]}})"),
      R"({"apiVersion":"v1","kind":"Pod",
          "metadata":{"name":"p","labels":{"app":"web","env":"prod"},"finalizers":["c"]},
          "spec":{"containers":[{"name":"c","image":"i:2"}]}})"));
  absl::Status s = ApplyMergePatch(pod, R"({"kind":"Service"})").status();
  EXPECT_EQ(AnswerOf(s).code, 422);
  EXPECT_NE(AnswerOf(s).message.find("converting (v1.Service) to (core.Pod): unknown conversion"),
            std::string::npos)
      << AnswerOf(s).message;
  EXPECT_TRUE(ApplyMergePatch(pod, R"({"kind":null,"apiVersion":null})").ok());
}

}  // namespace
}  // namespace kslice::envtest::patch
