#include "proxy/grpc/codec.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "proxy/grpc/test_states.h"

namespace kslice::proxy::grpc {
namespace {

using testing::BigState;
using testing::Churn;
using testing::SameContent;

// Feeds every message of `msgs` to the replica; returns the last completed update.
std::optional<AppliedUpdate> ApplyAll(StateReplica& r, const UpdateMessages& msgs) {
  std::optional<AppliedUpdate> last;
  for (size_t i = 0; i < msgs.size(); ++i) {
    absl::StatusOr<std::optional<AppliedUpdate>> a = r.Apply(*msgs[i]);
    EXPECT_TRUE(a.ok()) << a.status();
    if (!a.ok()) return std::nullopt;
    // Only the last part completes the update.
    EXPECT_EQ(a->has_value(), i + 1 == msgs.size()) << "part " << i << " of " << msgs.size();
    last = *a;
  }
  return last;
}

TEST(CodecTest, SnapshotRoundTripsEveryField) {
  ProxyState s = BigState(50, 4);
  // An entry with endpoints only (slices of a Service the proxy does not track).
  auto eps = std::make_shared<EndpointsMap>(*s.endpoints);
  EndpointInfo e;
  e.ip = "10.9.9.9";
  e.port = 53;
  e.zone_hints = {"a", "b"};
  e.node_hints = {"n"};
  (*eps)[ServicePortName{"kube-system", "orphan", "dns", "UDP"}] =
      std::make_shared<const EndpointList>(EndpointList{e});
  s.endpoints = eps;
  s.version = 7;
  UpdateMessages msgs = EncodeSnapshot(s, "inst", /*units_per_message=*/30);
  EXPECT_GT(msgs.size(), 5u);  // split
  StateReplica r;
  std::optional<AppliedUpdate> u = ApplyAll(r, msgs);
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->snapshot);
  EXPECT_EQ(u->version, 7u);
  EXPECT_EQ(r.instance(), "inst");
  std::string why;
  EXPECT_TRUE(SameContent(s, r.state(), &why)) << why;
  EXPECT_EQ(FormatState(s), FormatState(r.state()));
}

TEST(CodecTest, EmptyStateIsOneMessage) {
  ProxyState s;
  s.version = 1;
  s.node.name = "n";
  UpdateMessages msgs = EncodeSnapshot(s, "i");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_FALSE(msgs[0]->snapshot().more());
  StateReplica r;
  ASSERT_TRUE(ApplyAll(r, msgs).has_value());
  EXPECT_EQ(r.state().node.name, "n");
}

// The property: after any sequence of random syncs, snapshot + deltas (built from the
// hints, split into small parts) equal the in-process state, and the replica's hints
// name every changed port.
TEST(CodecTest, RandomChurnSnapshotPlusDeltasEqualsState) {
  for (uint64_t seed : {1, 2, 3, 42, 1234}) {
    Churn churn(seed);
    ProxyState state = BigState(40, 3);
    StateReplica r;
    ASSERT_TRUE(ApplyAll(r, EncodeSnapshot(state, "i", 17)).has_value());
    for (int step = 0; step < 300; ++step) {
      SyncHint hint;
      ProxyState next = churn.Next(state, 1 + step % 9, &hint);
      StateDiff diff = Diff(state, next, CandidatesFromHint(state, next, hint));
      StateDiff full = Diff(state, next, std::nullopt);
      EXPECT_EQ(diff.upserted, full.upserted) << "seed " << seed << " step " << step;
      EXPECT_EQ(diff.removed, full.removed);
      std::optional<AppliedUpdate> u =
          ApplyAll(r, EncodeDelta(state, next, diff, "i", /*units_per_message=*/7));
      ASSERT_TRUE(u.has_value()) << "seed " << seed << " step " << step;
      EXPECT_FALSE(u->snapshot);
      EXPECT_EQ(u->version, next.version);
      EXPECT_EQ(u->previous_version, state.version);
      for (const ServicePortName& p : full.upserted) EXPECT_TRUE(u->changed_ports.count(p));
      for (const ServicePortName& p : full.removed) EXPECT_TRUE(u->changed_ports.count(p));
      std::string why;
      ASSERT_TRUE(SameContent(next, r.state(), &why))
          << "seed " << seed << " step " << step << ": " << why;
      state = next;
    }
  }
}

TEST(CodecTest, DiffIgnoresValueEqualCopiesAndUsesHint) {
  ProxyState a = BigState(10, 2);
  ProxyState b = a;
  b.version = 2;
  auto svcs = std::make_shared<ServicePortMap>(*a.services);
  for (auto& [_, v] : *svcs) v = std::make_shared<const ServicePortInfo>(*v);  // equal copies
  b.services = svcs;
  EXPECT_TRUE(Diff(a, b, std::nullopt).empty());
  // A change outside the hint's candidates is not looked at (the hint is trusted).
  auto eps = std::make_shared<EndpointsMap>(*a.endpoints);
  eps->erase(eps->begin());
  b.endpoints = eps;
  SyncHint none;
  none.full = false;
  EXPECT_TRUE(Diff(a, b, CandidatesFromHint(a, b, none)).empty());
  SyncHint by_service;
  by_service.full = false;
  by_service.changed_services = {a.endpoints->begin()->first.NamespacedName()};
  StateDiff d = Diff(a, b, CandidatesFromHint(a, b, by_service));
  ASSERT_EQ(d.upserted.size(), 1u);  // the Service port stays, its endpoints went
  EXPECT_EQ(d.upserted[0], a.endpoints->begin()->first);
}

// The replica shares what a delta does not change: the Service port map when only
// endpoints changed, and every untouched entry's pointer (backends cache by pointer).
TEST(CodecTest, ReplicaSharesUnchangedMapsAndEntries) {
  ProxyState s = BigState(20, 3);
  StateReplica r;
  ASSERT_TRUE(ApplyAll(r, EncodeSnapshot(s, "i")).has_value());
  const ProxyState before = r.state();
  Churn churn(3);
  SyncHint hint;
  ProxyState next = churn.FlipEndpoint(s, 4, &hint);
  ASSERT_TRUE(ApplyAll(r, EncodeDelta(s, next, Diff(s, next, std::nullopt), "i")).has_value());
  EXPECT_EQ(r.state().services.get(), before.services.get());
  EXPECT_NE(r.state().endpoints.get(), before.endpoints.get());
  int same = 0;
  for (const auto& [name, list] : *before.endpoints) {
    same += r.state().endpoints->at(name).get() == list.get();
  }
  EXPECT_EQ(same, 19);
  std::string why;
  EXPECT_TRUE(SameContent(next, r.state(), &why)) << why;
}

TEST(CodecTest, ToSyncHint) {
  AppliedUpdate u;
  u.version = 5;
  u.previous_version = 4;
  u.changed_ports = {ServicePortName{"a", "b", "", "TCP"}};
  u.changed_services = {"a/b"};
  SyncHint h = u.ToSyncHint(4);
  EXPECT_FALSE(h.full);
  EXPECT_EQ(h.previous_version, 4u);
  EXPECT_EQ(h.changed_services, u.changed_services);
  EXPECT_TRUE(u.ToSyncHint(3).full);  // the local backend missed a version
  EXPECT_TRUE(u.ToSyncHint(0).full);  // never synced
  u.snapshot = true;
  EXPECT_TRUE(u.ToSyncHint(4).full);
}

TEST(CodecTest, ReplicaRejectsBrokenStreams) {
  ProxyState s = BigState(3, 1);
  StateReplica r;
  v1::StateUpdate empty;
  EXPECT_EQ(r.Apply(empty).status().code(), absl::StatusCode::kInvalidArgument);

  // A delta before any snapshot.
  SyncHint hint;
  Churn churn(9);
  ProxyState next = churn.Next(s, 3, &hint);
  UpdateMessages delta = EncodeDelta(s, next, Diff(s, next, std::nullopt), "i");
  EXPECT_EQ(r.Apply(*delta[0]).status().code(), absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(ApplyAll(r, EncodeSnapshot(s, "i")).has_value());
  // Wrong instance.
  UpdateMessages other = EncodeDelta(s, next, Diff(s, next, std::nullopt), "other");
  absl::Status st = r.Apply(*other[0]).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(st.message(), "does not follow")) << st;
  EXPECT_EQ(r.version(), 0u);  // reset

  // A gap in versions.
  ASSERT_TRUE(ApplyAll(r, EncodeSnapshot(s, "i")).has_value());
  ProxyState later = churn.Next(next, 2, &hint);
  UpdateMessages gap = EncodeDelta(next, later, Diff(next, later, std::nullopt), "i");
  EXPECT_EQ(r.Apply(*gap[0]).status().code(), absl::StatusCode::kFailedPrecondition);

  // Bad names, bad family, interleaved parts.
  ASSERT_TRUE(ApplyAll(r, EncodeSnapshot(s, "i")).has_value());
  v1::StateUpdate bad;
  bad.set_instance("i");
  bad.mutable_delta()->set_version(s.version + 1);
  bad.mutable_delta()->set_previous_version(s.version);
  bad.mutable_delta()->add_removed()->set_name("x");
  st = r.Apply(bad).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(st.message(), "namespace")) << st;

  v1::StateUpdate fam;
  fam.mutable_snapshot()->set_version(3);
  fam.mutable_snapshot()->set_family(static_cast<v1::IPFamily>(9));
  EXPECT_EQ(r.Apply(fam).status().code(), absl::StatusCode::kInvalidArgument);

  UpdateMessages parts = EncodeSnapshot(BigState(30, 2), "i", 10);
  ASSERT_GT(parts.size(), 1u);
  ASSERT_TRUE(r.Apply(*parts[0]).ok());
  EXPECT_EQ(r.Apply(*delta[0]).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CodecTest, FormatStateIsStable) {
  ProxyState s = BigState(1, 2);
  s.version = 3;
  const std::string text = FormatState(s);
  EXPECT_EQ(text,
            "state version=3 family=IPv4 node=node-a\n"
            "node-label topology.kubernetes.io/zone=z1\n"
            "service ns-0/svc-0:http TCP 10.37.128.1:80/TCP type=ClusterIP\n"
            "  endpoint 10.3.232.2:8080 ready,serving node=node-1 zone=z1\n"
            "  endpoint 10.3.232.3:8080 ready,serving node=node-2 zone=z2\n"
            "end\n");
}

}  // namespace
}  // namespace kslice::proxy::grpc
