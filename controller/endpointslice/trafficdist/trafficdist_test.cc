#include "controller/endpointslice/trafficdist/trafficdist.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace kslice::endpointslice::trafficdist {
namespace {

using api::discovery::v1::Endpoint;
using api::discovery::v1::EndpointSlice;
using topologycache::SliceInfo;

struct Ep {
  const char* address;
  const char* zone = nullptr;  // nullptr: unset
  const char* node = nullptr;
  int ready = 1;  // 1 true, 0 false, -1 unset
  std::vector<const char*> hint_zones = {};
  std::vector<const char*> hint_nodes = {};
  bool empty_hints = false;  // hints set with no entries
};

EndpointSlice Slice(const std::vector<Ep>& eps, const std::string& name = "s") {
  EndpointSlice s;
  s.mutable_metadata()->set_name(name);
  s.set_addresstype("IPv4");
  for (const Ep& e : eps) {
    Endpoint* ep = s.add_endpoints();
    ep->add_addresses(e.address);
    if (e.zone != nullptr) ep->set_zone(e.zone);
    if (e.node != nullptr) ep->set_nodename(e.node);
    if (e.ready >= 0) ep->mutable_conditions()->set_ready(e.ready == 1);
    if (e.empty_hints || !e.hint_zones.empty() || !e.hint_nodes.empty()) {
      auto* hints = ep->mutable_hints();
      for (const char* z : e.hint_zones) hints->add_forzones()->set_name(z);
      for (const char* n : e.hint_nodes) hints->add_fornodes()->set_name(n);
    }
  }
  return s;
}

std::shared_ptr<const EndpointSlice> Shared(EndpointSlice s) {
  return std::make_shared<const EndpointSlice>(std::move(s));
}

// "zone1,zone2|node1" for one endpoint's hints; "-" when null.
std::string HintsOf(const Endpoint& ep) {
  if (!ep.has_hints()) return "-";
  std::string out;
  for (int i = 0; i < ep.hints().forzones_size(); ++i) {
    out += (i ? "," : "") + ep.hints().forzones(i).name();
  }
  out += "|";
  for (int i = 0; i < ep.hints().fornodes_size(); ++i) {
    out += (i ? "," : "") + ep.hints().fornodes(i).name();
  }
  return out;
}

std::vector<std::string> HintsOf(const EndpointSlice& s) {
  std::vector<std::string> out;
  for (const Endpoint& ep : s.endpoints()) out.push_back(HintsOf(ep));
  return out;
}

using Hints = std::vector<std::string>;

TEST(ValidTest, GateControlsPreferSame) {
  EXPECT_FALSE(Valid(std::nullopt, true));
  EXPECT_TRUE(Valid(std::string("PreferClose"), false));
  EXPECT_TRUE(Valid(std::string("PreferClose"), true));
  EXPECT_FALSE(Valid(std::string("PreferSameZone"), false));
  EXPECT_TRUE(Valid(std::string("PreferSameZone"), true));
  EXPECT_FALSE(Valid(std::string("PreferSameNode"), false));
  EXPECT_TRUE(Valid(std::string("PreferSameNode"), true));
  EXPECT_FALSE(Valid(std::string("preferclose"), true));
  EXPECT_FALSE(Valid(std::string(""), true));
}

TEST(ReconcileHintsTest, PreferCloseSetsZoneHintsOnReadyEndpoints) {
  for (const char* value : {"PreferClose", "PreferSameZone"}) {
    SliceInfo si;
    si.to_create.push_back(Slice({{"10.0.0.1", "zone-a", "node-1"},
                                  {"10.0.0.2", "zone-b", "node-2"},
                                  {"10.0.0.3", "zone-a", "node-1", 0},
                                  {"10.0.0.4", "zone-a", "node-1", -1}}));
    si.to_update.push_back(Slice({{"10.0.1.1", "zone-c", nullptr, 1, {"zone-a"}, {"node-9"}}}));
    ReconcileHints(std::string(value), si);
    EXPECT_EQ(HintsOf(si.to_create[0]), (Hints{"zone-a|", "zone-b|", "-", "-"})) << value;
    EXPECT_EQ(HintsOf(si.to_update[0]), (Hints{"zone-c|"})) << value;
  }
}

TEST(ReconcileHintsTest, PreferSameNodeSetsZoneAndNodeHints) {
  SliceInfo si;
  si.to_create.push_back(Slice({{"10.0.0.1", "zone-a", "node-1"},
                                {"10.0.0.2", nullptr, "node-2"},
                                {"10.0.0.3", "zone-b", nullptr},
                                {"10.0.0.4", nullptr, nullptr, 1, {"zone-x"}}}));
  ReconcileHints(std::string("PreferSameNode"), si);
  EXPECT_EQ(HintsOf(si.to_create[0]), (Hints{"zone-a|node-1", "|node-2", "zone-b|", "-"}));
}

TEST(ReconcileHintsTest, NoZoneMeansNoHints) {
  SliceInfo si;
  si.to_create.push_back(Slice({{"10.0.0.1", nullptr, "node-1"}}));
  si.unchanged.push_back(Shared(Slice({{"10.0.0.2", nullptr, "node-2"}}, "u")));
  ReconcileHints(std::string("PreferClose"), si);
  EXPECT_EQ(HintsOf(si.to_create[0]), (Hints{"-"}));
  EXPECT_EQ(si.unchanged.size(), 1u);
  EXPECT_TRUE(si.to_update.empty());
}

TEST(ReconcileHintsTest, UnchangedSlicesMovedOnlyWhenHintsAreWrong) {
  SliceInfo si;
  auto correct = Shared(Slice({{"10.0.0.1", "zone-a", "node-1", 1, {"zone-a"}}}, "correct"));
  auto wrong_zone = Shared(Slice({{"10.0.0.2", "zone-a", "node-1", 1, {"zone-b"}}}, "wrong"));
  auto missing = Shared(Slice({{"10.0.0.3", "zone-a", "node-1"}}, "missing"));
  auto two_zones =
      Shared(Slice({{"10.0.0.4", "zone-a", "node-1", 1, {"zone-a", "zone-b"}}}, "two"));
  auto stale_node =
      Shared(Slice({{"10.0.0.5", "zone-a", "node-1", 1, {"zone-a"}, {"node-1"}}}, "node"));
  auto unready = Shared(Slice({{"10.0.0.6", "zone-a", "node-1", 0}}, "unready"));
  auto stale_zone_no_zone =
      Shared(Slice({{"10.0.0.7", nullptr, "node-1", 1, {"zone-a"}}}, "nozone"));
  si.unchanged = {correct, wrong_zone, missing, two_zones, stale_node, unready,
                  stale_zone_no_zone};
  ReconcileHints(std::string("PreferClose"), si);

  ASSERT_EQ(si.unchanged.size(), 2u);
  EXPECT_EQ(si.unchanged[0], correct);  // the same object, not a copy
  EXPECT_EQ(si.unchanged[1], unready);
  ASSERT_EQ(si.to_update.size(), 5u);
  std::vector<std::string> names;
  for (const auto& s : si.to_update) names.push_back(s.metadata().name());
  EXPECT_EQ(names, (std::vector<std::string>{"wrong", "missing", "two", "node", "nozone"}));
  EXPECT_EQ(HintsOf(si.to_update[0]), (Hints{"zone-a|"}));
  EXPECT_EQ(HintsOf(si.to_update[3]), (Hints{"zone-a|"}));
  EXPECT_EQ(HintsOf(si.to_update[4]), (Hints{"-"}));
  // The informer's objects are untouched.
  EXPECT_EQ(HintsOf(*wrong_zone), (Hints{"zone-b|"}));
}

TEST(ReconcileHintsTest, PreferSameNodeNeedsNodeHints) {
  SliceInfo si;
  auto zone_only = Shared(Slice({{"10.0.0.1", "zone-a", "node-1", 1, {"zone-a"}}}, "a"));
  auto both =
      Shared(Slice({{"10.0.0.2", "zone-a", "node-1", 1, {"zone-a"}, {"node-1"}}}, "b"));
  auto wrong_node =
      Shared(Slice({{"10.0.0.3", "zone-a", "node-1", 1, {"zone-a"}, {"node-2"}}}, "c"));
  si.unchanged = {zone_only, both, wrong_node};
  ReconcileHints(std::string("PreferSameNode"), si);
  ASSERT_EQ(si.unchanged.size(), 1u);
  EXPECT_EQ(si.unchanged[0], both);
  ASSERT_EQ(si.to_update.size(), 2u);
  EXPECT_EQ(HintsOf(si.to_update[0]), (Hints{"zone-a|node-1"}));
  EXPECT_EQ(HintsOf(si.to_update[1]), (Hints{"zone-a|node-1"}));
}

TEST(ReconcileHintsTest, UnsetOrUnknownRemovesAllHints) {
  for (std::optional<std::string> value :
       {std::optional<std::string>(), std::optional<std::string>("Unknown")}) {
    SliceInfo si;
    si.to_create.push_back(Slice({{"10.0.0.1", "zone-a", nullptr, 1, {"zone-a"}},
                                  {"10.0.0.2", "zone-a", nullptr, 0, {"zone-a"}}}));
    auto hinted = Shared(Slice({{"10.0.0.3", "zone-a", nullptr, 0, {}, {}, true}}, "h"));
    auto plain = Shared(Slice({{"10.0.0.4", "zone-a"}}, "p"));
    si.unchanged = {hinted, plain};
    ReconcileHints(value, si);
    EXPECT_EQ(HintsOf(si.to_create[0]), (Hints{"-", "-"}));
    ASSERT_EQ(si.unchanged.size(), 1u);
    EXPECT_EQ(si.unchanged[0], plain);
    ASSERT_EQ(si.to_update.size(), 1u);
    EXPECT_EQ(HintsOf(si.to_update[0]), (Hints{"-"}));
  }
}

}  // namespace
}  // namespace kslice::endpointslice::trafficdist
