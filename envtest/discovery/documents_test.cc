#include "envtest/discovery/documents.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "api/codec/node.h"
#include "api/coordination/v1/coordination.pb.h"
#include "api/core/v1/core.pb.h"
#include "envtest/storage/resource.h"
#include "gtest/gtest.h"

namespace kslice::envtest::discovery {
namespace {

using kslice::codec::Node;

// What client-go 1.32's discovery client sends for /api and /apis.
constexpr char kClientGoAccept[] =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json";

Node J(const std::string& json) {
  absl::StatusOr<Node> n = kslice::codec::ParseJson(json);
  EXPECT_TRUE(n.ok()) << n.status() << "\n" << json;
  return n.ok() ? *n : Node();
}

std::string W(const Node& n) {
  absl::StatusOr<std::string> s = kslice::codec::WriteJson(n);
  return s.ok() ? *s : s.status().ToString();
}

#define EXPECT_JSON_EQ(actual, expected_json)                                       \
  do {                                                                              \
    const Node& a_ = (actual);                                                      \
    Node e_ = J(expected_json);                                                     \
    EXPECT_TRUE(a_.Equals(e_)) << "actual:   " << W(a_) << "\nexpected: " << W(e_); \
  } while (0)

std::string Header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

const Node* FindBy(const Node& array, const std::string& key, const std::string& value) {
  for (const Node& e : array.values) {
    const Node* k = e.Find(key);
    if (k != nullptr && k->text == value) return &e;
  }
  return nullptr;
}

class DocumentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Documents::Options options;
    options.server_address = "127.0.0.1:6443";
    absl::StatusOr<std::unique_ptr<Documents>> docs =
        Documents::Build(storage::ResourceRegistry::Builtin(), options);
    ASSERT_TRUE(docs.ok()) << docs.status();
    docs_ = *std::move(docs);
    MaybeDump();
  }

  Response Get(const std::string& path, const std::string& accept = "application/json",
               const std::string& query = "", const std::string& inm = "") {
    std::optional<Response> r = docs_->Serve(path, query, accept, inm);
    EXPECT_TRUE(r.has_value()) << path;
    return r.has_value() ? *r : Response{0, {}, ""};
  }

  Node GetJson(const std::string& path, const std::string& accept = "application/json") {
    Response r = Get(path, accept);
    EXPECT_EQ(r.status, 200) << path;
    return J(r.body);
  }

  // KSLICE_DISCOVERY_DUMP=<dir> writes the served documents for trying real clients.
  void MaybeDump() {
    const char* dir = std::getenv("KSLICE_DISCOVERY_DUMP");
    if (dir == nullptr) return;
    auto write = [&](const std::string& name, const std::string& body) {
      std::ofstream(absl::StrCat(dir, "/", name)) << body;
    };
    write("version", docs_->Serve("/version", "", "", "")->body);
    for (const char* p : {"/api", "/apis"}) {
      write(absl::StrCat(p + 1, ".legacy"), docs_->Serve(p, "", "application/json", "")->body);
      write(absl::StrCat(p + 1, ".v2"), docs_->Serve(p, "", kClientGoAccept, "")->body);
    }
    write("openapi_v3", docs_->Serve("/openapi/v3", "", "", "")->body);
    for (const char* gv : {"api/v1", "apis/coordination.k8s.io/v1", "apis/discovery.k8s.io/v1"}) {
      std::string flat = absl::StrReplaceAll(gv, {{"/", "_"}});
      write("rl_" + flat, docs_->Serve(absl::StrCat("/", gv), "", "", "")->body);
      write("oa_" + flat, docs_->Serve(absl::StrCat("/openapi/v3/", gv), "", "", "")->body);
    }
  }

  std::unique_ptr<Documents> docs_;
};

TEST_F(DocumentsTest, Version) {
  Response r = Get("/version");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
  Node v = J(r.body);
  EXPECT_EQ(v.Find("major")->text, "1");
  EXPECT_EQ(v.Find("minor")->text, "34");
  EXPECT_EQ(v.Find("gitVersion")->text, "v1.34.0-kslice");
  EXPECT_EQ(v.Find("platform")->text, "linux/amd64");
  EXPECT_EQ(v.Find("emulationMinor")->text, "34");
}

