#include "envtest/fieldmanager/fieldmanager.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/codec/node.h"
#include "envtest/fieldmanager/testdata/test_types.pb.h"
#include "envtest/storage/errors.h"
#include "gtest/gtest.h"

namespace kslice::envtest::fieldmanager {
namespace {

using codec::Node;
using testtypes::Deployment;

const google::protobuf::Descriptor* kDeployment = Deployment::descriptor();
const absl::Time kT0 = absl::FromUnixSeconds(1700000000);  // 2023-11-14T22:13:20Z

Node Yaml(const std::string& text) {
  absl::StatusOr<Node> n = codec::ParseYaml(text);
  EXPECT_TRUE(n.ok()) << n.status();
  return n.ok() ? *n : Node();
}

std::string Json(const Node& n) {
  absl::StatusOr<std::string> s = codec::WriteJson(n);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : "";
}

Options Opts(const std::string& manager, bool force = false, absl::Time now = kT0) {
  Options o;
  o.manager = manager;
  o.force = force;
  o.now = now;
  return o;
}

const Node* At(const Node& n, std::vector<std::string> path) {
  const Node* cur = &n;
  for (const std::string& p : path) {
    if (cur == nullptr) return nullptr;
    cur = cur->Find(p);
  }
  return cur;
}

const Node* ManagedFields(const Node& obj) { return At(obj, {"metadata", "managedFields"}); }

// The managedFields entry of `manager` (any operation), or nullptr.
const Node* Entry(const Node& obj, const std::string& manager) {
  const Node* mf = ManagedFields(obj);
  if (mf == nullptr) return nullptr;
  for (const Node& e : mf->values) {
    const Node* m = e.Find("manager");
    if (m != nullptr && m->text == manager) return &e;
  }
  return nullptr;
}

std::string FieldsOf(const Node& obj, const std::string& manager) {
  const Node* e = Entry(obj, manager);
  if (e == nullptr) return "<no entry for " + manager + ">";
  const Node* f = e->Find("fieldsV1");
  return f != nullptr ? Json(*f) : "<no fieldsV1>";
}

std::vector<std::string> Managers(const Node& obj) {
  std::vector<std::string> out;
  const Node* mf = ManagedFields(obj);
  if (mf == nullptr) return out;
  for (const Node& e : mf->values) {
    out.push_back(absl::StrCat(e.Find("manager")->text, "/", e.Find("operation")->text));
  }
  return out;
}

// Deployment apply configuration as `kubectl apply --server-side` sends it.
constexpr char kNginx[] = R"(
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels:
    app: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
)";

// Upstream (kube-apiserver 1.32) fieldsV1 of the kubectl entry after applying kNginx:
// apply records what the configuration names, so maps (labels) carry no "." while
// list items do.
constexpr char kNginxApplied[] =
    R"({"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},)"
    R"("f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{)"
    R"("k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{)"
    R"("k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}})";

Node MustApply(const Node* live, const std::string& config, const Options& o) {
  absl::StatusOr<Node> out = Apply(live, Yaml(config), kDeployment, o);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : Node();
}

TEST(Apply, CreateRecordsAppliedFields) {
  Node obj = MustApply(nullptr, kNginx, Opts("kubectl"));
  EXPECT_EQ(At(obj, {"spec", "replicas"})->text, "3");
  EXPECT_EQ(At(obj, {"metadata", "name"})->text, "web");
  ASSERT_NE(ManagedFields(obj), nullptr);
  ASSERT_EQ(ManagedFields(obj)->values.size(), 1u);
  const Node& e = ManagedFields(obj)->values[0];
  EXPECT_EQ(At(e, {"manager"})->text, "kubectl");
  EXPECT_EQ(At(e, {"operation"})->text, "Apply");
  EXPECT_EQ(At(e, {"apiVersion"})->text, "apps/v1");
  EXPECT_EQ(At(e, {"time"})->text, "2023-11-14T22:13:20Z");
  EXPECT_EQ(At(e, {"fieldsType"})->text, "FieldsV1");
  EXPECT_EQ(e.Find("subresource"), nullptr);
  EXPECT_EQ(FieldsOf(obj, "kubectl"), kNginxApplied);
}

