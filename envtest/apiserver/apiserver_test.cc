// REST semantics of the embedded API server, through APIServer::Handle (no network):
// status codes and Status bodies, write strategies, deletion, garbage collection,
// namespaces, allocation, validation, content negotiation.
#include "envtest/apiserver/apiserver.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/codec/node.h"
#include "envtest/apiserver/wiring.h"
#include "envtest/storage/clock.h"
#include "gtest/gtest.h"

namespace kslice::envtest::apiserver {
namespace {

using codec::Node;

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(std::vector<std::string> tokens) {
    server_.reset();
    ServerOptions o;
    o.tokens = std::move(tokens);
    o.store.clock = &clock_;
    ASSERT_TRUE(InstallStandardHooks(&o).ok());
    auto s = APIServer::Create(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }

  Response Do(const std::string& method, const std::string& target, const std::string& body = "",
              const std::string& content_type = "application/json",
              const std::string& accept = "application/json") {
    Request r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.headers = {{"Content-Type", content_type}, {"Accept", accept}};
    if (!token_.empty()) r.headers.emplace_back("Authorization", "Bearer " + token_);
    return server_->Handle(r);
  }

  static Node Json(const Response& r) {
    absl::StatusOr<Node> n = codec::ParseJson(r.body);
    EXPECT_TRUE(n.ok()) << n.status() << " in " << r.body;
    return n.ok() ? *n : Node();
  }
  static std::string Str(const Node& n, std::initializer_list<const char*> path) {
    const Node* cur = &n;
    for (const char* p : path) {
      if (cur == nullptr || !cur->is_object()) return "<missing>";
      cur = cur->Find(p);
    }
    if (cur == nullptr) return "<missing>";
    if (cur->is_string() || cur->is_number()) return cur->text;
    if (cur->is_bool()) return cur->boolean ? "true" : "false";
    return cur->is_null() ? "<null>" : "<object>";
  }

  // Waits (up to 20 s: CI machines are slow) until GET target answers `code`.
  bool WaitForCode(const std::string& target, int code) {
    for (int i = 0; i < 1000; ++i) {
      if (Do("GET", target).status == code) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  storage::FakeClock clock_{absl::Now()};
  std::unique_ptr<APIServer> server_;
  std::string token_;
};

constexpr char kPod[] =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web"}},)"
    R"("spec":{"containers":[{"name":"c","image":"nginx"}]}})";

TEST_F(ApiServerTest, ErrorsAreStatusObjectsWithUpstreamCodes) {
  Response r = Do("GET", "/api/v1/namespaces/default/widgets");
  EXPECT_EQ(r.status, 404);
  Node st = Json(r);
  EXPECT_EQ(Str(st, {"kind"}), "Status");
  EXPECT_EQ(Str(st, {"reason"}), "NotFound");
  EXPECT_EQ(Str(st, {"code"}), "404");

  EXPECT_EQ(Do("GET", "/api/v1/namespaces/default/pods/nope").status, 404);
  EXPECT_EQ(Do("GET", "/apis/discovery.k8s.io/v2/endpointslices").status, 404);
  EXPECT_EQ(Do("POST", "/api/v1/namespaces/default/pods", kPod, "text/plain").status, 415);
  EXPECT_EQ(Do("GET", "/api/v1/pods", "", "", "image/png").status, 406);
  Response bad = Do("POST", "/api/v1/namespaces/default/pods", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Str(Json(bad), {"reason"}), "BadRequest");
  // A body of the wrong kind.
  EXPECT_EQ(Do("POST", "/api/v1/namespaces/default/pods",
               R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}})")
                .status,
            400);
  // Namespace in body and URL disagree; a namespace that does not exist.
  Response mismatch = Do("POST", "/api/v1/namespaces/default/pods",
                         R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"a","namespace":"other"},)"
                         R"("spec":{"containers":[{"name":"c","image":"i"}]}})");
  EXPECT_EQ(mismatch.status, 400);
  Response missing_ns = Do("POST", "/api/v1/namespaces/ghost/pods", kPod);
  EXPECT_EQ(missing_ns.status, 404);
  EXPECT_EQ(Str(Json(missing_ns), {"message"}), "namespaces \"ghost\" not found");
  // PUT name mismatch.
  ASSERT_EQ(Do("POST", "/api/v1/namespaces/default/pods", kPod).status, 201);
  EXPECT_EQ(Do("PUT", "/api/v1/namespaces/default/pods/other", kPod).status, 400);
  // Unknown field label.
  EXPECT_EQ(Do("GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx").status, 400);
  // Bad label selector.
  EXPECT_EQ(Do("GET", "/api/v1/pods?labelSelector=a%20in%20(").status, 400);
  // Strict field validation names the unknown field.
  Response strict = Do("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
                       R"({"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"s"},"bogus":1})");
  EXPECT_EQ(strict.status, 400);
  EXPECT_TRUE(absl::StrContains(Str(Json(strict), {"message"}), "unknown field \\\"bogus\\\"") ||
              absl::StrContains(Str(Json(strict), {"message"}), "unknown field \"bogus\""))
      << strict.body;
}

