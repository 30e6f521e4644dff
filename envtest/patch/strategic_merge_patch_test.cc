// Strategic merge patch. Expected values are worked out by hand from upstream's
// algorithm (apimachinery pkg/util/strategicpatch/patch.go, its test table and
// apiserver's interpretStrategicMergePatchError), on a test schema with one field per
// patch strategy (testdata/merge_item.proto) and on core/v1 Pods.
#include <string>

#include "absl/strings/str_cat.h"
#include "api/codec/node.h"
#include "api/core/v1/core.pb.h"
#include "envtest/patch/patch.h"
#include "envtest/patch/test_util.h"
#include "envtest/patch/testdata/merge_item.pb.h"
#include "gtest/gtest.h"

namespace kslice::envtest::patch {
namespace {

using testing::AnswerOf;
using testing::Json;
using testing::JsonEq;

const google::protobuf::Descriptor* Item() { return testdata::MergeItem::descriptor(); }

struct Case {
  const char* name;
  const char* doc;
  const char* patch;
  const char* want;
};

class ItemTest : public ::testing::TestWithParam<Case> {};

TEST_P(ItemTest, Merges) {
  const Case& c = GetParam();
  EXPECT_TRUE(JsonEq(ApplyStrategicMergePatch(Json(c.doc), c.patch, Item()), c.want)) << c.patch;
}

INSTANTIATE_TEST_SUITE_P(
    Directives, ItemTest,
    ::testing::Values(
        Case{"ScalarReplaced", R"({"name":"a","value":"1"})", R"({"value":"2"})",
             R"({"name":"a","value":"2"})"},
        Case{"NullDeletes", R"({"name":"a","value":"1"})", R"({"value":null,"other":null})",
             R"({"name":"a"})"},
        Case{"NewValueLosesNullsAndDirectives", R"({})",
             R"({"mergeItemPtr":{"name":"x","value":null,"mergingList":[{"name":"y","other":null},{"$patch":"delete","name":"z"}]}})",
             R"({"mergeItemPtr":{"name":"x","mergingList":[{"name":"y"}]}})"},
        Case{"MapsMerge", R"({"simpleMap":{"a":"1","b":"2"}})",
             R"({"simpleMap":{"b":null,"c":"3"}})", R"({"simpleMap":{"a":"1","c":"3"}})"},
        Case{"StructsMerge", R"({"mergeItemPtr":{"name":"x","value":"1"}})",
             R"({"mergeItemPtr":{"value":"2"}})", R"({"mergeItemPtr":{"name":"x","value":"2"}})"},
        Case{"ReplaceStrategy", R"({"replacingItem":{"a":1,"b":2}})",
             R"({"replacingItem":{"b":3}})", R"({"replacingItem":{"b":3}})"},
        Case{"ReplaceDirectiveOnMap", R"({"mergeItemPtr":{"name":"x","value":"1"}})",
             R"({"mergeItemPtr":{"$patch":"replace","other":"o"}})",
             R"({"mergeItemPtr":{"other":"o"}})"},
        // $patch: delete on a map empties it; the key stays.
        Case{"DeleteDirectiveOnMap", R"({"mergeItemPtr":{"name":"x"},"name":"n"})",
             R"({"mergeItemPtr":{"$patch":"delete"}})", R"({"mergeItemPtr":{},"name":"n"})"},
        Case{"ReplaceDirectiveAtTop", R"({"name":"a","value":"1"})",
             R"({"$patch":"replace","other":"o"})", R"({"other":"o"})"},
        Case{"DeleteDirectiveAtTop", R"({"name":"a","value":"1"})", R"({"$patch":"delete"})",
             R"({})"},
        Case{"TypeChangeReplaces", R"({"mergingList":[{"name":"a"}]})", R"({"mergingList":"x"})",
             R"({"mergingList":"x"})"},
        Case{"NonMergingListReplaced", R"({"nonMergingList":[{"name":"a"},{"name":"b"}]})",
             R"({"nonMergingList":[{"name":"c"}]})", R"({"nonMergingList":[{"name":"c"}]})"},
        Case{"NonMergingIntListReplaced", R"({"nonMergingIntList":[1,2]})",
             R"({"nonMergingIntList":[2,3]})", R"({"nonMergingIntList":[2,3]})"},
        Case{"NullPatch", R"({"name":"a"})", "null", R"({"name":"a"})"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Lists, ItemTest,
    ::testing::Values(
        // Patch items come first in patch order; the others keep their place relative to
        // the items of the live list they follow.
        Case{"MergeByKey", R"({"mergingList":[{"name":"a","value":"1"},{"name":"b","value":"2"}]})",
             R"({"mergingList":[{"name":"c","value":"3"},{"name":"a","value":"9"}]})",
             R"({"mergingList":[{"name":"c","value":"3"},{"name":"a","value":"9"},{"name":"b","value":"2"}]})"},
        Case{"MergeKeepsOtherFields", R"({"mergingList":[{"name":"a","value":"1","other":"x"}]})",
             R"({"mergingList":[{"name":"a","other":null}]})",
             R"({"mergingList":[{"name":"a","value":"1"}]})"},
        Case{"DeleteByKey", R"({"mergingList":[{"name":"a"},{"name":"b"},{"name":"c"}]})",
             R"({"mergingList":[{"name":"b","$patch":"delete"}]})",
             R"({"mergingList":[{"name":"a"},{"name":"c"}]})"},
        Case{"DeleteAllMatches", R"({"mergingList":[{"name":"a"},{"name":"b","value":"1"},{"name":"b","value":"2"}]})",
             R"({"mergingList":[{"name":"b","$patch":"delete"}]})",
             R"({"mergingList":[{"name":"a"}]})"},
        Case{"ReplaceList", R"({"mergingList":[{"name":"a"},{"name":"b"}]})",
             R"({"mergingList":[{"$patch":"replace"},{"name":"c"}]})",
             R"({"mergingList":[{"name":"c"}]})"},
        // A new element is appended as written: nulls stay (the decoder ignores them).
        Case{"AppendedAsIs", R"({"mergingList":[{"name":"a"}]})",
             R"({"mergingList":[{"name":"d","value":null}]})",
             R"({"mergingList":[{"name":"d","value":null},{"name":"a"}]})"},
        Case{"NestedMergeList",
             R"({"mergingList":[{"name":"a","mergingList":[{"name":"x","value":"1"}]}]})",
             R"({"mergingList":[{"name":"a","mergingList":[{"name":"y","value":"2"}]}]})",
             R"({"mergingList":[{"name":"a","mergingList":[{"name":"y","value":"2"},{"name":"x","value":"1"}]}]})"},
        Case{"PrimitiveUnion", R"({"mergingIntList":[1,2,3]})", R"({"mergingIntList":[3,4]})",
             R"({"mergingIntList":[1,2,3,4]})"},
        Case{"PrimitiveOrder", R"({"mergingIntList":[1,2,3]})", R"({"mergingIntList":[2,0]})",
             R"({"mergingIntList":[1,2,0,3]})"},
        Case{"PrimitiveDuplicatesInPatch", R"({"mergingIntList":[1]})",
             R"({"mergingIntList":[2,2,1]})", R"({"mergingIntList":[2,1]})"},
        Case{"DeleteFromPrimitiveList", R"({"mergingIntList":[1,2,3]})",
             R"({"$deleteFromPrimitiveList/mergingIntList":[2,5]})", R"({"mergingIntList":[1,3]})"},
        Case{"DeleteFromMissingPrimitiveList", R"({"name":"a"})",
             R"({"$deleteFromPrimitiveList/mergingIntList":[2]})", R"({"name":"a"})"},
        Case{"DeleteAndAdd", R"({"mergingIntList":[1,2]})",
             R"({"mergingIntList":[3],"$deleteFromPrimitiveList/mergingIntList":[1]})",
             R"({"mergingIntList":[3,2]})"},
        Case{"SetElementOrderAlone", R"({"mergingList":[{"name":"a"},{"name":"b"},{"name":"c"}]})",
             R"({"$setElementOrder/mergingList":[{"name":"c"},{"name":"a"},{"name":"b"}]})",
             R"({"mergingList":[{"name":"c"},{"name":"a"},{"name":"b"}]})"},
        Case{"SetElementOrderWithList",
             R"({"mergingList":[{"name":"a","value":"1"},{"name":"b","value":"2"}]})",
             R"({"$setElementOrder/mergingList":[{"name":"b"},{"name":"a"},{"name":"c"}],
                 "mergingList":[{"name":"c","value":"3"}]})",
             R"({"mergingList":[{"name":"b","value":"2"},{"name":"a","value":"1"},{"name":"c","value":"3"}]})"},
        // An item the order list does not name goes before the first ordered item that
        // follows it in the live list.
        Case{"SetElementOrderPartial",
             R"({"mergingList":[{"name":"a"},{"name":"b"},{"name":"c"}]})",
             R"({"$setElementOrder/mergingList":[{"name":"c"},{"name":"a"}]})",
             R"({"mergingList":[{"name":"b"},{"name":"c"},{"name":"a"}]})"},
        // Go deletes and appends in the live list's backing array, which the order step
        // then reads at its old length ([c d e d] here): d lands before e.
        Case{"SetElementOrderAfterDeletes",
             R"({"mergingList":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d"}]})",
             R"({"$setElementOrder/mergingList":[{"name":"c"},{"name":"e"}],
                 "mergingList":[{"name":"e"},{"name":"a","$patch":"delete"},{"name":"b","$patch":"delete"}]})",
             R"({"mergingList":[{"name":"c"},{"name":"d"},{"name":"e"}]})"},
        Case{"SetElementOrderPrimitives", R"({"mergingIntList":[1,2,3]})",
             R"({"$setElementOrder/mergingIntList":[3,1,2]})", R"({"mergingIntList":[3,1,2]})"},
        Case{"SetElementOrderNewList", R"({})",
             R"({"$setElementOrder/mergingList":[{"name":"b"},{"name":"a"}],
                 "mergingList":[{"name":"a"}]})",
             R"({"mergingList":[{"name":"a"}]})"},
        Case{"EmptyLists", R"({"mergingList":[]})", R"({"mergingList":[]})",
             R"({"mergingList":[]})"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    RetainKeys, ItemTest,
    ::testing::Values(
        Case{"ClearsOtherKeys", R"({"retainKeysMap":{"name":"a","value":"v","other":"o"}})",
             R"({"retainKeysMap":{"$retainKeys":["name","other"],"other":"p"}})",
             R"({"retainKeysMap":{"name":"a","other":"p"}})"},
        Case{"NullsNeedNotBeListed", R"({"retainKeysMap":{"name":"a","value":"v"}})",
             R"({"retainKeysMap":{"$retainKeys":["name"],"value":null}})",
             R"({"retainKeysMap":{"name":"a"}})"},
        Case{"InListElements",
             R"({"retainKeysMergingList":[{"name":"a","value":"v"},{"name":"b","value":"w"}]})",
             R"({"retainKeysMergingList":[{"name":"a","$retainKeys":["name","other"],"other":"o"}]})",
             R"({"retainKeysMergingList":[{"name":"a","other":"o"},{"name":"b","value":"w"}]})"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

struct ErrorCase {
  const char* name;
  const char* doc;
  const char* patch;
  int code;
  const char* message;
};

class ItemErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ItemErrorTest, Fails) {
  const ErrorCase& c = GetParam();
  absl::StatusOr<codec::Node> got = ApplyStrategicMergePatch(Json(c.doc), c.patch, Item());
  ASSERT_FALSE(got.ok()) << testing::ToJson(*got);
  EXPECT_EQ(AnswerOf(got.status()).code, c.code) << got.status();
  EXPECT_EQ(AnswerOf(got.status()).message, c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ItemErrorTest,
    ::testing::Values(
        ErrorCase{"NotJson", "{}", "{", 400, "invalid JSON patch"},
        ErrorCase{"NotAnObject", "{}", "[1]", 400,
                  "json: cannot unmarshal array into Go value of type map[string]interface {}"},
        ErrorCase{"RetainKeysNotAList", R"({"retainKeysMap":{"name":"a"}})",
                  R"({"retainKeysMap":{"$retainKeys":"name"}})", 400,
                  "invalid patch format of retainKeys"},
        ErrorCase{"RetainKeysMissesPatchedKey", R"({"retainKeysMap":{"name":"a"}})",
                  R"({"retainKeysMap":{"$retainKeys":["name"],"other":"x"}})", 400,
                  "invalid patch format of retainKeys"},
        ErrorCase{"BadDeleteFromPrimitiveListKey", R"({"mergingIntList":[1]})",
                  R"({"$deleteFromPrimitiveListmergingIntList":[1]})", 400,
                  "invalid patch format of primitive list"},
        ErrorCase{"BadSetElementOrderKey", R"({"mergingIntList":[1]})",
                  R"({"$setElementOrderX":[1]})", 400,
                  "invalid patch format of setElementOrder list"},
        ErrorCase{"ListOfLists", R"({"mergingList":[["x"]]})", R"({"mergingList":[["y"]]})", 422,
                  "the server rejected our request due to an error in our request"},
        ErrorCase{"MissingMergeKey", R"({"mergingList":[{"name":"a"}]})",
                  R"({"mergingList":[{"value":"x"}]})", 500,
                  "map: map[value:x] does not contain declared merge key: name"},
        ErrorCase{"DeleteWithoutMergeKey", R"({"mergingList":[{"name":"a"}]})",
                  R"({"mergingList":[{"$patch":"delete"}]})", 500,
                  "map: map[$patch:delete] does not contain declared merge key: name"},
        ErrorCase{"MergeDirectiveInList", R"({"mergingList":[{"name":"a"}]})",
                  R"({"mergingList":[{"$patch":"merge"}]})", 500,
                  "merging lists cannot yet be specified in the patch"},
        ErrorCase{"UnknownDirectiveInList", R"({"mergingList":[{"name":"a"}]})",
                  R"({"mergingList":[{"$patch":"foo","name":"a"}]})", 500,
                  "unknown patch type: foo in map: map[$patch:foo name:a]"},
        ErrorCase{"UnknownDirectiveOnMap", R"({"mergeItemPtr":{"name":"a"}})",
                  R"({"mergeItemPtr":{"$patch":1}})", 500,
                  "unknown patch type: %!s(int64=1) in map: map[$patch:1]"},
        ErrorCase{"MixedElementTypes", R"({"mergingIntList":[1]})",
                  R"({"mergingIntList":["a"]})", 500,
                  "list element types are not identical: [[1] [a]]"},
        ErrorCase{"SetElementOrderMismatch", R"({"mergingList":[{"name":"a"},{"name":"b"}]})",
                  R"({"$setElementOrder/mergingList":[{"name":"a"}],"mergingList":[{"name":"b","value":"1"}]})",
                  500,
                  "The order in patch list:\n[map[name:b value:1]]\n doesn't match "
                  "$setElementOrder list:\n[map[name:a]]\n"},
        ErrorCase{"SetElementOrderContradicted", "{}",
                  R"({"$setElementOrder/mergingList":[{"name":"b"},{"name":"a"}],"mergingList":[{"name":"a"},{"name":"b"}]})",
                  500,
                  "The order in patch list:\n[map[name:a] map[name:b]]\n doesn't match "
                  "$setElementOrder list:\n[map[name:b] map[name:a]]\n"},
        ErrorCase{"UnknownFieldWithObjects", R"({"foo":{"a":1}})", R"({"foo":{"b":2}})", 500,
                  "unable to find api field in struct MergeItem for the json field \"foo\""}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return std::string(info.param.name); });

TEST(StrategicMergePatchTest, NoSchemaIsUnsupported) {
  absl::Status s = ApplyStrategicMergePatch(Json("{}"), R"({"spec":{}})", nullptr).status();
  EXPECT_EQ(AnswerOf(s).code, 400);
  EXPECT_EQ(AnswerOf(s).reason, "BadRequest");
  EXPECT_EQ(AnswerOf(s).message, "strategic merge patch format is not supported");
}

TEST(StrategicMergePatchTest, UnknownErrorsAre500WithoutReason) {
  absl::Status s = ApplyStrategicMergePatch(Json(R"({"mergingList":[{"name":"a"}]})"),
                                            R"({"mergingList":[{"value":"x"}]})", Item())
                       .status();
  EXPECT_EQ(AnswerOf(s).code, 500);
  EXPECT_EQ(AnswerOf(s).reason, "");
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
}

const char kPod[] = R"({"apiVersion":"v1","kind":"Pod",
  "metadata":{"name":"web","namespace":"default","labels":{"app":"web"},"finalizers":["a","b"],
    "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u1"}]},
  "spec":{
    "volumes":[{"name":"config","configMap":{"name":"cm"}},{"name":"data","emptyDir":{}}],
    "containers":[
      {"name":"app","image":"app:1","ports":[{"containerPort":80,"protocol":"TCP"}],
       "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
      {"name":"sidecar","image":"side:1"}],
    "tolerations":[{"key":"k1","operator":"Exists"}],
    "nodeSelector":{"zone":"a"}}})";

