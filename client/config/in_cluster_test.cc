#include "client/config/in_cluster.h"

#include <map>
#include <string>

#include "client/config/credentials.h"
#include "client/config/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::client {
namespace {

using ::kslice::client::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kSa[] = "var/run/secrets/kubernetes.io/serviceaccount/";

InClusterOptions Options(const TempDir& root, std::map<std::string, std::string> env) {
  InClusterOptions o;
  o.root = root.path();
  o.getenv = [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return o;
}

TEST(InClusterTest, FullServiceAccount) {
  TempDir root;
  root.Write(std::string(kSa) + "token", "sa-token\n");
  root.Write(std::string(kSa) + "ca.crt",
             "-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n");
  root.Write(std::string(kSa) + "namespace", "kube-system\n");
  InClusterOptions o =
      Options(root, {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  EXPECT_TRUE(InClusterPossible(o));
  absl::StatusOr<RestConfig> rc = InClusterConfig(o);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://10.96.0.1:443");
  EXPECT_EQ(rc->bearer_token, "sa-token");
  EXPECT_EQ(rc->bearer_token_file, root.path() + "/" + kSa + "token");
  EXPECT_EQ(rc->tls.ca_file, root.path() + "/" + kSa + "ca.crt");
  EXPECT_THAT(rc->tls.ca_data, HasSubstr("BEGIN CERTIFICATE"));
  EXPECT_FALSE(rc->tls.insecure_skip_tls_verify);
  EXPECT_EQ(rc->namespace_, "kube-system");
  EXPECT_EQ(rc->qps, 5.0f);
  EXPECT_EQ(rc->Server()->HostPort(), "10.96.0.1:443");
}

TEST(InClusterTest, Ipv6HostIsBracketed) {
  TempDir root;
  root.Write(std::string(kSa) + "token", "t");
  InClusterOptions o =
      Options(root, {{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}});
  absl::StatusOr<RestConfig> rc = InClusterConfig(o);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://[fd00::1]:6443");
  EXPECT_EQ(rc->Server()->host, "fd00::1");
  EXPECT_EQ(rc->Server()->port, 6443);
}

TEST(InClusterTest, NamespaceSources) {
  TempDir root;
  root.Write(std::string(kSa) + "token", "t");
  std::map<std::string, std::string> env = {{"KUBERNETES_SERVICE_HOST", "h"},
                                            {"KUBERNETES_SERVICE_PORT", "443"}};
  // No namespace file: "default". No CA: the system roots.
  absl::StatusOr<RestConfig> rc = InClusterConfig(Options(root, env));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->namespace_, "default");
  EXPECT_EQ(rc->tls.ca_data, "");
  EXPECT_EQ(rc->tls.ca_file, "");

  root.Write(std::string(kSa) + "namespace", "from-file");
  EXPECT_EQ(InClusterConfig(Options(root, env))->namespace_, "from-file");
  env["POD_NAMESPACE"] = "from-env";
  EXPECT_EQ(InClusterConfig(Options(root, env))->namespace_, "from-env");
}

TEST(InClusterTest, NotInCluster) {
  TempDir root;
  root.Write(std::string(kSa) + "token", "t");
  for (auto env : std::vector<std::map<std::string, std::string>>{
           {},
           {{"KUBERNETES_SERVICE_HOST", "h"}},
           {{"KUBERNETES_SERVICE_PORT", "443"}},
           {{"KUBERNETES_SERVICE_HOST", ""}, {"KUBERNETES_SERVICE_PORT", "443"}}}) {
    InClusterOptions o = Options(root, env);
    EXPECT_FALSE(InClusterPossible(o));
    absl::StatusOr<RestConfig> rc = InClusterConfig(o);
    EXPECT_EQ(rc.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(rc.status().message(),
                HasSubstr("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"));
  }
}

TEST(InClusterTest, MissingToken) {
  TempDir root;
  InClusterOptions o =
      Options(root, {{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  EXPECT_FALSE(InClusterPossible(o));
  absl::StatusOr<RestConfig> rc = InClusterConfig(o);
  EXPECT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(), HasSubstr(o.TokenPath()));

  root.Write(std::string(kSa) + "token", "  \n");
  rc = InClusterConfig(o);
  EXPECT_THAT(rc.status().message(), HasSubstr("is empty"));
}

TEST(InClusterTest, BadPort) {
  TempDir root;
  root.Write(std::string(kSa) + "token", "t");
  absl::StatusOr<RestConfig> rc = InClusterConfig(
      Options(root, {{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "https"}}));
  EXPECT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(), HasSubstr("invalid port"));
}

TEST(InClusterTest, ProcessEnvironmentByDefault) {
  testing::ScopedEnv env;
  env.Set("KUBERNETES_SERVICE_HOST", "10.0.0.1");
  env.Set("KUBERNETES_SERVICE_PORT", "8443");
  env.Set("POD_NAMESPACE", std::nullopt);
  TempDir root;
  root.Write(std::string(kSa) + "token", "t");
  InClusterOptions o;
  o.root = root.path();
  absl::StatusOr<RestConfig> rc = InClusterConfig(o);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://10.0.0.1:8443");
}

TEST(InClusterTest, RotatedTokenIsPickedUp) {
  TempDir root;
  root.Write(std::string(kSa) + "token", "first");
  InClusterOptions o =
      Options(root, {{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  absl::StatusOr<RestConfig> rc = InClusterConfig(o);
  ASSERT_TRUE(rc.ok()) << rc.status();

  absl::Time now = absl::FromUnixSeconds(1000);
  CredentialsOptions co;
  co.now = [&now] { return now; };
  Credentials creds(*rc, co);
  EXPECT_EQ(*creds.CurrentBearerToken(), "first");
  // kubelet swaps the file; the next check (after the interval) reads it.
  root.Write(std::string(kSa) + "token", "second-token");
  now += absl::Minutes(2);
  EXPECT_EQ(*creds.CurrentBearerToken(), "second-token");
  EXPECT_EQ(*creds.AuthorizationHeader(), "Bearer second-token");
}

}  // namespace
}  // namespace kslice::client
