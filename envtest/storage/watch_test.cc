#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "envtest/storage/errors.h"
#include "envtest/storage/store.h"
#include "envtest/storage/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::envtest::storage {
namespace {

using namespace ::kslice::envtest::storage::testing;  // NOLINT
using ::testing::ElementsAre;
using ::testing::IsEmpty;
namespace core = kslice::api::core::v1;

constexpr absl::Duration kShort = absl::Milliseconds(20);

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(StoreOptions o = {}) {
    o.clock = &clock_;
    o.random_seed = 7;
    o.too_large_resource_version_wait = kShort;
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
  }

  std::unique_ptr<Watcher> MustWatch(const ListOptions& o, const ResourceKey& r = kPods) {
    absl::StatusOr<std::unique_ptr<Watcher>> w = store_->Watch(r, o);
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? *std::move(w) : nullptr;
  }

  // Everything available now, described; stops at a short timeout.
  std::vector<std::string> Drain(Watcher* w) {
    std::vector<std::string> out;
    std::vector<WatchEvent> batch;
    while (w->NextBatch(&batch, kShort)) {
      if (batch.empty()) break;
      for (const WatchEvent& e : batch) out.push_back(Describe(e));
      batch.clear();
    }
    for (const WatchEvent& e : batch) out.push_back(Describe(e));
    return out;
  }

  std::vector<WatchEvent> DrainEvents(Watcher* w) {
    std::vector<WatchEvent> out;
    while (w->NextBatch(&out, kShort)) {
      const size_t n = out.size();
      w->NextBatch(&out, absl::ZeroDuration());
      if (out.size() == n) break;
    }
    return out;
  }

  Object Create(const std::string& ns, const std::string& name,
                std::vector<std::pair<std::string, std::string>> labels = {}) {
    absl::StatusOr<Object> o = store_->Create(kPods, MakePod(ns, name, std::move(labels)));
    EXPECT_TRUE(o.ok()) << o.status();
    return o.ok() ? *o : nullptr;
  }

  Object Relabel(const std::string& ns, const std::string& name, const std::string& key,
                 const std::string& value) {
    core::Pod p = AsPod(*store_->Get(kPods, ns, name));
    if (value.empty()) {
      p.mutable_metadata()->mutable_labels()->erase(key);
    } else {
      (*p.mutable_metadata()->mutable_labels())[key] = value;
    }
    absl::StatusOr<UpdateResult> u = store_->Update(kPods, p);
    EXPECT_TRUE(u.ok()) << u.status();
    return u.ok() ? u->object : nullptr;
  }

  void Delete(const std::string& ns, const std::string& name) {
    EXPECT_TRUE(store_->Delete(kPods, ns, name).ok());
  }

  FakeClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_F(WatchTest, FromEmptyRvSendsStateThenChanges) {
  Create("default", "b");  // 2
  Create("default", "a");  // 3
  for (const char* rv : {"", "0"}) {
    std::unique_ptr<Watcher> w = MustWatch({.resource_version = rv});
    EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED a@3", "ADDED b@2")) << "rv " << rv;
  }
  std::unique_ptr<Watcher> w = MustWatch({});
  Drain(w.get());
  Create("default", "c");    // 4
  Relabel("default", "a", "x", "1");  // 5
  Delete("default", "b");    // 6
  std::vector<WatchEvent> events = DrainEvents(w.get());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(Describe(events[0]), "ADDED c@4");
  EXPECT_EQ(Describe(events[1]), "MODIFIED a@5");
  EXPECT_EQ(MetaOf(*events[1].object).labels().at("x"), "1");
  EXPECT_EQ(Describe(events[2]), "DELETED b@6");
  // DELETED carries the last state with the deletion's RV.
  EXPECT_EQ(RvOf(events[2].object), "6");
  EXPECT_EQ(AsPod(events[2].object).spec().containers(0).image(), "nginx");
  EXPECT_FALSE(w->Done());
}

TEST_F(WatchTest, FromResourceVersionReplaysHistory) {
  Create("default", "a");             // 2
  Create("default", "b");             // 3
  Relabel("default", "a", "x", "1");  // 4
  Delete("default", "b");             // 5
  std::unique_ptr<Watcher> w = MustWatch({.resource_version = "3"});
  EXPECT_THAT(Drain(w.get()), ElementsAre("MODIFIED a@4", "DELETED b@5"));
  Create("default", "c");  // 6
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED c@6"));
  // From the current RV: nothing old.
  w = MustWatch({.resource_version = "6"});
  EXPECT_THAT(Drain(w.get()), IsEmpty());
}

TEST_F(WatchTest, TooOldResourceVersionIsAnErrorEvent) {
  StoreOptions o;
  o.history_size = 3;
  Reopen(std::move(o));
  for (int i = 0; i < 6; ++i) Create("default", absl::StrCat("p", i));  // 2..7
  ASSERT_EQ(store_->CompactedResourceVersion(), 4u);
  std::unique_ptr<Watcher> w = MustWatch({.resource_version = "3"});
  std::optional<WatchEvent> e = w->Next(kShort);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, EventType::kError);
  const auto& st = static_cast<const MetaStatus&>(*e->object);
  EXPECT_EQ(st.code(), 410);
  EXPECT_EQ(st.reason(), "Expired");
  EXPECT_EQ(st.message(), "too old resource version: 3 (4)");
  EXPECT_FALSE(w->Next(kShort).has_value());
  EXPECT_TRUE(w->Done());
  EXPECT_EQ(w->status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->WatcherCount(kPods), 0u);
  // The compacted RV itself is still served.
  w = MustWatch({.resource_version = "4"});
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED p3@5", "ADDED p4@6", "ADDED p5@7"));
}

TEST_F(WatchTest, FutureResourceVersionSkipsEventsUpToIt) {
  Create("default", "a");  // 2
  std::unique_ptr<Watcher> w = MustWatch({.resource_version = "4"});
  Create("default", "b");  // 3
  Create("default", "c");  // 4
  Create("default", "d");  // 5
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED d@5"));
}

TEST_F(WatchTest, NamespaceAndResourceIsolation) {
  std::unique_ptr<Watcher> w = MustWatch({.ns = "a", .resource_version = "1"});
  Create("a", "x");
  Create("b", "y");
  Create("a-b", "z");
  ASSERT_TRUE(store_->Create(kConfigMaps, MakeConfigMap("a", "cm")).ok());
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED x@2"));
  std::unique_ptr<Watcher> cms = MustWatch({}, kConfigMaps);
  EXPECT_THAT(Drain(cms.get()), ElementsAre("ADDED cm@5"));
}

// An object leaving the selector is DELETED (previous state, new RV); one entering it
// is ADDED; changes outside it are invisible.
TEST_F(WatchTest, LabelSelectorTransitions) {
  Create("default", "p", {{"app", "web"}});  // 2
  std::unique_ptr<Watcher> w =
      MustWatch({.label_selector = *labels::Parse("app=web"), .resource_version = "2"});
  Relabel("default", "p", "tier", "fe");    // 3: still matches -> MODIFIED
  Relabel("default", "p", "app", "db");     // 4: leaves -> DELETED
  Relabel("default", "p", "tier", "be");    // 5: outside -> nothing
  Relabel("default", "p", "app", "web");    // 6: enters -> ADDED
  Create("default", "q", {{"app", "db"}});  // 7: never matches
  Delete("default", "q");                   // 8
  Delete("default", "p");                   // 9: DELETED
  std::vector<WatchEvent> events = DrainEvents(w.get());
  std::vector<std::string> got;
  for (const WatchEvent& e : events) got.push_back(Describe(e));
  EXPECT_THAT(got, ElementsAre("MODIFIED p@3", "DELETED p@4", "ADDED p@6", "DELETED p@9"));
  // The exit DELETED shows the object as it was when it last matched, with the new RV.
  EXPECT_EQ(MetaOf(*events[1].object).labels().at("app"), "web");
  EXPECT_EQ(MetaOf(*events[1].object).labels().at("tier"), "fe");
  EXPECT_EQ(RvOf(events[1].object), "4");
  EXPECT_EQ(MetaOf(*events[2].object).labels().at("tier"), "be");

  // Replaying the same history gives the same events.
  std::unique_ptr<Watcher> replay =
      MustWatch({.label_selector = *labels::Parse("app=web"), .resource_version = "2"});
  EXPECT_EQ(Drain(replay.get()), got);
}

