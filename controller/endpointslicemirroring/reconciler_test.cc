// The mirroring reconciler and sync against an in-memory store: desired slices from
// Endpoints (ready/not ready, invalid IPs, the per-subset limit, address types, several
// subsets), metadata sync, no-op syncs, deletions and recycling, and the sync's
// decisions (Endpoints gone, skip-mirror, leader annotation, Service with a selector).
#include "controller/endpointslicemirroring/reconciler.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/errors/errors.h"
#include "controller/endpointslice/slice_tracker.h"
#include "controller/endpointslicemirroring/metrics.h"
#include "controller/endpointslicemirroring/utils.h"
#include "controller/metrics/metrics.h"
#include "gtest/gtest.h"

namespace kslice::endpointslicemirroring {
namespace {

using api::core::v1::EndpointAddress;
using api::core::v1::EndpointSubset;
using api::discovery::v1::Endpoint;

// An API server in miniature: names from generateName, uids, generations; records
// every write; can refuse the next write.
class FakeWriter : public SliceWriter {
 public:
  struct Action {
    std::string verb;  // create, update, delete
    std::string name;
  };

  absl::StatusOr<EndpointSlice> Create(const EndpointSlice& slice) override {
    if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
    EndpointSlice s = slice;
    EXPECT_FALSE(s.metadata().has_name()) << "creates use generateName";
    s.mutable_metadata()->set_name(absl::StrCat(s.metadata().generatename(), next_++));
    s.mutable_metadata()->set_uid(absl::StrCat("uid-", next_++));
    s.mutable_metadata()->set_generation(1);
    s.mutable_metadata()->set_resourceversion(absl::StrCat(next_++));
    slices_[s.metadata().name()] = s;
    actions_.push_back({"create", s.metadata().name()});
    return s;
  }
  absl::StatusOr<EndpointSlice> Update(const EndpointSlice& slice) override {
    if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
    auto it = slices_.find(slice.metadata().name());
    if (it == slices_.end()) return absl::NotFoundError(slice.metadata().name());
    EXPECT_FALSE(slice.metadata().has_resourceversion()) << "mirroring PUTs unconditionally";
    EndpointSlice s = slice;
    s.mutable_metadata()->set_uid(it->second.metadata().uid());
    s.mutable_metadata()->set_generation(it->second.metadata().generation() + 1);
    s.mutable_metadata()->set_resourceversion(absl::StrCat(next_++));
    it->second = s;
    actions_.push_back({"update", s.metadata().name()});
    return s;
  }
  absl::Status Delete(const EndpointSlice& slice) override {
    if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
    if (slices_.erase(slice.metadata().name()) == 0) {
      return absl::NotFoundError(slice.metadata().name());
    }
    actions_.push_back({"delete", slice.metadata().name()});
    return absl::OkStatus();
  }

  // The stored slices sorted by name (what the lister hands the reconciler).
  std::vector<std::shared_ptr<const EndpointSlice>> List() const {
    std::vector<std::shared_ptr<const EndpointSlice>> out;
    for (const auto& [name, s] : slices_) out.push_back(std::make_shared<EndpointSlice>(s));
    return out;
  }
  void Seed(EndpointSlice s) { slices_[s.metadata().name()] = std::move(s); }
  std::string Verbs() const {
    std::string out;
    for (const Action& a : actions_) absl::StrAppend(&out, out.empty() ? "" : ",", a.verb);
    return out;
  }
  const std::vector<Action>& actions() const { return actions_; }
  void ClearActions() { actions_.clear(); }
  void FailNext(absl::Status s) { fail_next_ = std::move(s); }
  std::map<std::string, EndpointSlice>& slices() { return slices_; }