TEST_F(ApiServerTest, TokensAreRequiredButHealthIsPublic) {
  Start({"secret"});
  EXPECT_EQ(Do("GET", "/api/v1/namespaces").status, 401);
  EXPECT_EQ(Do("GET", "/healthz").status, 200);
  EXPECT_EQ(Do("GET", "/version").status, 200);
  token_ = "secret";
  EXPECT_EQ(Do("GET", "/api/v1/namespaces").status, 200);
}

TEST_F(ApiServerTest, CreateFillsServerFieldsDefaultsAndStatus) {
  Response r = Do("POST", "/api/v1/namespaces/default/pods",
                  R"({"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-"},)"
                  R"("spec":{"containers":[{"name":"c","image":"nginx"}]},)"
                  R"("status":{"phase":"Running"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  Node pod = Json(r);
  std::string name = Str(pod, {"metadata", "name"});
  EXPECT_TRUE(absl::StartsWith(name, "web-")) << name;
  EXPECT_EQ(name.size(), 9u);
  EXPECT_EQ(Str(pod, {"metadata", "uid"}).size(), 36u);
  EXPECT_EQ(Str(pod, {"metadata", "generation"}), "1");
  EXPECT_EQ(Str(pod, {"status", "phase"}), "Pending");  // status reset on create
  EXPECT_EQ(Str(pod, {"status", "qosClass"}), "BestEffort");
  EXPECT_EQ(Str(pod, {"spec", "restartPolicy"}), "Always");
  EXPECT_EQ(Str(pod, {"spec", "terminationGracePeriodSeconds"}), "30");
  // dryRun: answered but not stored.
  Response dry = Do("POST", "/api/v1/namespaces/default/configmaps?dryRun=All",
                    R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dry"}})");
  EXPECT_EQ(dry.status, 201);
  EXPECT_EQ(Do("GET", "/api/v1/namespaces/default/configmaps/dry").status, 404);
}

TEST_F(ApiServerTest, ValidationErrorsAre422WithCauses) {
  Response r = Do(
      "POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
      R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"s"},)"
      R"("addressType":"IPv4","endpoints":[{"addresses":["fe80::1"]}]})");
  ASSERT_EQ(r.status, 422) << r.body;
  Node st = Json(r);
  EXPECT_EQ(Str(st, {"reason"}), "Invalid");
  EXPECT_EQ(Str(st, {"details", "kind"}), "EndpointSlice");
  const Node* causes = st.Find("details")->Find("causes");
  ASSERT_NE(causes, nullptr);
  ASSERT_GE(causes->values.size(), 1u);
  EXPECT_EQ(Str(causes->values[0], {"field"}), "endpoints[0].addresses[0]");
  Response label = Do("POST", "/api/v1/namespaces/default/configmaps",
                      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c",)"
                      R"("labels":{"a":"-bad-"}}})");
  EXPECT_EQ(label.status, 422) << label.body;
}

