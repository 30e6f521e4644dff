// IP parsing and formatting as Go's, RepackSubsets' canonical form, port keys and
// endpoint identity/equality.
#include "controller/endpointslicemirroring/utils.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace kslice::endpointslicemirroring {
namespace {

using api::core::v1::EndpointAddress;
using api::core::v1::EndpointSubset;
using api::discovery::v1::Endpoint;
using api::discovery::v1::EndpointPort;

std::optional<std::string> Canonical(const std::string& s) {
  std::optional<IPBytes> ip = ParseIPSloppy(s);
  if (!ip.has_value()) return std::nullopt;
  return FormatIP(*ip);
}

TEST(ParseIPSloppyTest, AcceptsAndCanonicalizesLikeGo) {
  struct Case {
    std::string in;
    std::optional<std::string> out;
    bool v4;
  };
  const Case cases[] = {
      {"10.0.0.1", "10.0.0.1", true},
      {"010.000.000.001", "10.0.0.1", true},  // leading zeros: decimal (sloppy)
      {"::ffff:10.0.0.1", "10.0.0.1", true},  // IPv4-mapped: IPv4
      {"::FFFF:a00:1", "10.0.0.1", true},
      {"2001:DB8::1", "2001:db8::1", false},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", false},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", false},     // first longest run
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", false},  // one group: no "::"
      {"::", "::", false},
      {"::1", "::1", false},
      {"1::", "1::", false},
      {"::1.2.3.4", "::102:304", false},  // IPv4-compatible is IPv6
      {"fe80::1%eth0", std::nullopt, false},
      {"10.0.0.256", std::nullopt, false},
      {"10.0.0", std::nullopt, false},
      {"10.0.0.1/24", std::nullopt, false},
      {" 10.0.0.1", std::nullopt, false},
      {"1:2:3:4:5:6:7:8:9", std::nullopt, false},
      {"1:2:3:4:5:6:7::8", std::nullopt, false},  // "::" standing for no group
      {"1::2::3", std::nullopt, false},
      {"12345::1", std::nullopt, false},
      {"", std::nullopt, false},
      {"host.example", std::nullopt, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Canonical(c.in), c.out) << c.in;
    if (c.out.has_value()) {
      EXPECT_EQ(IsIPv4(*ParseIPSloppy(c.in)), c.v4) << c.in;
    }
  }
}

EndpointAddress Addr(const std::string& ip, const std::string& uid = "") {
  EndpointAddress a;
  a.set_ip(ip);
  if (!uid.empty()) {
    a.mutable_targetref()->set_kind("Pod");
    a.mutable_targetref()->set_name("pod-" + uid);
    a.mutable_targetref()->set_uid(uid);
  }
  return a;
}

api::core::v1::EndpointPort Port(const std::string& name, int port) {
  api::core::v1::EndpointPort p;
  p.set_name(name);
  p.set_port(port);
  p.set_protocol("TCP");
  return p;
}

TEST(RepackSubsetsTest, GroupsDedupesAndSorts) {
  google::protobuf::RepeatedPtrField<EndpointSubset> in;
  // Subset 1: http on .2 and .1 (ready); subset 2: https on the same two; subset 3:
  // metrics on .1 only, and .1 again not ready for http.
  EndpointSubset* s1 = in.Add();
  *s1->add_addresses() = Addr("10.0.0.2");
  *s1->add_addresses() = Addr("10.0.0.1");
  *s1->add_ports() = Port("http", 80);
  EndpointSubset* s2 = in.Add();
  *s2->add_addresses() = Addr("10.0.0.1");
  *s2->add_addresses() = Addr("10.0.0.2");
  *s2->add_ports() = Port("https", 443);
  EndpointSubset* s3 = in.Add();
  *s3->add_addresses() = Addr("10.0.0.1");
  *s3->add_ports() = Port("metrics", 9090);
  EndpointSubset* s4 = in.Add();
  *s4->add_notreadyaddresses() = Addr("10.0.0.1");
  *s4->add_ports() = Port("http", 80);
  EndpointSubset* s5 = in.Add();  // no ports: contributes nothing
  *s5->add_addresses() = Addr("10.9.9.9");

  std::vector<EndpointSubset> out = RepackSubsets(in);
  ASSERT_EQ(out.size(), 3u);
  // http: .1 not ready (not-ready wins), .2 ready.
  // https: .1, .2 ready. metrics: .1 ready.
  int seen = 0;
  for (const EndpointSubset& s : out) {
    ASSERT_EQ(s.ports_size(), 1);
    const std::string& name = s.ports(0).name();
    if (name == "http") {
      ASSERT_EQ(s.addresses_size(), 1);
      EXPECT_EQ(s.addresses(0).ip(), "10.0.0.2");
      ASSERT_EQ(s.notreadyaddresses_size(), 1);
      EXPECT_EQ(s.notreadyaddresses(0).ip(), "10.0.0.1");
    } else if (name == "https") {
      ASSERT_EQ(s.addresses_size(), 2);
      EXPECT_EQ(s.addresses(0).ip(), "10.0.0.1");  // sorted
      EXPECT_EQ(s.addresses(1).ip(), "10.0.0.2");
    } else {
      EXPECT_EQ(name, "metrics");
      ASSERT_EQ(s.addresses_size(), 1);
    }
    ++seen;
  }
  EXPECT_EQ(seen, 3);
}

