// The REST client against a live API server over HTTPS with token authentication:
// the embedded server from envtest (or kube-apiserver when KUBEBUILDER_ASSETS has the
// binaries). Every verb, in protobuf and JSON, paging, watches that end and resume,
// 410 Expired, conflicts.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "client/errors/errors.h"
#include "client/rest/client.h"
#include "client/rest/dynamic.h"
#include "envtest/environment/environment.h"
#include "gtest/gtest.h"

namespace kslice::client {
namespace {

using api::core::v1::ConfigMap;
using api::core::v1::ConfigMapList;
using api::core::v1::Pod;
using api::core::v1::PodList;
using api::core::v1::Service;
using api::core::v1::ServiceList;

// The name of an event's object.
std::string storage_name(const watch::Event& e) {
  if (e.object == nullptr) return "";
  const auto* d = e.object->GetDescriptor();
  const auto* f = d->FindFieldByName("metadata");
  if (f == nullptr) return "";
  const auto& m = static_cast<const api::meta::v1::ObjectMeta&>(
      e.object->GetReflection()->GetMessage(*e.object, f));
  return m.name();
}

Pod MakePod(const std::string& ns, const std::string& name, const std::string& app) {
  Pod p;
  p.mutable_metadata()->set_namespace_(ns);
  p.mutable_metadata()->set_name(name);
  (*p.mutable_metadata()->mutable_labels())["app"] = app;
  auto* c = p.mutable_spec()->add_containers();
  c->set_name("app");
  c->set_image("nginx:1.25");
  return p;
}

ConfigMap MakeConfigMap(const std::string& ns, const std::string& name, const std::string& v) {
  ConfigMap cm;
  cm.mutable_metadata()->set_namespace_(ns);
  cm.mutable_metadata()->set_name(name);
  (*cm.mutable_data())["k"] = v;
  return cm;
}

class IntegrationTest : public ::testing::TestWithParam<bool /*json*/> {
 protected:
  static void SetUpTestSuite() {
    envtest::EnvironmentOptions o;
    o.embedded.store.history_size = 2000;
    auto env = envtest::Environment::Start(o);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = env->release();
  }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(env_, nullptr);
    ClientOptions co;
    co.prefer_json = GetParam();
    auto c = RestClient::Create(env_->config(), co);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
    auto ns = env_->CreateNamespace("it-");
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_ = *ns;
  }

  static envtest::Environment* env_;
  std::unique_ptr<RestClient> client_;
  std::string ns_;
};

envtest::Environment* IntegrationTest::env_ = nullptr;

TEST_P(IntegrationTest, EveryVerbOnPods) {
  Typed<Pod, PodList> pods(*client_);
  // create
  absl::StatusOr<Pod> created = pods.Create(MakePod(ns_, "web-0", "web"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->metadata().uid().empty());
  EXPECT_FALSE(created->metadata().resourceversion().empty());
  EXPECT_EQ(created->status().phase(), "Pending");
  EXPECT_EQ(created->spec().restartpolicy(), "Always");  // defaulted by the server
  ASSERT_TRUE(pods.Create(MakePod(ns_, "web-1", "web")).ok());
  ASSERT_TRUE(pods.Create(MakePod(ns_, "db-0", "db")).ok());
  // create of a taken name
  absl::StatusOr<Pod> dup = pods.Create(MakePod(ns_, "web-0", "web"));
  EXPECT_TRUE(IsAlreadyExists(dup.status())) << dup.status();

  // get
  absl::StatusOr<Pod> got = pods.Get(ns_, "web-0");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->metadata().uid(), created->metadata().uid());
  EXPECT_TRUE(IsNotFound(pods.Get(ns_, "nope").status()));

  // list with label and field selectors
  absl::StatusOr<PodList> web = pods.List(ns_, {.label_selector = "app=web"});
  ASSERT_TRUE(web.ok()) << web.status();
  ASSERT_EQ(web->items_size(), 2);
  EXPECT_EQ(web->items(0).metadata().name(), "web-0");
  absl::StatusOr<PodList> by_name = pods.List(ns_, {.field_selector = "metadata.name=db-0"});
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  ASSERT_EQ(by_name->items_size(), 1);
  EXPECT_TRUE(IsBadRequest(pods.List(ns_, {.field_selector = "spec.bogus=1"}).status()));

  // update
  Pod changed = *got;
  (*changed.mutable_metadata()->mutable_labels())["tier"] = "front";
  absl::StatusOr<Pod> updated = pods.Update(changed);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->metadata().labels().at("tier"), "front");
  EXPECT_NE(updated->metadata().resourceversion(), got->metadata().resourceversion());

