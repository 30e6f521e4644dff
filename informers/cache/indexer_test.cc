#include "informers/cache/indexer.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::informers {
namespace {

using kslice::api::core::v1::Node;
using kslice::api::core::v1::Pod;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::shared_ptr<Pod> MakePod(const std::string& ns, const std::string& name,
                             const std::string& app = "web", const std::string& rv = "1") {
  auto pod = std::make_shared<Pod>();
  pod->mutable_metadata()->set_namespace_(ns);
  pod->mutable_metadata()->set_name(name);
  pod->mutable_metadata()->set_resourceversion(rv);
  if (!app.empty()) (*pod->mutable_metadata()->mutable_labels())["app"] = app;
  pod->mutable_spec()->set_nodename("node-1");
  pod->mutable_spec()->add_containers()->set_image(absl::StrCat(app, ":v1"));
  return pod;
}

std::vector<std::string> ByAppLabel(const google::protobuf::Message& obj) {
  const auto& labels = MetaOf(obj).labels();
  auto it = labels.find("app");
  if (it == labels.end()) return {};
  return {it->second};
}

// Every container image (several values per object; duplicates collapse).
std::vector<std::string> ByImage(const google::protobuf::Message& obj) {
  std::vector<std::string> out;
  for (const auto& c : static_cast<const Pod&>(obj).spec().containers()) out.push_back(c.image());
  return out;
}

std::vector<std::string> Keys(const std::vector<ObjectPtr>& objs) {
  std::vector<std::string> out;
  for (const ObjectPtr& o : objs) out.push_back(KeyOf(*o));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class IndexerTest : public ::testing::TestWithParam<CacheMode> {
 protected:
  Indexers Default() {
    return {{kNamespaceIndex, NamespaceIndexFunc}, {"app", ByAppLabel}, {"image", ByImage}};
  }
};

INSTANTIATE_TEST_SUITE_P(Modes, IndexerTest,
                         ::testing::Values(CacheMode::kDecoded, CacheMode::kCompact),
                         [](const auto& info) {
                           return info.param == CacheMode::kDecoded ? "Decoded" : "Compact";
                         });

TEST_P(IndexerTest, AddGetDeleteList) {
  Indexer store(Default(), GetParam());
  store.Add(MakePod("a", "p1"));
  store.Add(MakePod("a", "p2"));
  auto node = std::make_shared<Node>();
  node->mutable_metadata()->set_name("n1");
  store.Add(node);
  store.Add(nullptr);  // ignored

  EXPECT_EQ(store.size(), 3u);
  EXPECT_THAT(Sorted(store.ListKeys()), ElementsAre("a/p1", "a/p2", "n1"));
  EXPECT_THAT(Keys(store.List()), ElementsAre("a/p1", "a/p2", "n1"));
  ASSERT_NE(store.Get("n1"), nullptr);
  EXPECT_EQ(store.Get("n1")->GetDescriptor(), Node::descriptor());
  EXPECT_EQ(store.Get("a/p3"), nullptr);
  EXPECT_TRUE(store.Contains("a/p1"));

  store.Delete("a/p1");
  store.Delete("a/absent");  // no-op
  EXPECT_EQ(store.Get("a/p1"), nullptr);
  EXPECT_FALSE(store.Contains("a/p1"));
  EXPECT_THAT(Sorted(store.ListKeys()), ElementsAre("a/p2", "n1"));
  EXPECT_THAT(*store.IndexKeys(kNamespaceIndex, "a"), ElementsAre("a/p2"));
}

TEST_P(IndexerTest, NamespaceIndex) {
  Indexer store(Indexers{{kNamespaceIndex, NamespaceIndexFunc}}, GetParam());
  store.Add(MakePod("a", "p1"));
  store.Add(MakePod("a", "p2"));
  store.Add(MakePod("b", "p1"));
  auto node = std::make_shared<Node>();
  node->mutable_metadata()->set_name("n1");
  store.Add(node);

  EXPECT_THAT(Keys(*store.ByIndex(kNamespaceIndex, "a")), ElementsAre("a/p1", "a/p2"));
  EXPECT_THAT(Keys(*store.ByIndex(kNamespaceIndex, "b")), ElementsAre("b/p1"));
  EXPECT_THAT(*store.ByIndex(kNamespaceIndex, "c"), IsEmpty());
  // Cluster-scoped objects are indexed under "" (MetaNamespaceIndexFunc).
  EXPECT_THAT(*store.IndexKeys(kNamespaceIndex, ""), ElementsAre("n1"));
  EXPECT_THAT(Sorted(store.ListIndexFuncValues(kNamespaceIndex)), ElementsAre("", "a", "b"));
}

TEST_P(IndexerTest, UpdateMovesIndexValues) {
  Indexer store(Default(), GetParam());
  store.Add(MakePod("a", "p1", "web"));
  store.Add(MakePod("a", "p2", "web"));
  store.Update(MakePod("a", "p1", "db", "2"));

  EXPECT_THAT(*store.IndexKeys("app", "web"), ElementsAre("a/p2"));
  EXPECT_THAT(*store.IndexKeys("app", "db"), ElementsAre("a/p1"));
  EXPECT_THAT(*store.IndexKeys("image", "db:v1"), ElementsAre("a/p1"));
  EXPECT_THAT(Sorted(store.ListIndexFuncValues("image")), ElementsAre("db:v1", "web:v1"));

  // The last key leaving a value removes the value.
  store.Update(MakePod("a", "p2", "db", "2"));
  EXPECT_THAT(*store.IndexKeys("app", "web"), IsEmpty());
  EXPECT_THAT(store.ListIndexFuncValues("app"), ElementsAre("db"));
  EXPECT_THAT(Sorted(*store.IndexKeys("app", "db")), ElementsAre("a/p1", "a/p2"));

  // An object without the label leaves the index entirely.
  store.Update(MakePod("a", "p1", ""));
  EXPECT_THAT(*store.IndexKeys("app", "db"), ElementsAre("a/p2"));
  store.Delete("a/p2");
  EXPECT_THAT(store.ListIndexFuncValues("app"), IsEmpty());
  EXPECT_THAT(store.ListIndexFuncValues("image"), ElementsAre(":v1"));  // p1, without app
}

TEST_P(IndexerTest, MultiValueIndexAndIndexByObject) {
  Indexer store(Default(), GetParam());
  auto p1 = MakePod("a", "p1", "web");
  p1->mutable_spec()->add_containers()->set_image("proxy:v2");
  p1->mutable_spec()->add_containers()->set_image("proxy:v2");  // duplicate value
  store.Add(p1);
  store.Add(MakePod("a", "p2", "proxy"));  // image proxy:v1
  auto p3 = MakePod("b", "p3", "db");
  p3->mutable_spec()->add_containers()->set_image("proxy:v2");
  store.Add(p3);

  EXPECT_THAT(Sorted(*store.IndexKeys("image", "proxy:v2")), ElementsAre("a/p1", "b/p3"));
  EXPECT_THAT(*store.IndexKeys("image", "web:v1"), ElementsAre("a/p1"));
  // Index(): objects sharing any value with the probe, each once.
  auto probe = MakePod("z", "probe", "web");
  probe->mutable_spec()->add_containers()->set_image("proxy:v2");
  EXPECT_THAT(Keys(*store.Index("image", *probe)), ElementsAre("a/p1", "b/p3"));
  EXPECT_THAT(Keys(*store.Index(kNamespaceIndex, *probe)), IsEmpty());
  EXPECT_EQ(store.Index("nope", *probe).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(IndexerTest, UnknownIndexIsAnError) {
  Indexer store(Default(), GetParam());
  store.Add(MakePod("a", "p1"));
  absl::StatusOr<std::vector<ObjectPtr>> objs = store.ByIndex("byNode", "node-1");
  EXPECT_EQ(objs.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(objs.status().message()), ::testing::HasSubstr("byNode"));
  EXPECT_EQ(store.IndexKeys("byNode", "node-1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(store.ListIndexFuncValues("byNode"), IsEmpty());
}

TEST_P(IndexerTest, ReplaceRebuildsContentAndIndexes) {
  Indexer store(Default(), GetParam());
  store.Add(MakePod("a", "p1", "web"));
  store.Add(MakePod("a", "p2", "web"));
  store.Replace({MakePod("b", "p3", "db"), MakePod("a", "p2", "db", "5"), nullptr});

  EXPECT_THAT(Sorted(store.ListKeys()), ElementsAre("a/p2", "b/p3"));
  EXPECT_THAT(*store.IndexKeys("app", "web"), IsEmpty());
  EXPECT_THAT(Sorted(*store.IndexKeys("app", "db")), ElementsAre("a/p2", "b/p3"));
  EXPECT_THAT(Sorted(store.ListIndexFuncValues(kNamespaceIndex)), ElementsAre("a", "b"));
  EXPECT_EQ(MetaOf(*store.Get("a/p2")).resourceversion(), "5");

  store.Replace({});
  EXPECT_EQ(store.size(), 0u);
  EXPECT_THAT(store.ListIndexFuncValues("app"), IsEmpty());
}

TEST_P(IndexerTest, AddIndexersIndexesExistingObjects) {
  Indexer store(Indexers{{kNamespaceIndex, NamespaceIndexFunc}}, GetParam());
  store.Add(MakePod("a", "p1", "web"));
  store.Add(MakePod("b", "p2", "db"));
  ASSERT_TRUE(store.AddIndexers({{"app", ByAppLabel}}).ok());
  EXPECT_THAT(*store.IndexKeys("app", "web"), ElementsAre("a/p1"));
  EXPECT_THAT(Sorted(store.IndexerNames()), ElementsAre("app", "namespace"));

  // Later updates and deletes maintain the added index too.
  store.Update(MakePod("a", "p1", "db"));
  EXPECT_THAT(Sorted(*store.IndexKeys("app", "db")), ElementsAre("a/p1", "b/p2"));
  store.Delete("b/p2");
  EXPECT_THAT(*store.IndexKeys("app", "db"), ElementsAre("a/p1"));

  // A name conflict adds nothing, not even the non-conflicting names.
  absl::Status s = store.AddIndexers({{"app", ByAppLabel}, {"image", ByImage}});
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("app"));
  EXPECT_EQ(store.IndexKeys("image", "web:v1").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(IndexerTest, ReturnsEqualObjectsAndSnapshots) {
  Indexer store(Default(), GetParam());
  auto original = MakePod("a", "p1", "web", "7");
  Pod expected = *original;
  store.Add(original);
  original.reset();

  ObjectPtr got = store.Get("a/p1");
  ASSERT_NE(got, nullptr);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*got, expected));
  // An update does not change what was handed out.
  store.Update(MakePod("a", "p1", "web", "8"));
  EXPECT_EQ(MetaOf(*got).resourceversion(), "7");
  EXPECT_EQ(MetaOf(*store.Get("a/p1")).resourceversion(), "8");
}

TEST(IndexerModeTest, DecodedKeepsTheGivenInstance) {
  Indexer store(Indexers{{kNamespaceIndex, NamespaceIndexFunc}}, CacheMode::kDecoded);
  ObjectPtr pod = MakePod("a", "p1");
  store.Add(pod);
  EXPECT_EQ(store.Get("a/p1").get(), pod.get());
  EXPECT_EQ(store.List()[0].get(), pod.get());
}

TEST(IndexerModeTest, CompactSharesOneInstanceWhileHeld) {
  Indexer store(Indexers{{kNamespaceIndex, NamespaceIndexFunc}}, CacheMode::kCompact);
  ObjectPtr added = MakePod("a", "p1");
  const Pod expected = static_cast<const Pod&>(*added);
  store.Add(added);
  // The added instance is not kept: reads decode their own, equal object.
  EXPECT_EQ(store.decoded_count(), 0u);
  ObjectPtr a = store.Get("a/p1");
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a.get(), added.get());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*a, expected));
  EXPECT_EQ(a->GetDescriptor(), Pod::descriptor());
  EXPECT_NE(dynamic_cast<const Pod*>(a.get()), nullptr);  // the generated class
  EXPECT_EQ(store.decoded_count(), 1u);

  // While held, every read path returns that instance.
  EXPECT_EQ(store.Get("a/p1").get(), a.get());
  EXPECT_EQ(store.List()[0].get(), a.get());
  EXPECT_EQ((*store.ByIndex(kNamespaceIndex, "a"))[0].get(), a.get());
  ObjectPtr b = store.Get("a/p1");
  a.reset();
  EXPECT_EQ(store.decoded_count(), 1u);  // b still holds it
  EXPECT_EQ(store.Get("a/p1").get(), b.get());

  // Every holder dropped: forgotten, and the next read decodes again.
  b.reset();
  EXPECT_EQ(store.decoded_count(), 0u);
  ObjectPtr c = store.Get("a/p1");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*c, expected));
  EXPECT_EQ(store.decoded_count(), 1u);