 private:
  std::map<std::string, EndpointSlice> slices_;
  std::vector<Action> actions_;
  absl::Status fail_next_;
  int next_ = 0;
};

struct Event {
  std::string type, reason, message;
};

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override { Rebuild(1000); }
  void Rebuild(int32_t max) {
    metrics_ = *Metrics::Create(registry_, max);
    reconciler_ = std::make_unique<Reconciler>(
        &writer_, &tracker_, metrics_.get(),
        [this](const Endpoints&, std::string_view type, std::string_view reason,
               std::string_view message) {
          events_.push_back({std::string(type), std::string(reason), std::string(message)});
        },
        ReconcilerOptions{.max_endpoints_per_subset = max});
  }

  static Endpoints MakeEndpoints() {
    Endpoints ep;
    ep.mutable_metadata()->set_namespace_("ns");
    ep.mutable_metadata()->set_name("svc");
    ep.mutable_metadata()->set_uid("ep-uid");
    return ep;
  }
  static EndpointAddress Addr(const std::string& ip) {
    EndpointAddress a;
    a.set_ip(ip);
    return a;
  }
  static EndpointSubset* AddSubset(Endpoints& ep, const std::string& port_name, int port) {
    EndpointSubset* s = ep.add_subsets();
    auto* p = s->add_ports();
    p->set_name(port_name);
    p->set_port(port);
    p->set_protocol("TCP");
    return s;
  }
  absl::Status Reconcile(const Endpoints& ep) { return reconciler_->Reconcile(ep, writer_.List()); }
  // The stored slices of one address type.
  std::vector<EndpointSlice> SlicesOf(const std::string& type) {
    std::vector<EndpointSlice> out;
    for (const auto& [name, s] : writer_.slices()) {
      if (s.addresstype() == type) out.push_back(s);
    }
    return out;
  }

  controller::metrics::Registry registry_;
  std::unique_ptr<Metrics> metrics_;
  FakeWriter writer_;
  endpointslice::SliceTracker tracker_;
  std::vector<Event> events_;
  std::unique_ptr<Reconciler> reconciler_;
};

TEST_F(ReconcilerTest, MirrorsReadyAndNotReadyAddresses) {
  Endpoints ep = MakeEndpoints();
  (*ep.mutable_metadata()->mutable_labels())["app"] = "web";
  (*ep.mutable_metadata()->mutable_annotations())["note"] = "x";
  (*ep.mutable_metadata()->mutable_annotations())[kAnnotationTriggerTime] = "2026-01-01T00:00:00Z";
  EndpointSubset* s = AddSubset(ep, "http", 80);
  EndpointAddress a = Addr("10.0.0.1");
  a.set_nodename("node-a");
  a.set_hostname("web-0");
  a.mutable_targetref()->set_kind("Pod");
  a.mutable_targetref()->set_namespace_("ns");
  a.mutable_targetref()->set_name("web-0");
  *s->add_addresses() = a;
  *s->add_notreadyaddresses() = Addr("10.0.0.2");
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "create");
  std::vector<EndpointSlice> v4 = SlicesOf("IPv4");
  ASSERT_EQ(v4.size(), 1u);
  const EndpointSlice& slice = v4[0];
  EXPECT_EQ(slice.metadata().generatename(), "svc-");
  EXPECT_EQ(slice.metadata().labels().at("app"), "web");
  EXPECT_EQ(slice.metadata().labels().at(kLabelServiceName), "svc");
  EXPECT_EQ(slice.metadata().labels().at(kLabelManagedBy), kControllerName);
  EXPECT_EQ(slice.metadata().annotations().size(), 1u);
  EXPECT_EQ(slice.metadata().ownerreferences(0).kind(), "Endpoints");
  ASSERT_EQ(slice.ports_size(), 1);
  EXPECT_EQ(slice.ports(0).name(), "http");
  EXPECT_EQ(slice.ports(0).port(), 80);
  EXPECT_EQ(slice.ports(0).protocol(), "TCP");
  EXPECT_FALSE(slice.ports(0).has_appprotocol());
  ASSERT_EQ(slice.endpoints_size(), 2);
  EXPECT_EQ(slice.endpoints(0).addresses(0), "10.0.0.1");
  EXPECT_TRUE(slice.endpoints(0).conditions().ready());
  EXPECT_EQ(slice.endpoints(0).nodename(), "node-a");
  EXPECT_EQ(slice.endpoints(0).hostname(), "web-0");
  EXPECT_EQ(slice.endpoints(0).targetref().name(), "web-0");
  EXPECT_EQ(slice.endpoints(1).addresses(0), "10.0.0.2");
  EXPECT_FALSE(slice.endpoints(1).conditions().ready());
  EXPECT_FALSE(slice.endpoints(1).conditions().has_serving());
  EXPECT_FALSE(slice.endpoints(1).conditions().has_terminating());
  EXPECT_TRUE(tracker_.Has(slice));
  EXPECT_FALSE(tracker_.ShouldSync(slice));  // our own write
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(metrics_->changes->WithLabelValues({"create"}).Value(), 1);
  EXPECT_EQ(metrics_->endpoints_desired->Value(), 2);
  EXPECT_EQ(metrics_->num_endpoint_slices->Value(), 1);
  EXPECT_EQ(metrics_->desired_endpoint_slices->Value(), 1);

