#include "client/config/client_config.h"

namespace kslice::client {

absl::StatusOr<RestConfig> LoadRestConfig(const ClientConfigOptions& options) {
  absl::StatusOr<Kubeconfig> kubeconfig =
      LoadKubeconfig(LoadingRules::FromEnvironment(options.kubeconfig));
  if (!kubeconfig.ok()) return kubeconfig.status();
  const ConfigOverrides& o = options.overrides;
  if (kubeconfig->empty() && o.context.empty() && o.cluster.empty() &&
      InClusterPossible(options.in_cluster)) {
    absl::StatusOr<RestConfig> config = InClusterConfig(options.in_cluster);
    if (config.ok() && !o.namespace_.empty()) config->namespace_ = o.namespace_;
    return config;
  }
  return BuildRestConfig(*kubeconfig, o);
}

}  // namespace kslice::client