TEST_F(ApiServerTest, UpdatesKeepStatusAndStatusUpdatesKeepSpec) {
  ASSERT_EQ(Do("POST", "/api/v1/namespaces/default/pods", kPod).status, 201);
  Node pod = Json(Do("GET", "/api/v1/namespaces/default/pods/web"));
  std::string rv = Str(pod, {"metadata", "resourceVersion"});
  Response st = Do("PUT", "/api/v1/namespaces/default/pods/web/status",
                   absl::StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web",)"
                                R"("resourceVersion":")",
                                rv,
                                R"(","labels":{"changed":"yes"}},"spec":{"containers":[{"name":"c",)"
                                R"("image":"other"}]},"status":{"phase":"Running"}})"));
  ASSERT_EQ(st.status, 200) << st.body;
  Node after = Json(st);
  EXPECT_EQ(Str(after, {"status", "phase"}), "Running");
  EXPECT_EQ(Str(after, {"metadata", "labels", "changed"}), "<missing>");
  EXPECT_EQ(Str(after, {"spec", "containers"}), "<object>");
  Node c0 = after.Find("spec")->Find("containers")->values[0];
  EXPECT_EQ(Str(c0, {"image"}), "nginx");
  // Stale resourceVersion: 409 Conflict.
  Response stale = Do("PUT", "/api/v1/namespaces/default/pods/web",
                      absl::StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web",)"
                                   R"("resourceVersion":")",
                                   rv, R"("},"spec":{"containers":[{"name":"c","image":"nginx"}]}})"));
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(Str(Json(stale), {"reason"}), "Conflict");
}

TEST_F(ApiServerTest, GracefulPodDeletion) {
  // Scheduled pod: graceful. Unscheduled pod: immediate.
  ASSERT_EQ(Do("POST", "/api/v1/namespaces/default/pods",
               R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},)"
               R"("spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"}]}})")
                .status,
            201);
  ASSERT_EQ(Do("POST", "/api/v1/namespaces/default/pods", kPod).status, 201);
  Response d = Do("DELETE", "/api/v1/namespaces/default/pods/a");
  ASSERT_EQ(d.status, 200) << d.body;
  Node pod = Json(d);
  EXPECT_EQ(Str(pod, {"metadata", "deletionGracePeriodSeconds"}), "30");
  EXPECT_NE(Str(pod, {"metadata", "deletionTimestamp"}), "<missing>");
  EXPECT_EQ(Do("GET", "/api/v1/namespaces/default/pods/a").status, 200);
  // A longer grace changes nothing; a shorter one moves the deadline.
  Node again = Json(Do("DELETE", "/api/v1/namespaces/default/pods/a?gracePeriodSeconds=60"));
  EXPECT_EQ(Str(again, {"metadata", "deletionGracePeriodSeconds"}), "30");
  Node shorter = Json(Do("DELETE", "/api/v1/namespaces/default/pods/a?gracePeriodSeconds=10"));
  EXPECT_EQ(Str(shorter, {"metadata", "deletionGracePeriodSeconds"}), "10");
  // The deadline passing removes it (what kubelet does).
  clock_.Advance(absl::Seconds(11));
  EXPECT_TRUE(WaitForCode("/api/v1/namespaces/default/pods/a", 404));
  Response imm = Do("DELETE", "/api/v1/namespaces/default/pods/web");
  EXPECT_EQ(imm.status, 200);
  EXPECT_EQ(Do("GET", "/api/v1/namespaces/default/pods/web").status, 404);
}

