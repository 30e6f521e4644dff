// Reflector against the in-memory FakeListerWatcher: the requests it makes (versions,
// paging, bookmarks, timeouts), what it writes into the store, and its reactions to
// 410 Expired, "too large resource version", 429, broken and very short watches, with
// the backoff measured on a fake clock. Expected values follow client-go's reflector.go
// (see /work/shared/spec/client-go-machinery.md §1).
#include "informers/reflector.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/errors/errors.h"
#include "client/flowcontrol/clock.h"
#include "gtest/gtest.h"
#include "informers/testing/fake_lister_watcher.h"

namespace kslice::informers {
namespace {

using testing::ExpiredError;
using testing::FakeListerWatcher;
using testing::MakeConfigMap;

// Records what the reflector writes: "add ns/name@rv", "replace [a,b]@rv", ...
class RecordingStore : public ReflectorStore {
 public:
  void Add(ObjectPtr o) override { Record("add " + Describe(*o)); }
  void Update(ObjectPtr o) override { Record("update " + Describe(*o)); }
  void Delete(ObjectPtr o) override { Record("delete " + Describe(*o)); }
  void Replace(std::vector<ObjectPtr> objects, const std::string& rv) override {
    std::vector<std::string> keys;
    for (auto& o : objects) keys.push_back(KeyOf(*o));
    std::sort(keys.begin(), keys.end());  // the order of a list is not part of the contract
    Record(absl::StrCat("replace [", absl::StrJoin(keys, ","), "]@", rv));
  }
  void Resync() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++resyncs_;
  }
  std::vector<std::string> ops() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ops_;
  }
  int resyncs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return resyncs_;
  }
  // Waits until at least n ops were recorded.
  bool Await(size_t n) {
    for (int i = 0; i < 5000; ++i) {
      if (ops().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

 private:
  static std::string Describe(const google::protobuf::Message& o) {
    return absl::StrCat(KeyOf(o), "@", MetaOf(o).resourceversion());
  }
  void Record(std::string s) {
    std::lock_guard<std::mutex> lock(mu_);
    ops_.push_back(std::move(s));
  }
  mutable std::mutex mu_;
  std::vector<std::string> ops_;
  int resyncs_ = 0;
};

template <typename F>
bool Eventually(F f) {
  for (int i = 0; i < 5000; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

ReflectorOptions Quiet(client::flowcontrol::Clock* clock) {
  ReflectorOptions o;
  o.name = "configmaps";
  o.clock = clock;
  o.random = [] { return 0.0; };  // no jitter: delays are the bases
  o.watch_error_handler = [](const absl::Status&) {};
  return o;
}

TEST(ReflectorTest, ListsThenWatchesFromTheListVersion) {
  FakeListerWatcher lw;
  lw.Upsert(MakeConfigMap("a", "one"));  // rv 1
  lw.Upsert(MakeConfigMap("a", "two"));  // rv 2
  RecordingStore store;
  client::flowcontrol::FakeClock clock;
  ReflectorOptions options = Quiet(&clock);
  options.random = [] { return 0.5; };
  Reflector r(lw, store, options);
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());

  lw.Upsert(MakeConfigMap("a", "three"));  // 3
  lw.Upsert(MakeConfigMap("a", "one", "changed"));  // 4
  lw.Remove("a", "two");  // 5
  lw.SendBookmark();  // 6
  ASSERT_TRUE(Eventually([&] { return r.LastSyncResourceVersion() == "6"; }));
  EXPECT_EQ(store.ops(), (std::vector<std::string>{"replace [a/one,a/two]@2", "add a/three@3",
                                                   "update a/one@4", "delete a/two@5"}));
  std::vector<client::ListOptions> lists = lw.list_calls();
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0].resource_version, "0");  // first list: any version
  EXPECT_EQ(lists[0].limit, 500);
  std::vector<client::ListOptions> watches = lw.watch_calls();
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0].resource_version, "2");
  EXPECT_TRUE(watches[0].allow_watch_bookmarks);
  EXPECT_EQ(watches[0].timeout_seconds, 450);  // 300 s * (1 + 0.5)
  EXPECT_FALSE(watches[0].send_initial_events.has_value());
}

