// Checks the manifests in deploy/: every YAML document parses with our codec and has the
// expected kind; kustomization.yaml lists every manifest; the Deployment's arguments are
// accepted by the binary's own flag parser and agree with its probes, port, Lease and RBAC;
// the security settings the README promises are there; RBAC grants what the controllers
// use and no more.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/codec/codec.h"
#include "api/codec/node.h"
#include "api/core/v1/core.pb.h"
#include "cmd/endpointslice-controller/flags.h"
#include "controller/log/log.h"
#include "gtest/gtest.h"

namespace kslice::deploy {
namespace {

using codec::Node;

constexpr char kDir[] = "deploy/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The documents of a YAML file, parsed ("---" separators).
std::vector<Node> Documents(const std::string& file) {
  std::vector<Node> out;
  std::string current;
  auto flush = [&] {
    absl::StatusOr<Node> n = codec::ParseYaml(current);
    EXPECT_TRUE(n.ok()) << file << ": " << n.status();
    if (n.ok() && !n->is_null()) out.push_back(*std::move(n));
    current.clear();
  };
  for (absl::string_view line : absl::StrSplit(ReadFile(kDir + file), '\n')) {
    if (line == "---") {
      flush();
    } else {
      absl::StrAppend(&current, line, "\n");
    }
  }
  flush();
  return out;
}

// The value at `path` (object keys; array indexes as numbers in decimal), or null.
const Node& At(const Node& node, const std::vector<std::string>& path) {
  static const Node kNull;
  const Node* n = &node;
  for (const std::string& p : path) {
    if (n->is_array()) {
      size_t i = std::stoul(p);
      if (i >= n->values.size()) return kNull;
      n = &n->values[i];
    } else {
      n = n->Find(p);
      if (n == nullptr) return kNull;
    }
  }
  return *n;
}

std::string Str(const Node& node, const std::vector<std::string>& path) { return At(node, path).text; }

std::vector<std::string> Strings(const Node& node, const std::vector<std::string>& path) {
  std::vector<std::string> out;
  for (const Node& v : At(node, path).values) out.push_back(v.text);
  return out;
}

std::string KindOf(const Node& n) { return Str(n, {"apiVersion"}) + " " + Str(n, {"kind"}); }

std::vector<std::string> ManifestFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(kDir)) {
    const std::string name = e.path().filename().string();
    if (absl::EndsWith(name, ".yaml") && name != "kustomization.yaml") files.push_back(name);
  }
  std::sort(files.begin(), files.end());
  return files;
}

const Node* FindKind(const std::string& file, const std::string& kind,
                     std::vector<Node>* storage) {
  *storage = Documents(file);
  for (const Node& n : *storage) {
    if (Str(n, {"kind"}) == kind) return &n;
  }
  ADD_FAILURE() << "no " << kind << " in " << file;
  return nullptr;
}

TEST(ManifestsTest, EveryDocumentParsesWithTheExpectedKind) {
  const std::map<std::string, std::vector<std::string>> want = {
      {"serviceaccount.yaml", {"v1 ServiceAccount"}},
      {"rbac.yaml",
       {"rbac.authorization.k8s.io/v1 ClusterRole", "rbac.authorization.k8s.io/v1 ClusterRoleBinding",
        "rbac.authorization.k8s.io/v1 Role", "rbac.authorization.k8s.io/v1 RoleBinding"}},
      {"deployment.yaml", {"apps/v1 Deployment"}},
      {"poddisruptionbudget.yaml", {"policy/v1 PodDisruptionBudget"}},
      {"kustomization.yaml", {"kustomize.config.k8s.io/v1beta1 Kustomization"}},
  };
  for (const auto& [file, kinds] : want) {
    std::vector<std::string> got;
    for (const Node& n : Documents(file)) {
      got.push_back(KindOf(n));
      if (Str(n, {"kind"}) != "Kustomization" && Str(n, {"kind"}) != "ClusterRole" &&
          Str(n, {"kind"}) != "ClusterRoleBinding") {
        EXPECT_EQ(Str(n, {"metadata", "namespace"}), "kube-system") << file << " " << KindOf(n);
      }
    }
    EXPECT_EQ(got, kinds) << file;
  }
}

TEST(ManifestsTest, KindsOurSchemeKnowsDecodeStrictly) {
  std::vector<std::string> unknown;
  codec::DecodeOptions options;
  options.unknown_fields = &unknown;
  absl::StatusOr<api::core::v1::ServiceAccount> sa = codec::DecodeAs<api::core::v1::ServiceAccount>(
      ReadFile(absl::StrCat(kDir, "serviceaccount.yaml")), codec::Format::kYaml, options);
  ASSERT_TRUE(sa.ok()) << sa.status();
  EXPECT_TRUE(unknown.empty()) << unknown[0];
  EXPECT_EQ(sa->metadata().name(), "endpointslice-controller");
}

