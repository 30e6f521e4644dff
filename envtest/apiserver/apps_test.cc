// apps/v1 through the embedded API server (APIServer::Handle, no network): create, get,
// list, watch, update, the status and scale subresources, defaults, validation errors,
// generation, tables, discovery, and garbage collection of ReplicaSets and Pods.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"
#include "absl/time/clock.h"
#include "api/apps/v1/apps.pb.h"
#include "api/codec/codec.h"
#include "api/codec/node.h"
#include "envtest/apiserver/apiserver.h"
#include "envtest/apiserver/wiring.h"
#include "gtest/gtest.h"

namespace kslice::envtest::apiserver {
namespace {

using codec::Node;

class AppsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
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
    return server_->Handle(r);
  }

  static Node Json(const Response& r) {
    absl::StatusOr<Node> n = codec::ParseJson(r.body);
    EXPECT_TRUE(n.ok()) << n.status() << " in " << r.body;
    return n.ok() ? *n : Node();
  }
  static const Node* At(const Node& n, std::initializer_list<const char*> path) {
    const Node* cur = &n;
    for (const char* p : path) {
      if (cur == nullptr || !cur->is_object()) return nullptr;
      cur = cur->Find(p);
    }
    return cur;
  }
  static std::string Str(const Node& n, std::initializer_list<const char*> path) {
    const Node* cur = At(n, path);
    if (cur == nullptr) return "<missing>";
    if (cur->is_string() || cur->is_number()) return cur->text;
    if (cur->is_bool()) return cur->boolean ? "true" : "false";
    return cur->is_null() ? "<null>" : "<object>";
  }