TEST_F(DocumentsTest, LegacyApi) {
  Response r = Get("/api");
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
  EXPECT_JSON_EQ(J(r.body), R"({"kind":"APIVersions","versions":["v1"],
      "serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1:6443"}]})");
}

TEST_F(DocumentsTest, LegacyApis) {
  Node list = GetJson("/apis");
  EXPECT_EQ(list.Find("kind")->text, "APIGroupList");
  EXPECT_EQ(list.Find("apiVersion")->text, "v1");
  const Node& groups = *list.Find("groups");
  ASSERT_EQ(groups.values.size(), 3u);
  // kube-apiserver's group priority: apps, then coordination.k8s.io, then discovery.k8s.io.
  EXPECT_JSON_EQ(groups.values[0], R"({"name":"apps",
      "versions":[{"groupVersion":"apps/v1","version":"v1"}],
      "preferredVersion":{"groupVersion":"apps/v1","version":"v1"}})");
  EXPECT_JSON_EQ(groups.values[1], R"({"name":"coordination.k8s.io",
      "versions":[{"groupVersion":"coordination.k8s.io/v1","version":"v1"}],
      "preferredVersion":{"groupVersion":"coordination.k8s.io/v1","version":"v1"}})");
  EXPECT_EQ(groups.values[2].Find("name")->text, "discovery.k8s.io");
}

// Entries compared with kube-apiserver 1.31's /api/v1 reply.
TEST_F(DocumentsTest, CoreResourceList) {
  Node list = GetJson("/api/v1");
  EXPECT_EQ(list.Find("kind")->text, "APIResourceList");
  EXPECT_EQ(list.Find("groupVersion")->text, "v1");
  const Node& resources = *list.Find("resources");
  EXPECT_JSON_EQ(*FindBy(resources, "name", "pods"), R"({"name":"pods","singularName":"pod",
      "namespaced":true,"kind":"Pod","verbs":["create","delete","deletecollection","get","list",
      "patch","update","watch"],"shortNames":["po"],"categories":["all"],
      "storageVersionHash":"xPOwRZ+Yhw8="})");
  EXPECT_EQ(FindBy(resources, "name", "pods/eviction"), nullptr);  // not served
  EXPECT_JSON_EQ(*FindBy(resources, "name", "pods/binding"), R"({"name":"pods/binding",
      "singularName":"","namespaced":true,"kind":"Binding","verbs":["create"]})");
  EXPECT_JSON_EQ(*FindBy(resources, "name", "pods/status"), R"({"name":"pods/status",
      "singularName":"","namespaced":true,"kind":"Pod","verbs":["get","patch","update"]})");
  EXPECT_JSON_EQ(*FindBy(resources, "name", "namespaces"), R"({"name":"namespaces",
      "singularName":"namespace","namespaced":false,"kind":"Namespace","verbs":["create","delete",
      "get","list","patch","update","watch"],"shortNames":["ns"],"storageVersionHash":"Q3oi5N2YM8M="})");
  EXPECT_JSON_EQ(*FindBy(resources, "name", "namespaces/finalize"), R"({
      "name":"namespaces/finalize","singularName":"","namespaced":false,"kind":"Namespace",
      "verbs":["update"]})");
  EXPECT_JSON_EQ(*FindBy(resources, "name", "services"), R"({"name":"services",
      "singularName":"service","namespaced":true,"kind":"Service","verbs":["create","delete",
      "deletecollection","get","list","patch","update","watch"],"shortNames":["svc"],
      "categories":["all"],"storageVersionHash":"0/CO1lhkEBI="})");
  EXPECT_JSON_EQ(*FindBy(resources, "name", "configmaps"), R"({"name":"configmaps",
      "singularName":"configmap","namespaced":true,"kind":"ConfigMap","verbs":["create","delete",
      "deletecollection","get","list","patch","update","watch"],"shortNames":["cm"],
      "storageVersionHash":"qFsyl6wFWjQ="})");
  // Sorted by name, subresources after their resource.
  std::vector<std::string> names;
  for (const Node& r : resources.values) names.push_back(r.Find("name")->text);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(names.front(), "configmaps");
}

