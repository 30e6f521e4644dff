#include "client/flowcontrol/rate_limiter.h"

#include <atomic>
#include <stop_token>
#include <thread>
#include <vector>

#include "client/flowcontrol/clock.h"
#include "gtest/gtest.h"

namespace kslice::client::flowcontrol {
namespace {

TEST(TokenBucketTest, DefaultsMatchClientGo) {
  EXPECT_EQ(kDefaultQps, 5.0);
  EXPECT_EQ(kDefaultBurst, 10);
}

TEST(TokenBucketTest, BurstThenRefillAtQps) {
  FakeClock clock;
  auto limiter = TokenBucketRateLimiter::Create(kDefaultQps, kDefaultBurst, &clock);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter->TryAccept()) << i;
  EXPECT_FALSE(limiter->TryAccept());
  clock.Advance(absl::Milliseconds(199));
  EXPECT_FALSE(limiter->TryAccept());
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(limiter->TryAccept());
  EXPECT_FALSE(limiter->TryAccept());
  // 1 s refills 5 tokens.
  clock.Advance(absl::Seconds(1));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter->TryAccept()) << i;
  EXPECT_FALSE(limiter->TryAccept());
}

TEST(TokenBucketTest, RefillStopsAtBurst) {
  FakeClock clock;
  auto limiter = TokenBucketRateLimiter::Create(5, 10, &clock);
  clock.Advance(absl::Hours(1));
  int accepted = 0;
  while (limiter->TryAccept()) ++accepted;
  EXPECT_EQ(accepted, 10);
}

TEST(TokenBucketTest, WaitSleepsUntilTheNextToken) {
  FakeClock clock;
  clock.set_auto_advance(true);
  const absl::Time start = clock.Now();
  auto limiter = TokenBucketRateLimiter::Create(5, 10, &clock);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter->Wait().ok());
  EXPECT_EQ(clock.Now(), start);  // the burst needs no sleep
  for (int i = 1; i <= 10; ++i) {
    ASSERT_TRUE(limiter->Wait().ok());
    EXPECT_EQ(clock.Now(), start + i * absl::Milliseconds(200));
  }
}

TEST(TokenBucketTest, FractionalQps) {
  FakeClock clock;
  clock.set_auto_advance(true);
  const absl::Time start = clock.Now();
  auto limiter = TokenBucketRateLimiter::Create(0.5, 1, &clock);
  ASSERT_TRUE(limiter->Wait().ok());
  ASSERT_TRUE(limiter->Wait().ok());
  EXPECT_EQ(clock.Now(), start + absl::Seconds(2));
}

TEST(TokenBucketTest, WaitPastDeadlineFailsWithoutReserving) {
  FakeClock clock;
  auto limiter = TokenBucketRateLimiter::Create(5, 1, &clock);
  ASSERT_TRUE(limiter->TryAccept());
  absl::Status s = limiter->Wait({}, clock.Now() + absl::Milliseconds(100));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  // Nothing was reserved: the token 200 ms from now is still free.
  clock.Advance(absl::Milliseconds(200));
  EXPECT_TRUE(limiter->TryAccept());
  // A deadline that has passed fails even when a token is there.
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(limiter->Wait({}, clock.Now()).code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(limiter->TryAccept());
}

TEST(TokenBucketTest, WaitExactlyAtDeadlineSucceeds) {
  FakeClock clock;
  clock.set_auto_advance(true);
  auto limiter = TokenBucketRateLimiter::Create(5, 1, &clock);
  ASSERT_TRUE(limiter->TryAccept());
  EXPECT_TRUE(limiter->Wait({}, clock.Now() + absl::Milliseconds(200)).ok());
}

TEST(TokenBucketTest, StopBeforeWait) {
  FakeClock clock;
  auto limiter = TokenBucketRateLimiter::Create(5, 10, &clock);
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(limiter->Wait(stop.get_token()).code(), absl::StatusCode::kCancelled);
  // Nothing taken.
  int accepted = 0;
  while (limiter->TryAccept()) ++accepted;
  EXPECT_EQ(accepted, 10);
}

TEST(TokenBucketTest, StopWhileWaitingReturnsTheToken) {
  FakeClock clock;
  auto limiter = TokenBucketRateLimiter::Create(5, 1, &clock);
  ASSERT_TRUE(limiter->TryAccept());
  std::stop_source stop;
  absl::Status result;
  std::thread t([&] { result = limiter->Wait(stop.get_token()); });
  clock.AwaitSleepers(1);
  stop.request_stop();
  t.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled);
  clock.Advance(absl::Milliseconds(200));
  EXPECT_TRUE(limiter->TryAccept());  // the cancelled reservation's token
  EXPECT_FALSE(limiter->TryAccept());
}

TEST(TokenBucketTest, WaitersAreServedInOrder) {
  FakeClock clock;
  auto limiter = TokenBucketRateLimiter::Create(10, 1, &clock);
  ASSERT_TRUE(limiter->TryAccept());
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      EXPECT_TRUE(limiter->Wait().ok());
      ++done;
    });
    clock.AwaitSleepers(i + 1);  // reservations at +100, +200, +300 ms
  }
  for (int i = 1; i <= 3; ++i) {
    clock.Advance(absl::Milliseconds(100));
    while (done.load() < i) std::this_thread::yield();
    EXPECT_EQ(done.load(), i);
    EXPECT_EQ(clock.Sleepers(), 3 - i);
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(limiter->TryAccept());
}

TEST(TokenBucketTest, UnlimitedAndClampedBurst) {
  FakeClock clock;
  for (double qps : {0.0, -1.0}) {
    auto unlimited = TokenBucketRateLimiter::Create(qps, 0, &clock);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(unlimited->TryAccept());
    EXPECT_TRUE(unlimited->Wait().ok());
    EXPECT_EQ(unlimited->Qps(), 0);
  }
  auto one = TokenBucketRateLimiter::Create(5, 0, &clock);
  EXPECT_EQ(one->Burst(), 1);
  EXPECT_EQ(one->Qps(), 5);
  EXPECT_TRUE(one->TryAccept());
  EXPECT_FALSE(one->TryAccept());
}

// Many threads racing for tokens while time stands still: exactly `burst` win.
TEST(TokenBucketConcurrencyTest, TryAcceptHandsOutExactlyTheBurst) {
  FakeClock clock;
  auto limiter = TokenBucketRateLimiter::Create(5, 100, &clock);
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (limiter->TryAccept()) ++accepted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 100);
}

// Concurrent waiters on an auto-advancing clock: the reservations are contiguous,
// so the last one ends exactly (N - burst) intervals after the start.
TEST(TokenBucketConcurrencyTest, ConcurrentWaitsKeepTheRate) {
  FakeClock clock;
  clock.set_auto_advance(true);
  const absl::Time start = clock.Now();
  auto limiter = TokenBucketRateLimiter::Create(100, 5, &clock);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) ASSERT_TRUE(limiter->Wait().ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.Now(), start + (kThreads * kPerThread - 5) * absl::Milliseconds(10));
}

// The real clock, for the sleep path: 8 threads x 10 waits at 400 QPS, burst 10,
// take at least 70 / 400 s.
TEST(TokenBucketConcurrencyTest, RealClockWaits) {
  auto limiter = TokenBucketRateLimiter::Create(400, 10);
  const absl::Time start = Clock::Real().Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter->Wait().ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GE(Clock::Real().Now() - start, absl::Milliseconds(175));
}

}  // namespace
}  // namespace kslice::client::flowcontrol
