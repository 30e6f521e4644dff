#include "controller/record/recorder.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "api/coordination/v1/coordination.pb.h"
#include "client/errors/errors.h"
#include "gtest/gtest.h"

namespace kslice::controller::record {
namespace {

using api::core::v1::Pod;

// Answers from a script; records every call. Create/Patch beyond the script succeed.
class FakeSink : public EventSink {
 public:
  struct Call {
    std::string verb;  // "create" or "patch"
    api::core::v1::Event event;
    std::string patch;
  };

  absl::StatusOr<api::core::v1::Event> Create(const api::core::v1::Event& e) override {
    return Answer({"create", e, ""});
  }
  absl::StatusOr<api::core::v1::Event> Patch(const api::core::v1::Event& e,
                                             std::string_view patch) override {
    return Answer({"patch", e, std::string(patch)});
  }

  void Script(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(s));
  }
  void Block() {
    std::lock_guard<std::mutex> lock(mu_);
    blocked_ = true;
  }
  void Unblock() {
    std::lock_guard<std::mutex> lock(mu_);
    blocked_ = false;
    cv_.notify_all();
  }
  void AwaitCalls(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return calls_.size() >= n; });
  }
  std::vector<Call> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  absl::StatusOr<api::core::v1::Event> Answer(Call call) {
    std::unique_lock<std::mutex> lock(mu_);
    calls_.push_back(call);
    cv_.notify_all();
    cv_.wait(lock, [&] { return !blocked_; });
    if (!script_.empty()) {
      absl::Status s = script_.front();
      script_.pop_front();
      if (!s.ok()) return s;
    }
    api::core::v1::Event out = call.event;
    out.mutable_metadata()->set_resourceversion(std::to_string(++rv_));
    return out;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
  std::deque<absl::Status> script_;
  bool blocked_ = false;
  int rv_ = 0;
};

Pod MakePod() {
  Pod p;
  p.mutable_metadata()->set_namespace_("ns1");
  p.mutable_metadata()->set_name("web");
  p.mutable_metadata()->set_uid("u-1");
  p.mutable_metadata()->set_resourceversion("42");
  return p;
}

class RecorderTest : public ::testing::Test {
 protected:
  RecorderTest() { clock_.set_auto_advance(true); }

  std::unique_ptr<Recorder> Make(RecorderOptions o = {}) {
    auto sink = std::make_unique<FakeSink>();
    sink_ = sink.get();
    o.component = "my-ctrl";
    o.host = "node-a";
    o.clock = &clock_;
    o.now = [] { return absl::FromUnixNanos(1700000000123456789); };
    auto r = Recorder::Create(std::move(sink), std::move(o));
    EXPECT_TRUE(r.ok()) << r.status();
    return std::move(*r);
  }

  client::flowcontrol::FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  FakeSink* sink_ = nullptr;
};

TEST_F(RecorderTest, BuildsEventLikeClientGo) {
  auto r = Make();
  r->Eventf(MakePod(), kEventTypeWarning, "FailedSync", "sync %s failed: %d", "web", 3);
  ASSERT_TRUE(r->Flush(absl::Seconds(10)));
  auto calls = sink_->calls();
  ASSERT_EQ(calls.size(), 1u);
  const auto& e = calls[0].event;
  EXPECT_EQ(calls[0].verb, "create");
  EXPECT_EQ(e.metadata().name(), "web.17979cfe3d85cd15");
  EXPECT_EQ(e.metadata().namespace_(), "ns1");
  EXPECT_EQ(e.involvedobject().kind(), "Pod");
  EXPECT_EQ(e.involvedobject().apiversion(), "v1");
  EXPECT_EQ(e.involvedobject().namespace_(), "ns1");
  EXPECT_EQ(e.involvedobject().name(), "web");
  EXPECT_EQ(e.involvedobject().uid(), "u-1");
  EXPECT_EQ(e.involvedobject().resourceversion(), "42");
  EXPECT_EQ(e.type(), "Warning");
  EXPECT_EQ(e.reason(), "FailedSync");
  EXPECT_EQ(e.message(), "sync web failed: 3");
  EXPECT_EQ(e.count(), 1);
  EXPECT_EQ(e.firsttimestamp().seconds(), 1700000000);
  EXPECT_EQ(e.lasttimestamp().seconds(), 1700000000);
  EXPECT_EQ(e.source().component(), "my-ctrl");
  EXPECT_EQ(e.source().host(), "node-a");
  EXPECT_EQ(e.reportingcomponent(), "my-ctrl");
  EXPECT_EQ(e.reportinginstance(), "node-a");
}

TEST_F(RecorderTest, ClusterScopedObjectsGoToDefaultAndReferencesPassThrough) {
  auto r = Make();
  api::coordination::v1::Lease lease;  // namespaced, but without a namespace here
  lease.mutable_metadata()->set_name("lock");
  r->Event(lease, kEventTypeNormal, "Acquired", "became leader");
  api::core::v1::ObjectReference ref;
  ref.set_kind("Node");
  ref.set_name("n1");
  ref.set_fieldpath("spec");
  r->Event(ref, kEventTypeNormal, "Ready", "node ready");
  ASSERT_TRUE(r->Flush(absl::Seconds(10)));
  auto calls = sink_->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].event.metadata().namespace_(), "default");
  EXPECT_EQ(calls[0].event.involvedobject().apiversion(), "coordination.k8s.io/v1");
  EXPECT_EQ(calls[0].event.involvedobject().kind(), "Lease");
  EXPECT_EQ(calls[1].event.involvedobject().fieldpath(), "spec");
  EXPECT_EQ(calls[1].event.metadata().namespace_(), "default");
}

