#include "api/labels/selector.h"

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "gtest/gtest.h"

namespace kslice::labels {
namespace {

Requirement Req(std::string key, Operator op, std::vector<std::string> values = {}) {
  absl::StatusOr<Requirement> r = Requirement::Create(std::move(key), op, std::move(values));
  EXPECT_TRUE(r.ok()) << r.status();
  return *std::move(r);
}

// ---- Parse -> String ----

struct CanonicalCase {
  std::string input;
  std::string canonical;
};

class ParseCanonicalTest : public testing::TestWithParam<CanonicalCase> {};

TEST_P(ParseCanonicalTest, ParsesAndPrintsCanonically) {
  const CanonicalCase& c = GetParam();
  absl::StatusOr<Selector> s = Parse(c.input);
  ASSERT_TRUE(s.ok()) << "input: " << c.input << ": " << s.status();
  EXPECT_EQ(s->String(), c.canonical) << "input: " << c.input;
  // The canonical form is a fixed point and parses to an equal selector.
  absl::StatusOr<Selector> again = Parse(s->String());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->String(), c.canonical);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, ParseCanonicalTest,
    testing::Values(
        CanonicalCase{"", ""}, CanonicalCase{" \t\r\n", ""},
        CanonicalCase{"x=a,y=b,z=c", "x=a,y=b,z=c"}, CanonicalCase{"x!=a,y=b", "x!=a,y=b"},
        CanonicalCase{"x=", "x="}, CanonicalCase{"x= ", "x="}, CanonicalCase{"x=,z= ", "x=,z="},
        CanonicalCase{"x= ,z= ", "x=,z="}, CanonicalCase{"!x", "!x"},
        CanonicalCase{"! x", "!x"}, CanonicalCase{"x>1", "x>1"},
        CanonicalCase{"x>1,z<5", "x>1,z<5"}, CanonicalCase{"x>007", "x>007"},
        CanonicalCase{"\rx", "x"}, CanonicalCase{"a ", "a"},
        CanonicalCase{"this-is-a-dns.domain.com/key-with-dash",
                      "this-is-a-dns.domain.com/key-with-dash"},
        CanonicalCase{"this-is-another-dns.domain.com/key-with-dash in (so,what)",
                      "this-is-another-dns.domain.com/key-with-dash in (so,what)"},
        CanonicalCase{"0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
                      "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)"},
        CanonicalCase{"foo  in\t (abc)", "foo in (abc)"},
        CanonicalCase{"x notin\n (abc)", "x notin (abc)"},
        CanonicalCase{"x  notin\t\t\t(abc,def)", "x notin (abc,def)"},
        CanonicalCase{"x in (def,abc)", "x in (abc,def)"},
        CanonicalCase{"x in (abc,)", "x in (,abc)"}, CanonicalCase{"x in (abc,abc)", "x in (abc)"},
        CanonicalCase{"x in ()", "x in ()"}, CanonicalCase{"x in (,)", "x in ()"},
        CanonicalCase{"x in (a,,)", "x in (,a)"}, CanonicalCase{"x in (a,,,)", "x in (,a)"},
        CanonicalCase{"x in (a,,,,,,)", "x in (,a)"},
        CanonicalCase{"x in (a,,a,,a,,a,,)", "x in (,a)"},
        CanonicalCase{"x notin ( )", "x notin ()"}, CanonicalCase{"x notin (, a)", "x notin (,a)"},
        CanonicalCase{"x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"},
        CanonicalCase{"x,y in (a)", "x,y in (a)"},
        CanonicalCase{"x=a,y!=b,z in (h,i,j)", "x=a,y!=b,z in (h,i,j)"},
        CanonicalCase{"a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)"},
        // Keys and values may be the keywords.
        CanonicalCase{"notin=in", "notin=in"}, CanonicalCase{"in in (in)", "in in (in)"},
        CanonicalCase{"in,notin", "in,notin"}, CanonicalCase{"!in", "!in"},
        // == stays ==; requirements sort by key, stably.
        CanonicalCase{"x==a", "x==a"}, CanonicalCase{"x=a,a=x", "a=x,x=a"},
        CanonicalCase{"z=1,a!=2,z==3,z", "a!=2,z=1,z==3,z"},
        CanonicalCase{"x==", "x=="}, CanonicalCase{"x!=", "x!="},
        CanonicalCase{"k.io/a=b , k.io/a", "k.io/a=b,k.io/a"}));

// ---- Invalid input ----

class ParseErrorTest : public testing::TestWithParam<std::string> {};

TEST_P(ParseErrorTest, Rejects) {
  absl::StatusOr<Selector> s = Parse(GetParam());
  ASSERT_FALSE(s.ok()) << "input: " << GetParam() << " parsed as " << s->String();
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("invalid label selector"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, ParseErrorTest,
    testing::Values(
        // Syntax.
        "x=a||y=b", "x==a==b", "!x=a", "a=b=c", "x<a", "x,,y", ",x,y", ",", "x,", "x nott in (y)",
        "a in (xyz),", "a in (xyz)b notin ()", "a in (xyz abc)", "a notin(", "a (", "(", ")",
        "x in", "x in (a", "x notin a", "x=(", "x=)", "x= =", "!", "!!x", "x!", "!x!=a",
        "x>=1", "x<=1", "x=>1", "x y", "x=a b", "x in ((a))", "=a", "!=a",
        // gt / lt need one int64.
        "x>", "x<", "x>a", "x>1.5", "x>0x10", "x>-1", "x>+1", "x>99999999999999999999",
        // Keys.
        "-x", "x-", "a/b/c", "/a", "a/", "A.com/x", "a_b.com/x", "x@y", "ü", std::string(64, 'k'),
        std::string(254, 'a') + "/x", "x\v", "!-x",
        // Values.
        "x=-a", "x=a-", "x=a/b", "x=ä", "x in (a,-b)", "x notin (a,b@)",
        "x=" + std::string(64, 'v'), "x in (" + std::string(64, 'v') + ")",
        // NUL bytes (upstream would stop reading at the first one).
        std::string("\0", 1), std::string("x\0", 2), std::string("x=a\0,y", 6)));

TEST(ParseErrorTest, MessagesAreSpecific) {
  auto message = [](std::string_view in) { return std::string(Parse(in).status().message()); };
  EXPECT_NE(message("x in (a b)").find("expected ',' or ')'"), std::string::npos)
      << message("x in (a b)");
  EXPECT_NE(message("x>a").find("integer"), std::string::npos) << message("x>a");
  EXPECT_NE(message("-x").find("invalid label key"), std::string::npos) << message("-x");
  EXPECT_NE(message("x=-a").find("invalid value"), std::string::npos) << message("x=-a");
  EXPECT_NE(message("x y").find("expected one of"), std::string::npos) << message("x y");
  EXPECT_NE(message("x,").find("end of string"), std::string::npos) << message("x,");
}

// ---- Parse structure ----

TEST(ParseTest, ProducesRequirements) {
  absl::StatusOr<Selector> s = Parse("x notin (abc,,def),bar,z in (),w,!v,n>3,m<-0");
  // "-0" is not a valid label value, so that one fails; check without it.
  EXPECT_FALSE(s.ok());
  s = Parse("x notin (abc,,def),bar,z in (),w,!v,n>3,a==b,c!=d");
  ASSERT_TRUE(s.ok()) << s.status();
  const std::vector<Requirement> want = {
      Req("a", Operator::kDoubleEquals, {"b"}),
      Req("bar", Operator::kExists),
      Req("c", Operator::kNotEquals, {"d"}),
      Req("n", Operator::kGreaterThan, {"3"}),
      Req("v", Operator::kDoesNotExist),
      Req("w", Operator::kExists),
      Req("x", Operator::kNotIn, {"", "abc", "def"}),
      Req("z", Operator::kIn, {""}),
  };
  EXPECT_EQ(s->requirements(), want);
  EXPECT_FALSE(s->Empty());
  EXPECT_FALSE(s->MatchesNothing());
}

TEST(ParseTest, EmptyIsEverything) {
  absl::StatusOr<Selector> s = Parse("  ");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Empty());
  EXPECT_EQ(*s, Selector::Everything());
  EXPECT_TRUE(s->Matches(LabelMap{{"x", "y"}}));
}

TEST(ParseTest, Deterministic) {
  EXPECT_EQ(Parse("x=a,a=x")->String(), Parse("a=x,x=a")->String());
  EXPECT_EQ(*Parse("x=a,a=x"), *Parse("a=x,x=a"));
}

// ---- Matching ----

struct MatchCase {
  std::string selector;
  LabelMap labels;
  bool match;
};

class MatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(MatchTest, Matches) {
  const MatchCase& c = GetParam();
  absl::StatusOr<Selector> s = Parse(c.selector);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->Matches(c.labels), c.match) << "selector: " << c.selector;
  // Every map type and the lookup function agree.
  std::map<std::string, std::string> ordered(c.labels.begin(), c.labels.end());
  std::unordered_map<std::string, std::string> unordered(c.labels.begin(), c.labels.end());
  EXPECT_EQ(s->Matches(ordered), c.match);
  EXPECT_EQ(s->Matches(unordered), c.match);
  EXPECT_EQ(s->Matches([&](const std::string& k) -> std::optional<std::string_view> {
    auto it = c.labels.find(k);
    if (it == c.labels.end()) return std::nullopt;
    return it->second;
  }),
            c.match);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, MatchTest,
    testing::Values(
        MatchCase{"", {{"x", "y"}}, true}, MatchCase{"", {}, true},
        MatchCase{"x=y", {{"x", "y"}}, true}, MatchCase{"x==y", {{"x", "y"}}, true},
        MatchCase{"x=y,z=w", {{"x", "y"}, {"z", "w"}}, true},
        MatchCase{"x!=y,z!=w", {{"x", "z"}, {"z", "a"}}, true},
        MatchCase{"notin=in", {{"notin", "in"}}, true}, MatchCase{"x", {{"x", "z"}}, true},
        MatchCase{"!x", {{"y", "z"}}, true}, MatchCase{"x>1", {{"x", "2"}}, true},
        MatchCase{"x<1", {{"x", "0"}}, true}, MatchCase{"x=z", {}, false},
        MatchCase{"x=y", {{"x", "z"}}, false},
        MatchCase{"x=y,z=w", {{"x", "w"}, {"z", "w"}}, false},
        MatchCase{"x!=y,z!=w", {{"x", "z"}, {"z", "w"}}, false},
        MatchCase{"x", {{"y", "z"}}, false}, MatchCase{"!x", {{"x", "z"}}, false},
        MatchCase{"x>1", {{"x", "0"}}, false}, MatchCase{"x<1", {{"x", "2"}}, false},
        MatchCase{"foo=bar", {{"foo", "bar"}, {"baz", "blah"}}, true},
        MatchCase{"foo=bar,baz=blah", {{"foo", "bar"}, {"baz", "blah"}}, true},
        MatchCase{"foo=blah", {{"foo", "bar"}, {"baz", "blah"}}, false},
        MatchCase{"foo=bar,foobar=bar,baz=blah", {{"foo", "bar"}, {"baz", "blah"}}, false},
        // Absent labels satisfy != and notin.
        MatchCase{"x!=y", {}, true}, MatchCase{"x notin (a)", {}, true},
        MatchCase{"x notin (a)", {{"x", "a"}}, false}, MatchCase{"x notin (a)", {{"x", "b"}}, true},
        MatchCase{"x notin (),y", {{"y", ""}}, true},
        MatchCase{"x notin (),!y", {{"y", ""}}, false},
        MatchCase{"!x,y", {{"y", ""}}, true},
        MatchCase{"x in (a,b)", {{"x", "b"}}, true}, MatchCase{"x in (a,b)", {}, false},
        MatchCase{"x in (a,b)", {{"x", "c"}}, false}, MatchCase{"x in ()", {{"y", "baz"}}, false},
        MatchCase{"x in (,a)", {{"x", ""}}, true}, MatchCase{"x=", {{"x", ""}}, true},
        MatchCase{"x=", {}, false}, MatchCase{"x!=", {}, true}, MatchCase{"x!=", {{"x", ""}}, false},
        MatchCase{"x,y in (a)", {{"x", "1"}, {"y", "a"}}, true},
        MatchCase{"x,y in (a)", {{"y", "a"}}, false},
        // gt / lt compare label values as int64; anything else never matches.
        MatchCase{"x>1", {{"x", "v2"}}, false}, MatchCase{"x>1", {}, false},
        MatchCase{"x<1", {}, false}, MatchCase{"x<10", {{"x", "-5"}}, true},
        MatchCase{"x>1", {{"x", "+2"}}, true}, MatchCase{"x>1", {{"x", "02"}}, true},
        MatchCase{"x>1", {{"x", "99999999999999999999"}}, false},
        MatchCase{"x<1", {{"x", "-9223372036854775808"}}, true},
        MatchCase{"x>9223372036854775806", {{"x", "9223372036854775807"}}, true},
        MatchCase{"x>1", {{"x", "1"}}, false}, MatchCase{"x<1", {{"x", "1"}}, false},
        MatchCase{"x>1", {{"x", " 2"}}, false}, MatchCase{"x>1", {{"x", ""}}, false}));

