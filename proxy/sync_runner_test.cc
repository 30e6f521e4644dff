#include "proxy/sync_runner.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

namespace kslice::proxy {
namespace {

using client::flowcontrol::FakeClock;

const absl::Time kStart = absl::FromUnixSeconds(1000000);

SyncRunnerOptions Opts() {
  SyncRunnerOptions o;
  o.min_interval = absl::Seconds(1);
  o.burst = 2;
  o.max_interval = absl::Hours(1);
  o.retry_initial = absl::Seconds(1);
  o.retry_max = absl::Seconds(30);
  return o;
}

TEST(SyncScheduleTest, NothingToDoUntilPeriodic) {
  SyncSchedule s(Opts(), kStart);
  EXPECT_EQ(s.NextRun(kStart), kStart + absl::Hours(1));
}

TEST(SyncScheduleTest, BurstOfTwoThenOnePerMinInterval) {
  SyncSchedule s(Opts(), kStart);
  absl::Time now = kStart;
  // Two syncs right away.
  for (int i = 0; i < 2; ++i) {
    s.Request();
    ASSERT_EQ(s.NextRun(now), now) << i;
    s.Started(now);
    s.Finished(now, true);
  }
  // The third waits for a token.
  s.Request();
  EXPECT_EQ(s.NextRun(now), kStart + absl::Seconds(1));
  now += absl::Milliseconds(400);
  EXPECT_EQ(s.NextRun(now), kStart + absl::Seconds(1));
  now = kStart + absl::Seconds(1);
  EXPECT_EQ(s.NextRun(now), now);
  s.Started(now);
  s.Finished(now, true);
  // Tokens refill up to the burst only.
  now += absl::Seconds(100);
  for (int i = 0; i < 2; ++i) {
    s.Request();
    ASSERT_EQ(s.NextRun(now), now);
    s.Started(now);
    s.Finished(now, true);
  }
  s.Request();
  EXPECT_EQ(s.NextRun(now), now + absl::Seconds(1));
}

TEST(SyncScheduleTest, RequestsCoalesce) {
  SyncSchedule s(Opts(), kStart);
  s.Request();
  s.Request();
  s.Request();
  s.Started(kStart);
  EXPECT_FALSE(s.requested());
  s.Finished(kStart, true);
  EXPECT_EQ(s.NextRun(kStart), kStart + absl::Hours(1));
}

TEST(SyncScheduleTest, RequestDuringRunGivesOneMore) {
  SyncSchedule s(Opts(), kStart);
  s.Request();
  s.Started(kStart);
  s.Request();  // arrives while syncing
  s.Finished(kStart, true);
  EXPECT_EQ(s.NextRun(kStart), kStart);
}

TEST(SyncScheduleTest, FailureBacksOffAndSuccessResets) {
  SyncSchedule s(Opts(), kStart);
  absl::Time now = kStart;
  s.Request();
  s.Started(now);
  s.Finished(now, false);
  EXPECT_TRUE(s.in_backoff());
  // A retry is due without a request; a request does not shorten the backoff.
  EXPECT_EQ(s.NextRun(now), now + absl::Seconds(1));
  s.Request();
  EXPECT_EQ(s.NextRun(now), now + absl::Seconds(1));
  std::vector<absl::Duration> delays;
  for (int i = 0; i < 7; ++i) {
    now = s.NextRun(now);
    s.Started(now);
    s.Finished(now, false);
    delays.push_back(s.NextRun(now) - now);
  }
  EXPECT_EQ(delays, (std::vector<absl::Duration>{absl::Seconds(2), absl::Seconds(4),
                                                 absl::Seconds(8), absl::Seconds(16),
                                                 absl::Seconds(30), absl::Seconds(30),
                                                 absl::Seconds(30)}));
  now = s.NextRun(now);
  s.Started(now);
  s.Finished(now, true);
  EXPECT_FALSE(s.in_backoff());
  EXPECT_EQ(s.failures(), 0);
  EXPECT_EQ(s.NextRun(now), now + absl::Hours(1));
}

TEST(SyncScheduleTest, PeriodicRunRestartsAfterEachSync) {
  SyncSchedule s(Opts(), kStart);
  absl::Time t = kStart + absl::Minutes(10);
  s.Request();
  s.Started(t);
  s.Finished(t + absl::Seconds(2), true);
  EXPECT_EQ(s.NextRun(t + absl::Seconds(2)), t + absl::Seconds(2) + absl::Hours(1));
}

TEST(SyncScheduleTest, ZeroMinIntervalIsUnlimited) {
  SyncRunnerOptions o = Opts();
  o.min_interval = absl::ZeroDuration();
  SyncSchedule s(o, kStart);
  for (int i = 0; i < 10; ++i) {
    s.Request();
    ASSERT_EQ(s.NextRun(kStart), kStart);
    s.Started(kStart);
    s.Finished(kStart, true);
  }
}

// The threaded runner, driven by a fake clock: no real waiting, no timing assumptions.
TEST(SyncRunnerTest, RunsCoalescesAndRetries) {
  FakeClock clock(kStart);
  std::atomic<int> calls{0};
  std::atomic<bool> fail{false};
  SyncRunnerOptions o = Opts();
  o.clock = &clock;
  SyncRunner runner(
      [&] {
        ++calls;
        return fail.load() ? absl::UnavailableError("restore failed") : absl::OkStatus();
      },
      o);
  std::stop_source stop;
  std::thread loop([&] { runner.Loop(stop.get_token()); });

  // Idle: the loop sleeps until the periodic sync.
  clock.AwaitSleepers(1);
  EXPECT_EQ(calls.load(), 0);

  runner.Run();
  // Wait until the sync ran and the loop sleeps again.
  while (runner.runs() < 1) std::this_thread::yield();
  clock.AwaitSleepers(1);
  EXPECT_EQ(calls.load(), 1);

  // A failing sync is retried after the backoff, without any request.
  fail = true;
  runner.Run();
  while (runner.failed_runs() < 1) std::this_thread::yield();
  clock.AwaitSleepers(1);
  EXPECT_EQ(calls.load(), 2);
  fail = false;
  clock.Advance(absl::Seconds(1));
  while (runner.runs() < 3) std::this_thread::yield();
  clock.AwaitSleepers(1);
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(runner.failed_runs(), 1);

  // The periodic sync after max_interval.
  clock.Advance(absl::Hours(1));
  while (runner.runs() < 4) std::this_thread::yield();

  stop.request_stop();
  loop.join();
}

}  // namespace
}  // namespace kslice::proxy