TEST(RepackSubsetsTest, PortsWithSameAddressesShareASubset) {
  google::protobuf::RepeatedPtrField<EndpointSubset> in;
  EndpointSubset* a = in.Add();
  *a->add_addresses() = Addr("10.0.0.1", "u1");
  *a->add_addresses() = Addr("10.0.0.1", "u0");  // same IP, other pod: kept apart
  *a->add_ports() = Port("b", 2);
  EndpointSubset* b = in.Add();
  *b->add_addresses() = Addr("10.0.0.1", "u0");
  *b->add_addresses() = Addr("10.0.0.1", "u1");
  *b->add_ports() = Port("a", 1);
  std::vector<EndpointSubset> out = RepackSubsets(in);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].ports_size(), 2);
  ASSERT_EQ(out[0].addresses_size(), 2);
  EXPECT_EQ(out[0].addresses(0).targetref().uid(), "u0");  // by uid
  EXPECT_EQ(out[0].addresses(1).targetref().uid(), "u1");
}

TEST(RepackSubsetsTest, AppProtocolPortsAreNotMerged) {
  google::protobuf::RepeatedPtrField<EndpointSubset> in;
  for (const char* ip : {"10.0.0.1", "10.0.0.2"}) {
    EndpointSubset* s = in.Add();
    *s->add_addresses() = Addr(ip);
    api::core::v1::EndpointPort p = Port("grpc", 50051);
    p.set_appprotocol("kubernetes.io/h2c");
    *s->add_ports() = p;
  }
  // Go keys the port map by value, and appProtocol is a pointer: two entries.
  EXPECT_EQ(RepackSubsets(in).size(), 2u);
}

TEST(PortMapKeyTest, OrderInsensitivePresenceSensitive) {
  EndpointPort a, b, c;
  a.set_name("a");
  a.set_port(1);
  a.set_protocol("TCP");
  b.set_name("b");
  b.set_port(2);
  b.set_protocol("TCP");
  c = a;
  c.set_appprotocol("");
  EXPECT_EQ(PortMapKey(std::vector<EndpointPort>{a, b}),
            PortMapKey(std::vector<EndpointPort>{b, a}));
  EXPECT_NE(PortMapKey(std::vector<EndpointPort>{a}), PortMapKey(std::vector<EndpointPort>{c}));
  EXPECT_NE(PortMapKey(std::vector<EndpointPort>{a}), PortMapKey(std::vector<EndpointPort>{a, a}));
  EXPECT_EQ(PortMapKey(std::vector<EndpointPort>{}), PortMapKey(std::vector<EndpointPort>{}));
}

