#include "client/config/kubeconfig.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/config/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::client {
namespace {

using ::kslice::client::testing::ReadFileOrDie;
using ::kslice::client::testing::ScopedEnv;
using ::kslice::client::testing::TempDir;
using ::kslice::client::testing::Testdata;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr char kFakeCaPem[] =
    "-----BEGIN CERTIFICATE-----\nZmFrZSBjYQ==\n-----END CERTIFICATE-----\n";

// ConfigOverrides without designated initializers (g++ 12 warns on omitted members).
ConfigOverrides O(std::string context, std::string cluster = "", std::string user = "",
                  std::string ns = "") {
  ConfigOverrides o;
  o.context = std::move(context);
  o.cluster = std::move(cluster);
  o.user = std::move(user);
  o.namespace_ = std::move(ns);
  return o;
}

Kubeconfig LoadOrDie(const std::string& name) {
  absl::StatusOr<Kubeconfig> c = LoadKubeconfigFile(Testdata(name));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : Kubeconfig{};
}

TEST(KubeconfigTest, SimpleFile) {
  Kubeconfig kc = LoadOrDie("kubeconfig/simple.yaml");
  EXPECT_EQ(kc.current_context, "dev");
  EXPECT_THAT(kc.files, ElementsAre(Testdata("kubeconfig/simple.yaml")));
  absl::StatusOr<RestConfig> rc = BuildRestConfig(kc);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://dev.example.com:6443");
  EXPECT_EQ(rc->tls.ca_data, kFakeCaPem);
  EXPECT_EQ(rc->tls.ca_file, "");
  EXPECT_EQ(rc->tls.server_name, "api.dev.internal");
  EXPECT_EQ(rc->proxy_url, "http://proxy.example.com:3128");
  EXPECT_EQ(rc->bearer_token, "dev-token");
  EXPECT_EQ(rc->namespace_, "team-a");
  EXPECT_EQ(rc->api_path, "/api");
  EXPECT_EQ(rc->qps, 5.0f);
  EXPECT_EQ(rc->burst, 10);
  EXPECT_EQ(rc->Server()->String(), "https://dev.example.com:6443");
}

TEST(KubeconfigTest, NamespaceDefaultsAndOverrides) {
  Kubeconfig kc = LoadOrDie("kubeconfig/simple.yaml");
  EXPECT_EQ(*ResolveNamespace(kc), "team-a");
  EXPECT_EQ(*ResolveNamespace(kc, O("no-namespace")), "default");
  EXPECT_EQ(BuildRestConfig(kc, O("no-namespace"))->namespace_, "default");
  EXPECT_EQ(BuildRestConfig(kc, O("", "", "", "other"))->namespace_, "other");
  absl::StatusOr<RestConfig> bad = BuildRestConfig(kc, O("", "", "", "Not_A_Label"));
  EXPECT_THAT(bad.status().message(), HasSubstr("DNS-1123"));
}

TEST(KubeconfigTest, ContextOverride) {
  Kubeconfig kc = LoadOrDie("kubeconfig/merge_second.yaml");
  absl::StatusOr<RestConfig> rc = BuildRestConfig(kc);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://only-second.example.com");
  EXPECT_EQ(rc->username, "admin");
  EXPECT_EQ(rc->password, "secret");

  rc = BuildRestConfig(kc, O("shared-ctx"));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->namespace_, "from-second");

  rc = BuildRestConfig(kc, O("no-such-context"));
  EXPECT_TRUE(absl::IsNotFound(rc.status()));
  EXPECT_THAT(rc.status().message(), HasSubstr("context \"no-such-context\" does not exist"));
  EXPECT_THAT(rc.status().message(), HasSubstr("merge_second.yaml"));
}