  // update of the status subresource: the status changes, a spec change is ignored
  Pod status = *updated;
  status.mutable_status()->set_phase("Running");
  status.mutable_status()->set_podip("192.168.1.10");
  status.mutable_spec()->mutable_containers(0)->set_image("ignored:1");
  absl::StatusOr<Pod> with_status = pods.UpdateStatus(status);
  ASSERT_TRUE(with_status.ok()) << with_status.status();
  EXPECT_EQ(with_status->status().phase(), "Running");
  EXPECT_EQ(with_status->spec().containers(0).image(), "nginx:1.25");
  // ... and a status change through the main resource is ignored
  Pod main = *with_status;
  main.mutable_status()->set_phase("Failed");
  absl::StatusOr<Pod> main_updated = pods.Update(main);
  ASSERT_TRUE(main_updated.ok()) << main_updated.status();
  EXPECT_EQ(main_updated->status().phase(), "Running");

  // patches of every type
  absl::StatusOr<Pod> merged =
      pods.Patch(ns_, "web-0", PatchType::kMerge, R"({"metadata":{"labels":{"m":"1"}}})");
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->metadata().labels().at("m"), "1");
  absl::StatusOr<Pod> jsonp = pods.Patch(
      ns_, "web-0", PatchType::kJson,
      R"([{"op":"replace","path":"/spec/containers/0/image","value":"nginx:1.26"}])");
  ASSERT_TRUE(jsonp.ok()) << jsonp.status();
  EXPECT_EQ(jsonp->spec().containers(0).image(), "nginx:1.26");
  absl::StatusOr<Pod> smp = pods.Patch(
      ns_, "web-0", PatchType::kStrategicMerge,
      R"({"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}})");
  ASSERT_TRUE(smp.ok()) << smp.status();
  ASSERT_EQ(smp->spec().containers_size(), 1);  // merged by name, not replaced
  EXPECT_EQ(smp->spec().containers(0).image(), "nginx:1.27");
  absl::StatusOr<Pod> failed_test = pods.Patch(
      ns_, "web-0", PatchType::kJson, R"([{"op":"test","path":"/metadata/name","value":"x"}])");
  EXPECT_FALSE(failed_test.ok());

  // server-side apply: create, conflict, force
  const std::string apply = absl::StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"applied","namespace":")",
                                         ns_, R"("},"spec":{"containers":[{"name":"app","image":"busybox:1"}]}})");
  absl::StatusOr<Pod> applied =
      pods.Patch(ns_, "applied", PatchType::kApply, apply, {.field_manager = "tester"});
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->spec().containers(0).image(), "busybox:1");
  EXPECT_GE(applied->metadata().managedfields_size(), 1);
  const std::string other = absl::StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"applied","namespace":")",
                                         ns_, R"("},"spec":{"containers":[{"name":"app","image":"busybox:2"}]}})");
  absl::StatusOr<Pod> conflict =
      pods.Patch(ns_, "applied", PatchType::kApply, other, {.field_manager = "other"});
  EXPECT_TRUE(IsConflict(conflict.status())) << conflict.status();
  absl::StatusOr<Pod> forced = pods.Patch(ns_, "applied", PatchType::kApply, other,
                                          {.field_manager = "other", .force = true});
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ(forced->spec().containers(0).image(), "busybox:2");

  // delete with a failing precondition, then for real
  api::meta::v1::DeleteOptions wrong_uid;
  wrong_uid.mutable_preconditions()->set_uid("00000000-0000-0000-0000-000000000000");
  EXPECT_TRUE(IsConflict(pods.Delete(ns_, "db-0", &wrong_uid)));
  EXPECT_TRUE(pods.Delete(ns_, "db-0").ok());
  EXPECT_TRUE(IsNotFound(pods.Get(ns_, "db-0").status()));

  // deletecollection by label
  ASSERT_TRUE(client_->DeleteCollection(*ResourceFor(Pod::descriptor()), ns_,
                                        {.label_selector = "app=web"})
                  .ok());
  absl::StatusOr<PodList> rest = pods.List(ns_);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->items_size(), 1);
  EXPECT_EQ(rest->items(0).metadata().name(), "applied");
}