  // Polls GET target until it answers `code` (the GC runs in the background).
  bool WaitForCode(const std::string& target, int code) {
    for (int i = 0; i < 1000; ++i) {
      if (Do("GET", target).status == code) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::unique_ptr<APIServer> server_;
};

constexpr char kDeployments[] = "/apis/apps/v1/namespaces/default/deployments";
constexpr char kReplicaSets[] = "/apis/apps/v1/namespaces/default/replicasets";
constexpr char kDaemonSets[] = "/apis/apps/v1/namespaces/default/daemonsets";

// $0 name, $1 selector labels, $2 template labels, $3 extra spec fields.
std::string Deployment(const std::string& name, const std::string& selector = R"({"app":"web"})",
                       const std::string& labels = R"({"app":"web"})",
                       const std::string& extra = "") {
  return absl::Substitute(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"$0"},"spec":{$3)"
      R"("selector":{"matchLabels":$1},"template":{"metadata":{"labels":$2},)"
      R"("spec":{"containers":[{"name":"nginx","image":"nginx:1.25"}]}}}})",
      name, selector, labels, extra);
}

TEST_F(AppsTest, CreateDefaultsAndReadBack) {
  Response r = Do("POST", kDeployments, Deployment("web"));
  ASSERT_EQ(r.status, 201) << r.body;
  Node d = Json(r);
  EXPECT_EQ(Str(d, {"apiVersion"}), "apps/v1");
  EXPECT_EQ(Str(d, {"kind"}), "Deployment");
  EXPECT_EQ(Str(d, {"metadata", "generation"}), "1");
  EXPECT_EQ(Str(d, {"spec", "replicas"}), "1");
  EXPECT_EQ(Str(d, {"spec", "revisionHistoryLimit"}), "10");
  EXPECT_EQ(Str(d, {"spec", "progressDeadlineSeconds"}), "600");
  EXPECT_EQ(Str(d, {"spec", "strategy", "type"}), "RollingUpdate");
  EXPECT_EQ(Str(d, {"spec", "strategy", "rollingUpdate", "maxUnavailable"}), "25%");
  EXPECT_EQ(Str(d, {"spec", "strategy", "rollingUpdate", "maxSurge"}), "25%");
  // The template gets the PodSpec defaults, not the pod-only ones.
  EXPECT_EQ(Str(d, {"spec", "template", "spec", "restartPolicy"}), "Always");
  EXPECT_EQ(Str(d, {"spec", "template", "spec", "dnsPolicy"}), "ClusterFirst");
  EXPECT_EQ(Str(d, {"spec", "template", "spec", "terminationGracePeriodSeconds"}), "30");
  EXPECT_EQ(Str(d, {"spec", "template", "spec", "schedulerName"}), "default-scheduler");
  EXPECT_EQ(At(d, {"spec", "template", "spec", "enableServiceLinks"}), nullptr);
  const Node* c = &At(d, {"spec", "template", "spec", "containers"})->values[0];
  EXPECT_EQ(Str(*c, {"imagePullPolicy"}), "IfNotPresent");
  EXPECT_EQ(Str(*c, {"terminationMessagePath"}), "/dev/termination-log");

  Response get = Do("GET", absl::StrCat(kDeployments, "/web"));
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(Str(Json(get), {"metadata", "uid"}), Str(d, {"metadata", "uid"}));
  Response list = Do("GET", "/apis/apps/v1/deployments");
  ASSERT_EQ(list.status, 200);
  Node l = Json(list);
  EXPECT_EQ(Str(l, {"kind"}), "DeploymentList");
  ASSERT_EQ(At(l, {"items"})->values.size(), 1u);

  // Status from the request is dropped on create.
  Response rs = Do("POST", kReplicaSets,
                   R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-1"},)"
                   R"("spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":)"
                   R"({"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"i"}]}}},)"
                   R"("status":{"replicas":5}})");
  ASSERT_EQ(rs.status, 201) << rs.body;
  EXPECT_EQ(Str(Json(rs), {"spec", "replicas"}), "1");
  EXPECT_EQ(Str(Json(rs), {"status", "replicas"}), "0");

  Response ds =
      Do("POST", kDaemonSets,
         R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"tools"},)"
         R"("spec":{"selector":{"matchLabels":{"app":"tools"}},"template":{"metadata":)"
         R"({"labels":{"app":"tools"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}})");
  ASSERT_EQ(ds.status, 201) << ds.body;
  Node dsn = Json(ds);
  EXPECT_EQ(Str(dsn, {"spec", "updateStrategy", "type"}), "RollingUpdate");
  EXPECT_EQ(Str(dsn, {"spec", "updateStrategy", "rollingUpdate", "maxUnavailable"}), "1");
  EXPECT_EQ(Str(dsn, {"spec", "updateStrategy", "rollingUpdate", "maxSurge"}), "0");
  EXPECT_EQ(Str(dsn, {"spec", "revisionHistoryLimit"}), "10");
  EXPECT_EQ(Str(dsn, {"status", "numberReady"}), "0");
}

