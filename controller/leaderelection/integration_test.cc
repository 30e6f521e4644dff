// Leader election against envtest's API server with real clocks: several candidates
// on one Lease, each with its own REST client. Every leading interval is recorded
// (from on_started_leading's entry to its return, which happens once its stop token
// fired) and intervals of different candidates must never overlap.
//
// Timings: lease 3 s, renew deadline 2 s, retry 0.4 s. A leader stops at the latest
// retry + renew = 2.4 s after its last renewal while others wait 3 s after seeing it:
// 0.6 s of margin for request latency (generous under TSAN on a busy machine).
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/coordination/v1/coordination.pb.h"
#include "client/flowcontrol/clock.h"
#include "client/rest/client.h"
#include "controller/leaderelection/leader_elector.h"
#include "controller/leaderelection/lease_lock.h"
#include "envtest/environment/environment.h"
#include "gtest/gtest.h"

namespace kslice::controller::leaderelection {
namespace {

using api::coordination::v1::Lease;
using api::coordination::v1::LeaseList;
using client::flowcontrol::Clock;

constexpr absl::Duration kLease = absl::Seconds(3);
constexpr absl::Duration kRenew = absl::Seconds(2);
constexpr absl::Duration kRetry = absl::Milliseconds(400);
constexpr char kLeaseName[] = "my-controller";

struct Interval {
  std::string who;
  absl::Time start;
  absl::Time end = absl::InfiniteFuture();  // open while leading
};

// Every candidate's leading intervals, on the one monotonic clock of the process.
class Timeline {
 public:
  int Start(const std::string& who) {
    std::lock_guard<std::mutex> l(mu_);
    intervals_.push_back({who, Clock::Real().Now()});
    cv_.notify_all();
    return static_cast<int>(intervals_.size()) - 1;
  }
  void End(int i) {
    std::lock_guard<std::mutex> l(mu_);
    intervals_[i].end = Clock::Real().Now();
    cv_.notify_all();
  }
  std::vector<Interval> Intervals() const {
    std::lock_guard<std::mutex> l(mu_);
    return intervals_;
  }
  // Waits until someone other than `except` leads; returns who ("" on timeout).
  std::string AwaitLeader(const std::string& except, absl::Duration timeout) {
    std::unique_lock<std::mutex> l(mu_);
    std::string found;
    cv_.wait_for(l, absl::ToChronoNanoseconds(timeout), [&] {
      for (const Interval& i : intervals_) {
        if (i.end == absl::InfiniteFuture() && i.who != except) {
          found = i.who;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  // Checks that no two intervals overlap.
  void ExpectNoOverlap() const {
    std::vector<Interval> v = Intervals();
    std::sort(v.begin(), v.end(),
              [](const Interval& a, const Interval& b) { return a.start < b.start; });
    for (size_t i = 1; i < v.size(); ++i) {
      EXPECT_LE(v[i - 1].end, v[i].start)
          << v[i - 1].who << " still led when " << v[i].who << " started ("
          << absl::FormatDuration(v[i - 1].end - v[i].start) << " overlap)";
    }
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Interval> intervals_;
};

// A LeaseClient that can be switched to a client of a server that is gone, as when
// the candidate's network is cut.
class CuttableLeaseClient : public LeaseClient {
 public:
  CuttableLeaseClient(std::unique_ptr<LeaseClient> good, std::unique_ptr<LeaseClient> dead)
      : good_(std::move(good)), dead_(std::move(dead)) {}
  void Cut() { cut_ = true; }
  absl::StatusOr<Lease> Get(absl::string_view ns, absl::string_view name) override {
    return (cut_ ? dead_ : good_)->Get(ns, name);
  }
  absl::StatusOr<Lease> Create(const Lease& lease) override {
    return (cut_ ? dead_ : good_)->Create(lease);
  }
  absl::StatusOr<Lease> Update(const Lease& lease) override {
    return (cut_ ? dead_ : good_)->Update(lease);
  }

 private:
  std::unique_ptr<LeaseClient> good_, dead_;
  std::atomic<bool> cut_{false};
};

class Candidate {
 public:
  Candidate(const client::RestConfig& config, const std::string& ns, std::string id,
            Timeline& timeline, bool release_on_cancel)
      : id_(std::move(id)), timeline_(timeline) {
    client::ClientOptions options;
    options.max_retries = 0;
    rest_ = *client::RestClient::Create(config, options);
    client::RestConfig gone = config;
    gone.host = "https://127.0.0.1:1";  // nothing listens there: connection refused
    dead_rest_ = *client::RestClient::Create(gone, options);
    leases_ = std::make_unique<CuttableLeaseClient>(NewRestLeaseClient(*rest_),
                                                   NewRestLeaseClient(*dead_rest_));
    lock_ = std::make_unique<LeaseLock>(
        *leases_, LeaseLockOptions{.namespace_ = ns, .name = kLeaseName, .identity = id_,
                                   .labels = {{"component", "test"}}});
    LeaderElectionConfig c;
    c.lock = lock_.get();
    c.lease_duration = kLease;
    c.renew_deadline = kRenew;
    c.retry_period = kRetry;
    c.release_on_cancel = release_on_cancel;
    c.name = kLeaseName;
    c.callbacks.on_started_leading = [this](std::stop_token stop) {
      const int i = timeline_.Start(id_);
      std::mutex m;
      std::condition_variable_any cv;
      std::unique_lock<std::mutex> l(m);
      cv.wait(l, stop, [] { return false; });
      timeline_.End(i);
    };
    c.callbacks.on_stopped_leading = [this] { stopped_ = true; };
    c.callbacks.on_new_leader = [this](const std::string& leader) {
      std::lock_guard<std::mutex> l(mu_);
      leaders_seen_.push_back(leader);
    };
    auto e = LeaderElector::Create(std::move(c));
    EXPECT_TRUE(e.ok()) << e.status();
    elector_ = *std::move(e);
  }
  ~Candidate() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { elector_->Run(stop_.get_token()); });
  }
  void Stop() {
    stop_.request_stop();
    if (thread_.joinable()) thread_.join();
  }
  void Cut() { leases_->Cut(); }
  // Run returned by itself (lost the lease).
  bool stopped() const { return stopped_; }
  const std::string& id() const { return id_; }
  LeaderElector& elector() { return *elector_; }
  std::vector<std::string> leaders_seen() {
    std::lock_guard<std::mutex> l(mu_);
    return leaders_seen_;
  }

 private:
  const std::string id_;
  Timeline& timeline_;
  std::unique_ptr<client::RestClient> rest_, dead_rest_;
  std::unique_ptr<CuttableLeaseClient> leases_;
  std::unique_ptr<LeaseLock> lock_;
  std::unique_ptr<LeaderElector> elector_;
  std::stop_source stop_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::vector<std::string> leaders_seen_;
};

class LeaderElectionIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto env = envtest::Environment::Start();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = env->release();
  }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(env_, nullptr);
    config_ = env_->config();
    config_.qps = 200;
    config_.burst = 200;
    config_.timeout = absl::Seconds(1);
    auto ns = env_->CreateNamespace("le-");
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_ = *ns;
    auto c = client::RestClient::Create(config_);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = *std::move(c);
  }

  absl::StatusOr<Lease> GetLease() {
    return client::Typed<Lease, LeaseList>(*client_).Get(ns_, kLeaseName);
  }

  std::vector<std::unique_ptr<Candidate>> Candidates(int n, bool release_on_cancel) {
    std::vector<std::unique_ptr<Candidate>> v;
    for (int i = 0; i < n; ++i) {
      v.push_back(std::make_unique<Candidate>(config_, ns_, absl::StrCat("candidate-", i),
                                              timeline_, release_on_cancel));
    }
    return v;
  }

  static Candidate* Find(std::vector<std::unique_ptr<Candidate>>& v, const std::string& id) {
    for (auto& c : v) {
      if (c->id() == id) return c.get();
    }
    return nullptr;
  }

  static envtest::Environment* env_;
  client::RestConfig config_;
  std::unique_ptr<client::RestClient> client_;
  std::string ns_;
  Timeline timeline_;
};

envtest::Environment* LeaderElectionIntegrationTest::env_ = nullptr;

// Two candidates: exactly one leads and keeps leading; the Lease says so.
TEST_F(LeaderElectionIntegrationTest, TwoCandidatesOneLeadsOtherTakesOverAfterStop) {
  auto cs = Candidates(2, /*release_on_cancel=*/false);
  for (auto& c : cs) c->Start();
  const std::string first = timeline_.AwaitLeader("", absl::Seconds(10));
  ASSERT_FALSE(first.empty());
  // Several lease durations: the leader keeps the lease, the other never leads.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  std::vector<Interval> iv = timeline_.Intervals();
  ASSERT_EQ(iv.size(), 1u);
  EXPECT_EQ(iv[0].who, first);
  EXPECT_EQ(iv[0].end, absl::InfiniteFuture());
  Candidate* leader = Find(cs, first);
  Candidate* other = Find(cs, first == "candidate-0" ? "candidate-1" : "candidate-0");
  EXPECT_TRUE(leader->elector().IsLeader());
  EXPECT_FALSE(other->elector().IsLeader());
  EXPECT_EQ(other->elector().GetLeader(), first);
  absl::StatusOr<Lease> lease = GetLease();
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->spec().holderidentity(), first);
  EXPECT_EQ(lease->spec().leasedurationseconds(), 3);
  EXPECT_EQ(lease->spec().leasetransitions(), 0);
  EXPECT_EQ(lease->metadata().labels().at("component"), "test");
  // The renewTime is recent (written from the wall clock).
  absl::Time renewed = FromMicroTime(lease->spec().renewtime());
  EXPECT_LT(absl::Now() - renewed, absl::Seconds(2));
  EXPECT_GT(renewed, FromMicroTime(lease->spec().acquiretime()));