TEST(ReflectorTest, WatchTimeoutIsBetweenFiveAndTenMinutes) {
  FakeListerWatcher lw;
  RecordingStore store;
  ReflectorOptions options;
  options.watch_error_handler = [](const absl::Status&) {};
  options.min_watch_timeout = absl::Minutes(1);  // below 5 min: ignored
  Reflector r(lw, store, options);
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());
  for (int i = 0; i < 5; ++i) {
    lw.Upsert(MakeConfigMap("a", absl::StrCat("cm", i)));  // not a "very short watch"
    ASSERT_TRUE(store.Await(static_cast<size_t>(i + 2)));
    lw.EndWatches();
    ASSERT_TRUE(Eventually([&] { return lw.watch_calls().size() >= static_cast<size_t>(i + 2); }));
  }
  for (const auto& w : lw.watch_calls()) {
    ASSERT_TRUE(w.timeout_seconds.has_value());
    EXPECT_GE(*w.timeout_seconds, 300);
    EXPECT_LT(*w.timeout_seconds, 600);
  }
}

TEST(ReflectorTest, CleanWatchEndReopensFromLastVersionWithoutRelist) {
  FakeListerWatcher lw;
  lw.Upsert(MakeConfigMap("a", "one"));
  RecordingStore store;
  Reflector r(lw, store, Quiet(nullptr));
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());
  lw.Upsert(MakeConfigMap("a", "two"));  // 2
  ASSERT_TRUE(store.Await(2));
  lw.EndWatches();
  ASSERT_TRUE(Eventually([&] { return lw.watch_calls().size() == 2; }));
  EXPECT_EQ(lw.watch_calls()[1].resource_version, "2");
  EXPECT_EQ(lw.list_calls().size(), 1u);
}

TEST(ReflectorTest, PagesInitialListAndKeepsPagingOnRelist) {
  FakeListerWatcher lw;
  for (int i = 0; i < 5; ++i) lw.Upsert(MakeConfigMap("a", absl::StrCat("cm", i)));
  RecordingStore store;
  client::flowcontrol::FakeClock clock;
  clock.set_auto_advance(true);
  ReflectorOptions options = Quiet(&clock);
  options.page_size = 2;
  Reflector r(lw, store, options);
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());
  std::vector<client::ListOptions> lists = lw.list_calls();
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_EQ(lists[0].resource_version, "0");
  EXPECT_EQ(lists[0].limit, 2);
  EXPECT_EQ(lists[0].continue_token, "");
  for (int i = 1; i < 3; ++i) {
    EXPECT_EQ(lists[i].resource_version, "") << i;  // never with a continue token
    EXPECT_EQ(lists[i].limit, 2);
    EXPECT_FALSE(lists[i].continue_token.empty());
  }
  EXPECT_EQ(store.ops()[0], "replace [a/cm0,a/cm1,a/cm2,a/cm3,a/cm4]@5");
}

TEST(ReflectorTest, DefaultPageSizeAndNoLimitWhenRelistingAtAVersion) {
  FakeListerWatcher lw;
  lw.Upsert(MakeConfigMap("a", "one"));
  RecordingStore store;
  client::flowcontrol::FakeClock clock;
  clock.set_auto_advance(true);
  Reflector r(lw, store, Quiet(&clock));
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());
  // A 410 on the watch ends the cycle; the relist asks for the last synced version,
  // without a limit (the first list was not paginated).
  lw.Upsert(MakeConfigMap("a", "two"));  // 2
  ASSERT_TRUE(store.Await(2));
  lw.FailWatches({ExpiredError(2)});
  lw.EndWatches();
  ASSERT_TRUE(Eventually([&] { return lw.list_calls().size() == 2; }));
  std::vector<client::ListOptions> lists = lw.list_calls();
  EXPECT_EQ(lists[0].limit, 500);
  EXPECT_EQ(lists[1].resource_version, "2");
  EXPECT_EQ(lists[1].limit, 0);
  EXPECT_FALSE(r.IsLastSyncResourceVersionUnavailable());
}