  // The same state again: no writes.
  writer_.ClearActions();
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "");
  // The trigger-time annotation alone does not count.
  (*ep.mutable_metadata()->mutable_annotations())[kAnnotationTriggerTime] = "2026-02-02T00:00:00Z";
  (*ep.mutable_metadata()->mutable_annotations())[kAnnotationLastApplied] = "{}";
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "");
}

TEST_F(ReconcilerTest, InvalidAddressesAreSkippedWithAnEvent) {
  Endpoints ep = MakeEndpoints();
  EndpointSubset* s = AddSubset(ep, "http", 80);
  *s->add_addresses() = Addr("10.0.0.1");
  *s->add_addresses() = Addr("not-an-ip");
  *s->add_notreadyaddresses() = Addr("10.0.0.300");
  ASSERT_TRUE(Reconcile(ep).ok());
  std::vector<EndpointSlice> v4 = SlicesOf("IPv4");
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0].endpoints_size(), 1);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].type, "Warning");
  EXPECT_EQ(events_[0].reason, "InvalidIPAddress");
  EXPECT_EQ(events_[0].message, "Skipped 2 invalid IP addresses when mirroring to EndpointSlices");
  auto snap = metrics_->addresses_skipped_per_sync->Read();
  EXPECT_EQ(snap.count, 1u);
  EXPECT_EQ(snap.sum, 2);
}

TEST_F(ReconcilerTest, AtMostMaxAddressesPerSubset) {
  Rebuild(2);
  Endpoints ep = MakeEndpoints();
  EndpointSubset* s = AddSubset(ep, "http", 80);
  for (const char* ip : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) *s->add_addresses() = Addr(ip);
  *s->add_notreadyaddresses() = Addr("10.0.0.4");
  EndpointSubset* other = AddSubset(ep, "dns", 53);  // its own limit
  *other->add_addresses() = Addr("10.0.1.1");
  *other->add_addresses() = Addr("10.0.1.2");
  ASSERT_TRUE(Reconcile(ep).ok());
  std::vector<EndpointSlice> v4 = SlicesOf("IPv4");
  ASSERT_EQ(v4.size(), 2u);
  for (const EndpointSlice& slice : v4) {
    EXPECT_EQ(slice.endpoints_size(), 2);
    if (slice.ports(0).name() == "http") {
      EXPECT_EQ(slice.endpoints(0).addresses(0), "10.0.0.1");  // ready ones first
      EXPECT_EQ(slice.endpoints(1).addresses(0), "10.0.0.2");
    }
  }
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].reason, "TooManyAddressesToMirror");
  EXPECT_EQ(events_[0].message,
            "A max of 2 addresses can be mirrored to EndpointSlices per Endpoints subset. 2 "
            "addresses were skipped");
}