TEST(SelectorTest, EverythingAndNothing) {
  EXPECT_TRUE(Selector::Everything().Empty());
  EXPECT_TRUE(Selector::Everything().Matches(LabelMap{{"x", "y"}}));
  EXPECT_TRUE(Selector::Everything().Matches(LabelMap{}));
  EXPECT_EQ(Selector::Everything().String(), "");
  EXPECT_FALSE(Selector::Everything().MatchesNothing());

  const Selector nothing = Selector::Nothing();
  EXPECT_FALSE(nothing.Empty());
  EXPECT_TRUE(nothing.MatchesNothing());
  EXPECT_FALSE(nothing.Matches(LabelMap{{"x", "y"}}));
  EXPECT_FALSE(nothing.Matches(LabelMap{}));
  EXPECT_EQ(nothing.String(), "");
  EXPECT_NE(nothing, Selector::Everything());
  // Adding to Nothing() leaves it matching nothing.
  EXPECT_TRUE(nothing.Add(Req("x", Operator::kExists)).MatchesNothing());
  EXPECT_FALSE(nothing.RequiresExactMatch("x").has_value());
  // A contradiction is not detected as "nothing", as upstream.
  EXPECT_FALSE(Parse("a=b,a!=b")->MatchesNothing());
}

// ---- Requirement::Create ----

