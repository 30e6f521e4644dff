// The backend's transactions with a recording runner: what a full, in-place and partial
// sync send, the element reference counts, and failure handling.
#include "proxy/nftables/nftables_backend.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "controller/metrics/metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/iptables/runner.h"
#include "proxy/metrics.h"
#include "proxy/nftables/test_util.h"

namespace kslice::proxy::nftables {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::StateBuilder;

// Records every command; fails the next `fail_next` runs with exit code 1.
class RecordingRunner : public iptables::Runner {
 public:
  struct Shared {
    std::vector<std::string> inputs;
    int fail_next = 0;
  };
  explicit RecordingRunner(Shared* shared) : shared_(shared) {}
  absl::StatusOr<iptables::CommandResult> Run(const std::vector<std::string>& argv,
                                              absl::string_view input) override {
    EXPECT_THAT(argv, ElementsAre("nft", "-f", "-"));
    shared_->inputs.emplace_back(input);
    iptables::CommandResult r;
    if (shared_->fail_next > 0) {
      --shared_->fail_next;
      r.exit_code = 1;
      r.stderr_data = "Error: injected";
    }
    return r;
  }

 private:
  Shared* shared_;  // not owned
};

class NftablesBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NftablesBackendOptions o;
    o.ruleset.cluster_cidr = "10.0.0.0/8";
    absl::StatusOr<std::unique_ptr<NftablesBackend>> b =
        NftablesBackend::Create(o, std::make_unique<RecordingRunner>(&shared_));
    ASSERT_TRUE(b.ok()) << b.status();
    backend_ = *std::move(b);
    b_.Service("ns", "a", "http", "172.30.0.1", 80);
    b_.Endpoint("ns", "a", "http", "10.1.0.1", 8080);
    b_.Endpoint("ns", "a", "http", "10.1.0.2", 8080);
    b_.Service("ns", "b", "http", "172.30.0.2", 80);
    b_.Endpoint("ns", "b", "http", "10.2.0.1", 8080);
  }

  static SyncHint Partial(std::set<std::string> services) {
    SyncHint h;
    h.full = false;
    h.changed_services = std::move(services);
    return h;
  }

  std::vector<std::string> Lines() const {
    return absl::StrSplit(backend_->last_transaction(), '\n', absl::SkipEmpty());
  }

  RecordingRunner::Shared shared_;
  std::unique_ptr<NftablesBackend> backend_;
  StateBuilder b_;
};

TEST_F(NftablesBackendTest, FirstSyncRecreatesTheTable) {
  ASSERT_TRUE(backend_->Sync(b_.Build(), SyncHint{}).ok());
  ASSERT_EQ(shared_.inputs.size(), 1u);
  std::vector<std::string> lines = Lines();
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0], "add table ip kube-proxy { comment \"rules for kube-proxy\" ; }");
  EXPECT_EQ(lines[1], "delete table ip kube-proxy");
  EXPECT_EQ(lines[2], lines[0]);
  EXPECT_EQ(backend_->last_stats().kind, SyncStats::Kind::kRecreate);
  EXPECT_EQ(backend_->programmed().size(), 2u);
}

TEST_F(NftablesBackendTest, PartialSyncSendsOnlyTheDifference) {
  ASSERT_TRUE(backend_->Sync(b_.Build(), SyncHint{}).ok());
  // Service b loses nothing, a loses an endpoint.
  b_.ClearEndpoints("ns", "a", "http");
  b_.Endpoint("ns", "a", "http", "10.1.0.1", 8080);
  ASSERT_TRUE(backend_->Sync(b_.Build(), Partial({"ns/a", "ns/b"})).ok());
  EXPECT_EQ(backend_->last_stats().kind, SyncStats::Kind::kPartial);
  EXPECT_EQ(backend_->last_stats().ports_examined, 2u);
  EXPECT_EQ(backend_->last_stats().ports_changed, 1u);
  std::vector<std::string> lines = Lines();
  for (const std::string& l : lines) {
    EXPECT_THAT(l, Not(HasSubstr("ns/b/"))) << "unchanged service written";
    EXPECT_THAT(l, Not(HasSubstr("add element"))) << "elements did not change";
  }
  std::string flush_svc, flush_gone, delete_gone;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (absl::StartsWith(lines[i], "flush chain ip kube-proxy service-")) flush_svc = lines[i];
    if (absl::StartsWith(lines[i], "flush chain ip kube-proxy endpoint-") &&
        absl::EndsWith(lines[i], "__10.1.0.2/8080")) {
      flush_gone = lines[i];
    }
    if (absl::StartsWith(lines[i], "delete chain ip kube-proxy endpoint-")) {
      delete_gone = lines[i];
      EXPECT_EQ(i, lines.size() - 1) << "deletes come last";
    }
  }
  EXPECT_THAT(flush_svc, HasSubstr("ns/a/tcp/http"));
  EXPECT_THAT(flush_gone, Not(IsEmpty()));
  EXPECT_THAT(delete_gone, HasSubstr("__10.1.0.2/8080"));
  EXPECT_THAT(backend_->last_transaction(),
              HasSubstr("goto endpoint-"));  // the refilled service chain
  EXPECT_THAT(backend_->last_transaction(), Not(HasSubstr("numgen")));  // one endpoint left
}

