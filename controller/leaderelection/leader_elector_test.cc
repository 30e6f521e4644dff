// The election algorithm against an in-memory Lease client and a fake clock. The
// expected values follow upstream client-go (leaderelection.go's tryAcquireOrRenew,
// renew, release, Check; resourcelock/leaselock.go), not this implementation.
#include "controller/leaderelection/leader_elector.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "client/errors/errors.h"
#include "client/flowcontrol/clock.h"
#include "controller/leaderelection/fake_lease_client.h"
#include "controller/leaderelection/lease_lock.h"
#include "gtest/gtest.h"

namespace kslice::controller::leaderelection {

// Reaches the single steps Run is made of.
class LeaderElectorTestPeer {
 public:
  static bool TryAcquireOrRenew(LeaderElector& e) { return e.TryAcquireOrRenew(); }
  static bool Release(LeaderElector& e) { return e.Release(); }
};

namespace {

using api::coordination::v1::Lease;
using client::flowcontrol::FakeClock;
using Verb = FakeLeaseClient::Verb;

constexpr char kNs[] = "kube-system";
constexpr char kName[] = "ctrl";
// The wall clock the electors write: far from FakeClock's readings, to show the
// written times come from wall_clock and never from the monotonic clock.
const absl::Time kWallStart = absl::FromUnixSeconds(1704164645);

class CountingMetrics : public LeaderMetrics {
 public:
  void LeaderOn(absl::string_view) override { ++on; }
  void LeaderOff(absl::string_view) override { ++off; }
  void SlowpathExercised(absl::string_view) override { ++slowpath; }
  std::atomic<int> on{0}, off{0}, slowpath{0};
};

class ElectorTest : public ::testing::Test {
 protected:
  ElectorTest() : start_(clock_.Now()) {}

  absl::Time Wall() const { return kWallStart + (clock_.Now() - start_); }

  LeaderElectionConfig Config(LeaseLock& lock) {
    LeaderElectionConfig c;
    c.lock = &lock;
    c.lease_duration = absl::Seconds(10);
    c.renew_deadline = absl::Seconds(5);
    c.retry_period = absl::Seconds(2);
    c.callbacks.on_started_leading = [](std::stop_token) {};
    c.callbacks.on_stopped_leading = [] {};
    c.name = "ctrl";
    c.metrics = &metrics_;
    c.clock = &clock_;
    c.wall_clock = [this] { return Wall(); };
    return c;
  }

  std::unique_ptr<LeaderElector> Make(LeaseLock& lock) {
    auto e = LeaderElector::Create(Config(lock));
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? *std::move(e) : nullptr;
  }

  // Stores a Lease held by `holder` (renewTime given by the holder's own clock).
  Lease PutLease(const std::string& holder, int transitions, absl::Time renew,
                 int duration_seconds = 10) {
    Lease l;
    l.mutable_metadata()->set_namespace_(kNs);
    l.mutable_metadata()->set_name(kName);
    LeaderElectionRecord r;
    r.holder_identity = holder;
    r.lease_duration_seconds = duration_seconds;
    r.acquire_time = renew - absl::Seconds(100);
    r.renew_time = renew;
    r.leader_transitions = transitions;
    *l.mutable_spec() = LeaseSpecFromRecord(r);
    return fake_.Put(l);
  }

  LeaderElectionRecord StoredRecord() {
    absl::StatusOr<Lease> l = fake_.Stored(kNs, kName);
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? RecordFromLeaseSpec(l->spec()) : LeaderElectionRecord();
  }