TEST_F(DocumentsTest, GroupResourceListAndGroup) {
  Node list = GetJson("/apis/coordination.k8s.io/v1");
  EXPECT_EQ(list.Find("apiVersion")->text, "v1");
  EXPECT_EQ(list.Find("groupVersion")->text, "coordination.k8s.io/v1");
  EXPECT_JSON_EQ(*list.Find("resources"),
                 R"([{"name":"leases","singularName":"lease",
      "namespaced":true,"kind":"Lease","verbs":["create","delete","deletecollection","get",
      "list","patch","update","watch"],"storageVersionHash":")" +
                     StorageVersionHash("coordination.k8s.io", "v1", "Lease") + R"("}])");
  Node group = GetJson("/apis/discovery.k8s.io");
  EXPECT_JSON_EQ(group, R"({"kind":"APIGroup","apiVersion":"v1","name":"discovery.k8s.io",
      "versions":[{"groupVersion":"discovery.k8s.io/v1","version":"v1"}],
      "preferredVersion":{"groupVersion":"discovery.k8s.io/v1","version":"v1"}})");
}

// apps/v1 as kube-apiserver lists it: short names, category all, status and scale
// (an autoscaling/v1 Scale) subresources.
TEST_F(DocumentsTest, AppsResourceList) {
  Node list = GetJson("/apis/apps/v1");
  EXPECT_EQ(list.Find("groupVersion")->text, "apps/v1");
  const Node& resources = *list.Find("resources");
  EXPECT_JSON_EQ(*FindBy(resources, "name", "deployments"), R"({"name":"deployments",
      "singularName":"deployment","namespaced":true,"kind":"Deployment","verbs":["create",
      "delete","deletecollection","get","list","patch","update","watch"],"shortNames":["deploy"],
      "categories":["all"],"storageVersionHash":")" +
                     StorageVersionHash("apps", "v1", "Deployment") + R"("})");
  EXPECT_JSON_EQ(*FindBy(resources, "name", "deployments/scale"), R"({
      "name":"deployments/scale","singularName":"","namespaced":true,"group":"autoscaling",
      "version":"v1","kind":"Scale","verbs":["get","patch","update"]})");
  EXPECT_NE(FindBy(resources, "name", "replicasets/scale"), nullptr);
  EXPECT_EQ(FindBy(resources, "name", "daemonsets/scale"), nullptr);
  EXPECT_EQ(FindBy(resources, "name", "daemonsets")->Find("shortNames")->values[0].text, "ds");
  EXPECT_EQ(FindBy(resources, "name", "replicasets")->Find("shortNames")->values[0].text, "rs");

  Node agg = J(Get("/apis", kClientGoAccept).body);
  const Node& apps = agg.Find("items")->values[0];
  ASSERT_EQ(apps.Find("metadata")->Find("name")->text, "apps");
  const Node& res = *apps.Find("versions")->values[0].Find("resources");
  const Node* deploy = FindBy(res, "resource", "deployments");
  ASSERT_NE(deploy, nullptr);
  const Node& subs = *deploy->Find("subresources");
  ASSERT_EQ(subs.values.size(), 2u);
  EXPECT_JSON_EQ(subs.values[0], R"({"subresource":"scale","responseKind":{"group":"autoscaling",
      "version":"v1","kind":"Scale"},"verbs":["get","patch","update"]})");
  EXPECT_EQ(subs.values[1].Find("subresource")->text, "status");
}

