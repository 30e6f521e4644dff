// The example controller against the embedded API server: a ConfigMap gets the hash
// annotation, a data change updates it; two managers with leader election never lead
// at the same time and hand over when the leader stops.
#include "examples/confighash/confighash.h"

#include <atomic>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/rest/client.h"
#include "envtest/environment/environment.h"
#include "gtest/gtest.h"

namespace kslice::examples {
namespace {

using api::core::v1::ConfigMap;
using api::core::v1::ConfigMapList;

// The hash annotation of ns/name once it equals the hash of its current data.
bool WaitForHash(client::RestClient& c, const std::string& ns, const std::string& name,
                 std::string* hash_out, absl::Duration timeout = absl::Seconds(20)) {
  client::Typed<ConfigMap, ConfigMapList> cms(c);
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    absl::StatusOr<ConfigMap> cm = cms.Get(ns, name);
    if (cm.ok()) {
      auto it = cm->metadata().annotations().find(kHashAnnotation);
      if (it != cm->metadata().annotations().end() && it->second == DataHash(*cm)) {
        *hash_out = it->second;
        return true;
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

TEST(ConfigHashTest, StampsAndUpdatesTheHash) {
  auto env = envtest::Environment::Start();
  ASSERT_TRUE(env.ok()) << env.status();
  auto ns = (*env)->CreateNamespace("hash-");
  ASSERT_TRUE(ns.ok());
  controller::metrics::Registry registry;
  controller::ManagerOptions o;
  o.name = "confighash";
  o.health_bind_address = "127.0.0.1:0";
  o.registry = &registry;
  auto mgr = controller::Manager::Create((*env)->config(), o);
  ASSERT_TRUE(mgr.ok()) << mgr.status();
  auto ctl = SetUpConfigHash(**mgr);
  ASSERT_TRUE(ctl.ok()) << ctl.status();
  std::stop_source stop;
  std::thread run([&] { EXPECT_TRUE((*mgr)->Run(stop.get_token()).ok()); });

  auto c = client::RestClient::Create((*env)->config());
  ASSERT_TRUE(c.ok());
  client::Typed<ConfigMap, ConfigMapList> cms(**c);
  ConfigMap cm;
  cm.mutable_metadata()->set_namespace_(*ns);
  cm.mutable_metadata()->set_name("app-config");
  (*cm.mutable_data())["color"] = "blue";
  ASSERT_TRUE(cms.Create(cm).ok());
  std::string first, second;
  ASSERT_TRUE(WaitForHash(**c, *ns, "app-config", &first));
  absl::StatusOr<ConfigMap> cur = cms.Get(*ns, "app-config");
  ASSERT_TRUE(cur.ok());
  (*cur->mutable_data())["color"] = "green";
  ASSERT_TRUE(cms.Update(*cur).ok());
  ASSERT_TRUE(WaitForHash(**c, *ns, "app-config", &second));
  EXPECT_NE(first, second);
  // Ready once synced; metrics served.
  ASSERT_NE((*mgr)->health(), nullptr);
  EXPECT_NE(registry.Expose().find("workqueue_adds_total{name=\"confighash\"}"),
            std::string::npos);
  stop.request_stop();
  run.join();
}

TEST(ConfigHashTest, LeaderElectionHandsOverWithoutOverlap) {
  auto env = envtest::Environment::Start();
  ASSERT_TRUE(env.ok()) << env.status();
  std::mutex mu;
  std::vector<std::tuple<std::string, absl::Time, absl::Time>> intervals;
  struct Candidate {
    std::unique_ptr<controller::Manager> mgr;
    std::stop_source stop;
    std::thread thread;
  };
  auto make = [&](const std::string& id) {
    auto cand = std::make_unique<Candidate>();
    controller::ManagerOptions o;
    o.name = "confighash";
    o.identity = id;
    o.leader_elect = true;
    o.lease_duration = absl::Seconds(3);
    o.renew_deadline = absl::Seconds(2);
    o.retry_period = absl::Milliseconds(400);
    o.release_on_cancel = false;
    o.health_bind_address = "";
    o.registry = new controller::metrics::Registry();  // leaked: outlives the manager
    auto m = controller::Manager::Create((*env)->config(), o);
    EXPECT_TRUE(m.ok()) << m.status();
    cand->mgr = std::move(*m);
    cand->mgr->Add("probe", [&, id](std::stop_token stop) {
      absl::Time start = absl::Now();
      while (!stop.stop_requested()) absl::SleepFor(absl::Milliseconds(10));
      std::lock_guard<std::mutex> l(mu);
      intervals.emplace_back(id, start, absl::Now());
      return absl::OkStatus();
    });
    Candidate* raw = cand.get();
    cand->thread = std::thread([raw] { (void)raw->mgr->Run(raw->stop.get_token()); });
    return cand;
  };
  auto a = make("a");
  auto b = make("b");
  // One of them leads.
  absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline && !a->mgr->IsLeader() && !b->mgr->IsLeader()) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(a->mgr->IsLeader() != b->mgr->IsLeader());
  Candidate* leader = a->mgr->IsLeader() ? a.get() : b.get();
  Candidate* other = leader == a.get() ? b.get() : a.get();
  absl::Time stopped = absl::Now();
  leader->stop.request_stop();
  leader->thread.join();
  while (absl::Now() < stopped + absl::Seconds(10) && !other->mgr->IsLeader()) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(other->mgr->IsLeader());
  EXPECT_LE(absl::Now() - stopped, absl::Seconds(3) + absl::Seconds(2))
      << "took longer than the lease duration (+ a retry)";
  other->stop.request_stop();
  other->thread.join();
  std::lock_guard<std::mutex> l(mu);
  ASSERT_EQ(intervals.size(), 2u);
  const auto& first = std::get<2>(intervals[0]) <= std::get<2>(intervals[1]) ? intervals[0]
                                                                              : intervals[1];
  const auto& second = &first == &intervals[0] ? intervals[1] : intervals[0];
  EXPECT_NE(std::get<0>(first), std::get<0>(second));
  EXPECT_LE(std::get<2>(first), std::get<1>(second)) << "two leaders at once";
}

}  // namespace
}  // namespace kslice::examples