TEST(ReflectorTest, ExpiredContinueTokenFallsBackToOneFullList) {
  FakeListerWatcher lw;
  for (int i = 0; i < 3; ++i) lw.Upsert(MakeConfigMap("a", absl::StrCat("cm", i)));
  lw.ExpireContinueTokens();
  RecordingStore store;
  ReflectorOptions options = Quiet(nullptr);
  options.page_size = 2;
  Reflector r(lw, store, options);
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());
  std::vector<client::ListOptions> lists = lw.list_calls();
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_FALSE(lists[1].continue_token.empty());
  EXPECT_EQ(lists[2].limit, 0);
  EXPECT_EQ(lists[2].continue_token, "");
  EXPECT_EQ(lists[2].resource_version, "0");  // the original version
  EXPECT_EQ(store.ops()[0], "replace [a/cm0,a/cm1,a/cm2]@3");
}

TEST(ReflectorTest, WatchExpiredRelistsAndCatchesUp) {
  FakeListerWatcher lw;
  lw.Upsert(MakeConfigMap("a", "one"));  // 1
  RecordingStore store;
  client::flowcontrol::FakeClock clock;
  clock.set_auto_advance(true);
  Reflector r(lw, store, Quiet(&clock));
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());
  // While the watch is away, changes happen and the history is compacted.
  lw.FailWatches({absl::UnavailableError("connection refused")});
  lw.UpsertSilently(MakeConfigMap("a", "two"));  // 2
  lw.RemoveSilently("a", "one");                 // 3
  lw.Compact();
  lw.EndWatches();
  // Relist at "1" (the last synced version), then watch from the new list's version.
  ASSERT_TRUE(Eventually([&] { return lw.list_calls().size() == 2; }));
  ASSERT_TRUE(store.Await(2));
  EXPECT_EQ(store.ops()[1], "replace [a/two]@3");
  EXPECT_EQ(lw.list_calls()[1].resource_version, "1");
  ASSERT_TRUE(lw.AwaitWatching());
  EXPECT_EQ(lw.watch_calls().back().resource_version, "3");
  EXPECT_EQ(r.LastSyncResourceVersion(), "3");
}

TEST(ReflectorTest, ListExpiredOrTooLargeRetriesAtEmptyVersionAtOnce) {
  for (bool too_large : {false, true}) {
    SCOPED_TRACE(too_large);
    FakeListerWatcher lw;
    lw.Upsert(MakeConfigMap("a", "one"));
    client::StatusError large = client::NewTimeoutError("Too large resource version", 1);
    auto* cause = large.mutable_status().mutable_details()->add_causes();
    cause->set_reason(std::string(client::cause::kResourceVersionTooLarge));
    lw.FailLists({too_large ? client::ToStatus(large) : ExpiredError(0)});
    RecordingStore store;
    client::flowcontrol::FakeClock clock;  // never advanced: a backoff would hang
    Reflector r(lw, store, Quiet(&clock));
    std::jthread run([&](std::stop_token stop) { r.Run(stop); });
    ASSERT_TRUE(lw.AwaitWatching());
    std::vector<client::ListOptions> lists = lw.list_calls();
    ASSERT_EQ(lists.size(), 2u);
    EXPECT_EQ(lists[0].resource_version, "0");
    EXPECT_EQ(lists[1].resource_version, "");
    EXPECT_FALSE(r.IsLastSyncResourceVersionUnavailable());  // cleared by the success
  }
}