TEST_F(WatchTest, FieldSelectorTransitions) {
  std::unique_ptr<Watcher> w =
      MustWatch({.field_selector = *fields::Parse("spec.nodeName=n1"), .resource_version = "1"});
  Create("default", "p");  // 2: no node
  core::Pod p = AsPod(*store_->Get(kPods, "default", "p"));
  p.mutable_spec()->set_nodename("n1");
  ASSERT_TRUE(store_->Update(kPods, p).ok());  // 3: scheduled -> ADDED
  p = AsPod(*store_->Get(kPods, "default", "p"));
  p.mutable_status()->set_phase("Running");
  ASSERT_TRUE(store_->Update(kPods, p).ok());  // 4: MODIFIED
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED p@3", "MODIFIED p@4"));

  std::unique_ptr<Watcher> by_name =
      MustWatch({.field_selector = *fields::Parse("metadata.name=q"), .resource_version = "4"});
  Create("default", "q");
  Create("default", "r");
  EXPECT_THAT(Drain(by_name.get()), ElementsAre("ADDED q@5"));
}

TEST_F(WatchTest, NoOpUpdateSendsNothing) {
  Object a = Create("default", "a");
  std::unique_ptr<Watcher> w = MustWatch({.resource_version = "2"});
  ASSERT_TRUE(store_->Update(kPods, *a).ok());
  EXPECT_THAT(Drain(w.get()), IsEmpty());
}

TEST_F(WatchTest, OptionErrorsAreReturned) {
  absl::StatusOr<std::unique_ptr<Watcher>> w =
      store_->Watch(kPods, {.field_selector = *fields::Parse("spec.foo=x")});
  EXPECT_EQ(w.status().message(), "field label not supported: spec.foo");
  w = store_->Watch(kPods, {.resource_version = "abc"});
  EXPECT_EQ(ReasonOf(w.status()), "BadRequest");
  w = store_->Watch(kPods, {.resource_version_match = ResourceVersionMatch::kNotOlderThan});
  EXPECT_EQ(ReasonOf(w.status()), "Invalid");
  w = store_->Watch(kPods, {.send_initial_events = true});
  EXPECT_EQ(ReasonOf(w.status()), "Invalid");
  StoreOptions gated;
  gated.watch_list_enabled = false;
  Reopen(std::move(gated));
  w = store_->Watch(kPods, {.resource_version_match = ResourceVersionMatch::kNotOlderThan,
                            .send_initial_events = true});
  EXPECT_EQ(w.status().message(),
            "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: "
            "sendInitialEvents is forbidden for watch unless the WatchList feature gate is "
            "enabled");
}

// ---- sendInitialEvents ----

TEST_F(WatchTest, SendInitialEventsEndsWithAnnotatedBookmark) {
  Create("default", "a");  // 2
  Create("default", "b");  // 3
  std::unique_ptr<Watcher> w = MustWatch({.resource_version_match = ResourceVersionMatch::kNotOlderThan,
                                          .send_initial_events = true,
                                          .allow_watch_bookmarks = true});
  std::vector<WatchEvent> events = DrainEvents(w.get());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(Describe(events[0]), "ADDED a@2");
  EXPECT_EQ(Describe(events[1]), "ADDED b@3");
  EXPECT_EQ(Describe(events[2]), "BOOKMARK @3");
  const auto& bm = AsPod(events[2].object);
  EXPECT_EQ(bm.metadata().resourceversion(), "3");
  EXPECT_EQ(bm.metadata().annotations().at("k8s.io/initial-events-end"), "true");
  EXPECT_EQ(bm.metadata().annotations_size(), 1);
  EXPECT_TRUE(bm.metadata().name().empty());
  EXPECT_FALSE(bm.has_spec());
  Create("default", "c");
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED c@4"));
}

