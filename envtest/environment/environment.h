// A test environment for controller authors, in the spirit of controller-runtime's
// envtest: an API server for the duration of a test, a ready client configuration
// and kubeconfig, and a namespace per test.
//
//   class MyTest : public ::testing::Test {
//     static void SetUpTestSuite() { env_ = *kslice::envtest::Environment::Start(); }
//     ...
//   };
//   absl::StatusOr<std::string> ns = env->CreateNamespace("my-test-");
//   auto client = kslice::client::RestClient::Create(env->config());
//
// Which server: if KUBEBUILDER_ASSETS (or EnvironmentOptions::assets_dir) names a
// folder holding `kube-apiserver` and `etcd` binaries, the Environment runs those
// (as controller-runtime does), so the same tests run against the real thing;
// otherwise it starts kslice's embedded server in-process. Either way the client
// authenticates with a bearer token of a cluster admin and trusts the server's CA.
#ifndef KSLICE_ENVTEST_ENVIRONMENT_ENVIRONMENT_H_
#define KSLICE_ENVTEST_ENVIRONMENT_ENVIRONMENT_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/config/rest_config.h"
#include "envtest/apiserver/embedded.h"

namespace kslice::envtest {

struct EnvironmentOptions {
  // Folder with kube-apiserver and etcd; empty: $KUBEBUILDER_ASSETS.
  std::string assets_dir;
  // Never use real binaries, even when they are available.
  bool embedded_only = false;
  // Settings of the embedded server (port, clock, history, ...).
  apiserver::EmbeddedServerOptions embedded{};
  // How long real binaries may take to become ready.
  absl::Duration start_timeout = absl::Seconds(60);
};

class Environment {
 public:
  static absl::StatusOr<std::unique_ptr<Environment>> Start(EnvironmentOptions options = {});
  ~Environment();  // Stop()
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  // Stops the server (and the processes of real binaries); idempotent.
  void Stop();

  const client::RestConfig& config() const { return config_; }
  // A kubeconfig file for the server (for kubectl or subprocesses), removed at Stop.
  const std::string& kubeconfig_path() const { return kubeconfig_path_; }
  // True when running real kube-apiserver and etcd binaries.
  bool external() const { return embedded_ == nullptr; }
  // The in-process server; nullptr when external().
  apiserver::EmbeddedServer* embedded() { return embedded_.get(); }

  // Creates a namespace named prefix + 5 random characters and returns its name.
  absl::StatusOr<std::string> CreateNamespace(const std::string& prefix = "test-");

 private:
  Environment() = default;
  absl::Status StartExternal(const std::string& assets, const EnvironmentOptions& options);
  absl::Status WaitReady(absl::Duration timeout);

  std::unique_ptr<apiserver::EmbeddedServer> embedded_;
  client::RestConfig config_;
  std::string dir_;  // temporary files
  std::string kubeconfig_path_;
  std::vector<pid_t> processes_;  // external: kube-apiserver, etcd (stopped in reverse)
};

// The folder of real binaries to use: options.assets_dir, else $KUBEBUILDER_ASSETS,
// if it holds executable kube-apiserver and etcd; "" otherwise.
std::string FindAssets(const std::string& assets_dir);

}  // namespace kslice::envtest

#endif  // KSLICE_ENVTEST_ENVIRONMENT_ENVIRONMENT_H_
