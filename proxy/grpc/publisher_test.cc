#include "proxy/grpc/publisher.h"

#include <thread>

#include "gtest/gtest.h"
#include "proxy/grpc/test_states.h"

namespace kslice::proxy::grpc {
namespace {

using testing::BigState;
using testing::Churn;

constexpr absl::Duration kNoWait = absl::ZeroDuration();

class PublisherTest : public ::testing::Test {
 protected:
  // Publishes `n` churned states.
  void Advance(Publisher& p, int n) {
    for (int i = 0; i < n; ++i) {
      SyncHint hint;
      state_ = churn_.Next(state_, 2, &hint);
      p.Publish(state_, hint);
    }
  }
  Churn churn_{77};
  ProxyState state_ = BigState(10, 2);
};

TEST_F(PublisherTest, SnapshotThenDeltasInOrder) {
  std::shared_ptr<Publisher> p = Publisher::Create(IPFamily::kIPv4, "node-a");
  auto sub = p->Subscribe(0, "");
  ASSERT_TRUE(sub.ok());
  EXPECT_TRUE((*sub)->Next(kNoWait)->messages.empty());  // nothing published yet
  p->Publish(state_, SyncHint{});
  absl::StatusOr<Batch> b = (*sub)->Next(kNoWait);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->snapshot);
  EXPECT_EQ(b->version, state_.version);
  Advance(*p, 3);
  for (uint64_t v = 2; v <= 4; ++v) {
    b = (*sub)->Next(kNoWait);
    ASSERT_TRUE(b.ok());
    EXPECT_FALSE(b->snapshot);
    EXPECT_EQ(b->version, v);
    EXPECT_EQ(b->previous_version, v - 1);
  }
  EXPECT_TRUE((*sub)->Next(kNoWait)->messages.empty());
  PublisherStats st = p->stats();
  EXPECT_EQ(st.subscribers, 1);
  EXPECT_EQ(st.updates_sent, 4);
  EXPECT_EQ(st.snapshots_sent, 1);
}

TEST_F(PublisherTest, OverflowDropsQueueForSnapshotOfLatest) {
  std::shared_ptr<Publisher> p =
      Publisher::Create(IPFamily::kIPv4, "node-a", {.history_limit = 100, .queue_limit = 3});
  p->Publish(state_, SyncHint{});
  auto sub = p->Subscribe(0, "");
  ASSERT_TRUE((*sub)->Next(kNoWait)->snapshot);
  Advance(*p, 3);  // fits
  EXPECT_EQ(p->stats().snapshots_forced, 0);
  Advance(*p, 1);  // does not
  EXPECT_EQ(p->stats().snapshots_forced, 1);
  Advance(*p, 5);  // owed a snapshot: nothing more is queued
  EXPECT_EQ(p->stats().snapshots_forced, 1);
  absl::StatusOr<Batch> b = (*sub)->Next(kNoWait);
  ASSERT_TRUE(b->snapshot);
  EXPECT_EQ(b->version, state_.version);  // the latest, not the one at overflow
  Advance(*p, 1);
  b = (*sub)->Next(kNoWait);
  EXPECT_FALSE(b->snapshot);
  EXPECT_EQ(b->previous_version, state_.version - 1);
}

TEST_F(PublisherTest, ResumeWithinHistoryQueueAndInstance) {
  std::shared_ptr<Publisher> p =
      Publisher::Create(IPFamily::kIPv4, "node-a", {.history_limit = 4, .queue_limit = 3});
  p->Publish(state_, SyncHint{});
  Advance(*p, 6);  // versions 1..7; history has deltas into 4..7
  const std::string inst = p->instance();
  auto check = [&](uint64_t from, const std::string& instance, bool want_snapshot,
                   uint64_t first_version) {
    auto sub = p->Subscribe(from, instance);
    ASSERT_TRUE(sub.ok());
    absl::StatusOr<Batch> b = (*sub)->Next(kNoWait);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->snapshot, want_snapshot) << from;
    EXPECT_EQ(b->version, first_version) << from;
  };
  check(5, inst, false, 6);    // deltas 6, 7
  check(4, inst, false, 5);    // 3 deltas: exactly the queue limit
  check(3, inst, true, 7);     // 4 deltas do not fit the queue of 3
  check(1, inst, true, 7);     // older than the history
  check(5, "other", true, 7);  // another instance
  auto current = p->Subscribe(7, inst);  // up to date: waits for the next delta
  EXPECT_TRUE((*current)->Next(kNoWait)->messages.empty());
  EXPECT_EQ(p->Subscribe(8, inst).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(p->stats().resumed, 3);
  EXPECT_EQ(p->stats().resume_misses, 3);
}

TEST_F(PublisherTest, SnapshotEncodedOncePerVersion) {
  std::shared_ptr<Publisher> p = Publisher::Create(IPFamily::kIPv4, "node-a");
  p->Publish(state_, SyncHint{});
  auto a = p->Subscribe(0, "");
  auto b = p->Subscribe(0, "");
  absl::StatusOr<Batch> ba = (*a)->Next(kNoWait);
  absl::StatusOr<Batch> bb = (*b)->Next(kNoWait);
  ASSERT_EQ(ba->messages.size(), bb->messages.size());
  EXPECT_EQ(ba->messages[0].get(), bb->messages[0].get());  // shared, not re-encoded
}

TEST_F(PublisherTest, CloseWakesWaiters) {
  std::shared_ptr<Publisher> p = Publisher::Create(IPFamily::kIPv4, "node-a");
  p->Publish(state_, SyncHint{});
  auto sub = p->Subscribe(0, "");
  ASSERT_TRUE((*sub)->Next(kNoWait)->snapshot);
  std::thread closer([&] {
    absl::SleepFor(absl::Milliseconds(50));
    p->Close();
  });
  const absl::Time start = absl::Now();
  absl::StatusOr<Batch> b = (*sub)->Next(absl::Seconds(30));
  closer.join();
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(p->Subscribe(0, "").status().code(), absl::StatusCode::kUnavailable);
  sub->reset();
  EXPECT_EQ(p->stats().subscribers, 0);
}

}  // namespace
}  // namespace kslice::proxy::grpc

