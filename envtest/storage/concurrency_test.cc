// Concurrency: many watchers receiving every event of many writes in order, concurrent
// read-modify-write writers, readers and watch churn. Run under --config=tsan too.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "envtest/storage/store.h"
#include "envtest/storage/test_util.h"
#include "gtest/gtest.h"

namespace kslice::envtest::storage {
namespace {

using namespace ::kslice::envtest::storage::testing;  // NOLINT
namespace core = kslice::api::core::v1;

// 500 watchers, 2,000 writes (create, update, delete of pods): every watcher receives
// every event, in RV order, none lost, none duplicated. (The benchmark does 10,000.)
TEST(ConcurrencyTest, FiveHundredWatchersSeeEveryWrite) {
  constexpr int kWatchers = 500;
  constexpr int kWrites = 2000;
  StoreOptions o;
  o.random_seed = 1;
  // The burst is written as fast as one thread can; let every queue hold all of it so
  // the test checks delivery, not the slow-watcher policy (watch_test covers that).
  o.watch_queue_capacity = kWrites;
  std::unique_ptr<Store> store = *Store::Open(o);
  const uint64_t start = store->CurrentResourceVersion();

  std::vector<std::unique_ptr<Watcher>> watchers;
  for (int i = 0; i < kWatchers; ++i) {
    watchers.push_back(*store->Watch(kPods, {.resource_version = absl::StrCat(start)}));
  }
  ASSERT_EQ(store->WatcherCount(kPods), static_cast<size_t>(kWatchers));

  // The writer: a create, then alternately an update or a delete + create.
  std::vector<EventType> plan;
  std::thread writer([&] {
    int created = 0;
    for (int i = 0; i < kWrites; ++i) {
      if (i % 3 == 0) {
        ASSERT_TRUE(store->Create(kPods, MakePod("default", absl::StrCat("p", created++))).ok());
        plan.push_back(EventType::kAdded);
      } else if (i % 3 == 1) {
        core::Pod p = AsPod(*store->Get(kPods, "default", absl::StrCat("p", created - 1)));
        (*p.mutable_metadata()->mutable_labels())["i"] = absl::StrCat(i);
        ASSERT_TRUE(store->Update(kPods, p).ok());
        plan.push_back(EventType::kModified);
      } else {
        ASSERT_TRUE(store->Delete(kPods, "default", absl::StrCat("p", created - 1)).ok());
        plan.push_back(EventType::kDeleted);
      }
    }
  });

  std::vector<std::vector<EventType>> seen(kWatchers);
  std::vector<std::string> errors(kWatchers);
  std::vector<std::thread> consumers;
  for (int i = 0; i < kWatchers; ++i) {
    consumers.emplace_back([&, i] {
      std::vector<WatchEvent> batch;
      uint64_t next = start + 1;
      seen[i].reserve(kWrites);
      while (static_cast<int>(seen[i].size()) < kWrites) {
        batch.clear();
        if (!watchers[i]->NextBatch(&batch, absl::Seconds(60))) {
          errors[i] = absl::StrCat("stream ended: ", watchers[i]->status().ToString());
          return;
        }
        if (batch.empty()) {
          errors[i] = "timed out";
          return;
        }
        for (const WatchEvent& e : batch) {
          if (e.resource_version != next) {
            errors[i] = absl::StrCat("got RV ", e.resource_version, ", want ", next);
            return;
          }
          uint64_t obj_rv = 0;
          if (!absl::SimpleAtoi(RvOf(e.object), &obj_rv) || obj_rv != next) {
            errors[i] = absl::StrCat("object RV ", RvOf(e.object), ", want ", next);
            return;
          }
          ++next;
          seen[i].push_back(e.type);
        }
      }
    });
  }
  writer.join();
  for (std::thread& t : consumers) t.join();
  ASSERT_EQ(plan.size(), static_cast<size_t>(kWrites));
  for (int i = 0; i < kWatchers; ++i) {
    ASSERT_EQ(errors[i], "") << "watcher " << i;
    ASSERT_EQ(seen[i], plan) << "watcher " << i;
  }
  for (auto& w : watchers) {
    std::vector<WatchEvent> extra;
    EXPECT_TRUE(w->NextBatch(&extra, absl::ZeroDuration()));
    EXPECT_TRUE(extra.empty());
  }
}

// The event-loop pattern: 500 watchers signal readiness (OnReady) and two worker
// threads drain whichever are ready. Every watcher still gets every event in order.
TEST(ConcurrencyTest, FiveHundredWatchersDrainedByAPool) {
  constexpr int kWatchers = 500;
  constexpr int kWrites = 2000;
  constexpr size_t kMaxBatch = 64;
  StoreOptions o;
  o.random_seed = 3;
  o.watch_queue_capacity = kWrites;
  std::unique_ptr<Store> store = *Store::Open(o);
  const uint64_t start = store->CurrentResourceVersion();

  struct Slot {
    std::unique_ptr<Watcher> watcher;
    std::mutex mu;  // one drainer at a time (an asio strand would do this)
    uint64_t next = 0;
    int received = 0;
    std::string error;
  };
  std::vector<Slot> slots(kWatchers);
  std::mutex ready_mu;
  std::condition_variable ready_cv;
  std::deque<int> ready;
  std::atomic<int> done{0};
  for (int i = 0; i < kWatchers; ++i) {
    slots[i].watcher = *store->Watch(kPods, {.resource_version = absl::StrCat(start)});
    slots[i].next = start + 1;
    slots[i].watcher->OnReady([&, i] {
      std::lock_guard<std::mutex> l(ready_mu);
      ready.push_back(i);
      ready_cv.notify_one();
    });
  }
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&] {
      std::vector<WatchEvent> batch;
      for (;;) {
        int i;
        {
          std::unique_lock<std::mutex> l(ready_mu);
          ready_cv.wait(l, [&] { return !ready.empty() || done.load() == kWatchers; });
          if (ready.empty()) return;
          i = ready.front();
          ready.pop_front();
        }
        Slot& s = slots[i];
        std::lock_guard<std::mutex> l(s.mu);
        for (;;) {
          batch.clear();
          s.watcher->NextBatch(&batch, absl::ZeroDuration(), kMaxBatch);
          for (const WatchEvent& e : batch) {
            if (e.resource_version != s.next && s.error.empty()) {
              s.error = absl::StrCat("got RV ", e.resource_version, ", want ", s.next);
            }
            ++s.next;
            if (++s.received == kWrites) {
              if (done.fetch_add(1) + 1 == kWatchers) {
                std::lock_guard<std::mutex> rl(ready_mu);
                ready_cv.notify_all();
              }
            }
          }
          if (batch.size() < kMaxBatch) break;
        }
      }
    });
  }
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_TRUE(store->Create(kPods, MakePod("default", absl::StrCat("p", i))).ok());
  }
  for (std::thread& t : workers) t.join();
  for (int i = 0; i < kWatchers; ++i) {
    std::lock_guard<std::mutex> l(slots[i].mu);
    EXPECT_EQ(slots[i].error, "") << i;
    EXPECT_EQ(slots[i].received, kWrites) << i;
  }
}