const google::protobuf::Descriptor* PodType() { return api::core::v1::Pod::descriptor(); }

TEST(StrategicMergePatchTest, PodContainersMergeByName) {
  // A live item goes before a patch item when both are in the live list in that order
  // (A before B); a new patch item (443, init) goes before the live items it meets.
  absl::StatusOr<codec::Node> got = ApplyStrategicMergePatch(Json(kPod), R"({"spec":{"containers":[
      {"name":"app","image":"app:2","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}],
       "ports":[{"containerPort":443,"protocol":"TCP"}]},
      {"name":"init","image":"init:1"}]}})",
                                                             PodType());
  ASSERT_TRUE(got.ok()) << got.status();
  const codec::Node* spec = got->Find("spec");
  EXPECT_TRUE(JsonEq(*spec->Find("containers"), R"([
      {"name":"app","image":"app:2",
       "ports":[{"containerPort":443,"protocol":"TCP"},{"containerPort":80,"protocol":"TCP"}],
       "env":[{"name":"A","value":"1"},{"name":"B","value":"3"},{"name":"C","value":"4"}]},
      {"name":"init","image":"init:1"},
      {"name":"sidecar","image":"side:1"}])"));
  // Untouched fields stay.
  EXPECT_TRUE(JsonEq(*spec->Find("volumes"),
                     R"([{"name":"config","configMap":{"name":"cm"}},{"name":"data","emptyDir":{}}])"));
}