TEST_F(WatchTest, SendInitialEventsVariants) {
  Create("default", "a");  // 2
  Create("default", "b");  // 3
  using M = ResourceVersionMatch;
  // Without bookmarks there is no end marker.
  std::unique_ptr<Watcher> w =
      MustWatch({.resource_version_match = M::kNotOlderThan, .send_initial_events = true});
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED a@2", "ADDED b@3"));
  // Not older than an RV we have: the current state.
  w = MustWatch({.resource_version = "2", .resource_version_match = M::kNotOlderThan,
                 .send_initial_events = true, .allow_watch_bookmarks = true});
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED a@2", "ADDED b@3", "BOOKMARK @3"));
  // An RV the store never reaches: a Timeout ERROR event.
  w = MustWatch({.resource_version = "50", .resource_version_match = M::kNotOlderThan,
                 .send_initial_events = true});
  std::vector<WatchEvent> events = DrainEvents(w.get());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kError);
  EXPECT_EQ(static_cast<const MetaStatus&>(*events[0].object).code(), 504);
  EXPECT_EQ(Describe(events[0]), "ERROR Timeout: Too large resource version: 50, current: 3");
  EXPECT_TRUE(w->Done());
  // sendInitialEvents=false: changes only.
  w = MustWatch({.resource_version_match = M::kNotOlderThan, .send_initial_events = false});
  Create("default", "c");
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED c@4"));
  // ... and with an RV, the history after it.
  w = MustWatch({.resource_version = "3", .resource_version_match = M::kNotOlderThan,
                 .send_initial_events = false});
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED c@4"));
  // Selectors apply to the initial events.
  w = MustWatch({.field_selector = *fields::Parse("metadata.name=b"),
                 .resource_version_match = M::kNotOlderThan, .send_initial_events = true,
                 .allow_watch_bookmarks = true});
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED b@3", "BOOKMARK @4"));
}

// ---- bookmarks ----

TEST_F(WatchTest, PeriodicBookmarks) {
  Create("default", "a");  // 2
  std::unique_ptr<Watcher> w =
      MustWatch({.resource_version = "2", .allow_watch_bookmarks = true});
  std::unique_ptr<Watcher> plain = MustWatch({.resource_version = "2"});
  EXPECT_THAT(Drain(w.get()), IsEmpty()) << "not yet due";
  clock_.Advance(absl::Seconds(59));
  EXPECT_THAT(Drain(w.get()), IsEmpty());
  clock_.Advance(absl::Seconds(1));
  // Writes to another resource move the RV a bookmark reports.
  ASSERT_TRUE(store_->Create(kConfigMaps, MakeConfigMap("default", "c")).ok());  // 3
  std::vector<WatchEvent> events = DrainEvents(w.get());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kBookmark);
  EXPECT_EQ(events[0].resource_version, 3u);
  const auto& bm = AsPod(events[0].object);
  EXPECT_EQ(bm.metadata().resourceversion(), "3");
  EXPECT_EQ(bm.metadata().annotations_size(), 0);
  EXPECT_EQ(bm.ByteSizeLong(), 5u) << "only metadata.resourceVersion";
  // Next one a full interval later.
  clock_.Advance(absl::Seconds(30));
  EXPECT_THAT(Drain(w.get()), IsEmpty());
  clock_.Advance(absl::Seconds(30));
  EXPECT_THAT(Drain(w.get()), ElementsAre("BOOKMARK @3"));
  // Watches without allowWatchBookmarks never get one.
  EXPECT_THAT(Drain(plain.get()), IsEmpty());
  plain->RequestBookmark();
  EXPECT_THAT(Drain(plain.get()), IsEmpty());
}

