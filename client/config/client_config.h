// One call that finds the configuration the way kubectl and client-go's deferred
// loading client config do:
//
//   1. load kubeconfig (--kubeconfig, else $KUBECONFIG, else ~/.kube/config; see
//      kubeconfig.h) — a file that is present but broken is an error;
//   2. if that gave an empty configuration and no --context/--cluster was asked for,
//      and the process runs in a pod (in_cluster.h), use the in-cluster configuration
//      (with the --namespace override applied);
//   3. otherwise build the chosen context's RestConfig.
#ifndef KSLICE_CLIENT_CONFIG_CLIENT_CONFIG_H_
#define KSLICE_CLIENT_CONFIG_CLIENT_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/config/in_cluster.h"
#include "client/config/kubeconfig.h"
#include "client/config/rest_config.h"

namespace kslice::client {

struct ClientConfigOptions {
  std::string kubeconfig;  // --kubeconfig
  ConfigOverrides overrides;
  InClusterOptions in_cluster;
};

absl::StatusOr<RestConfig> LoadRestConfig(const ClientConfigOptions& options = {});

}  // namespace kslice::client

#endif  // KSLICE_CLIENT_CONFIG_CLIENT_CONFIG_H_
