// SharedIndexInformer with the in-memory FakeListerWatcher: the handler stream (initial
// adds, updates, deletes, tombstones after a relist, resync per handler), late handlers
// (replay, per-handler HasSynced), isolation of slow handlers, listers, lifecycle errors.
// Expected behavior follows client-go's shared_informer.go (spec §4).
#include "informers/shared_informer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "api/labels/selector.h"
#include "client/flowcontrol/clock.h"
#include "gtest/gtest.h"
#include "informers/lister.h"
#include "informers/testing/fake_lister_watcher.h"
#include "informers/typed.h"

namespace kslice::informers {
namespace {

using api::core::v1::ConfigMap;
using testing::FakeListerWatcher;
using testing::MakeConfigMap;

std::string Describe(const ObjectPtr& o) {
  if (o == nullptr) return "null";
  return absl::StrCat(KeyOf(*o), "@", MetaOf(*o).resourceversion());
}

// Records every call as text.
class Recorder : public ResourceEventHandler {
 public:
  void OnAdd(const ObjectPtr& o, bool initial) override {
    Record(absl::StrCat("add ", Describe(o), initial ? " initial" : ""));
  }
  void OnUpdate(const ObjectPtr& old_o, const ObjectPtr& new_o) override {
    Record(absl::StrCat("update ", Describe(old_o), " -> ", Describe(new_o)));
  }
  void OnDelete(const DeletedObject& d) override {
    Record(absl::StrCat("delete ", d.key, " ", Describe(d.object),
                        d.final_state_unknown ? " unknown" : ""));
  }
  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  bool Await(size_t n) const {
    for (int i = 0; i < 5000; ++i) {
      if (events().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

 private:
  void Record(std::string s) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(s));
  }
  mutable std::mutex mu_;
  std::vector<std::string> events_;
};

template <typename F>
bool Eventually(F f) {
  for (int i = 0; i < 5000; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

SharedInformerOptions Options(client::flowcontrol::Clock* clock, CacheMode mode) {
  SharedInformerOptions o;
  o.name = "configmaps";
  o.cache_mode = mode;
  o.reflector.clock = clock;
  o.reflector.random = [] { return 0.0; };
  o.reflector.watch_error_handler = [](const absl::Status&) {};
  return o;
}

class InformerTest : public ::testing::TestWithParam<CacheMode> {};

TEST_P(InformerTest, InitialListThenWatchEventsReachHandlersAndCache) {
  auto lw = std::make_unique<FakeListerWatcher>();
  FakeListerWatcher& server = *lw;
  server.Upsert(MakeConfigMap("a", "one"));  // 1
  server.Upsert(MakeConfigMap("b", "two"));  // 2
  SharedIndexInformer informer(std::move(lw), Options(nullptr, GetParam()));
  auto rec = std::make_shared<Recorder>();
  ASSERT_TRUE(informer.AddEventHandler(rec).ok());
  EXPECT_FALSE(informer.HasSynced());
  std::jthread run([&](std::stop_token stop) { informer.Run(stop); });
  std::stop_source never;
  ASSERT_TRUE(WaitForCacheSync(never.get_token(), {&informer}));
  ASSERT_TRUE(server.AwaitWatching());

  server.Upsert(MakeConfigMap("a", "three"));        // 3
  server.Upsert(MakeConfigMap("a", "one", "new"));   // 4
  server.Remove("b", "two");                         // 5
  ASSERT_TRUE(rec->Await(5));
  std::vector<std::string> ev = rec->events();
  // The two initial adds come in key order from the list; nothing else is ordered
  // across keys, but this informer has one processing thread and one handler.
  EXPECT_EQ(ev, (std::vector<std::string>{"add a/one@1 initial", "add b/two@2 initial",
                                          "add a/three@3", "update a/one@1 -> a/one@4",
                                          "delete b/two b/two@5"}));

  Lister<ConfigMap> lister(&informer.GetIndexer(), {"", "configmaps"});
  EXPECT_EQ(lister.List().size(), 2u);
  absl::StatusOr<std::shared_ptr<const ConfigMap>> one = lister.Get("a", "one");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)->data().at("k"), "new");
  absl::StatusOr<std::shared_ptr<const ConfigMap>> two = lister.Namespace("b").Get("two");
  EXPECT_TRUE(absl::IsNotFound(two.status()));
  EXPECT_EQ(two.status().message(), "configmaps \"two\" not found");
  EXPECT_EQ(lister.Namespace("a").List().size(), 2u);
  EXPECT_EQ(lister.Namespace("b").List().size(), 0u);
  EXPECT_EQ(informer.LastSyncResourceVersion(), "5");
}

TEST_P(InformerTest, ListerSelectsByLabels) {
  auto lw = std::make_unique<FakeListerWatcher>();
  for (auto [name, app] : std::vector<std::pair<std::string, std::string>>{
           {"w1", "web"}, {"w2", "web"}, {"d1", "db"}}) {
    ConfigMap cm = MakeConfigMap("ns", name);
    (*cm.mutable_metadata()->mutable_labels())["app"] = app;
    lw->Upsert(cm);
  }
  lw->Upsert(MakeConfigMap("other", "w3"));
  SharedIndexInformer informer(std::move(lw), Options(nullptr, GetParam()));
  std::jthread run([&](std::stop_token stop) { informer.Run(stop); });
  std::stop_source never;
  ASSERT_TRUE(WaitForCacheSync(never.get_token(), {&informer}));
  Lister<ConfigMap> lister(&informer.GetIndexer(), {"", "configmaps"});
  EXPECT_EQ(lister.List(*labels::Parse("app=web")).size(), 2u);
  EXPECT_EQ(lister.List(*labels::Parse("app")).size(), 3u);
  EXPECT_EQ(lister.List(*labels::Parse("app!=web")).size(), 2u);  // d1 and unlabeled w3
  EXPECT_EQ(lister.List(labels::Selector::Nothing()).size(), 0u);
  EXPECT_EQ(lister.Namespace("ns").List(*labels::Parse("app in (db)")).size(), 1u);
  // The untyped view and a wrong type.
  EXPECT_EQ(Lister<google::protobuf::Message>(&informer.GetIndexer(), {"", "configmaps"})
                .List()
                .size(),
            4u);
  EXPECT_EQ(Lister<api::core::v1::Pod>(&informer.GetIndexer(), {"", "pods"}).List().size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, InformerTest,
                         ::testing::Values(CacheMode::kDecoded, CacheMode::kCompact));

TEST(SharedInformerTest, LateHandlerGetsReplayAndItsOwnHasSynced) {
  auto lw = std::make_unique<FakeListerWatcher>();
  FakeListerWatcher& server = *lw;
  server.Upsert(MakeConfigMap("a", "one"));
  server.Upsert(MakeConfigMap("a", "two"));
  SharedIndexInformer informer(std::move(lw), Options(nullptr, CacheMode::kDecoded));
  std::jthread run([&](std::stop_token stop) { informer.Run(stop); });
  std::stop_source never;
  ASSERT_TRUE(WaitForCacheSync(never.get_token(), {&informer}));

  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::string> seen;
  auto reg = informer.AddEventHandler(ResourceEventHandlerFuncs{
      .add =
          [&](const ObjectPtr& o, bool initial) {
            std::unique_lock<std::mutex> lock(mu);
            seen.push_back(absl::StrCat(KeyOf(*o), initial ? " initial" : ""));
            cv.wait(lock, [&] { return release; });
          },
      .update = nullptr,
      .del = nullptr,
  });
  ASSERT_TRUE(reg.ok());
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size() == 1;
  }));
  EXPECT_TRUE(informer.HasSynced());
  EXPECT_FALSE((*reg)->HasSynced());  // its replay is not done
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(Eventually([&] { return (*reg)->HasSynced(); }));
  std::lock_guard<std::mutex> lock(mu);
  std::sort(seen.begin(), seen.end());  // the replay follows the cache's (unordered) List
  EXPECT_EQ(seen, (std::vector<std::string>{"a/one initial", "a/two initial"}));
}

TEST(SharedInformerTest, SlowHandlerDoesNotDelayOthers) {
  auto lw = std::make_unique<FakeListerWatcher>();
  FakeListerWatcher& server = *lw;
  SharedIndexInformer informer(std::move(lw), Options(nullptr, CacheMode::kDecoded));
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> slow_calls{0};
  ASSERT_TRUE(informer
                  .AddEventHandler(ResourceEventHandlerFuncs{
                      .add =
                          [&](const ObjectPtr&, bool) {
                            ++slow_calls;
                            std::unique_lock<std::mutex> lock(mu);
                            cv.wait(lock, [&] { return release; });
                          },
                      .update = nullptr,
                      .del = nullptr,
                  })
                  .ok());
  auto fast = std::make_shared<Recorder>();
  ASSERT_TRUE(informer.AddEventHandler(fast).ok());
  std::jthread run([&](std::stop_token stop) { informer.Run(stop); });
  ASSERT_TRUE(server.AwaitWatching());
  for (int i = 0; i < 200; ++i) server.Upsert(MakeConfigMap("a", absl::StrCat("cm", i)));
  ASSERT_TRUE(fast->Await(200));
  ASSERT_TRUE(Eventually([&] { return slow_calls.load() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(slow_calls.load(), 1);  // still stuck in its first call
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(Eventually([&] { return slow_calls.load() == 200; }));
}

TEST(SharedInformerTest, RelistReportsMissedDeletionAsTombstoneAndSkipsUnchanged) {
  auto lw = std::make_unique<FakeListerWatcher>();
  FakeListerWatcher& server = *lw;
  server.Upsert(MakeConfigMap("a", "one"));  // 1
  server.Upsert(MakeConfigMap("a", "two"));  // 2
  client::flowcontrol::FakeClock clock;
  clock.set_auto_advance(true);  // backoff before the relist passes at once
  SharedIndexInformer informer(std::move(lw), Options(&clock, CacheMode::kCompact));
  auto rec = std::make_shared<Recorder>();
  ASSERT_TRUE(informer.AddEventHandler(rec).ok());
  std::jthread run([&](std::stop_token stop) { informer.Run(stop); });
  ASSERT_TRUE(server.AwaitWatching());
  ASSERT_TRUE(rec->Await(2));

  // Changes the watch never sees, then the history is gone: 410 -> relist.
  server.FailWatches({absl::UnavailableError("connection refused")});
  server.RemoveSilently("a", "two");                 // 3
  server.UpsertSilently(MakeConfigMap("a", "new"));  // 4
  server.Compact();
  server.EndWatches();
  ASSERT_TRUE(rec->Await(4));
  ASSERT_TRUE(server.AwaitWatching());
  std::vector<std::string> ev = rec->events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[2], "add a/new@4");
  EXPECT_EQ(ev[3], "delete a/two a/two@2 unknown");
  Lister<ConfigMap> lister(&informer.GetIndexer(), {"", "configmaps"});
  EXPECT_EQ(lister.List().size(), 2u);
}

TEST(SharedInformerTest, ResyncGoesToEachHandlerAtItsOwnPeriod) {
  auto lw = std::make_unique<FakeListerWatcher>();
  FakeListerWatcher& server = *lw;
  server.Upsert(MakeConfigMap("a", "one"));
  client::flowcontrol::FakeClock clock;
  SharedInformerOptions o = Options(&clock, CacheMode::kDecoded);
  o.resync_period = absl::Seconds(10);
  SharedIndexInformer informer(std::move(lw), o);
  auto every10 = std::make_shared<Recorder>();
  auto every30 = std::make_shared<Recorder>();
  auto never = std::make_shared<Recorder>();
  ASSERT_TRUE(informer.AddEventHandler(every10).ok());
  ASSERT_TRUE(informer.AddEventHandler(every30, absl::Seconds(30)).ok());
  ASSERT_TRUE(informer.AddEventHandler(never, absl::ZeroDuration()).ok());
  std::jthread run([&](std::stop_token stop) { informer.Run(stop); });
  ASSERT_TRUE(server.AwaitWatching());
  ASSERT_TRUE(every10->Await(1));
  for (int round = 1; round <= 3; ++round) {
    clock.AwaitSleepers(1);  // the resync timer
    clock.Advance(absl::Seconds(10));
    ASSERT_TRUE(every10->Await(1 + round)) << round;
  }
  ASSERT_TRUE(every30->Await(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(every10->events(),
            (std::vector<std::string>{"add a/one@1 initial", "update a/one@1 -> a/one@1",
                                      "update a/one@1 -> a/one@1", "update a/one@1 -> a/one@1"}));
  EXPECT_EQ(every30->events(),
            (std::vector<std::string>{"add a/one@1 initial", "update a/one@1 -> a/one@1"}));
  EXPECT_EQ(never->events(), (std::vector<std::string>{"add a/one@1 initial"}));
}

TEST(SharedInformerTest, NoResyncWhenInformerDefaultIsZero) {
  // As upstream: with a zero default the informer's check period stays 0, so a
  // handler's own period has no effect.
  auto lw = std::make_unique<FakeListerWatcher>();
  FakeListerWatcher& server = *lw;
  server.Upsert(MakeConfigMap("a", "one"));
  client::flowcontrol::FakeClock clock;
  SharedIndexInformer informer(std::move(lw), Options(&clock, CacheMode::kDecoded));
  auto rec = std::make_shared<Recorder>();
  ASSERT_TRUE(informer.AddEventHandler(rec, absl::Seconds(5)).ok());
  std::jthread run([&](std::stop_token stop) { informer.Run(stop); });
  ASSERT_TRUE(server.AwaitWatching());
  ASSERT_TRUE(rec->Await(1));
  clock.Advance(absl::Minutes(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(rec->events().size(), 1u);
  EXPECT_EQ(clock.Sleepers(), 0);  // no resync timer at all
}

TEST(SharedInformerTest, RemovedHandlerGetsNothingMore) {
  auto lw = std::make_unique<FakeListerWatcher>();
  FakeListerWatcher& server = *lw;
  SharedIndexInformer informer(std::move(lw), Options(nullptr, CacheMode::kDecoded));
  auto removed = std::make_shared<Recorder>();
  auto kept = std::make_shared<Recorder>();
  auto reg = informer.AddEventHandler(removed);
  ASSERT_TRUE(reg.ok());
  ASSERT_TRUE(informer.AddEventHandler(kept).ok());
  std::jthread run([&](std::stop_token stop) { informer.Run(stop); });
  ASSERT_TRUE(server.AwaitWatching());
  server.Upsert(MakeConfigMap("a", "one"));
  ASSERT_TRUE(removed->Await(1));
  informer.RemoveEventHandler(*reg);
  informer.RemoveEventHandler(*reg);  // idempotent
  server.Upsert(MakeConfigMap("a", "two"));
  ASSERT_TRUE(kept->Await(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(removed->events().size(), 1u);
}

TEST(SharedInformerTest, LifecycleErrors) {
  auto lw = std::make_unique<FakeListerWatcher>();
  FakeListerWatcher& server = *lw;
  SharedIndexInformer informer(std::move(lw), Options(nullptr, CacheMode::kDecoded));
  EXPECT_TRUE(informer.SetTransform(DropManagedFields).ok());
  {
    std::jthread run([&](std::stop_token stop) { informer.Run(stop); });
    ASSERT_TRUE(server.AwaitWatching());
    EXPECT_EQ(informer.SetTransform(nullptr).code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(informer.SetWatchErrorHandler(nullptr).code(),
              absl::StatusCode::kFailedPrecondition);
    informer.Run(std::stop_token());  // second Run returns at once
  }
  EXPECT_TRUE(informer.IsStopped());
  EXPECT_EQ(informer.AddEventHandler(std::make_shared<Recorder>()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(informer.AddEventHandler(nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SharedInformerTest, WaitForCacheSyncStops) {
  std::stop_source stop;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop.request_stop();
  });
  EXPECT_FALSE(WaitForCacheSync(stop.get_token(), {[] { return false; }}));
  t.join();
  EXPECT_TRUE(WaitForCacheSync(stop.get_token(), {[] { return true; }}));
}

TEST(SharedInformerTest, TypedHandlersAndIndexers) {
  auto lw = std::make_unique<FakeListerWatcher>();
  FakeListerWatcher& server = *lw;
  server.Upsert(MakeConfigMap("a", "one", "x"));
  server.Upsert(MakeConfigMap("b", "two", "y"));
  SharedIndexInformer informer(std::move(lw), Options(nullptr, CacheMode::kCompact));
  TypedInformer<ConfigMap> typed(&informer, {"", "configmaps"});
  std::atomic<int> adds{0};
  ASSERT_TRUE(typed
                  .AddEventHandler(TypedHandlerFuncs<ConfigMap>{
                      .add = [&](const std::shared_ptr<const ConfigMap>& cm,
                                 bool) { adds += cm->data().count("k"); },
                      .update = nullptr,
                      .del = nullptr,
                  })
                  .ok());
  std::jthread run([&](std::stop_token stop) { informer.Run(stop); });
  std::stop_source never;
  ASSERT_TRUE(WaitForCacheSync(never.get_token(), {&informer}));
  ASSERT_TRUE(informer
                  .AddIndexers({{"by-value",
                                 [](const google::protobuf::Message& m) {
                                   return std::vector<std::string>{
                                       static_cast<const ConfigMap&>(m).data().at("k")};
                                 }}})
                  .ok());
  absl::StatusOr<std::vector<ObjectPtr>> y = informer.GetIndexer().ByIndex("by-value", "y");
  ASSERT_TRUE(y.ok());
  ASSERT_EQ(y->size(), 1u);
  EXPECT_EQ(KeyOf(*(*y)[0]), "b/two");
  ASSERT_TRUE(Eventually([&] { return adds.load() == 2; }));
  EXPECT_EQ(typed.Lister().List().size(), 2u);
}

}  // namespace
}  // namespace kslice::informers
