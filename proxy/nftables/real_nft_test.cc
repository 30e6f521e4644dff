// The nftables backend against the real kernel, inside a private network namespace
// (unshare(CLONE_NEWNET) of the test process) so the host's tables are never touched.
// Reads the table back with `nft -j list table` and compares it with the backend's model.
// Skips (with the reason) without nft or without the right to create a namespace.
#include <sched.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/iptables/runner.h"
#include "proxy/nftables/nftables_backend.h"
#include "proxy/nftables/test_util.h"
#include "rapidjson/document.h"

namespace kslice::proxy::nftables {
namespace {

using ::testing::HasSubstr;
using testing::StateBuilder;

// What `nft -j list table` shows: rule handles per chain, elements per set/map.
struct Listing {
  std::map<std::string, std::vector<int64_t>> chains;  // chain -> rule handles in order
  std::map<std::string, size_t> elements;              // set/map -> element count
};

// The parameter: partial syncs through netlink (true) or nft (false).
class RealNftTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    runner_ = iptables::NewExecRunner();
    absl::StatusOr<iptables::CommandResult> v = runner_->Run({"nft", "--version"}, "");
    if (!v.ok() || v->exit_code != 0) {
      GTEST_SKIP() << "nft is not installed (Debian package `nftables`); the real-kernel test "
                      "cannot run here";
    }
    if (unshare(CLONE_NEWNET) != 0) {
      GTEST_SKIP() << "cannot create a network namespace (unshare(CLONE_NEWNET) failed; needs "
                      "root or CAP_SYS_ADMIN)";
    }
  }

  std::unique_ptr<NftablesBackend> NewBackend() {
    NftablesBackendOptions o;
    o.ruleset.cluster_cidr = "10.0.0.0/8";
    o.ruleset.node_ip = "192.168.0.2";
    o.partial_via_netlink = GetParam();
    absl::StatusOr<std::unique_ptr<NftablesBackend>> b =
        NftablesBackend::Create(o, iptables::NewExecRunner());
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *std::move(b) : nullptr;
  }

  iptables::CommandResult Nft(const std::string& text) {
    absl::StatusOr<iptables::CommandResult> r = runner_->Run({"nft", "-f", "-"}, text);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : iptables::CommandResult{1, "", "not run"};
  }

  // Empty listing when the table does not exist.
  Listing List() {
    Listing l;
    absl::StatusOr<iptables::CommandResult> r =
        runner_->Run({"nft", "-j", "list", "table", "ip", "kube-proxy"}, "");
    EXPECT_TRUE(r.ok());
    if (!r.ok() || r->exit_code != 0) return l;
    rapidjson::Document doc;
    doc.Parse(r->stdout_data.c_str());
    EXPECT_FALSE(doc.HasParseError());
    if (doc.HasParseError() || !doc.HasMember("nftables")) return l;
    for (const rapidjson::Value& item : doc["nftables"].GetArray()) {
      if (item.HasMember("chain")) {
        l.chains[item["chain"]["name"].GetString()];
      } else if (item.HasMember("rule")) {
        const rapidjson::Value& rule = item["rule"];
        l.chains[rule["chain"].GetString()].push_back(rule["handle"].GetInt64());
      } else {
        for (const char* kind : {"set", "map"}) {
          if (!item.HasMember(kind)) continue;
          const rapidjson::Value& s = item[kind];
          l.elements[s["name"].GetString()] = s.HasMember("elem") ? s["elem"].Size() : 0;
        }
      }
    }
    return l;
  }

  // The listing the backend's model describes (rule counts stand in for handles).
  static std::map<std::string, size_t> ModelChains(const NftablesBackend& b) {
    std::map<std::string, size_t> out;
    for (const Chain& c : b.generator().Fixed().chains) out[c.name] = c.rules.size();
    for (const auto& [name, u] : b.programmed()) {
      for (const Chain& c : u.chains) out[c.name] = c.rules.size();
    }
    return out;
  }
  static std::map<std::string, size_t> ModelElements(const NftablesBackend& b) {
    std::map<std::string, std::set<std::string>> keys;
    for (const NamedSet& s : b.generator().Fixed().sets) keys[s.name.substr(4)];
    for (const Element& e : b.generator().Fixed().elements) keys[e.set].insert(e.key);
    for (const auto& [name, u] : b.programmed()) {
      for (const NamedSet& s : u.sets) keys[s.name];
      for (const Element& e : u.elements) keys[e.set].insert(e.key);
    }
    std::map<std::string, size_t> out;
    for (const auto& [set, k] : keys) out[set] = k.size();
    return out;
  }
  static std::map<std::string, size_t> Counts(const Listing& l) {
    std::map<std::string, size_t> out;
    for (const auto& [chain, handles] : l.chains) out[chain] = handles.size();
    return out;
  }
  void ExpectMatchesModel(const NftablesBackend& b) {
    Listing l = List();
    EXPECT_EQ(Counts(l), ModelChains(b));
    EXPECT_EQ(l.elements, ModelElements(b));
  }