TEST(KubeconfigTest, ClusterAndUserOverrides) {
  Kubeconfig kc = LoadOrDie("kubeconfig/merge_second.yaml");
  absl::StatusOr<RestConfig> rc = BuildRestConfig(kc, O("", "shared", "shared-user"));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://second.example.com");
  EXPECT_TRUE(rc->tls.insecure_skip_tls_verify);
  EXPECT_EQ(rc->bearer_token, "second-token");
  EXPECT_EQ(rc->username, "");

  // Without any context, a cluster override is enough.
  Kubeconfig no_context = kc;
  no_context.current_context.clear();
  rc = BuildRestConfig(no_context, O("", "only-second"));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://only-second.example.com");
  EXPECT_EQ(rc->bearer_token, "");

  EXPECT_THAT(BuildRestConfig(kc, O("", "nope")).status().message(), HasSubstr("cluster \"nope\""));
  EXPECT_THAT(BuildRestConfig(kc, O("", "", "nope")).status().message(),
              HasSubstr("user \"nope\""));
}

TEST(KubeconfigTest, MergeFirstFileWins) {
  LoadingRules rules;
  rules.precedence = {Testdata("kubeconfig/merge_first.yaml"),
                      Testdata("kubeconfig/merge_second.yaml")};
  absl::StatusOr<Kubeconfig> kc = LoadKubeconfig(rules);
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->current_context, "first-ctx");
  EXPECT_EQ(kc->clusters.at("shared").server, "https://first.example.com");
  // Entries are taken whole: the second file's insecure flag does not leak in.
  EXPECT_FALSE(kc->clusters.at("shared").insecure_skip_tls_verify);
  EXPECT_EQ(kc->clusters.at("shared").origin, Testdata("kubeconfig/merge_first.yaml"));
  EXPECT_EQ(kc->users.at("shared-user").token, "first-token");
  EXPECT_EQ(kc->contexts.at("shared-ctx").namespace_, "from-first");
  // Names only one file defines are all there.
  EXPECT_EQ(kc->clusters.size(), 3u);
  EXPECT_EQ(kc->clusters.at("only-second").origin, Testdata("kubeconfig/merge_second.yaml"));
  EXPECT_EQ(kc->users.size(), 2u);
  EXPECT_EQ(kc->contexts.size(), 4u);
  EXPECT_EQ(kc->files.size(), 2u);

  // A context from the second file may use a cluster and user from the first.
  absl::StatusOr<RestConfig> rc = BuildRestConfig(*kc, O("mixed"));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://only-first.example.com");
  EXPECT_EQ(rc->bearer_token, "first-token");

  rc = BuildRestConfig(*kc);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://first.example.com");
}

TEST(KubeconfigTest, MergeOrderReversed) {
  LoadingRules rules;
  rules.precedence = {Testdata("kubeconfig/merge_second.yaml"),
                      Testdata("kubeconfig/merge_first.yaml")};
  absl::StatusOr<Kubeconfig> kc = LoadKubeconfig(rules);
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->current_context, "second-ctx");
  EXPECT_EQ(kc->clusters.at("shared").server, "https://second.example.com");
  EXPECT_TRUE(kc->clusters.at("shared").insecure_skip_tls_verify);
  EXPECT_EQ(kc->users.at("shared-user").token, "second-token");
  EXPECT_EQ(kc->contexts.at("shared-ctx").namespace_, "from-second");
}

TEST(KubeconfigTest, CurrentContextFromFirstFileThatSetsIt) {
  LoadingRules rules;
  rules.precedence = {Testdata("kubeconfig/no_current_context.yaml"),
                      Testdata("kubeconfig/merge_second.yaml")};
  absl::StatusOr<Kubeconfig> kc = LoadKubeconfig(rules);
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->current_context, "second-ctx");
  EXPECT_TRUE(kc->contexts.contains("nc-ctx"));
}