TEST_F(ApiServerTest, FinalizersHoldDeletionUntilRemoved) {
  ASSERT_EQ(Do("POST", "/api/v1/namespaces/default/configmaps",
               R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"f",)"
               R"("finalizers":["example.com/hold"]}})")
                .status,
            201);
  Response d = Do("DELETE", "/api/v1/namespaces/default/configmaps/f");
  ASSERT_EQ(d.status, 200);
  Node cm = Json(d);
  EXPECT_EQ(Str(cm, {"metadata", "deletionGracePeriodSeconds"}), "0");
  EXPECT_EQ(Do("GET", "/api/v1/namespaces/default/configmaps/f").status, 200);
  // Adding a finalizer while deleting is refused.
  EXPECT_EQ(Do("PATCH", "/api/v1/namespaces/default/configmaps/f",
               R"({"metadata":{"finalizers":["example.com/hold","example.com/more"]}})",
               "application/merge-patch+json")
                .status,
            422);
  Response p = Do("PATCH", "/api/v1/namespaces/default/configmaps/f",
                  R"({"metadata":{"finalizers":null}})", "application/merge-patch+json");
  EXPECT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(Do("GET", "/api/v1/namespaces/default/configmaps/f").status, 404);
}

class GcTest : public ApiServerTest {
 protected:
  std::string CreateServiceWithSlice(const std::string& name) {
    Response s = Do("POST", "/api/v1/namespaces/default/services",
                    absl::StrCat(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":")", name,
                                 R"("},"spec":{"selector":{"app":"x"},"ports":[{"port":80}]}})"));
    EXPECT_EQ(s.status, 201) << s.body;
    std::string uid = Str(Json(s), {"metadata", "uid"});
    Response es = Do(
        "POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
        absl::StrCat(R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{)"
                     R"("name":")",
                     name, R"(-abc","ownerReferences":[{"apiVersion":"v1","kind":"Service","name":")",
                     name, R"(","uid":")", uid,
                     R"(","controller":true,"blockOwnerDeletion":true}]},"addressType":"IPv4",)"
                     R"("endpoints":[{"addresses":["10.0.0.1"]}]})"));
    EXPECT_EQ(es.status, 201) << es.body;
    return uid;
  }
  const std::string kSlices = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/";
};

TEST_F(GcTest, DeletingAServiceRemovesItsEndpointSlices) {
  CreateServiceWithSlice("bg");
  ASSERT_EQ(Do("DELETE", "/api/v1/namespaces/default/services/bg").status, 200);
  EXPECT_TRUE(WaitForCode(kSlices + "bg-abc", 404));
}

TEST_F(GcTest, ForegroundWaitsForDependents) {
  CreateServiceWithSlice("fg");
  Response d = Do("DELETE", "/api/v1/namespaces/default/services/fg?propagationPolicy=Foreground");
  ASSERT_EQ(d.status, 200) << d.body;
  Node svc = Json(d);
  EXPECT_EQ(Str(svc, {"kind"}), "Service");  // still there, deleting
  EXPECT_TRUE(absl::StrContains(d.body, "foregroundDeletion"));
  EXPECT_TRUE(WaitForCode(kSlices + "fg-abc", 404));
  EXPECT_TRUE(WaitForCode("/api/v1/namespaces/default/services/fg", 404));
}

TEST_F(GcTest, OrphanKeepsDependentsWithoutTheReference) {
  CreateServiceWithSlice("or");
  ASSERT_EQ(Do("DELETE", "/api/v1/namespaces/default/services/or?propagationPolicy=Orphan").status,
            200);
  EXPECT_TRUE(WaitForCode("/api/v1/namespaces/default/services/or", 404));
  Response slice = Do("GET", kSlices + "or-abc");
  ASSERT_EQ(slice.status, 200);
  EXPECT_FALSE(absl::StrContains(slice.body, "ownerReferences")) << slice.body;
}

TEST_F(ApiServerTest, NamespaceDeletionEmptiesThenRemovesTheNamespace) {
  ASSERT_EQ(Do("POST", "/api/v1/namespaces",
               R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"doomed"}})")
                .status,
            201);
  ASSERT_EQ(Do("POST", "/api/v1/namespaces/doomed/configmaps",
               R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})")
                .status,
            201);
  Response d = Do("DELETE", "/api/v1/namespaces/doomed");
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(Str(Json(d), {"status", "phase"}), "Terminating");
  EXPECT_TRUE(WaitForCode("/api/v1/namespaces/doomed/configmaps/c", 404));
  EXPECT_TRUE(WaitForCode("/api/v1/namespaces/doomed", 404));
}