TEST_F(NftablesBackendTest, UnchangedPartialSyncSendsNothing) {
  ASSERT_TRUE(backend_->Sync(b_.Build(), SyncHint{}).ok());
  ASSERT_TRUE(backend_->Sync(b_.Build(), Partial({"ns/a"})).ok());
  EXPECT_EQ(shared_.inputs.size(), 1u);
  EXPECT_EQ(backend_->last_stats().ports_changed, 0u);
}

TEST_F(NftablesBackendTest, RemovedServiceDeletesChainsAndElements) {
  ASSERT_TRUE(backend_->Sync(b_.Build(), SyncHint{}).ok());
  b_.RemoveService("ns", "b", "http");
  b_.ClearEndpoints("ns", "b", "http");
  ASSERT_TRUE(backend_->Sync(b_.Build(), Partial({"ns/b"})).ok());
  const std::string& t = backend_->last_transaction();
  EXPECT_THAT(t, HasSubstr("delete element ip kube-proxy service-ips { 172.30.0.2 . tcp . 80 }\n"));
  EXPECT_THAT(t, HasSubstr("delete element ip kube-proxy cluster-ips { 172.30.0.2 }\n"));
  EXPECT_THAT(t, HasSubstr("delete chain ip kube-proxy service-"));
  EXPECT_THAT(t, Not(HasSubstr("ns/a/")));
  EXPECT_EQ(backend_->programmed().size(), 1u);
}

TEST_F(NftablesBackendTest, ChangedPortsAloneAreEnough) {
  ASSERT_TRUE(backend_->Sync(b_.Build(), SyncHint{}).ok());
  b_.RemoveService("ns", "b", "http");
  SyncHint h;
  h.full = false;
  h.changed_ports = {ServicePortName{"ns", "b", "http", "TCP"}};
  ASSERT_TRUE(backend_->Sync(b_.Build(), h).ok());
  EXPECT_EQ(backend_->last_stats().ports_changed, 1u);
  EXPECT_EQ(backend_->programmed().size(), 1u);
}

TEST_F(NftablesBackendTest, ServiceLosingEndpointsMovesToNoEndpointMap) {
  ASSERT_TRUE(backend_->Sync(b_.Build(), SyncHint{}).ok());
  b_.ClearEndpoints("ns", "b", "http");
  ASSERT_TRUE(backend_->Sync(b_.Build(), Partial({"ns/b"})).ok());
  const std::string& t = backend_->last_transaction();
  EXPECT_THAT(t, HasSubstr("delete element ip kube-proxy service-ips { 172.30.0.2 . tcp . 80 }\n"));
  EXPECT_THAT(t, HasSubstr("add element ip kube-proxy no-endpoint-services { 172.30.0.2 . tcp . "
                           "80 comment \"ns/b:http\" : goto reject-chain }\n"));
  EXPECT_THAT(t, Not(HasSubstr("cluster-ips")));  // still there, untouched
}

TEST_F(NftablesBackendTest, SharedClusterIPIsReferenceCounted) {
  b_.Service("ns", "a", "metrics", "172.30.0.1", 9090);
  ASSERT_TRUE(backend_->Sync(b_.Build(), SyncHint{}).ok());
  b_.RemoveService("ns", "a", "metrics");
  ASSERT_TRUE(backend_->Sync(b_.Build(), Partial({"ns/a"})).ok());
  EXPECT_THAT(backend_->last_transaction(), Not(HasSubstr("cluster-ips")));
  b_.RemoveService("ns", "a", "http");
  ASSERT_TRUE(backend_->Sync(b_.Build(), Partial({"ns/a"})).ok());
  EXPECT_THAT(backend_->last_transaction(),
              HasSubstr("delete element ip kube-proxy cluster-ips { 172.30.0.1 }\n"));
}

