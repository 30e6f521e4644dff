#include "api/fields/selector.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kslice::fields {
namespace {

std::vector<Requirement> SortedTerms(const Selector& s) {
  std::vector<Requirement> v = s.requirements();
  std::sort(v.begin(), v.end(), [](const Requirement& a, const Requirement& b) {
    return a.String() < b.String();
  });
  return v;
}

// ---- Parse -> String ----

struct CanonicalCase {
  std::string input;
  std::string canonical;
};

void PrintTo(const CanonicalCase& c, std::ostream* os) { *os << "\"" << c.input << "\""; }

class ParseCanonicalTest : public testing::TestWithParam<CanonicalCase> {};

TEST_P(ParseCanonicalTest, ParsesAndPrints) {
  const CanonicalCase& c = GetParam();
  absl::StatusOr<Selector> s = Parse(c.input);
  ASSERT_TRUE(s.ok()) << "input: " << c.input << ": " << s.status();
  EXPECT_EQ(s->String(), c.canonical) << "input: " << c.input;
  absl::StatusOr<Selector> again = Parse(s->String());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(SortedTerms(*again), SortedTerms(*s));
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, ParseCanonicalTest,
    testing::Values(
        CanonicalCase{"", ""}, CanonicalCase{"x=a,y=b,z=c", "x=a,y=b,z=c"},
        CanonicalCase{"x!=a,y=b", "x!=a,y=b"}, CanonicalCase{R"(x=a||y\=b)", R"(x=a||y\=b)"},
        CanonicalCase{R"(x=a\=\=b)", R"(x=a\=\=b)"},
        // "==" prints as "="; terms sort by their raw text.
        CanonicalCase{"x==a", "x=a"}, CanonicalCase{"b=1,a!=2", "a!=2,b=1"},
        CanonicalCase{"x=a,a=x", "a=x,x=a"}, CanonicalCase{"x=b,x==a", "x=a,x=b"},
        // Empty terms are skipped.
        CanonicalCase{"a=a,", "a=a"}, CanonicalCase{",a=a", "a=a"}, CanonicalCase{",", ""},
        CanonicalCase{",,a=a,,", "a=a"},
        // Escapes.
        CanonicalCase{R"(k=\,,k2=v2)", R"(k2=v2,k=\,)"}, CanonicalCase{R"(k=\\,k2=v2)", R"(k2=v2,k=\\)"},
        CanonicalCase{R"(k=\\\,,k2=v2)", R"(k2=v2,k=\\\,)"}, CanonicalCase{R"(a=\,,b=c)", R"(a=\,,b=c)"},
        // The field is literal up to the first operator; values may hold '!' and blanks.
        CanonicalCase{"=a", "=a"}, CanonicalCase{"a=", "a="}, CanonicalCase{"a!b=c", "a!b=c"},
        CanonicalCase{"a=b!c", "a=b!c"}, CanonicalCase{"a = b", "a = b"},
        CanonicalCase{"spec.nodeName!=,metadata.name=foo", "metadata.name=foo,spec.nodeName!="},
        CanonicalCase{"\xed\x95\xa8=\xec\x88\x98,\xeb\xaa\xa9=\xeb\xa1\x9d",
                      "\xeb\xaa\xa9=\xeb\xa1\x9d,\xed\x95\xa8=\xec\x88\x98"}));

TEST(ParseTest, DoubleEqualsCanReorderOnReparse) {
  // Raw "x==b" sorts before "x=a"; printed as "x=b" it sorts after. The terms are
  // the same either way, and the second String() is a fixed point.
  absl::StatusOr<Selector> s = Parse("x==b,x=a");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->String(), "x=b,x=a");
  absl::StatusOr<Selector> again = Parse(s->String());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->String(), "x=a,x=b");
  EXPECT_EQ(SortedTerms(*again), SortedTerms(*s));
  EXPECT_EQ(Parse(again->String())->String(), "x=a,x=b");
}

TEST(ParseTest, Structure) {
  absl::StatusOr<Selector> s = Parse(R"(status.phase!=Running,metadata.name==a\,b)");
  ASSERT_TRUE(s.ok()) << s.status();
  const std::vector<Requirement> want = {
      {"metadata.name", Operator::kEquals, "a,b"},
      {"status.phase", Operator::kNotEquals, "Running"},
  };
  EXPECT_EQ(s->requirements(), want);
  EXPECT_FALSE(s->Empty());
}

TEST(ParseTest, Deterministic) { EXPECT_EQ(*Parse("x=a,a=x"), *Parse("a=x,x=a")); }

// ---- Invalid input ----

class ParseErrorTest : public testing::TestWithParam<std::string> {};