  static SyncHint Partial(std::set<std::string> services) {
    SyncHint h;
    h.full = false;
    h.changed_services = std::move(services);
    return h;
  }

  // Services of every kind: ClusterIP, NodePort, ETP=Local without local endpoints, LB with
  // a source range and ClientIP affinity, no endpoints.
  static void Populate(StateBuilder& b) {
    b.Service("ns1", "svc1", "p80", "172.30.0.41", 80);
    b.Endpoint("ns1", "svc1", "p80", "10.180.0.1", 80);
    b.Endpoint("ns1", "svc1", "p80", "10.180.0.11", 80);
    b.Endpoint("ns1", "svc1", "p80", "10.180.0.12", 80);
    ServicePortInfo& s2 = b.Service("ns2", "svc2", "p80", "172.30.0.42", 80);
    s2.external_ips = {"192.168.99.22"};
    s2.load_balancer_vips = {"1.2.3.4"};
    s2.node_port = 3001;
    s2.external_policy_local = true;
    b.Endpoint("ns2", "svc2", "p80", "10.180.0.2", 80, "other-node");
    ServicePortInfo& s3 = b.Service("ns3", "svc3", "p80", "172.30.0.43", 80);
    s3.node_port = 3003;
    b.Endpoint("ns3", "svc3", "p80", "10.180.0.3", 80);
    ServicePortInfo& s5 = b.Service("ns5", "svc5", "p80", "172.30.0.45", 80);
    s5.load_balancer_vips = {"5.6.7.8"};
    s5.load_balancer_source_ranges = {"203.0.113.0/25", "192.168.0.0/24"};
    s5.node_port = 3002;
    s5.session_affinity = SessionAffinity::kClientIP;
    s5.sticky_max_age_seconds = 10800;
    b.Endpoint("ns5", "svc5", "p80", "10.180.0.3", 80);
    b.Endpoint("ns5", "svc5", "p80", "10.180.0.4", 80);
    b.Service("ns6", "svc6", "p80", "172.30.0.46", 80);
  }

  std::unique_ptr<iptables::Runner> runner_;
};

TEST_P(RealNftTest, FullSyncIsAcceptedAndReadsBackAsTheModel) {
  std::unique_ptr<NftablesBackend> b = NewBackend();
  StateBuilder sb("test-node");
  Populate(sb);
  absl::Status s = b->Sync(sb.Build(), SyncHint{});
  ASSERT_TRUE(s.ok()) << s << "\n" << b->last_transaction();
  ExpectMatchesModel(*b);
  Listing l = List();
  EXPECT_TRUE(l.chains.count("service-ULMVA6XW-ns1/svc1/tcp/p80"));
  // ClusterIPs of svc1, svc2, svc3, svc5; external IP and LB IP of svc2; LB IP of svc5.
  EXPECT_EQ(l.elements["service-ips"], 7u);
  EXPECT_TRUE(l.elements.count("affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80"));
}

