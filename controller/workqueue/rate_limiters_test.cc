#include "controller/workqueue/rate_limiters.h"

#include "client/flowcontrol/clock.h"
#include "gtest/gtest.h"

namespace kslice::controller::workqueue {
namespace {

using absl::Milliseconds;
using absl::Minutes;
using absl::Seconds;

// Expected sequences are those of client-go's default_rate_limiters_test.go.

TEST(ItemExponentialFailureRateLimiterTest, DoublesPerItemAndForgets) {
  auto limiter = NewItemExponentialFailureRateLimiter(Milliseconds(1), Seconds(1));
  const absl::Duration want_one[] = {Milliseconds(1), Milliseconds(2), Milliseconds(4),
                                     Milliseconds(8), Milliseconds(16)};
  for (absl::Duration w : want_one) EXPECT_EQ(limiter->When("one"), w);
  EXPECT_EQ(limiter->NumRequeues("one"), 5);
  EXPECT_EQ(limiter->When("two"), Milliseconds(1));
  EXPECT_EQ(limiter->When("two"), Milliseconds(2));
  EXPECT_EQ(limiter->NumRequeues("two"), 2);
  limiter->Forget("one");
  EXPECT_EQ(limiter->NumRequeues("one"), 0);
  EXPECT_EQ(limiter->When("one"), Milliseconds(1));
}

TEST(ItemExponentialFailureRateLimiterTest, CapsAndDoesNotOverflow) {
  auto limiter = NewItemExponentialFailureRateLimiter(Milliseconds(1), Seconds(1000));
  for (int i = 0; i < 5; ++i) limiter->When("one");
  EXPECT_EQ(limiter->When("one"), Milliseconds(32));

  auto slow = NewItemExponentialFailureRateLimiter(Minutes(1), absl::Hours(1000));
  for (int i = 0; i < 2; ++i) slow->When("two");
  EXPECT_EQ(slow->When("two"), Minutes(4));

  // Far past any int64 nanosecond count: capped at max, never negative.
  auto capped = NewItemExponentialFailureRateLimiter(Milliseconds(5), Seconds(1000));
  absl::Duration last;
  for (int i = 0; i < 200; ++i) last = capped->When("x");
  EXPECT_EQ(last, Seconds(1000));
  EXPECT_EQ(capped->NumRequeues("x"), 200);
}

TEST(ItemFastSlowRateLimiterTest, FastThenSlow) {
  auto limiter = NewItemFastSlowRateLimiter(Milliseconds(5), Seconds(10), 3);
  const absl::Duration want[] = {Milliseconds(5), Milliseconds(5), Milliseconds(5), Seconds(10),
                                 Seconds(10)};
  for (absl::Duration w : want) EXPECT_EQ(limiter->When("one"), w);
  EXPECT_EQ(limiter->NumRequeues("one"), 5);
  EXPECT_EQ(limiter->When("two"), Milliseconds(5));
  EXPECT_EQ(limiter->When("two"), Milliseconds(5));
  EXPECT_EQ(limiter->NumRequeues("two"), 2);
  limiter->Forget("one");
  EXPECT_EQ(limiter->NumRequeues("one"), 0);
  EXPECT_EQ(limiter->When("one"), Milliseconds(5));
}

TEST(MaxOfRateLimiterTest, TakesTheWorstCase) {
  std::vector<std::unique_ptr<RateLimiter>> parts;
  parts.push_back(NewItemFastSlowRateLimiter(Milliseconds(5), Seconds(3), 3));
  parts.push_back(NewItemExponentialFailureRateLimiter(Milliseconds(1), Seconds(1)));
  auto limiter = NewMaxOfRateLimiter(std::move(parts));
  const absl::Duration want[] = {Milliseconds(5), Milliseconds(5), Milliseconds(5), Seconds(3),
                                 Seconds(3)};
  for (absl::Duration w : want) EXPECT_EQ(limiter->When("one"), w);
  EXPECT_EQ(limiter->NumRequeues("one"), 5);
  EXPECT_EQ(limiter->When("two"), Milliseconds(5));
  EXPECT_EQ(limiter->When("two"), Milliseconds(5));
  EXPECT_EQ(limiter->NumRequeues("two"), 2);
  limiter->Forget("one");
  EXPECT_EQ(limiter->NumRequeues("one"), 0);
  EXPECT_EQ(limiter->When("one"), Milliseconds(5));
}

TEST(WithMaxWaitRateLimiterTest, CapsTheDelay) {
  auto limiter = NewWithMaxWaitRateLimiter(
      NewItemExponentialFailureRateLimiter(Milliseconds(100), Seconds(100)), Milliseconds(300));
  EXPECT_EQ(limiter->When("a"), Milliseconds(100));
  EXPECT_EQ(limiter->When("a"), Milliseconds(200));
  EXPECT_EQ(limiter->When("a"), Milliseconds(300));  // 400 capped
  EXPECT_EQ(limiter->NumRequeues("a"), 3);
  limiter->Forget("a");
  EXPECT_EQ(limiter->When("a"), Milliseconds(100));
}

TEST(BucketRateLimiterTest, BurstThenOneTokenPerInterval) {
  client::flowcontrol::FakeClock clock;
  auto limiter = NewBucketRateLimiter(10, 3, &clock);
  ASSERT_TRUE(limiter.ok());
  RateLimiter& l = **limiter;
  // Starts full: three tokens at once, then reservations 100ms apart.
  EXPECT_EQ(l.When("a"), absl::ZeroDuration());
  EXPECT_EQ(l.When("b"), absl::ZeroDuration());
  EXPECT_EQ(l.When("a"), absl::ZeroDuration());
  EXPECT_EQ(l.When("c"), Milliseconds(100));
  EXPECT_EQ(l.When("d"), Milliseconds(200));
  EXPECT_EQ(l.NumRequeues("a"), 0);
  l.Forget("a");  // no per-item state
  clock.Advance(Milliseconds(250));
  // 5 tokens taken, 2.5 refilled: the bucket is at -0.5 after the next one.
  EXPECT_EQ(l.When("e"), Milliseconds(50));
  clock.Advance(Seconds(10));  // refills to the burst, not beyond
  for (int i = 0; i < 3; ++i) EXPECT_EQ(l.When("f"), absl::ZeroDuration());
  EXPECT_EQ(l.When("f"), Milliseconds(100));
}

TEST(BucketRateLimiterTest, RejectsInvalidArguments) {
  EXPECT_EQ(NewBucketRateLimiter(0, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NewBucketRateLimiter(-1, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NewBucketRateLimiter(std::nan(""), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NewBucketRateLimiter(10, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NewBucketRateLimiter(10, 1, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DefaultControllerRateLimiterTest, ExponentialPerItemAndOverallBucket) {
  client::flowcontrol::FakeClock clock;
  auto limiter = DefaultControllerRateLimiter(&clock);
  // Per item: 5ms, 10ms, 20ms ... (the bucket has 100 tokens, so it does not bite).
  EXPECT_EQ(limiter->When("one"), Milliseconds(5));
  EXPECT_EQ(limiter->When("one"), Milliseconds(10));
  EXPECT_EQ(limiter->When("one"), Milliseconds(20));
  EXPECT_EQ(limiter->NumRequeues("one"), 3);
  // 97 more distinct items use up the burst of 100; the 101st token is 100ms out.
  for (int i = 0; i < 97; ++i) {
    EXPECT_EQ(limiter->When("item-" + std::to_string(i)), Milliseconds(5));
  }
  EXPECT_EQ(limiter->When("fresh"), Milliseconds(100));
  EXPECT_EQ(limiter->When("fresh2"), Milliseconds(200));
  // The per-item cap is 1000s.
  for (int i = 0; i < 40; ++i) limiter->When("hot");
  clock.Advance(absl::Hours(1));
  EXPECT_EQ(limiter->When("hot"), Seconds(1000));
  limiter->Forget("hot");
  EXPECT_EQ(limiter->NumRequeues("hot"), 0);
}

}  // namespace
}  // namespace kslice::controller::workqueue