TEST_F(ReconcilerTest, SplitsByAddressType) {
  Endpoints ep = MakeEndpoints();
  EndpointSubset* s = AddSubset(ep, "http", 80);
  *s->add_addresses() = Addr("10.0.0.1");
  *s->add_addresses() = Addr("::ffff:10.0.0.2");  // mapped: IPv4, canonical form
  *s->add_addresses() = Addr("2001:DB8:0:0::1");
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "create,create");
  std::vector<EndpointSlice> v4 = SlicesOf("IPv4"), v6 = SlicesOf("IPv6");
  ASSERT_EQ(v4.size(), 1u);
  ASSERT_EQ(v6.size(), 1u);
  ASSERT_EQ(v4[0].endpoints_size(), 2);
  EXPECT_EQ(v4[0].endpoints(1).addresses(0), "10.0.0.2");
  ASSERT_EQ(v6[0].endpoints_size(), 1);
  EXPECT_EQ(v6[0].endpoints(0).addresses(0), "2001:db8::1");
  // Stable afterwards (the canonical form is compared).
  writer_.ClearActions();
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "");
  // The IPv6 address goes away: its slice is deleted (no placeholder).
  s->mutable_addresses()->RemoveLast();
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "delete");
  EXPECT_TRUE(SlicesOf("IPv6").empty());
}

TEST_F(ReconcilerTest, OneSlicePerPortSet) {
  Endpoints ep = MakeEndpoints();
  EndpointSubset* a = AddSubset(ep, "http", 80);
  *a->add_addresses() = Addr("10.0.0.1");
  EndpointSubset* b = AddSubset(ep, "http", 8080);
  *b->add_addresses() = Addr("10.0.0.2");
  *b->add_addresses() = Addr("10.0.0.3");
  ASSERT_TRUE(Reconcile(ep).ok());
  std::vector<EndpointSlice> v4 = SlicesOf("IPv4");
  ASSERT_EQ(v4.size(), 2u);
  std::map<int, int> by_port;
  for (const EndpointSlice& s : v4) by_port[s.ports(0).port()] = s.endpoints_size();
  EXPECT_EQ(by_port[80], 1);
  EXPECT_EQ(by_port[8080], 2);
  EXPECT_EQ(metrics_->num_endpoint_slices->Value(), 2);
  EXPECT_EQ(metrics_->endpoints_desired->Value(), 3);
}

TEST_F(ReconcilerTest, LabelsAnnotationsAndEndpointChangesUpdateInPlace) {
  Endpoints ep = MakeEndpoints();
  EndpointSubset* s = AddSubset(ep, "http", 80);
  *s->add_addresses() = Addr("10.0.0.1");
  ASSERT_TRUE(Reconcile(ep).ok());
  const std::string name = writer_.slices().begin()->first;

  (*ep.mutable_metadata()->mutable_labels())["tier"] = "front";
  writer_.ClearActions();
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "update");
  EXPECT_EQ(writer_.slices().at(name).metadata().labels().at("tier"), "front");

  (*ep.mutable_metadata()->mutable_annotations())["a"] = "b";
  writer_.ClearActions();
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "update");
  EXPECT_EQ(writer_.slices().at(name).metadata().annotations().at("a"), "b");

  // A foreign label on the slice is dropped by the rewrite.
  (*writer_.slices().at(name).mutable_metadata()->mutable_labels())["foreign"] = "1";
  writer_.ClearActions();
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "update");
  EXPECT_FALSE(writer_.slices().at(name).metadata().labels().contains("foreign"));

  // Endpoint moves to not ready, and a node name appears: same slice rewritten.
  *s->add_notreadyaddresses() = s->addresses(0);
  s->mutable_notreadyaddresses(0)->set_nodename("n1");
  s->clear_addresses();
  writer_.ClearActions();
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "update");
  const EndpointSlice& now = writer_.slices().at(name);
  ASSERT_EQ(now.endpoints_size(), 1);
  EXPECT_FALSE(now.endpoints(0).conditions().ready());
  EXPECT_EQ(now.endpoints(0).nodename(), "n1");
  EXPECT_EQ(metrics_->endpoints_updated_per_sync->Read().sum, 1);
}