TEST(ReflectorTest, BacksOffExponentiallyBetweenFailedCycles) {
  FakeListerWatcher lw;
  std::vector<absl::Status> errors(9, client::ToStatus(client::NewInternalError("boom")));
  lw.FailLists(errors);
  RecordingStore store;
  client::flowcontrol::FakeClock clock;
  std::vector<absl::Time> times;
  std::mutex mu;
  ReflectorOptions options = Quiet(&clock);
  std::atomic<int> reported{0};
  options.watch_error_handler = [&](const absl::Status&) {
    std::lock_guard<std::mutex> lock(mu);
    times.push_back(clock.Now());
    ++reported;
  };
  Reflector r(lw, store, options);
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  // 0.8 s doubling, capped at 30 s (random 0: no jitter).
  std::vector<absl::Duration> want = {absl::Milliseconds(800),  absl::Milliseconds(1600),
                                      absl::Milliseconds(3200), absl::Milliseconds(6400),
                                      absl::Milliseconds(12800), absl::Milliseconds(25600),
                                      absl::Seconds(30),        absl::Seconds(30),
                                      absl::Seconds(30)};
  std::vector<absl::Duration> waits;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_TRUE(Eventually([&] { return reported.load() == static_cast<int>(i + 1); }));
    clock.AwaitSleepers(1);
    size_t calls = lw.list_calls().size();
    clock.Advance(want[i] - absl::Milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (lw.list_calls().size() != calls) {
      waits.push_back(want[i] - absl::Milliseconds(1));  // too early
      continue;
    }
    clock.Advance(absl::Milliseconds(1));
    ASSERT_TRUE(Eventually([&] { return lw.list_calls().size() == calls + 1; }));
    waits.push_back(want[i]);
  }
  ASSERT_EQ(waits.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(waits[i], want[i]) << i;
  ASSERT_TRUE(lw.AwaitWatching());
}

TEST(ReflectorTest, JitterStretchesDelaysUpToDouble) {
  FakeListerWatcher lw;
  lw.FailLists({client::ToStatus(client::NewInternalError("boom"))});
  RecordingStore store;
  client::flowcontrol::FakeClock clock;
  ReflectorOptions options = Quiet(&clock);
  options.random = [] { return 0.75; };
  std::atomic<int> reported{0};
  options.watch_error_handler = [&](const absl::Status&) { ++reported; };
  Reflector r(lw, store, options);
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(Eventually([&] { return reported.load() == 1; }));
  clock.AwaitSleepers(1);
  clock.Advance(absl::Milliseconds(1399));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(lw.list_calls().size(), 1u);
  clock.Advance(absl::Milliseconds(1));  // 800 ms * 1.75
  ASSERT_TRUE(lw.AwaitWatching());
  EXPECT_EQ(lw.list_calls().size(), 2u);
}

TEST(ReflectorTest, TooManyRequestsOnWatchBacksOffAndRewatchesWithoutRelist) {
  FakeListerWatcher lw;
  lw.Upsert(MakeConfigMap("a", "one"));
  RecordingStore store;
  client::flowcontrol::FakeClock clock;
  clock.set_auto_advance(true);
  Reflector r(lw, store, Quiet(&clock));
  lw.FailWatches({client::ToStatus(client::NewTooManyRequests("slow down", 1)),
                  absl::UnavailableError("connection refused")});
  absl::Time start = clock.Now();
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());
  EXPECT_EQ(lw.list_calls().size(), 1u);
  EXPECT_EQ(lw.watch_calls().size(), 3u);
  EXPECT_EQ(clock.Now() - start, absl::Milliseconds(800 + 1600));
}

TEST(ReflectorTest, VeryShortEmptyWatchIsAnErrorAndRelists) {
  FakeListerWatcher lw;
  lw.Upsert(MakeConfigMap("a", "one"));
  lw.set_empty_watches(true);
  RecordingStore store;
  client::flowcontrol::FakeClock clock;
  clock.set_auto_advance(true);
  std::atomic<int> reported{0};
  ReflectorOptions options = Quiet(&clock);
  options.watch_error_handler = [&](const absl::Status& s) {
    if (absl::StrContains(s.message(), "very short watch")) ++reported;
  };
  Reflector r(lw, store, options);
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(Eventually([&] { return reported.load() >= 2; }));
  lw.set_empty_watches(false);
  EXPECT_GE(lw.list_calls().size(), 2u);
}

TEST(ReflectorTest, ResyncsEveryPeriodWhileWatching) {
  FakeListerWatcher lw;
  RecordingStore store;
  client::flowcontrol::FakeClock clock;
  ReflectorOptions options = Quiet(&clock);
  options.resync_period = absl::Seconds(30);
  std::atomic<bool> allow{true};
  options.should_resync = [&] { return allow.load(); };
  Reflector r(lw, store, options);
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());
  clock.AwaitSleepers(1);
  clock.Advance(absl::Seconds(29));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(store.resyncs(), 0);
  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(Eventually([&] { return store.resyncs() == 1; }));
  clock.AwaitSleepers(1);
  allow = false;
  clock.Advance(absl::Seconds(30));
  clock.AwaitSleepers(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(store.resyncs(), 1);  // should_resync said no
}