TEST_P(IntegrationTest, PagingThousandObjectsInPagesOfHundred) {
  Typed<ConfigMap, ConfigMapList> cms(*client_);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(cms.Create(MakeConfigMap(ns_, absl::StrCat("cm-", 1000 + i), "v")).ok());
  }
  std::vector<std::string> names;
  std::string token, rv;
  int pages = 0;
  do {
    absl::StatusOr<ConfigMapList> page = cms.List(ns_, {.limit = 100, .continue_token = token});
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    ASSERT_LE(page->items_size(), 100);
    if (rv.empty()) rv = page->metadata().resourceversion();
    EXPECT_EQ(page->metadata().resourceversion(), rv);  // one snapshot for all pages
    for (const ConfigMap& cm : page->items()) names.push_back(cm.metadata().name());
    token = page->metadata().continue_();
    if (!token.empty()) {
      EXPECT_EQ(page->metadata().remainingitemcount(), 1000 - pages * 100);
    }
    // Writes between pages do not show up in the snapshot.
    if (pages == 3) {
      ASSERT_TRUE(cms.Create(MakeConfigMap(ns_, "cm-0000", "late")).ok());
    }
  } while (!token.empty());
  EXPECT_EQ(pages, 10);
  ASSERT_EQ(names.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(names[i], absl::StrCat("cm-", 1000 + i));
}

TEST_P(IntegrationTest, StaleUpdateIsAConflict) {
  Typed<ConfigMap, ConfigMapList> cms(*client_);
  absl::StatusOr<ConfigMap> v1 = cms.Create(MakeConfigMap(ns_, "c", "1"));
  ASSERT_TRUE(v1.ok()) << v1.status();
  ConfigMap a = *v1, b = *v1;
  (*a.mutable_data())["k"] = "a";
  (*b.mutable_data())["k"] = "b";
  ASSERT_TRUE(cms.Update(a).ok());
  absl::StatusOr<ConfigMap> stale = cms.Update(b);
  ASSERT_TRUE(IsConflict(stale.status())) << stale.status();
  EXPECT_NE(stale.status().message().find("the object has been modified"), std::string::npos);
  // Without a resourceVersion the update is unconditional.
  b.mutable_metadata()->clear_resourceversion();
  absl::StatusOr<ConfigMap> forced = cms.Update(b);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ(forced->data().at("k"), "b");
}

TEST_P(IntegrationTest, WatchDeliversEventsInOrderAndEndsAtTimeout) {
  Typed<ConfigMap, ConfigMapList> cms(*client_);
  absl::StatusOr<ConfigMapList> list = cms.List(ns_);
  ASSERT_TRUE(list.ok());
  std::vector<std::string> seen;
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(200));
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(cms.Create(MakeConfigMap(ns_, absl::StrCat("w", i), "v")).ok());
    }
    ASSERT_TRUE(cms.Delete(ns_, "w0").ok());
  });
  ListOptions o;
  o.resource_version = list->metadata().resourceversion();
  o.timeout_seconds = 2;
  absl::Status s = client_->Watch(*ResourceFor(ConfigMap::descriptor()), ns_, o,
                                  [&](watch::Event e) {
                                    seen.push_back(absl::StrCat(
                                        watch::EventTypeName(e.type), " ",
                                        storage_name(e)));
                                    return absl::OkStatus();
                                  });
  writer.join();
  EXPECT_TRUE(s.ok()) << s;  // the server ended the stream at timeoutSeconds
  std::vector<std::string> want = {"ADDED w0", "ADDED w1", "ADDED w2", "ADDED w3", "ADDED w4",
                                   "DELETED w0"};
  EXPECT_EQ(seen, want);
}

