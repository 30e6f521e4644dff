#include "controller/workqueue/delaying_queue.h"

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/flowcontrol/clock.h"
#include "gtest/gtest.h"

namespace kslice::controller::workqueue {
namespace {

using absl::Milliseconds;
using absl::Seconds;
using client::flowcontrol::FakeClock;

// Polls until q.Len() == n (the waiting thread adds asynchronously) or 5s pass.
bool LenBecomes(const Interface& q, int n) {
  for (int i = 0; i < 5000; ++i) {
    if (q.Len() == n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return q.Len() == n;
}

// Gives the waiting thread a moment, then checks nothing was added.
bool StaysAt(const Interface& q, int n) {
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  return q.Len() == n;
}

QueueConfig WithClock(FakeClock& clock) {
  QueueConfig c;
  c.clock = &clock;
  return c;
}

TEST(DelayingQueueTest, AddsWhenTheTimeComes) {
  FakeClock clock;
  DelayingQueue q(WithClock(clock));
  q.AddAfter("foo", Milliseconds(50));
  EXPECT_EQ(q.Waiting(), 1);
  EXPECT_TRUE(StaysAt(q, 0));
  clock.Advance(Milliseconds(49));
  EXPECT_TRUE(StaysAt(q, 0));
  clock.Advance(Milliseconds(1));
  ASSERT_TRUE(LenBecomes(q, 1));
  EXPECT_EQ(q.Waiting(), 0);
  GetResult r = q.Get();
  EXPECT_EQ(r.item, "foo");
  q.Done(r.item);
  clock.Advance(Seconds(10));
  EXPECT_TRUE(StaysAt(q, 0));
}

TEST(DelayingQueueTest, DedupKeepsTheEarliestTime) {
  struct Case {
    const char* name;
    absl::Duration first;
    absl::Duration second;
  };
  const Case cases[] = {
      {"later second", Milliseconds(50), Milliseconds(70)},
      {"earlier second", Milliseconds(70), Milliseconds(50)},
  };
  for (const Case& c : cases) {
    FakeClock clock;
    DelayingQueue q(WithClock(clock));
    q.AddAfter("foo", c.first);
    q.AddAfter("foo", c.second);
    EXPECT_EQ(q.Waiting(), 1) << c.name;
    clock.Advance(Milliseconds(60));
    ASSERT_TRUE(LenBecomes(q, 1)) << c.name;
    GetResult r = q.Get();
    q.Done(r.item);
    clock.Advance(Milliseconds(20));
    EXPECT_TRUE(StaysAt(q, 0)) << c.name;
    EXPECT_EQ(q.Waiting(), 0) << c.name;
  }
}

TEST(DelayingQueueTest, EarlierReAddFiresEarly) {
  FakeClock clock;
  DelayingQueue q(WithClock(clock));
  q.AddAfter("foo", Seconds(1));
  q.AddAfter("bar", Milliseconds(50));
  clock.Advance(Milliseconds(60));
  ASSERT_TRUE(LenBecomes(q, 1));
  EXPECT_EQ(q.Get().item, "bar");
  q.Done("bar");
  q.AddAfter("foo", Milliseconds(50));  // moves foo from 1s to 110ms
  EXPECT_EQ(q.Waiting(), 1);
  clock.Advance(Milliseconds(60));
  ASSERT_TRUE(LenBecomes(q, 1));
  EXPECT_EQ(q.Get().item, "foo");
  EXPECT_EQ(q.Waiting(), 0);
}

TEST(DelayingQueueTest, DueItemsAreAddedInReadyTimeOrder) {
  FakeClock clock;
  DelayingQueue q(WithClock(clock));
  q.AddAfter("foo", Seconds(3));
  q.AddAfter("bar", Seconds(2));
  q.AddAfter("zab", Seconds(1));
  q.AddAfter("tie", Seconds(1));  // same time as zab, added later
  clock.Advance(Seconds(2));
  ASSERT_TRUE(LenBecomes(q, 3));
  EXPECT_EQ(q.Get().item, "zab");
  EXPECT_EQ(q.Get().item, "tie");
  EXPECT_EQ(q.Get().item, "bar");
  clock.Advance(Seconds(1));
  ASSERT_TRUE(LenBecomes(q, 1));
  EXPECT_EQ(q.Get().item, "foo");
}

TEST(DelayingQueueTest, NonPositiveDelayAddsAtOnce) {
  FakeClock clock;
  DelayingQueue q(WithClock(clock));
  q.AddAfter("a", absl::ZeroDuration());
  q.AddAfter("b", -Seconds(1));
  EXPECT_EQ(q.Len(), 2);
  EXPECT_EQ(q.Waiting(), 0);
}

TEST(DelayingQueueTest, WaitingAndProcessingAreIndependent) {
  FakeClock clock;
  DelayingQueue q(WithClock(clock));
  q.Add("x");
  ASSERT_EQ(q.Get().item, "x");
  q.AddAfter("x", Milliseconds(10));  // becomes due while x is processing
  clock.Advance(Milliseconds(10));
  for (int i = 0; i < 5000 && q.Waiting() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(StaysAt(q, 0));  // dirty, not handed out while processing
  q.Done("x");
  EXPECT_EQ(q.Len(), 1);
}

TEST(DelayingQueueTest, ShutDownDropsWaitingItemsAndIgnoresAddAfter) {
  FakeClock clock;
  DelayingQueue q(WithClock(clock));
  q.AddAfter("a", Seconds(1));
  q.ShutDown();
  q.AddAfter("b", absl::ZeroDuration());
  q.AddAfter("c", Seconds(1));
  clock.Advance(Seconds(5));
  EXPECT_TRUE(StaysAt(q, 0));
  EXPECT_TRUE(q.Get().shutdown);
  q.ShutDown();  // idempotent
  q.ShutDownWithDrain();
}

TEST(DelayingQueueTest, RealClockDelay) {
  DelayingQueue q;
  const absl::Time start = absl::Now();
  q.AddAfter("a", Milliseconds(30));
  GetResult r = q.Get();
  EXPECT_EQ(r.item, "a");
  EXPECT_GE(absl::Now() - start, Milliseconds(30));
  q.Done(r.item);
}

TEST(DelayingQueueTest, ConcurrentAddAfterWithRealClock) {
  DelayingQueue q;
  constexpr int kProducers = 4;
  constexpr int kItems = 50;
  std::mutex mu;
  std::set<std::string> seen;
  std::vector<std::thread> consumers;
  for (int c = 0; c < 4; ++c) {
    consumers.emplace_back([&] {
      while (true) {
        GetResult r = q.Get();
        if (r.shutdown) return;
        {
          std::lock_guard<std::mutex> lock(mu);
          seen.insert(r.item);
        }
        q.Done(r.item);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kItems; ++i) {
        q.AddAfter(absl::StrCat("p", p, "-", i), Milliseconds(i % 7));
      }
    });
  }
  for (auto& t : producers) t.join();
  for (int i = 0; i < 5000; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (seen.size() == kProducers * kItems) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  q.ShutDown();
  for (auto& t : consumers) t.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kProducers * kItems));
}

}  // namespace
}  // namespace kslice::controller::workqueue