  FakeClock clock_;
  const absl::Time start_;
  FakeLeaseClient fake_;
  CountingMetrics metrics_;
  LeaseLock lock_a_{fake_, {.namespace_ = kNs, .name = kName, .identity = "a"}};
  LeaseLock lock_b_{fake_, {.namespace_ = kNs, .name = kName, .identity = "b"}};
};

// ---- Config validation (upstream NewLeaderElector) ----

TEST_F(ElectorTest, Validation) {
  struct Case {
    const char* name;
    std::function<void(LeaderElectionConfig&)> change;
    const char* error;  // substring; nullptr: valid
  };
  LeaseLock anonymous(fake_, {.namespace_ = kNs, .name = kName, .identity = ""});
  const std::vector<Case> cases = {
      {"defaults-of-test", [](LeaderElectionConfig&) {}, nullptr},
      {"component defaults",
       [](LeaderElectionConfig& c) {
         c.lease_duration = kDefaultLeaseDuration;
         c.renew_deadline = kDefaultRenewDeadline;
         c.retry_period = kDefaultRetryPeriod;
       },
       nullptr},
      {"lease == renew", [](LeaderElectionConfig& c) { c.renew_deadline = c.lease_duration; },
       "leaseDuration must be greater than renewDeadline"},
      {"renew == 1.2 retry",
       [](LeaderElectionConfig& c) {
         c.retry_period = absl::Seconds(5);
         c.renew_deadline = absl::Seconds(6);
       },
       "renewDeadline must be greater than retryPeriod*JitterFactor"},
      {"renew just above 1.2 retry",
       [](LeaderElectionConfig& c) {
         c.retry_period = absl::Seconds(5);
         c.renew_deadline = absl::Seconds(6) + absl::Nanoseconds(1);
       },
       nullptr},
      {"retry zero", [](LeaderElectionConfig& c) { c.retry_period = absl::ZeroDuration(); },
       "retryPeriod must be greater than zero"},
      {"renew zero",
       [](LeaderElectionConfig& c) {
         c.retry_period = -absl::Seconds(1);
         c.renew_deadline = absl::ZeroDuration();
       },
       "renewDeadline must be greater than zero"},
      {"lease under a second",
       [](LeaderElectionConfig& c) {
         c.lease_duration = absl::Milliseconds(900);
         c.renew_deadline = absl::Milliseconds(500);
         c.retry_period = absl::Milliseconds(100);
       },
       "at least 1s"},
      {"no started", [](LeaderElectionConfig& c) { c.callbacks.on_started_leading = nullptr; },
       "OnStartedLeading callback must not be nil"},
      {"no stopped", [](LeaderElectionConfig& c) { c.callbacks.on_stopped_leading = nullptr; },
       "OnStoppedLeading callback must not be nil"},
      {"no lock", [](LeaderElectionConfig& c) { c.lock = nullptr; }, "Lock must not be nil"},
      {"no identity", [&](LeaderElectionConfig& c) { c.lock = &anonymous; },
       "Lock identity is empty"},
  };
  for (const Case& tc : cases) {
    LeaderElectionConfig c = Config(lock_a_);
    tc.change(c);
    auto e = LeaderElector::Create(std::move(c));
    if (tc.error == nullptr) {
      EXPECT_TRUE(e.ok()) << tc.name << ": " << e.status();
    } else {
      ASSERT_FALSE(e.ok()) << tc.name;
      EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << tc.name;
      EXPECT_NE(std::string(e.status().message()).find(tc.error), std::string::npos)
          << tc.name << ": " << e.status();
    }
  }
}

// ---- tryAcquireOrRenew ----

TEST_F(ElectorTest, CreatesAMissingLease) {
  auto a = Make(lock_a_);
  clock_.Advance(absl::Milliseconds(1234) + absl::Nanoseconds(567));
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  EXPECT_EQ(fake_.calls(), (std::vector<Verb>{Verb::kGet, Verb::kCreate}));
  absl::StatusOr<Lease> l = fake_.Stored(kNs, kName);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->spec().holderidentity(), "a");
  EXPECT_EQ(l->spec().leasedurationseconds(), 10);
  EXPECT_EQ(l->spec().leasetransitions(), 0);
  // Wall time truncated to microseconds: 2024-01-02T03:04:06.234000Z.
  EXPECT_EQ(l->spec().acquiretime().seconds(), 1704164646);
  EXPECT_EQ(l->spec().acquiretime().nanos(), 234000000);
  EXPECT_EQ(l->spec().renewtime().seconds(), 1704164646);
  EXPECT_EQ(l->spec().renewtime().nanos(), 234000000);
  EXPECT_TRUE(a->IsLeader());
  EXPECT_EQ(a->GetLeader(), "a");
  EXPECT_EQ(a->ObservedTime(), clock_.Now());
}

TEST_F(ElectorTest, LeaseDurationSecondsIsWholeSeconds) {
  LeaderElectionConfig c = Config(lock_a_);
  c.lease_duration = absl::Milliseconds(2900);
  c.renew_deadline = absl::Milliseconds(1500);
  c.retry_period = absl::Milliseconds(300);
  auto a = LeaderElector::Create(std::move(c));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(**a));
  EXPECT_EQ(StoredRecord().lease_duration_seconds, 2);
}