TEST(KubeconfigTest, MissingFilesInListAreSkipped) {
  LoadingRules rules;
  rules.precedence = {"/nonexistent/kslice/a", Testdata("kubeconfig/simple.yaml"),
                      "/nonexistent/kslice/b"};
  rules.precedence_required = true;
  absl::StatusOr<Kubeconfig> kc = LoadKubeconfig(rules);
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->current_context, "dev");
  EXPECT_EQ(kc->files.size(), 1u);
}

TEST(KubeconfigTest, AllFilesMissing) {
  LoadingRules rules;
  rules.precedence = {"/nonexistent/kslice/a", "/nonexistent/kslice/b"};
  rules.precedence_required = true;
  absl::StatusOr<Kubeconfig> kc = LoadKubeconfig(rules);
  EXPECT_TRUE(absl::IsNotFound(kc.status()));
  EXPECT_THAT(kc.status().message(), HasSubstr("/nonexistent/kslice/a, /nonexistent/kslice/b"));

  // The home default may be absent: that is an empty configuration.
  rules.precedence_required = false;
  kc = LoadKubeconfig(rules);
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_TRUE(kc->empty());
  absl::StatusOr<RestConfig> rc = BuildRestConfig(*kc);
  EXPECT_EQ(rc.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(rc.status().message(), HasSubstr("no configuration has been provided"));
}

TEST(KubeconfigTest, ExplicitPathWinsAndMustExist) {
  LoadingRules rules;
  rules.explicit_path = Testdata("kubeconfig/simple.yaml");
  rules.precedence = {Testdata("kubeconfig/merge_first.yaml")};
  absl::StatusOr<Kubeconfig> kc = LoadKubeconfig(rules);
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->current_context, "dev");
  EXPECT_FALSE(kc->clusters.contains("shared"));

  rules.explicit_path = "/nonexistent/kslice/config";
  kc = LoadKubeconfig(rules);
  EXPECT_TRUE(absl::IsNotFound(kc.status()));
  EXPECT_THAT(kc.status().message(), HasSubstr("/nonexistent/kslice/config does not exist"));
}

TEST(KubeconfigTest, BrokenFileInListFailsTheLoad) {
  LoadingRules rules;
  rules.precedence = {Testdata("kubeconfig/simple.yaml"), Testdata("kubeconfig/invalid.yaml")};
  absl::StatusOr<Kubeconfig> kc = LoadKubeconfig(rules);
  EXPECT_EQ(kc.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(kc.status().message(), HasSubstr(Testdata("kubeconfig/invalid.yaml")));
  EXPECT_THAT(kc.status().message(), HasSubstr("invalid YAML"));
}

TEST(KubeconfigTest, EmptyFileIsEmptyConfig) {
  absl::StatusOr<Kubeconfig> kc = LoadKubeconfigFile(Testdata("kubeconfig/empty.yaml"));
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_TRUE(kc->empty());
}

TEST(KubeconfigTest, DirectoryIsNotAFile) {
  absl::StatusOr<Kubeconfig> kc = LoadKubeconfigFile(Testdata("kubeconfig"));
  EXPECT_FALSE(kc.ok());
  EXPECT_THAT(kc.status().message(), HasSubstr("is a directory"));
}

TEST(KubeconfigTest, LoadingRulesFromEnvironment) {
  ScopedEnv env;
  env.Set("KUBECONFIG", "/a/config:/b/config::/a/config");
  env.Set("HOME", "/home/someone");
  LoadingRules rules = LoadingRules::FromEnvironment();
  EXPECT_THAT(rules.precedence, ElementsAre("/a/config", "/b/config"));
  EXPECT_TRUE(rules.precedence_required);
  EXPECT_EQ(rules.explicit_path, "");

  env.Set("KUBECONFIG", std::nullopt);
  rules = LoadingRules::FromEnvironment("/explicit");
  EXPECT_THAT(rules.precedence, ElementsAre("/home/someone/.kube/config"));
  EXPECT_FALSE(rules.precedence_required);
  EXPECT_EQ(rules.explicit_path, "/explicit");

  env.Set("KUBECONFIG", "");
  rules = LoadingRules::FromEnvironment();
  EXPECT_THAT(rules.precedence, ElementsAre("/home/someone/.kube/config"));
}

TEST(KubeconfigTest, HomeDefault) {
  TempDir home;
  home.Write(".kube/config", ReadFileOrDie(Testdata("kubeconfig/simple.yaml")));
  ScopedEnv env;
  env.Set("KUBECONFIG", std::nullopt);
  env.Set("HOME", home.path());
  absl::StatusOr<Kubeconfig> kc = LoadKubeconfig(LoadingRules::FromEnvironment());
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->current_context, "dev");
}

