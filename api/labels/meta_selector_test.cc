#include "api/labels/meta_selector.h"

#include <string>
#include <vector>

#include "api/meta/v1/meta.pb.h"
#include "google/protobuf/map.h"
#include "gtest/gtest.h"

namespace kslice::labels {
namespace {

using kslice::api::meta::v1::LabelSelector;

void AddExpr(LabelSelector& s, const std::string& key, const std::string& op,
             const std::vector<std::string>& values = {}) {
  auto* e = s.add_matchexpressions();
  e->set_key(key);
  e->set_operator_(op);
  for (const std::string& v : values) e->add_values(v);
}

TEST(FromLabelSelectorTest, NilSelectsNothing) {
  absl::StatusOr<Selector> s = FromLabelSelector(nullptr);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->MatchesNothing());
  EXPECT_FALSE(s->Empty());
  EXPECT_FALSE(s->Matches(LabelMap{}));
  EXPECT_FALSE(s->Matches(LabelMap{{"a", "b"}}));
}

TEST(FromLabelSelectorTest, EmptySelectsEverything) {
  const LabelSelector empty;
  absl::StatusOr<Selector> s = FromLabelSelector(&empty);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Empty());
  EXPECT_TRUE(s->Matches(LabelMap{}));
  EXPECT_TRUE(s->Matches(LabelMap{{"a", "b"}}));
}

struct ValidCase {
  std::string name;
  LabelSelector selector;
  std::string want;  // String() of the result
};

LabelSelector Make(const std::vector<std::pair<std::string, std::string>>& match_labels,
                   const std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>&
                       exprs) {
  LabelSelector s;
  for (const auto& [k, v] : match_labels) (*s.mutable_matchlabels())[k] = v;
  for (const auto& [k, op, values] : exprs) AddExpr(s, k, op, values);
  return s;
}

TEST(FromLabelSelectorTest, Converts) {
  const std::vector<ValidCase> cases = {
      {"matchLabels", Make({{"foo", "bar"}, {"baz", "blah"}}, {}), "baz=blah,foo=bar"},
      {"matchLabels empty value", Make({{"foo", ""}}, {}), "foo="},
      {"In", Make({}, {{"foo", "In", {"baz", "bar"}}}), "foo in (bar,baz)"},
      {"NotIn", Make({}, {{"foo", "NotIn", {"bar"}}}), "foo notin (bar)"},
      {"Exists", Make({}, {{"foo", "Exists", {}}}), "foo"},
      {"DoesNotExist", Make({}, {{"foo", "DoesNotExist", {}}}), "!foo"},
      {"mixed and sorted",
       Make({{"x", "y"}, {"a", "b"}},
            {{"z", "Exists", {}}, {"b", "In", {"1", ""}}, {"a", "NotIn", {"c"}}}),
       "a=b,a notin (c),b in (,1),x=y,z"},
      {"expressions on one key keep their order",
       Make({}, {{"k", "Exists", {}}, {"k", "NotIn", {"v"}}}), "k,k notin (v)"},
      {"duplicate values kept", Make({}, {{"k", "In", {"v", "v"}}}), "k in (v,v)"},
  };
  for (const ValidCase& c : cases) {
    absl::StatusOr<Selector> s = FromLabelSelector(&c.selector);
    ASSERT_TRUE(s.ok()) << c.name << ": " << s.status();
    EXPECT_EQ(s->String(), c.want) << c.name;
    EXPECT_FALSE(s->Empty()) << c.name;
  }
}

TEST(FromLabelSelectorTest, Rejects) {
  const std::vector<std::pair<std::string, LabelSelector>> cases = {
      {"unknown operator", Make({}, {{"foo", "Equals", {"bar"}}})},
      {"operator is case sensitive", Make({}, {{"foo", "in", {"bar"}}})},
      {"Gt is not a LabelSelector operator", Make({}, {{"foo", "Gt", {"1"}}})},
      {"empty operator", Make({}, {{"foo", "", {}}})},
      {"In without values", Make({}, {{"foo", "In", {}}})},
      {"NotIn without values", Make({}, {{"foo", "NotIn", {}}})},
      {"Exists with values", Make({}, {{"foo", "Exists", {"bar"}}})},
      {"DoesNotExist with values", Make({}, {{"foo", "DoesNotExist", {""}}})},
      {"bad expression key", Make({}, {{"-foo", "Exists", {}}})},
      {"empty expression key", Make({}, {{"", "Exists", {}}})},
      {"bad expression value", Make({}, {{"foo", "In", {"ok", "not ok"}}})},
      {"bad matchLabels key", Make({{"a/b/c", "x"}}, {})},
      {"bad matchLabels value", Make({{"a", std::string(64, 'x')}}, {})},
  };
  for (const auto& [name, selector] : cases) {
    absl::StatusOr<Selector> s = FromLabelSelector(&selector);
    ASSERT_FALSE(s.ok()) << name << " gave " << s->String();
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
  const LabelSelector bad_op = Make({}, {{"ok", "Exists", {}}, {"foo", "Equals", {"bar"}}});
  EXPECT_NE(FromLabelSelector(&bad_op).status().message().find(
                "matchExpressions[1].operator: \"Equals\" is not a valid label selector operator"),
            std::string::npos)
      << FromLabelSelector(&bad_op).status();
}

TEST(FromLabelSelectorTest, AgreesWithParse) {
  const LabelSelector ls = Make({{"app", "web"}}, {{"tier", "In", {"frontend", "backend"}},
                                                   {"canary", "DoesNotExist", {}},
                                                   {"env", "NotIn", {"prod"}}});
  absl::StatusOr<Selector> from_proto = FromLabelSelector(&ls);
  absl::StatusOr<Selector> parsed = Parse("app=web,tier in (frontend,backend),!canary,env notin (prod)");
  ASSERT_TRUE(from_proto.ok()) << from_proto.status();
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(from_proto->String(), parsed->String());
}

// Selectors match an object's metadata.labels (a protobuf map) directly.
TEST(ProtoMapMatchTest, MatchesProtobufMap) {
  const absl::StatusOr<Selector> s = Parse("app=web,tier in (frontend,backend),!canary,env!=prod");
  ASSERT_TRUE(s.ok());
  google::protobuf::Map<std::string, std::string> labels;
  labels["app"] = "web";
  labels["tier"] = "frontend";
  EXPECT_TRUE(s->Matches(labels));
  labels["env"] = "prod";
  EXPECT_FALSE(s->Matches(labels));
  labels["env"] = "dev";
  EXPECT_TRUE(s->Matches(labels));
  labels["canary"] = "";
  EXPECT_FALSE(s->Matches(labels));

  // The selector's own matchLabels, as a protobuf map, against a LabelSelector.
  const LabelSelector ls = Make({{"app", "web"}}, {});
  const absl::StatusOr<Selector> from_proto = FromLabelSelector(&ls);
  ASSERT_TRUE(from_proto.ok());
  EXPECT_TRUE(from_proto->Matches(ls.matchlabels()));
}

}  // namespace
}  // namespace kslice::labels
