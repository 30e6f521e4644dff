// DeltaFIFO semantics, after client-go's tools/cache/delta_fifo_test.go (rewritten; the
// expected delta lists are upstream's, with EmitDeltaTypeReplaced = true, so upstream's
// Sync-from-Replace deltas read Replaced here).
#include "informers/cache/delta_fifo.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::informers {
namespace {

using kslice::api::core::v1::Pod;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// A cluster-scoped-looking pod: key = name, "value" in resourceVersion (mkFifoObj).
ObjectPtr Obj(const std::string& name, int value) {
  auto pod = std::make_shared<Pod>();
  pod->mutable_metadata()->set_name(name);
  pod->mutable_metadata()->set_resourceversion(absl::StrCat(value));
  return pod;
}

// "Added foo=10"; a tombstone reads "Deleted? foo=10" ("Deleted? foo=-" without object).
std::string Describe(const Delta& d) {
  std::string s(DeltaTypeName(d.type));
  if (d.final_state_unknown) s += "?";
  absl::StrAppend(&s, " ", d.key, "=",
                  d.object ? MetaOf(*d.object).resourceversion() : std::string("-"));
  return s;
}

std::vector<std::string> Describe(const std::vector<Delta>& deltas) {
  std::vector<std::string> out;
  for (const Delta& d : deltas) out.push_back(Describe(d));
  return out;
}

struct Popped {
  std::vector<std::string> deltas;
  bool initial = false;
};

Popped PopOne(DeltaFifo& f) {
  Popped p;
  absl::Status s = f.Pop([&](std::vector<Delta> deltas, bool initial) {
    p.deltas = Describe(deltas);
    p.initial = initial;
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return p;
}

std::vector<std::vector<std::string>> PopAll(DeltaFifo& f) {
  std::vector<std::vector<std::string>> out;
  while (f.size() > 0) out.push_back(PopOne(f).deltas);
  return out;
}

// A known-objects store holding `objs` (what the consumer has processed already).
std::unique_ptr<Indexer> Known(std::vector<ObjectPtr> objs) {
  auto store = std::make_unique<Indexer>(Indexers{}, CacheMode::kDecoded);
  for (ObjectPtr& o : objs) store->Add(std::move(o));
  return store;
}

TEST(DeltaFifoTest, AddUpdateDeleteAccumulate) {
  DeltaFifo f(nullptr);
  f.Add(Obj("foo", 10));
  f.Update(Obj("foo", 12));
  f.Delete(Obj("foo", 15));
  EXPECT_THAT(f.ListKeys(), ElementsAre("foo"));
  EXPECT_THAT(PopOne(f).deltas, ElementsAre("Added foo=10", "Updated foo=12", "Deleted foo=15"));
  EXPECT_EQ(f.GetByKey("foo"), std::nullopt);
  EXPECT_EQ(f.size(), 0u);
}

TEST(DeltaFifoTest, PopOrderIsFirstQueuedNoLineJumping) {
  DeltaFifo f(nullptr);
  f.Add(Obj("foo", 10));
  f.Add(Obj("bar", 1));
  f.Add(Obj("foo", 11));
  f.Add(Obj("foo", 13));
  f.Add(Obj("zab", 30));
  EXPECT_THAT(PopOne(f).deltas, ElementsAre("Added foo=10", "Added foo=11", "Added foo=13"));
  f.Add(Obj("foo", 14));  // foo goes to the back, not back to its old place
  EXPECT_THAT(PopOne(f).deltas, ElementsAre("Added bar=1"));
  EXPECT_THAT(PopOne(f).deltas, ElementsAre("Added zab=30"));
  EXPECT_THAT(PopOne(f).deltas, ElementsAre("Added foo=14"));
}

TEST(DeltaFifoTest, ConsecutiveDeletesAreDeduped) {
  struct Case {
    std::string name;
    std::function<void(DeltaFifo&)> ops;
    std::vector<std::string> want;
  };
  std::vector<Case> cases = {
      {"two deletes keep the older",
       [](DeltaFifo& f) {
         f.Add(Obj("foo", 1));
         f.Delete(Obj("foo", 2));
         f.Delete(Obj("foo", 3));
       },
       {"Added foo=1", "Deleted foo=2"}},
      {"a tombstone after a delete is dropped",
       [](DeltaFifo& f) {
         f.Add(Obj("foo", 1));
         f.Delete(Obj("foo", 2));
         f.Replace({});
       },
       {"Added foo=1", "Deleted foo=2"}},
      {"a delete after a tombstone replaces it",
       [](DeltaFifo& f) {
         f.Add(Obj("foo", 1));
         f.Replace({});
         f.Delete(Obj("foo", 4));
       },
       {"Added foo=1", "Deleted foo=4"}},
      {"deletes apart are kept",
       [](DeltaFifo& f) {
         f.Add(Obj("foo", 1));
         f.Delete(Obj("foo", 2));
         f.Add(Obj("foo", 3));
         f.Delete(Obj("foo", 4));
       },
       {"Added foo=1", "Deleted foo=2", "Added foo=3", "Deleted foo=4"}},
  };
  for (const Case& c : cases) {
    DeltaFifo f(nullptr);
    c.ops(f);
    EXPECT_THAT(PopOne(f).deltas, ::testing::ElementsAreArray(c.want)) << c.name;
  }
}

TEST(DeltaFifoTest, DeleteOfUnknownObjectIsIgnored) {
  // Without known objects: only queued keys can be deleted.
  DeltaFifo no_lister(nullptr);
  no_lister.Delete(Obj("foo", 1));
  EXPECT_EQ(no_lister.size(), 0u);
  EXPECT_TRUE(no_lister.HasSynced());  // Delete still marks the queue populated

  // With known objects: a known key is deleted even with nothing queued.
  auto known = Known({Obj("foo", 5)});
  DeltaFifo f(known.get());
  f.Delete(Obj("bar", 1));
  EXPECT_EQ(f.size(), 0u);
  f.Delete(Obj("foo", 6));
  EXPECT_THAT(PopAll(f), ElementsAre(ElementsAre("Deleted foo=6")));
}

// Upstream TestDeltaFIFOW_ReplaceMakesDeletionsForObjectsOnlyInQueue: each case with and
// without known objects, one item with exactly these deltas, nothing left over.
TEST(DeltaFifoTest, ReplaceMakesDeletionsForObjectsOnlyInQueue) {
  struct Case {
    std::string name;
    std::function<void(DeltaFifo&)> ops;
    std::vector<std::string> want;
  };
  std::vector<Case> cases = {
      {"added object is deleted by Replace",
       [](DeltaFifo& f) {
         f.Add(Obj("foo", 2));
         f.Replace({});
       },
       {"Added foo=2", "Deleted? foo=2"}},
      {"replaced object gets a single delete",
       [](DeltaFifo& f) {
         f.Add(Obj("foo", 2));
         f.Replace({Obj("foo", 2)});
         f.Replace({});
       },
       {"Added foo=2", "Replaced foo=2", "Deleted? foo=2"}},
      {"deleted object gets no second delete",
       [](DeltaFifo& f) {
         f.Add(Obj("foo", 2));
         f.Delete(Obj("foo", 2));
         f.Replace({});
       },
       {"Added foo=2", "Deleted foo=2"}},
      {"several Replaces delete once",
       [](DeltaFifo& f) {
         f.Add(Obj("foo", 2));
         f.Replace({});
         f.Replace({});
       },
       {"Added foo=2", "Deleted? foo=2"}},
      {"added, deleted, re-added: the tombstone has the newest state",
       [](DeltaFifo& f) {
         f.Add(Obj("foo", 2));
         f.Delete(Obj("foo", 2));
         f.Add(Obj("foo", 3));
         f.Replace({});
       },
       {"Added foo=2", "Deleted foo=2", "Added foo=3", "Deleted? foo=3"}},
  };
  for (const Case& c : cases) {
    auto known = Known({});
    for (const Indexer* k : {static_cast<const Indexer*>(known.get()),
                             static_cast<const Indexer*>(nullptr)}) {
      DeltaFifo f(k);
      c.ops(f);
      EXPECT_THAT(PopOne(f).deltas, ::testing::ElementsAreArray(c.want))
          << c.name << (k ? " (known objects)" : " (no known objects)");
      EXPECT_EQ(f.size(), 0u) << c.name;
    }
  }
}

TEST(DeltaFifoTest, ReplaceWithDeleteDeltaIn) {
  auto known = Known({Obj("foo", 1)});
  DeltaFifo f(known.get());
  f.Delete(Obj("foo", 1));
  f.Replace({Obj("foo", 2)});
  EXPECT_THAT(PopAll(f), ElementsAre(ElementsAre("Deleted foo=1", "Replaced foo=2")));
}

// Upstream TestDeltaFIFO_ReplaceMakesDeletions: known keys missing from the list get a
// tombstone with the known state; queued keys with the newest queued state.
TEST(DeltaFifoTest, ReplaceMakesDeletions) {
  auto known_fn = [] { return Known({Obj("foo", 5), Obj("bar", 6), Obj("baz", 7)}); };
  {
    auto known = known_fn();
    DeltaFifo f(known.get());
    f.Delete(Obj("baz", 10));
    f.Replace({Obj("foo", 5)});
    EXPECT_THAT(PopAll(f), ElementsAre(ElementsAre("Deleted baz=10"), ElementsAre("Replaced foo=5"),
                                       ElementsAre("Deleted? bar=6")));
  }
  {
    auto known = known_fn();
    DeltaFifo f(known.get());
    f.Add(Obj("baz", 10));
    f.Replace({Obj("foo", 5)});
    EXPECT_THAT(PopAll(f),
                ElementsAre(ElementsAre("Added baz=10", "Deleted? baz=10"),
                            ElementsAre("Replaced foo=5"), ElementsAre("Deleted? bar=6")));
  }
  {
    auto known = known_fn();
    DeltaFifo f(known.get());
    f.Delete(Obj("bar", 6));
    f.Add(Obj("bar", 100));
    f.Replace({Obj("foo", 5)});
    EXPECT_THAT(PopAll(f),
                ElementsAre(ElementsAre("Deleted bar=6", "Added bar=100", "Deleted? bar=100"),
                            ElementsAre("Replaced foo=5"), ElementsAre("Deleted? baz=7")));
  }
  {
    auto known = known_fn();
    DeltaFifo f(known.get());
    f.Replace({Obj("bar", 100), Obj("foo", 5)});
    f.Replace({Obj("foo", 5)});
    EXPECT_THAT(PopAll(f), ElementsAre(ElementsAre("Replaced bar=100", "Deleted? bar=100"),
                                       ElementsAre("Replaced foo=5", "Replaced foo=5"),
                                       ElementsAre("Deleted? baz=7")));
  }
  {
    DeltaFifo f(nullptr);  // no known objects: only queued keys are detected
    f.Add(Obj("baz", 10));
    f.Replace({Obj("foo", 5)});
    EXPECT_THAT(PopAll(f), ElementsAre(ElementsAre("Added baz=10", "Deleted? baz=10"),
                                       ElementsAre("Replaced foo=5")));
  }
}

TEST(DeltaFifoTest, ReplaceTombstoneForVanishedKnownObjectHasNoObject) {
  // Several known keys missing from the list: one tombstone each (upstream's order is
  // random; compare as a set).
  auto known = Known({Obj("a", 1), Obj("b", 2), Obj("c", 3)});
  DeltaFifo f(known.get());
  f.Replace({});
  std::vector<std::string> got;
  for (const auto& item : PopAll(f)) got.insert(got.end(), item.begin(), item.end());
  EXPECT_THAT(got, UnorderedElementsAre("Deleted? a=1", "Deleted? b=2", "Deleted? c=3"));
}

TEST(DeltaFifoTest, ResyncQueuesKnownObjectsWithoutPendingDeltas) {
  auto known = Known({Obj("foo", 5), Obj("bar", 6)});
  DeltaFifo f(known.get());
  f.Update(Obj("foo", 6));  // pending: no Sync for foo (it would carry the older state)
  f.Resync();
  EXPECT_THAT(PopAll(f), ElementsAre(ElementsAre("Updated foo=6"), ElementsAre("Sync bar=6")));

  // Nothing known: Resync queues nothing; no known-objects store: no-op.
  auto empty = Known({});
  DeltaFifo g(empty.get());
  g.Resync();
  EXPECT_EQ(g.size(), 0u);
  DeltaFifo h(nullptr);
  h.Add(Obj("x", 1));
  h.Resync();
  EXPECT_THAT(PopAll(h), ElementsAre(ElementsAre("Added x=1")));
}

TEST(DeltaFifoTest, HasSyncedTable) {
  struct Case {
    std::string name;
    std::function<void(DeltaFifo&)> ops;
    int pops;
    bool want;
  };
  std::vector<Case> cases = {
      {"nothing", [](DeltaFifo&) {}, 0, false},
      {"an Add before any Replace", [](DeltaFifo& f) { f.Add(Obj("a", 1)); }, 0, true},
      {"an empty Replace", [](DeltaFifo& f) { f.Replace({}); }, 0, true},
      {"Replace of two, nothing popped",
       [](DeltaFifo& f) { f.Replace({Obj("a", 1), Obj("b", 2)}); }, 0, false},
      {"Replace of two, one popped",
       [](DeltaFifo& f) { f.Replace({Obj("a", 1), Obj("b", 2)}); }, 1, false},
      {"Replace of two, both popped",
       [](DeltaFifo& f) { f.Replace({Obj("a", 1), Obj("b", 2)}); }, 2, true},
      {"Replace then Add: only the Replace items count",
       [](DeltaFifo& f) {
         f.Replace({Obj("a", 1)});
         f.Add(Obj("b", 2));
       },
       1, true},
      {"a second Replace does not count",
       [](DeltaFifo& f) {
         f.Replace({Obj("a", 1)});
         f.Replace({Obj("a", 1), Obj("b", 2)});
       },
       1, true},
  };
  for (const Case& c : cases) {
    DeltaFifo f(nullptr);
    c.ops(f);
    for (int i = 0; i < c.pops; ++i) PopOne(f);
    EXPECT_EQ(f.HasSynced(), c.want) << c.name;
  }
}

TEST(DeltaFifoTest, HasSyncedCountsTombstonesAndReportsInitialList) {
  auto known = Known({Obj("foo", 5), Obj("bar", 6), Obj("baz", 7)});
  DeltaFifo f(known.get());
  f.Replace({Obj("foo", 5)});
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(f.HasSynced()) << i;
    Popped p = PopOne(f);
    EXPECT_TRUE(p.initial) << i;
    got.insert(got.end(), p.deltas.begin(), p.deltas.end());
  }
  EXPECT_TRUE(f.HasSynced());
  EXPECT_THAT(got, UnorderedElementsAre("Replaced foo=5", "Deleted? bar=6", "Deleted? baz=7"));
  f.Add(Obj("late", 1));
  EXPECT_FALSE(PopOne(f).initial);
}

TEST(DeltaFifoTest, HasSyncedWaitsForProcessingNotJustPopping) {
  DeltaFifo f(nullptr);
  f.Replace({Obj("a", 1)});
  bool synced_inside = true;
  ASSERT_TRUE(f.Pop([&](std::vector<Delta>, bool initial) {
                 EXPECT_TRUE(initial);
                 synced_inside = f.HasSynced();
                 return absl::OkStatus();
               }).ok());
  EXPECT_FALSE(synced_inside);
  EXPECT_TRUE(f.HasSynced());
}

TEST(DeltaFifoTest, PopReturnsProcessStatus) {
  DeltaFifo f(nullptr);
  f.Add(Obj("a", 1));
  absl::Status s = f.Pop([](std::vector<Delta>, bool) { return absl::InternalError("boom"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(f.size(), 0u);  // the item is gone either way (no requeue), as upstream
}

TEST(DeltaFifoTest, ReAddDuringProcessingQueuesAgain) {
  DeltaFifo f(nullptr);
  f.Add(Obj("foo", 1));
  ASSERT_TRUE(f.Pop([&](std::vector<Delta> deltas, bool) {
                 EXPECT_THAT(Describe(deltas), ElementsAre("Added foo=1"));
                 // Process runs outside the queue's lock: a producer can add meanwhile.
                 f.Update(Obj("foo", 2));
                 EXPECT_THAT(f.ListKeys(), ElementsAre("foo"));
                 return absl::OkStatus();
               }).ok());
  EXPECT_THAT(PopAll(f), ElementsAre(ElementsAre("Updated foo=2")));
}

// Process runs outside the queue's lock, but a Replace must still see the store as it is
// after the popped item was processed: otherwise an object added by the in-flight item and
// missing from the relist would never get its tombstone (stays in the cache forever).
TEST(DeltaFifoTest, ReplaceWaitsForTheItemBeingProcessed) {
  auto known = Known({});
  DeltaFifo f(known.get());
  f.Add(Obj("x", 1));
  std::atomic<bool> processing{false}, replace_called{false};
  std::thread consumer([&] {
    ASSERT_TRUE(f.Pop([&](std::vector<Delta> deltas, bool) {
                   processing = true;
                   while (!replace_called) std::this_thread::yield();
                   std::this_thread::sleep_for(std::chrono::milliseconds(50));
                   known->Add(deltas.back().object);  // as an informer's HandleDeltas
                   return absl::OkStatus();
                 }).ok());
  });
  while (!processing) std::this_thread::yield();
  std::thread relister([&] {
    replace_called = true;
    f.Replace({});  // x was deleted while we were not watching
  });
  consumer.join();
  relister.join();
  auto deltas = f.GetByKey("x");
  ASSERT_TRUE(deltas.has_value());
  EXPECT_THAT(Describe(*deltas), ElementsAre("Deleted? x=1"));
}

TEST(DeltaFifoTest, CloseUnblocksPopAfterDraining) {
  DeltaFifo f(nullptr);
  f.Add(Obj("a", 1));
  f.Close();
  EXPECT_TRUE(f.IsClosed());
  EXPECT_THAT(PopOne(f).deltas, ElementsAre("Added a=1"));  // queued items still pop
  absl::Status s = f.Pop([](std::vector<Delta>, bool) {
    ADD_FAILURE() << "nothing to process";
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
}

TEST(DeltaFifoTest, CloseWakesBlockedPop) {
  DeltaFifo f(nullptr);
  std::atomic<int> cancelled{0};
  std::vector<std::thread> poppers;
  for (int i = 0; i < 3; ++i) {
    poppers.emplace_back([&] {
      absl::Status s = f.Pop([](std::vector<Delta>, bool) { return absl::OkStatus(); });
      if (absl::IsCancelled(s)) ++cancelled;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  f.Close();
  for (auto& t : poppers) t.join();
  EXPECT_EQ(cancelled.load(), 3);
}

TEST(DeltaFifoTest, TransformAppliesToIncomingObjectsNotTombstonesOrSyncs) {
  std::atomic<int> calls{0};
  auto known = Known({Obj("k", 1)});
  DeltaFifo f(known.get(), [&](ObjectPtr obj) -> ObjectPtr {
    ++calls;
    const std::string& name = MetaOf(*obj).name();
    if (name == "drop") return nullptr;
    auto copy = std::make_shared<Pod>(static_cast<const Pod&>(*obj));
    copy->mutable_metadata()->set_resourceversion(
        absl::StrCat("t", MetaOf(*obj).resourceversion()));
    return copy;
  });
  f.Add(Obj("a", 1));
  f.Add(Obj("drop", 1));
  f.Update(Obj("a", 2));
  EXPECT_EQ(calls.load(), 3);
  f.Resync();  // Sync k: no transform
  EXPECT_EQ(calls.load(), 3);
  f.Replace({Obj("b", 3)});  // one transform; tombstones for a and k need none
  EXPECT_EQ(calls.load(), 4);
  EXPECT_THAT(PopAll(f), ElementsAre(ElementsAre("Added a=t1", "Updated a=t2", "Deleted? a=t2"),
                                     ElementsAre("Sync k=1", "Deleted? k=1"),
                                     ElementsAre("Replaced b=t3")));
}

TEST(DeltaFifoTest, NullObjectsAreIgnored) {
  DeltaFifo f(nullptr);
  f.Add(nullptr);
  f.Update(nullptr);
  f.Delete(nullptr);
  f.Replace({nullptr});
  EXPECT_EQ(f.size(), 0u);
  EXPECT_TRUE(f.HasSynced());  // the (empty) Replace populated it
}

TEST(DeltaFifoTest, CompactKnownObjects) {
  Indexer known(Indexers{}, CacheMode::kCompact);
  known.Add(Obj("foo", 5));
  known.Add(Obj("bar", 6));
  DeltaFifo f(&known);
  f.Replace({Obj("foo", 7)});
  std::vector<std::string> got;
  for (const auto& item : PopAll(f)) got.insert(got.end(), item.begin(), item.end());
  EXPECT_THAT(got, UnorderedElementsAre("Replaced foo=7", "Deleted? bar=6"));
}

}  // namespace
}  // namespace kslice::informers