TEST_P(RealNftTest, PartialSyncTouchesOnlyTheChangedService) {
  std::unique_ptr<NftablesBackend> b = NewBackend();
  StateBuilder sb("test-node");
  Populate(sb);
  ASSERT_TRUE(b->Sync(sb.Build(), SyncHint{}).ok()) << b->last_transaction();
  Listing before = List();
  // svc1 loses an endpoint and svc6 gets one; nothing else changes.
  sb.ClearEndpoints("ns1", "svc1", "p80");
  sb.Endpoint("ns1", "svc1", "p80", "10.180.0.1", 80);
  sb.Endpoint("ns1", "svc1", "p80", "10.180.0.11", 80);
  sb.Endpoint("ns6", "svc6", "p80", "10.180.0.6", 80);
  absl::Status s = b->Sync(sb.Build(), Partial({"ns1/svc1", "ns6/svc6"}));
  ASSERT_TRUE(s.ok()) << s << "\n" << b->last_transaction();
  EXPECT_EQ(b->last_stats().ports_changed, 2u);
  EXPECT_EQ(b->last_stats().netlink, GetParam());
  ExpectMatchesModel(*b);
  Listing after = List();
  for (const auto& [chain, handles] : before.chains) {
    if (absl::StrContains(chain, "ns1/svc1/")) continue;
    if (!after.chains.count(chain)) {
      ADD_FAILURE() << "chain " << chain << " disappeared";
      continue;
    }
    EXPECT_EQ(after.chains[chain], handles) << "rules of " << chain << " were rewritten";
  }
  size_t ns1_endpoints = 0;
  for (const auto& [chain, handles] : after.chains) {
    if (absl::StartsWith(chain, "endpoint-") && absl::StrContains(chain, "-ns1/svc1/")) {
      ++ns1_endpoints;
    }
  }
  EXPECT_EQ(ns1_endpoints, 2u);
  EXPECT_EQ(after.elements["no-endpoint-services"] + 1, before.elements["no-endpoint-services"]);
}

TEST_P(RealNftTest, RemovedServiceIsGoneAfterPartialSync) {
  std::unique_ptr<NftablesBackend> b = NewBackend();
  StateBuilder sb("test-node");
  Populate(sb);
  ASSERT_TRUE(b->Sync(sb.Build(), SyncHint{}).ok());
  sb.RemoveService("ns5", "svc5", "p80");
  sb.ClearEndpoints("ns5", "svc5", "p80");
  absl::Status s = b->Sync(sb.Build(), Partial({"ns5/svc5"}));
  ASSERT_TRUE(s.ok()) << s << "\n" << b->last_transaction();
  ExpectMatchesModel(*b);
  Listing l = List();
  for (const auto& [chain, handles] : l.chains)
    EXPECT_THAT(chain, ::testing::Not(HasSubstr("ns5/")));
  for (const auto& [set, n] : l.elements) EXPECT_THAT(set, ::testing::Not(HasSubstr("ns5/")));
}

TEST_P(RealNftTest, FullSyncConvergesDriftAndKeepsAffinity) {
  std::unique_ptr<NftablesBackend> b = NewBackend();
  StateBuilder sb("test-node");
  Populate(sb);
  ASSERT_TRUE(b->Sync(sb.Build(), SyncHint{}).ok());
  // Drift: a rule added to a service chain, an element deleted, a rule removed; plus a
  // client remembered by an affinity set.
  ASSERT_EQ(Nft("add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 drop\n"
                "delete element ip kube-proxy service-ips { 172.30.0.43 . tcp . 80 }\n"
                "flush chain ip kube-proxy masquerading\n"
                "add element ip kube-proxy affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 "
                "{ 10.9.9.9 }\n")
                .exit_code,
            0);
  absl::Status s = b->Sync(sb.Build(), SyncHint{});  // periodic full sync
  ASSERT_TRUE(s.ok()) << s << "\n" << b->last_transaction();
  EXPECT_EQ(b->last_stats().kind, SyncStats::Kind::kInPlace);
  Listing l = List();
  // The model plus the one remembered client.
  std::map<std::string, size_t> want = ModelElements(*b);
  want["affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80"] = 1;
  EXPECT_EQ(l.elements, want);
  EXPECT_EQ(Counts(l), ModelChains(*b));
}

TEST_P(RealNftTest, NewProcessReplacesWhatAnEarlierOneLeft) {
  // An earlier process left a table with a stale service and an unrelated chain.
  ASSERT_EQ(Nft("add table ip kube-proxy\nadd chain ip kube-proxy service-OLD-x/y/tcp/p\n"
                "add chain ip kube-proxy stray\n")
                .exit_code,
            0);
  std::unique_ptr<NftablesBackend> b = NewBackend();
  StateBuilder sb("test-node");
  Populate(sb);
  ASSERT_TRUE(b->Sync(sb.Build(), SyncHint{}).ok());
  Listing l = List();
  EXPECT_FALSE(l.chains.count("service-OLD-x/y/tcp/p"));
  EXPECT_FALSE(l.chains.count("stray"));
  ExpectMatchesModel(*b);
}