TEST_P(IntegrationTest, SendInitialEventsEndsWithABookmark) {
  Typed<ConfigMap, ConfigMapList> cms(*client_);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(cms.Create(MakeConfigMap(ns_, absl::StrCat("i", i), "v")).ok());
  }
  std::vector<std::string> seen;
  ListOptions o;
  o.send_initial_events = true;
  o.resource_version_match = "NotOlderThan";
  o.allow_watch_bookmarks = true;
  o.timeout_seconds = 5;
  absl::Status s = client_->Watch(*ResourceFor(ConfigMap::descriptor()), ns_, o,
                                  [&](watch::Event e) {
                                    if (watch::IsInitialEventsEnd(e)) {
                                      seen.push_back("END");
                                      return absl::CancelledError("done");
                                    }
                                    seen.push_back(absl::StrCat(watch::EventTypeName(e.type), " ",
                                                                storage_name(e)));
                                    return absl::OkStatus();
                                  });
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  std::vector<std::string> want = {"ADDED i0", "ADDED i1", "ADDED i2", "END"};
  EXPECT_EQ(seen, want);
}

TEST_P(IntegrationTest, WatchResumesAfterTheServerDropsTheConnection) {
  Typed<ConfigMap, ConfigMapList> cms(*client_);
  absl::StatusOr<ConfigMapList> list = cms.List(ns_);
  ASSERT_TRUE(list.ok());
  std::string last_rv = list->metadata().resourceversion();
  std::vector<std::string> seen;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(cms.Create(MakeConfigMap(ns_, absl::StrCat("r", 100 + i), "v")).ok());
      absl::SleepFor(absl::Milliseconds(20));
      if (i == 9) env_->embedded()->http().DropConnections();
    }
    done = true;
  });
  int streams = 0;
  while (seen.size() < 20 && streams < 10) {
    ++streams;
    ListOptions o;
    o.resource_version = last_rv;
    o.timeout_seconds = 3;
    absl::Status s = client_->Watch(*ResourceFor(ConfigMap::descriptor()), ns_, o,
                                    [&](watch::Event e) {
                                      if (e.type == watch::EventType::kAdded) {
                                        seen.push_back(storage_name(e));
                                        last_rv = watch::ResourceVersion(e);
                                      }
                                      if (seen.size() == 20) {
                                        return absl::CancelledError("have everything");
                                      }
                                      return absl::OkStatus();
                                    });
    (void)s;  // a dropped connection is an error or a clean end; either way, resume
  }
  writer.join();
  ASSERT_EQ(seen.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(seen[i], absl::StrCat("r", 100 + i));
  EXPECT_GE(streams, 2);  // the drop really ended a stream
}

TEST_P(IntegrationTest, ExpiredResourceVersionIsSurfaced) {
  Typed<ConfigMap, ConfigMapList> cms(*client_);
  absl::StatusOr<ConfigMap> first = cms.Create(MakeConfigMap(ns_, "old", "v"));
  ASSERT_TRUE(first.ok());
  const std::string old_rv = first->metadata().resourceversion();
  // Push the history (2000 events) past old_rv.
  absl::StatusOr<ConfigMap> cur = *first;
  for (int i = 0; i < 2100; ++i) {
    ConfigMap next = *cur;
    (*next.mutable_data())["k"] = absl::StrCat(i);
    cur = cms.Update(next);
    ASSERT_TRUE(cur.ok()) << cur.status();
  }
  // A watch from there gets one ERROR event with 410 Expired.
  std::vector<watch::Event> events;
  ListOptions o;
  o.resource_version = old_rv;
  absl::Status s = client_->Watch(*ResourceFor(ConfigMap::descriptor()), ns_, o,
                                  [&](watch::Event e) {
                                    events.push_back(std::move(e));
                                    return absl::OkStatus();
                                  });
  EXPECT_TRUE(s.ok()) << s;
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].type, watch::EventType::kError);
  const api::meta::v1::Status* st = watch::EventStatus(events[0]);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->code(), 410);
  EXPECT_EQ(st->reason(), "Expired");
  // An exact list at that version is a 410 error.
  absl::StatusOr<ConfigMapList> exact =
      cms.List(ns_, {.resource_version = old_rv, .resource_version_match = "Exact"});
  EXPECT_TRUE(IsGoneOrExpired(exact.status())) << exact.status();
}

