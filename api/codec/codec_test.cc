// Unit tests of Kubernetes JSON/YAML/protobuf conventions on hand-built objects.
#include "api/codec/codec.h"

#include <string>
#include <thread>
#include <vector>

#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "api/meta/v1/meta.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace kslice::codec {
namespace {

using kslice::api::core::v1::ConfigMap;
using kslice::api::core::v1::Pod;
using kslice::api::core::v1::Service;
using kslice::api::discovery::v1::EndpointSlice;
using ::testing::HasSubstr;

Node JsonOf(const google::protobuf::Message& m) {
  auto s = Encode(m, Format::kJson);
  EXPECT_TRUE(s.ok()) << s.status();
  auto n = ParseJson(*s);
  EXPECT_TRUE(n.ok()) << n.status();
  return *n;
}

TEST(Codec, PodJsonFollowsGoConventions) {
  Pod pod;
  pod.mutable_metadata()->set_name("web");
  pod.mutable_spec()->set_terminationgraceperiodseconds(0);  // *int64: present zero is written
  auto* c = pod.mutable_spec()->add_containers();
  c->set_name("nginx");
  c->set_image("nginx:1.25");
  Node n = JsonOf(pod);
  EXPECT_EQ(n.keys[0], "kind");
  EXPECT_EQ(n.Find("kind")->text, "Pod");
  EXPECT_EQ(n.Find("apiVersion")->text, "v1");
  const Node* spec = n.Find("spec");
  ASSERT_NE(spec, nullptr);
  ASSERT_NE(spec->Find("terminationGracePeriodSeconds"), nullptr);
  EXPECT_EQ(spec->Find("terminationGracePeriodSeconds")->text, "0");
  // omitempty value fields are left out when zero...
  EXPECT_EQ(spec->Find("hostNetwork"), nullptr);
  EXPECT_EQ(spec->Find("nodeName"), nullptr);
  // ...and a nil pointer is left out.
  EXPECT_EQ(spec->Find("activeDeadlineSeconds"), nullptr);
  // Go writes value structs even under omitempty: status is {}.
  ASSERT_NE(n.Find("status"), nullptr);
  EXPECT_TRUE(n.Find("status")->is_object());
  // Container.resources is a value struct: {}.
  const Node* container = &spec->Find("containers")->values[0];
  ASSERT_NE(container->Find("resources"), nullptr);
  // HEAD tags creationTimestamp omitzero: a zero time is left out.
  EXPECT_EQ(n.Find("metadata")->Find("creationTimestamp"), nullptr);
}

TEST(Codec, FieldsWithoutOmitemptyAreWrittenAsNull) {
  EndpointSlice slice;
  slice.mutable_metadata()->set_name("s");
  slice.set_addresstype("IPv4");
  Node n = JsonOf(slice);
  ASSERT_NE(n.Find("endpoints"), nullptr);
  EXPECT_TRUE(n.Find("endpoints")->is_null());
  ASSERT_NE(n.Find("ports"), nullptr);
  EXPECT_TRUE(n.Find("ports")->is_null());
}

TEST(Codec, InlineEmbeddedStructs) {
  auto pod = DecodeAs<Pod>(R"({"apiVersion":"v1","kind":"Pod","spec":{
      "volumes":[{"name":"cfg","configMap":{"name":"settings","optional":true}}],
      "containers":[{"name":"c","readinessProbe":{"httpGet":{"path":"/","port":"http"}}}]}})",
                           Format::kJson);
  ASSERT_TRUE(pod.ok()) << pod.status();
  const auto& vol = pod->spec().volumes(0);
  EXPECT_EQ(vol.name(), "cfg");
  EXPECT_EQ(vol.volumesource().configmap().localobjectreference().name(), "settings");
  const auto& probe = pod->spec().containers(0).readinessprobe();
  EXPECT_EQ(probe.handler().httpget().port().strval(), "http");
  Node n = JsonOf(*pod);
  const Node* v0 = &n.Find("spec")->Find("volumes")->values[0];
  ASSERT_NE(v0->Find("configMap"), nullptr);
  EXPECT_EQ(v0->Find("configMap")->Find("name")->text, "settings");
  EXPECT_EQ(v0->Find("volumeSource"), nullptr);
}

