#include "envtest/fieldmanager/internal/fieldset.h"

#include <string>
#include <vector>

#include "api/codec/node.h"
#include "gtest/gtest.h"

namespace kslice::envtest::fieldmanager::internal {
namespace {

using codec::Node;

Node Json(const std::string& text) {
  absl::StatusOr<Node> n = codec::ParseJson(text);
  EXPECT_TRUE(n.ok()) << n.status();
  return n.ok() ? *n : Node();
}

std::string Write(const Node& n) {
  absl::StatusOr<std::string> s = codec::WriteJson(n);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : "";
}

PathElement NameKey(const std::string& name) {
  return PathElement::Key({{"name", Node::String(name)}});
}

// The fieldsV1 kubectl shows for `kubectl apply` of a one-container Deployment
// (upstream output, keys in SMD order).
constexpr char kDeploymentFields[] =
    R"({"f:metadata":{"f:labels":{".":{},"f:app":{}}},)"
    R"("f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},)"
    R"("f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{},)"
    R"("f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}})";

TEST(FieldsV1, RoundTripsUpstreamDocument) {
  absl::StatusOr<Set> set = FromFieldsV1(Json(kDeploymentFields));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(Write(ToFieldsV1(*set)), kDeploymentFields);
}

TEST(FieldsV1, BuildsUpstreamShapeFromPaths) {
  Set s;
  auto f = [](const char* n) { return PathElement::Field(n); };
  Path container = {f("spec"), f("template"), f("spec"), f("containers"), NameKey("nginx")};
  s.Insert(container);
  for (const char* leaf : {"name", "image"}) {
    Path p = container;
    p.push_back(f(leaf));
    s.Insert(p);
  }
  Path port = container;
  port.push_back(f("ports"));
  port.push_back(PathElement::Key(
      {{"protocol", Node::String("TCP")}, {"containerPort", Node::Number("80")}}));
  s.Insert(port);
  port.push_back(f("containerPort"));
  s.Insert(port);
  s.Insert({f("spec"), f("replicas")});
  s.Insert({f("spec"), f("selector")});
  s.Insert({f("metadata"), f("labels")});
  s.Insert({f("metadata"), f("labels"), f("app")});
  s.Insert({f("spec"), f("template"), f("metadata"), f("labels")});
  s.Insert({f("spec"), f("template"), f("metadata"), f("labels"), f("app")});
  EXPECT_EQ(Write(ToFieldsV1(s)), kDeploymentFields);
}

TEST(FieldsV1, SetValuesAndOrderOfKinds) {
  Set s;
  Path fin = {PathElement::Field("metadata"), PathElement::Field("finalizers")};
  Path b = fin, a = fin;
  b.push_back(PathElement::Value(Node::String("b.io/x")));
  a.push_back(PathElement::Value(Node::String("a.io/y")));
  s.Insert(b);
  s.Insert(a);
  EXPECT_EQ(Write(ToFieldsV1(s)),
            R"({"f:metadata":{"f:finalizers":{"v:\"a.io/y\"":{},"v:\"b.io/x\"":{}}}})");
}

TEST(FieldsV1, EscapesHtmlInValuesAsEncodingJsonDoes) {
  EXPECT_EQ(PathElement::Value(Node::String("<a&b>")).ToFieldsV1Key(),
            R"(v:"\u003ca\u0026b\u003e")");
  EXPECT_EQ(PathElement::Key({{"name", Node::String("x>y")}}).ToFieldsV1Key(),
            R"(k:{"name":"x\u003ey"})");
  // Decoding the escaped form gives the same element back.
  absl::StatusOr<Set> s = FromFieldsV1(Json(R"({"v:\"\\u003ca\"":{}})"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->Has({PathElement::Value(Node::String("<a"))}));
}

TEST(FieldsV1, RejectsGarbage) {
  EXPECT_FALSE(FromFieldsV1(Json(R"({"x:foo":{}})")).ok());
  EXPECT_FALSE(FromFieldsV1(Json(R"({"k:notjson":{}})")).ok());
  EXPECT_FALSE(FromFieldsV1(Json(R"({"f:a":1})")).ok());
  EXPECT_FALSE(FromFieldsV1(Json(R"({".":{}})")).ok());
  EXPECT_FALSE(FromFieldsV1(Json(R"([])")).ok());
}

TEST(PathString, MatchesSmd) {
  Path p = {PathElement::Field("spec"), PathElement::Field("containers"), NameKey("app"),
            PathElement::Field("ports"),
            PathElement::Key({{"protocol", Node::String("TCP")},
                              {"containerPort", Node::Number("80")}})};
  EXPECT_EQ(PathToString(p), R"(.spec.containers[name="app"].ports[containerPort=80,protocol="TCP"])");
  EXPECT_EQ(PathToString({PathElement::Field("metadata"), PathElement::Field("finalizers"),
                          PathElement::Value(Node::String("x"))}),
            R"(.metadata.finalizers[="x"])");
  EXPECT_EQ(PathToString({PathElement::Index(3)}), "[3]");
}

TEST(SetOps, DifferenceKeepsChildrenOfRemovedMembers) {
  // SMD: a member of the subtrahend does not remove the minuend's children.
  Set a;
  a.Insert({PathElement::Field("spec")});
  a.Insert({PathElement::Field("spec"), PathElement::Field("replicas")});
  Set b;
  b.Insert({PathElement::Field("spec")});
  Set d = a.Difference(b);
  EXPECT_FALSE(d.Has({PathElement::Field("spec")}));
  EXPECT_TRUE(d.Has({PathElement::Field("spec"), PathElement::Field("replicas")}));
  Set i = a.Intersection(b);
  EXPECT_TRUE(i.Has({PathElement::Field("spec")}));
  EXPECT_FALSE(i.Has({PathElement::Field("spec"), PathElement::Field("replicas")}));
  EXPECT_TRUE(a.Union(b) == a);
}

TEST(SetOps, IterateListsMembersBeforeChildren) {
  Set s;
  s.Insert({PathElement::Field("b"), PathElement::Field("x")});
  s.Insert({PathElement::Field("c")});
  s.Insert({PathElement::Field("a")});
  std::vector<std::string> got;
  s.Iterate([&](const Path& p) { got.push_back(PathToString(p)); });
  EXPECT_EQ(got, (std::vector<std::string>{".a", ".c", ".b.x"}));
}

}  // namespace
}  // namespace kslice::envtest::fieldmanager::internal
