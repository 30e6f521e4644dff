#include "informers/cache/object.h"

#include <string>
#include <utility>

#include "api/core/v1/core.pb.h"
#include "gtest/gtest.h"

namespace kslice::informers {
namespace {

using kslice::api::core::v1::Node;
using kslice::api::core::v1::Pod;
using kslice::api::meta::v1::ObjectMeta;

TEST(KeyOfTest, NamespacedClusterScopedAndMissingMetadata) {
  Pod pod;
  pod.mutable_metadata()->set_namespace_("shop");
  pod.mutable_metadata()->set_name("checkout-1");
  EXPECT_EQ(KeyOf(pod), "shop/checkout-1");

  Node node;
  node.mutable_metadata()->set_name("node-7");
  EXPECT_EQ(KeyOf(node), "node-7");

  EXPECT_EQ(KeyOf(Pod()), "");
  // ObjectMeta itself has no ObjectMeta in field 1.
  ObjectMeta meta;
  meta.set_name("x");
  EXPECT_EQ(KeyOf(meta), "");
}

TEST(SplitKeyTest, Table) {
  struct Case {
    std::string key;
    std::pair<std::string, std::string> want;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"shop/checkout-1", {"shop", "checkout-1"}},
           {"node-7", {"", "node-7"}},
           {"", {"", ""}},
           {"/name", {"", "name"}},
           {"a/b/c", {"a", "b/c"}},
       }) {
    EXPECT_EQ(SplitKey(c.key), c.want) << c.key;
  }
}

TEST(MetaOfTest, ReadsFieldOne) {
  Pod pod;
  pod.mutable_metadata()->set_uid("u1");
  EXPECT_EQ(&MetaOf(pod), &pod.metadata());
  EXPECT_EQ(MetaOf(pod).uid(), "u1");
}

}  // namespace
}  // namespace kslice::informers