TEST(ManifestsTest, KustomizationListsEveryManifest) {
  std::vector<Node> docs = Documents("kustomization.yaml");
  ASSERT_EQ(docs.size(), 1u);
  std::vector<std::string> resources = Strings(docs[0], {"resources"});
  std::sort(resources.begin(), resources.end());
  EXPECT_EQ(resources, ManifestFiles());
  EXPECT_EQ(Str(docs[0], {"namespace"}), "kube-system");
}

struct Deployment {
  std::vector<Node> storage;
  const Node* root = nullptr;
  Node container;
  endpointslice::cmd::ControllerFlags flags;
};

Deployment LoadDeployment() {
  Deployment d;
  d.root = FindKind("deployment.yaml", "Deployment", &d.storage);
  if (d.root == nullptr) return d;
  const Node& containers = At(*d.root, {"spec", "template", "spec", "containers"});
  EXPECT_EQ(containers.values.size(), 1u);
  if (containers.values.empty()) return d;
  d.container = containers.values[0];
  // The arguments through the binary's parsers: logging flags first, then the rest.
  std::vector<std::string> args = {"endpointslice-controller"};
  for (const std::string& a : Strings(d.container, {"args"})) args.push_back(a);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  absl::StatusOr<log::Options> logging = log::ParseFlags(&argc, argv.data());
  EXPECT_TRUE(logging.ok()) << logging.status();
  absl::StatusOr<endpointslice::cmd::ControllerFlags> flags = endpointslice::cmd::ParseControllerFlags(
      std::vector<std::string>(argv.begin() + 1, argv.begin() + argc));
  EXPECT_TRUE(flags.ok()) << flags.status();
  if (flags.ok()) d.flags = *flags;
  return d;
}

TEST(ManifestsTest, DeploymentRunsTwoLeaderElectedReplicasWithProbes) {
  Deployment d = LoadDeployment();
  ASSERT_NE(d.root, nullptr);
  EXPECT_EQ(At(*d.root, {"spec", "replicas"}).text, "2");
  EXPECT_TRUE(d.flags.leader_elect);
  EXPECT_TRUE(d.flags.run_endpointslice && d.flags.run_mirroring);
  EXPECT_EQ(d.flags.lease_namespace, "kube-system");
  // The probes and the port are the health server's.
  EXPECT_EQ(d.flags.health_bind_address, ":" + Str(d.container, {"ports", "0", "containerPort"}));
  EXPECT_EQ(Str(d.container, {"ports", "0", "name"}), "health");
  EXPECT_EQ(Str(d.container, {"livenessProbe", "httpGet", "path"}), "/healthz");
  EXPECT_EQ(Str(d.container, {"livenessProbe", "httpGet", "port"}), "health");
  EXPECT_EQ(Str(d.container, {"readinessProbe", "httpGet", "path"}), "/readyz");
  EXPECT_EQ(Str(d.container, {"readinessProbe", "httpGet", "port"}), "health");
  EXPECT_FALSE(Str(d.container, {"resources", "requests", "cpu"}).empty());
  EXPECT_FALSE(Str(d.container, {"resources", "requests", "memory"}).empty());
  // The selector selects the template.
  for (const Node* n : {&At(*d.root, {"spec", "selector", "matchLabels"})}) {
    for (size_t i = 0; i < n->keys.size(); ++i) {
      EXPECT_EQ(Str(*d.root, {"spec", "template", "metadata", "labels", n->keys[i]}), n->values[i].text);
    }
  }
}

TEST(ManifestsTest, DeploymentIsLockedDown) {
  Deployment d = LoadDeployment();
  ASSERT_NE(d.root, nullptr);
  const Node& pod = At(*d.root, {"spec", "template", "spec"});
  EXPECT_EQ(Str(pod, {"securityContext", "runAsNonRoot"}), "true");
  EXPECT_EQ(Str(pod, {"securityContext", "seccompProfile", "type"}), "RuntimeDefault");
  EXPECT_NE(Str(pod, {"securityContext", "runAsUser"}), "0");
  EXPECT_EQ(Str(d.container, {"securityContext", "readOnlyRootFilesystem"}), "true");
  EXPECT_EQ(Str(d.container, {"securityContext", "allowPrivilegeEscalation"}), "false");
  EXPECT_EQ(Str(d.container, {"securityContext", "runAsNonRoot"}), "true");
  EXPECT_EQ(Strings(d.container, {"securityContext", "capabilities", "drop"}),
            std::vector<std::string>{"ALL"});
  EXPECT_TRUE(At(d.container, {"securityContext", "capabilities", "add"}).is_null());
  std::vector<Node> sa_docs = Documents("serviceaccount.yaml");
  ASSERT_EQ(sa_docs.size(), 1u);
  EXPECT_EQ(Str(pod, {"serviceAccountName"}), Str(sa_docs[0], {"metadata", "name"}));
}