TEST(Apply, ReapplyRemovesOmittedFields) {
  Node obj = MustApply(nullptr, kNginx, Opts("kubectl"));
  std::string second = R"(
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.26
)";
  Node out = MustApply(&obj, second, Opts("kubectl", false, kT0 + absl::Seconds(60)));
  EXPECT_EQ(At(out, {"spec", "replicas"}), nullptr);
  EXPECT_EQ(At(out, {"metadata", "labels"}), nullptr);
  const Node* containers = At(out, {"spec", "template", "spec", "containers"});
  ASSERT_NE(containers, nullptr);
  ASSERT_EQ(containers->values.size(), 1u);
  EXPECT_EQ(containers->values[0].Find("image")->text, "nginx:1.26");
  EXPECT_EQ(containers->values[0].Find("ports"), nullptr);
  EXPECT_EQ(FieldsOf(out, "kubectl"),
            R"({"f:spec":{"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},)"
            R"("f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},)"
            R"("f:name":{}}}}}}})");
  EXPECT_EQ(At(*Entry(out, "kubectl"), {"time"})->text, "2023-11-14T22:14:20Z");
}

TEST(Apply, OmittedFieldOwnedByAnotherManagerStays) {
  Node obj = MustApply(nullptr, kNginx, Opts("kubectl"));
  // A second applier sets the same replicas value: shared ownership, no conflict.
  obj = MustApply(&obj, R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec: {replicas: 3}
)",
                  Opts("hpa"));
  std::string without_replicas = kNginx;
  without_replicas.replace(without_replicas.find("  replicas: 3\n"), 14, "");
  Node out = MustApply(&obj, without_replicas, Opts("kubectl"));
  EXPECT_EQ(At(out, {"spec", "replicas"})->text, "3");
  EXPECT_EQ(FieldsOf(out, "hpa"), R"({"f:spec":{"f:replicas":{}}})");
}

TEST(Apply, ConflictWithAnotherApplier) {
  Node obj = MustApply(nullptr, kNginx, Opts("kubectl"));
  absl::StatusOr<Node> out = Apply(&obj, Yaml(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec: {replicas: 5}
)"),
                                   kDeployment, Opts("hpa"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kAborted);
  storage::MetaStatus st = storage::ToApiStatus(out.status());
  EXPECT_EQ(st.code(), 409);
  EXPECT_EQ(st.reason(), "Conflict");
  EXPECT_EQ(st.message(), R"(Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas)");
  ASSERT_EQ(st.details().causes_size(), 1);
  EXPECT_EQ(st.details().causes(0).reason(), "FieldManagerConflict");
  EXPECT_EQ(st.details().causes(0).message(), R"(conflict with "kubectl")");
  EXPECT_EQ(st.details().causes(0).field(), ".spec.replicas");
}

TEST(Apply, SeveralConflictsListedPerManager) {
  Node obj = MustApply(nullptr, kNginx, Opts("kubectl"));
  absl::StatusOr<Node> out = Apply(&obj, Yaml(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 5
  template:
    spec:
      containers:
      - name: nginx
        image: nginx:2
)"),
                                   kDeployment, Opts("other"));
  ASSERT_FALSE(out.ok());
  storage::MetaStatus st = storage::ToApiStatus(out.status());
  EXPECT_EQ(st.message(),
            "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .spec.replicas\n"
            "- .spec.template.spec.containers[name=\"nginx\"].image");
  ASSERT_EQ(st.details().causes_size(), 2);
  EXPECT_EQ(st.details().causes(1).field(), R"(.spec.template.spec.containers[name="nginx"].image)");
}

TEST(Apply, ForceTakesOwnership) {
  Node obj = MustApply(nullptr, kNginx, Opts("kubectl"));
  Node out = MustApply(&obj, R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec: {replicas: 5}
)",
                       Opts("hpa", /*force=*/true));
  EXPECT_EQ(At(out, {"spec", "replicas"})->text, "5");
  EXPECT_EQ(FieldsOf(out, "hpa"), R"({"f:spec":{"f:replicas":{}}})");
  EXPECT_EQ(FieldsOf(out, "kubectl").find("f:replicas"), std::string::npos);
  // kubectl applying again without replicas no longer removes them: not its field.
  std::string without_replicas = kNginx;
  without_replicas.replace(without_replicas.find("  replicas: 3\n"), 14, "");
  Node again = MustApply(&out, without_replicas, Opts("kubectl"));
  EXPECT_EQ(At(again, {"spec", "replicas"})->text, "5");
}

