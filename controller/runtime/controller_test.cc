#include "controller/runtime/controller.h"

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kslice::controller {
namespace {

TEST(ControllerTest, WaitsForCachesThenReconcilesEveryKeyOnce) {
  metrics::Registry registry;
  std::mutex mu;
  std::map<std::string, int> seen;
  std::atomic<bool> synced{false};
  ControllerOptions o;
  o.name = "test";
  o.workers = 4;
  o.registry = &registry;
  Controller c(std::move(o), [&](const std::string& key) -> absl::StatusOr<Result> {
    std::lock_guard<std::mutex> l(mu);
    ++seen[key];
    return Result{};
  });
  for (int i = 0; i < 100; ++i) c.Enqueue(absl::StrCat("ns/k", i));
  for (int i = 0; i < 100; ++i) c.Enqueue(absl::StrCat("ns/k", i));  // dedup while queued
  std::stop_source stop;
  std::thread run([&] { EXPECT_TRUE(c.Run(stop.get_token(), {[&] { return synced.load(); }}).ok()); });
  absl::SleepFor(absl::Milliseconds(250));
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_TRUE(seen.empty()) << "reconciled before the caches synced";
  }
  synced = true;
  for (int i = 0; i < 200 && c.reconciled() < 100; ++i) absl::SleepFor(absl::Milliseconds(10));
  stop.request_stop();
  run.join();
  EXPECT_EQ(seen.size(), 100u);
  for (const auto& [k, n] : seen) EXPECT_EQ(n, 1) << k;
  EXPECT_NE(registry.Expose().find(
                R"(controller_runtime_reconcile_total{controller="test",result="success"} 100)"),
            std::string::npos)
      << registry.Expose();
}

TEST(ControllerTest, FailingKeysAreRetriedWithBackoffThenDropped) {
  metrics::Registry registry;
  std::atomic<int> calls{0};
  std::string dropped_key;
  ControllerOptions o;
  o.name = "retry";
  o.registry = &registry;
  o.max_retries = 3;
  o.rate_limiter = workqueue::NewItemExponentialFailureRateLimiter(absl::Milliseconds(1),
                                                                    absl::Milliseconds(10));
  o.on_drop = [&](const std::string& key, const absl::Status&) { dropped_key = key; };
  Controller c(std::move(o), [&](const std::string&) -> absl::StatusOr<Result> {
    ++calls;
    return absl::UnavailableError("boom");
  });
  c.Enqueue("ns/bad");
  std::stop_source stop;
  std::thread run([&] { (void)c.Run(stop.get_token()); });
  for (int i = 0; i < 300 && c.dropped() == 0; ++i) absl::SleepFor(absl::Milliseconds(10));
  stop.request_stop();
  run.join();
  EXPECT_EQ(calls.load(), 4);  // the first try and 3 retries
  EXPECT_EQ(c.dropped(), 1);
  EXPECT_EQ(dropped_key, "ns/bad");
}

TEST(ControllerTest, StopDrainsKeysInFlight) {
  std::atomic<bool> started{false}, finished{false};
  ControllerOptions o;
  o.registry = nullptr;
  Controller c(std::move(o), [&](const std::string&) -> absl::StatusOr<Result> {
    started = true;
    absl::SleepFor(absl::Milliseconds(300));
    finished = true;
    return Result{};
  });
  c.Enqueue("k");
  std::stop_source stop;
  std::thread run([&] { (void)c.Run(stop.get_token()); });
  while (!started) absl::SleepFor(absl::Milliseconds(5));
  stop.request_stop();
  run.join();
  EXPECT_TRUE(finished.load()) << "Run returned while a reconcile was running";
}

TEST(ControllerTest, RequeueAfterReconcilesAgain) {
  std::atomic<int> calls{0};
  ControllerOptions o;
  Controller c(std::move(o), [&](const std::string&) -> absl::StatusOr<Result> {
    return Result{++calls < 3 ? absl::Milliseconds(20) : absl::ZeroDuration()};
  });
  c.Enqueue("k");
  std::stop_source stop;
  std::thread run([&] { (void)c.Run(stop.get_token()); });
  for (int i = 0; i < 200 && calls < 3; ++i) absl::SleepFor(absl::Milliseconds(10));
  stop.request_stop();
  run.join();
  EXPECT_EQ(calls.load(), 3);
}

TEST(ControllerTest, StopBeforeSyncIsCancelled) {
  Controller c({}, [](const std::string&) -> absl::StatusOr<Result> { return Result{}; });
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(c.Run(stop.get_token(), {[] { return false; }}).code(),
            absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace kslice::controller