TEST(ReflectorTest, StreamingListReplacesAtTheEndBookmarkThenWatchesOnSameStream) {
  FakeListerWatcher lw(/*supports_watch_list=*/true);
  lw.Upsert(MakeConfigMap("a", "one"));
  lw.Upsert(MakeConfigMap("a", "two"));
  RecordingStore store;
  ReflectorOptions options = Quiet(nullptr);
  options.use_watch_list = true;
  Reflector r(lw, store, options);
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());
  lw.Upsert(MakeConfigMap("a", "three"));  // 3
  ASSERT_TRUE(store.Await(2));
  EXPECT_EQ(store.ops(), (std::vector<std::string>{"replace [a/one,a/two]@2", "add a/three@3"}));
  EXPECT_TRUE(lw.list_calls().empty());
  std::vector<client::ListOptions> watches = lw.watch_calls();
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0].send_initial_events, std::optional<bool>(true));
  EXPECT_EQ(watches[0].resource_version_match, "NotOlderThan");
  EXPECT_EQ(watches[0].resource_version, "");
  EXPECT_TRUE(watches[0].allow_watch_bookmarks);
  EXPECT_EQ(r.LastSyncResourceVersion(), "3");
}

TEST(ReflectorTest, StreamingListFallsBackToListWhenRefused) {
  FakeListerWatcher lw(/*supports_watch_list=*/true);
  lw.Upsert(MakeConfigMap("a", "one"));
  lw.FailWatches({client::ToStatus(client::NewBadRequest("sendInitialEvents is not supported"))});
  RecordingStore store;
  ReflectorOptions options = Quiet(nullptr);
  options.use_watch_list = true;
  Reflector r(lw, store, options);
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());
  EXPECT_EQ(store.ops()[0], "replace [a/one]@1");
  EXPECT_EQ(lw.list_calls().size(), 1u);
  std::vector<client::ListOptions> watches = lw.watch_calls();
  ASSERT_EQ(watches.size(), 2u);  // the refused streaming list, then a watch
  EXPECT_TRUE(watches[0].send_initial_events.value_or(false));
  EXPECT_FALSE(watches[1].send_initial_events.has_value());
  EXPECT_EQ(watches[1].resource_version, "1");
}

TEST(ReflectorTest, NoStreamingListWhenTheListerWatcherCannot) {
  FakeListerWatcher lw(/*supports_watch_list=*/false);
  lw.Upsert(MakeConfigMap("a", "one"));
  RecordingStore store;
  ReflectorOptions options = Quiet(nullptr);
  options.use_watch_list = true;
  Reflector r(lw, store, options);
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());
  EXPECT_EQ(lw.list_calls().size(), 1u);
  EXPECT_EQ(lw.watch_calls().size(), 1u);
}

TEST(ReflectorTest, TransformRunsBeforeStoring) {
  FakeListerWatcher lw;
  auto cm = MakeConfigMap("a", "one");
  cm.mutable_metadata()->add_managedfields()->set_manager("kubectl");
  lw.Upsert(cm);
  std::vector<int> seen;
  std::mutex mu;
  class Store : public RecordingStore {
   public:
    explicit Store(std::vector<int>* seen, std::mutex* mu) : seen_(seen), mu_(mu) {}
    void Replace(std::vector<ObjectPtr> objects, const std::string& rv) override {
      std::lock_guard<std::mutex> lock(*mu_);
      for (auto& o : objects) seen_->push_back(MetaOf(*o).managedfields_size());
      RecordingStore::Replace(std::move(objects), rv);
    }
    std::vector<int>* seen_;
    std::mutex* mu_;
  } store(&seen, &mu);
  ReflectorOptions options = Quiet(nullptr);
  options.transform = DropManagedFields;
  Reflector r(lw, store, options);
  std::jthread run([&](std::stop_token stop) { r.Run(stop); });
  ASSERT_TRUE(lw.AwaitWatching());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen, std::vector<int>{0});
}

TEST(ReflectorTest, ErrorClassification) {
  EXPECT_TRUE(IsExpiredError(ExpiredError(5)));
  EXPECT_TRUE(IsExpiredError(client::ToStatus(client::NewGone("gone"))));
  EXPECT_FALSE(IsExpiredError(absl::UnavailableError("x")));
  client::StatusError old_server = client::NewTimeoutError("Too large resource version: 9", 1);
  EXPECT_TRUE(IsTooLargeResourceVersionError(client::ToStatus(old_server)));
  EXPECT_FALSE(IsTooLargeResourceVersionError(
      client::ToStatus(client::NewTimeoutError("something else", 1))));
}

}  // namespace
}  // namespace kslice::informers