TEST_F(DocumentsTest, AggregatedCore) {
  Response r = Get("/api", kClientGoAccept);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Content-Type"), std::string(kAggregatedV2ContentType));
  EXPECT_EQ(Header(r, "Vary"), "Accept");
  const std::string etag = Header(r, "ETag");
  ASSERT_EQ(etag.size(), 130u);  // quoted hex SHA-512
  EXPECT_EQ(etag.front(), '"');
  Node list = J(r.body);
  EXPECT_EQ(list.Find("kind")->text, "APIGroupDiscoveryList");
  EXPECT_EQ(list.Find("apiVersion")->text, "apidiscovery.k8s.io/v2");
  const Node& items = *list.Find("items");
  ASSERT_EQ(items.values.size(), 1u);
  EXPECT_EQ(items.values[0].Find("metadata")->Find("name")->text, "");
  const Node& v1 = items.values[0].Find("versions")->values.at(0);
  EXPECT_EQ(v1.Find("version")->text, "v1");
  EXPECT_EQ(v1.Find("freshness")->text, "Current");
  EXPECT_JSON_EQ(*FindBy(*v1.Find("resources"), "resource", "pods"), R"({"resource":"pods",
      "responseKind":{"group":"","version":"v1","kind":"Pod"},"scope":"Namespaced",
      "singularResource":"pod","verbs":["create","delete","deletecollection","get","list",
      "patch","update","watch"],"shortNames":["po"],"categories":["all"],
      "subresources":[
        {"subresource":"binding","responseKind":{"group":"","version":"v1","kind":"Binding"},"verbs":["create"]},
        {"subresource":"status","responseKind":{"group":"","version":"v1","kind":"Pod"},"verbs":["get","patch","update"]}]})");
  EXPECT_EQ(FindBy(*v1.Find("resources"), "resource", "nodes")->Find("scope")->text, "Cluster");

  // Revalidation: the same ETag is a 304 without a body.
  Response again = Get("/api", kClientGoAccept, "", etag);
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(again.body, "");
  EXPECT_EQ(Header(again, "ETag"), etag);
  EXPECT_EQ(Get("/api", kClientGoAccept, "", "\"other\"").status, 200);
}

TEST_F(DocumentsTest, AggregatedGroupsAndV2Beta1) {
  Response v2 = Get("/apis", kClientGoAccept);
  Node list = J(v2.body);
  const Node& items = *list.Find("items");
  ASSERT_EQ(items.values.size(), 3u);
  EXPECT_EQ(items.values[0].Find("metadata")->Find("name")->text, "apps");
  EXPECT_EQ(items.values[1].Find("metadata")->Find("name")->text, "coordination.k8s.io");
  EXPECT_EQ(items.values[2].Find("metadata")->Find("name")->text, "discovery.k8s.io");

  Response beta =
      Get("/apis", "application/json;as=APIGroupDiscoveryList;v=v2beta1;g=apidiscovery.k8s.io");
  EXPECT_EQ(Header(beta, "Content-Type"), std::string(kAggregatedV2Beta1ContentType));
  Node beta_list = J(beta.body);
  EXPECT_EQ(beta_list.Find("apiVersion")->text, "apidiscovery.k8s.io/v2beta1");
  EXPECT_TRUE(beta_list.Find("items")->Equals(*list.Find("items")));
  EXPECT_NE(Header(beta, "ETag"), Header(v2, "ETag"));

  // q-values: the legacy form preferred.
  Response legacy =
      Get("/apis",
          "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.5,"
          "application/json");
  EXPECT_EQ(Header(legacy, "Content-Type"), "application/json");
  EXPECT_EQ(Get("/apis", "application/vnd.kubernetes.protobuf").status, 406);
  EXPECT_EQ(Header(Get("/apis", ""), "Content-Type"), "application/json");
}