TEST(KubeconfigTest, RelativePathsResolveAgainstTheFile) {
  const std::string dir = Testdata("kubeconfig/relative");
  Kubeconfig kc = LoadOrDie("kubeconfig/relative/config");
  EXPECT_EQ(kc.clusters.at("files").certificate_authority, dir + "/certs/ca.crt");
  EXPECT_EQ(kc.users.at("certs").client_certificate, dir + "/certs/client.crt");
  EXPECT_EQ(kc.users.at("certs").client_key, dir + "/certs/client.key");
  EXPECT_EQ(kc.users.at("token-file").token_file, dir + "/token");
  EXPECT_EQ(kc.users.at("exec-relative").exec->command, dir + "/bin/plugin");
  EXPECT_EQ(kc.users.at("exec-path").exec->command, "some-plugin-in-path");

  absl::StatusOr<RestConfig> rc = BuildRestConfig(kc);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->tls.ca_file, dir + "/certs/ca.crt");
  EXPECT_EQ(rc->tls.ca_data, kFakeCaPem);
  EXPECT_EQ(rc->tls.client_cert_file, dir + "/certs/client.crt");
  EXPECT_THAT(rc->tls.client_cert_data, HasSubstr("Y2xpZW50"));
  EXPECT_THAT(rc->tls.client_key_data, HasSubstr("BEGIN PRIVATE KEY"));
  EXPECT_TRUE(rc->HasCertAuth());
  // A scheme-less host would be https here; this one is explicit anyway.
  EXPECT_EQ(rc->Server()->scheme, "https");

  rc = BuildRestConfig(kc, O("", "", "token-file"));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->bearer_token, "file-token");
  EXPECT_EQ(rc->bearer_token_file, dir + "/token");
}

TEST(KubeconfigTest, RelativeKubeconfigPathIsMadeAbsolute) {
  // Tests run in the runfiles root, so this path is relative to the working folder.
  absl::StatusOr<Kubeconfig> kc =
      LoadKubeconfigFile("client/config/testdata/kubeconfig/relative/config");
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->clusters.at("files").certificate_authority,
            Testdata("kubeconfig/relative/certs/ca.crt"));
}