TEST_F(WatchTest, RequestedBookmarkComesAfterPendingEvents) {
  std::unique_ptr<Watcher> w = MustWatch({.resource_version = "1", .allow_watch_bookmarks = true});
  Create("default", "a");  // 2
  Create("default", "b");  // 3
  w->RequestBookmark();
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED a@2", "ADDED b@3", "BOOKMARK @3"));
  // A waiting consumer is woken by the request.
  std::thread t([&] {
    absl::SleepFor(absl::Milliseconds(30));
    w->RequestBookmark();
  });
  std::optional<WatchEvent> e = w->Next(absl::Seconds(30));
  t.join();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(Describe(*e), "BOOKMARK @3");
}

TEST_F(WatchTest, BookmarkNeverGoesBackwards) {
  Create("default", "a");  // 2
  // Watching from a future RV: no bookmark below it.
  std::unique_ptr<Watcher> w = MustWatch({.resource_version = "10", .allow_watch_bookmarks = true});
  w->RequestBookmark();
  EXPECT_THAT(Drain(w.get()), IsEmpty());
}

// ---- lifecycle ----

TEST_F(WatchTest, StopFromAnotherThread) {
  std::unique_ptr<Watcher> w = MustWatch({});
  EXPECT_EQ(store_->WatcherCount(kPods), 1u);
  std::thread t([&] {
    absl::SleepFor(absl::Milliseconds(30));
    w->Stop();
  });
  EXPECT_FALSE(w->Next().has_value()) << "a blocked Next returns";
  t.join();
  EXPECT_TRUE(w->Done());
  EXPECT_TRUE(w->status().ok());
  EXPECT_EQ(store_->WatcherCount(kPods), 0u);
  w->Stop();  // idempotent
  Create("default", "a");  // the store forgets it
  std::vector<WatchEvent> none;
  EXPECT_FALSE(w->NextBatch(&none, kShort));
  EXPECT_TRUE(none.empty());
}

TEST_F(WatchTest, SlowWatcherIsTerminatedWithoutBlockingWriters) {
  std::unique_ptr<Watcher> slow = MustWatch({.resource_version = "1", .watch_queue_capacity = 3});
  std::unique_ptr<Watcher> fast = MustWatch({.resource_version = "1", .watch_queue_capacity = 100});
  for (int i = 0; i < 10; ++i) Create("default", absl::StrCat("p", i));  // never blocks
  EXPECT_EQ(store_->WatcherCount(kPods), 1u);
  // The slow watcher still delivers what it had queued, then ends.
  EXPECT_THAT(Drain(slow.get()), ElementsAre("ADDED p0@2", "ADDED p1@3", "ADDED p2@4"));
  EXPECT_TRUE(slow->Done());
  EXPECT_EQ(slow->status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Drain(fast.get()).size(), 10u);
  // The client resumes from the last RV it saw and loses nothing.
  std::unique_ptr<Watcher> resumed = MustWatch({.resource_version = "4"});
  EXPECT_EQ(Drain(resumed.get()).size(), 7u);
}

TEST_F(WatchTest, InitialEventsAreNotBoundedByTheQueue) {
  for (int i = 0; i < 20; ++i) Create("default", absl::StrCat("p", i));
  std::unique_ptr<Watcher> w = MustWatch({.watch_queue_capacity = 2});
  EXPECT_EQ(Drain(w.get()).size(), 20u);
  EXPECT_FALSE(w->Done());
}

TEST_F(WatchTest, StoreShutdownEndsWatches) {
  std::unique_ptr<Watcher> w = MustWatch({.resource_version = "1", .allow_watch_bookmarks = true});
  Create("default", "a");
  store_.reset();
  EXPECT_THAT(Drain(w.get()), ElementsAre("ADDED a@2"));
  EXPECT_TRUE(w->Done());
  EXPECT_EQ(w->status().code(), absl::StatusCode::kCancelled);
}

