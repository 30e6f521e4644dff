#include "controller/workqueue/queue.h"

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kslice::controller::workqueue {
namespace {

// Returns whether `done` becomes true within a short while. Used to check that a
// blocking call did NOT return (false) or did (true).
bool Eventually(const std::atomic<bool>& done, int ms = 2000) {
  for (int i = 0; i < ms; ++i) {
    if (done.load()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done.load();
}

TEST(QueueTest, FifoAndDeduplication) {
  // Table: a script of Adds and the order Get must hand items out in.
  struct Case {
    const char* name;
    std::vector<std::string> adds;
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"fifo", {"a", "b", "c"}, {"a", "b", "c"}},
      {"collapse", {"bar", "bar"}, {"bar"}},
      {"keeps first position", {"a", "b", "a", "c", "b"}, {"a", "b", "c"}},
  };
  for (const Case& c : cases) {
    Queue q;
    for (const auto& a : c.adds) q.Add(a);
    EXPECT_EQ(q.Len(), static_cast<int>(c.want.size())) << c.name;
    for (const auto& w : c.want) {
      GetResult r = q.Get();
      EXPECT_FALSE(r.shutdown) << c.name;
      EXPECT_EQ(r.item, w) << c.name;
      q.Done(r.item);
    }
    EXPECT_EQ(q.Len(), 0) << c.name;
  }
}

TEST(QueueTest, AddWhileProcessingIsHandedOutAgainAfterDone) {
  Queue q;
  q.Add("foo");
  GetResult r = q.Get();
  ASSERT_EQ(r.item, "foo");
  q.Add("foo");  // dirty while processing: not queued yet
  EXPECT_EQ(q.Len(), 0);
  q.Add("foo");  // still one
  EXPECT_EQ(q.Len(), 0);

  // A second worker must not get foo while the first one holds it.
  std::atomic<bool> got{false};
  std::string second;
  std::thread t([&] {
    GetResult r2 = q.Get();
    second = r2.item;
    got = true;
  });
  EXPECT_FALSE(Eventually(got, 50));
  q.Done("foo");
  EXPECT_TRUE(Eventually(got));
  t.join();
  EXPECT_EQ(second, "foo");
  q.Done("foo");
  EXPECT_EQ(q.Len(), 0);
}

TEST(QueueTest, DoneOfUnknownItemIsHarmless) {
  Queue q;
  q.Done("never-added");
  q.Add("a");
  EXPECT_EQ(q.Len(), 1);
}

TEST(QueueTest, ShutDownHandsOutRemainingItemsThenReportsShutdown) {
  Queue q;
  q.Add("a");
  q.Add("b");
  q.ShutDown();
  EXPECT_TRUE(q.ShuttingDown());
  q.Add("c");  // ignored
  EXPECT_EQ(q.Len(), 2);
  EXPECT_EQ(q.Get().item, "a");
  GetResult b = q.Get();
  EXPECT_EQ(b.item, "b");
  EXPECT_FALSE(b.shutdown);
  GetResult end = q.Get();
  EXPECT_TRUE(end.shutdown);
  EXPECT_EQ(end.item, "");
}

TEST(QueueTest, ShutDownWakesBlockedGetters) {
  Queue q;
  std::atomic<int> exited{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&] {
      if (q.Get().shutdown) ++exited;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(exited.load(), 0);
  q.ShutDown();
  for (auto& t : workers) t.join();
  EXPECT_EQ(exited.load(), 4);
}

TEST(QueueTest, ShutDownWithDrainWaitsForProcessingItems) {
  Queue q;
  q.Add("foo");
  q.Add("bar");
  ASSERT_EQ(q.Get().item, "foo");
  ASSERT_EQ(q.Get().item, "bar");
  std::atomic<bool> drained{false};
  std::thread t([&] {
    q.ShutDownWithDrain();
    drained = true;
  });
  EXPECT_FALSE(Eventually(drained, 50));
  EXPECT_TRUE(q.ShuttingDown());
  q.Add("baz");  // rejected during drain
  q.Done("foo");
  EXPECT_FALSE(Eventually(drained, 50));
  q.Done("bar");
  EXPECT_TRUE(Eventually(drained));
  t.join();
  EXPECT_EQ(q.Len(), 0);
  EXPECT_TRUE(q.Get().shutdown);
}

TEST(QueueTest, ShutDownWithDrainReturnsAtOnceWhenIdle) {
  Queue q;
  q.Add("queued-not-processing");
  q.ShutDownWithDrain();  // only processing items are waited for
  EXPECT_EQ(q.Get().item, "queued-not-processing");
}

TEST(QueueTest, ShutDownReleasesAPendingDrain) {
  Queue q;
  q.Add("stuck");
  ASSERT_EQ(q.Get().item, "stuck");
  std::atomic<bool> drained{false};
  std::thread t([&] {
    q.ShutDownWithDrain();
    drained = true;
  });
  EXPECT_FALSE(Eventually(drained, 50));
  q.ShutDown();  // force
  EXPECT_TRUE(Eventually(drained));
  t.join();
}

TEST(QueueTest, DrainWithDirtyItemRequeuesItAndReturns) {
  Queue q;
  q.Add("foo");
  ASSERT_EQ(q.Get().item, "foo");
  q.Add("foo");  // dirty while processing
  std::atomic<bool> drained{false};
  std::thread t([&] {
    q.ShutDownWithDrain();
    drained = true;
  });
  EXPECT_FALSE(Eventually(drained, 50));
  q.Done("foo");  // requeued; nothing processing any more
  EXPECT_TRUE(Eventually(drained));
  t.join();
  EXPECT_EQ(q.Len(), 1);
  GetResult r = q.Get();
  EXPECT_EQ(r.item, "foo");
  EXPECT_FALSE(r.shutdown);
  q.Done("foo");
  EXPECT_TRUE(q.Get().shutdown);
}

TEST(QueueTest, ManyProducersAndConsumersProcessEveryItemExclusively) {
  constexpr int kProducers = 8;
  constexpr int kConsumers = 8;
  constexpr int kKeys = 100;
  constexpr int kAddsPerProducer = 500;
  Queue q;
  std::mutex mu;
  std::set<std::string> in_flight;
  std::set<std::string> seen;
  std::atomic<int> overlaps{0};
  std::atomic<int> processed{0};

  std::vector<std::thread> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&] {
      while (true) {
        GetResult r = q.Get();
        if (r.shutdown) return;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!in_flight.insert(r.item).second) ++overlaps;
          seen.insert(r.item);
        }
        std::this_thread::yield();
        {
          std::lock_guard<std::mutex> lock(mu);
          in_flight.erase(r.item);
        }
        ++processed;
        q.Done(r.item);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kAddsPerProducer; ++i) q.Add(absl::StrCat("key-", (i + p) % kKeys));
    });
  }
  for (auto& t : producers) t.join();
  q.ShutDownWithDrain();
  // Items queued but not yet taken are still handed out after the drain; workers
  // exit once the queue is empty.
  for (auto& t : consumers) t.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kKeys));
  EXPECT_GE(processed.load(), kKeys);
  EXPECT_LE(processed.load(), kProducers * kAddsPerProducer);
  EXPECT_EQ(q.Len(), 0);
}

}  // namespace
}  // namespace kslice::controller::workqueue