TEST_F(ElectorTest, ValidLeaseOfAnotherHolderIsNotTaken) {
  PutLease("b", 3, kWallStart);
  auto a = Make(lock_a_);
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  EXPECT_EQ(fake_.calls(), (std::vector<Verb>{Verb::kGet}));
  EXPECT_FALSE(a->IsLeader());
  EXPECT_EQ(a->GetLeader(), "b");
  EXPECT_EQ(StoredRecord().holder_identity, "b");
}

TEST_F(ElectorTest, UnchangedLeaseIsTakenAfterLeaseDurationByLocalClock) {
  PutLease("b", 3, kWallStart);
  auto a = Make(lock_a_);
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));  // first sight at t0
  clock_.Advance(absl::Seconds(10) - absl::Milliseconds(1));
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));  // still valid
  clock_.Advance(absl::Milliseconds(1));                       // t0 + 10 s: expired
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  LeaderElectionRecord r = StoredRecord();
  EXPECT_EQ(r.holder_identity, "a");
  EXPECT_EQ(r.leader_transitions, 4);  // holder changed: +1
  EXPECT_EQ(r.acquire_time, Wall());   // a new term starts now
  EXPECT_EQ(r.renew_time, Wall());
  EXPECT_EQ(r.lease_duration_seconds, 10);
  EXPECT_TRUE(a->IsLeader());
}

TEST_F(ElectorTest, ClockSkewRenewTimeFarInThePastButChangingStaysValid) {
  // b's clock is a year behind: its renewTime looks ancient, but it keeps changing.
  absl::Time b_wall = kWallStart - absl::Hours(24 * 365);
  PutLease("b", 0, b_wall);
  auto a = Make(lock_a_);
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a)) << i;
    clock_.Advance(absl::Seconds(6));
    b_wall += absl::Seconds(6);
    PutLease("b", 0, b_wall);  // b renews
  }
  EXPECT_EQ(StoredRecord().holder_identity, "b");
}

TEST_F(ElectorTest, ClockSkewRenewTimeInTheFutureDoesNotProtectAStaleLease) {
  // b's clock is a year ahead and b stopped renewing.
  PutLease("b", 0, kWallStart + absl::Hours(24 * 365));
  auto a = Make(lock_a_);
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  clock_.Advance(absl::Seconds(10));
  EXPECT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  EXPECT_EQ(StoredRecord().holder_identity, "a");
  EXPECT_EQ(StoredRecord().leader_transitions, 1);
}

TEST_F(ElectorTest, ObservedTimeRestartsOnEveryChange) {
  PutLease("b", 0, kWallStart);
  auto a = Make(lock_a_);
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  clock_.Advance(absl::Seconds(8));
  PutLease("b", 0, kWallStart + absl::Seconds(1));  // a renewal a sees at t0 + 8 s
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  clock_.Advance(absl::Seconds(9));  // t0 + 17 s: 9 s after the change
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
}

TEST_F(ElectorTest, HoldersLeaseDurationIsUsedNotOurs) {
  PutLease("b", 0, kWallStart, /*duration_seconds=*/30);
  auto a = Make(lock_a_);  // ours is 10 s
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  clock_.Advance(absl::Seconds(29));
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  EXPECT_EQ(StoredRecord().lease_duration_seconds, 10);
}

