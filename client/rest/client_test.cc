// RestClient against a scripted HTTPS server (testing/http/test_server). Integration
// against the embedded API server comes with envtest.
#include "client/rest/client.h"
#include "client/rest/dynamic.h"

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "api/codec/codec.h"
#include "api/core/v1/core.pb.h"
#include "client/errors/errors.h"
#include "client/flowcontrol/clock.h"
#include "client/watch/encoder.h"
#include "envtest/pki/pki.h"
#include "gtest/gtest.h"
#include "testing/http/test_server.h"

namespace kslice::client {
namespace {

using api::core::v1::Pod;
using api::core::v1::PodList;
using kslice::testing::TestRequest;
using kslice::testing::TestResponder;
using kslice::testing::TestServer;

struct Fixture {
  envtest::pki::KeyPair ca, serving;
  Fixture() {
    ca = *envtest::pki::GenerateCa("ca");
    envtest::pki::CertRequest r;
    r.common_name = "apiserver";
    r.ip_addresses = {"127.0.0.1"};
    serving = *envtest::pki::IssueCert(ca, r);
  }
};
const Fixture& F() {
  static const Fixture* f = new Fixture();
  return *f;
}

kslice::testing::TestServerOptions Tls() {
  kslice::testing::TestServerOptions o;
  o.cert_pem = F().serving.cert_pem;
  o.key_pem = F().serving.key_pem;
  return o;
}

RestConfig ConfigFor(const TestServer& server) {
  RestConfig c;
  c.host = server.url();
  c.tls.ca_data = F().ca.cert_pem;
  c.bearer_token = "s3cret";
  c.qps = 1000;
  c.burst = 1000;
  return c;
}

Pod MakePod(const std::string& name, const std::string& rv = "") {
  Pod pod;
  pod.mutable_metadata()->set_name(name);
  pod.mutable_metadata()->set_namespace_("default");
  if (!rv.empty()) pod.mutable_metadata()->set_resourceversion(rv);
  pod.mutable_spec()->add_containers()->set_name("c");
  return pod;
}

void Reply(TestResponder& out, int code, const google::protobuf::Message& m, codec::Format f) {
  out.Respond(code, {{"Content-Type", std::string(codec::ContentType(f))}}, *codec::Encode(m, f));
}

TEST(RestClient, VerbsAgainstAScriptedServer) {
  std::vector<std::string> seen;
  std::mutex mu;
  TestServer server(Tls(), [&](const TestRequest& req, TestResponder& out) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(req.method + " " + req.target + " auth=" + req.Header("Authorization") +
                     " ct=" + req.Header("Content-Type"));
    }
    if (req.method == "GET" && req.target == "/api/v1/namespaces/default/pods/web") {
      EXPECT_EQ(req.Header("Accept"), "application/vnd.kubernetes.protobuf, application/json");
      return Reply(out, 200, MakePod("web", "7"), codec::Format::kProtobuf);
    }
    if (req.method == "GET" && req.target.rfind("/api/v1/namespaces/default/pods?", 0) == 0) {
      PodList list;
      list.mutable_metadata()->set_resourceversion("9");
      *list.add_items() = MakePod("a");
      *list.add_items() = MakePod("b");
      return Reply(out, 200, list, codec::Format::kJson);  // servers may answer JSON
    }
    if (req.method == "POST") {
      auto pod = codec::DecodeAs<Pod>(req.body, codec::Format::kProtobuf);
      EXPECT_TRUE(pod.ok()) << pod.status();
      pod->mutable_metadata()->set_resourceversion("10");
      return Reply(out, 201, *pod, codec::Format::kProtobuf);
    }
    if (req.method == "PUT") {
      api::meta::v1::Status st;
      st.set_status("Failure");
      st.set_reason("Conflict");
      st.set_code(409);
      st.set_message("Operation cannot be fulfilled on pods \"web\": the object has been modified");
      return Reply(out, 409, st, codec::Format::kJson);
    }
    if (req.method == "PATCH") {
      return Reply(out, 200, MakePod("web", "11"), codec::Format::kProtobuf);
    }
    if (req.method == "DELETE") {
      out.Respond(404, {{"Content-Type", "text/plain"}}, "404 page not found");
      return;
    }
    out.Respond(500, {}, "unexpected");
  });
  auto client = RestClient::Create(ConfigFor(server));
  ASSERT_TRUE(client.ok()) << client.status();
  Typed<Pod, PodList> pods(**client);

