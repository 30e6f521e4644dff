#include "client/config/client_config.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/config/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::client {
namespace {

using ::kslice::client::testing::ScopedEnv;
using ::kslice::client::testing::TempDir;
using ::kslice::client::testing::Testdata;
using ::testing::HasSubstr;

// Every test starts from an environment with no kubeconfig and no pod.
class LoadRestConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.Set("KUBECONFIG", std::nullopt);
    env_.Set("HOME", home_.path());
    options_.in_cluster.root = pod_root_.path();
    options_.in_cluster.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = pod_env_.find(name);
      if (it == pod_env_.end()) return std::nullopt;
      return it->second;
    };
  }

  void MakePod() {
    pod_root_.Write("var/run/secrets/kubernetes.io/serviceaccount/token", "pod-token");
    pod_env_ = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}};
  }

  ScopedEnv env_;
  TempDir home_;
  TempDir pod_root_;
  std::map<std::string, std::string> pod_env_;
  ClientConfigOptions options_;
};

TEST_F(LoadRestConfigTest, KubeconfigEnvList) {
  env_.Set("KUBECONFIG", absl::StrCat(Testdata("kubeconfig/merge_second.yaml"), ":",
                                      Testdata("kubeconfig/merge_first.yaml")));
  absl::StatusOr<RestConfig> rc = LoadRestConfig(options_);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://only-second.example.com");

  options_.overrides.context = "first-ctx";
  rc = LoadRestConfig(options_);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://second.example.com");  // "shared" from the first-listed file
  EXPECT_EQ(rc->bearer_token, "second-token");
}

TEST_F(LoadRestConfigTest, ExplicitPathWinsOverEnv) {
  env_.Set("KUBECONFIG", Testdata("kubeconfig/merge_first.yaml"));
  options_.kubeconfig = Testdata("kubeconfig/simple.yaml");
  absl::StatusOr<RestConfig> rc = LoadRestConfig(options_);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://dev.example.com:6443");
  EXPECT_EQ(rc->namespace_, "team-a");
}

TEST_F(LoadRestConfigTest, HomeConfig) {
  home_.Write(".kube/config", testing::ReadFileOrDie(Testdata("kubeconfig/simple.yaml")));
  MakePod();  // a kubeconfig, when present, wins over the pod environment
  absl::StatusOr<RestConfig> rc = LoadRestConfig(options_);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://dev.example.com:6443");
}

TEST_F(LoadRestConfigTest, KubeconfigEnvWithOnlyMissingFiles) {
  env_.Set("KUBECONFIG", "/nonexistent/kslice/one:/nonexistent/kslice/two");
  MakePod();
  absl::StatusOr<RestConfig> rc = LoadRestConfig(options_);
  EXPECT_TRUE(absl::IsNotFound(rc.status()));
  EXPECT_THAT(rc.status().message(), HasSubstr("/nonexistent/kslice/one"));
}

TEST_F(LoadRestConfigTest, FallsBackToInCluster) {
  MakePod();
  options_.overrides.namespace_ = "chosen";
  absl::StatusOr<RestConfig> rc = LoadRestConfig(options_);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->host, "https://10.96.0.1:443");
  EXPECT_EQ(rc->bearer_token, "pod-token");
  EXPECT_EQ(rc->namespace_, "chosen");
}

TEST_F(LoadRestConfigTest, ContextOverrideDisablesInClusterFallback) {
  MakePod();
  options_.overrides.context = "somewhere";
  absl::StatusOr<RestConfig> rc = LoadRestConfig(options_);
  EXPECT_THAT(rc.status().message(), HasSubstr("context \"somewhere\" does not exist"));
}

TEST_F(LoadRestConfigTest, NothingAnywhere) {
  absl::StatusOr<RestConfig> rc = LoadRestConfig(options_);
  EXPECT_EQ(rc.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(rc.status().message(), HasSubstr("no configuration has been provided"));
}

}  // namespace
}  // namespace kslice::client