TEST(Update, AfterApplyMovesOwnership) {
  Node obj = MustApply(nullptr, kNginx, Opts("kubectl"));
  Node edited = obj;
  *const_cast<Node*>(At(edited, {"spec", "replicas"})) = Node::Number("4");
  absl::StatusOr<Node> out =
      Update(&obj, edited, kDeployment, Opts("kubectl-edit", false, kT0 + absl::Seconds(5)));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Managers(*out), (std::vector<std::string>{"kubectl/Apply", "kubectl-edit/Update"}));
  EXPECT_EQ(FieldsOf(*out, "kubectl-edit"), R"({"f:spec":{"f:replicas":{}}})");
  EXPECT_EQ(FieldsOf(*out, "kubectl").find("f:replicas"), std::string::npos);
  const Node* e = Entry(*out, "kubectl-edit");
  EXPECT_EQ(At(*e, {"apiVersion"})->text, "apps/v1");
  EXPECT_EQ(At(*e, {"time"})->text, "2023-11-14T22:13:25Z");

  // Applying the old value again now conflicts with the Update manager.
  absl::StatusOr<Node> reapply = Apply(&*out, Yaml(kNginx), kDeployment, Opts("kubectl"));
  ASSERT_FALSE(reapply.ok());
  EXPECT_EQ(storage::ToApiStatus(reapply.status()).message(),
            R"(Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas)");
}

TEST(Update, CreateTracksEverythingSet) {
  Node obj = Yaml(kNginx);
  absl::StatusOr<Node> out = Update(nullptr, obj, kDeployment, Opts("kubectl-create"));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Managers(*out), (std::vector<std::string>{"kubectl-create/Update"}));
  // Upstream shape of `kubectl create`: maps and new list items carry ".", fields of
  // structs the empty object already has (spec, template, template.metadata) do not.
  EXPECT_EQ(FieldsOf(*out, "kubectl-create"),
            R"({"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},)"
            R"("f:selector":{},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},)"
            R"("f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},)"
            R"("f:name":{},"f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{)"
            R"(".":{},"f:containerPort":{}}}}}}}}})");
}

TEST(Update, EmptyManagedFieldsResetsTracking) {
  Node obj = MustApply(nullptr, kNginx, Opts("kubectl"));
  Node* meta = const_cast<Node*>(At(obj, {"metadata"}));
  meta->Add("uid", Node::String("1234"));
  Node updated = obj;
  *const_cast<Node*>(ManagedFields(updated)) = Node::Array();
  absl::StatusOr<Node> out = Update(&obj, updated, kDeployment, Opts("kubectl"));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(ManagedFields(*out), nullptr);
  // An untracked object then gets "before-first-apply" on the next apply.
  Node applied = MustApply(&*out, kNginx, Opts("kubectl"));
  EXPECT_EQ(Managers(applied),
            (std::vector<std::string>{"kubectl/Apply", "before-first-apply/Update"}));
}

TEST(Update, ExistingUntrackedObjectStaysUntracked) {
  Node obj = Yaml(kNginx);
  const_cast<Node*>(At(obj, {"metadata"}))->Add("uid", Node::String("1234"));
  Node updated = obj;
  *const_cast<Node*>(At(updated, {"spec", "replicas"})) = Node::Number("4");
  absl::StatusOr<Node> out = Update(&obj, updated, kDeployment, Opts("kubectl-edit"));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(ManagedFields(*out), nullptr);
  EXPECT_EQ(At(*out, {"spec", "replicas"})->text, "4");
}

TEST(Update, ManagedFieldsSentByTheClientReplaceTrackedOnes) {
  Node obj = MustApply(nullptr, kNginx, Opts("kubectl"));
  Node updated = obj;
  *const_cast<Node*>(ManagedFields(updated)) = Yaml(R"(
- manager: someone
  operation: Update
  apiVersion: apps/v1
  fieldsType: FieldsV1
  fieldsV1: {"f:spec": {"f:replicas": {}}}
)");
  absl::StatusOr<Node> out = Update(&obj, updated, kDeployment, Opts("kubectl-edit"));
  ASSERT_TRUE(out.ok()) << out.status();
  // Nothing changed, so only the client's entry is left (no time: none was sent).
  EXPECT_EQ(Managers(*out), (std::vector<std::string>{"someone/Update"}));
  EXPECT_EQ(Entry(*out, "someone")->Find("time"), nullptr);
  // The status subresource ignores them.
  Options status = Opts("kubectl-edit");
  status.subresource = "status";
  out = Update(&obj, updated, kDeployment, status);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Managers(*out), (std::vector<std::string>{"kubectl/Apply"}));
}

TEST(Update, EmptyManagerIsUnknown) {
  absl::StatusOr<Node> out = Update(nullptr, Yaml(kNginx), kDeployment, Opts(""));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Managers(*out), (std::vector<std::string>{"unknown/Update"}));
}

