#include "controller/record/event_correlator.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace kslice::controller::record {
namespace {

// 2023-11-14T22:13:20Z
constexpr int64_t kStartSeconds = 1700000000;

Event MakeEvent(const std::string& reason, const std::string& message,
                const std::string& type = "Normal") {
  Event e;
  e.mutable_metadata()->set_name("web.1");
  e.mutable_metadata()->set_namespace_("default");
  auto* o = e.mutable_involvedobject();
  o->set_kind("Pod");
  o->set_apiversion("v1");
  o->set_namespace_("default");
  o->set_name("web");
  o->set_uid("uid-1");
  e.set_reason(reason);
  e.set_message(message);
  e.set_type(type);
  e.set_count(1);
  e.mutable_source()->set_component("ctrl");
  e.mutable_firsttimestamp()->set_seconds(kStartSeconds);
  e.mutable_lasttimestamp()->set_seconds(kStartSeconds);
  e.set_reportingcomponent("ctrl");
  return e;
}

class CorrelatorTest : public ::testing::Test {
 protected:
  CorrelatorOptions Options() {
    CorrelatorOptions o;
    o.clock = &clock_;
    o.now = [this] { return clock_.Now(); };
    return o;
  }
  client::flowcontrol::FakeClock clock_{absl::FromUnixSeconds(kStartSeconds)};
};

TEST_F(CorrelatorTest, RepeatsBecomeCountAndPatch) {
  EventCorrelator c(Options());
  Event e = MakeEvent("Started", "started container");
  EventCorrelator::Result r1 = c.Correlate(e);
  ASSERT_FALSE(r1.skip);
  EXPECT_EQ(r1.event.count(), 1);
  EXPECT_EQ(r1.patch, "");
  EXPECT_EQ(r1.event.metadata().name(), "web.1");

  // The server's answer: a resourceVersion.
  Event written = r1.event;
  written.mutable_metadata()->set_resourceversion("17");
  c.UpdateState(written);

  clock_.Advance(absl::Seconds(30));
  Event again = MakeEvent("Started", "started container");
  again.mutable_metadata()->set_name("web.2");
  again.mutable_lasttimestamp()->set_seconds(kStartSeconds + 30);
  EventCorrelator::Result r2 = c.Correlate(again);
  ASSERT_FALSE(r2.skip);
  EXPECT_EQ(r2.event.count(), 2);
  EXPECT_EQ(r2.event.metadata().name(), "web.1");  // the Event already written
  EXPECT_EQ(r2.event.metadata().resourceversion(), "17");
  EXPECT_EQ(r2.event.firsttimestamp().seconds(), kStartSeconds);
  EXPECT_EQ(r2.patch,
            "{\"count\":2,\"lastTimestamp\":\"2023-11-14T22:13:50Z\",\"message\":\"started "
            "container\"}");

  EventCorrelator::Result r3 = c.Correlate(again);
  EXPECT_EQ(r3.event.count(), 3);
}

TEST_F(CorrelatorTest, SimilarEventsAggregateAfterTen) {
  EventCorrelator c(Options());
  for (int i = 1; i <= 9; ++i) {
    EventCorrelator::Result r = c.Correlate(MakeEvent("Failed", absl::StrCat("error ", i)));
    ASSERT_FALSE(r.skip);
    EXPECT_EQ(r.event.message(), absl::StrCat("error ", i));
    EXPECT_EQ(r.event.count(), 1);
  }
  EventCorrelator::Result r10 = c.Correlate(MakeEvent("Failed", "error 10"));
  EXPECT_EQ(r10.event.message(), "(combined from similar events): error 10");
  EXPECT_EQ(r10.event.count(), 1);
  EXPECT_EQ(r10.event.metadata().name(),
            absl::StrFormat("web.%x", absl::ToUnixNanos(clock_.Now())));
  EXPECT_EQ(r10.event.metadata().namespace_(), "default");
  EXPECT_EQ(r10.event.reason(), "Failed");
  EXPECT_EQ(r10.patch, "");
  std::string combined_name = r10.event.metadata().name();

  clock_.Advance(absl::Seconds(1));
  EventCorrelator::Result r11 = c.Correlate(MakeEvent("Failed", "error 11"));
  EXPECT_EQ(r11.event.message(), "(combined from similar events): error 11");
  EXPECT_EQ(r11.event.count(), 2);
  EXPECT_EQ(r11.event.metadata().name(), combined_name);
  EXPECT_EQ(r11.patch,
            "{\"count\":2,\"lastTimestamp\":\"2023-11-14T22:13:21Z\",\"message\":\"(combined "
            "from similar events): error 11\"}");

  // Another reason is another group.
  EventCorrelator::Result other = c.Correlate(MakeEvent("Other", "error 12"));
  EXPECT_EQ(other.event.message(), "error 12");
}

TEST_F(CorrelatorTest, AggregationWindowResetsAfterPause) {
  EventCorrelator c(Options());
  for (int i = 1; i <= 9; ++i) c.Correlate(MakeEvent("Failed", absl::StrCat("error ", i)));
  clock_.Advance(absl::Seconds(601));
  EventCorrelator::Result r = c.Correlate(MakeEvent("Failed", "error 10"));
  EXPECT_EQ(r.event.message(), "error 10");
}

TEST_F(CorrelatorTest, SpamFilterBurstAndRefill) {
  EventCorrelator c(Options());
  // Distinct reasons: no aggregation, but one spam key (source + object + type).
  for (int i = 0; i < 25; ++i) {
    EXPECT_FALSE(c.Correlate(MakeEvent(absl::StrCat("R", i), "m")).skip) << i;
  }
  EXPECT_TRUE(c.Correlate(MakeEvent("R25", "m")).skip);
  // Another type is another bucket.
  EXPECT_FALSE(c.Correlate(MakeEvent("R0", "m", "Warning")).skip);
  clock_.Advance(absl::Seconds(299));
  EXPECT_TRUE(c.Correlate(MakeEvent("R26", "m")).skip);
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(c.Correlate(MakeEvent("R27", "m")).skip);
  EXPECT_TRUE(c.Correlate(MakeEvent("R28", "m")).skip);
}

TEST(EventNameTest, GenerateEventName) {
  EXPECT_EQ(GenerateEventName("web", 1700000000123456789), "web.17979cfe3d85cd15");
  std::string uuid = GenerateEventName("Not_Valid", 1);
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid[8], '-');
  EXPECT_EQ(uuid[14], '4');
  EXPECT_EQ(GenerateEventName(std::string(252, 'a'), 1).size(), 36u);
}

TEST(RepeatPatchTest, EscapesAsEncodingJson) {
  Event e;
  e.set_count(7);
  e.mutable_lasttimestamp()->set_seconds(0);
  e.set_message("a<b>&\"c\"\n\xe2\x80\xa8\xff");
  EXPECT_EQ(RepeatPatch(e),
            "{\"count\":7,\"message\":\"a\\u003cb\\u003e\\u0026\\\"c\\\"\\n\\u2028\\ufffd\"}");
}

TEST(LruCacheTest, EvictsLeastRecentlyUsed) {
  LruCache<int> lru(2);
  lru.Add("a", 1);
  lru.Add("b", 2);
  ASSERT_NE(lru.Get("a"), nullptr);  // a is now the most recent
  lru.Add("c", 3);
  EXPECT_EQ(lru.Get("b"), nullptr);
  EXPECT_EQ(*lru.Get("a"), 1);
  EXPECT_EQ(*lru.Get("c"), 3);
}

}  // namespace
}  // namespace kslice::controller::record