struct CreateCase {
  std::string key;
  Operator op;
  std::vector<std::string> values;
  bool valid;
};

class CreateTest : public testing::TestWithParam<CreateCase> {};

TEST_P(CreateTest, Validates) {
  const CreateCase& c = GetParam();
  absl::StatusOr<Requirement> r = Requirement::Create(c.key, c.op, c.values);
  EXPECT_EQ(r.ok(), c.valid) << c.key << " " << OperatorName(c.op) << ": " << r.status();
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, CreateTest,
    testing::Values(
        CreateCase{"x1", Operator::kIn, {}, false}, CreateCase{"x2", Operator::kNotIn, {}, false},
        CreateCase{"x3", Operator::kIn, {"foo"}, true},
        CreateCase{"x4", Operator::kNotIn, {"foo"}, true},
        CreateCase{"x5", Operator::kEquals, {"bar", "foo"}, false},
        CreateCase{"x5b", Operator::kEquals, {}, false},
        CreateCase{"x5c", Operator::kNotEquals, {"a", "b"}, false},
        CreateCase{"x5d", Operator::kDoubleEquals, {""}, true},
        CreateCase{"x6", Operator::kExists, {}, true},
        CreateCase{"x7", Operator::kDoesNotExist, {}, true},
        CreateCase{"x8", Operator::kExists, {"foo"}, false},
        CreateCase{"x8b", Operator::kDoesNotExist, {""}, false},
        CreateCase{"x9", Operator::kIn, {"bar"}, true},
        CreateCase{"x10", Operator::kIn, {"bar", "bar", ""}, true},
        CreateCase{"x11", Operator::kGreaterThan, {"1"}, true},
        CreateCase{"x12", Operator::kLessThan, {"6"}, true},
        CreateCase{"x13", Operator::kGreaterThan, {}, false},
        CreateCase{"x14", Operator::kGreaterThan, {"bar"}, false},
        CreateCase{"x15", Operator::kLessThan, {"bar"}, false},
        CreateCase{"x15b", Operator::kLessThan, {"1", "2"}, false},
        CreateCase{std::string(254, 'a'), Operator::kExists, {}, false},
        CreateCase{"x16", Operator::kEquals, {std::string(254, 'a')}, false},
        CreateCase{"x17", Operator::kEquals, {"a b"}, false},
        CreateCase{"x18", static_cast<Operator>(99), {}, false},
        CreateCase{"", Operator::kExists, {}, false}));