TEST_F(ElectorTest, ReleasedLeaseIsTakenAtOnce) {
  PutLease("", 5, kWallStart, /*duration_seconds=*/1);
  auto a = Make(lock_a_);
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  EXPECT_EQ(StoredRecord().holder_identity, "a");
  EXPECT_EQ(StoredRecord().leader_transitions, 6);
}

TEST_F(ElectorTest, LeaderRenewsOnTheFastPathWithoutReading) {
  auto a = Make(lock_a_);
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  const absl::Time acquired = Wall();
  fake_.clear_calls();
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  EXPECT_EQ(fake_.calls(), (std::vector<Verb>{Verb::kUpdate}));
  LeaderElectionRecord r = StoredRecord();
  EXPECT_EQ(r.holder_identity, "a");
  EXPECT_EQ(r.acquire_time, acquired);  // kept
  EXPECT_EQ(r.renew_time, Wall());      // renewed
  EXPECT_EQ(r.leader_transitions, 0);   // kept
  EXPECT_EQ(a->ObservedTime(), clock_.Now());
  EXPECT_EQ(metrics_.slowpath, 0);
}

TEST_F(ElectorTest, FastPathConflictFallsBackToReadingAndLoses) {
  auto a = Make(lock_a_);
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  // b overwrote the lease behind a's back (e.g. a was paused).
  PutLease("b", 1, kWallStart + absl::Seconds(1));
  fake_.clear_calls();
  clock_.Advance(absl::Seconds(2));
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  EXPECT_EQ(fake_.calls(), (std::vector<Verb>{Verb::kUpdate, Verb::kGet}));
  EXPECT_FALSE(a->IsLeader());
  EXPECT_EQ(a->GetLeader(), "b");
  EXPECT_EQ(StoredRecord().holder_identity, "b");
}

TEST_F(ElectorTest, ExpiredOwnLeaseIsRenewedOnTheSlowPath) {
  auto a = Make(lock_a_);
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  const absl::Time acquired = Wall();
  fake_.clear_calls();
  clock_.Advance(absl::Seconds(11));  // past our own lease: no fast path
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  EXPECT_EQ(fake_.calls(), (std::vector<Verb>{Verb::kGet, Verb::kUpdate}));
  EXPECT_EQ(metrics_.slowpath, 1);
  LeaderElectionRecord r = StoredRecord();
  EXPECT_EQ(r.acquire_time, acquired);
  EXPECT_EQ(r.leader_transitions, 0);
}

TEST_F(ElectorTest, LostRaceOnUpdateIsAFailure) {
  PutLease("c", 2, kWallStart);
  auto a = Make(lock_a_);
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  clock_.Advance(absl::Seconds(10));
  // b takes the expired lease between a's read and a's write.
  fake_.set_interceptor([&](Verb v) {
    if (v == Verb::kUpdate) {
      fake_.set_interceptor(nullptr);
      PutLease("b", 3, kWallStart + absl::Seconds(10));
    }
    return absl::OkStatus();
  });
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  EXPECT_EQ(StoredRecord().holder_identity, "b");
  EXPECT_FALSE(a->IsLeader());
}

TEST_F(ElectorTest, TwoCandidatesRacingForAMissingLeaseOneWins) {
  auto a = Make(lock_a_);
  auto b = Make(lock_b_);
  // b creates between a's 404 and a's create.
  fake_.set_interceptor([&](Verb v) {
    if (v == Verb::kCreate) {
      fake_.set_interceptor(nullptr);
      EXPECT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*b));
    }
    return absl::OkStatus();
  });
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));  // AlreadyExists
  EXPECT_TRUE(b->IsLeader());
  EXPECT_FALSE(a->IsLeader());
  EXPECT_EQ(StoredRecord().holder_identity, "b");
}

TEST_F(ElectorTest, ReadErrorIsAFailureWithoutWrites) {
  auto a = Make(lock_a_);
  fake_.set_interceptor([](Verb) { return absl::UnavailableError("connection refused"); });
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  EXPECT_EQ(fake_.calls(), (std::vector<Verb>{Verb::kGet}));
  EXPECT_EQ(a->GetLeader(), "");
}