  // Stop the leader without releasing: the other takes over about a lease duration
  // after it last saw the lease change.
  const absl::Time stopped_at = Clock::Real().Now();
  leader->Stop();
  const std::string second = timeline_.AwaitLeader(first, absl::Seconds(10));
  ASSERT_EQ(second, other->id());
  const absl::Duration gap = timeline_.Intervals().back().start - stopped_at;
  EXPECT_GE(gap, kLease - kRetry * 2.2 - absl::Milliseconds(500)) << gap;
  EXPECT_LE(gap, kLease + kRetry * 2.2 + absl::Seconds(1)) << gap;
  lease = GetLease();
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->spec().holderidentity(), second);
  EXPECT_EQ(lease->spec().leasetransitions(), 1);
  EXPECT_TRUE(leader->stopped());
  other->Stop();
  timeline_.ExpectNoOverlap();
  // The other saw the first leader, then itself.
  EXPECT_EQ(other->leaders_seen(), (std::vector<std::string>{first, second}));
}

TEST_F(LeaderElectionIntegrationTest, ReleaseOnCancelHandsOverAtOnce) {
  auto cs = Candidates(2, /*release_on_cancel=*/true);
  for (auto& c : cs) c->Start();
  const std::string first = timeline_.AwaitLeader("", absl::Seconds(10));
  ASSERT_FALSE(first.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  Candidate* leader = Find(cs, first);
  const absl::Time stopped_at = Clock::Real().Now();
  leader->Stop();  // releases before Run returns
  absl::StatusOr<Lease> released = GetLease();
  ASSERT_TRUE(released.ok()) << released.status();
  // Released (or already taken by the other candidate).
  if (released->spec().holderidentity().empty()) {
    EXPECT_EQ(released->spec().leasedurationseconds(), 1);
  }
  const std::string second = timeline_.AwaitLeader(first, absl::Seconds(10));
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second, first);
  // Within the acquire loop's pause (at most 2.2 retry periods), not a lease duration.
  const absl::Duration gap = timeline_.Intervals().back().start - stopped_at;
  EXPECT_LT(gap, kRetry * 2.2 + absl::Milliseconds(700)) << gap;
  absl::StatusOr<Lease> lease = GetLease();
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->spec().holderidentity(), second);
  EXPECT_EQ(lease->spec().leasetransitions(), 1);
  for (auto& c : cs) c->Stop();
  timeline_.ExpectNoOverlap();
  // The second leader released as well on its stop.
  lease = GetLease();
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->spec().holderidentity(), "");
  EXPECT_EQ(lease->spec().leasetransitions(), 1);
}

