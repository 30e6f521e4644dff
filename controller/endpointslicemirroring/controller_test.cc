// The mirroring controller against the embedded API server: a selector-less Service
// with user-written Endpoints gets mirrored slices; an Endpoints change updates them in
// place; the skip-mirror label and a selector on the Service remove them.
#include "controller/endpointslicemirroring/controller.h"

#include <functional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "client/rest/client.h"
#include "controller/endpointslicemirroring/utils.h"
#include "controller/manager/manager.h"
#include "controller/metrics/metrics.h"
#include "envtest/environment/environment.h"
#include "gtest/gtest.h"

namespace kslice::endpointslicemirroring {
namespace {

using api::core::v1::Endpoints;
using api::core::v1::EndpointsList;
using api::core::v1::Service;
using api::core::v1::ServiceList;
using api::discovery::v1::EndpointSlice;
using api::discovery::v1::EndpointSliceList;

// Polls `pred` over the mirrored slices of ns/name until it holds or 20 s pass.
bool WaitForSlices(client::RestClient& c, const std::string& ns, const std::string& name,
                   const std::function<bool(const std::vector<EndpointSlice>&)>& pred,
                   std::vector<EndpointSlice>* last = nullptr) {
  client::Typed<EndpointSlice, EndpointSliceList> slices(c);
  const std::string selector =
      absl::StrCat(kLabelServiceName, "=", name, ",", kLabelManagedBy, "=", kControllerName);
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    absl::StatusOr<EndpointSliceList> list = slices.List(ns, {.label_selector = selector});
    if (list.ok()) {
      std::vector<EndpointSlice> items(list->items().begin(), list->items().end());
      if (last != nullptr) *last = items;
      if (pred(items)) return true;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

TEST(ValidateOptionsTest, Ranges) {
  EXPECT_TRUE(ValidateOptions({}).ok());
  EXPECT_FALSE(ValidateOptions({.workers = 0}).ok());
  EXPECT_FALSE(ValidateOptions({.workers = 51}).ok());
  EXPECT_FALSE(ValidateOptions({.workers = 5, .max_endpoints_per_subset = 0}).ok());
  EXPECT_FALSE(ValidateOptions({.workers = 5, .max_endpoints_per_subset = 1001}).ok());
}

TEST(MirroringControllerTest, MirrorsUpdatesAndCleansUp) {
  auto env = envtest::Environment::Start();
  ASSERT_TRUE(env.ok()) << env.status();
  auto ns = (*env)->CreateNamespace("mirror-");
  ASSERT_TRUE(ns.ok()) << ns.status();
  controller::metrics::Registry registry;
  controller::ManagerOptions o;
  o.name = "endpointslicemirroring-test";
  o.health_bind_address = "";
  o.registry = &registry;
  auto mgr = controller::Manager::Create((*env)->config(), o);
  ASSERT_TRUE(mgr.ok()) << mgr.status();
  auto ctl = SetUpMirroringController(**mgr, {.workers = 2});
  ASSERT_TRUE(ctl.ok()) << ctl.status();
  std::stop_source stop;
  std::thread run([&] { EXPECT_TRUE((*mgr)->Run(stop.get_token()).ok()); });

  auto c = client::RestClient::Create((*env)->config());
  ASSERT_TRUE(c.ok());
  client::Typed<Service, ServiceList> services(**c);
  client::Typed<Endpoints, EndpointsList> endpoints(**c);

  Service svc;
  svc.mutable_metadata()->set_namespace_(*ns);
  svc.mutable_metadata()->set_name("external-db");
  auto* port = svc.mutable_spec()->add_ports();
  port->set_name("sql");
  port->set_port(5432);
  port->set_protocol("TCP");
  absl::StatusOr<Service> created_svc = services.Create(svc);
  ASSERT_TRUE(created_svc.ok()) << created_svc.status();

  Endpoints ep;
  ep.mutable_metadata()->set_namespace_(*ns);
  ep.mutable_metadata()->set_name("external-db");
  (*ep.mutable_metadata()->mutable_labels())["team"] = "data";
  auto* subset = ep.add_subsets();
  subset->add_addresses()->set_ip("192.168.10.1");
  subset->add_notreadyaddresses()->set_ip("192.168.10.2");
  auto* ep_port = subset->add_ports();
  ep_port->set_name("sql");
  ep_port->set_port(5432);
  ep_port->set_protocol("TCP");
  absl::StatusOr<Endpoints> created_ep = endpoints.Create(ep);
  ASSERT_TRUE(created_ep.ok()) << created_ep.status();

  // Mirrored: one IPv4 slice, owned by the Endpoints, with its label.
  std::vector<EndpointSlice> got;
  ASSERT_TRUE(WaitForSlices(
      **c, *ns, "external-db",
      [](const std::vector<EndpointSlice>& s) {
        return s.size() == 1 && s[0].endpoints_size() == 2;
      },
      &got))
      << got.size();
  const EndpointSlice first = got[0];
  EXPECT_EQ(first.addresstype(), "IPv4");
  EXPECT_EQ(first.metadata().labels().at("team"), "data");
  ASSERT_EQ(first.metadata().ownerreferences_size(), 1);
  EXPECT_EQ(first.metadata().ownerreferences(0).kind(), "Endpoints");
  EXPECT_EQ(first.metadata().ownerreferences(0).uid(), created_ep->metadata().uid());
  ASSERT_EQ(first.ports_size(), 1);
  EXPECT_EQ(first.ports(0).port(), 5432);
  int ready = 0;
  for (const auto& e : first.endpoints()) ready += e.conditions().ready() ? 1 : 0;
  EXPECT_EQ(ready, 1);

  // Someone edits our slice: the change is undone (the tracker saw a generation we
  // did not write).
  client::Typed<EndpointSlice, EndpointSliceList> slice_client(**c);
  absl::StatusOr<EndpointSlice> tampered = slice_client.Get(*ns, first.metadata().name());
  ASSERT_TRUE(tampered.ok());
  tampered->mutable_endpoints()->RemoveLast();
  ASSERT_TRUE(slice_client.Update(*tampered).ok());
  ASSERT_TRUE(WaitForSlices(
      **c, *ns, "external-db",
      [&](const std::vector<EndpointSlice>& s) {
        return s.size() == 1 && s[0].endpoints_size() == 2 &&
               s[0].metadata().generation() > tampered->metadata().generation();
      },
      &got));

  // An Endpoints update: the same slice is rewritten.
  absl::StatusOr<Endpoints> cur = endpoints.Get(*ns, "external-db");
  ASSERT_TRUE(cur.ok());
  cur->mutable_subsets(0)->add_addresses()->set_ip("192.168.10.3");
  ASSERT_TRUE(endpoints.Update(*cur).ok());
  ASSERT_TRUE(WaitForSlices(
      **c, *ns, "external-db",
      [](const std::vector<EndpointSlice>& s) {
        return s.size() == 1 && s[0].endpoints_size() == 3;
      },
      &got));
  EXPECT_EQ(got[0].metadata().name(), first.metadata().name());

  // skip-mirror: the slices go.
  cur = endpoints.Get(*ns, "external-db");
  ASSERT_TRUE(cur.ok());
  (*cur->mutable_metadata()->mutable_labels())[kLabelSkipMirror] = "true";
  ASSERT_TRUE(endpoints.Update(*cur).ok());
  ASSERT_TRUE(WaitForSlices(**c, *ns, "external-db",
                            [](const std::vector<EndpointSlice>& s) { return s.empty(); }));

  // Label removed: mirrored again.
  cur = endpoints.Get(*ns, "external-db");
  ASSERT_TRUE(cur.ok());
  cur->mutable_metadata()->mutable_labels()->erase(kLabelSkipMirror);
  ASSERT_TRUE(endpoints.Update(*cur).ok());
  ASSERT_TRUE(WaitForSlices(**c, *ns, "external-db",
                            [](const std::vector<EndpointSlice>& s) { return s.size() == 1; }));

  // The Service gets a selector: the EndpointSlice controller's business now.
  absl::StatusOr<Service> cur_svc = services.Get(*ns, "external-db");
  ASSERT_TRUE(cur_svc.ok());
  (*cur_svc->mutable_spec()->mutable_selector())["app"] = "db";
  ASSERT_TRUE(services.Update(*cur_svc).ok()) << cur_svc.status();
  ASSERT_TRUE(WaitForSlices(**c, *ns, "external-db",
                            [](const std::vector<EndpointSlice>& s) { return s.empty(); }));

  // Selector gone again, then the Endpoints deleted: mirrored, then cleaned up.
  cur_svc = services.Get(*ns, "external-db");
  ASSERT_TRUE(cur_svc.ok());
  cur_svc->mutable_spec()->clear_selector();
  ASSERT_TRUE(services.Update(*cur_svc).ok());
  ASSERT_TRUE(WaitForSlices(**c, *ns, "external-db",
                            [](const std::vector<EndpointSlice>& s) { return s.size() == 1; }));
  // No sync has failed so far. (From here one may: the garbage collector can delete the
  // slice of the deleted Endpoints first, and our DELETE's 404 is an error, retried, as
  // upstream's.)
  EXPECT_EQ((*ctl)->failed(), 0);
  ASSERT_TRUE(endpoints.Delete(*ns, "external-db").ok());
  ASSERT_TRUE(WaitForSlices(**c, *ns, "external-db",
                            [](const std::vector<EndpointSlice>& s) { return s.empty(); }));

  EXPECT_NE(registry.Expose().find("workqueue_adds_total{name=\"endpoint_slice_mirroring\"}"),
            std::string::npos);
  EXPECT_NE(
      registry.Expose().find("endpoint_slice_mirroring_controller_changes{operation=\"create\"}"),
      std::string::npos);
  stop.request_stop();
  run.join();
}

}  // namespace
}  // namespace kslice::endpointslicemirroring