TEST_F(ReconcilerTest, OwnerFromAnEarlierEndpointsIsReplaced) {
  Endpoints ep = MakeEndpoints();
  *AddSubset(ep, "http", 80)->add_addresses() = Addr("10.0.0.1");
  ASSERT_TRUE(Reconcile(ep).ok());
  // The Endpoints is deleted and created again (same name, new uid).
  ep.mutable_metadata()->set_uid("ep-uid-2");
  writer_.ClearActions();
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "update");
  EXPECT_EQ(writer_.slices().begin()->second.metadata().ownerreferences(0).uid(), "ep-uid-2");
  // Other owners do not matter.
  auto* other = writer_.slices().begin()->second.mutable_metadata()->add_ownerreferences();
  other->set_kind("ConfigMap");
  other->set_name("x");
  other->set_uid("cm");
  writer_.ClearActions();
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "");
}

TEST_F(ReconcilerTest, ExtraSlicesOfAKeyAreDeleted) {
  Endpoints ep = MakeEndpoints();
  EndpointSubset* s = AddSubset(ep, "http", 80);
  *s->add_addresses() = Addr("10.0.0.1");
  ASSERT_TRUE(Reconcile(ep).ok());
  EndpointSlice dup = writer_.slices().begin()->second;
  dup.mutable_metadata()->set_name("svc-zzz");
  dup.mutable_metadata()->set_uid("other");
  writer_.Seed(dup);
  writer_.ClearActions();
  ASSERT_TRUE(Reconcile(ep).ok());
  ASSERT_EQ(writer_.actions().size(), 1u);
  EXPECT_EQ(writer_.actions()[0].verb, "delete");
  EXPECT_EQ(writer_.actions()[0].name, "svc-zzz");
}

TEST_F(ReconcilerTest, PortChangeRecyclesTheSlice) {
  Endpoints ep = MakeEndpoints();
  EndpointSubset* s = AddSubset(ep, "http", 80);
  *s->add_addresses() = Addr("10.0.0.1");
  ASSERT_TRUE(Reconcile(ep).ok());
  const std::string name = writer_.slices().begin()->first;
  s->mutable_ports(0)->set_port(8080);
  writer_.ClearActions();
  ASSERT_TRUE(Reconcile(ep).ok());
  // The create for the new port set takes the old slice's name: one update.
  EXPECT_EQ(writer_.Verbs(), "update");
  ASSERT_EQ(writer_.slices().size(), 1u);
  EXPECT_EQ(writer_.slices().at(name).ports(0).port(), 8080);
}

TEST_F(ReconcilerTest, NoEndpointsDeletesEverything) {
  Endpoints ep = MakeEndpoints();
  EndpointSubset* s = AddSubset(ep, "http", 80);
  *s->add_addresses() = Addr("10.0.0.1");
  *s->add_addresses() = Addr("fd00::1");
  ASSERT_TRUE(Reconcile(ep).ok());
  ASSERT_EQ(writer_.slices().size(), 2u);
  ep.clear_subsets();
  writer_.ClearActions();
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "delete,delete");
  EXPECT_TRUE(writer_.slices().empty());
  EXPECT_EQ(metrics_->num_endpoint_slices->Value(), 0);
  EXPECT_EQ(metrics_->changes->WithLabelValues({"delete"}).Value(), 2);
}

TEST_F(ReconcilerTest, NoCreatesWhileTheEndpointsIsBeingDeleted) {
  Endpoints ep = MakeEndpoints();
  ep.mutable_metadata()->mutable_deletiontimestamp();
  *AddSubset(ep, "http", 80)->add_addresses() = Addr("10.0.0.1");
  ASSERT_TRUE(Reconcile(ep).ok());
  EXPECT_EQ(writer_.Verbs(), "");
}

