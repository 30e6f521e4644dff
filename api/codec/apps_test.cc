// apps/v1 (Deployment, ReplicaSet, DaemonSet) and autoscaling/v1 Scale through the
// codecs: scheme registration, Go's JSON conventions for these types, and round trips
// between protobuf, JSON and YAML. (Upstream's own round-trip fixtures for these kinds
// are checked by conformance_test when shared/testdata/k8s-api holds them.)
#include <string>

#include "api/apps/v1/apps.pb.h"
#include "api/autoscaling/v1/autoscaling.pb.h"
#include "api/codec/canonical.h"
#include "api/codec/codec.h"
#include "api/scheme/scheme.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace kslice::codec {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using kslice::api::apps::v1::DaemonSet;
using kslice::api::apps::v1::Deployment;
using kslice::api::apps::v1::DeploymentList;
using kslice::api::apps::v1::ReplicaSet;
using kslice::api::autoscaling::v1::Scale;
using ::testing::ElementsAre;

constexpr char kDeploymentYaml[] = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 25%
      maxSurge: 1
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
)";

Node JsonOf(const google::protobuf::Message& m) {
  auto s = Encode(m, Format::kJson);
  EXPECT_TRUE(s.ok()) << s.status();
  auto n = ParseJson(*s);
  EXPECT_TRUE(n.ok()) << n.status();
  return n.ok() ? *n : Node{};
}

TEST(AppsCodec, KindsAreRegistered) {
  const auto& scheme = kslice::api::Scheme::Builtin();
  for (const char* kind : {"Deployment", "DeploymentList", "ReplicaSet", "ReplicaSetList",
                           "DaemonSet", "DaemonSetList"}) {
    const google::protobuf::Message* proto = scheme.Prototype("apps/v1", kind);
    ASSERT_NE(proto, nullptr) << kind;
    EXPECT_EQ(proto->GetDescriptor()->name(), kind);
  }
  ASSERT_NE(scheme.Prototype("autoscaling/v1", "Scale"), nullptr);
  auto tm = scheme.TypeMetaFor(Deployment::descriptor());
  ASSERT_TRUE(tm.ok()) << tm.status();
  EXPECT_EQ(tm->api_version, "apps/v1");
  EXPECT_EQ(tm->kind, "Deployment");
  // Spec/status messages are not kinds.
  EXPECT_EQ(scheme.Prototype("apps/v1", "DeploymentSpec"), nullptr);
}

TEST(AppsCodec, DeploymentManifestDecodes) {
  auto d = DecodeAs<Deployment>(kDeploymentYaml, Format::kYaml);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->metadata().name(), "nginx-deployment");
  ASSERT_TRUE(d->spec().has_replicas());
  EXPECT_EQ(d->spec().replicas(), 2);
  EXPECT_EQ(d->spec().selector().matchlabels().at("app"), "nginx");
  EXPECT_EQ(d->spec().strategy().type(), "RollingUpdate");
  EXPECT_EQ(d->spec().strategy().rollingupdate().maxunavailable().strval(), "25%");
  EXPECT_EQ(d->spec().strategy().rollingupdate().maxsurge().intval(), 1);
  ASSERT_EQ(d->spec().template_().spec().containers_size(), 1);
  EXPECT_EQ(d->spec().template_().spec().containers(0).image(), "nginx:1.14.2");
  // Pointers not given stay unset (the server defaults them).
  EXPECT_FALSE(d->spec().has_revisionhistorylimit());
  EXPECT_FALSE(d->spec().has_progressdeadlineseconds());
}

TEST(AppsCodec, DeploymentJsonFollowsGoConventions) {
  auto d = DecodeAs<Deployment>(kDeploymentYaml, Format::kYaml);
  ASSERT_TRUE(d.ok()) << d.status();
  Node n = JsonOf(*d);
  EXPECT_THAT(n.keys, ElementsAre("kind", "apiVersion", "metadata", "spec", "status"));
  EXPECT_EQ(n.Find("apiVersion")->text, "apps/v1");
  const Node* spec = n.Find("spec");
  ASSERT_NE(spec, nullptr);
  // Go struct order.
  EXPECT_THAT(spec->keys, ElementsAre("replicas", "selector", "template", "strategy"));
  const Node* ru = spec->Find("strategy")->Find("rollingUpdate");
  ASSERT_NE(ru, nullptr);
  EXPECT_EQ(ru->Find("maxUnavailable")->text, "25%");
  EXPECT_EQ(ru->Find("maxSurge")->text, "1");

  // An empty Deployment: selector has no omitempty (null), template is a value struct
  // without omitempty, strategy and status are value structs (written as {}).
  Node empty = JsonOf(Deployment());
  const Node* es = empty.Find("spec");
  ASSERT_NE(es, nullptr);
  ASSERT_NE(es->Find("selector"), nullptr);
  EXPECT_TRUE(es->Find("selector")->is_null());
  ASSERT_NE(es->Find("template"), nullptr);
  EXPECT_TRUE(es->Find("template")->is_object());
  EXPECT_EQ(es->Find("replicas"), nullptr);
  ASSERT_NE(es->Find("strategy"), nullptr);
  ASSERT_NE(empty.Find("status"), nullptr);
  EXPECT_TRUE(empty.Find("status")->keys.empty());

  // *int32 replicas = 0 is present and written.
  Deployment zero;
  zero.mutable_spec()->set_replicas(0);
  ASSERT_NE(JsonOf(zero).Find("spec")->Find("replicas"), nullptr);
  EXPECT_EQ(JsonOf(zero).Find("spec")->Find("replicas")->text, "0");
}