  auto got = pods.Get("default", "web");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->metadata().resourceversion(), "7");

  ListOptions lo;
  lo.label_selector = "app=web";
  lo.limit = 100;
  auto list = pods.List("default", lo);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->items_size(), 2);

  auto created = pods.Create(MakePod("new"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->metadata().resourceversion(), "10");

  auto conflict = pods.Update(MakePod("web", "3"));
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(IsConflict(conflict.status())) << conflict.status();

  PatchOptions po;
  po.field_manager = "kslice-test";
  po.force = true;
  auto patched = pods.Patch("default", "web", PatchType::kApply, "{}", po);
  ASSERT_TRUE(patched.ok()) << patched.status();

  absl::Status deleted = pods.Delete("default", "gone");
  ASSERT_FALSE(deleted.ok());
  auto err = FromStatus(deleted);
  ASSERT_TRUE(err.has_value());
  EXPECT_TRUE(IsNotFound(*err)) << deleted;

  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0], "GET /api/v1/namespaces/default/pods/web auth=Bearer s3cret ct=");
  EXPECT_EQ(seen[1],
            "GET /api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=100 auth=Bearer "
            "s3cret ct=");
  EXPECT_EQ(seen[2],
            "POST /api/v1/namespaces/default/pods auth=Bearer s3cret "
            "ct=application/vnd.kubernetes.protobuf");
  EXPECT_EQ(seen[4],
            "PATCH /api/v1/namespaces/default/pods/web?fieldManager=kslice-test&force=true "
            "auth=Bearer s3cret ct=application/apply-patch+yaml");
}

TEST(RestClient, RetriesTooManyRequestsHonoringRetryAfter) {
  std::atomic<int> calls{0};
  TestServer server(Tls(), [&](const TestRequest&, TestResponder& out) {
    if (++calls < 3) {
      out.Respond(429, {{"Retry-After", "7"}, {"Content-Type", "text/plain"}}, "slow down");
      return;
    }
    Reply(out, 200, MakePod("web"), codec::Format::kJson);
  });
  flowcontrol::FakeClock clock;
  clock.set_auto_advance(true);
  ClientOptions options;
  options.clock = &clock;
  auto client = RestClient::Create(ConfigFor(server), options);
  ASSERT_TRUE(client.ok());
  absl::Time start = clock.Now();
  auto got = Typed<Pod, PodList>(**client).Get("default", "web");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(calls.load(), 3);
  EXPECT_GE(clock.Now() - start, absl::Seconds(14));  // waited Retry-After twice
}

TEST(RestClient, WatchDecodesStreamsInBothFormats) {
  for (codec::Format format : {codec::Format::kJson, codec::Format::kProtobuf}) {
    TestServer server(Tls(), [&](const TestRequest& req, TestResponder& out) {
      EXPECT_NE(req.target.find("watch=true"), std::string::npos);
      const bool pb = format == codec::Format::kProtobuf;
      out.StartStream(200, {{"Content-Type", pb ? "application/vnd.kubernetes.protobuf;stream=watch"
                                                : "application/json"}});
      int i = 0;
      for (auto type : {watch::EventType::kAdded, watch::EventType::kModified,
                        watch::EventType::kDeleted}) {
        Pod pod = MakePod("p", std::to_string(++i));
        out.Write(pb ? *watch::EncodeProtobufFrame(type, pod) : *watch::EncodeJsonEvent(type, pod));
      }
      out.Finish();
    });
    auto client = RestClient::Create(ConfigFor(server));
    ASSERT_TRUE(client.ok());
    std::vector<std::string> got;
    absl::Status s = (*client)->Watch(
        *ResourceFor(Pod::descriptor()), "default", {}, [&](watch::Event e) {
          got.push_back(std::string(watch::EventTypeName(e.type)) + "/" +
                        static_cast<const Pod&>(*e.object).metadata().resourceversion());
          return absl::OkStatus();
        });
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ(got, (std::vector<std::string>{"ADDED/1", "MODIFIED/2", "DELETED/3"}))
        << codec::FormatName(format);
  }
}