TEST_P(ParseErrorTest, Rejects) {
  absl::StatusOr<Selector> s = Parse(GetParam());
  ASSERT_FALSE(s.ok()) << "input: " << GetParam() << " parsed as " << s->String();
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("invalid field selector"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Upstream, ParseErrorTest,
                         testing::Values("x=a||y=b", "x==a==b", "x=a,b", "x in (a)",
                                         "x in (a,b,c)", "x", "a=b=c", "x!=a=b",
                                         // Backslashes in values.
                                         R"(k=\)", R"(k=\a)", R"(k=\\\)", R"(k=a\!b)",
                                         R"(k=a\ b)", "!x", "x<1", "x>1"));

TEST(ParseErrorTest, MessagesAreSpecific) {
  EXPECT_NE(Parse("x=a,b").status().message().find("can't understand term \"b\""),
            std::string::npos)
      << Parse("x=a,b").status();
  EXPECT_NE(Parse(R"(k=\a)").status().message().find("invalid escape sequence"),
            std::string::npos)
      << Parse(R"(k=\a)").status();
  EXPECT_NE(Parse("k=a=b").status().message().find("unescaped '='"), std::string::npos)
      << Parse("k=a=b").status();
  EXPECT_NE(Parse(R"(k=\)").status().message().find("trailing backslash"), std::string::npos)
      << Parse(R"(k=\)").status();
}

// ---- Escaping ----

TEST(EscapeTest, RoundTrips) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},
      {"a", "a"},
      {"=", R"(\=)"},
      {",", R"(\,)"},
      {R"(\)", R"(\\)"},
      {R"(\=\,\)", R"(\\\=\\\,\\)"},
      {"a!b c", "a!b c"},
  };
  for (const auto& [plain, escaped] : cases) {
    EXPECT_EQ(EscapeValue(plain), escaped);
    absl::StatusOr<std::string> back = UnescapeValue(escaped);
    ASSERT_TRUE(back.ok()) << escaped << ": " << back.status();
    EXPECT_EQ(*back, plain);
  }
  for (std::string_view bad : {R"(\)", R"(\\\)", R"(\a)", R"(\!)", ",", "=", "a,b"}) {
    EXPECT_FALSE(UnescapeValue(bad).ok()) << bad;
  }
}

// ---- Matching ----

struct MatchCase {
  std::string selector;
  FieldSet fields;
  bool match;
};

class MatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(MatchTest, Matches) {
  const MatchCase& c = GetParam();
  absl::StatusOr<Selector> s = Parse(c.selector);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->Matches(c.fields), c.match) << "selector: " << c.selector;
  const std::map<std::string, std::string> ordered(c.fields.begin(), c.fields.end());
  EXPECT_EQ(s->Matches(ordered), c.match);
  // An accessor returning std::string by value.
  EXPECT_EQ(s->Matches([&](std::string_view f) -> std::string {
    auto it = ordered.find(std::string(f));
    return it == ordered.end() ? "" : it->second;
  }),
            c.match);
}

const FieldSet kFields = {{"foo", "bar"}, {"baz", "blah"}, {"complex", R"(=value\,\)"}};

INSTANTIATE_TEST_SUITE_P(
    Upstream, MatchTest,
    testing::Values(
        MatchCase{"", {{"x", "y"}}, true}, MatchCase{"x=y", {{"x", "y"}}, true},
        MatchCase{"x==y", {{"x", "y"}}, true}, MatchCase{"x=y,z=w", {{"x", "y"}, {"z", "w"}}, true},
        MatchCase{"x!=y,z!=w", {{"x", "z"}, {"z", "a"}}, true},
        MatchCase{"notin=in", {{"notin", "in"}}, true}, MatchCase{"x=y", {{"x", "z"}}, false},
        MatchCase{"x=y,z=w", {{"x", "w"}, {"z", "w"}}, false},
        MatchCase{"x!=y,z!=w", {{"x", "z"}, {"z", "w"}}, false},
        MatchCase{"foo=bar", kFields, true}, MatchCase{"baz=blah", kFields, true},
        MatchCase{"foo=bar,baz=blah", kFields, true},
        MatchCase{R"(foo=bar,baz=blah,complex=\=value\\\,\\)", kFields, true},
        MatchCase{"foo=blah", kFields, false}, MatchCase{"baz=bar", kFields, false},
        MatchCase{"foo=bar,foobar=bar,baz=blah", kFields, false},
        // Absent fields read as "".
        MatchCase{"x=", {}, true}, MatchCase{"x!=y", {}, true}, MatchCase{"x=y", {}, false},
        MatchCase{"x!=", {}, false}, MatchCase{"x!=", {{"x", "v"}}, true}));

