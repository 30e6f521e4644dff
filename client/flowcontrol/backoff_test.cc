#include "client/flowcontrol/backoff.h"

#include <thread>
#include <vector>

#include "client/flowcontrol/clock.h"
#include "gtest/gtest.h"

namespace kslice::client::flowcontrol {
namespace {

using absl::Milliseconds;
using absl::Seconds;

BackoffOptions NoJitter() {
  BackoffOptions o;
  o.jitter = 0;
  return o;
}

TEST(BackoffTest, ReflectorSequenceWithoutJitter) {
  FakeClock clock;
  Backoff b(NoJitter(), &clock);
  const absl::Duration want[] = {Milliseconds(800),  Milliseconds(1600),  Milliseconds(3200),
                                 Milliseconds(6400), Milliseconds(12800), Milliseconds(25600),
                                 Seconds(30),        Seconds(30),         Seconds(30)};
  for (absl::Duration d : want) EXPECT_EQ(b.Next(), d);
  EXPECT_EQ(b.attempts(), 9);
  // Many more steps stay pinned at the cap (no overflow).
  for (int i = 0; i < 200; ++i) ASSERT_EQ(b.Next(), Seconds(30));
}

TEST(BackoffTest, JitterAddsUpToFactorTimesBase) {
  FakeClock clock;
  Backoff half(BackoffOptions::Reflector(), &clock, [] { return 0.5; });
  EXPECT_EQ(half.Next(), Milliseconds(1200));
  EXPECT_EQ(half.Next(), Milliseconds(2400));

  BackoffOptions o;
  o.jitter = 0.1;
  Backoff tenth(o, &clock, [] { return 0.5; });
  EXPECT_EQ(tenth.Next(), Milliseconds(840));

  // The default random source stays in [base, 2 * base).
  Backoff real(BackoffOptions::Reflector(), &clock);
  absl::Duration base = Milliseconds(800);
  for (int i = 0; i < 12; ++i) {
    absl::Duration d = real.Next();
    EXPECT_GE(d, base);
    EXPECT_LT(d, 2 * base);
    base = std::min(base * 2, Seconds(30));
  }
}

TEST(BackoffTest, ResetsAfterQuietPeriod) {
  FakeClock clock;
  Backoff b(NoJitter(), &clock);
  EXPECT_EQ(b.Next(), Milliseconds(800));
  EXPECT_EQ(b.Next(), Milliseconds(1600));
  clock.Advance(absl::Minutes(2));  // exactly the reset time: not yet
  EXPECT_EQ(b.Next(), Milliseconds(3200));
  clock.Advance(absl::Minutes(2) + absl::Nanoseconds(1));
  EXPECT_EQ(b.Next(), Milliseconds(800));
  EXPECT_EQ(b.attempts(), 1);

  BackoffOptions never = NoJitter();
  never.reset_after = absl::ZeroDuration();
  Backoff n(never, &clock);
  n.Next();
  clock.Advance(absl::Hours(10));
  EXPECT_EQ(n.Next(), Milliseconds(1600));
}

TEST(BackoffTest, ExplicitReset) {
  FakeClock clock;
  Backoff b(NoJitter(), &clock);
  b.Next();
  b.Next();
  b.Reset();
  EXPECT_EQ(b.attempts(), 0);
  EXPECT_EQ(b.Next(), Milliseconds(800));
}

TEST(BackoffTest, RetryAfterWins) {
  FakeClock clock;
  Backoff b(NoJitter(), &clock);
  EXPECT_EQ(b.Next(Seconds(5)), Seconds(5));                 // 800 ms < 5 s
  EXPECT_EQ(b.Next(Milliseconds(100)), Milliseconds(1600));  // the sequence advanced
  EXPECT_EQ(b.Next(std::nullopt), Milliseconds(3200));
}

TEST(BackoffTest, FactorBelowOneIsConstant) {
  FakeClock clock;
  BackoffOptions o = NoJitter();
  o.factor = 0.5;
  o.initial = Seconds(1);
  Backoff b(o, &clock);
  EXPECT_EQ(b.Next(), Seconds(1));
  EXPECT_EQ(b.Next(), Seconds(1));
}

TEST(BackoffTest, InitialAboveCap) {
  FakeClock clock;
  BackoffOptions o = NoJitter();
  o.initial = Seconds(60);
  Backoff b(o, &clock);
  EXPECT_EQ(b.Next(), Seconds(30));
}

TEST(BackoffTest, ConcurrentNext) {
  FakeClock clock;
  Backoff b(NoJitter(), &clock);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        absl::Duration d = b.Next();
        EXPECT_GE(d, Milliseconds(800));
        EXPECT_LE(d, Seconds(30));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(b.attempts(), 200);
}

}  // namespace
}  // namespace kslice::client::flowcontrol