TEST_F(NftablesBackendTest, PeriodicFullSyncRewritesInPlaceAndKeepsAffinitySets) {
  ServicePortInfo& s = b_.Service("ns", "sticky", "", "172.30.0.3", 80);
  s.session_affinity = SessionAffinity::kClientIP;
  s.sticky_max_age_seconds = 60;
  b_.Endpoint("ns", "sticky", "", "10.3.0.1", 80);
  ASSERT_TRUE(backend_->Sync(b_.Build(), SyncHint{}).ok());
  ASSERT_TRUE(backend_->Sync(b_.Build(), SyncHint{}).ok());
  EXPECT_EQ(backend_->last_stats().kind, SyncStats::Kind::kInPlace);
  const std::string& t = backend_->last_transaction();
  EXPECT_THAT(t, Not(HasSubstr("delete table")));
  EXPECT_THAT(t, Not(HasSubstr("flush set ip kube-proxy affinity-")));
  EXPECT_THAT(t, HasSubstr("flush map ip kube-proxy service-ips\n"));
  EXPECT_THAT(t, HasSubstr("flush set ip kube-proxy cluster-ips\n"));
  EXPECT_THAT(t, HasSubstr("flush chain ip kube-proxy service-"));
  // The endpoint goes away: its chain and affinity set are deleted, after the flushes.
  b_.ClearEndpoints("ns", "sticky", "");
  ASSERT_TRUE(backend_->Sync(b_.Build(), SyncHint{}).ok());
  EXPECT_THAT(backend_->last_transaction(), HasSubstr("delete set ip kube-proxy affinity-"));
  EXPECT_THAT(backend_->last_transaction(), HasSubstr("delete chain ip kube-proxy endpoint-"));
}

TEST_F(NftablesBackendTest, FailureMakesTheNextSyncRecreate) {
  ASSERT_TRUE(backend_->Sync(b_.Build(), SyncHint{}).ok());
  b_.Endpoint("ns", "b", "http", "10.2.0.2", 8080);
  shared_.fail_next = 1;
  absl::Status s = backend_->Sync(b_.Build(), Partial({"ns/b"}));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("injected"));
  EXPECT_EQ(backend_->sync_failures(), 1u);
  // The model still describes the old table; the next sync starts from scratch anyway.
  ASSERT_TRUE(backend_->Sync(b_.Build(), Partial({"ns/b"})).ok());
  EXPECT_EQ(backend_->last_stats().kind, SyncStats::Kind::kRecreate);
  EXPECT_THAT(backend_->last_transaction(), HasSubstr("__10.2.0.2/8080"));
}

TEST_F(NftablesBackendTest, CleanupDeletesTheTable) {
  ASSERT_TRUE(backend_->Cleanup().ok());
  EXPECT_EQ(backend_->last_transaction(),
            "add table ip kube-proxy { comment \"rules for kube-proxy\" ; }\n"
            "delete table ip kube-proxy\n");
}

TEST(NftablesBackendMetricsTest, NoLocalEndpointsGauge) {
  controller::metrics::Registry registry;
  absl::StatusOr<std::unique_ptr<ProxyMetrics>> metrics = ProxyMetrics::Create(registry);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  RecordingRunner::Shared shared;
  NftablesBackendOptions o;
  o.metrics = metrics->get();
  std::unique_ptr<NftablesBackend> b =
      *NftablesBackend::Create(o, std::make_unique<RecordingRunner>(&shared));
  StateBuilder sb("test-node");
  ServicePortInfo& s = sb.Service("ns", "local", "", "172.30.0.9", 80);
  s.internal_policy_local = true;
  sb.Endpoint("ns", "local", "", "10.9.0.1", 80, "other-node");
  ASSERT_TRUE(b->Sync(sb.Build(), SyncHint{}).ok());
  EXPECT_EQ((*metrics)->no_local_endpoints_total->WithLabelValues({"internal"}).Value(), 1);
  EXPECT_EQ((*metrics)->no_local_endpoints_total->WithLabelValues({"external"}).Value(), 0);
  sb.Endpoint("ns", "local", "", "10.9.0.2", 80, "test-node");
  SyncHint h;
  h.full = false;
  h.changed_services = {"ns/local"};
  ASSERT_TRUE(b->Sync(sb.Build(), h).ok());
  EXPECT_EQ((*metrics)->no_local_endpoints_total->WithLabelValues({"internal"}).Value(), 0);
}

TEST_F(NftablesBackendTest, WrongFamilyIsRefused) {
  StateBuilder v6("n", IPFamily::kIPv6);
  EXPECT_FALSE(backend_->Sync(v6.Build(), SyncHint{}).ok());
}

}  // namespace
}  // namespace kslice::proxy::nftables