TEST(RequirementTest, KeepsValueOrderButPrintsSorted) {
  const Requirement r = Req("x", Operator::kIn, {"def", "abc", "abc"});
  EXPECT_EQ(r.values(), (std::vector<std::string>{"def", "abc", "abc"}));
  EXPECT_EQ(r.String(), "x in (abc,abc,def)");
}

TEST(RequirementTest, OperatorNames) {
  EXPECT_EQ(OperatorName(Operator::kEquals), "=");
  EXPECT_EQ(OperatorName(Operator::kDoubleEquals), "==");
  EXPECT_EQ(OperatorName(Operator::kNotEquals), "!=");
  EXPECT_EQ(OperatorName(Operator::kIn), "in");
  EXPECT_EQ(OperatorName(Operator::kNotIn), "notin");
  EXPECT_EQ(OperatorName(Operator::kExists), "exists");
  EXPECT_EQ(OperatorName(Operator::kDoesNotExist), "!");
  EXPECT_EQ(OperatorName(Operator::kGreaterThan), "gt");
  EXPECT_EQ(OperatorName(Operator::kLessThan), "lt");
}

// ---- String of constructed selectors ----

struct ToStringCase {
  std::vector<Requirement> requirements;
  std::string out;
};

class ToStringTest : public testing::TestWithParam<ToStringCase> {};