TEST(KubeconfigTest, FullUserAndClusterFields) {
  constexpr char kYaml[] = R"(
current-context: c
clusters:
- name: k
  cluster:
    server: https://k:6443
    disable-compression: true
    extensions:
    - name: other
      extension: {a: 1}
    - name: client.authentication.k8s.io/exec
      extension:
        audience: kslice
users:
- name: u
  user:
    token: 12345
    as: jane
    as-uid: "42"
    as-groups: [dev, ops]
    as-user-extra:
      scopes: [a, b]
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: my-plugin
      args: [get-token, --verbose]
      env:
      - name: FOO
        value: bar
      - name: EMPTY
      installHint: install my-plugin with your package manager
      provideClusterInfo: true
- name: cert-data
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
contexts:
- name: c
  context: {cluster: k, user: u}
)";
  absl::StatusOr<Kubeconfig> kc = ParseKubeconfig(kYaml, "/virtual/config");
  ASSERT_TRUE(kc.ok()) << kc.status();
  const KubeconfigUser& u = kc->users.at("u");
  EXPECT_EQ(u.token, "12345");
  ASSERT_TRUE(u.exec.has_value());
  EXPECT_EQ(u.exec->api_version, kExecApiVersionV1Beta1);
  EXPECT_EQ(u.exec->command, "my-plugin");
  EXPECT_THAT(u.exec->args, ElementsAre("get-token", "--verbose"));
  EXPECT_THAT(u.exec->env, ElementsAre(Pair("FOO", "bar"), Pair("EMPTY", "")));
  EXPECT_EQ(u.exec->install_hint, "install my-plugin with your package manager");
  EXPECT_TRUE(u.exec->provide_cluster_info);
  EXPECT_EQ(u.exec->interactive_mode, "IfAvailable");  // v1beta1 default

  absl::StatusOr<RestConfig> rc = BuildRestConfig(*kc);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_TRUE(rc->disable_compression);
  ASSERT_TRUE(rc->exec_cluster_config.has_value());
  EXPECT_EQ(rc->exec_cluster_config->Find("audience")->text, "kslice");
  EXPECT_EQ(rc->impersonate.user, "jane");
  EXPECT_EQ(rc->impersonate.uid, "42");
  EXPECT_THAT(rc->impersonate.groups, ElementsAre("dev", "ops"));
  EXPECT_THAT(rc->impersonate.extra.at("scopes"), ElementsAre("a", "b"));
  EXPECT_EQ(rc->bearer_token, "12345");
  ASSERT_TRUE(rc->exec.has_value());
  EXPECT_EQ(rc->exec->command, "my-plugin");

  rc = BuildRestConfig(*kc, O("", "", "cert-data"));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->tls.client_cert_data, "cert");
  EXPECT_EQ(rc->tls.client_key_data, "key");
  EXPECT_EQ(rc->tls.client_cert_file, "");
}

TEST(KubeconfigTest, JsonKubeconfig) {
  constexpr char kJson[] = R"({"apiVersion":"v1","kind":"Config","current-context":"c",)"
                           R"("clusters":[{"name":"k","cluster":{"server":"https://k"}}],)"
                           R"("contexts":[{"name":"c","context":{"cluster":"k"}}]})";
  absl::StatusOr<Kubeconfig> kc = ParseKubeconfig(kJson, "");
  ASSERT_TRUE(kc.ok()) << kc.status();
  absl::StatusOr<RestConfig> rc = BuildRestConfig(*kc);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://k");
  EXPECT_FALSE(rc->HasTokenAuth());
}

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string want;  // substring of the error
  ConfigOverrides overrides = {};

  friend void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }
};

class KubeconfigErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(KubeconfigErrorTest, Fails) {
  const ErrorCase& c = GetParam();
  absl::StatusOr<Kubeconfig> kc = ParseKubeconfig(c.yaml, "/virtual/kubeconfig");
  absl::Status status = kc.status();
  if (kc.ok()) status = BuildRestConfig(*kc, c.overrides).status();
  ASSERT_FALSE(status.ok()) << c.name;
  EXPECT_THAT(std::string(status.message()), HasSubstr(c.want)) << c.name;
  EXPECT_THAT(std::string(status.message()), HasSubstr("/virtual/kubeconfig")) << c.name;
}

// A valid base the cases below change in one place each.
std::string Config(const std::string& cluster, const std::string& user,
                   const std::string& context = "{cluster: k, user: u}",
                   const std::string& current = "c") {
  return absl::StrCat("current-context: ", current, "\nclusters:\n- name: k\n  cluster: ", cluster,
                      "\nusers:\n- name: u\n  user: ", user,
                      "\ncontexts:\n- name: c\n  context: ", context, "\n");
}

constexpr char kOkCluster[] = "{server: \"https://k\"}";
constexpr char kOkUser[] = "{token: t}";

