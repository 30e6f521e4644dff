// The Table document around the cells: its JSON shape, includeObject, headers, list
// metadata, errors, and Accept negotiation. Expected documents are written from
// upstream's types (k8s.io/apimachinery meta/v1 Table) and handlers
// (k8s.io/apiserver pkg/endpoints/handlers/response.go, negotiation).
#include "envtest/printers/table.h"

#include <string>
#include <vector>

#include "absl/strings/substitute.h"
#include "api/codec/node.h"
#include "api/core/v1/core.pb.h"
#include "api/meta/v1/meta.pb.h"
#include "envtest/printers/test_util.h"
#include "envtest/storage/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::envtest::printers {
namespace {

namespace core = kslice::api::core::v1;
using test_util::Ago;
using test_util::FromJson;
using test_util::Now;

codec::Node Json(const std::string& text) {
  absl::StatusOr<codec::Node> n = codec::ParseJson(text);
  EXPECT_TRUE(n.ok()) << n.status() << "\n" << text;
  return n.ok() ? *n : codec::Node();
}

std::string Text(const codec::Node& n) {
  absl::StatusOr<std::string> s = codec::WriteJson(n, {.indent = 2});
  return s.ok() ? *s : s.status().ToString();
}

core::ConfigMap ConfigMap(const std::string& name, const std::string& rv) {
  return FromJson<core::ConfigMap>(absl::Substitute(
      R"({"metadata": {"name": "$0", "namespace": "default", "resourceVersion": "$1",
                       "uid": "u-$0", "creationTimestamp": "$2", "labels": {"a": "b"}},
          "data": {"k": "v"}})",
      name, rv, Ago(absl::Minutes(4))));
}

TEST(ToTable, ListWithMetadataObjects) {
  core::ConfigMap a = ConfigMap("a", "11");
  core::ConfigMap b = ConfigMap("b", "12");
  TableOptions options;
  options.now = Now();
  absl::StatusOr<codec::Node> table = ToTable(core::ConfigMap::descriptor(), {&a, &b}, options,
                                              ListMetaFields{"20", "token", int64_t{5}});
  ASSERT_TRUE(table.ok()) << table.status();
  const std::string partial = R"({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
      "metadata": {"name": "$0", "namespace": "default", "uid": "u-$0", "resourceVersion": "$1",
                   "creationTimestamp": "$2", "labels": {"a": "b"}}})";
  const std::string created = Ago(absl::Minutes(4));
  codec::Node want = Json(absl::Substitute(
      R"({"kind": "Table", "apiVersion": "meta.k8s.io/v1",
          "metadata": {"resourceVersion": "20", "continue": "token", "remainingItemCount": 5},
          "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "$0",
             "priority": 0},
            {"name": "Data", "type": "string", "format": "", "description": "$1", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": "$2", "priority": 0}],
          "rows": [{"cells": ["a", 1, "4m"], "object": $3},
                   {"cells": ["b", 1, "4m"], "object": $4}]})",
      ColumnsFor(core::ConfigMap::descriptor())[0].description,
      ColumnsFor(core::ConfigMap::descriptor())[1].description,
      ColumnsFor(core::ConfigMap::descriptor())[2].description,
      absl::Substitute(partial, "a", "11", created),
      absl::Substitute(partial, "b", "12", created)));
  EXPECT_TRUE(table->Equals(want)) << Text(*table) << "\nwant:\n" << Text(want);
  // Go's field order: kind, apiVersion, metadata, columnDefinitions, rows.
  EXPECT_THAT(table->keys, ::testing::ElementsAre("kind", "apiVersion", "metadata",
                                                  "columnDefinitions", "rows"));
}

TEST(ToTable, IncludeObjectNoneAndObject) {
  core::ConfigMap a = ConfigMap("a", "11");
  TableOptions options;
  options.now = Now();
  options.include_object = IncludeObject::kNone;
  absl::StatusOr<codec::Node> none = ToTable(a, options);
  ASSERT_TRUE(none.ok()) << none.status();
  const codec::Node* object = none->Find("rows")->values[0].Find("object");
  ASSERT_NE(object, nullptr);  // written as null, not left out
  EXPECT_TRUE(object->is_null());

  options.include_object = IncludeObject::kObject;
  absl::StatusOr<codec::Node> full = ToTable(a, options);
  ASSERT_TRUE(full.ok()) << full.status();
  absl::StatusOr<codec::Node> want = codec::ToNode(a);
  ASSERT_TRUE(want.ok());
  const codec::Node& got = *full->Find("rows")->values[0].Find("object");
  EXPECT_TRUE(got.Equals(*want)) << Text(got);
  EXPECT_EQ(got.Find("kind")->text, "ConfigMap");
  EXPECT_EQ(got.Find("apiVersion")->text, "v1");
}