TEST_P(ToStringTest, Prints) {
  EXPECT_EQ(Selector().Add(GetParam().requirements).String(), GetParam().out);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, ToStringTest,
    testing::Values(
        ToStringCase{{Req("x", Operator::kIn, {"abc", "def"}), Req("y", Operator::kNotIn, {"jkl"}),
                      Req("z", Operator::kExists)},
                     "x in (abc,def),y notin (jkl),z"},
        ToStringCase{{Req("x", Operator::kNotIn, {"abc", "def"}),
                      Req("y", Operator::kNotEquals, {"jkl"}), Req("z", Operator::kDoesNotExist)},
                     "x notin (abc,def),y!=jkl,!z"},
        ToStringCase{{Req("x", Operator::kNotIn, {"abc"}), Req("y", Operator::kIn, {"jkl", "mno"}),
                      Req("z", Operator::kNotIn, {""})},
                     "x notin (abc),y in (jkl,mno),z notin ()"},
        ToStringCase{{Req("x", Operator::kEquals, {"abc"}),
                      Req("y", Operator::kDoubleEquals, {"jkl"}),
                      Req("z", Operator::kNotEquals, {"a"}), Req("z", Operator::kExists)},
                     "x=abc,y==jkl,z!=a,z"},
        ToStringCase{{Req("x", Operator::kGreaterThan, {"2"}), Req("y", Operator::kLessThan, {"8"}),
                      Req("z", Operator::kExists)},
                     "x>2,y<8,z"},
        // Added out of order: sorted by key.
        ToStringCase{{Req("z", Operator::kExists), Req("a", Operator::kEquals, {"1"})}, "a=1,z"}));