TEST(Update, CapsUpdateManagersAtTen) {
  Node obj = MustApply(nullptr, kNginx, Opts("kubectl"));
  for (int i = 0; i < 11; ++i) {
    Node updated = obj;
    Node* labels = const_cast<Node*>(At(updated, {"metadata", "labels"}));
    labels->Add(absl::StrCat("l", i), Node::String("x"));
    absl::StatusOr<Node> out = Update(&obj, updated, kDeployment,
                                      Opts(absl::StrCat("m", i), false, kT0 + absl::Seconds(i)));
    ASSERT_TRUE(out.ok()) << out.status();
    obj = *out;
  }
  std::vector<std::string> managers = Managers(obj);
  ASSERT_EQ(managers.size(), 11u);  // kubectl + 10 Update managers
  EXPECT_EQ(managers[1], "ancient-changes/Update");
  EXPECT_EQ(FieldsOf(obj, "ancient-changes"),
            R"({"f:metadata":{"f:labels":{"f:l0":{},"f:l1":{}}}})");
}

TEST(Apply, ListMapMergesContainersByName) {
  Node obj = MustApply(nullptr, kNginx, Opts("kubectl"));
  Node out = MustApply(&obj, R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: envoy:1
)",
                       Opts("mesh"));
  const Node* containers = At(out, {"spec", "template", "spec", "containers"});
  ASSERT_EQ(containers->values.size(), 2u);
  EXPECT_EQ(containers->values[0].Find("name")->text, "nginx");
  EXPECT_EQ(containers->values[0].Find("image")->text, "nginx:1.25");
  EXPECT_EQ(containers->values[1].Find("name")->text, "sidecar");
  EXPECT_EQ(FieldsOf(out, "mesh"),
            R"({"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"sidecar\"}":{)"
            R"(".":{},"f:image":{},"f:name":{}}}}}}})");
  // The mesh gives its container up; kubectl's stays.
  Node gone = MustApply(&out, R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
)",
                        Opts("mesh"));
  containers = At(gone, {"spec", "template", "spec", "containers"});
  ASSERT_EQ(containers->values.size(), 1u);
  EXPECT_EQ(containers->values[0].Find("name")->text, "nginx");
  EXPECT_EQ(Entry(gone, "mesh"), nullptr);
}

TEST(Apply, MergeKeyWithoutListTypeIsAssociative) {
  // env has only patchStrategy=merge,patchMergeKey=name (as upstream EnvVar lists).
  Node obj = MustApply(nullptr, R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - {name: A, value: "1"}
)",
                       Opts("a"));
  Node out = MustApply(&obj, R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - {name: B, value: "2"}
)",
                       Opts("b"));
  const Node* env = At(out, {"spec", "template", "spec", "containers"})->values[0].Find("env");
  ASSERT_NE(env, nullptr);
  ASSERT_EQ(env->values.size(), 2u);
  EXPECT_EQ(env->values[0].Find("name")->text, "A");
  EXPECT_EQ(env->values[1].Find("name")->text, "B");
}

TEST(Apply, SetListsMergeByValue) {
  Node obj = MustApply(nullptr, R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, finalizers: [a.io/x]}
)",
                       Opts("a"));
  Node out = MustApply(&obj, R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, finalizers: [b.io/y]}
)",
                       Opts("b"));
  EXPECT_EQ(Json(*At(out, {"metadata", "finalizers"})), R"(["a.io/x","b.io/y"])");
  EXPECT_EQ(FieldsOf(out, "b"), R"({"f:metadata":{"f:finalizers":{"v:\"b.io/y\"":{}}}})");
  Node dropped = MustApply(&out, R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
)",
                           Opts("a"));
  EXPECT_EQ(Json(*At(dropped, {"metadata", "finalizers"})), R"(["b.io/y"])");
}