TEST(MatchTest, AccessorOverAnObject) {
  struct Pod {
    std::string name, namespace_, node, phase;
  };
  const Pod pod{"web-0", "default", "node-a", "Running"};
  auto get = [&pod](std::string_view path) -> std::string_view {
    if (path == "metadata.name") return pod.name;
    if (path == "metadata.namespace") return pod.namespace_;
    if (path == "spec.nodeName") return pod.node;
    if (path == "status.phase") return pod.phase;
    return {};
  };
  EXPECT_TRUE(Parse("spec.nodeName=node-a,status.phase!=Succeeded")->Matches(get));
  EXPECT_FALSE(Parse("spec.nodeName=node-b")->Matches(get));
  EXPECT_TRUE(Parse("metadata.name=web-0,metadata.namespace=default")->Matches(get));
  EXPECT_TRUE(Parse("spec.unknownField=")->Matches(get));
}

// ---- Selector basics ----

TEST(SelectorTest, EverythingAndNothing) {
  EXPECT_TRUE(Selector::Everything().Empty());
  EXPECT_TRUE(Selector::Everything().Matches(FieldSet{{"x", "y"}}));
  EXPECT_EQ(Selector::Everything().String(), "");
  EXPECT_TRUE(Parse("")->Empty());
  EXPECT_TRUE(Parse(",")->Empty());

  EXPECT_FALSE(Selector::Nothing().Empty());
  EXPECT_TRUE(Selector::Nothing().MatchesNothing());
  EXPECT_FALSE(Selector::Nothing().Matches(FieldSet{{"x", "y"}}));
  EXPECT_FALSE(Selector::Nothing().Matches(FieldSet{}));
  EXPECT_EQ(Selector::Nothing().String(), "");
}

TEST(SelectorTest, OneTermAndAnd) {
  EXPECT_TRUE(Selector::OneTermEqual("x", "y").Matches(FieldSet{{"x", "y"}}));
  EXPECT_FALSE(Selector::OneTermEqual("x", "y").Matches(FieldSet{{"x", "z"}}));
  EXPECT_EQ(Selector::OneTermEqual("x", "a,b").String(), R"(x=a\,b)");
  EXPECT_EQ(Selector::OneTermNotEqual("x", "").String(), "x!=");

  const Selector both = Selector::And(
      {Selector::OneTermEqual("metadata.name", "a"), Selector::OneTermNotEqual("status.phase", "Failed")});
  EXPECT_EQ(both.String(), "metadata.name=a,status.phase!=Failed");
  EXPECT_TRUE(both.Matches(FieldSet{{"metadata.name", "a"}}));
  EXPECT_FALSE(both.Matches(FieldSet{{"metadata.name", "a"}, {"status.phase", "Failed"}}));
  EXPECT_TRUE(Selector::And({Selector::Everything(), Selector::Everything()}).Empty());
  EXPECT_TRUE(Selector::And({both, Selector::Nothing()}).MatchesNothing());
}

TEST(SelectorTest, FromSet) {
  EXPECT_TRUE(SelectorFromSet({}).Empty());
  const FieldSet set = {{"foo", "bar"}, {"baz", "blah"}};
  EXPECT_TRUE(SelectorFromSet({{"foo", "bar"}}).Matches(set));
  EXPECT_TRUE(SelectorFromSet(set).Matches(set));
  EXPECT_FALSE(SelectorFromSet({{"foo", "=blah"}}).Matches(set));
  EXPECT_FALSE(SelectorFromSet({{"foo", "=bar"}, {"foobar", "bar"}, {"baz", "blah"}}).Matches(set));
  EXPECT_EQ(SelectorFromSet(set).String(), "baz=blah,foo=bar");
}

// ---- RequiresExactMatch ----

struct ExactCase {
  Selector selector;
  std::string field;
  std::optional<std::string> want;
};

class ExactMatchTest : public testing::TestWithParam<ExactCase> {};

TEST_P(ExactMatchTest, Introspects) {
  EXPECT_EQ(GetParam().selector.RequiresExactMatch(GetParam().field), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, ExactMatchTest,
    testing::Values(
        ExactCase{SelectorFromSet({}), "test", std::nullopt},
        ExactCase{Selector::OneTermEqual("", ""), "test", std::nullopt},
        ExactCase{Selector::OneTermEqual("a", "b"), "test", std::nullopt},
        ExactCase{Selector::OneTermEqual("test", "b"), "test", "b"},
        ExactCase{Selector::OneTermEqual("test", ""), "test", ""},
        ExactCase{Selector::OneTermNotEqual("test", "b"), "test", std::nullopt},
        ExactCase{Selector::OneTermNotEqual("test", ""), "test", std::nullopt},
        ExactCase{Selector::Everything(), "test", std::nullopt},
        ExactCase{Selector::Nothing(), "test", std::nullopt},
        ExactCase{Selector::And({Selector::OneTermEqual("", ""), Selector::OneTermEqual("test", "b")}),
                  "test", "b"},
        // A != term on the same field is skipped.
        ExactCase{*Parse("test!=a,test=b"), "test", "b"}));

}  // namespace
}  // namespace kslice::fields