TEST(ToTable, SingleObjectTakesItsResourceVersion) {
  core::ConfigMap a = ConfigMap("a", "42");
  absl::StatusOr<codec::Node> table = ToTable(a, TableOptions{});
  ASSERT_TRUE(table.ok());
  EXPECT_TRUE(table->Find("metadata")->Equals(Json(R"({"resourceVersion": "42"})")));
  EXPECT_EQ(table->Find("rows")->values.size(), 1u);
}

TEST(ToTable, V1beta1) {
  core::ConfigMap a = ConfigMap("a", "1");
  TableOptions options;
  options.version = TableVersion::kV1beta1;
  absl::StatusOr<codec::Node> table = ToTable(a, options);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->Find("apiVersion")->text, "meta.k8s.io/v1beta1");
  EXPECT_EQ(table->Find("rows")->values[0].Find("object")->Find("apiVersion")->text,
            "meta.k8s.io/v1beta1");
}

TEST(ToTable, NoHeadersAndEmptyLists) {
  TableOptions options;
  options.no_headers = true;
  // A printed kind writes empty slices ([]); the generic convertor leaves them nil (null).
  absl::StatusOr<codec::Node> pods = ToTable(core::Pod::descriptor(), {}, options, {});
  ASSERT_TRUE(pods.ok()) << pods.status();
  EXPECT_TRUE(pods->Find("columnDefinitions")->Equals(Json("[]")));
  EXPECT_TRUE(pods->Find("rows")->Equals(Json("[]")));
  EXPECT_TRUE(pods->Find("metadata")->Equals(Json("{}")));

  absl::StatusOr<codec::Node> generic = ToTable(core::LimitRange::descriptor(), {}, options, {});
  ASSERT_TRUE(generic.ok()) << generic.status();
  EXPECT_TRUE(generic->Find("columnDefinitions")->is_null());
  EXPECT_TRUE(generic->Find("rows")->is_null());

  options.no_headers = false;
  absl::StatusOr<codec::Node> empty = ToTable(core::Pod::descriptor(), {}, options, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->Find("columnDefinitions")->values.size(), 9u);
}

TEST(ToTable, GenericColumnsAreNameAndCreatedAt) {
  core::LimitRange lr = FromJson<core::LimitRange>(
      R"({"metadata": {"name": "l", "creationTimestamp": "2026-01-02T03:04:05Z"}})");
  absl::StatusOr<codec::Node> table = ToTable(lr, TableOptions{});
  ASSERT_TRUE(table.ok());
  const codec::Node& columns = *table->Find("columnDefinitions");
  ASSERT_EQ(columns.values.size(), 2u);
  EXPECT_EQ(columns.values[0].Find("name")->text, "Name");
  EXPECT_EQ(columns.values[0].Find("format")->text, "name");
  EXPECT_EQ(columns.values[1].Find("name")->text, "Created At");
  EXPECT_EQ(columns.values[1].Find("type")->text, "date");
}

TEST(ToTable, Errors) {
  core::Pod pod;
  core::ConfigMap cm;
  absl::StatusOr<codec::Node> mixed = ToTable(core::Pod::descriptor(), {&pod, &cm}, {}, {});
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<codec::Node> null = ToTable(core::Pod::descriptor(), {nullptr}, {}, {});
  EXPECT_EQ(null.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<codec::Node> untyped = ToTable(nullptr, {}, {}, {});
  EXPECT_EQ(untyped.status().code(), absl::StatusCode::kInvalidArgument);
  // Without a type the first object's is used.
  EXPECT_TRUE(ToTable(nullptr, {&pod}, {}, {}).ok());

  // A type without ObjectMeta cannot be printed: 406 NotAcceptable.
  kslice::api::meta::v1::Status status;
  absl::StatusOr<codec::Node> not_printable = ToTable(status, TableOptions{});
  ASSERT_FALSE(not_printable.ok());
  std::optional<storage::MetaStatus> api = storage::ApiStatusOf(not_printable.status());
  ASSERT_TRUE(api.has_value());
  EXPECT_EQ(api->code(), 406);
  EXPECT_EQ(api->reason(), "NotAcceptable");
}

TEST(ParseIncludeObject, Values) {
  EXPECT_EQ(*ParseIncludeObject(""), IncludeObject::kMetadata);
  EXPECT_EQ(*ParseIncludeObject("Metadata"), IncludeObject::kMetadata);
  EXPECT_EQ(*ParseIncludeObject("None"), IncludeObject::kNone);
  EXPECT_EQ(*ParseIncludeObject("Object"), IncludeObject::kObject);
  absl::StatusOr<IncludeObject> bad = ParseIncludeObject("object");
  ASSERT_FALSE(bad.ok());
  std::optional<storage::MetaStatus> api = storage::ApiStatusOf(bad.status());
  ASSERT_TRUE(api.has_value());
  EXPECT_EQ(api->code(), 400);
  EXPECT_EQ(api->reason(), "BadRequest");
  EXPECT_EQ(api->message(),
            "Unable to convert to Table as requested: includeObject: Invalid value: \"object\": "
            "must be 'Metadata', 'Object', 'None', or empty");
}

constexpr char kKubectlAccept[] =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
    "g=meta.k8s.io,application/json";

TEST(NegotiateAccept, KubectlGet) {
  absl::StatusOr<AcceptChoice> c = NegotiateAccept(kKubectlAccept);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->table);
  EXPECT_EQ(c->table_version, TableVersion::kV1);
  EXPECT_EQ(c->media_type, "application/json");
}

