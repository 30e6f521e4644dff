// DynamicObject: how objects of the dynamic client are cached.
#include "informers/lister_watcher.h"

#include "api/codec/node.h"
#include "gtest/gtest.h"
#include "informers/cache/object.h"

namespace kslice::informers {
namespace {

TEST(DynamicObjectTest, KeepsMetadataAndJson) {
  absl::StatusOr<codec::Node> node = codec::ParseJson(
      R"({"apiVersion":"example.com/v1","kind":"Widget",)"
      R"("metadata":{"name":"w1","namespace":"shop","resourceVersion":"42",)"
      R"("labels":{"app":"web"}},"spec":{"size":3}})");
  ASSERT_TRUE(node.ok());
  absl::StatusOr<std::unique_ptr<DynamicObject>> obj = MakeDynamicObject(*node);
  ASSERT_TRUE(obj.ok()) << obj.status();
  EXPECT_EQ((*obj)->api_version(), "example.com/v1");
  EXPECT_EQ((*obj)->kind(), "Widget");
  EXPECT_EQ(KeyOf(**obj), "shop/w1");
  EXPECT_EQ(MetaOf(**obj).resourceversion(), "42");
  EXPECT_EQ(MetaOf(**obj).labels().at("app"), "web");
  absl::StatusOr<codec::Node> back = ToNode(**obj);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->Equals(*node));
}

TEST(DynamicObjectTest, RejectsNonObjectsAndBadMetadata) {
  EXPECT_EQ(MakeDynamicObject(codec::Node::Array()).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<codec::Node> bad = codec::ParseJson(R"({"metadata":{"name":5}})");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(MakeDynamicObject(*bad).status().code(), absl::StatusCode::kInvalidArgument);
  DynamicObject broken;
  broken.set_json("{not json");
  EXPECT_FALSE(ToNode(broken).ok());
}

}  // namespace
}  // namespace kslice::informers
