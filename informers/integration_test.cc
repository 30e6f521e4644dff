// Informers against a live API server (envtest: the embedded server, or real binaries
// when KUBEBUILDER_ASSETS has them): the factory's typed informer and lister, every change
// seen exactly once across dropped connections, a forced 410 relist while the watch is
// away, streaming lists, and a dynamic informer.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "client/rest/client.h"
#include "client/rest/dynamic.h"
#include "envtest/environment/environment.h"
#include "gtest/gtest.h"
#include "informers/factory.h"
#include "informers/lister_watcher.h"
#include "informers/shared_informer.h"

namespace kslice::informers {
namespace {

using api::core::v1::ConfigMap;
using api::core::v1::ConfigMapList;

ConfigMap MakeConfigMap(const std::string& ns, const std::string& name, const std::string& v) {
  ConfigMap cm;
  cm.mutable_metadata()->set_namespace_(ns);
  cm.mutable_metadata()->set_name(name);
  (*cm.mutable_data())["k"] = v;
  return cm;
}

template <typename F>
bool Eventually(F f, std::chrono::seconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// Per object: what the handler saw.
struct Seen {
  int adds = 0;
  int deletes = 0;
  int tombstones = 0;
  std::vector<std::string> update_rvs;  // new object's resourceVersion per update
  std::string last_value;
};

class Counter {
 public:
  TypedHandlerFuncs<ConfigMap> Funcs() {
    TypedHandlerFuncs<ConfigMap> f;
    f.add = [this](const std::shared_ptr<const ConfigMap>& cm, bool) {
      std::lock_guard<std::mutex> lock(mu_);
      Seen& s = seen_[KeyOf(*cm)];
      ++s.adds;
      s.last_value = cm->data().count("k") ? cm->data().at("k") : "";
    };
    f.update = [this](const std::shared_ptr<const ConfigMap>& old_cm,
                      const std::shared_ptr<const ConfigMap>& cm) {
      std::lock_guard<std::mutex> lock(mu_);
      if (old_cm->metadata().resourceversion() == cm->metadata().resourceversion()) return;
      Seen& s = seen_[KeyOf(*cm)];
      s.update_rvs.push_back(cm->metadata().resourceversion());
      s.last_value = cm->data().count("k") ? cm->data().at("k") : "";
    };
    f.del = [this](const TypedDeletedObject<ConfigMap>& d) {
      std::lock_guard<std::mutex> lock(mu_);
      Seen& s = seen_[d.key];
      ++s.deletes;
      if (d.final_state_unknown) ++s.tombstones;
    };
    return f;
  }
  std::map<std::string, Seen> seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Seen> seen_;
};

// Wraps a ListerWatcher so a test can hold back new watches (the "watch is away").
class GatedListerWatcher : public ListerWatcher {
 public:
  explicit GatedListerWatcher(std::unique_ptr<ListerWatcher> inner) : inner_(std::move(inner)) {}
  absl::StatusOr<ListResult> List(const client::ListOptions& o) override {
    lists_++;
    return inner_->List(o);
  }
  absl::Status Watch(const client::ListOptions& o,
                     const std::function<absl::Status(WatchEvent)>& on_event,
                     const client::CancelToken* cancel) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++waiting_;
      cv_.notify_all();
      while (closed_) {
        if (cancel != nullptr && cancel->cancelled()) {
          --waiting_;
          return absl::CancelledError("cancelled");
        }
        cv_.wait_for(lock, std::chrono::milliseconds(5));
      }
      --waiting_;
    }
    return inner_->Watch(o, on_event, cancel);
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = false;
    cv_.notify_all();
  }
  bool AwaitWaiting() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return waiting_ > 0; });
  }
  int lists() const { return lists_.load(); }

 private:
  std::unique_ptr<ListerWatcher> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int waiting_ = 0;
  std::atomic<int> lists_{0};
};

class InformerIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto env = envtest::Environment::Start();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = env->release();
  }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override {
    auto c = client::RestClient::Create(env_->config());
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = *std::move(c);
    auto ns = env_->CreateNamespace("inf-");
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_ = *ns;
  }

  // The server's configmaps in ns_: key -> data["k"].
  std::map<std::string, std::string> ServerState() {
    client::Typed<ConfigMap, ConfigMapList> typed(*client_);
    absl::StatusOr<ConfigMapList> list = typed.List(ns_);
    EXPECT_TRUE(list.ok()) << list.status();
    std::map<std::string, std::string> out;
    if (!list.ok()) return out;
    for (const ConfigMap& cm : list->items()) out[KeyOf(cm)] = cm.data().at("k");
    return out;
  }
  static std::map<std::string, std::string> CacheState(const Lister<ConfigMap>& lister) {
    std::map<std::string, std::string> out;
    for (const auto& cm : lister.List()) out[KeyOf(*cm)] = cm->data().at("k");
    return out;
  }

  static envtest::Environment* env_;
  std::unique_ptr<client::RestClient> client_;
  std::string ns_;
};