// ---- release ----

TEST_F(ElectorTest, ReleaseWritesAnEmptyHolderWithOneSecond) {
  auto a = Make(lock_a_);
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(LeaderElectorTestPeer::Release(*a));
  absl::StatusOr<Lease> l = fake_.Stored(kNs, kName);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->spec().has_holderidentity());
  EXPECT_EQ(l->spec().holderidentity(), "");
  EXPECT_EQ(l->spec().leasedurationseconds(), 1);
  EXPECT_EQ(l->spec().leasetransitions(), 0);
  EXPECT_EQ(FromMicroTime(l->spec().acquiretime()), Wall());
  EXPECT_EQ(FromMicroTime(l->spec().renewtime()), Wall());
  EXPECT_FALSE(a->IsLeader());
  // The next candidate takes it at once.
  auto b = Make(lock_b_);
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*b));
  EXPECT_EQ(StoredRecord().leader_transitions, 1);
}

TEST_F(ElectorTest, ReleaseRetriesOnConflict) {
  auto a = Make(lock_a_);
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  int updates = 0;
  fake_.set_interceptor([&](Verb v) -> absl::Status {
    if (v == Verb::kUpdate && ++updates == 1) {
      return client::ToStatus(client::NewConflict({"coordination.k8s.io", "leases"}, kName));
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(LeaderElectorTestPeer::Release(*a));
  EXPECT_EQ(updates, 2);
  EXPECT_EQ(StoredRecord().holder_identity, "");
}

TEST_F(ElectorTest, ReleaseByANonLeaderWritesNothing) {
  PutLease("b", 0, kWallStart);
  auto a = Make(lock_a_);
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  fake_.clear_calls();
  EXPECT_TRUE(LeaderElectorTestPeer::Release(*a));
  EXPECT_EQ(fake_.calls(), (std::vector<Verb>{Verb::kGet}));
  EXPECT_EQ(StoredRecord().holder_identity, "b");
}

// ---- health ----

TEST_F(ElectorTest, CheckFailsOnlyForAStuckLeader) {
  HealthzAdaptor healthz(absl::Seconds(20));
  EXPECT_EQ(healthz.Name(), "leaderElection");
  EXPECT_TRUE(healthz.Check().ok());  // no elector yet
  PutLease("b", 0, kWallStart);
  auto a = Make(lock_a_);
  healthz.SetLeaderElection(a.get());
  EXPECT_FALSE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  clock_.Advance(absl::Hours(1));
  EXPECT_TRUE(healthz.Check().ok());  // not leading: healthy
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));
  clock_.Advance(absl::Seconds(30));  // lease 10 s + tolerance 20 s: still fine
  EXPECT_TRUE(healthz.Check().ok());
  clock_.Advance(absl::Milliseconds(1));
  absl::Status s = healthz.Check();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("failed election to renew leadership on lease ctrl"),
            std::string::npos)
      << s;
  ASSERT_TRUE(LeaderElectorTestPeer::TryAcquireOrRenew(*a));  // renewed
  EXPECT_TRUE(healthz.Check().ok());
  healthz.SetLeaderElection(nullptr);
}

// ---- Run ----

// Records callbacks with the fake clock's readings.
struct Journal {
  std::mutex mu;
  std::vector<std::string> events;
  absl::Time started = absl::InfinitePast();
  absl::Time stop_seen = absl::InfinitePast();
  void Add(std::string e) {
    std::lock_guard<std::mutex> l(mu);
    events.push_back(std::move(e));
  }
  std::vector<std::string> Events() {
    std::lock_guard<std::mutex> l(mu);
    return events;
  }
};