TEST_F(ApiServerTest, ServiceAddressesAreAllocatedAndReleased) {
  auto svc = [](const std::string& name, const std::string& extra) {
    return absl::StrCat(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":")", name,
                        R"("},"spec":{)", extra, R"("ports":[{"port":80}]}})");
  };
  Response a = Do("POST", "/api/v1/namespaces/default/services",
                  svc("a", R"("clusterIP":"10.96.204.67",)"));
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(Str(Json(a), {"spec", "clusterIP"}), "10.96.204.67");
  Response b = Do("POST", "/api/v1/namespaces/default/services",
                  svc("b", R"("clusterIP":"10.96.204.67",)"));
  EXPECT_EQ(b.status, 422);
  Response out = Do("POST", "/api/v1/namespaces/default/services",
                    svc("c", R"("clusterIP":"192.168.0.1",)"));
  EXPECT_EQ(out.status, 422);
  Response np = Do("POST", "/api/v1/namespaces/default/services",
                   R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"np"},)"
                   R"("spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30080}]}})");
  ASSERT_EQ(np.status, 201) << np.body;
  Response np2 = Do("POST", "/api/v1/namespaces/default/services",
                    R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"np2"},)"
                    R"("spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30080}]}})");
  EXPECT_EQ(np2.status, 422);
  ASSERT_EQ(Do("DELETE", "/api/v1/namespaces/default/services/a").status, 200);
  ASSERT_EQ(Do("DELETE", "/api/v1/namespaces/default/services/np").status, 200);
  EXPECT_EQ(Do("POST", "/api/v1/namespaces/default/services",
               svc("b", R"("clusterIP":"10.96.204.67",)"))
                .status,
            201);
  EXPECT_EQ(Do("POST", "/api/v1/namespaces/default/services",
               R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"np2"},)"
               R"("spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30080}]}})")
                .status,
            201);
  // Headless.
  Response h = Do("POST", "/api/v1/namespaces/default/services", svc("h", R"("clusterIP":"None",)"));
  ASSERT_EQ(h.status, 201) << h.body;
  EXPECT_EQ(Str(Json(h), {"spec", "clusterIP"}), "None");
}

TEST_F(ApiServerTest, UpdatesKeepAllocatedServiceValuesAndPodIpsStayInStep) {
  Response a = Do("POST", "/api/v1/namespaces/default/services",
                  R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"np"},)"
                  R"("spec":{"type":"NodePort","ports":[{"name":"http","port":80}]}})");
  ASSERT_EQ(a.status, 201) << a.body;
  Node created = Json(a);
  std::string ip = Str(created, {"spec", "clusterIP"});
  std::string port = Str(created.Find("spec")->Find("ports")->values[0], {"nodePort"});
  // A replace without clusterIP and nodePort keeps both (kubectl replace of a manifest).
  Response r = Do("PUT", "/api/v1/namespaces/default/services/np",
                  R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"np"},)"
                  R"("spec":{"type":"NodePort","ports":[{"name":"http","port":80}]}})");
  ASSERT_EQ(r.status, 200) << r.body;
  Node replaced = Json(r);
  EXPECT_EQ(Str(replaced, {"spec", "clusterIP"}), ip);
  EXPECT_EQ(Str(replaced.Find("spec")->Find("ports")->values[0], {"nodePort"}), port);

  ASSERT_EQ(Do("POST", "/api/v1/namespaces/default/pods", kPod).status, 201);
  Response st = Do("PATCH", "/api/v1/namespaces/default/pods/web/status",
                   R"({"status":{"podIP":"10.244.0.9","hostIP":"192.168.0.9"}})",
                   "application/merge-patch+json");
  ASSERT_EQ(st.status, 200) << st.body;
  Node pod = Json(st);
  EXPECT_EQ(Str(pod.Find("status")->Find("podIPs")->values[0], {"ip"}), "10.244.0.9");
  EXPECT_EQ(Str(pod.Find("status")->Find("hostIPs")->values[0], {"ip"}), "192.168.0.9");

  Response d = Do("DELETE", "/api/v1/namespaces/kube-system");
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(Str(Json(d), {"message"}),
            "namespaces \"kube-system\" is forbidden: this namespace may not be deleted");
}