TEST(AppsCodec, StatusCountersWithoutOmitempty) {
  // DaemonSetStatus's first four counters and ReplicaSetStatus.replicas are written
  // even when zero; the others are omitempty.
  Node ds = JsonOf(DaemonSet());
  const Node* st = ds.Find("status");
  ASSERT_NE(st, nullptr);
  EXPECT_THAT(st->keys, ElementsAre("currentNumberScheduled", "numberMisscheduled",
                                    "desiredNumberScheduled", "numberReady"));
  Node rs = JsonOf(ReplicaSet());
  EXPECT_THAT(rs.Find("status")->keys, ElementsAre("replicas"));
  Node scale = JsonOf(Scale());
  EXPECT_EQ(scale.Find("apiVersion")->text, "autoscaling/v1");
  EXPECT_THAT(scale.Find("status")->keys, ElementsAre("replicas"));
}

TEST(AppsCodec, RoundTripsThroughEveryFormat) {
  auto d = DecodeAs<Deployment>(kDeploymentYaml, Format::kYaml);
  ASSERT_TRUE(d.ok()) << d.status();
  d->mutable_spec()->set_revisionhistorylimit(10);
  auto* cond = d->mutable_status()->add_conditions();
  cond->set_type("Available");
  cond->set_status("True");
  cond->mutable_lastupdatetime()->set_seconds(1700000000);
  cond->set_reason("MinimumReplicasAvailable");
  d->mutable_status()->set_terminatingreplicas(0);
  d->mutable_status()->set_readyreplicas(2);
  // Decoded objects are canonical (value fields present); compare like with like.
  ASSERT_TRUE(Canonicalize(&*d).ok());

  for (Format f : {Format::kProtobuf, Format::kJson, Format::kYaml}) {
    auto bytes = Encode(*d, f);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    if (f == Format::kProtobuf) {
      EXPECT_EQ(bytes->substr(0, 4), kProtobufMagic);
    }
    auto any = Decode(*bytes, f);
    ASSERT_TRUE(any.ok()) << FormatName(f) << ": " << any.status();
    ASSERT_EQ((*any)->GetDescriptor(), Deployment::descriptor()) << FormatName(f);
    EXPECT_TRUE(MessageDifferencer::Equals(**any, *d)) << FormatName(f) << "\n"
                                                       << (*any)->DebugString();
    // Encoding the decoded object again gives the same bytes.
    auto again = Encode(**any, f);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *bytes) << FormatName(f);
  }
}

TEST(AppsCodec, ListsAndOtherKinds) {
  auto list = DecodeAs<DeploymentList>(
      R"({"apiVersion":"apps/v1","kind":"DeploymentList","metadata":{"resourceVersion":"7"},
          "items":[{"metadata":{"name":"a"},"spec":{"replicas":3}}]})",
      Format::kJson);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->items_size(), 1);
  EXPECT_EQ(list->items(0).spec().replicas(), 3);

  auto ds = DecodeAs<DaemonSet>(R"(apiVersion: apps/v1
kind: DaemonSet
metadata: {name: multitool-1}
spec:
  selector: {matchLabels: {app: multitool-1}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1, maxSurge: 0}}
  template:
    metadata: {labels: {app: multitool-1}}
    spec: {containers: [{name: tools, image: multitool}]}
)",
                                Format::kYaml);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->spec().updatestrategy().rollingupdate().maxunavailable().intval(), 1);
  EXPECT_TRUE(ds->spec().updatestrategy().rollingupdate().has_maxsurge());

  // A kind mismatch is an error, not a silent conversion.
  auto wrong =
      DecodeAs<ReplicaSet>(R"({"apiVersion":"apps/v1","kind":"Deployment"})", Format::kJson);
  EXPECT_FALSE(wrong.ok());
  // Type errors name the path.
  auto bad = DecodeAs<Deployment>(R"({"apiVersion":"apps/v1","kind":"Deployment",
                                      "spec":{"replicas":"two"}})",
                                  Format::kJson);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("spec.replicas"));
}

}  // namespace
}  // namespace kslice::codec