TEST_F(LeaderElectionIntegrationTest, ThreeCandidatesLeaderCutOff) {
  auto cs = Candidates(3, /*release_on_cancel=*/true);
  for (auto& c : cs) c->Start();
  const std::string first = timeline_.AwaitLeader("", absl::Seconds(10));
  ASSERT_FALSE(first.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  Candidate* leader = Find(cs, first);
  const absl::Time cut_at = Clock::Real().Now();
  leader->Cut();  // its requests now fail with connection refused
  const std::string second = timeline_.AwaitLeader(first, absl::Seconds(15));
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second, first);
  const absl::Time second_at = timeline_.Intervals().back().start;
  // The cut leader gave up by itself within retry + renew deadline of the cut...
  std::vector<Interval> iv = timeline_.Intervals();
  ASSERT_GE(iv.size(), 2u);
  EXPECT_EQ(iv[0].who, first);
  EXPECT_LE(iv[0].end - cut_at, kRetry + kRenew + absl::Milliseconds(500));
  // ... and the others took over about a lease duration after its last renewal.
  EXPECT_LE(second_at - cut_at, kLease + kRetry * 2.2 + absl::Seconds(1));
  for (int i = 0; i < 100 && !leader->stopped(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(leader->stopped());  // Run returned on its own
  EXPECT_FALSE(leader->elector().GetLeader().empty());
  // Exactly one leader now, for a while.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  int leading = 0;
  for (const Interval& i : timeline_.Intervals()) leading += i.end == absl::InfiniteFuture();
  EXPECT_EQ(leading, 1);
  absl::StatusOr<Lease> lease = GetLease();
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->spec().holderidentity(), second);
  EXPECT_EQ(lease->spec().leasetransitions(), 1);
  for (auto& c : cs) c->Stop();
  timeline_.ExpectNoOverlap();
}

// Connections dropped under everyone's feet: requests fail once, the next attempt
// reconnects well within the renew deadline, and the leader keeps its lease.
TEST_F(LeaderElectionIntegrationTest, DroppedConnectionsDoNotCostTheLease) {
  if (env_->external()) GTEST_SKIP() << "needs the embedded server";
  auto cs = Candidates(3, /*release_on_cancel=*/false);
  for (auto& c : cs) c->Start();
  const std::string first = timeline_.AwaitLeader("", absl::Seconds(10));
  ASSERT_FALSE(first.empty());
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(450));
    env_->embedded()->http().DropConnections();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  std::vector<Interval> iv = timeline_.Intervals();
  ASSERT_EQ(iv.size(), 1u);
  EXPECT_EQ(iv[0].who, first);
  EXPECT_EQ(iv[0].end, absl::InfiniteFuture());
  absl::StatusOr<Lease> lease = GetLease();
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->spec().holderidentity(), first);
  EXPECT_EQ(lease->spec().leasetransitions(), 0);
  for (auto& c : cs) c->Stop();
  timeline_.ExpectNoOverlap();
}