TEST_P(RealNftTest, FailedTransactionLeavesTheTableIntact) {
  std::unique_ptr<NftablesBackend> b = NewBackend();
  StateBuilder sb("test-node");
  Populate(sb);
  ASSERT_TRUE(b->Sync(sb.Build(), SyncHint{}).ok());
  Listing before = List();
  // A ClusterIP nft cannot parse makes the whole transaction fail.
  sb.Service("ns7", "bad", "p80", "300.1.2.3", 80);
  sb.Endpoint("ns7", "bad", "p80", "10.180.0.7", 80);
  sb.ClearEndpoints("ns1", "svc1", "p80");
  absl::Status s = b->Sync(sb.Build(), Partial({"ns7/bad", "ns1/svc1"}));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  Listing after = List();
  EXPECT_EQ(after.chains, before.chains);
  EXPECT_EQ(after.elements, before.elements);
  // The next (full, recreating) sync fails the same way and still changes nothing.
  s = b->Sync(sb.Build(), SyncHint{});
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(List().chains, before.chains);
  // Fixed, it converges.
  sb.RemoveService("ns7", "bad", "p80");
  ASSERT_TRUE(b->Sync(sb.Build(), Partial({"ns7/bad"})).ok());
  EXPECT_EQ(b->last_stats().kind, SyncStats::Kind::kRecreate);
  ExpectMatchesModel(*b);
}

TEST_P(RealNftTest, CleanupRemovesTheTable) {
  std::unique_ptr<NftablesBackend> b = NewBackend();
  ASSERT_TRUE(b->Cleanup().ok());  // nothing there yet
  StateBuilder sb("test-node");
  Populate(sb);
  ASSERT_TRUE(b->Sync(sb.Build(), SyncHint{}).ok());
  ASSERT_TRUE(b->Cleanup().ok());
  EXPECT_TRUE(List().chains.empty());
}

TEST_P(RealNftTest, RefusedPartialBatchChangesNothing) {
  std::unique_ptr<NftablesBackend> b = NewBackend();
  StateBuilder sb("test-node");
  Populate(sb);
  ASSERT_TRUE(b->Sync(sb.Build(), SyncHint{}).ok());
  // Someone deleted svc1's ClusterIP element: removing svc1 now fails on that element.
  ASSERT_EQ(Nft("delete element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 }\n").exit_code,
            0);
  Listing before = List();
  sb.RemoveService("ns1", "svc1", "p80");
  sb.ClearEndpoints("ns1", "svc1", "p80");
  sb.Endpoint("ns6", "svc6", "p80", "10.180.0.6", 80);
  absl::Status s = b->Sync(sb.Build(), Partial({"ns1/svc1", "ns6/svc6"}));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(List().chains, before.chains);
  EXPECT_EQ(List().elements, before.elements);
  // The next sync recreates and converges.
  ASSERT_TRUE(b->Sync(sb.Build(), Partial({"ns6/svc6"})).ok());
  EXPECT_EQ(b->last_stats().kind, SyncStats::Kind::kRecreate);
  ExpectMatchesModel(*b);
}

TEST_P(RealNftTest, NetlinkRulesListLikeNftText) {
  // The same partial change through either path lists identically.
  std::unique_ptr<NftablesBackend> b = NewBackend();
  StateBuilder sb("test-node");
  sb.Service("ns", "a", "http", "172.30.9.1", 80);
  ASSERT_TRUE(b->Sync(sb.Build(), SyncHint{}).ok());
  sb.Endpoint("ns", "a", "http", "10.9.0.1", 8080);
  sb.Endpoint("ns", "a", "http", "10.9.0.2", 8080);
  ASSERT_TRUE(b->Sync(sb.Build(), Partial({"ns/a"})).ok());
  absl::StatusOr<iptables::CommandResult> r =
      runner_->Run({"nft", "list", "table", "ip", "kube-proxy"}, "");
  ASSERT_TRUE(r.ok());
  const std::string& out = r->stdout_data;
  EXPECT_THAT(out,
              HasSubstr("ip daddr 172.30.9.1 ip saddr != 10.0.0.0/8 jump mark-for-masquerade"));
  EXPECT_THAT(out, HasSubstr("numgen random mod 2 0 goto endpoint-"));
  EXPECT_THAT(out, HasSubstr("ip saddr 10.9.0.1 jump mark-for-masquerade"));
  EXPECT_THAT(out, HasSubstr("meta l4proto tcp dnat to 10.9.0.2:8080"));
  EXPECT_THAT(out, HasSubstr("172.30.9.1 . tcp . 80 : goto service-"));
}

INSTANTIATE_TEST_SUITE_P(PartialPath, RealNftTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Netlink" : "Nft";
                         });

}  // namespace
}  // namespace kslice::proxy::nftables