TEST_F(AppsTest, ValidationErrors) {
  // Selector does not match the template labels: upstream's message.
  Response r = Do("POST", kDeployments, Deployment("bad", R"({"app":"x"})", R"({"app":"y"})"));
  ASSERT_EQ(r.status, 422) << r.body;
  Node st = Json(r);
  EXPECT_EQ(Str(st, {"reason"}), "Invalid");
  EXPECT_EQ(Str(st, {"details", "group"}), "apps");
  EXPECT_EQ(Str(st, {"details", "kind"}), "Deployment");
  EXPECT_EQ(Str(st, {"message"}),
            "Deployment.apps \"bad\" is invalid: spec.template.metadata.labels: Invalid value: "
            "map[string]string{\"app\":\"y\"}: `selector` does not match template `labels`");

  // No selector.
  Response none = Do("POST", kDeployments,
                     R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"n"},)"
                     R"("spec":{"template":{"metadata":{"labels":{"a":"b"}},)"
                     R"("spec":{"containers":[{"name":"c","image":"i"}]}}}})");
  ASSERT_EQ(none.status, 422);
  EXPECT_TRUE(absl::StrContains(Str(Json(none), {"message"}), "spec.selector: Required value"))
      << none.body;

  // Negative replicas; restartPolicy must be Always; bad percentage.
  Response neg = Do("POST", kDeployments,
                    Deployment("neg", R"({"app":"web"})", R"({"app":"web"})", R"("replicas":-1,)"));
  ASSERT_EQ(neg.status, 422);
  EXPECT_TRUE(absl::StrContains(Str(Json(neg), {"message"}),
                                "spec.replicas: Invalid value: -1: must be greater than or equal "
                                "to 0"))
      << neg.body;
  Response never =
      Do("POST", kReplicaSets,
         R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"never"},"spec":{)"
         R"("selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},)"
         R"("spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"i"}]}}}})");
  ASSERT_EQ(never.status, 422);
  EXPECT_TRUE(absl::StrContains(Str(Json(never), {"message"}),
                                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": "
                                "supported values: \"Always\""))
      << never.body;
  Response pct = Do("POST", kDeployments,
                    Deployment("pct", R"({"app":"web"})", R"({"app":"web"})",
                               R"("strategy":{"rollingUpdate":{"maxSurge":"1x"}},)"));
  ASSERT_EQ(pct.status, 422);
  EXPECT_TRUE(absl::StrContains(Str(Json(pct), {"message"}),
                                "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"1x\": must "
                                "be an integer or percentage (e.g '5%')"))
      << pct.body;
  // Container errors carry the template path.
  Response img =
      Do("POST", kDaemonSets,
         R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"img"},"spec":{)"
         R"("selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},)"
         R"("spec":{"containers":[{"name":"c"}]}}}})");
  ASSERT_EQ(img.status, 422);
  EXPECT_TRUE(absl::StrContains(Str(Json(img), {"message"}),
                                "spec.template.spec.containers[0].image: Required value"))
      << img.body;

  // The selector is immutable.
  ASSERT_EQ(Do("POST", kDeployments, Deployment("web")).status, 201);
  Response upd =
      Do("PUT", absl::StrCat(kDeployments, "/web"),
         Deployment("web", R"({"app":"web","tier":"x"})", R"({"app":"web","tier":"x"})"));
  ASSERT_EQ(upd.status, 422) << upd.body;
  EXPECT_EQ(Str(Json(upd), {"message"}),
            "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: "
            "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"tier\":\"x\"}, "
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
}