TEST(Codec, IntOrStringAndQuantity) {
  auto svc = DecodeAs<Service>(
      "apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - port: 80\n    targetPort: 8080\n"
      "  - port: 443\n    targetPort: https\n",
      Format::kYaml);
  ASSERT_TRUE(svc.ok()) << svc.status();
  EXPECT_EQ(svc->spec().ports(0).targetport().type(), 0);
  EXPECT_EQ(svc->spec().ports(0).targetport().intval(), 8080);
  EXPECT_EQ(svc->spec().ports(1).targetport().type(), 1);
  EXPECT_EQ(svc->spec().ports(1).targetport().strval(), "https");

  auto pod = DecodeAs<Pod>(R"({"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"c",
      "resources":{"limits":{"cpu":0.5,"memory":"1024Mi"},"requests":{"cpu":"1000m"}}}]}})",
                           Format::kJson);
  ASSERT_TRUE(pod.ok()) << pod.status();
  const auto& res = pod->spec().containers(0).resources();
  EXPECT_EQ(res.limits().at("cpu").string(), "500m");
  EXPECT_EQ(res.limits().at("memory").string(), "1Gi");
  EXPECT_EQ(res.requests().at("cpu").string(), "1");

  auto bad = DecodeAs<Pod>(R"({"spec":{"containers":[{"name":"c",
      "resources":{"limits":{"cpu":"lots"}}}]}})", Format::kJson);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("spec.containers[0].resources.limits[cpu]"));
}

TEST(Codec, YamlPlainScalarsIntoStringFields) {
  auto cm = DecodeAs<ConfigMap>(
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    version: 1.20\n"
      "    enabled: true\ndata:\n  port: 8080\n",
      Format::kYaml);
  ASSERT_TRUE(cm.ok()) << cm.status();
  EXPECT_EQ(cm->metadata().labels().at("version"), "1.20");
  EXPECT_EQ(cm->metadata().labels().at("enabled"), "true");
  EXPECT_EQ(cm->data().at("port"), "8080");
  // JSON is strict: a number is not a string.
  auto strict = DecodeAs<ConfigMap>(R"({"data":{"port":8080}})", Format::kJson);
  EXPECT_FALSE(strict.ok());
}

TEST(Codec, TypeErrorsNameThePath) {
  struct Case {
    const char* json;
    const char* path;
  } cases[] = {
      {R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":"x"}]}]}})",
       "spec.containers[0].ports[0].containerPort"},
      {R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":99999999999}]}]}})",
       "spec.containers[0].ports[0].containerPort"},
      {R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":1.5}]}]}})",
       "spec.containers[0].ports[0].containerPort"},
      {R"({"metadata":{"creationTimestamp":"yesterday"}})", "metadata.creationTimestamp"},
      {R"({"metadata":{"labels":["a"]}})", "metadata.labels"},
      {R"({"spec":{"hostNetwork":"yes"}})", "spec.hostNetwork"},
      {R"({"metadata":"x"})", "metadata"},
  };
  for (const Case& c : cases) {
    auto pod = DecodeAs<Pod>(c.json, Format::kJson);
    ASSERT_FALSE(pod.ok()) << c.json;
    EXPECT_THAT(std::string(pod.status().message()), HasSubstr(c.path)) << c.json;
  }
}

TEST(Codec, UnknownFieldsAreDroppedAndReported) {
  std::vector<std::string> unknown;
  DecodeOptions options;
  options.unknown_fields = &unknown;
  auto pod = DecodeAs<Pod>(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","nmae":"typo"},"spec":{"Containers":[]}})",
      Format::kJson, options);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_THAT(unknown, ::testing::UnorderedElementsAre("metadata.nmae", "spec.Containers"));
}

TEST(Codec, KindMismatchAndUnknownKinds) {
  auto wrong = DecodeAs<Pod>(R"({"apiVersion":"v1","kind":"Service"})", Format::kJson);
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("v1/Service"));
  auto none = Decode(R"({"apiVersion":"v1","kind":"Gizmo"})", Format::kJson);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("Gizmo"));
  EXPECT_FALSE(Decode(R"({"kind":"Pod"})", Format::kJson).ok());
  // A document with only its kind decodes into that type (as /api answers).
  EXPECT_TRUE(DecodeAs<Pod>(R"({"kind":"Pod"})", Format::kJson).ok());
  EXPECT_FALSE(DecodeAs<Pod>(R"({"kind":"Service"})", Format::kJson).ok());
  EXPECT_FALSE(Decode(R"([1,2])", Format::kJson).ok());
}