TEST_P(IntegrationTest, ServicesGetClusterIpsAndNodePorts) {
  Typed<Service, ServiceList> svcs(*client_);
  Service s;
  s.mutable_metadata()->set_namespace_(ns_);
  s.mutable_metadata()->set_name("web");
  s.mutable_spec()->set_type("NodePort");
  (*s.mutable_spec()->mutable_selector())["app"] = "web";
  auto* p = s.mutable_spec()->add_ports();
  p->set_port(80);
  absl::StatusOr<Service> created = svcs.Create(s);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->spec().clusterip().rfind("10.", 0), 0u) << created->spec().clusterip();
  ASSERT_EQ(created->spec().ports_size(), 1);
  EXPECT_GE(created->spec().ports(0).nodeport(), 30000);
  EXPECT_LE(created->spec().ports(0).nodeport(), 32767);
  EXPECT_EQ(created->spec().ports(0).protocol(), "TCP");
  // The same explicit ClusterIP twice: 422.
  Service a = s, b = s;
  a.mutable_metadata()->set_name("fixed-a");
  a.mutable_spec()->set_type("ClusterIP");
  a.mutable_spec()->mutable_ports(0)->clear_nodeport();
  a.mutable_spec()->set_clusterip(GetParam() ? "10.96.204.68" : "10.96.204.67");
  b = a;
  b.mutable_metadata()->set_name("fixed-b");
  ASSERT_TRUE(svcs.Create(a).ok());
  absl::StatusOr<Service> clash = svcs.Create(b);
  EXPECT_TRUE(IsInvalid(clash.status())) << clash.status();
  EXPECT_NE(clash.status().message().find("already allocated"), std::string::npos);
  // Deleting frees the address.
  ASSERT_TRUE(svcs.Delete(ns_, "fixed-a").ok());
  EXPECT_TRUE(svcs.Create(b).ok());
}

TEST_P(IntegrationTest, DynamicClientSpeaksJson) {
  DynamicClient dyn(*client_);
  GroupVersionResource cms{"", "v1", "configmaps", true};
  absl::StatusOr<codec::Node> obj = codec::ParseJson(absl::StrCat(
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dyn"},"data":{"a":"b"}})"));
  ASSERT_TRUE(obj.ok());
  absl::StatusOr<codec::Node> created = dyn.Create(cms, ns_, *obj);
  ASSERT_TRUE(created.ok()) << created.status();
  absl::StatusOr<codec::Node> got = dyn.Get(cms, ns_, "dyn");
  ASSERT_TRUE(got.ok()) << got.status();
  const codec::Node* data = got->Find("data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->Find("a")->text, "b");
  DiscoveryClient disco(*client_);
  absl::StatusOr<api::meta::v1::APIResourceList> core = disco.Resources("v1");
  ASSERT_TRUE(core.ok()) << core.status();
  bool has_pods = false;
  for (const auto& r : core->resources()) has_pods |= r.name() == "pods";
  EXPECT_TRUE(has_pods);
}

TEST_P(IntegrationTest, WrongTokenIsUnauthorized) {
  if (env_->external()) GTEST_SKIP() << "token handling of a real server differs";
  RestConfig bad = env_->config();
  bad.bearer_token = "not-the-token";
  auto c = RestClient::Create(bad);
  ASSERT_TRUE(c.ok());
  Typed<ConfigMap, ConfigMapList> cms(**c);
  EXPECT_TRUE(IsUnauthorized(cms.List(ns_).status()));
}

INSTANTIATE_TEST_SUITE_P(Formats, IntegrationTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? std::string("Json") : std::string("Protobuf");
                         });

}  // namespace
}  // namespace kslice::client