// Writers doing read-modify-write on one counter, writers creating, readers listing
// and getting, watchers coming and going: no lost update, every watcher sees RVs in
// order, every list is a consistent snapshot.
TEST(ConcurrencyTest, MixedReadersWritersAndWatchChurn) {
  constexpr int kIncrementers = 4;
  constexpr int kIncrements = 150;
  StoreOptions o;
  o.random_seed = 2;
  o.history_size = 200;  // small, so compaction runs while everything else does
  o.watch_queue_capacity = 100000;
  std::unique_ptr<Store> store = *Store::Open(o);
  ASSERT_TRUE(store->Create(kConfigMaps, MakeConfigMap("default", "counter", "0")).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;

  // A long-lived watcher of the counter (from its creation on), stopped from another
  // thread at the end.
  std::unique_ptr<Watcher> counter_watch = *store->Watch(
      kConfigMaps, {.field_selector = *fields::Parse("metadata.name=counter")});
  std::vector<int> values;  // written by counter_reader only, read after it joined
  std::atomic<int> last_value{-1};
  std::thread counter_reader([&] {
    std::vector<WatchEvent> batch;
    while (counter_watch->NextBatch(&batch)) {
      for (const WatchEvent& e : batch) {
        const auto& cm = static_cast<const core::ConfigMap&>(*e.object);
        int v = 0;
        if (!absl::SimpleAtoi(cm.data().at("k"), &v)) failures++;
        values.push_back(v);
        last_value.store(v);
      }
      batch.clear();
    }
  });

  auto increment = [&store](const google::protobuf::Message* current)
      -> absl::StatusOr<std::unique_ptr<google::protobuf::Message>> {
    std::unique_ptr<google::protobuf::Message> next = CopyObject(*current);
    auto* cm = static_cast<core::ConfigMap*>(next.get());
    int v = 0;
    if (!absl::SimpleAtoi(cm->data().at("k"), &v)) return absl::InternalError("bad counter");
    (*cm->mutable_data())["k"] = absl::StrCat(v + 1);
    (void)store;
    return next;
  };
  for (int t = 0; t < kIncrementers; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        if (!store->GuaranteedUpdate(kConfigMaps, "default", "counter", increment).ok()) {
          failures++;
        }
      }
    });
  }
  threads.emplace_back([&] {  // creates and deletes pods
    for (int i = 0; i < 300; ++i) {
      if (!store->Create(kPods, MakePod("ns", absl::StrCat("p", i), {{"i", absl::StrCat(i % 2)}})).ok()) {
        failures++;
      }
      if (i % 4 == 3 && !store->Delete(kPods, "ns", absl::StrCat("p", i - 1)).ok()) failures++;
    }
  });
  threads.emplace_back([&] {  // readers: pages of a snapshot must not change under them
    while (!stop.load()) {
      absl::StatusOr<ListResult> first = store->List(kPods, {.limit = 10});
      if (!first.ok()) {
        failures++;
        continue;
      }
      std::string token = first->continue_token;
      uint64_t rv = first->resource_version;
      while (!token.empty()) {
        absl::StatusOr<ListResult> page = store->List(kPods, {.limit = 10, .continue_token = token});
        if (!page.ok()) {
          // Only an expired snapshot is acceptable (the history is small).
          if (page.status().code() != absl::StatusCode::kOutOfRange) failures++;
          break;
        }
        if (page->resource_version != rv) failures++;
        token = page->continue_token;
      }
      (void)store->Get(kConfigMaps, "default", "counter");
    }
  });
  threads.emplace_back([&] {  // watch churn: start, read a little, stop from here
    while (!stop.load()) {
      absl::StatusOr<std::unique_ptr<Watcher>> w =
          store->Watch(kPods, {.label_selector = *labels::Parse("i=1"),
                               .allow_watch_bookmarks = true});
      if (!w.ok()) {
        failures++;
        continue;
      }
      std::vector<WatchEvent> batch;
      (*w)->NextBatch(&batch, absl::Milliseconds(1));
      (*w)->RequestBookmark();
      (*w)->NextBatch(&batch, absl::Milliseconds(1));
      uint64_t last = 0;
      for (const WatchEvent& e : batch) {
        if (e.type != EventType::kBookmark && e.type != EventType::kAdded && e.resource_version < last) {
          failures++;
        }
        last = std::max(last, e.resource_version);
      }
    }
  });
  for (int t = 0; t < kIncrementers + 1; ++t) threads[t].join();
  stop.store(true);
  for (size_t t = kIncrementers + 1; t < threads.size(); ++t) threads[t].join();
  // Wait until the counter watcher has seen the final value, then stop it from here.
  for (int i = 0; i < 6000 && last_value.load() != kIncrementers * kIncrements; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  counter_watch->Stop();
  counter_reader.join();

  EXPECT_EQ(failures.load(), 0);
  const auto& counter =
      static_cast<const core::ConfigMap&>(**store->Get(kConfigMaps, "default", "counter"));
  EXPECT_EQ(counter.data().at("k"), absl::StrCat(kIncrementers * kIncrements)) << "lost update";
  ASSERT_EQ(values.size(), static_cast<size_t>(kIncrementers * kIncrements + 1));
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], static_cast<int>(i));
}

}  // namespace
}  // namespace kslice::envtest::storage