TEST(RestClient, WatchErrorAnswerAndGarbage) {
  TestServer server(Tls(), [&](const TestRequest& req, TestResponder& out) {
    if (req.target.find("resourceVersion=1") != std::string::npos) {
      api::meta::v1::Status st;
      st.set_status("Failure");
      st.set_reason("Expired");
      st.set_code(410);
      st.set_message("too old resource version: 1 (50)");
      return Reply(out, 410, st, codec::Format::kJson);
    }
    out.StartStream(200, {{"Content-Type", "application/json"}});
    out.Write("{\"type\":\"ADDED\",\"object\":{\"kind\":");
    out.Write("garbage]]]");
    out.Finish();
  });
  auto client = RestClient::Create(ConfigFor(server));
  ASSERT_TRUE(client.ok());
  ListOptions old;
  old.resource_version = "1";
  absl::Status expired = (*client)->Watch(*ResourceFor(Pod::descriptor()), "default", old,
                                          [](watch::Event) { return absl::OkStatus(); });
  auto err = FromStatus(expired);
  ASSERT_TRUE(err.has_value()) << expired;
  EXPECT_TRUE(IsResourceExpired(*err));
  absl::Status garbage = (*client)->Watch(*ResourceFor(Pod::descriptor()), "default", {},
                                          [](watch::Event) { return absl::OkStatus(); });
  EXPECT_FALSE(garbage.ok());
}

