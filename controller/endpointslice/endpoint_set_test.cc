#include "controller/endpointslice/endpoint_set.h"

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/arena.h"

#include "gtest/gtest.h"

namespace kslice::endpointslice {
namespace {

using api::discovery::v1::Endpoint;

google::protobuf::Arena* TestArena() {
  static google::protobuf::Arena* arena = new google::protobuf::Arena();
  return arena;
}

Endpoint* Ep(std::vector<std::string> addrs, const std::string& name, bool ready = true) {
  Endpoint* ep = google::protobuf::Arena::CreateMessage<Endpoint>(TestArena());
  for (auto& a : addrs) ep->add_addresses(a);
  ep->mutable_targetref()->set_namespace_("ns");
  ep->mutable_targetref()->set_name(name);
  ep->mutable_targetref()->set_uid("u-" + name);
  ep->mutable_conditions()->set_ready(ready);
  return ep;
}

TEST(EndpointSetTest, IdentityIgnoresConditionsUidAndAddressOrder) {
  EndpointSet set;
  set.Insert(Ep({"10.0.0.2", "10.0.0.1"}, "a"));
  EXPECT_EQ(set.size(), 1u);
  auto probe = Ep({"10.0.0.1", "10.0.0.2"}, "a", /*ready=*/false);
  probe->mutable_targetref()->set_uid("other");
  const Endpoint* got = set.Get(*probe);
  ASSERT_NE(got, nullptr);
  // Inserted addresses are sorted, as upstream's hashing does.
  EXPECT_EQ(got->addresses(0), "10.0.0.1");
  EXPECT_TRUE(got->conditions().ready());
  EXPECT_EQ(set.Get(*Ep({"10.0.0.1", "10.0.0.2"}, "b")), nullptr);
  auto with_host = Ep({"10.0.0.1", "10.0.0.2"}, "a");
  with_host->set_hostname("h");
  EXPECT_EQ(set.Get(*with_host), nullptr);
}

TEST(EndpointSetTest, InsertSameIdentityReplaces) {
  EndpointSet set;
  set.Insert(Ep({"10.0.0.1"}, "a", true));
  set.Insert(Ep({"10.0.0.2"}, "b", true));
  set.Insert(Ep({"10.0.0.1"}, "a", false));
  EXPECT_EQ(set.size(), 2u);
  EXPECT_FALSE(set.Get(*Ep({"10.0.0.1"}, "a"))->conditions().ready());
  // Position kept: "a" pops first.
  EXPECT_EQ(set.PopAny()->targetref().name(), "a");
}

TEST(EndpointSetTest, TakeAndPopAny) {
  EndpointSet set;
  for (int i = 0; i < 5; ++i) set.Insert(Ep({"10.0.0." + std::to_string(i)}, "p" + std::to_string(i)));
  auto taken = set.Take(*Ep({"10.0.0.1"}, "p1"));
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(taken->targetref().name(), "p1");
  EXPECT_EQ(set.Take(*Ep({"10.0.0.1"}, "p1")), nullptr);  // gone
  EXPECT_EQ(set.size(), 4u);
  std::vector<std::string> order;
  while (Endpoint* ep = set.PopAny()) order.push_back(ep->targetref().name());
  EXPECT_EQ(order, (std::vector<std::string>{"p0", "p2", "p3", "p4"}));
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.PopAny(), nullptr);
}

TEST(EndpointSetTest, LookupsAfterPopAnyRebuildTheIndex) {
  EndpointSet set;
  set.Insert(Ep({"10.0.0.1"}, "a"));
  set.Insert(Ep({"10.0.0.2"}, "b"));
  set.Insert(Ep({"10.0.0.3"}, "c"));
  EXPECT_EQ(set.PopAny()->targetref().name(), "a");
  EXPECT_EQ(set.Get(*Ep({"10.0.0.1"}, "a")), nullptr);
  ASSERT_NE(set.Take(*Ep({"10.0.0.3"}, "c")), nullptr);
  set.Insert(Ep({"10.0.0.2"}, "b", false));  // replaces b
  EXPECT_EQ(set.size(), 1u);
  EXPECT_FALSE(set.PopAny()->conditions().ready());
  EXPECT_TRUE(set.empty());
}

}  // namespace
}  // namespace kslice::endpointslice