TEST_F(ApiServerTest, BindingSchedulesAPodOnce) {
  ASSERT_EQ(Do("POST", "/api/v1/namespaces/default/pods", kPod).status, 201);
  // A scheduler first found no node.
  Response unsched = Do(
      "PATCH", "/api/v1/namespaces/default/pods/web/status",
      R"({"status":{"conditions":[{"type":"PodScheduled","status":"False",)"
      R"("reason":"Unschedulable","message":"0/1 nodes are available"}]}})",
      "application/merge-patch+json");
  ASSERT_EQ(unsched.status, 200) << unsched.body;
  const std::string binding =
      R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},)"
      R"("target":{"apiVersion":"v1","kind":"Node","name":"node-1"}})";
  Response b = Do("POST", "/api/v1/namespaces/default/pods/web/binding", binding);
  ASSERT_EQ(b.status, 201) << b.body;
  Node pod = Json(Do("GET", "/api/v1/namespaces/default/pods/web"));
  EXPECT_EQ(Str(pod, {"spec", "nodeName"}), "node-1");
  std::string body = Do("GET", "/api/v1/namespaces/default/pods/web").body;
  EXPECT_TRUE(absl::StrContains(body, R"("type":"PodScheduled","status":"True")")) << body;
  EXPECT_FALSE(absl::StrContains(body, "Unschedulable")) << body;
  EXPECT_FALSE(absl::StrContains(body, "0/1 nodes")) << body;
  EXPECT_EQ(Do("POST", "/api/v1/namespaces/default/pods/web/binding", binding).status, 409);
}

TEST_F(ApiServerTest, TablesAndPartialMetadata) {
  ASSERT_EQ(Do("POST", "/api/v1/namespaces/default/pods", kPod).status, 201);
  Response t = Do("GET", "/api/v1/namespaces/default/pods", "", "",
                  "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  ASSERT_EQ(t.status, 200) << t.body;
  Node table = Json(t);
  EXPECT_EQ(Str(table, {"kind"}), "Table");
  ASSERT_NE(table.Find("rows"), nullptr);
  EXPECT_EQ(table.Find("rows")->values.size(), 1u);
  Response pm = Do("GET", "/api/v1/namespaces/default/pods", "", "",
                   "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io");
  ASSERT_EQ(pm.status, 200) << pm.body;
  EXPECT_EQ(Str(Json(pm), {"kind"}), "PartialObjectMetadataList");
  // Protobuf answers carry the envelope.
  Response pb = Do("GET", "/api/v1/namespaces/default/pods/web", "", "",
                   "application/vnd.kubernetes.protobuf");
  ASSERT_EQ(pb.status, 200);
  EXPECT_EQ(pb.body.substr(0, 4), std::string("k8s\0", 4));
}

TEST_F(ApiServerTest, WatchStreamsEvents) {
  Response w = Do("GET", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=5");
  ASSERT_EQ(w.status, 200) << w.body;
  ASSERT_NE(w.stream, nullptr);
  ASSERT_EQ(Do("POST", "/api/v1/namespaces/default/configmaps",
               R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"w"}})")
                .status,
            201);
  std::string out;
  for (int i = 0; i < 100 && out.empty(); ++i) {
    ASSERT_TRUE(w.stream->Poll(&out));
    if (out.empty()) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(absl::StartsWith(out, R"({"type":"ADDED","object":{"kind":"ConfigMap")")) << out;
  w.stream->Stop();
}

}  // namespace
}  // namespace kslice::envtest::apiserver
