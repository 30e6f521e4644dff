#include "envtest/storage/continue_token.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace kslice::envtest::storage {
namespace {

std::string Token(const std::string& json) { return absl::WebSafeBase64Escape(json); }

TEST(ContinueTokenTest, EncodesLikeUpstream) {
  // What kube-apiserver sends for a page of pods ending at shop/web-1 at RV 1234.
  const std::string token = EncodeContinueToken(1234, std::string("shop/web-1\0", 11));
  std::string json;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &json));
  EXPECT_EQ(json, R"({"v":"meta.k8s.io/v1","rv":1234,"start":"shop/web-1\u0000"})");
  EXPECT_EQ(token.find('='), std::string::npos) << "unpadded";
}

TEST(ContinueTokenTest, RoundTrip) {
  for (int64_t rv : {int64_t{1}, int64_t{-1}, int64_t{9007199254740993}}) {
    for (std::string key : {std::string("a"), std::string("ns/name\0", 8), std::string("x/y/z")}) {
      absl::StatusOr<ContinueToken> t = DecodeContinueToken(EncodeContinueToken(rv, key));
      ASSERT_TRUE(t.ok()) << t.status();
      EXPECT_EQ(t->resource_version, rv);
      EXPECT_EQ(t->start_key, key);
    }
  }
}

TEST(ContinueTokenTest, DecodesUpstreamTokens) {
  // Produced by Go's EncodeContinue.
  absl::StatusOr<ContinueToken> t =
      DecodeContinueToken("eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NSwic3RhcnQiOiJmb28ifQ");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->resource_version, 5);
  EXPECT_EQ(t->start_key, "foo");
  // A rooted start key is accepted and made relative.
  t = DecodeContinueToken(Token(R"({"v":"meta.k8s.io/v1","rv":7,"start":"/a/b"})"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->start_key, "a/b");
  // Unknown fields are ignored, as Go's json does.
  t = DecodeContinueToken(Token(R"({"v":"meta.k8s.io/v1","rv":7,"start":"a","x":1})"));
  EXPECT_TRUE(t.ok()) << t.status();
}

struct BadToken {
  std::string token;
  std::string message;
};

class DecodeErrorTest : public ::testing::TestWithParam<BadToken> {};

TEST_P(DecodeErrorTest, Fails) {
  absl::StatusOr<ContinueToken> t = DecodeContinueToken(GetParam().token);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, DecodeErrorTest,
    ::testing::Values(
        BadToken{"!!!", "continue key is not valid: illegal base64 data"},
        BadToken{Token(R"({"v":"meta.k8s.io/v1","rv":7,"start":"a"})") + "==",
                 "continue key is not valid: illegal base64 data"},
        BadToken{Token("[1,2]"), "continue key is not valid: the token is not a JSON object"},
        BadToken{Token(R"({"v":"meta.k8s.io/v2","rv":7,"start":"a"})"),
                 "continue key is not valid: server does not recognize this encoded version "
                 "meta.k8s.io/v2"},
        BadToken{Token(R"({"v":"meta.k8s.io/v1","rv":0,"start":"a"})"),
                 "continue key is not valid: incorrect encoded start resourceVersion (version "
                 "meta.k8s.io/v1)"},
        BadToken{Token(R"({"v":"meta.k8s.io/v1","start":"a"})"),
                 "continue key is not valid: incorrect encoded start resourceVersion (version "
                 "meta.k8s.io/v1)"},
        BadToken{Token(R"({"v":"meta.k8s.io/v1","rv":3,"start":""})"),
                 "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)"},
        BadToken{Token(R"({"v":"meta.k8s.io/v1","rv":3,"start":"../secrets/x"})"),
                 "continue key is not valid: ../secrets/x"},
        BadToken{Token(R"({"v":"meta.k8s.io/v1","rv":3,"start":"a//b"})"),
                 "continue key is not valid: a//b"},
        BadToken{Token(R"({"v":"meta.k8s.io/v1","rv":"3","start":"a"})"),
                 "continue key is not valid: field rv is not an int64"}));

TEST(CleanPathTest, MatchesGo) {
  struct Case {
    std::string in, out;
  };
  for (const Case& c : std::vector<Case>{{"", "."},
                                         {"/", "/"},
                                         {"a/b", "a/b"},
                                         {"/a/b/", "/a/b"},
                                         {"a//b", "a/b"},
                                         {"a/./b", "a/b"},
                                         {"a/../b", "b"},
                                         {"/../a", "/a"},
                                         {"../a", "../a"},
                                         {"a/b/../..", "."}}) {
    EXPECT_EQ(CleanPath(c.in), c.out) << c.in;
  }
}

}  // namespace
}  // namespace kslice::envtest::storage