TEST(StrategicMergePatchTest, PodDeleteContainerAndEnv) {
  EXPECT_TRUE(JsonEq(
      ApplyStrategicMergePatch(Json(kPod), R"({"spec":{"containers":[
          {"name":"sidecar","$patch":"delete"},
          {"name":"app","env":[{"name":"A","$patch":"delete"}]}]}})",
                               PodType()),
      R"({"apiVersion":"v1","kind":"Pod",
        "metadata":{"name":"web","namespace":"default","labels":{"app":"web"},"finalizers":["a","b"],
          "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u1"}]},
        "spec":{
          "volumes":[{"name":"config","configMap":{"name":"cm"}},{"name":"data","emptyDir":{}}],
          "containers":[{"name":"app","image":"app:1","ports":[{"containerPort":80,"protocol":"TCP"}],
                         "env":[{"name":"B","value":"2"}]}],
          "tolerations":[{"key":"k1","operator":"Exists"}],
          "nodeSelector":{"zone":"a"}}})"));
}

TEST(StrategicMergePatchTest, PodVolumeSourceSwitchWithRetainKeys) {
  absl::StatusOr<codec::Node> got = ApplyStrategicMergePatch(
      Json(kPod), R"({"spec":{"volumes":[
          {"name":"config","$retainKeys":["name","secret"],"secret":{"secretName":"s"}}]}})",
      PodType());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(JsonEq(*got->Find("spec")->Find("volumes"),
                     R"([{"name":"config","secret":{"secretName":"s"}},{"name":"data","emptyDir":{}}])"));
  // Without $retainKeys both sources would be kept (and validation would refuse them).
  got = ApplyStrategicMergePatch(
      Json(kPod), R"({"spec":{"volumes":[{"name":"config","secret":{"secretName":"s"}}]}})",
      PodType());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(JsonEq(*got->Find("spec")->Find("volumes"),
                     R"([{"name":"config","configMap":{"name":"cm"},"secret":{"secretName":"s"}},
                         {"name":"data","emptyDir":{}}])"));
}