TEST_F(AppsTest, GenerationStatusAndScale) {
  ASSERT_EQ(Do("POST", kDeployments, Deployment("web")).status, 201);
  const std::string url = absl::StrCat(kDeployments, "/web");

  // A spec change bumps the generation; the main resource cannot write status.
  Response up = Do("PATCH", url, R"({"spec":{"replicas":2},"status":{"replicas":7}})",
                   "application/merge-patch+json");
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(Str(Json(up), {"metadata", "generation"}), "2");
  EXPECT_EQ(Str(Json(up), {"spec", "replicas"}), "2");
  EXPECT_EQ(At(Json(up), {"status", "replicas"}), nullptr);
  // Annotations bump a Deployment's generation too (rollback requests).
  Response ann =
      Do("PATCH", url, R"({"metadata":{"annotations":{"a":"b"}}})", "application/merge-patch+json");
  EXPECT_EQ(Str(Json(ann), {"metadata", "generation"}), "3");

  // Status goes through /status, which ignores spec and keeps the generation.
  Response st = Do("PATCH", url + "/status",
                   R"({"spec":{"replicas":9},"status":{"observedGeneration":3,"replicas":2,)"
                   R"("readyReplicas":1,"updatedReplicas":2,"availableReplicas":1}})",
                   "application/merge-patch+json");
  ASSERT_EQ(st.status, 200) << st.body;
  Node s = Json(st);
  EXPECT_EQ(Str(s, {"status", "readyReplicas"}), "1");
  EXPECT_EQ(Str(s, {"spec", "replicas"}), "2");
  EXPECT_EQ(Str(s, {"metadata", "generation"}), "3");
  Response bad_status =
      Do("PATCH", url + "/status", R"({"status":{"replicas":-2}})", "application/merge-patch+json");
  EXPECT_EQ(bad_status.status, 422) << bad_status.body;
  // As upstream's deployment status strategy: /status keeps the request's annotations
  // (the controller writes deployment.kubernetes.io/revision there) but not its labels,
  // and the generation stays.
  Response meta = Do("PATCH", url + "/status",
                     R"({"metadata":{"annotations":{"deployment.kubernetes.io/revision":"1"},)"
                     R"("labels":{"sneaky":"yes"}}})",
                     "application/merge-patch+json");
  ASSERT_EQ(meta.status, 200) << meta.body;
  Node m = Json(meta);
  EXPECT_EQ(Str(m, {"metadata", "annotations", "deployment.kubernetes.io/revision"}), "1");
  EXPECT_EQ(At(m, {"metadata", "labels", "sneaky"}), nullptr);
  EXPECT_EQ(Str(m, {"metadata", "generation"}), "3");

  // GET scale.
  Response sc = Do("GET", url + "/scale");
  ASSERT_EQ(sc.status, 200) << sc.body;
  Node scale = Json(sc);
  EXPECT_EQ(Str(scale, {"apiVersion"}), "autoscaling/v1");
  EXPECT_EQ(Str(scale, {"kind"}), "Scale");
  EXPECT_EQ(Str(scale, {"metadata", "name"}), "web");
  EXPECT_EQ(Str(scale, {"spec", "replicas"}), "2");
  EXPECT_EQ(Str(scale, {"status", "replicas"}), "2");
  EXPECT_EQ(Str(scale, {"status", "selector"}), "app=web");

  // kubectl scale: a merge patch of the Scale.
  Response patched =
      Do("PATCH", url + "/scale", R"({"spec":{"replicas":3}})", "application/merge-patch+json");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Str(Json(patched), {"spec", "replicas"}), "3");
  Node after = Json(Do("GET", url));
  EXPECT_EQ(Str(after, {"spec", "replicas"}), "3");
  EXPECT_EQ(Str(after, {"metadata", "generation"}), "4");
  EXPECT_EQ(Str(after, {"status", "readyReplicas"}), "1");  // status kept

  // PUT of a Scale, with a stale resourceVersion (409) and then without one.
  Response stale = Do("PUT", url + "/scale",
                      R"({"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web",)"
                      R"("namespace":"default","resourceVersion":"1"},"spec":{"replicas":5}})");
  EXPECT_EQ(stale.status, 409) << stale.body;
  Response put = Do("PUT", url + "/scale",
                    R"({"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web",)"
                    R"("namespace":"default"},"spec":{"replicas":0}})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Str(Json(Do("GET", url)), {"spec", "replicas"}), "0");
  Response neg =
      Do("PATCH", url + "/scale", R"({"spec":{"replicas":-1}})", "application/merge-patch+json");
  ASSERT_EQ(neg.status, 422) << neg.body;
  EXPECT_EQ(Str(Json(neg), {"message"}),
            "Scale.autoscaling \"web\" is invalid: spec.replicas: Invalid value: -1: must be "
            "greater than or equal to 0");
  EXPECT_EQ(Do("GET", absl::StrCat(kDeployments, "/ghost/scale")).status, 404);
  // DaemonSets have no scale subresource.
  EXPECT_EQ(Do("GET", absl::StrCat(kDaemonSets, "/x/scale")).status, 404);
}

TEST_F(AppsTest, StrategicMergePatchAndWatch) {
  ASSERT_EQ(Do("POST", kDeployments, Deployment("web")).status, 201);
  // kubectl apply / set image send strategic merge patches; containers merge by name.
  Response r =
      Do("PATCH", absl::StrCat(kDeployments, "/web"),
         R"({"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}})",
         "application/strategic-merge-patch+json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(At(Json(r), {"spec", "template", "spec", "containers"})->values[0], {"image"}),
            "nginx:1.26");

  Response w = Do("GET", "/apis/apps/v1/namespaces/default/deployments?watch=1&timeoutSeconds=5");
  ASSERT_EQ(w.status, 200);
  ASSERT_NE(w.stream, nullptr);
}