  // An update forgets the held decode (c keeps the old state); deleting too.
  store.Update(MakePod("a", "p1", "web", "2"));
  EXPECT_EQ(store.decoded_count(), 0u);
  EXPECT_EQ(MetaOf(*c).resourceversion(), "1");
  ObjectPtr d = store.Get("a/p1");
  EXPECT_EQ(MetaOf(*d).resourceversion(), "2");
  store.Delete("a/p1");
  EXPECT_EQ(store.decoded_count(), 0u);
  EXPECT_EQ(MetaOf(*d).resourceversion(), "2");
}

TEST(IndexerModeTest, DecodedObjectsMayOutliveTheStore) {
  ObjectPtr kept;
  {
    Indexer store(Indexers{}, CacheMode::kCompact);
    store.Add(MakePod("a", "p1"));
    store.Add(MakePod("a", "p2"));
    kept = store.Get("a/p1");
    ObjectPtr dropped_after_replace = store.Get("a/p2");
    store.Replace({MakePod("a", "p3")});
    EXPECT_EQ(store.decoded_count(), 0u);
  }
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(MetaOf(*kept).name(), "p1");
  kept.reset();  // its deleter runs after the store is gone (asan/tsan check this)
}

TEST(IndexerModeTest, CompactKeepsUnknownFields) {
  Indexer store(Indexers{}, CacheMode::kCompact);
  auto pod = MakePod("a", "p1");
  pod->GetReflection()->MutableUnknownFields(pod.get())->AddVarint(999, 42);
  store.Add(pod);
  pod.reset();
  ObjectPtr got = store.Get("a/p1");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->GetReflection()->GetUnknownFields(*got).field_count(), 1);
}

}  // namespace
}  // namespace kslice::informers