void Wire(LeaderElectionConfig& c, Journal& j, FakeClock& clock) {
  c.callbacks.on_started_leading = [&j, &clock](std::stop_token stop) {
    {
      std::lock_guard<std::mutex> l(j.mu);
      j.started = clock.Now();
      j.events.push_back("started");
    }
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, stop, [] { return false; });
    std::lock_guard<std::mutex> l(j.mu);
    j.stop_seen = clock.Now();
    j.events.push_back("token stopped");
  };
  c.callbacks.on_stopped_leading = [&j] { j.Add("stopped"); };
  c.callbacks.on_new_leader = [&j](const std::string& id) { j.Add("new leader " + id); };
}

TEST_F(ElectorTest, RunWithoutEverLeadingStillCallsOnStoppedLeading) {
  PutLease("b", 0, kWallStart);
  LeaderElectionConfig c = Config(lock_a_);
  Journal j;
  Wire(c, j, clock_);
  auto a = LeaderElector::Create(std::move(c));
  ASSERT_TRUE(a.ok());
  std::stop_source stop;
  std::thread t([&] { (*a)->Run(stop.get_token()); });
  clock_.AwaitSleepers(1);  // waiting to retry
  stop.request_stop();
  t.join();
  EXPECT_EQ(j.Events(), (std::vector<std::string>{"new leader b", "stopped"}));
  EXPECT_EQ(metrics_.on, 0);
}

TEST_F(ElectorTest, AcquireRetriesWithJitterBetweenRetryPeriodAnd2Point2Times) {
  PutLease("b", 0, kWallStart);
  clock_.set_auto_advance(true);
  std::vector<absl::Time> gets;
  std::stop_source stop;
  fake_.set_interceptor([&](Verb v) {
    if (v == Verb::kGet) {
      gets.push_back(clock_.Now());
      // b keeps renewing, so a never gets the lease.
      PutLease("b", 0, kWallStart + (clock_.Now() - start_));
      if (gets.size() == 50) stop.request_stop();
    }
    return absl::OkStatus();
  });
  auto a = Make(lock_a_);
  a->Run(stop.get_token());  // single thread: the clock advances by itself
  ASSERT_EQ(gets.size(), 50u);
  absl::Duration min = absl::InfiniteDuration(), max = absl::ZeroDuration();
  for (size_t i = 1; i < gets.size(); ++i) {
    const absl::Duration gap = gets[i] - gets[i - 1];
    EXPECT_GE(gap, absl::Seconds(2)) << i;
    EXPECT_LT(gap, absl::Seconds(2) * 2.2) << i;
    min = std::min(min, gap);
    max = std::max(max, gap);
  }
  EXPECT_GT(max - min, absl::Milliseconds(100)) << "no jitter";
  EXPECT_FALSE(a->IsLeader());
}

TEST_F(ElectorTest, RunLeadsRenewsAndReleasesOnStop) {
  LeaderElectionConfig c = Config(lock_a_);
  c.release_on_cancel = true;
  Journal j;
  Wire(c, j, clock_);
  auto a = LeaderElector::Create(std::move(c));
  ASSERT_TRUE(a.ok());
  std::stop_source stop;
  std::thread t([&] { (*a)->Run(stop.get_token()); });
  // Lead, then renew every retry period (2 s) on the fast path.
  clock_.AwaitSleepers(1);
  EXPECT_TRUE((*a)->IsLeader());
  fake_.clear_calls();
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Seconds(2));
    // Wait for the renewal to land and the loop to sleep again.
    while (fake_.calls().size() < static_cast<size_t>(i + 1)) std::this_thread::yield();
    clock_.AwaitSleepers(1);
  }
  EXPECT_EQ(fake_.calls(), std::vector<Verb>(5, Verb::kUpdate));
  EXPECT_EQ(StoredRecord().renew_time, kWallStart + absl::Seconds(10));
  EXPECT_EQ(StoredRecord().acquire_time, kWallStart);
  stop.request_stop();
  t.join();
  EXPECT_EQ(j.Events(), (std::vector<std::string>{"new leader a", "started", "token stopped",
                                                  "stopped"}));
  // Released as upstream writes it.
  LeaderElectionRecord r = StoredRecord();
  EXPECT_EQ(r.holder_identity, "");
  EXPECT_EQ(r.lease_duration_seconds, 1);
  EXPECT_EQ(r.leader_transitions, 0);
  EXPECT_EQ(metrics_.on, 1);
  EXPECT_EQ(metrics_.off, 1);
  EXPECT_FALSE((*a)->IsLeader());
}

