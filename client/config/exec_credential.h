// Exec credential plugins (client.authentication.k8s.io v1 and v1beta1), as kubectl
// runs them: `aws eks get-token`, `gke-gcloud-auth-plugin`, `kubelogin`, ...
//
// The plugin is started directly (posix_spawn, no shell) with the configured args,
// the client's environment plus the configured variables, and KUBERNETES_EXEC_INFO
// holding an ExecCredential:
//
//   {"kind":"ExecCredential","apiVersion":"<version>",
//    "spec":{"interactive":false[,"cluster":{...}]}}
//
// (spec.cluster only with provideClusterInfo). Its stdin is /dev/null, its stderr is
// the client's (or a given descriptor), and its stdout — at most a bounded number of
// bytes — must be an ExecCredential of the same apiVersion with status.token and/or
// status.clientCertificateData + clientKeyData, and optionally
// status.expirationTimestamp (RFC 3339).
//
// The answer is cached until it expires (never, without an expiration) or until
// Invalidate() says the server refused it (HTTP 401). Calls are serialized: at most
// one plugin process runs per provider at a time, and concurrent callers share its
// answer.
#ifndef KSLICE_CLIENT_CONFIG_EXEC_CREDENTIAL_H_
#define KSLICE_CLIENT_CONFIG_EXEC_CREDENTIAL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/config/rest_config.h"

namespace kslice::client {

// What a plugin returned.
struct ExecCredential {
  std::string token;
  std::string client_certificate_data;  // PEM
  std::string client_key_data;          // PEM
  std::optional<absl::Time> expiration;
  // Increases each time the plugin is run successfully; lets a caller that saw a 401
  // with one credential avoid invalidating a newer one.
  uint64_t generation = 0;
};

// Cluster details passed to plugins that ask for them (spec.cluster).
struct ExecClusterInfo {
  std::string server;
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string certificate_authority_data;  // PEM (sent base64-encoded)
  std::string proxy_url;
  bool disable_compression = false;
  std::optional<codec::Node> config;  // the cluster's exec extension
};

// The cluster details of a RestConfig (CA read from tls.ca_file when no data).
ExecClusterInfo ExecClusterInfoFrom(const RestConfig& config);

struct ExecOptions {
  // The plugin must finish within this time; it is killed (SIGKILL) otherwise.
  absl::Duration timeout = absl::Minutes(1);
  // Larger output is refused (and the plugin killed).
  size_t max_output_bytes = 1u << 20;
  // Where the plugin's stderr goes; -1 discards it.
  int stderr_fd = 2;
  // The clock used to decide expiry.
  std::function<absl::Time()> now = [] { return absl::Now(); };
  // The environment the plugin inherits, as "NAME=value" entries; nullopt: this
  // process's environment.
  std::optional<std::vector<std::string>> base_environment;
};

class ExecCredentialProvider {
 public:
  ExecCredentialProvider(ExecConfig config, ExecClusterInfo cluster, ExecOptions options = {});

  ExecCredentialProvider(const ExecCredentialProvider&) = delete;
  ExecCredentialProvider& operator=(const ExecCredentialProvider&) = delete;

  // The cached credential while it is valid, else runs the plugin.
  absl::StatusOr<ExecCredential> Get();

  // Forgets the cached credential so the next Get() runs the plugin: call after the
  // server answered 401. With a generation, only that credential is dropped (a newer
  // one fetched meanwhile by another caller is kept).
  void Invalidate(std::optional<uint64_t> generation = std::nullopt);

  // How many times the plugin has been started (for tests and metrics).
  uint64_t runs() const;

  const ExecConfig& config() const { return config_; }

 private:
  absl::StatusOr<ExecCredential> RunLocked();

  const ExecConfig config_;
  const ExecClusterInfo cluster_;
  const ExecOptions options_;

  mutable std::mutex mu_;
  std::optional<ExecCredential> cached_;
  uint64_t generation_ = 0;
  uint64_t runs_ = 0;
};

// Parses a plugin's stdout (exposed for tests). want_api_version is the configured
// apiVersion, which the output must match.
absl::StatusOr<ExecCredential> ParseExecCredential(absl::string_view output,
                                                   absl::string_view want_api_version);

// The KUBERNETES_EXEC_INFO value for a configuration (exposed for tests).
absl::StatusOr<std::string> ExecInfoJson(const ExecConfig& config, const ExecClusterInfo& cluster);

}  // namespace kslice::client

#endif  // KSLICE_CLIENT_CONFIG_EXEC_CREDENTIAL_H_
