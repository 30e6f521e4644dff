// The recorder against the embedded API server: repeated events become one Event
// with a count, similar events aggregate, a deleted Event is created again.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "client/rest/client.h"
#include "controller/record/recorder.h"
#include "envtest/environment/environment.h"
#include "gtest/gtest.h"

namespace kslice::controller::record {
namespace {

using api::core::v1::ConfigMap;
using api::core::v1::ConfigMapList;
using api::core::v1::EventList;

class RecorderIntegrationTest : public ::testing::Test {
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
    auto c = client::RestClient::Create(env_->config());
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
    auto ns = env_->CreateNamespace("rec-");
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_ = *ns;
    ConfigMap cm;
    cm.mutable_metadata()->set_namespace_(ns_);
    cm.mutable_metadata()->set_name("subject");
    auto created = client::Typed<ConfigMap, ConfigMapList>(*client_).Create(cm);
    ASSERT_TRUE(created.ok()) << created.status();
    object_ = *created;
  }

  std::vector<api::core::v1::Event> Events() {
    auto list = client::Typed<api::core::v1::Event, EventList>(*client_).List(ns_);
    EXPECT_TRUE(list.ok()) << list.status();
    std::vector<api::core::v1::Event> out;
    if (!list.ok()) return out;
    for (const auto& e : list->items()) out.push_back(e);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.message() < b.message();
    });
    return out;
  }

  static envtest::Environment* env_;
  std::unique_ptr<client::RestClient> client_;
  std::string ns_;
  ConfigMap object_;
};

envtest::Environment* RecorderIntegrationTest::env_ = nullptr;

TEST_F(RecorderIntegrationTest, RepeatedEventsBecomeOneWithCount) {
  auto recorder = Recorder::Create(*client_, {.component = "test-controller", .host = "host-1"});
  ASSERT_TRUE(recorder.ok()) << recorder.status();
  for (int i = 0; i < 5; ++i) {
    (*recorder)->Event(object_, kEventTypeNormal, "Synced", "synced successfully");
  }
  ASSERT_TRUE((*recorder)->Flush(absl::Seconds(30)));
  std::vector<api::core::v1::Event> events = Events();
  ASSERT_EQ(events.size(), 1u);
  const api::core::v1::Event e = events[0];  // a copy: events is reassigned below
  EXPECT_EQ(e.count(), 5);
  EXPECT_EQ(e.message(), "synced successfully");
  EXPECT_EQ(e.reason(), "Synced");
  EXPECT_EQ(e.type(), "Normal");
  EXPECT_EQ(e.involvedobject().kind(), "ConfigMap");
  EXPECT_EQ(e.involvedobject().apiversion(), "v1");
  EXPECT_EQ(e.involvedobject().name(), "subject");
  EXPECT_EQ(e.involvedobject().namespace_(), ns_);
  EXPECT_EQ(e.involvedobject().uid(), object_.metadata().uid());
  EXPECT_EQ(e.source().component(), "test-controller");
  EXPECT_EQ(e.source().host(), "host-1");
  EXPECT_EQ(e.reportingcomponent(), "test-controller");
  EXPECT_LE(e.firsttimestamp().seconds(), e.lasttimestamp().seconds());
  EXPECT_TRUE(e.metadata().name().starts_with("subject."));

  // Deleted behind the recorder's back: the next repeat creates it again.
  auto typed = client::Typed<api::core::v1::Event, EventList>(*client_);
  ASSERT_TRUE(typed.Delete(ns_, e.metadata().name()).ok());
  (*recorder)->Event(object_, kEventTypeNormal, "Synced", "synced successfully");
  ASSERT_TRUE((*recorder)->Flush(absl::Seconds(30)));
  events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].count(), 6);
  EXPECT_EQ(events[0].metadata().name(), e.metadata().name());
}

TEST_F(RecorderIntegrationTest, DifferentMessagesAggregate) {
  auto recorder = Recorder::Create(*client_, {.component = "test-controller"});
  ASSERT_TRUE(recorder.ok()) << recorder.status();
  for (int i = 1; i <= 12; ++i) {
    (*recorder)->Event(object_, kEventTypeWarning, "FailedSync", absl::StrCat("error ", i));
  }
  ASSERT_TRUE((*recorder)->Flush(absl::Seconds(30)));
  std::vector<api::core::v1::Event> events = Events();
  // error 1..9 individually, then one combined Event for error 10, 11, 12.
  ASSERT_EQ(events.size(), 10u);
  const auto& combined = events[0];  // "(combined..." sorts first
  EXPECT_EQ(combined.message(), "(combined from similar events): error 12");
  EXPECT_EQ(combined.count(), 3);
  EXPECT_EQ(combined.type(), "Warning");
  EXPECT_EQ(combined.reason(), "FailedSync");
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i].count(), 1);
    EXPECT_TRUE(events[i].message().starts_with("error ")) << events[i].message();
  }
}

}  // namespace
}  // namespace kslice::controller::record
