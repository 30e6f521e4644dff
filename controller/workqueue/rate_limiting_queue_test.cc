#include "controller/workqueue/rate_limiting_queue.h"

#include <chrono>
#include <thread>

#include "client/flowcontrol/clock.h"
#include "gtest/gtest.h"

namespace kslice::controller::workqueue {
namespace {

using absl::Milliseconds;
using client::flowcontrol::FakeClock;

bool LenBecomes(const Interface& q, int n) {
  for (int i = 0; i < 5000; ++i) {
    if (q.Len() == n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return q.Len() == n;
}

TEST(RateLimitingQueueTest, AddRateLimitedWaitsTheLimitersDelay) {
  // client-go's TestRateLimitingQueue, checked through the waiting set.
  FakeClock clock;
  QueueConfig config;
  config.clock = &clock;
  RateLimitingQueue q(NewItemExponentialFailureRateLimiter(Milliseconds(1), absl::Seconds(1)),
                      config);
  q.AddRateLimited("one");  // ready in 1ms
  EXPECT_EQ(q.delaying_queue().Waiting(), 1);
  q.AddRateLimited("one");  // 2ms: the earlier time stays
  EXPECT_EQ(q.delaying_queue().Waiting(), 1);
  q.AddRateLimited("two");
  q.AddRateLimited("two");
  EXPECT_EQ(q.delaying_queue().Waiting(), 2);
  EXPECT_EQ(q.NumRequeues("one"), 2);
  EXPECT_EQ(q.NumRequeues("two"), 2);
  q.Forget("one");
  EXPECT_EQ(q.NumRequeues("one"), 0);
  EXPECT_EQ(q.Len(), 0);
  clock.Advance(Milliseconds(1));
  ASSERT_TRUE(LenBecomes(q, 2));
  EXPECT_EQ(q.Get().item, "one");
  EXPECT_EQ(q.Get().item, "two");
}

TEST(RateLimitingQueueTest, ControllerWorkerPattern) {
  FakeClock clock;
  QueueConfig config;
  config.clock = &clock;
  RateLimitingQueue q(nullptr, config);  // DefaultControllerRateLimiter
  q.Add("ns/a");
  int attempts = 0;
  absl::Duration waited = absl::ZeroDuration();
  while (true) {
    GetResult r = q.Get();
    ASSERT_FALSE(r.shutdown);
    ++attempts;
    if (attempts < 4) {
      q.AddRateLimited(r.item);  // fail: 5ms, 10ms, 20ms
      q.Done(r.item);
      const absl::Duration d = absl::Milliseconds(5) * (1 << (attempts - 1));
      clock.Advance(d);
      waited += d;
      ASSERT_TRUE(LenBecomes(q, 1));
      continue;
    }
    EXPECT_EQ(q.NumRequeues(r.item), 3);
    q.Forget(r.item);
    q.Done(r.item);
    break;
  }
  EXPECT_EQ(attempts, 4);
  EXPECT_EQ(waited, Milliseconds(35));
  EXPECT_EQ(q.NumRequeues("ns/a"), 0);
}

}  // namespace
}  // namespace kslice::controller::workqueue