TEST_F(WatchTest, LingerBatchesEvents) {
  std::unique_ptr<Watcher> w = MustWatch({.resource_version = "1"});
  std::thread writer([&] {
    for (int i = 0; i < 5; ++i) Create("default", absl::StrCat("p", i));
  });
  std::vector<WatchEvent> batch;
  // The first event starts a 300 ms window; the writer finishes well within it.
  ASSERT_TRUE(w->NextBatch(&batch, absl::Seconds(30), 1000, absl::Milliseconds(300)));
  writer.join();
  EXPECT_EQ(batch.size(), 5u);
  // A full batch ends the wait early; Stop ends it too.
  Create("default", "q0");
  Create("default", "q1");
  batch.clear();
  const absl::Time start = absl::Now();
  ASSERT_TRUE(w->NextBatch(&batch, absl::Seconds(30), 2, absl::Seconds(10)));
  EXPECT_EQ(batch.size(), 2u);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  Create("default", "r0");
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(30));
    w->Stop();
  });
  batch.clear();
  EXPECT_FALSE(w->NextBatch(&batch, absl::Seconds(30), 100, absl::Seconds(20)));
  stopper.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(WatchTest, OnReadySignalsAfterTheQueueWasDrained) {
  Create("default", "a");
  std::unique_ptr<Watcher> w =
      MustWatch({.resource_version = "", .allow_watch_bookmarks = true});
  std::atomic<int> calls{0};
  w->OnReady([&calls] { calls++; });
  EXPECT_EQ(calls.load(), 1) << "the initial ADDED is already waiting";
  Create("default", "b");
  EXPECT_EQ(calls.load(), 1) << "not drained yet: no new signal";
  std::vector<WatchEvent> batch;
  ASSERT_TRUE(w->NextBatch(&batch, absl::ZeroDuration()));
  EXPECT_EQ(batch.size(), 2u);
  Create("default", "c");
  Create("default", "d");
  EXPECT_EQ(calls.load(), 2);
  batch.clear();
  ASSERT_TRUE(w->NextBatch(&batch, absl::ZeroDuration(), 1));
  Create("default", "e");
  EXPECT_EQ(calls.load(), 2) << "one event still queued";
  batch.clear();
  ASSERT_TRUE(w->NextBatch(&batch, absl::ZeroDuration()));
  EXPECT_EQ(batch.size(), 2u);
  w->RequestBookmark();
  EXPECT_EQ(calls.load(), 3);
  batch.clear();
  ASSERT_TRUE(w->NextBatch(&batch, absl::ZeroDuration()));
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].type, EventType::kBookmark);
  // The end of the stream is signalled too.
  store_.reset();
  EXPECT_EQ(calls.load(), 4);
  batch.clear();
  EXPECT_FALSE(w->NextBatch(&batch, absl::ZeroDuration()));
  w->OnReady(nullptr);
}

TEST_F(WatchTest, NextBatchLimitsAndTimesOut) {
  for (int i = 0; i < 5; ++i) Create("default", absl::StrCat("p", i));
  std::unique_ptr<Watcher> w = MustWatch({});
  std::vector<WatchEvent> batch;
  ASSERT_TRUE(w->NextBatch(&batch, kShort, 2));
  EXPECT_EQ(batch.size(), 2u);
  ASSERT_TRUE(w->NextBatch(&batch, kShort));
  EXPECT_EQ(batch.size(), 5u);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(w->NextBatch(&batch, absl::Milliseconds(50)));
  EXPECT_EQ(batch.size(), 5u) << "timed out with nothing";
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(45));
  EXPECT_FALSE(w->Next(absl::ZeroDuration()).has_value());
  EXPECT_FALSE(w->Done());
}

}  // namespace
}  // namespace kslice::envtest::storage
