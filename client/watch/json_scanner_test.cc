#include "client/watch/json_scanner.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kslice::client::watch::internal {
namespace {

// Scans `text` whole; returns the length of the object, or -1 if incomplete.
long ScanAll(absl::string_view text, int max_depth = 10) {
  JsonObjectScanner s(max_depth);
  absl::StatusOr<bool> done = s.Scan(text);
  EXPECT_TRUE(done.ok()) << done.status();
  if (!done.ok() || !*done) return -1;
  return static_cast<long>(s.scanned());
}

TEST(JsonObjectScannerTest, FindsTheEnd) {
  EXPECT_EQ(ScanAll("{}"), 2);
  EXPECT_EQ(ScanAll("{}{}"), 2);
  EXPECT_EQ(ScanAll(R"({"a":1}  {"b":2})"), 7);
  EXPECT_EQ(ScanAll(R"({"a":{"b":[1,{"c":"}"}]}}x)"), 25);
  EXPECT_EQ(ScanAll(R"({"a":"x\"}y"})"), 13);
  EXPECT_EQ(ScanAll(R"({"a":"x\\"})"), 11);
  EXPECT_EQ(ScanAll(R"({"a":"\u007d"})"), 14);
  EXPECT_EQ(ScanAll(R"({"a":"][}{"})"), 12);
  EXPECT_EQ(ScanAll(R"({"a":)"), -1);
  EXPECT_EQ(ScanAll(R"({"a":"})"), -1);
  EXPECT_EQ(ScanAll(R"({"a":"\)"), -1);
}

TEST(JsonObjectScannerTest, ByteByByteMatchesWhole) {
  const std::string text =
      R"({"type":"ADDED","object":{"k":"v\"}","a":[1,2,{"x":null}],"e":"\\"},"z":true})";
  JsonObjectScanner s(10);
  for (size_t n = 1; n <= text.size(); ++n) {
    absl::StatusOr<bool> done = s.Scan(absl::string_view(text).substr(0, n));
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_EQ(*done, n == text.size()) << n;
  }
  EXPECT_EQ(s.scanned(), text.size());
  JsonObjectScanner whole(10);
  ASSERT_TRUE(*whole.Scan(text));
  EXPECT_EQ(s.spans(), whole.spans());
}

TEST(JsonObjectScannerTest, RecordsDepthOneSpans) {
  const std::string text = R"({"type":"ADDED","object":{"a":"b"},"n":5,"l":[1]})";
  JsonObjectScanner s(10);
  ASSERT_TRUE(*s.Scan(text));
  std::vector<std::string> got;
  for (const Span& sp : s.spans()) got.push_back(text.substr(sp.first, sp.second - sp.first));
  EXPECT_EQ(got, (std::vector<std::string>{"\"type\"", "\"ADDED\"", "\"object\"", "{\"a\":\"b\"}",
                                           "\"n\"", "\"l\"", "[1]"}));
}

TEST(JsonObjectScannerTest, Errors) {
  auto error = [](absl::string_view text, int depth = 10) {
    JsonObjectScanner s(depth);
    return s.Scan(text).status();
  };
  EXPECT_FALSE(error("[]").ok());
  EXPECT_FALSE(error("x").ok());
  EXPECT_FALSE(error("{]").ok());
  EXPECT_FALSE(error(R"({"a":[}])").ok());
  EXPECT_FALSE(error(R"({"a":{]})").ok());
  EXPECT_TRUE(error(R"({"a":[[[1]]]})", 4).ok());
  absl::Status deep = error(R"({"a":[[[[1]]]]})", 4);
  EXPECT_FALSE(deep.ok());
  EXPECT_NE(deep.message().find("nesting deeper than 4"), absl::string_view::npos);
}

std::vector<Member> Split(absl::string_view text) {
  JsonObjectScanner s(10);
  absl::StatusOr<bool> done = s.Scan(text);
  EXPECT_TRUE(done.ok() && *done) << text;
  absl::StatusOr<std::vector<Member>> m = SplitObject(text.substr(0, s.scanned()), s.spans());
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : std::vector<Member>();
}

absl::Status SplitError(absl::string_view text) {
  JsonObjectScanner s(10);
  absl::StatusOr<bool> done = s.Scan(text);
  if (!done.ok()) return done.status();
  EXPECT_TRUE(*done) << text;
  return SplitObject(text.substr(0, s.scanned()), s.spans()).status();
}

TEST(SplitObjectTest, Members) {
  std::vector<Member> m =
      Split("{\n \"type\" : \"ADDED\" ,\t\"object\":{\"a\":[1]} , \"n\": -1.5e3 }");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].key, "type");
  EXPECT_EQ(m[0].value, "\"ADDED\"");
  EXPECT_EQ(m[1].key, "object");
  EXPECT_EQ(m[1].value, "{\"a\":[1]}");
  EXPECT_EQ(m[2].key, "n");
  EXPECT_EQ(m[2].value, "-1.5e3");

  EXPECT_TRUE(Split("{}").empty());
  EXPECT_TRUE(Split("{ \n }").empty());

  m = Split(R"({"t\u0079pe":null,"a\"b":true})");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].key, "type");
  EXPECT_EQ(m[0].value, "null");
  EXPECT_EQ(m[1].key, "a\"b");
  EXPECT_EQ(m[1].value, "true");
}

TEST(SplitObjectTest, SyntaxErrors) {
  for (absl::string_view bad : {
           R"({"a" 1})",
           R"({"a":})",
           R"({,})",
           R"({"a":1,})",
           R"({"a":1 "b":2})",
           R"({1:2})",
           R"({"a":tr"ue"})",
           R"({"a"})",
           R"({"a":1,,"b":2})",
           R"({"\x":1})",
       }) {
    EXPECT_FALSE(SplitError(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace kslice::client::watch::internal