TEST_F(AppsTest, ProtobufAndFieldSelectors) {
  ASSERT_EQ(Do("POST", kDeployments, Deployment("web")).status, 201);
  // The protobuf envelope both ways (what typed clients speak).
  Response pb = Do("GET", absl::StrCat(kDeployments, "/web"), "", "application/json",
                   "application/vnd.kubernetes.protobuf");
  ASSERT_EQ(pb.status, 200);
  auto d = codec::DecodeAs<kslice::api::apps::v1::Deployment>(pb.body, codec::Format::kProtobuf);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->spec().replicas(), 1);
  d->mutable_metadata()->Clear();
  d->mutable_metadata()->set_name("web2");
  auto body = codec::Encode(*d, codec::Format::kProtobuf);
  ASSERT_TRUE(body.ok());
  Response created =
      Do("POST", kDeployments, *body, "application/vnd.kubernetes.protobuf", "application/json");
  ASSERT_EQ(created.status, 201) << created.body;
  Response list = Do("GET", "/apis/apps/v1/deployments", "", "application/json",
                     "application/vnd.kubernetes.protobuf");
  auto l =
      codec::DecodeAs<kslice::api::apps::v1::DeploymentList>(list.body, codec::Format::kProtobuf);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->items_size(), 2);

  // replicasets accept status.replicas in field selectors (upstream's selectable field).
  ASSERT_EQ(Do("POST", kReplicaSets,
               R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"rs"},)"
               R"("spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":)"
               R"({"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}})")
                .status,
            201);
  Node zero = Json(Do("GET", absl::StrCat(kReplicaSets, "?fieldSelector=status.replicas%3D0")));
  EXPECT_EQ(At(zero, {"items"})->values.size(), 1u);
  Node one = Json(Do("GET", absl::StrCat(kReplicaSets, "?fieldSelector=status.replicas%3D1")));
  EXPECT_EQ(At(one, {"items"})->values.size(), 0u);
  EXPECT_EQ(Do("GET", absl::StrCat(kDeployments, "?fieldSelector=status.replicas%3D1")).status,
            400);
}

TEST_F(AppsTest, TablesForKubectlGet) {
  ASSERT_EQ(Do("POST", kDeployments,
               Deployment("web", R"({"app":"web"})", R"({"app":"web"})", R"("replicas":3,)"))
                .status,
            201);
  const std::string table = "application/json;as=Table;v=v1;g=meta.k8s.io";
  Response r = Do("GET", kDeployments, "", "application/json", table);
  ASSERT_EQ(r.status, 200) << r.body;
  Node t = Json(r);
  std::vector<std::string> names;
  for (const Node& c : At(t, {"columnDefinitions"})->values) names.push_back(Str(c, {"name"}));
  EXPECT_EQ(names, (std::vector<std::string>{"Name", "Ready", "Up-to-date", "Available", "Age",
                                             "Containers", "Images", "Selector"}));
  const Node& cells = *At(At(t, {"rows"})->values[0], {"cells"});
  EXPECT_EQ(cells.values[0].text, "web");
  EXPECT_EQ(cells.values[1].text, "0/3");
  EXPECT_EQ(cells.values[2].text, "0");
  EXPECT_EQ(cells.values[5].text, "nginx");
  EXPECT_EQ(cells.values[6].text, "nginx:1.25");
  EXPECT_EQ(cells.values[7].text, "app=web");

  ASSERT_EQ(Do("POST", kDaemonSets,
               R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"tools"},)"
               R"("spec":{"selector":{"matchLabels":{"app":"tools"}},"template":{"metadata":)"
               R"({"labels":{"app":"tools"}},"spec":{"nodeSelector":{"kubernetes.io/os":"linux"},)"
               R"("containers":[{"name":"c","image":"i"}]}}}})")
                .status,
            201);
  Node ds = Json(Do("GET", kDaemonSets, "", "application/json", table));
  names.clear();
  for (const Node& c : At(ds, {"columnDefinitions"})->values) names.push_back(Str(c, {"name"}));
  EXPECT_EQ(names, (std::vector<std::string>{"Name", "Desired", "Current", "Ready", "Up-to-date",
                                             "Available", "Node Selector", "Age", "Containers",
                                             "Images", "Selector"}));
  EXPECT_EQ(At(At(ds, {"rows"})->values[0], {"cells"})->values[6].text, "kubernetes.io/os=linux");

  Node rs = Json(Do("GET", kReplicaSets, "", "application/json", table));
  names.clear();
  for (const Node& c : At(rs, {"columnDefinitions"})->values) names.push_back(Str(c, {"name"}));
  EXPECT_EQ(names, (std::vector<std::string>{"Name", "Desired", "Current", "Ready", "Age",
                                             "Containers", "Images", "Selector"}));
}