TEST(Codec, ProtobufEnvelopeErrors) {
  EXPECT_FALSE(Decode("", Format::kProtobuf).ok());
  EXPECT_FALSE(Decode("k8s", Format::kProtobuf).ok());
  EXPECT_FALSE(Decode(std::string("k9s\0", 4), Format::kProtobuf).ok());
  EXPECT_FALSE(Decode(std::string("k8s\0\x0a\xff", 6), Format::kProtobuf).ok());
  Pod pod;
  pod.mutable_metadata()->set_name("a");
  auto pb = Encode(pod, Format::kProtobuf);
  ASSERT_TRUE(pb.ok());
  // Every cut inside the envelope's header or the object's bytes is detected (the
  // envelope ends with two empty strings, 4 bytes whose loss changes nothing).
  for (size_t cut = 4; cut < pb->size() - 4; ++cut) {
    auto r = Decode(pb->substr(0, cut), Format::kProtobuf);
    EXPECT_FALSE(r.ok() && google::protobuf::util::MessageDifferencer::Equals(**r, pod)) << cut;
  }
  auto svc = DecodeAs<Service>(*pb, Format::kProtobuf);
  EXPECT_FALSE(svc.ok());
}

TEST(Codec, CanonicalFormIsTheSameFromEveryFormat) {
  Pod pod;
  pod.mutable_metadata()->set_name("a");
  pod.mutable_metadata()->mutable_creationtimestamp()->set_seconds(1600000000);
  pod.mutable_metadata()->mutable_creationtimestamp()->set_nanos(123);  // Time drops nanos
  (*pod.mutable_metadata()->mutable_labels())["app"] = "x";
  auto* c = pod.mutable_spec()->add_containers();
  c->set_name("c");
  (*c->mutable_resources()->mutable_limits())["cpu"].set_string("0.5");
  auto pb = Encode(pod, Format::kProtobuf);
  ASSERT_TRUE(pb.ok()) << pb.status();
  auto from_pb = DecodeAs<Pod>(*pb, Format::kProtobuf);
  ASSERT_TRUE(from_pb.ok());
  EXPECT_EQ(from_pb->metadata().creationtimestamp().nanos(), 0);
  EXPECT_EQ(from_pb->spec().containers(0).resources().limits().at("cpu").string(), "500m");
  for (Format f : {Format::kJson, Format::kYaml}) {
    auto text = Encode(pod, f);
    ASSERT_TRUE(text.ok()) << text.status();
    auto back = DecodeAs<Pod>(*text, f);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*from_pb, *back))
        << FormatName(f) << "\n" << *text;
    auto pb2 = Encode(*back, Format::kProtobuf);
    ASSERT_TRUE(pb2.ok());
    EXPECT_EQ(*pb2, *pb);
  }
}

TEST(Codec, ZeroTimesAndRawFields) {
  auto pod = DecodeAs<Pod>(
      R"({"metadata":{"creationTimestamp":null,"deletionTimestamp":"2020-01-01T00:00:00Z",
          "managedFields":[{"manager":"kubectl","fieldsV1":{"f:metadata":{"f:labels":{}}}}]}})",
      Format::kJson);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_FALSE(pod->metadata().creationtimestamp().has_seconds());
  EXPECT_TRUE(pod->metadata().has_deletiontimestamp());
  EXPECT_EQ(pod->metadata().managedfields(0).fieldsv1().raw(), R"({"f:metadata":{"f:labels":{}}})");
  Node n = JsonOf(*pod);
  const Node* mf = &n.Find("metadata")->Find("managedFields")->values[0];
  EXPECT_TRUE(mf->Find("fieldsV1")->is_object());
}

TEST(Codec, ConcurrentUseIsSafe) {
  // The schema cache fills lazily; threads decoding different kinds race to fill it.
  const char* docs[] = {
      R"({"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a"}]}})",
      R"({"apiVersion":"v1","kind":"Service","spec":{"ports":[{"port":80}]}})",
      R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","addressType":"IPv4"})",
      R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","spec":{"holderIdentity":"x"}})",
  };
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto obj = Decode(docs[(t + i) % 4], Format::kJson);
        if (!obj.ok() || !Encode(**obj, Format::kProtobuf).ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

TEST(Codec, Formats) {
  EXPECT_EQ(*ParseFormat("pb"), Format::kProtobuf);
  EXPECT_EQ(*ParseFormat("YAML"), Format::kYaml);
  EXPECT_FALSE(ParseFormat("xml").ok());
  EXPECT_EQ(*FormatForContentType("application/json; charset=utf-8"), Format::kJson);
  EXPECT_EQ(*FormatForContentType("application/vnd.kubernetes.protobuf"), Format::kProtobuf);
  EXPECT_FALSE(FormatForContentType("text/html").ok());
  EXPECT_EQ(DetectFormat(std::string("k8s\0x", 5)), Format::kProtobuf);
  EXPECT_EQ(DetectFormat("  {\"a\":1}"), Format::kJson);
  EXPECT_EQ(DetectFormat("a: 1"), Format::kYaml);
}

}  // namespace
}  // namespace kslice::codec