// The whole Lease written by an elector, read back through JSON (kubectl's view).
TEST_F(LeaderElectionIntegrationTest, LeaseFieldsAsUpstreamWritesThem) {
  auto cs = Candidates(1, /*release_on_cancel=*/false);
  cs[0]->Start();
  ASSERT_EQ(timeline_.AwaitLeader("", absl::Seconds(10)), "candidate-0");
  client::ClientOptions json;
  json.prefer_json = true;
  auto c = client::RestClient::Create(config_, json);
  ASSERT_TRUE(c.ok());
  absl::StatusOr<client::Response> raw = (*c)->Send(
      "GET", absl::StrCat("/apis/coordination.k8s.io/v1/namespaces/", ns_, "/leases/",
                          kLeaseName));
  ASSERT_TRUE(raw.ok()) << raw.status();
  const std::string& body = raw->body;
  EXPECT_NE(body.find(R"("holderIdentity":"candidate-0")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("leaseDurationSeconds":3)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("leaseTransitions":0)"), std::string::npos) << body;
  // MicroTime: RFC 3339 with exactly six fractional digits.
  for (const char* field : {"\"acquireTime\":\"", "\"renewTime\":\""}) {
    size_t at = body.find(field);
    ASSERT_NE(at, std::string::npos) << field << body;
    std::string value = body.substr(at + strlen(field), 27);
    EXPECT_EQ(value.size(), 27u);
    EXPECT_EQ(value[19], '.') << value;
    EXPECT_EQ(value[26], 'Z') << value;
  }
  cs[0]->Stop();
}

}  // namespace
}  // namespace kslice::controller::leaderelection
