// Configuration for a client running in a pod, as client-go's rest.InClusterConfig
// builds it: the API server from KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT
// (the service env vars kubelet injects), the service account's token (re-read when
// kubelet rotates it: RestConfig::bearer_token_file), its CA bundle and namespace.
#ifndef KSLICE_CLIENT_CONFIG_IN_CLUSTER_H_
#define KSLICE_CLIENT_CONFIG_IN_CLUSTER_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/config/rest_config.h"

namespace kslice::client {

// Where kubelet mounts the service account (below InClusterOptions::root).
inline constexpr char kServiceAccountDir[] = "var/run/secrets/kubernetes.io/serviceaccount";

struct InClusterOptions {
  // Filesystem root the service account directory is found under; tests point it at
  // a temporary folder.
  std::string root = "/";
  // Environment lookup; nullopt for unset. Default: this process's environment.
  std::function<std::optional<std::string>(const std::string&)> getenv;

  std::string TokenPath() const;
  std::string CaPath() const;
  std::string NamespacePath() const;
  std::optional<std::string> Env(const std::string& name) const;
};

// True when the environment looks like a pod: both service variables set and the
// token file present.
bool InClusterPossible(const InClusterOptions& options = {});

// host = "https://" + host:port (IPv6 hosts bracketed); bearer_token read now and
// bearer_token_file set for rotation; CA from ca.crt when readable (else the system
// roots, as client-go, which only logs that case); namespace from $POD_NAMESPACE,
// else the namespace file, else "default".
// Errors: FailedPrecondition when the variables are missing (not in a cluster), or
// when the token cannot be read.
absl::StatusOr<RestConfig> InClusterConfig(const InClusterOptions& options = {});

}  // namespace kslice::client

#endif  // KSLICE_CLIENT_CONFIG_IN_CLUSTER_H_