TEST_F(DocumentsTest, Routing) {
  EXPECT_FALSE(docs_->Serve("/api/v1/pods", "", "", "").has_value());
  EXPECT_FALSE(docs_->Serve("/api/v1/namespaces/default/pods", "", "", "").has_value());
  EXPECT_FALSE(docs_->Serve("/apis/coordination.k8s.io/v1/leases", "", "", "").has_value());
  EXPECT_FALSE(docs_->Serve("/healthz", "", "", "").has_value());
  EXPECT_EQ(Get("/api/v2").status, 404);
  EXPECT_EQ(Get("/apis/batch").status, 404);
  EXPECT_EQ(Get("/apis/batch/v1").status, 404);
  EXPECT_EQ(Get("/apis/apps/v1beta1").status, 404);
  // OpenAPI v2: an empty document (kubectl validates `kind: List` files with it).
  Response v2 = Get("/openapi/v2", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
  EXPECT_EQ(v2.status, 200);
  EXPECT_EQ(v2.body, "");
  EXPECT_EQ(Get("/api/v1/").status, 200);  // trailing slash
  EXPECT_EQ(Get("/openapi/v3/apis/batch/v1").status, 404);
}

TEST_F(DocumentsTest, OpenApiIndexAndDocuments) {
  Response index = Get("/openapi/v3");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(Header(index, "Content-Type"), "application/json");
  EXPECT_FALSE(Header(index, "ETag").empty());
  Node paths = *J(index.body).Find("paths");
  EXPECT_EQ(paths.keys,
            (std::vector<std::string>{"api/v1", "apis/apps/v1", "apis/coordination.k8s.io/v1",
                                      "apis/discovery.k8s.io/v1"}));
  for (size_t i = 0; i < paths.keys.size(); ++i) {
    const std::string url = paths.values[i].Find("serverRelativeURL")->text;
    const std::string prefix = absl::StrCat("/openapi/v3/", paths.keys[i], "?hash=");
    ASSERT_TRUE(absl::StartsWith(url, prefix)) << url;
    const std::string hash = url.substr(prefix.size());
    EXPECT_EQ(hash.size(), 128u);
    EXPECT_EQ(hash, docs_->OpenApiV3Hash(paths.keys[i]));

    // client-go's openapi client: GET with the hash, Accept: application/json.
    const std::string path = absl::StrCat("/openapi/v3/", paths.keys[i]);
    Response doc = Get(path, "application/json", "hash=" + hash);
    EXPECT_EQ(doc.status, 200);
    EXPECT_EQ(Header(doc, "Content-Type"), "application/json");
    EXPECT_EQ(Header(doc, "ETag"), absl::StrCat("\"", hash, "\""));
    EXPECT_EQ(Header(doc, "Cache-Control"), "public, immutable");
    EXPECT_TRUE(absl::EndsWith(Header(doc, "Expires"), " GMT"));
    EXPECT_EQ(Header(doc, "Vary"), "Accept");
    EXPECT_EQ(J(doc.body).Find("openapi")->text, "3.0.0");

    // A stale hash redirects to the current URL.
    Response stale = Get(path, "application/json", "hash=ABC");
    EXPECT_EQ(stale.status, 301);
    EXPECT_EQ(Header(stale, "Location"), url);
    // Without a hash: served, but not marked immutable.
    Response plain = Get(path, "*/*");
    EXPECT_EQ(plain.status, 200);
    EXPECT_EQ(Header(plain, "Cache-Control"), "");
    EXPECT_EQ(plain.body, doc.body);
    EXPECT_EQ(Get(path, "application/json", "", Header(doc, "ETag")).status, 304);
    EXPECT_EQ(Get(path, "application/com.github.proto-openapi.spec.v3@v1.0+protobuf").status, 406);
  }
}

TEST(DocumentsBuildTest, CustomResourcesGetDefaultsAndVersionOrder) {
  storage::ResourceRegistry registry;
  storage::ResourceConfig beta;
  beta.key = {"example.com", "gadgets"};
  beta.kind = "Gadget";
  beta.api_version = "example.com/v1beta1";
  beta.prototype = &kslice::api::core::v1::ConfigMap::default_instance();
  ASSERT_TRUE(registry.Register(beta).ok());
  storage::ResourceConfig ga;
  ga.key = {"example.com", "widgets"};
  ga.kind = "Widget";
  ga.api_version = "example.com/v1";
  ga.namespaced = false;
  ga.prototype = &kslice::api::coordination::v1::Lease::default_instance();
  ASSERT_TRUE(registry.Register(ga).ok());
  storage::ResourceConfig cm;
  cm.key = {"", "configmaps"};
  cm.kind = "ConfigMap";
  cm.api_version = "v1";
  cm.prototype = &kslice::api::core::v1::ConfigMap::default_instance();
  ASSERT_TRUE(registry.Register(cm).ok());

  Documents::Options options;
  options.resource_info[{"example.com", "gadgets"}] =
      ResourceInfo{"gadget", {"gd"}, {"all"}, {"get", "list"}, {}};
  absl::StatusOr<std::unique_ptr<Documents>> docs = Documents::Build(registry, options);
  ASSERT_TRUE(docs.ok()) << docs.status();

  Node group = J((*docs)->Serve("/apis/example.com", "", "", "")->body);
  // v1 is preferred over v1beta1 although registered later.
  EXPECT_JSON_EQ(*group.Find("versions"), R"([{"groupVersion":"example.com/v1","version":"v1"},
      {"groupVersion":"example.com/v1beta1","version":"v1beta1"}])");
  EXPECT_EQ(group.Find("preferredVersion")->Find("version")->text, "v1");

  Node widgets = J((*docs)->Serve("/apis/example.com/v1", "", "", "")->body);
  const Node& w = widgets.Find("resources")->values.at(0);
  EXPECT_EQ(w.Find("singularName")->text, "widget");
  EXPECT_EQ(w.Find("namespaced")->boolean, false);
  EXPECT_JSON_EQ(*w.Find("verbs"), R"(["create","delete","deletecollection","get","list",
      "patch","update","watch"])");
  EXPECT_EQ(w.Find("shortNames"), nullptr);

  Node gadgets = J((*docs)->Serve("/apis/example.com/v1beta1", "", "", "")->body);
  EXPECT_JSON_EQ(*gadgets.Find("resources")->values.at(0).Find("shortNames"), R"(["gd"])");

  // The OpenAPI document of the custom group describes its kind.
  Node oa = J((*docs)->Serve("/openapi/v3/apis/example.com/v1", "", "", "")->body);
  const Node* paths = oa.Find("paths");
  ASSERT_NE(paths->Find("/apis/example.com/v1/widgets/{name}"), nullptr);
  EXPECT_JSON_EQ(*paths->Find("/apis/example.com/v1/widgets/{name}")
                      ->Find("patch")
                      ->Find("x-kubernetes-group-version-kind"),
                 R"({"group":"example.com","version":"v1","kind":"Widget"})");
  EXPECT_EQ(
      paths->Find("/apis/example.com/v1/widgets/{name}")->Find("patch")->Find("operationId")->text,
      "patchExampleComV1Widget");

  // /api lists the core group alone.
  Node core = J((*docs)->Serve("/api", "", kClientGoAccept, "")->body);
  EXPECT_EQ(core.Find("items")->values.size(), 1u);
  Node api = J((*docs)->Serve("/api", "", "application/json", "")->body);
  EXPECT_TRUE(api.Find("serverAddressByClientCIDRs")->is_null());
}

TEST(DocumentsBuildTest, BadApiVersionFails) {
  storage::ResourceRegistry registry;
  storage::ResourceConfig c;
  c.key = {"example.com", "widgets"};
  c.kind = "Widget";
  c.api_version = "example.com/v1/extra";
  c.prototype = &kslice::api::coordination::v1::Lease::default_instance();
  ASSERT_TRUE(registry.Register(c).ok());
  EXPECT_EQ(Documents::Build(registry, {}).status().code(), absl::StatusCode::kInvalidArgument);

  storage::ResourceRegistry mismatch;
  c.api_version = "other.com/v1";
  ASSERT_TRUE(mismatch.Register(c).ok());
  EXPECT_EQ(Documents::Build(mismatch, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kslice::envtest::discovery