TEST(EndpointTest, IdentityAndEquality) {
  EndpointAddress addr = Addr("10.0.0.1", "u1");
  addr.set_nodename("node-1");
  addr.set_hostname("host");
  auto m = AddressToEndpoint(addr, true);
  ASSERT_TRUE(m.has_value());
  EXPECT_STREQ(m->address_type, kAddressTypeIPv4);
  Endpoint e = m->endpoint;
  EXPECT_EQ(e.addresses(0), "10.0.0.1");
  EXPECT_TRUE(e.conditions().ready());
  EXPECT_FALSE(e.conditions().has_serving());
  EXPECT_EQ(e.nodename(), "node-1");
  EXPECT_EQ(e.hostname(), "host");

  Endpoint other = e;
  other.mutable_targetref()->set_resourceversion("42");  // ignored
  EXPECT_TRUE(EndpointsEqualBeyondHash(e, other));
  other.mutable_conditions()->set_serving(true);
  EXPECT_FALSE(EndpointsEqualBeyondHash(e, other));
  other = e;
  other.mutable_targetref()->set_uid("u2");  // same identity, changed
  EXPECT_EQ(EndpointIdentity(e), EndpointIdentity(other));
  EXPECT_FALSE(EndpointsEqualBeyondHash(e, other));
  other = e;
  other.clear_hostname();
  EXPECT_NE(EndpointIdentity(e), EndpointIdentity(other));
  other = e;
  other.clear_nodename();
  EXPECT_FALSE(EndpointsEqualBeyondHash(e, other));

  EndpointAddress bare;
  bare.set_ip("2001:db8::1");
  auto v6 = AddressToEndpoint(bare, false);
  ASSERT_TRUE(v6.has_value());
  EXPECT_STREQ(v6->address_type, kAddressTypeIPv6);
  EXPECT_FALSE(v6->endpoint.has_hostname());
  EXPECT_FALSE(v6->endpoint.has_nodename());
  EXPECT_FALSE(v6->endpoint.has_targetref());
  EXPECT_FALSE(v6->endpoint.conditions().ready());
}

TEST(NewEndpointSliceTest, Metadata) {
  api::core::v1::Endpoints ep;
  ep.mutable_metadata()->set_namespace_("ns");
  ep.mutable_metadata()->set_name("svc");
  ep.mutable_metadata()->set_uid("uid-1");
  (*ep.mutable_metadata()->mutable_labels())["app"] = "x";
  (*ep.mutable_metadata()->mutable_labels())[kLabelManagedBy] = "someone";
  (*ep.mutable_metadata()->mutable_annotations())["keep"] = "1";
  (*ep.mutable_metadata()->mutable_annotations())[kAnnotationTriggerTime] = "t";
  (*ep.mutable_metadata()->mutable_annotations())[kAnnotationLastApplied] = "{}";
  auto s = NewEndpointSlice(ep, {}, kAddressTypeIPv6, "");
  EXPECT_EQ(s.metadata().generatename(), "svc-");
  EXPECT_FALSE(s.metadata().has_name());
  EXPECT_EQ(s.metadata().labels().at("app"), "x");
  EXPECT_EQ(s.metadata().labels().at(kLabelManagedBy), kControllerName);
  EXPECT_EQ(s.metadata().labels().at(kLabelServiceName), "svc");
  EXPECT_EQ(s.metadata().annotations().size(), 1u);
  ASSERT_EQ(s.metadata().ownerreferences_size(), 1);
  EXPECT_EQ(s.metadata().ownerreferences(0).kind(), "Endpoints");
  EXPECT_EQ(s.metadata().ownerreferences(0).apiversion(), "v1");
  EXPECT_EQ(s.metadata().ownerreferences(0).uid(), "uid-1");
  EXPECT_TRUE(s.metadata().ownerreferences(0).controller());
  EXPECT_TRUE(s.metadata().ownerreferences(0).blockownerdeletion());
  EXPECT_EQ(s.addresstype(), "IPv6");
  EXPECT_EQ(NewEndpointSlice(ep, {}, kAddressTypeIPv4, "svc-abc").metadata().name(), "svc-abc");
  EXPECT_EQ(EndpointSlicePrefix(std::string(253, 'a')), std::string(253, 'a'));
  EXPECT_EQ(EndpointSlicePrefix(std::string(252, 'a')), std::string(252, 'a') + "-");
}

TEST(ShouldMirrorTest, SkipMirrorAndLeader) {
  api::core::v1::Endpoints ep;
  EXPECT_TRUE(ShouldMirror(ep));
  (*ep.mutable_metadata()->mutable_labels())[kLabelSkipMirror] = "false";
  EXPECT_TRUE(ShouldMirror(ep));
  (*ep.mutable_metadata()->mutable_labels())[kLabelSkipMirror] = "true";
  EXPECT_FALSE(ShouldMirror(ep));
  ep.mutable_metadata()->mutable_labels()->clear();
  (*ep.mutable_metadata()->mutable_annotations())[kAnnotationLeader] = "";
  EXPECT_FALSE(ShouldMirror(ep));
}

}  // namespace
}  // namespace kslice::endpointslicemirroring