TEST_F(ElectorTest, RunGivesUpRenewDeadlineAfterTheRoundBegan) {
  clock_.set_auto_advance(true);
  LeaderElectionConfig c = Config(lock_a_);  // lease 10 s, renew 5 s, retry 2 s
  c.release_on_cancel = true;
  Journal j;
  Wire(c, j, clock_);
  int updates = 0;
  std::vector<absl::Time> failed_attempts;
  fake_.set_interceptor([&](Verb v) -> absl::Status {
    // Create, then two good renewals, then the server is gone.
    if (v == Verb::kUpdate && ++updates <= 2) return absl::OkStatus();
    if (v == Verb::kCreate) return absl::OkStatus();
    if (v == Verb::kGet && updates == 0) return absl::OkStatus();
    if (v == Verb::kUpdate) failed_attempts.push_back(clock_.Now());
    return absl::UnavailableError("connection refused");
  });
  auto a = LeaderElector::Create(std::move(c));
  ASSERT_TRUE(a.ok());
  (*a)->Run(std::stop_token());  // returns by itself
  // t0 acquire; rounds at t0 (renewal 1) and t0+2 (renewal 2); the round starting at
  // t0+4 tries at +0, +2, +4 and gives up at its deadline +5: t0+9.
  ASSERT_EQ(failed_attempts.size(), 3u);
  EXPECT_EQ(failed_attempts[0] - start_, absl::Seconds(4));
  EXPECT_EQ(failed_attempts[1] - start_, absl::Seconds(6));
  EXPECT_EQ(failed_attempts[2] - start_, absl::Seconds(8));
  // (j.started is not checked: the leading thread may start after the clock moved.)
  EXPECT_EQ(j.stop_seen - start_, absl::Seconds(9));
  // Lost before others could take over: last renewal at t0+2, others wait 10 s.
  EXPECT_LT(j.stop_seen, start_ + absl::Seconds(2) + absl::Seconds(10));
  EXPECT_EQ(j.Events(), (std::vector<std::string>{"new leader a", "started", "token stopped",
                                                  "stopped"}));
  EXPECT_EQ(metrics_.off, 1);
}

TEST_F(ElectorTest, RunStopsLeadingWhenAnotherHolderTookOver) {
  clock_.set_auto_advance(true);
  LeaderElectionConfig c = Config(lock_a_);
  Journal j;
  Wire(c, j, clock_);
  int updates = 0;
  fake_.set_interceptor([&](Verb v) {
    // After a's second renewal, b takes the lease (a was partitioned, say).
    if (v == Verb::kUpdate && ++updates == 3) {
      PutLease("b", 1, kWallStart + absl::Seconds(60));
    }
    return absl::OkStatus();
  });
  auto a = LeaderElector::Create(std::move(c));
  ASSERT_TRUE(a.ok());
  (*a)->Run(std::stop_token());
  // "started" comes from the leading thread, which may run late; the rest is ordered.
  std::vector<std::string> events = j.Events();
  auto started = std::find(events.begin(), events.end(), "started");
  ASSERT_NE(started, events.end());
  EXPECT_LT(started - events.begin(),
            std::find(events.begin(), events.end(), "token stopped") - events.begin());
  events.erase(started);
  EXPECT_EQ(events, (std::vector<std::string>{"new leader a", "new leader b", "token stopped",
                                              "stopped"}));
  EXPECT_EQ((*a)->GetLeader(), "b");
  EXPECT_EQ(StoredRecord().holder_identity, "b");
}

TEST_F(ElectorTest, RunLeaderElectionReportsConfigErrors) {
  LeaderElectionConfig c = Config(lock_a_);
  c.retry_period = absl::ZeroDuration();
  absl::Status s = RunLeaderElection(std::move(c), std::stop_token());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kslice::controller::leaderelection