INSTANTIATE_TEST_SUITE_P(
    Table, KubeconfigErrorTest,
    ::testing::Values(
        ErrorCase{"invalid_yaml", "clusters: [\n", "invalid YAML"},
        ErrorCase{"not_a_mapping", "- a\n- b\n", "expected a mapping"},
        ErrorCase{"wrong_kind", "kind: Pod\n", "unexpected kind \"Pod\""},
        ErrorCase{"wrong_version", "apiVersion: v2\nkind: Config\n", "unsupported version"},
        ErrorCase{"clusters_not_list", "clusters: {a: b}\n", "clusters: expected a list"},
        ErrorCase{"unnamed", "clusters:\n- cluster: {server: x}\n", "name is missing"},
        ErrorCase{
            "duplicate_name",
            "clusters:\n- name: a\n  cluster: {server: x}\n- name: a\n  cluster: {server: y}\n",
            "duplicate name \"a\""},
        ErrorCase{"server_not_string", Config("{server: {a: b}}", kOkUser),
                  "clusters[k].cluster.server: expected a string"},
        ErrorCase{"bool_as_string",
                  Config("{server: x, insecure-skip-tls-verify: \"yes\"}", kOkUser),
                  "insecure-skip-tls-verify: expected true or false"},
        ErrorCase{"bad_base64",
                  Config("{server: x, certificate-authority-data: \"not base64!\"}", kOkUser),
                  "certificate-authority-data: invalid base64"},
        ErrorCase{"bad_base64_padding",
                  Config(kOkCluster, "{client-certificate-data: Y2VydA, client-key-data: a2V5}"),
                  "client-certificate-data: invalid base64"},
        ErrorCase{"unknown_current_context", Config(kOkCluster, kOkUser, "{cluster: k}", "nope"),
                  "current-context \"nope\" is not defined"},
        ErrorCase{"unknown_context_override", Config(kOkCluster, kOkUser),
                  "context \"x\" does not exist", O("x")},
        ErrorCase{"no_current_context", Config(kOkCluster, kOkUser, "{cluster: k}", "\"\""),
                  "no context chosen"},
        ErrorCase{"unknown_cluster", Config(kOkCluster, kOkUser, "{cluster: other, user: u}"),
                  "cluster \"other\" (used by context \"c\") does not exist"},
        ErrorCase{"context_without_cluster", Config(kOkCluster, kOkUser, "{user: u}"),
                  "cluster was not specified for context \"c\""},
        ErrorCase{"unknown_user", Config(kOkCluster, kOkUser, "{cluster: k, user: other}"),
                  "user \"other\" (used by context \"c\") does not exist"},
        ErrorCase{"no_server", Config("{insecure-skip-tls-verify: true}", kOkUser),
                  "no server found for cluster \"k\""},
        ErrorCase{"bad_server", Config("{server: \"ftp://k\"}", kOkUser),
                  "unsupported scheme \"ftp\""},
        ErrorCase{
            "ca_data_and_file",
            Config("{server: x, certificate-authority: /ca.crt, certificate-authority-data: Y2E=}",
                   kOkUser),
            "certificate-authority-data and certificate-authority are both specified"},
        ErrorCase{"ca_file_missing",
                  Config("{server: x, certificate-authority: /nonexistent/ca.crt}", kOkUser),
                  "unable to read certificate-authority /nonexistent/ca.crt"},
        ErrorCase{
            "insecure_with_ca",
            Config("{server: x, insecure-skip-tls-verify: true, certificate-authority-data: Y2E=}",
                   kOkUser),
            "insecure-skip-tls-verify"},
        ErrorCase{"bad_proxy", Config("{server: x, proxy-url: \"ftp://p\"}", kOkUser),
                  "must be http, https, or socks5"},
        ErrorCase{"cert_data_and_file",
                  Config(kOkCluster,
                         "{client-certificate: /c, client-certificate-data: Y2VydA==, "
                         "client-key-data: a2V5}"),
                  "client-certificate-data and client-certificate are both specified"},
        ErrorCase{
            "key_data_and_file",
            Config(kOkCluster,
                   "{client-certificate-data: Y2VydA==, client-key: /k, client-key-data: a2V5}"),
            "client-key-data and client-key are both specified"},
        ErrorCase{"cert_without_key", Config(kOkCluster, "{client-certificate-data: Y2VydA==}"),
                  "client-key-data or client-key must be specified"},
        ErrorCase{"key_without_cert", Config(kOkCluster, "{client-key-data: a2V5}"),
                  "has a client key but no client-certificate"},
        ErrorCase{
            "cert_file_missing",
            Config(kOkCluster, "{client-certificate: /nonexistent/c, client-key: /nonexistent/k}"),
            "unable to read client-certificate /nonexistent/c"},
        ErrorCase{
            "token_and_basic", Config(kOkCluster, "{token: t, username: a, password: b}"),
            "more than one authentication method found for user \"u\"; found [token basicAuth]"},
        ErrorCase{"token_file_missing", Config(kOkCluster, "{tokenFile: /nonexistent/token}"),
                  "unable to read tokenFile /nonexistent/token"},
        ErrorCase{"groups_without_user", Config(kOkCluster, "{as-groups: [g]}"),
                  "without impersonating a user"},
        ErrorCase{"auth_provider", Config(kOkCluster, "{auth-provider: {name: gcp}}"),
                  "auth-provider \"gcp\", which kslice does not support"},
        ErrorCase{
            "exec_and_auth_provider",
            Config(
                kOkCluster,
                "{auth-provider: {name: oidc}, exec: {apiVersion: client.authentication.k8s.io/v1, "
                "command: p, interactiveMode: Never}}"),
            "auth-provider cannot be provided in combination with an exec plugin"},
        ErrorCase{
            "exec_v1_without_interactive_mode",
            Config(kOkCluster, "{exec: {apiVersion: client.authentication.k8s.io/v1, command: p}}"),
            "interactiveMode must be specified"},
        ErrorCase{"exec_bad_interactive_mode",
                  Config(kOkCluster,
                         "{exec: {apiVersion: client.authentication.k8s.io/v1, command: p, "
                         "interactiveMode: Sometimes}}"),
                  "invalid interactiveMode"},
        ErrorCase{"exec_bad_version",
                  Config(kOkCluster,
                         "{exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: p}}"),
                  "invalid apiVersion \"client.authentication.k8s.io/v1alpha1\""},
        ErrorCase{
            "exec_no_command",
            Config(kOkCluster,
                   "{exec: {apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}}"),
            "command must be specified"},
        ErrorCase{"exec_no_version", Config(kOkCluster, "{exec: {command: p}}"),
                  "apiVersion must be specified"},
        ErrorCase{"exec_env_without_name",
                  Config(kOkCluster,
                         "{exec: {apiVersion: client.authentication.k8s.io/v1, command: p, "
                         "interactiveMode: Never, "
                         "env: [{value: v}]}}"),
                  "env variable name must be specified"},
        ErrorCase{"bad_namespace",
                  Config(kOkCluster, kOkUser, "{cluster: k, user: u, namespace: Bad_NS}"),
                  "namespace \"Bad_NS\" of context \"c\""}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(KubeconfigTest, SeveralProblemsAreReportedTogether) {
  absl::StatusOr<Kubeconfig> kc = ParseKubeconfig(
      Config("{insecure-skip-tls-verify: true}", "{token: t, username: a}"), "/virtual/kubeconfig");
  ASSERT_TRUE(kc.ok()) << kc.status();
  absl::Status s = BuildRestConfig(*kc).status();
  EXPECT_THAT(std::string(s.message()), HasSubstr("no server found"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("more than one authentication method"));
}

}  // namespace
}  // namespace kslice::client
