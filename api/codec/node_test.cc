#include "api/codec/node.h"

#include <string>

#include "gtest/gtest.h"

namespace kslice::codec {
namespace {

TEST(ParseJson, KeepsNumberText) {
  auto n = ParseJson(R"({"big": 9223372036854775807, "q": 1e3, "f": 1.50, "neg": -0})");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->Find("big")->text, "9223372036854775807");
  EXPECT_EQ(n->Find("q")->text, "1e3");
  EXPECT_EQ(n->Find("f")->text, "1.50");
  EXPECT_TRUE(n->Find("neg")->is_number());
}

TEST(ParseJson, RejectsMalformedInput) {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "{\"a\":1} x", "nul", "\"\xff\"", "01",
                          "{\"a\":NaN}", "{'a':1}"}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
}

TEST(ParseJson, LimitsDepthAndSize) {
  std::string deep(100000, '[');
  auto n = ParseJson(deep);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("nesting"), std::string::npos) << n.status();
  ParseLimits small;
  small.max_bytes = 4;
  EXPECT_FALSE(ParseJson("[1,2,3]", small).ok());
}

TEST(ParseJson, DuplicateKeysLastWins) {
  auto n = ParseJson(R"({"a": 1, "a": 2})");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->Find("a")->text, "2");
}

TEST(ParseYaml, ResolvesPlainScalarsLikeGoYamlV2) {
  auto n = ParseYaml(
      "s: hello\n"
      "i: 42\n"
      "h: 0x1F\n"
      "f: .5\n"
      "t: yes\n"
      "b: false\n"
      "n: ~\n"
      "e:\n"
      "q: \"42\"\n"
      "ts: 2008-01-01T01:01:01Z\n"
      "v: 1.20\n");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_TRUE(n->Find("s")->is_string());
  EXPECT_EQ(n->Find("i")->text, "42");
  EXPECT_TRUE(n->Find("i")->is_number());
  EXPECT_TRUE(n->Find("i")->plain);
  EXPECT_EQ(n->Find("h")->text, "31");
  EXPECT_EQ(n->Find("f")->text, "0.5");
  EXPECT_TRUE(n->Find("t")->is_bool() && n->Find("t")->boolean);
  EXPECT_TRUE(n->Find("b")->is_bool() && !n->Find("b")->boolean);
  EXPECT_TRUE(n->Find("n")->is_null());
  EXPECT_TRUE(n->Find("e")->is_null());
  EXPECT_TRUE(n->Find("q")->is_string());
  EXPECT_FALSE(n->Find("q")->plain);
  EXPECT_TRUE(n->Find("ts")->is_string());
  // A plain number keeps its source text for string targets ("1.20", not "1.2").
  EXPECT_EQ(n->Find("v")->text, "1.20");
}

TEST(ParseYaml, RejectsBadInput) {
  for (const char* bad : {"a: [1, 2", "a: b: c", "{a: 1", "- a\nb: c", "*nope",
                          "a: 1\n---\nb: 2\n", "? [a]\n: 1\n"}) {
    EXPECT_FALSE(ParseYaml(bad).ok()) << bad;
  }
}

TEST(ParseYaml, StrayTokensDoNotHang) {
  // yaml-cpp alone loops forever on these (found by json_fuzz).
  for (const char* bad : {",\"a\":{\"b\":true}}],\"c\":[{\"d\":80}]}", "a: 1\n]\n", "}"}) {
    EXPECT_FALSE(ParseYaml(bad).ok()) << bad;
  }
  auto docs = ParseYaml("---\n---\na: 1\n---\n");
  ASSERT_TRUE(docs.ok()) << docs.status();
  EXPECT_EQ(docs->Find("a")->text, "1");
}

TEST(ParseYaml, RejectsInvalidUtf8AndControlCharacters) {
  EXPECT_FALSE(ParseYaml("a: \xff\n").ok());
  // Found by json_fuzz: a NUL inside a flow mapping came back as another key.
  EXPECT_FALSE(ParseYaml(std::string("a: {h\0_ c: x}\n", 15)).ok());
  EXPECT_FALSE(ParseYaml("a: b\x01\n").ok());
  EXPECT_TRUE(ParseYaml("a:\tb\r\n").ok());
}

TEST(ParseYaml, BoundsAliasExpansion) {
  // "Billion laughs": each level doubles the tree.
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 30; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) +
            ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + "]\n";
  }
  auto n = ParseYaml(yaml);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("limit"), std::string::npos) << n.status();
}

TEST(ParseYaml, DeepNestingIsAnError) {
  std::string deep(5000, '[');
  EXPECT_FALSE(ParseYaml(deep).ok());
}

TEST(WriteJson, CompactAndPretty) {
  Node obj = Node::Object();
  obj.Add("a", Node::Number("1"));
  Node& arr = obj.Add("b", Node::Array());
  arr.Push(Node::String("x\"y"));
  arr.Push(Node::Null());
  obj.Add("c", Node::Object());
  EXPECT_EQ(*WriteJson(obj), R"({"a":1,"b":["x\"y",null],"c":{}})");
  WriteOptions pretty;
  pretty.indent = 2;
  EXPECT_EQ(*WriteJson(obj, pretty),
            "{\n  \"a\": 1,\n  \"b\": [\n    \"x\\\"y\",\n    null\n  ],\n  \"c\": {}\n}");
}

TEST(WriteJson, ReplacesInvalidUtf8AndRefusesYamlOnlyNumbers) {
  auto s = WriteJson(Node::String("a\xff"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "\"a\xef\xbf\xbd\"");
  auto inf = ParseYaml("x: .inf\n");
  ASSERT_TRUE(inf.ok());
  EXPECT_FALSE(WriteJson(*inf).ok());
}

TEST(WriteYaml, SortsKeysAndQuotesAmbiguousStrings) {
  Node obj = Node::Object();
  obj.Add("b", Node::String("true"));
  obj.Add("a", Node::String("80"));
  obj.Add("c", Node::String("plain"));
  obj.Add("d", Node::Number("80"));
  obj.Add("e", Node::Array());
  auto y = WriteYaml(obj);
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(*y, "a: \"80\"\nb: \"true\"\nc: plain\nd: 80\ne: []\n");
  auto back = ParseYaml(*y);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->Equals(obj));
}

TEST(NodeEquals, ObjectOrderAndNumberSpelling) {
  auto a = ParseJson(R"({"x": 1, "y": [1.0, "s"]})");
  auto b = ParseJson(R"({"y": [1, "s"], "x": 1})");
  auto c = ParseJson(R"({"y": [1, "t"], "x": 1})");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(a->Equals(*b));
  EXPECT_FALSE(a->Equals(*c));
}

}  // namespace
}  // namespace kslice::codec