namespace kslice::proxy::grpc {
namespace {

// Publish, subscribe, read and unsubscribe from many threads at once (no gRPC: TSan
// sees all of the Publisher's own synchronization here). Every reader ends at the
// final version with an unbroken chain.
TEST(PublisherStressTest, ConcurrentPublishersAndReaders) {
  std::shared_ptr<Publisher> p =
      Publisher::Create(IPFamily::kIPv4, "node-a", {.history_limit = 8, .queue_limit = 2});
  Churn churn(99);
  ProxyState state = BigState(20, 2);
  p->Publish(state, SyncHint{});
  constexpr int kSteps = 300;
  const uint64_t last = state.version + kSteps;
  std::vector<std::thread> readers;
  std::atomic<int> broken{0};
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&, r] {
      uint64_t version = 0;
      std::string instance;
      int reconnects = 0;
      while (version != last) {
        auto sub = p->Subscribe(version, instance);
        if (!sub.ok()) return;
        // Readers 0 and 1 drop their subscription now and then and resume.
        for (int n = 0; version != last && (r > 1 || n < 20); ++n) {
          absl::StatusOr<Batch> b = (*sub)->Next(absl::Milliseconds(5));
          if (!b.ok()) return;
          if (b->messages.empty()) continue;
          if (!b->snapshot && b->previous_version != version) ++broken;
          version = b->version;
          instance = b->messages[0]->instance();
        }
        ++reconnects;
      }
      (void)reconnects;
    });
  }
  for (int i = 0; i < kSteps; ++i) {
    SyncHint hint;
    state = churn.Next(state, 2, &hint);
    p->Publish(state, hint);
    if (i % 50 == 0) (void)p->stats();
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(broken.load(), 0);
  EXPECT_EQ(p->version(), last);
}

}  // namespace
}  // namespace kslice::proxy::grpc
