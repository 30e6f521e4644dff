#include "proxy/topology.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kslice::proxy {
namespace {

EndpointInfo Ep(const std::string& ip, bool ready = true, bool serving = true,
                bool terminating = false, bool local = false,
                std::set<std::string> zone_hints = {}, std::set<std::string> node_hints = {}) {
  EndpointInfo e;
  e.ip = ip;
  e.port = 80;
  e.ready = ready;
  e.serving = serving;
  e.terminating = terminating;
  e.is_local = local;
  e.zone_hints = std::move(zone_hints);
  e.node_hints = std::move(node_hints);
  return e;
}
EndpointInfo Local(const std::string& ip) { return Ep(ip, true, true, false, true); }
EndpointInfo Terminating(const std::string& ip, bool local = false) {
  return Ep(ip, false, true, true, local);
}
EndpointInfo ZoneHinted(const std::string& ip, std::set<std::string> zones, bool ready = true) {
  return Ep(ip, ready, true, !ready, false, std::move(zones));
}

std::vector<std::string> Ips(const std::vector<const EndpointInfo*>& v) {
  std::vector<std::string> out;
  for (const EndpointInfo* e : v) out.push_back(e->ip);
  return out;
}

NodeContext Node(const std::string& zone = "") {
  NodeContext n;
  n.name = "node-a";
  if (!zone.empty()) n.labels["topology.kubernetes.io/zone"] = zone;
  return n;
}

ServicePortInfo Svc(bool itp_local = false, bool etp_local = false, int node_port = 0) {
  ServicePortInfo s;
  s.cluster_ip = "172.30.0.1";
  s.port = 80;
  s.protocol = "TCP";
  s.internal_policy_local = itp_local;
  s.external_policy_local = etp_local;
  s.node_port = node_port;
  return s;
}

using V = std::vector<std::string>;

struct Case {
  std::string name;
  ServicePortInfo svc;
  NodeContext node;
  EndpointList endpoints;
  V cluster;
  V local;
  V all;
  bool has_any;
  bool prefer_same_node = true;
};

class CategorizeTest : public testing::TestWithParam<Case> {};

TEST_P(CategorizeTest, Categorizes) {
  const Case& c = GetParam();
  CategorizeOptions o;
  o.prefer_same_node = c.prefer_same_node;
  CategorizedEndpoints got = CategorizeEndpoints(c.endpoints, c.svc, c.node, o);
  EXPECT_EQ(Ips(got.cluster), c.cluster);
  EXPECT_EQ(Ips(got.local), c.local);
  EXPECT_EQ(Ips(got.all_reachable), c.all);
  EXPECT_EQ(got.has_any, c.has_any);
}

INSTANTIATE_TEST_SUITE_P(
    Topology, CategorizeTest,
    testing::Values(
        Case{"no_endpoints", Svc(), Node(), {}, {}, {}, {}, false},
        Case{"ready_only", Svc(), Node(),
             {Ep("10.0.0.1"), Ep("10.0.0.2", false, false), Ep("10.0.0.3")},
             {"10.0.0.1", "10.0.0.3"}, {}, {"10.0.0.1", "10.0.0.3"}, true},
        Case{"not_ready_not_terminating_unusable", Svc(), Node(),
             {Ep("10.0.0.1", false, true, false)}, {}, {}, {}, false},
        Case{"terminating_fallback", Svc(), Node(),
             {Terminating("10.0.0.1"), Ep("10.0.0.2", false, false, true)},
             {"10.0.0.1"}, {}, {"10.0.0.1"}, true},
        Case{"terminating_ignored_when_ready_exists", Svc(), Node(),
             {Terminating("10.0.0.1"), Ep("10.0.0.2")}, {"10.0.0.2"}, {}, {"10.0.0.2"}, true},
        Case{"itp_local_with_local", Svc(true), Node(),
             {Local("10.0.0.1"), Ep("10.0.0.2")}, {}, {"10.0.0.1"}, {"10.0.0.1"}, true},
        Case{"itp_local_without_local", Svc(true), Node(),
             {Ep("10.0.0.1"), Ep("10.0.0.2")}, {}, {}, {}, true},
        Case{"itp_local_terminating_local_fallback", Svc(true), Node(),
             {Terminating("10.0.0.1", true), Ep("10.0.0.2")}, {}, {"10.0.0.1"}, {"10.0.0.1"},
             true},
        Case{"itp_local_nothing_usable", Svc(true), Node(),
             {Ep("10.0.0.1", false, false, false, true)}, {}, {}, {}, false},
        Case{"etp_local_nodeport", Svc(false, true, 30001), Node(),
             {Local("10.0.0.1"), Ep("10.0.0.2")}, {"10.0.0.1", "10.0.0.2"}, {"10.0.0.1"},
             {"10.0.0.1", "10.0.0.2"}, true},
        Case{"etp_local_without_external_access_is_cluster", Svc(false, true, 0), Node(),
             {Local("10.0.0.1"), Ep("10.0.0.2")}, {"10.0.0.1", "10.0.0.2"}, {},
             {"10.0.0.1", "10.0.0.2"}, true},
        // Local uses terminating endpoints while cluster has ready remote ones: union.
        Case{"etp_local_terminating_union", Svc(false, true, 30001), Node(),
             {Terminating("10.0.0.1", true), Ep("10.0.0.2")}, {"10.0.0.2"}, {"10.0.0.1"},
             {"10.0.0.1", "10.0.0.2"}, true},
        Case{"zone_hints_used", Svc(), Node("zone-a"),
             {ZoneHinted("10.0.0.1", {"zone-a"}), ZoneHinted("10.0.0.2", {"zone-b"}),
              ZoneHinted("10.0.0.3", {"zone-a", "zone-c"})},
             {"10.0.0.1", "10.0.0.3"}, {}, {"10.0.0.1", "10.0.0.3"}, true},
        Case{"zone_hints_ignored_when_one_ready_lacks_hint", Svc(), Node("zone-a"),
             {ZoneHinted("10.0.0.1", {"zone-a"}), Ep("10.0.0.2")},
             {"10.0.0.1", "10.0.0.2"}, {}, {"10.0.0.1", "10.0.0.2"}, true},
        Case{"zone_hints_only_ready_endpoints_count", Svc(), Node("zone-a"),
             {ZoneHinted("10.0.0.1", {"zone-a"}), Ep("10.0.0.2", false, false, false)},
             {"10.0.0.1"}, {}, {"10.0.0.1"}, true},
        Case{"zone_hints_ignored_when_none_for_zone", Svc(), Node("zone-c"),
             {ZoneHinted("10.0.0.1", {"zone-a"}), ZoneHinted("10.0.0.2", {"zone-b"})},
             {"10.0.0.1", "10.0.0.2"}, {}, {"10.0.0.1", "10.0.0.2"}, true},
        Case{"zone_hints_ignored_without_node_zone", Svc(), Node(),
             {ZoneHinted("10.0.0.1", {"zone-a"}), ZoneHinted("10.0.0.2", {"zone-b"})},
             {"10.0.0.1", "10.0.0.2"}, {}, {"10.0.0.1", "10.0.0.2"}, true},
        Case{"node_hints_win_over_zone_hints", Svc(), Node("zone-a"),
             {Ep("10.0.0.1", true, true, false, false, {"zone-a"}, {"node-a"}),
              Ep("10.0.0.2", true, true, false, false, {"zone-a"}, {"node-b"})},
             {"10.0.0.1"}, {}, {"10.0.0.1"}, true},
        Case{"node_hints_off_by_gate", Svc(), Node("zone-a"),
             {Ep("10.0.0.1", true, true, false, false, {"zone-a"}, {"node-a"}),
              Ep("10.0.0.2", true, true, false, false, {"zone-a"}, {"node-b"})},
             {"10.0.0.1", "10.0.0.2"}, {}, {"10.0.0.1", "10.0.0.2"}, true, false},
        Case{"node_hints_for_other_node_fall_back_to_zone", Svc(), Node("zone-a"),
             {Ep("10.0.0.1", true, true, false, false, {"zone-a"}, {"node-b"}),
              Ep("10.0.0.2", true, true, false, false, {"zone-b"}, {"node-c"})},
             {"10.0.0.1"}, {}, {"10.0.0.1"}, true},
        // Topology filters cluster endpoints; a local endpoint in another zone is
        // still reachable through Local policy, so the union is used.
        Case{"topology_with_etp_local_union", Svc(false, true, 30001), Node("zone-a"),
             {Ep("10.0.0.1", true, true, false, false, {"zone-a"}),
              Ep("10.0.0.2", true, true, false, true, {"zone-b"})},
             {"10.0.0.1"}, {"10.0.0.2"}, {"10.0.0.1", "10.0.0.2"}, true},
        // Terminating fallback ignores topology.
        Case{"fallback_ignores_topology", Svc(), Node("zone-a"),
             {ZoneHinted("10.0.0.1", {"zone-b"}, false)}, {"10.0.0.1"}, {}, {"10.0.0.1"},
             true}),
    [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(TopologyModeTest, Modes) {
  EndpointList zone = {ZoneHinted("10.0.0.1", {"a"}), ZoneHinted("10.0.0.2", {"b"})};
  EXPECT_EQ(TopologyModeFromHints(zone, "n", "a"), TopologyMode::kPreferSameZone);
  EXPECT_EQ(TopologyModeFromHints(zone, "n", "c"), TopologyMode::kNone);
  EXPECT_EQ(TopologyModeFromHints({}, "n", "a"), TopologyMode::kNone);
  EndpointList node = {Ep("10.0.0.1", true, true, false, false, {}, {"n"})};
  EXPECT_EQ(TopologyModeFromHints(node, "n", ""), TopologyMode::kPreferSameNode);
  EXPECT_EQ(TopologyModeFromHints(node, "n", "", CategorizeOptions{false}), TopologyMode::kNone);
}

}  // namespace
}  // namespace kslice::proxy