TEST_F(ReconcilerTest, WriteErrors) {
  Endpoints ep = MakeEndpoints();
  *AddSubset(ep, "http", 80)->add_addresses() = Addr("10.0.0.1");
  // A namespace being deleted refuses creates: the sync ends successfully.
  client::StatusError terminating;
  terminating.mutable_status().set_code(403);
  terminating.mutable_status().set_reason("Forbidden");
  terminating.mutable_status().set_message("namespace ns is being terminated");
  terminating.mutable_status().mutable_details()->add_causes()->set_reason("NamespaceTerminating");
  writer_.FailNext(client::ToStatus(terminating));
  EXPECT_TRUE(Reconcile(ep).ok());
  EXPECT_TRUE(writer_.slices().empty());
  // Another error is returned with context.
  writer_.FailNext(absl::UnavailableError("boom"));
  absl::Status s = Reconcile(ep);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "failed to create EndpointSlice for Endpoints ns/svc: boom");
}

// Cases of upstream's TestReconcile (reconciler_test.go), with its metric expectations.
struct UpstreamCase {
  std::string name;
  std::vector<std::vector<std::pair<std::string, int>>> subset_ports;  // (name, port)
  std::vector<std::vector<std::string>> subset_ips;
  std::vector<EndpointSlice> existing;
  int32_t max = 1000;
  int want_slices, want_actions;
  int desired_slices, actual_slices, desired_endpoints, added, updated, removed, skipped;
  int created, updated_slices;
};

EndpointSlice ExistingSlice(const std::vector<std::pair<std::string, int>>& ports,
                            const std::vector<std::pair<std::vector<std::string>, int>>&
                                endpoint_addresses,  // (addresses, pod/node number)
                            bool ready_and_node) {
  EndpointSlice s;
  s.mutable_metadata()->set_namespace_("ns");
  s.mutable_metadata()->set_name("test-ep-1");
  s.mutable_metadata()->set_uid("existing");
  s.mutable_metadata()->set_generation(1);
  (*s.mutable_metadata()->mutable_labels())[kLabelServiceName] = "svc";
  (*s.mutable_metadata()->mutable_labels())[kLabelManagedBy] = kControllerName;
  s.set_addresstype("IPv4");
  for (const auto& [name, port] : ports) {
    auto* p = s.add_ports();
    p->set_name(name);
    p->set_port(port);
    p->set_protocol(port == 443 || port == 3001 ? "UDP" : "TCP");
  }
  for (const auto& [addresses, i] : endpoint_addresses) {
    Endpoint* e = s.add_endpoints();
    for (const std::string& a : addresses) e->add_addresses(a);
    e->set_hostname(absl::StrCat("pod-", i));
    if (ready_and_node) {
      e->set_nodename(absl::StrCat("node-", i));
      e->mutable_conditions()->set_ready(true);
    }
  }
  return s;
}