TEST(NegotiateAccept, Choices) {
  struct Case {
    const char* accept;
    bool table;
    TableVersion version;
    const char* media_type;
  };
  const Case cases[] = {
      {"", false, TableVersion::kV1, "application/json"},
      {"application/json", false, TableVersion::kV1, "application/json"},
      {"*/*", false, TableVersion::kV1, "application/json"},
      {"application/*", false, TableVersion::kV1, "application/json"},
      {"application/yaml", false, TableVersion::kV1, "application/yaml"},
      {"application/vnd.kubernetes.protobuf", false, TableVersion::kV1,
       "application/vnd.kubernetes.protobuf"},
      {"application/json;as=Table;v=v1beta1;g=meta.k8s.io", true, TableVersion::kV1beta1,
       "application/json"},
      {"application/yaml;as=Table;v=v1;g=meta.k8s.io", true, TableVersion::kV1, "application/yaml"},
      {"application/json; as=Table; v=v1; g=meta.k8s.io", true, TableVersion::kV1,
       "application/json"},
      // No Table in protobuf: the next clause wins.
      {"application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json", false,
       TableVersion::kV1, "application/json"},
      // Unknown versions, groups or targets make a clause unacceptable.
      {"application/json;as=Table;v=v2;g=meta.k8s.io,application/yaml", false, TableVersion::kV1,
       "application/yaml"},
      {"application/json;as=Table;v=v1,application/yaml", false, TableVersion::kV1,
       "application/yaml"},
      {"application/json;as=Deployment;v=v1;g=apps,application/yaml", false, TableVersion::kV1,
       "application/yaml"},
      // Quality first.
      {"application/json;q=0.5,application/json;as=Table;v=v1;g=meta.k8s.io", true,
       TableVersion::kV1, "application/json"},
      {"application/json;as=Table;v=v1;g=meta.k8s.io;q=0.1,application/yaml", false,
       TableVersion::kV1, "application/yaml"},
      // A concrete type before a wildcard of the same quality.
      {"*/*,application/json;as=Table;v=v1;g=meta.k8s.io", true, TableVersion::kV1,
       "application/json"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AcceptChoice> got = NegotiateAccept(c.accept);
    ASSERT_TRUE(got.ok()) << c.accept << ": " << got.status();
    EXPECT_EQ(got->table, c.table) << c.accept;
    if (c.table) {
      EXPECT_EQ(got->table_version, c.version) << c.accept;
    }
    EXPECT_EQ(got->media_type, c.media_type) << c.accept;
  }
}

TEST(NegotiateAccept, OtherConversionsAndPretty) {
  absl::StatusOr<AcceptChoice> c =
      NegotiateAccept("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io;pretty=1");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->table);
  EXPECT_EQ(c->other_conversion, "PartialObjectMetadataList");
  EXPECT_TRUE(c->pretty);
  // PartialObjectMetadata is possible in protobuf.
  c = NegotiateAccept(
      "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;v=v1beta1;"
      "g=meta.k8s.io");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->other_conversion, "PartialObjectMetadata");
  EXPECT_EQ(c->other_conversion_version, TableVersion::kV1beta1);
}

TEST(NegotiateAccept, NotAcceptable) {
  for (const char* accept : {"text/html", "application/json;as=Table;v=v3;g=meta.k8s.io",
                             "application/xml, text/plain", "garbage"}) {
    absl::StatusOr<AcceptChoice> c = NegotiateAccept(accept);
    ASSERT_FALSE(c.ok()) << accept;
    std::optional<storage::MetaStatus> api = storage::ApiStatusOf(c.status());
    ASSERT_TRUE(api.has_value());
    EXPECT_EQ(api->code(), 406);
    EXPECT_EQ(api->message(),
              "only the following media types are accepted: application/json, application/yaml, "
              "application/vnd.kubernetes.protobuf");
  }
}

}  // namespace
}  // namespace kslice::envtest::printers
