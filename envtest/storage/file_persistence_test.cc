#include "envtest/storage/file_persistence.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "envtest/storage/store.h"
#include "envtest/storage/test_util.h"
#include "gtest/gtest.h"

namespace kslice::envtest::storage {
namespace {

using testing::kConfigMaps;
using testing::kPods;
using testing::MakeConfigMap;
using testing::MakePod;

std::string TempDir() {
  std::string tmpl = absl::StrCat(::testing::TempDir(), "/persistXXXXXX");
  char* d = mkdtemp(tmpl.data());
  return d == nullptr ? "" : std::string(d);
}

TEST(FilePersistenceTest, RestartKeepsObjectsAndResourceVersion) {
  const std::string dir = TempDir();
  ASSERT_FALSE(dir.empty());
  uint64_t last_rv = 0;
  std::string pod_uid;
  {
    auto p = FilePersistence::Open(dir, ResourceRegistry::Builtin());
    ASSERT_TRUE(p.ok()) << p.status();
    StoreOptions o;
    o.persistence = p->get();
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    auto pod = (*store)->Create(kPods, MakePod("default", "web"));
    ASSERT_TRUE(pod.ok()) << pod.status();
    pod_uid = MetaOf(**pod).uid();
    ASSERT_TRUE((*store)->Create(kConfigMaps, MakeConfigMap("default", "a", "1")).ok());
    ASSERT_TRUE((*store)->Update(kConfigMaps, MakeConfigMap("default", "a", "2")).ok());
    ASSERT_TRUE((*store)->Create(kConfigMaps, MakeConfigMap("default", "gone")).ok());
    ASSERT_TRUE((*store)->Delete(kConfigMaps, "default", "gone").ok());
    last_rv = (*store)->CurrentResourceVersion();
  }
  {
    auto p = FilePersistence::Open(dir, ResourceRegistry::Builtin());
    ASSERT_TRUE(p.ok()) << p.status();
    StoreOptions o;
    o.persistence = p->get();
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->CurrentResourceVersion(), last_rv);
    auto pod = (*store)->Get(kPods, "default", "web");
    ASSERT_TRUE(pod.ok()) << pod.status();
    EXPECT_EQ(MetaOf(**pod).uid(), pod_uid);
    auto cm = (*store)->Get(kConfigMaps, "default", "a");
    ASSERT_TRUE(cm.ok());
    EXPECT_EQ(static_cast<const api::core::v1::ConfigMap&>(**cm).data().at("k"), "2");
    EXPECT_FALSE((*store)->Get(kConfigMaps, "default", "gone").ok());
    // New writes continue after the old RV.
    auto next = (*store)->Create(kConfigMaps, MakeConfigMap("default", "b"));
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(MetaOf(**next).resourceversion(), absl::StrCat(last_rv + 1));
  }
}

TEST(FilePersistenceTest, SecondOpenOfTheSameDirectoryFails) {
  const std::string dir = TempDir();
  auto p = FilePersistence::Open(dir, ResourceRegistry::Builtin());
  ASSERT_TRUE(p.ok());
  auto q = FilePersistence::Open(dir, ResourceRegistry::Builtin());
  EXPECT_EQ(q.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(FilePersistenceTest, TornLastRecordIsDroppedAndGarbageIsAnError) {
  const std::string dir = TempDir();
  {
    auto p = FilePersistence::Open(dir, ResourceRegistry::Builtin());
    ASSERT_TRUE(p.ok());
    StoreOptions o;
    o.persistence = p->get();
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Create(kConfigMaps, MakeConfigMap("default", "a")).ok());
    ASSERT_TRUE((*store)->Create(kConfigMaps, MakeConfigMap("default", "b")).ok());
  }
  const std::string log = dir + "/objects.log";
  std::string data;
  {
    std::ifstream in(log, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(data.size(), 10u);
  {
    std::ofstream out(log, std::ios::binary | std::ios::trunc);
    out << data.substr(0, data.size() - 3);  // the last record torn
  }
  {
    auto p = FilePersistence::Open(dir, ResourceRegistry::Builtin());
    ASSERT_TRUE(p.ok());
    StoreOptions o;
    o.persistence = p->get();
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE((*store)->Get(kConfigMaps, "default", "a").ok());
    EXPECT_FALSE((*store)->Get(kConfigMaps, "default", "b").ok());
  }
  {
    std::ofstream out(log, std::ios::binary | std::ios::trunc);
    std::string bad = data;
    bad[10] ^= 0x5a;  // inside the first record
    out << bad;
  }
  auto p = FilePersistence::Open(dir, ResourceRegistry::Builtin());
  ASSERT_TRUE(p.ok());
  StoreOptions o;
  o.persistence = p->get();
  auto store = Store::Open(o);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
}

}  // namespace
}  // namespace kslice::envtest::storage
