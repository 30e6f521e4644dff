#include <memory>
#include <vector>

#include "controller/endpointslice/topologycache/topology_cache.h"
#include "gtest/gtest.h"

namespace kslice::endpointslice::topologycache {
namespace {

using api::discovery::v1::Endpoint;

TEST(HintsEnabledTest, AnnotationValues) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> annotations;
    bool want;
  };
  const std::vector<Case> cases = {
      {{}, false},
      {{{"service.kubernetes.io/topology-mode", "Auto"}}, true},
      {{{"service.kubernetes.io/topology-mode", "auto"}}, true},
      {{{"service.kubernetes.io/topology-mode", "AUTO"}}, false},
      {{{"service.kubernetes.io/topology-mode", "PreferZone"}}, false},
      {{{"service.kubernetes.io/topology-mode", ""}}, false},
      {{{"service.kubernetes.io/topology-aware-hints", "Auto"}}, true},
      {{{"service.kubernetes.io/topology-aware-hints", "disabled"}}, false},
      // The deprecated key wins whenever it is present.
      {{{"service.kubernetes.io/topology-aware-hints", "Disabled"},
        {"service.kubernetes.io/topology-mode", "Auto"}},
       false},
      {{{"service.kubernetes.io/topology-aware-hints", "auto"},
        {"service.kubernetes.io/topology-mode", "Disabled"}},
       true},
      {{{"other", "Auto"}}, false},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    google::protobuf::Map<std::string, std::string> annotations;
    for (const auto& [k, v] : cases[i].annotations) annotations[k] = v;
    EXPECT_EQ(HintsEnabled(annotations), cases[i].want) << "case " << i;
  }
}

TEST(EndpointReadyTest, NullIsNotReady) {
  Endpoint ep;
  EXPECT_FALSE(EndpointReady(ep));
  ep.mutable_conditions();
  EXPECT_FALSE(EndpointReady(ep));
  ep.mutable_conditions()->set_ready(false);
  EXPECT_FALSE(EndpointReady(ep));
  ep.mutable_conditions()->set_ready(true);
  EXPECT_TRUE(EndpointReady(ep));
}

TEST(FormatWithAddressTypeTest, Suffix) {
  EXPECT_EQ(FormatWithAddressType("No hints allocated for zones", "IPv6"),
            "No hints allocated for zones, addressType: IPv6");
}

EndpointSlice HintedSlice(const std::string& name, bool hinted) {
  EndpointSlice s;
  s.mutable_metadata()->set_name(name);
  Endpoint* a = s.add_endpoints();
  a->add_addresses("10.0.0.1");
  a->set_zone("zone-a");
  a->mutable_conditions()->set_ready(true);
  Endpoint* b = s.add_endpoints();
  b->add_addresses("10.0.0.2");
  b->set_zone("zone-b");
  b->mutable_conditions()->set_ready(false);
  if (hinted) {
    a->mutable_hints()->add_forzones()->set_name("zone-a");
    b->mutable_hints()->add_fornodes()->set_name("node-b");
  }
  return s;
}

TEST(RemoveHintsFromSlicesTest, ClearsAndMovesHintedUnchangedSlices) {
  SliceInfo si;
  si.service_key = "ns/svc";
  si.address_type = "IPv4";
  si.to_create.push_back(HintedSlice("create", true));
  si.to_update.push_back(HintedSlice("update", true));
  auto hinted = std::make_shared<const EndpointSlice>(HintedSlice("hinted", true));
  auto plain = std::make_shared<const EndpointSlice>(HintedSlice("plain", false));
  si.unchanged = {hinted, plain};

  RemoveHintsFromSlices(si);

  ASSERT_EQ(si.to_create.size(), 1u);
  ASSERT_EQ(si.to_update.size(), 2u);
  EXPECT_EQ(si.to_update[1].metadata().name(), "hinted");
  for (const auto* list : {&si.to_create, &si.to_update}) {
    for (const EndpointSlice& s : *list) {
      for (const Endpoint& ep : s.endpoints()) EXPECT_FALSE(ep.has_hints()) << s.DebugString();
    }
  }
  ASSERT_EQ(si.unchanged.size(), 1u);
  EXPECT_EQ(si.unchanged[0], plain);
  // The cached object is not modified.
  EXPECT_TRUE(hinted->endpoints(0).has_hints());
}

}  // namespace
}  // namespace kslice::endpointslice::topologycache