TEST(StrategicMergePatchTest, PodMetadata) {
  absl::StatusOr<codec::Node> got = ApplyStrategicMergePatch(Json(kPod), R"({"metadata":{
      "labels":{"tier":"fe"},
      "finalizers":["c","a"],
      "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u1","controller":true},
                         {"apiVersion":"v1","kind":"Node","name":"n","uid":"u2"}]}})",
                                                             PodType());
  ASSERT_TRUE(got.ok()) << got.status();
  const codec::Node* meta = got->Find("metadata");
  EXPECT_TRUE(JsonEq(*meta->Find("labels"), R"({"app":"web","tier":"fe"})"));
  // Set union: patch items first in patch order, then the rest.
  EXPECT_TRUE(JsonEq(*meta->Find("finalizers"), R"(["c","a","b"])"));
  EXPECT_TRUE(JsonEq(*meta->Find("ownerReferences"),
                     R"([{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u1","controller":true},
                         {"apiVersion":"v1","kind":"Node","name":"n","uid":"u2"}])"));

  got = ApplyStrategicMergePatch(
      Json(kPod), R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})", PodType());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(JsonEq(*got->Find("metadata")->Find("finalizers"), R"(["b"])"));
}

TEST(StrategicMergePatchTest, PodListsWithoutStrategyAndMaps) {
  absl::StatusOr<codec::Node> got = ApplyStrategicMergePatch(
      Json(kPod), R"({"spec":{"tolerations":[{"key":"k2","operator":"Exists"}],
                              "nodeSelector":{"disk":"ssd"}}})",
      PodType());
  ASSERT_TRUE(got.ok()) << got.status();
  // tolerations have no patch strategy: replaced.
  EXPECT_TRUE(JsonEq(*got->Find("spec")->Find("tolerations"), R"([{"key":"k2","operator":"Exists"}])"));
  // Maps always merge in strategic merge patch (+mapType=atomic only matters to apply).
  EXPECT_TRUE(JsonEq(*got->Find("spec")->Find("nodeSelector"), R"({"zone":"a","disk":"ssd"})"));
}