TEST(UpstreamReconcileTest, Cases) {
  const std::vector<std::pair<std::string, int>> web = {{"http", 80}, {"https", 443}};
  const std::vector<std::pair<std::string, int>> alt = {{"http", 3000}, {"https", 3001}};
  const std::vector<std::string> first = {"10.0.0.1", "10.0.0.2"};
  const std::vector<std::string> second = {"10.0.1.1", "10.0.1.2", "10.0.1.3"};
  // clang-format off
  // Wanted: slices, actions; gauges desired/actual slices, desired endpoints; per-sync
  // added, updated, removed, skipped; changes create, update.
  const std::vector<UpstreamCase> cases = {
      {"2 subsets, multiple ports and addresses", {web, alt}, {first, second}, {}, 1000,
       2, 2, 2, 2, 5, 5, 0, 0, 0, 2, 0},
      {"existing empty EndpointSlice", {web, alt}, {first, second},
       {ExistingSlice(web, {}, false)}, 1000, 2, 2, 2, 2, 5, 5, 0, 0, 0, 1, 1},
      {"existing EndpointSlice with some addresses", {web, alt}, {first, second},
       {ExistingSlice(web, {{{"10.0.0.2"}, 2}, {{"10.0.0.1", "10.0.0.3"}, 1}}, false)}, 1000,
       2, 2, 2, 2, 5, 4, 1, 1, 0, 1, 1},
      {"existing EndpointSlice identical to subset", {web, alt}, {first, second},
       {ExistingSlice(web, {{{"10.0.0.1"}, 1}, {{"10.0.0.2"}, 2}}, true)}, 1000,
       2, 1, 2, 2, 5, 3, 0, 0, 0, 1, 0},
      {"dual stack", {web, alt},
       {{"2001:db8:2222:3333:4444:5555:6666:7777", "10.0.0.2"},
        {"10.0.1.1", "10.0.1.2", "2001:db8:3333:4444:5555:6666:7777:8888"}},
       {}, 1000, 4, 4, 4, 4, 5, 5, 0, 0, 0, 4, 0},
      {"some invalid addresses", {web, alt},
       {{"2001:db8:1111:3333:4444:5555:6666:7777", "this-is-not-an-ip"},
        {"this-is-also-not-an-ip", "2001:db8:4444:3333:4444:5555:6666:7777",
         "2001:db8:5555:3333:4444:5555:6666:7777"}},
       {}, 1000, 2, 2, 2, 2, 3, 3, 0, 0, 2, 2, 0},
      {"all invalid addresses", {web, alt}, {{"a", "b"}, {"c", "d", "e"}}, {}, 1000,
       0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0},
      {"1 subset exceeding maxEndpointsPerSubset", {web, alt}, {first, second}, {}, 2,
       2, 2, 2, 2, 4, 4, 0, 0, 1, 2, 0},
  };
  // clang-format on
  for (const UpstreamCase& c : cases) {
    SCOPED_TRACE(c.name);
    controller::metrics::Registry registry;
    std::unique_ptr<Metrics> metrics = *Metrics::Create(registry, c.max);
    FakeWriter writer;
    endpointslice::SliceTracker tracker;
    Reconciler r(&writer, &tracker, metrics.get(), nullptr,
                 ReconcilerOptions{.max_endpoints_per_subset = c.max});
    for (const EndpointSlice& s : c.existing) writer.Seed(s);
    Endpoints ep;
    ep.mutable_metadata()->set_namespace_("ns");
    ep.mutable_metadata()->set_name("svc");
    for (size_t i = 0; i < c.subset_ports.size(); ++i) {
      EndpointSubset* s = ep.add_subsets();
      for (const auto& [name, port] : c.subset_ports[i]) {
        auto* p = s->add_ports();
        p->set_name(name);
        p->set_port(port);
        p->set_protocol(port == 443 || port == 3001 ? "UDP" : "TCP");
      }
      int n = 1;
      for (const std::string& ip : c.subset_ips[i]) {
        EndpointAddress* a = s->add_addresses();
        a->set_ip(ip);
        a->set_hostname(absl::StrCat("pod-", n));
        a->set_nodename(absl::StrCat("node-", n));
        ++n;
      }
    }
    ASSERT_TRUE(r.Reconcile(ep, writer.List()).ok());
    EXPECT_EQ(static_cast<int>(writer.slices().size()), c.want_slices);
    EXPECT_EQ(static_cast<int>(writer.actions().size()), c.want_actions);
    EXPECT_EQ(metrics->desired_endpoint_slices->Value(), c.desired_slices);
    EXPECT_EQ(metrics->num_endpoint_slices->Value(), c.actual_slices);
    EXPECT_EQ(metrics->endpoints_desired->Value(), c.desired_endpoints);
    EXPECT_EQ(metrics->endpoints_added_per_sync->Read().sum, c.added);
    EXPECT_EQ(metrics->endpoints_updated_per_sync->Read().sum, c.updated);
    EXPECT_EQ(metrics->endpoints_removed_per_sync->Read().sum, c.removed);
    EXPECT_EQ(metrics->addresses_skipped_per_sync->Read().sum, c.skipped);
    EXPECT_EQ(metrics->changes->WithLabelValues({"create"}).Value(), c.created);
    EXPECT_EQ(metrics->changes->WithLabelValues({"update"}).Value(), c.updated_slices);
  }
}