TEST(Apply, AtomicListsConflictAsAWhole) {
  constexpr char kArgs[] = R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        args: [%s]
      tolerations: [{key: %s}]
)";
  auto config = [&](const char* args, const char* key) {
    std::string s = kArgs;
    s.replace(s.find("%s"), 2, args);
    s.replace(s.find("%s"), 2, key);
    return s;
  };
  Node obj = MustApply(nullptr, config("--a, --b", "k1"), Opts("a"));
  EXPECT_EQ(FieldsOf(obj, "a"),
            R"({"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{)"
            R"(".":{},"f:args":{},"f:name":{}}},"f:tolerations":{}}}}})");
  absl::StatusOr<Node> out = Apply(&obj, Yaml(config("--c", "k2")), kDeployment, Opts("b"));
  ASSERT_FALSE(out.ok());
  storage::MetaStatus st = storage::ToApiStatus(out.status());
  ASSERT_EQ(st.details().causes_size(), 2);
  EXPECT_EQ(st.details().causes(0).field(), ".spec.template.spec.tolerations");
  EXPECT_EQ(st.details().causes(1).field(), R"(.spec.template.spec.containers[name="app"].args)");
  Node forced = MustApply(&obj, config("--c", "k2"), Opts("b", true));
  const Node* c = &At(forced, {"spec", "template", "spec", "containers"})->values[0];
  EXPECT_EQ(Json(*c->Find("args")), R"(["--c"])");  // replaced, not merged
  EXPECT_EQ(Json(*At(forced, {"spec", "template", "spec", "tolerations"})), R"([{"key":"k2"}])");
}

TEST(Apply, NoopKeepsTimeAndObject) {
  Node obj = MustApply(nullptr, kNginx, Opts("kubectl"));
  Node again = MustApply(&obj, kNginx, Opts("kubectl", false, kT0 + absl::Hours(1)));
  EXPECT_TRUE(again.Equals(obj));
}

TEST(Apply, MainResourceDoesNotOwnStatus) {
  Node obj = MustApply(nullptr, R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {replicas: 1}
status: {replicas: 1}
)",
                       Opts("a"));
  EXPECT_EQ(FieldsOf(obj, "a"), R"({"f:spec":{"f:replicas":{}}})");
  Options status = Opts("controller");
  status.subresource = "status";
  Node updated = obj;
  const_cast<Node*>(At(updated, {"status"}))->Add("observedGeneration", Node::Number("2"));
  absl::StatusOr<Node> out = Update(&obj, updated, kDeployment, status);
  ASSERT_TRUE(out.ok()) << out.status();
  const Node* e = Entry(*out, "controller");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->Find("subresource")->text, "status");
  EXPECT_EQ(FieldsOf(*out, "controller"), R"({"f:status":{"f:observedGeneration":{}}})");
}

TEST(Apply, InlineFieldsSitInTheParent) {
  absl::StatusOr<Node> out =
      Apply(nullptr, Yaml("apiVersion: v1\nkind: Widget\nmetadata: {name: w}\ncolor: red\n"),
            testtypes::Widget::descriptor(), Opts("a"));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(FieldsOf(*out, "a"), R"({"f:color":{}})");
}

TEST(Apply, RejectsBadRequests) {
  auto code = [](const absl::StatusOr<Node>& r) {
    return r.ok() ? 200 : storage::ToApiStatus(r.status()).code();
  };
  absl::StatusOr<Node> r = Apply(nullptr, Yaml(kNginx), kDeployment, Opts(""));
  EXPECT_EQ(code(r), 422);
  EXPECT_EQ(r.status().message(),
            R"(PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch)");

  Options pods = Opts("kubectl");
  pods.api_version = "v1";
  pods.kind = "Pod";
  r = Apply(nullptr, Yaml(kNginx), kDeployment, pods);
  EXPECT_EQ(code(r), 400);
  EXPECT_EQ(r.status().message(), "invalid object type: apps/v1, Kind=Deployment");

  r = Apply(nullptr,
            Yaml("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, managedFields: []}\n"),
            kDeployment, Opts("kubectl"));
  EXPECT_EQ(code(r), 400);
  EXPECT_EQ(r.status().message(), "metadata.managedFields must be nil");

  r = Apply(nullptr, Yaml("apiVersion: apps/v1\nkind: Deployment\nmetadata: {namespace: x}\n"),
            kDeployment, Opts("kubectl"));
  EXPECT_EQ(code(r), 422);

  r = Apply(nullptr,
            Yaml("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {foo: 1}\n"),
            kDeployment, Opts("kubectl"));
  EXPECT_EQ(code(r), 500);
  EXPECT_EQ(r.status().message(),
            "failed to create typed patch object (/web; apps/v1, Kind=Deployment): .spec.foo: "
            "field not declared in schema");

  r = Apply(nullptr, Yaml(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: a}, {name: a}]
)"),
            kDeployment, Opts("kubectl"));
  EXPECT_EQ(code(r), 500);
  EXPECT_EQ(r.status().message(),
            "failed to create typed patch object (/web; apps/v1, Kind=Deployment): "
            ".spec.template.spec.containers: duplicate entries for key [name=\"a\"]");
}

}  // namespace
}  // namespace kslice::envtest::fieldmanager