TEST_F(AppsTest, Discovery) {
  Response r = Do("GET", "/apis/apps/v1");
  ASSERT_EQ(r.status, 200) << r.body;
  Node list = Json(r);
  bool deploy = false, scale = false, ds = false, rs_scale = false;
  for (const Node& res : At(list, {"resources"})->values) {
    const std::string name = Str(res, {"name"});
    if (name == "deployments") {
      deploy = true;
      EXPECT_EQ(Str(res, {"kind"}), "Deployment");
      EXPECT_EQ(Str(res, {"namespaced"}), "true");
      EXPECT_EQ(At(res, {"shortNames"})->values[0].text, "deploy");
      EXPECT_EQ(At(res, {"categories"})->values[0].text, "all");
    }
    if (name == "deployments/scale") {
      scale = true;
      EXPECT_EQ(Str(res, {"group"}), "autoscaling");
      EXPECT_EQ(Str(res, {"version"}), "v1");
      EXPECT_EQ(Str(res, {"kind"}), "Scale");
    }
    if (name == "replicasets/scale") rs_scale = true;
    if (name == "daemonsets") {
      ds = true;
      EXPECT_EQ(At(res, {"shortNames"})->values[0].text, "ds");
    }
  }
  EXPECT_TRUE(deploy && scale && ds && rs_scale) << r.body;
  Response groups = Do("GET", "/apis");
  EXPECT_TRUE(absl::StrContains(groups.body, "\"name\":\"apps\"")) << groups.body;
  // The OpenAPI v3 document of apps/v1 has the Scale schema for the scale paths.
  Response oa = Do("GET", "/openapi/v3/apis/apps/v1");
  ASSERT_EQ(oa.status, 200);
  EXPECT_TRUE(absl::StrContains(oa.body, "io.k8s.api.autoscaling.v1.Scale"));
  EXPECT_TRUE(absl::StrContains(oa.body, "/namespaces/{namespace}/deployments/{name}/scale"));
}

TEST_F(AppsTest, GarbageCollectionOfReplicaSetsAndPods) {
  Response d = Do("POST", kDeployments, Deployment("web"));
  ASSERT_EQ(d.status, 201);
  const std::string d_uid = Str(Json(d), {"metadata", "uid"});
  Response rs =
      Do("POST", kReplicaSets,
         absl::Substitute(
             R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-abc",)"
             R"("ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web",)"
             R"("uid":"$0","controller":true,"blockOwnerDeletion":true}]},"spec":{"selector":)"
             R"({"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},)"
             R"("spec":{"containers":[{"name":"c","image":"i"}]}}}})",
             d_uid));
  ASSERT_EQ(rs.status, 201) << rs.body;
  const std::string rs_uid = Str(Json(rs), {"metadata", "uid"});
  Response pod = Do(
      "POST", "/api/v1/namespaces/default/pods",
      absl::Substitute(
          R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-abc-x","labels":{"app":"web"},)"
          R"("ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-abc",)"
          R"("uid":"$0","controller":true}]},"spec":{"containers":[{"name":"c","image":"i"}]}})",
          rs_uid));
  ASSERT_EQ(pod.status, 201) << pod.body;

  // Background propagation: the Deployment goes at once, then its ReplicaSet, then the pod.
  ASSERT_EQ(Do("DELETE", absl::StrCat(kDeployments, "/web")).status, 200);
  EXPECT_TRUE(WaitForCode(absl::StrCat(kReplicaSets, "/web-abc"), 404));
  EXPECT_TRUE(WaitForCode("/api/v1/namespaces/default/pods/web-abc-x", 404));
}

}  // namespace
}  // namespace kslice::envtest::apiserver