TEST(DynamicClient, CustomResourcesAsJson) {
  TestServer server(Tls(), [&](const TestRequest& req, TestResponder& out) {
    EXPECT_EQ(req.Header("Accept"), "application/json");
    const std::string json = "application/json";
    if (req.method == "GET" && req.target == "/apis/example.com/v1/namespaces/ns/widgets/w1") {
      return out.Respond(200, {{"Content-Type", json}},
                         R"({"apiVersion":"example.com/v1","kind":"Widget",)"
                         R"("metadata":{"name":"w1","namespace":"ns"},"spec":{"size":3}})");
    }
    if (req.method == "POST" && req.target == "/apis/example.com/v1/namespaces/ns/widgets") {
      return out.Respond(201, {{"Content-Type", json}}, req.body);
    }
    if (req.method == "GET" && req.target.find("watch=true") != std::string::npos) {
      out.StartStream(200, {{"Content-Type", json}});
      out.Write(R"({"type":"ADDED","object":{"apiVersion":"example.com/v1","kind":"Widget",)"
                R"("metadata":{"name":"w1","resourceVersion":"5"}}})");
      out.Finish();
      return;
    }
    out.Respond(404, {{"Content-Type", "text/plain"}}, "404 page not found");
  });
  auto client = RestClient::Create(ConfigFor(server));
  ASSERT_TRUE(client.ok());
  DynamicClient dyn(**client);
  GroupVersionResource widgets{"example.com", "v1", "widgets", true};
  auto w = dyn.Get(widgets, "ns", "w1");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->Find("spec")->Find("size")->text, "3");
  auto created = dyn.Create(widgets, "", *w);  // namespace from the object
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->Equals(*w));
  std::vector<std::string> names;
  absl::Status s = dyn.Watch(widgets, "ns", {}, [&](watch::Event e) {
    names.push_back(e.node.Find("metadata")->Find("name")->text);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(names, std::vector<std::string>{"w1"});
  auto missing = dyn.Get(widgets, "ns", "nope");
  auto err = FromStatus(missing.status());
  ASSERT_TRUE(err.has_value());
  EXPECT_TRUE(IsNotFound(*err));
}

TEST(DiscoveryClient, Documents) {
  TestServer server(Tls(), [&](const TestRequest& req, TestResponder& out) {
    const std::vector<std::pair<std::string, std::string>> json = {
        {"Content-Type", "application/json"}};
    if (req.target == "/api") {
      return out.Respond(200, json, R"({"kind":"APIVersions","versions":["v1"],)"
                                    R"("serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0",)"
                                    R"("serverAddress":"127.0.0.1:6443"}]})");
    }
    if (req.target == "/apis") {
      return out.Respond(200, json, R"({"kind":"APIGroupList","apiVersion":"v1","groups":[)"
                                    R"({"name":"discovery.k8s.io","versions":[{"groupVersion":)"
                                    R"("discovery.k8s.io/v1","version":"v1"}],)"
                                    R"("preferredVersion":{"groupVersion":"discovery.k8s.io/v1",)"
                                    R"("version":"v1"}}]})");
    }
    if (req.target == "/apis/discovery.k8s.io/v1") {
      return out.Respond(200, json, R"({"kind":"APIResourceList","apiVersion":"v1",)"
                                    R"("groupVersion":"discovery.k8s.io/v1","resources":[)"
                                    R"({"name":"endpointslices","singularName":"endpointslice",)"
                                    R"("namespaced":true,"kind":"EndpointSlice","verbs":["get",)"
                                    R"("list","watch"],"shortNames":["eps"]}]})");
    }
    out.Respond(404, {}, "");
  });
  auto client = RestClient::Create(ConfigFor(server));
  ASSERT_TRUE(client.ok());
  DiscoveryClient disco(**client);
  auto core = disco.CoreVersions();
  ASSERT_TRUE(core.ok()) << core.status();
  EXPECT_EQ(core->versions(0), "v1");
  auto groups = disco.Groups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_EQ(groups->groups(0).name(), "discovery.k8s.io");
  auto resources = disco.Resources("discovery.k8s.io/v1");
  ASSERT_TRUE(resources.ok()) << resources.status();
  ASSERT_EQ(resources->resources_size(), 1);
  EXPECT_EQ(resources->resources(0).verbs().items_size(), 3);
  EXPECT_EQ(resources->resources(0).shortnames(0), "eps");
}

TEST(RestClient, RefusesABadConfig) {
  RestConfig c;
  c.host = "https://127.0.0.1:1";
  c.bearer_token = "a";
  c.username = "b";
  c.password = "c";
  EXPECT_FALSE(RestClient::Create(c).ok());  // two authentication methods
}


// An exec plugin that hands out client certificates: when its credential expires the
// client runs it again and presents the new certificate on new connections.
TEST(RestClient, ExecPluginClientCertificateRotates) {
  envtest::pki::CertRequest ra;
  ra.common_name = "client-a";
  ra.usage = envtest::pki::CertUsage::kClient;
  envtest::pki::CertRequest rb = ra;
  rb.common_name = "client-b";
  envtest::pki::KeyPair a = *envtest::pki::IssueCert(F().ca, ra);
  envtest::pki::KeyPair b = *envtest::pki::IssueCert(F().ca, rb);

  std::string dir = ::testing::TempDir() + "/execrot";
  mkdir(dir.c_str(), 0700);
  const std::string cred = dir + "/cred.json";
  const std::string plugin = dir + "/plugin.sh";
  {
    std::ofstream p(plugin);
    p << "#!/bin/sh\ncat \"$CRED_FILE\"\n";
  }
  chmod(plugin.c_str(), 0700);
  auto write_cred = [&](const envtest::pki::KeyPair& kp, absl::Time expires) {
    auto esc = [](const std::string& pem) { return absl::StrReplaceAll(pem, {{"\n", "\\n"}}); };
    std::ofstream out(cred, std::ios::trunc);
    out << R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
        << R"("status":{"clientCertificateData":")" << esc(kp.cert_pem)
        << R"(","clientKeyData":")" << esc(kp.key_pem) << R"(","expirationTimestamp":")"
        << absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", expires, absl::UTCTimeZone()) << R"("}})";
  };
  write_cred(a, absl::Now() + absl::Seconds(2));

  kslice::testing::TestServerOptions o = Tls();
  o.client_ca_pem = F().ca.cert_pem;
  TestServer server(o, [](const TestRequest& req, TestResponder& out) {
    out.Respond(200, {{"Content-Type", "text/plain"}}, req.client_cert_cn);
  });
  RestConfig c;
  c.host = server.url();
  c.tls.ca_data = F().ca.cert_pem;
  ExecConfig exec;
  exec.api_version = kExecApiVersionV1;
  exec.command = plugin;
  exec.env = {{"CRED_FILE", cred}};
  exec.interactive_mode = "Never";
  c.exec = exec;
  auto client = RestClient::Create(c);
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<Response> first = (*client)->Send("GET", "/whoami");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->body, "client-a");
  // Still valid: same certificate.
  EXPECT_EQ((*client)->Send("GET", "/whoami")->body, "client-a");
  write_cred(b, absl::Now() + absl::Hours(1));
  absl::SleepFor(absl::Seconds(3));
  absl::StatusOr<Response> second = (*client)->Send("GET", "/whoami");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->body, "client-b");
}

}  // namespace
}  // namespace kslice::client