TEST(StrategicMergePatchTest, KindAndApiVersionChangesAreIgnored) {
  absl::StatusOr<codec::Node> got = ApplyStrategicMergePatch(
      Json(kPod), R"({"kind":"Service","apiVersion":"v2","metadata":{"labels":{"x":"y"}}})",
      PodType());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->Find("kind")->text, "Pod");
  EXPECT_EQ(got->Find("apiVersion")->text, "v1");
  got = ApplyStrategicMergePatch(Json(kPod), R"({"kind":null})", PodType());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->Find("kind")->text, "Pod");
}

TEST(StrategicMergePatchTest, UnknownFieldsOnlyFailWhenBothSidesAreObjects) {
  // A new unknown key is just taken (the decoder drops it later).
  EXPECT_TRUE(ApplyStrategicMergePatch(Json(kPod), R"({"spec":{"foo":{"a":1}}})", PodType()).ok());
  absl::Status s = ApplyStrategicMergePatch(Json(R"({"spec":{"foo":{"a":1}}})"),
                                            R"({"spec":{"foo":{"b":1}}})", PodType())
                       .status();
  EXPECT_EQ(AnswerOf(s).code, 500);
  EXPECT_EQ(AnswerOf(s).message,
            "unable to find api field in struct PodSpec for the json field \"foo\"");
}

TEST(StrategicMergePatchTest, LargeListsStayFast) {
  // Upstream's scans are quadratic; ours hash. 20000 elements each side must be quick.
  std::string doc = R"({"metadata":{"finalizers":[)";
  std::string patch = R"({"metadata":{"finalizers":[)";
  for (int i = 0; i < 20000; ++i) {
    absl::StrAppend(&doc, i > 0 ? "," : "", "\"f", i, "\"");
    absl::StrAppend(&patch, i > 0 ? "," : "", "\"g", i, "\"");
  }
  doc += "]}}";
  patch += "]}}";
  absl::StatusOr<codec::Node> got = ApplyStrategicMergePatch(Json(doc), patch, PodType());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->Find("metadata")->Find("finalizers")->values.size(), 40000u);
}

}  // namespace
}  // namespace kslice::envtest::patch