envtest::Environment* InformerIntegrationTest::env_ = nullptr;

TEST_F(InformerIntegrationTest, EveryChangeOnceAcrossDroppedConnections) {
  if (env_->external()) GTEST_SKIP() << "needs the embedded server to drop connections";
  client::Typed<ConfigMap, ConfigMapList> typed(*client_);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(typed.Create(MakeConfigMap(ns_, absl::StrCat("pre", i), "0")).ok());
  }
  FactoryOptions fo;
  fo.ns = ns_;
  fo.reflector.watch_error_handler = [](const absl::Status&) {};
  SharedInformerFactory factory(*client_, fo);
  absl::StatusOr<TypedInformer<ConfigMap>> cms = factory.For<ConfigMap>();
  ASSERT_TRUE(cms.ok()) << cms.status();
  Counter counter;
  ASSERT_TRUE(cms->AddEventHandler(counter.Funcs()).ok());
  std::stop_source stop;
  factory.Start(stop.get_token());
  std::map<std::string, bool> synced = factory.WaitForCacheSync(stop.get_token());
  EXPECT_EQ(synced, (std::map<std::string, bool>{{"configmaps", true}}));
  // The same type gives the same informer.
  EXPECT_EQ(&factory.For<ConfigMap>()->Informer(), &cms->Informer());

  // Changes, with every connection dropped now and then (watches break mid-stream).
  std::map<std::string, int> updates;
  std::set<std::string> deleted;
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 10; ++i) {
      std::string name = absl::StrCat("r", round, "-", i);
      absl::StatusOr<ConfigMap> created = typed.Create(MakeConfigMap(ns_, name, "0"));
      ASSERT_TRUE(created.ok()) << created.status();
    }
    for (int i = 0; i < 10; ++i) {
      std::string name = absl::StrCat("pre", i);
      if (deleted.count(name)) continue;
      int n = ++updates[ns_ + "/" + name];
      ASSERT_TRUE(typed.Update(MakeConfigMap(ns_, name, absl::StrCat(n))).ok());
    }
    std::string victim = absl::StrCat("r", round, "-0");
    ASSERT_TRUE(typed.Delete(ns_, victim).ok());
    deleted.insert(victim);
    env_->embedded()->http().DropConnections();
  }
  Lister<ConfigMap> lister = cms->Lister();
  ASSERT_TRUE(Eventually([&] { return CacheState(lister) == ServerState(); }));
  // Wait for the handler to catch up with the cache.
  std::map<std::string, Seen> seen;
  ASSERT_TRUE(Eventually([&] {
    seen = counter.seen();
    for (const auto& [key, n] : updates) {
      if (seen[key].update_rvs.size() < static_cast<size_t>(n)) return false;
    }
    return true;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  seen = counter.seen();
  EXPECT_EQ(seen.size(), 10u + 60u);
  for (const auto& [key, s] : seen) {
    SCOPED_TRACE(key);
    EXPECT_EQ(s.adds, 1);
    std::string name = SplitKey(key).second;
    EXPECT_EQ(s.deletes, deleted.count(name) ? 1 : 0);
    EXPECT_EQ(s.tombstones, 0);  // every deletion was seen by a watch
    int want_updates = updates.count(key) ? updates[key] : 0;
    EXPECT_EQ(static_cast<int>(s.update_rvs.size()), want_updates);
    std::set<std::string> unique(s.update_rvs.begin(), s.update_rvs.end());
    EXPECT_EQ(unique.size(), s.update_rvs.size());  // no duplicate
  }
  stop.request_stop();
  factory.Shutdown();
}

TEST_F(InformerIntegrationTest, ForcedExpiredRelistConvergesWithoutDuplicates) {
  if (env_->external()) GTEST_SKIP() << "needs the embedded server to compact and drop";
  client::Typed<ConfigMap, ConfigMapList> typed(*client_);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(typed.Create(MakeConfigMap(ns_, absl::StrCat("cm", i), "0")).ok());
  }
  auto inner = RestListerWatcher::ForType(*client_, ConfigMap::descriptor(), ns_);
  ASSERT_TRUE(inner.ok());
  auto gated = std::make_unique<GatedListerWatcher>(*std::move(inner));
  GatedListerWatcher& gate = *gated;
  SharedInformerOptions o;
  o.name = "configmaps";
  o.reflector.watch_error_handler = [&](const absl::Status&) {};
  SharedIndexInformer informer(std::move(gated), o);
  TypedInformer<ConfigMap> typed_informer(&informer, {"", "configmaps"});
  Counter counter;
  ASSERT_TRUE(typed_informer.AddEventHandler(counter.Funcs()).ok());
  std::jthread run([&](std::stop_token stop) { informer.Run(stop); });
  std::stop_source never;
  ASSERT_TRUE(WaitForCacheSync(never.get_token(), {&informer}));
  ASSERT_EQ(gate.lists(), 1);

  // Take the watch away, change things, compact the history, let it come back.
  gate.Close();
  env_->embedded()->http().DropConnections();
  ASSERT_TRUE(gate.AwaitWaiting());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(typed.Update(MakeConfigMap(ns_, absl::StrCat("cm", i), "1")).ok());
    ASSERT_TRUE(typed.Update(MakeConfigMap(ns_, absl::StrCat("cm", i), "2")).ok());
  }
  for (int i = 5; i < 8; ++i) ASSERT_TRUE(typed.Delete(ns_, absl::StrCat("cm", i)).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(typed.Create(MakeConfigMap(ns_, absl::StrCat("new", i), "0")).ok());
  }
  auto& store = env_->embedded()->api().store();
  store.Compact(store.CurrentResourceVersion());
  gate.Open();

  Lister<ConfigMap> lister = typed_informer.Lister();
  ASSERT_TRUE(Eventually([&] { return CacheState(lister) == ServerState(); }));
  EXPECT_GE(gate.lists(), 2);  // relisted
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::map<std::string, Seen> seen = counter.seen();
  EXPECT_EQ(seen.size(), 23u);
  for (const auto& [key, s] : seen) {
    SCOPED_TRACE(key);
    std::string name = SplitKey(key).second;
    int idx = -1;
    if (name.rfind("cm", 0) == 0) {
      ASSERT_TRUE(absl::SimpleAtoi(name.substr(2), &idx));
    }
    EXPECT_EQ(s.adds, 1);
    bool gone = idx >= 5 && idx < 8;
    EXPECT_EQ(s.deletes, gone ? 1 : 0);
    EXPECT_EQ(s.tombstones, gone ? 1 : 0);  // the relist found them gone
    // The relist shows only the latest state: one update with value 2, none lost.
    if (idx >= 0 && idx < 5) {
      EXPECT_EQ(s.update_rvs.size(), 1u);
      EXPECT_EQ(s.last_value, "2");
    } else {
      EXPECT_TRUE(s.update_rvs.empty());
    }
  }
}