// --- Sync: when mirroring applies ---

class SyncTest : public ReconcilerTest {
 protected:
  void SetUp() override {
    ReconcilerTest::SetUp();
    endpoints_ = std::make_shared<Endpoints>(MakeEndpoints());
    *AddSubset(*endpoints_, "http", 80)->add_addresses() = Addr("10.0.0.1");
    service_ = std::make_shared<Service>();
    service_->mutable_metadata()->set_namespace_("ns");
    service_->mutable_metadata()->set_name("svc");
    listers_.endpoints =
        [this](const std::string&,
               const std::string&) -> absl::StatusOr<std::shared_ptr<const Endpoints>> {
      if (endpoints_ == nullptr) return absl::NotFoundError("endpoints");
      return std::shared_ptr<const Endpoints>(endpoints_);
    };
    listers_.service = [this](
                           const std::string&,
                           const std::string&) -> absl::StatusOr<std::shared_ptr<const Service>> {
      if (service_ == nullptr) return absl::NotFoundError("service");
      return std::shared_ptr<const Service>(service_);
    };
    listers_.mirrored_slices = [this](const std::string&, const std::string&)
        -> absl::StatusOr<std::vector<std::shared_ptr<const EndpointSlice>>> {
      return writer_.List();
    };
  }
  void MirrorOnce() {
    ASSERT_TRUE(reconciler_->Sync("ns/svc", listers_).ok());
    ASSERT_EQ(writer_.slices().size(), 1u);
    writer_.ClearActions();
  }
  void ExpectAllDeleted() {
    ASSERT_TRUE(reconciler_->Sync("ns/svc", listers_).ok());
    EXPECT_EQ(writer_.Verbs(), "delete");
    EXPECT_TRUE(writer_.slices().empty());
  }

  std::shared_ptr<Endpoints> endpoints_;
  std::shared_ptr<Service> service_;
  Listers listers_;
};

TEST_F(SyncTest, MirrorsThenDeletesWhenEndpointsGone) {
  MirrorOnce();
  endpoints_ = nullptr;
  ExpectAllDeleted();
  EXPECT_EQ(metrics_->endpoints_sync_duration->Read().count, 2u);
}

TEST_F(SyncTest, SkipMirrorLabelDeletes) {
  MirrorOnce();
  (*endpoints_->mutable_metadata()->mutable_labels())[kLabelSkipMirror] = "true";
  ExpectAllDeleted();
}

TEST_F(SyncTest, LeaderAnnotationDeletes) {
  MirrorOnce();
  (*endpoints_->mutable_metadata()->mutable_annotations())[kAnnotationLeader] = "{}";
  ExpectAllDeleted();
}

TEST_F(SyncTest, ServiceWithSelectorOrMissingDeletes) {
  MirrorOnce();
  (*service_->mutable_spec()->mutable_selector())["app"] = "web";
  ExpectAllDeleted();
  service_->mutable_spec()->clear_selector();
  MirrorOnce();
  service_ = nullptr;
  ExpectAllDeleted();
}

TEST_F(SyncTest, StaleCacheIsRefused) {
  MirrorOnce();
  // The cache does not show the slice we just created.
  listers_.mirrored_slices =
      [](const std::string&,
         const std::string&) -> absl::StatusOr<std::vector<std::shared_ptr<const EndpointSlice>>> {
    return std::vector<std::shared_ptr<const EndpointSlice>>{};
  };
  EXPECT_EQ(reconciler_->Sync("ns/svc", listers_).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(writer_.Verbs(), "");
}

TEST_F(SyncTest, DeleteErrorsAreCollected) {
  MirrorOnce();
  endpoints_ = nullptr;
  writer_.FailNext(absl::UnavailableError("down"));
  absl::Status s = reconciler_->Sync("ns/svc", listers_);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "error(s) deleting 1/1 EndpointSlices for ns/svc Endpoints, including: down");
}

}  // namespace
}  // namespace kslice::endpointslicemirroring