// ---- RequiresExactMatch ----

struct ExactCase {
  std::vector<Requirement> requirements;
  std::string label;
  std::optional<std::string> want;
};

class ExactMatchTest : public testing::TestWithParam<ExactCase> {};

TEST_P(ExactMatchTest, Introspects) {
  const ExactCase& c = GetParam();
  EXPECT_EQ(Selector().Add(c.requirements).RequiresExactMatch(c.label), c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, ExactMatchTest,
    testing::Values(
        ExactCase{{Req("key", Operator::kIn, {"value"})}, "key", "value"},
        ExactCase{{Req("key", Operator::kIn, {"value", "value2"})}, "key", std::nullopt},
        ExactCase{{Req("key", Operator::kIn, {"value", "value1"}),
                   Req("key2", Operator::kIn, {"value2"})},
                  "key2", "value2"},
        ExactCase{{Req("key", Operator::kEquals, {"value"})}, "key", "value"},
        ExactCase{{Req("key", Operator::kDoubleEquals, {"value"})}, "key", "value"},
        ExactCase{{Req("key", Operator::kNotEquals, {"value"})}, "key", std::nullopt},
        ExactCase{{Req("key", Operator::kIn, {"value"}), Req("key2", Operator::kIn, {"value2"})},
                  "key", "value"},
        ExactCase{{Req("key", Operator::kEquals, {""})}, "key", ""},
        ExactCase{{Req("key", Operator::kExists)}, "key", std::nullopt},
        ExactCase{{Req("key", Operator::kEquals, {"v"})}, "other", std::nullopt},
        ExactCase{{}, "key", std::nullopt},
        // Only the first requirement on the key counts.
        ExactCase{{Req("key", Operator::kExists), Req("key", Operator::kEquals, {"v"})}, "key",
                  std::nullopt}));

// ---- Add ----

TEST(SelectorTest, AddCopiesAndSorts) {
  const Selector base = Selector().Add(Req("key", Operator::kIn, {"value"}));
  const Selector more = base.Add(Req("a", Operator::kEquals, {"value2"}));
  EXPECT_EQ(base.requirements().size(), 1u);
  ASSERT_EQ(more.requirements().size(), 2u);
  EXPECT_EQ(more.requirements()[0].key(), "a");
  EXPECT_EQ(more.requirements()[1].key(), "key");
  EXPECT_EQ(more.String(), "a=value2,key in (value)");
}

// ---- From a label set ----

TEST(SelectorFromSetTest, MatchesExactly) {
  const LabelMap set = {{"foo", "bar"}, {"baz", "blah"}};
  EXPECT_TRUE(SelectorFromSet({}).Empty());
  EXPECT_TRUE(SelectorFromSet({}).Matches(set));
  EXPECT_TRUE(SelectorFromSet({{"foo", "bar"}}).Matches(set));
  EXPECT_TRUE(SelectorFromSet(set).Matches(set));
  EXPECT_FALSE(SelectorFromSet({{"foo", "=blah"}}).Matches(set));
  EXPECT_FALSE(SelectorFromSet({{"foo", "bar"}, {"x", "y"}}).Matches(set));
  EXPECT_EQ(SelectorFromSet({{"app", "foo"}, {"a", "b"}}).String(), "a=b,app=foo");
}

TEST(SelectorFromSetTest, Validated) {
  absl::StatusOr<Selector> ok = ValidatedSelectorFromSet({{"key", "val"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->requirements(), std::vector<Requirement>{Req("key", Operator::kEquals, {"val"})});
  EXPECT_TRUE(ValidatedSelectorFromSet({})->Empty());
  EXPECT_FALSE(
      ValidatedSelectorFromSet(
          {{"Key", "axahm2EJ8Phiephe2eixohbee9eGeiyees1thuozi1xoh0GiuH3diewi8iem7Nui"}})
          .ok());
  EXPECT_FALSE(ValidatedSelectorFromSet({{"-k", "v"}}).ok());
}

}  // namespace
}  // namespace kslice::labels