TEST_F(InformerIntegrationTest, StreamingListWithFallbackAndDynamicInformer) {
  client::Typed<ConfigMap, ConfigMapList> typed(*client_);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(typed.Create(MakeConfigMap(ns_, absl::StrCat("cm", i), "0")).ok());
  }
  FactoryOptions fo;
  fo.ns = ns_;
  fo.reflector.use_watch_list = true;
  fo.reflector.watch_error_handler = [](const absl::Status&) {};
  fo.tweak = [](client::ListOptions& o) { o.field_selector = "metadata.name!=cm4"; };
  SharedInformerFactory factory(*client_, fo);
  auto cms = factory.For<ConfigMap>();
  ASSERT_TRUE(cms.ok());
  auto dyn = factory.ForResource({"", "v1", "configmaps", true});
  ASSERT_TRUE(dyn.ok()) << dyn.status();
  std::stop_source stop;
  factory.Start(stop.get_token());
  std::map<std::string, bool> synced = factory.WaitForCacheSync(stop.get_token());
  EXPECT_EQ(synced, (std::map<std::string, bool>{{"configmaps", true},
                                                 {"configmaps.v1", true}}));
  EXPECT_EQ(cms->Lister().List().size(), 4u);  // field selector applied
  ASSERT_TRUE(typed.Create(MakeConfigMap(ns_, "later", "x")).ok());
  ASSERT_TRUE(Eventually([&] { return dyn->Lister().List().size() == 5u; }));
  absl::StatusOr<std::shared_ptr<const DynamicObject>> later =
      dyn->Lister().Namespace(ns_).Get("later");
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ((*later)->kind(), "ConfigMap");
  absl::StatusOr<codec::Node> node = ToNode(**later);
  ASSERT_TRUE(node.ok());
  const codec::Node* data = node->Find("data");
  ASSERT_NE(data, nullptr);
  ASSERT_NE(data->Find("k"), nullptr);
  EXPECT_EQ(data->Find("k")->text, "x");
  EXPECT_TRUE(absl::IsNotFound(dyn->Lister().Namespace(ns_).Get("cm4").status()));
  factory.Shutdown();
}

}  // namespace
}  // namespace kslice::informers