TEST_F(RecorderTest, BadTypeOrObjectIsDropped) {
  auto r = Make();
  r->Event(MakePod(), "Error", "X", "y");
  api::meta::v1::ObjectMeta not_an_object;
  r->Event(not_an_object, kEventTypeNormal, "X", "y");
  ASSERT_TRUE(r->Flush(absl::Seconds(10)));
  EXPECT_TRUE(sink_->calls().empty());
}

TEST_F(RecorderTest, RepeatIsPatchedAndRecreatedWhenGone) {
  auto r = Make();
  for (int i = 0; i < 3; ++i) r->Event(MakePod(), kEventTypeNormal, "Synced", "ok");
  ASSERT_TRUE(r->Flush(absl::Seconds(10)));
  auto calls = sink_->calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].verb, "create");
  EXPECT_EQ(calls[1].verb, "patch");
  EXPECT_EQ(calls[1].event.metadata().name(), calls[0].event.metadata().name());
  EXPECT_EQ(calls[1].patch,
            "{\"count\":2,\"lastTimestamp\":\"2023-11-14T22:13:20Z\",\"message\":\"ok\"}");
  EXPECT_EQ(calls[2].verb, "patch");
  EXPECT_EQ(calls[2].event.count(), 3);

  // The Event was deleted: PATCH answers 404, the recorder creates it again.
  sink_->Script(client::ToStatus(client::NewNotFound({"", "events"}, "x")));
  r->Event(MakePod(), kEventTypeNormal, "Synced", "ok");
  ASSERT_TRUE(r->Flush(absl::Seconds(10)));
  calls = sink_->calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[3].verb, "patch");
  EXPECT_EQ(calls[4].verb, "create");
  EXPECT_EQ(calls[4].event.count(), 4);
  EXPECT_EQ(calls[4].event.metadata().resourceversion(), "");
}

TEST_F(RecorderTest, TransportErrorsAreRetriedApiErrorsAreNot) {
  RecorderOptions o;
  o.max_tries = 12;
  auto r = Make(o);
  sink_->Script(absl::UnavailableError("connection refused"));
  sink_->Script(absl::UnavailableError("connection refused"));
  r->Event(MakePod(), kEventTypeNormal, "A", "a");
  ASSERT_TRUE(r->Flush(absl::Seconds(10)));
  EXPECT_EQ(sink_->calls().size(), 3u);  // two failures, then written

  sink_->Script(client::ToStatus(client::NewForbidden({"", "events"}, "x", "no")));
  r->Event(MakePod(), kEventTypeNormal, "B", "b");
  ASSERT_TRUE(r->Flush(absl::Seconds(10)));
  EXPECT_EQ(sink_->calls().size(), 4u);  // not retried
}

TEST_F(RecorderTest, GivesUpAfterMaxTries) {
  auto r = Make();
  for (int i = 0; i < 20; ++i) sink_->Script(absl::UnavailableError("down"));
  absl::Time start = clock_.Now();
  r->Event(MakePod(), kEventTypeNormal, "A", "a");
  ASSERT_TRUE(r->Flush(absl::Seconds(10)));
  EXPECT_EQ(sink_->calls().size(), 12u);
  // 11 sleeps: the first a random fraction of 10 s, then 10 s each.
  EXPECT_GE(clock_.Now() - start, absl::Seconds(100));
  EXPECT_LE(clock_.Now() - start, absl::Seconds(110));
}

TEST_F(RecorderTest, FullQueueDropsWithoutBlocking) {
  RecorderOptions o;
  o.queue_size = 2;
  auto r = Make(o);
  sink_->Block();
  r->Event(MakePod(), kEventTypeNormal, "R0", "m");
  sink_->AwaitCalls(1);  // the worker holds R0
  for (int i = 1; i <= 4; ++i) r->Event(MakePod(), kEventTypeNormal, "R" + std::to_string(i), "m");
  EXPECT_EQ(r->dropped(), 2);
  sink_->Unblock();
  ASSERT_TRUE(r->Flush(absl::Seconds(10)));
  auto calls = sink_->calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[1].event.reason(), "R1");
  EXPECT_EQ(calls[2].event.reason(), "R2");
}

TEST_F(RecorderTest, ShutdownInterruptsRetriesAndDropsLaterEvents) {
  clock_.set_auto_advance(false);
  auto r = Make();
  for (int i = 0; i < 20; ++i) sink_->Script(absl::UnavailableError("down"));
  r->Event(MakePod(), kEventTypeNormal, "A", "a");
  clock_.AwaitSleepers(1);  // sleeping before the first retry
  r->Shutdown();
  r->Event(MakePod(), kEventTypeNormal, "B", "b");
  EXPECT_EQ(r->dropped(), 1);
  EXPECT_EQ(sink_->calls().size(), 1u);
}

TEST(RecorderCreateTest, RequiresComponentAndSink) {
  EXPECT_EQ(Recorder::Create(std::make_unique<FakeSink>(), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  RecorderOptions o;
  o.component = "c";
  EXPECT_EQ(Recorder::Create(std::unique_ptr<EventSink>(), o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kslice::controller::record
