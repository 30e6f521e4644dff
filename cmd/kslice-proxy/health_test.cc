#include "cmd/kslice-proxy/health.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <regex>
#include <string>

#include "absl/time/time.h"
#include "controller/metrics/metrics.h"
#include "gtest/gtest.h"
#include "proxy/testing/fake_backend.h"
#include "proxy/types.h"

namespace kslice::proxy::cmd {
namespace {

class ProxyHealthTest : public ::testing::Test {
 protected:
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  controller::metrics::Registry registry_;
  ProxyHealth health_{absl::Seconds(60), [this] { return now_; }, &registry_};
};

TEST(GoTimeStringTest, GoFormat) {
  EXPECT_EQ(GoTimeString(absl::FromUnixSeconds(1800000000)), "2027-01-15 08:00:00 +0000 UTC");
  EXPECT_EQ(GoTimeString(absl::FromUnixSeconds(1800000000) + absl::Milliseconds(250)),
            "2027-01-15 08:00:00.25 +0000 UTC");
  EXPECT_EQ(GoTimeString(absl::InfinitePast()), "0001-01-01 00:00:00 +0000 UTC");
}

TEST_F(ProxyHealthTest, HealthyBeforeTheFirstSyncAsUpstream) {
  health_.QueuedUpdate();
  now_ += absl::Hours(1);
  EXPECT_TRUE(health_.IsHealthy());
  HealthAnswer a = health_.Healthz();
  EXPECT_EQ(a.status, 200);
  // On 200, lastUpdated is reported as now.
  EXPECT_EQ(a.body,
            "{\"lastUpdated\": \"2027-01-15 09:00:00 +0000 UTC\",\"currentTime\": "
            "\"2027-01-15 09:00:00 +0000 UTC\", \"nodeEligible\": true}");
}

TEST_F(ProxyHealthTest, UnhealthyWhenAQueuedChangeWaitsTooLong) {
  health_.Updated();
  const absl::Time synced = now_;
  now_ += absl::Seconds(5);
  health_.QueuedUpdate();  // the oldest pending change
  now_ += absl::Seconds(30);
  health_.QueuedUpdate();  // later ones do not move it
  EXPECT_TRUE(health_.IsHealthy());
  now_ += absl::Seconds(29);
  EXPECT_TRUE(health_.IsHealthy());  // 59 s pending
  now_ += absl::Seconds(1);
  EXPECT_FALSE(health_.IsHealthy());  // 60 s = the timeout
  HealthAnswer a = health_.Healthz();
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.body, "{\"lastUpdated\": \"" + GoTimeString(synced) + "\",\"currentTime\": \"" +
                        GoTimeString(now_) + "\", \"nodeEligible\": true}");
  HealthAnswer l = health_.Livez();
  EXPECT_EQ(l.status, 503);
  EXPECT_EQ(l.body, "{\"lastUpdated\": \"" + GoTimeString(synced) + "\",\"currentTime\": \"" +
                        GoTimeString(now_) + "\"}");
  health_.Updated();
  EXPECT_TRUE(health_.IsHealthy());
  EXPECT_EQ(health_.Healthz().status, 200);
}

TEST_F(ProxyHealthTest, DualStackIsHealthyOnlyWhenBothFamiliesAre) {
  health_.Updated(IPFamily::kIPv4);
  health_.Updated(IPFamily::kIPv6);
  now_ += absl::Seconds(5);
  health_.QueuedUpdate(IPFamily::kIPv4);
  health_.QueuedUpdate(IPFamily::kIPv6);
  const absl::Time v4_synced = now_ + absl::Seconds(10);
  now_ = v4_synced;
  health_.Updated(IPFamily::kIPv4);  // IPv4 catches up, IPv6 stays behind
  now_ += absl::Seconds(49);
  EXPECT_TRUE(health_.IsHealthy());  // IPv6 pending 59 s
  now_ += absl::Seconds(1);
  EXPECT_FALSE(health_.IsHealthy());  // IPv6 pending 60 s
  health_.Updated(IPFamily::kIPv6);
  EXPECT_TRUE(health_.IsHealthy());
  // Healthy: lastUpdated is the latest family's (reported as now on 200 anyway).
  EXPECT_EQ(health_.Healthz().status, 200);
}

TEST_F(ProxyHealthTest, AFamilyThatNeverSyncedDoesNotCount) {
  health_.Updated(IPFamily::kIPv4);
  health_.QueuedUpdate(IPFamily::kIPv6);
  now_ += absl::Hours(1);
  EXPECT_TRUE(health_.IsHealthy());
}

TEST_F(ProxyHealthTest, ReportingBackendReportsItsFamily) {
  testing::FakeBackend inner;
  HealthReportingBackend v6(inner, health_, IPFamily::kIPv6);
  health_.Updated(IPFamily::kIPv4);
  health_.Updated(IPFamily::kIPv6);
  health_.QueuedUpdate(IPFamily::kIPv6);
  now_ += absl::Seconds(61);
  EXPECT_FALSE(health_.IsHealthy());
  ASSERT_TRUE(v6.Sync(ProxyState{}, SyncHint{}).ok());
  EXPECT_TRUE(health_.IsHealthy());
}

TEST_F(ProxyHealthTest, NodeEligibility) {
  api::core::v1::Node node;
  node.mutable_metadata()->set_name("n");
  health_.SyncNode(&node);
  EXPECT_TRUE(health_.NodeEligible());
  node.mutable_spec()->add_taints()->set_key(kToBeDeletedTaint);
  health_.SyncNode(&node);
  EXPECT_FALSE(health_.NodeEligible());
  HealthAnswer a = health_.Healthz();
  EXPECT_EQ(a.status, 503);
  EXPECT_NE(a.body.find("\"nodeEligible\": false"), std::string::npos) << a.body;
  EXPECT_EQ(health_.Livez().status, 200);  // livez ignores the node
  node.mutable_spec()->clear_taints();
  health_.SyncNode(&node);
  EXPECT_TRUE(health_.NodeEligible());
  node.mutable_metadata()->mutable_deletiontimestamp();
  health_.SyncNode(&node);
  EXPECT_FALSE(health_.NodeEligible());
  health_.SyncNode(nullptr);  // deleted
  EXPECT_FALSE(health_.NodeEligible());
}

TEST_F(ProxyHealthTest, AnswersAreCounted) {
  health_.Healthz();
  health_.Healthz();
  health_.SyncNode(nullptr);
  health_.Healthz();
  health_.Livez();
  const std::string text = registry_.Expose();
  EXPECT_NE(text.find("kubeproxy_proxy_healthz_total{code=\"200\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("kubeproxy_proxy_healthz_total{code=\"503\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("kubeproxy_proxy_livez_total{code=\"200\"} 1"), std::string::npos) << text;
}

TEST_F(ProxyHealthTest, ReportingBackendMarksSuccessfulSyncsOnly) {
  testing::FakeBackend fake;
  HealthReportingBackend backend(fake, health_);
  health_.Updated();
  health_.QueuedUpdate();
  now_ += absl::Minutes(5);
  EXPECT_FALSE(health_.IsHealthy());
  fake.FailNext(1);
  EXPECT_FALSE(backend.Sync(ProxyState{}, SyncHint{}).ok());
  EXPECT_FALSE(health_.IsHealthy());
  EXPECT_TRUE(backend.Sync(ProxyState{}, SyncHint{}).ok());
  EXPECT_TRUE(health_.IsHealthy());
  EXPECT_EQ(backend.name(), fake.name());
}

// GET `target` from 127.0.0.1:port; the response.
boost::beast::http::response<boost::beast::http::string_body> Get(int port, const std::string& target) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "localhost");
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return res;
}

TEST_F(ProxyHealthTest, ServesHealthzAndLivezOverHttp) {
  absl::StatusOr<std::unique_ptr<HealthServer>> server = HealthServer::Start("127.0.0.1:0", health_);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  ASSERT_GT(port, 0);
  auto res = Get(port, "/healthz");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res[boost::beast::http::field::content_type], "application/json");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_TRUE(std::regex_match(
      res.body(), std::regex(R"(\{"lastUpdated": "[^"]+","currentTime": "[^"]+", "nodeEligible": true\})")))
      << res.body();
  health_.SyncNode(nullptr);
  EXPECT_EQ(Get(port, "/healthz").result_int(), 503u);
  EXPECT_EQ(Get(port, "/livez?verbose").result_int(), 200u);
  EXPECT_EQ(Get(port, "/metrics").result_int(), 404u);
  (*server)->Stop();
  (*server)->Stop();  // idempotent
}

TEST(HealthServerTest, BadAddressAndPortInUse) {
  absl::Time now = absl::Now();
  ProxyHealth health(absl::Seconds(60), [&] { return now; }, nullptr);
  EXPECT_FALSE(HealthServer::Start("nonsense", health).ok());
  absl::StatusOr<std::unique_ptr<HealthServer>> a = HealthServer::Start("127.0.0.1:0", health);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::unique_ptr<HealthServer>> b =
      HealthServer::Start("127.0.0.1:" + std::to_string((*a)->port()), health);
  EXPECT_FALSE(b.ok());
}

}  // namespace
}  // namespace kslice::proxy::cmd
