#include "client/flowcontrol/clock.h"

#include <atomic>
#include <stop_token>
#include <thread>

#include "gtest/gtest.h"

namespace kslice::client::flowcontrol {
namespace {

TEST(FakeClockTest, AdvanceWakesSleeperAtDeadline) {
  FakeClock clock;
  const absl::Time start = clock.Now();
  std::atomic<bool> woke{false};
  std::atomic<bool> result{false};
  std::thread t([&] {
    result = clock.SleepUntil(start + absl::Seconds(10));
    woke = true;
  });
  clock.AwaitSleepers(1);
  clock.Advance(absl::Seconds(9));
  EXPECT_EQ(clock.Sleepers(), 1);
  EXPECT_FALSE(woke.load());
  clock.Advance(absl::Seconds(1));
  t.join();
  EXPECT_TRUE(result.load());
  EXPECT_EQ(clock.Sleepers(), 0);
  EXPECT_EQ(clock.Now(), start + absl::Seconds(10));
}

TEST(FakeClockTest, StopWakesSleeper) {
  FakeClock clock;
  std::stop_source stop;
  std::atomic<bool> result{true};
  std::thread t([&] { result = clock.SleepUntil(absl::InfiniteFuture(), stop.get_token()); });
  clock.AwaitSleepers(1);
  stop.request_stop();
  t.join();
  EXPECT_FALSE(result.load());
  // Already stopped: returns false at once, even for a past deadline.
  EXPECT_FALSE(clock.SleepUntil(clock.Now() - absl::Seconds(1), stop.get_token()));
}

TEST(FakeClockTest, PastDeadlineReturnsAtOnce) {
  FakeClock clock;
  EXPECT_TRUE(clock.SleepUntil(clock.Now()));
  EXPECT_TRUE(clock.SleepUntil(clock.Now() - absl::Hours(1)));
}

TEST(FakeClockTest, AutoAdvance) {
  FakeClock clock;
  clock.set_auto_advance(true);
  const absl::Time start = clock.Now();
  EXPECT_TRUE(clock.SleepUntil(start + absl::Milliseconds(250)));
  EXPECT_EQ(clock.Now(), start + absl::Milliseconds(250));
  // Never goes backwards.
  EXPECT_TRUE(clock.SleepUntil(start));
  EXPECT_EQ(clock.Now(), start + absl::Milliseconds(250));
}

TEST(FakeClockTest, Monotonic) {
  FakeClock clock;
  const absl::Time start = clock.Now();
  clock.SetTime(start - absl::Seconds(5));
  clock.Advance(-absl::Seconds(5));
  EXPECT_EQ(clock.Now(), start);
  clock.SetTime(start + absl::Seconds(5));
  EXPECT_EQ(clock.Now(), start + absl::Seconds(5));
}

TEST(RealClockTest, SleepsAndStops) {
  Clock& clock = Clock::Real();
  const absl::Time start = clock.Now();
  EXPECT_TRUE(clock.SleepUntil(start + absl::Milliseconds(20)));
  EXPECT_GE(clock.Now() - start, absl::Milliseconds(20));

  std::stop_source stop;
  std::thread t([&] { EXPECT_FALSE(clock.SleepUntil(absl::InfiniteFuture(), stop.get_token())); });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop.request_stop();
  t.join();

  std::stop_source stop2;
  std::thread t2(
      [&] { EXPECT_FALSE(clock.SleepUntil(clock.Now() + absl::Hours(1), stop2.get_token())); });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop2.request_stop();
  t2.join();
  EXPECT_LT(clock.Now() - start, absl::Minutes(1));
}

}  // namespace
}  // namespace kslice::client::flowcontrol