TEST(ManifestsTest, PodDisruptionBudgetKeepsOne) {
  std::vector<Node> storage;
  const Node* pdb = FindKind("poddisruptionbudget.yaml", "PodDisruptionBudget", &storage);
  ASSERT_NE(pdb, nullptr);
  EXPECT_EQ(At(*pdb, {"spec", "minAvailable"}).text, "1");
  Deployment d = LoadDeployment();
  ASSERT_NE(d.root, nullptr);
  const Node& sel = At(*pdb, {"spec", "selector", "matchLabels"});
  ASSERT_FALSE(sel.keys.empty());
  for (size_t i = 0; i < sel.keys.size(); ++i) {
    EXPECT_EQ(Str(*d.root, {"spec", "template", "metadata", "labels", sel.keys[i]}), sel.values[i].text);
  }
}

// (group, resource, verb) triples a role grants; resourceNames-restricted rules get the
// names appended to the resource ("leases/endpointslice-controller").
std::set<std::tuple<std::string, std::string, std::string>> Grants(const Node& role) {
  std::set<std::tuple<std::string, std::string, std::string>> out;
  for (const Node& rule : At(role, {"rules"}).values) {
    std::vector<std::string> names = Strings(rule, {"resourceNames"});
    for (const std::string& g : Strings(rule, {"apiGroups"})) {
      for (const std::string& r : Strings(rule, {"resources"})) {
        for (const std::string& v : Strings(rule, {"verbs"})) {
          if (names.empty()) out.insert({g, r, v});
          for (const std::string& n : names) out.insert({g, r + "/" + n, v});
        }
      }
    }
  }
  return out;
}

TEST(ManifestsTest, RbacIsWhatTheControllersUse) {
  std::vector<Node> docs = Documents("rbac.yaml");
  std::map<std::string, const Node*> by_kind;
  for (const Node& n : docs) by_kind[Str(n, {"kind"})] = &n;
  ASSERT_EQ(by_kind.size(), 4u);

  std::set<std::tuple<std::string, std::string, std::string>> want;
  for (const char* r : {"services", "pods", "nodes", "endpoints"}) {
    for (const char* v : {"get", "list", "watch"}) want.insert({"", r, v});
  }
  want.insert({"", "services/finalizers", "update"});
  want.insert({"", "endpoints/finalizers", "update"});
  for (const char* v : {"get", "list", "watch", "create", "update", "delete"}) {
    want.insert({"discovery.k8s.io", "endpointslices", v});
  }
  for (const char* g : {"", "events.k8s.io"}) {
    for (const char* v : {"create", "update", "patch"}) want.insert({g, "events", v});
  }
  EXPECT_EQ(Grants(*by_kind["ClusterRole"]), want);

  Deployment d = LoadDeployment();
  const std::string lease = "leases/" + d.flags.lease_name;
  EXPECT_EQ(Grants(*by_kind["Role"]),
            (std::set<std::tuple<std::string, std::string, std::string>>{
                {"coordination.k8s.io", "leases", "create"},
                {"coordination.k8s.io", lease, "get"},
                {"coordination.k8s.io", lease, "update"}}));
  EXPECT_EQ(Str(*by_kind["Role"], {"metadata", "namespace"}), d.flags.lease_namespace);

  // Both bindings bind the ServiceAccount to their role.
  for (const char* binding : {"ClusterRoleBinding", "RoleBinding"}) {
    const Node& b = *by_kind[binding];
    const std::string role = binding == std::string("RoleBinding") ? "Role" : "ClusterRole";
    EXPECT_EQ(Str(b, {"roleRef", "kind"}), role);
    EXPECT_EQ(Str(b, {"roleRef", "name"}), Str(*by_kind[role], {"metadata", "name"}));
    EXPECT_EQ(Str(b, {"subjects", "0", "kind"}), "ServiceAccount");
    EXPECT_EQ(Str(b, {"subjects", "0", "name"}), "endpointslice-controller");
    EXPECT_EQ(Str(b, {"subjects", "0", "namespace"}), "kube-system");
  }
}

}  // namespace
}  // namespace kslice::deploy
