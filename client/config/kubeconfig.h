// Kubeconfig files (apiVersion v1, kind Config) and kubectl's rules for finding,
// merging and using them.
//
// Loading (LoadKubeconfig):
//  - an explicit path (--kubeconfig) is the only file read, and must exist;
//  - else $KUBECONFIG, a ':'-separated list (empty entries and duplicates dropped):
//    files that do not exist are skipped, but if none exists that is an error;
//  - else ~/.kube/config ($HOME), which may be absent (an empty config).
// Merging several files: a cluster, user or context is taken whole from the FIRST
// file that defines that name (later files never change it); current-context comes
// from the first file that sets it. Relative paths in a file (certificate-authority,
// client-certificate, client-key, tokenFile, and an exec command containing '/') are
// resolved against that file's folder. A file that cannot be read or parsed fails the
// whole load.
//
// Building (BuildRestConfig): the context is the --context override, else
// current-context; --cluster/--user/--namespace override the context's fields. Names
// that do not exist are errors (kubectl silently treats a missing user as anonymous;
// kslice refuses). The namespace defaults to "default".
#ifndef KSLICE_CLIENT_CONFIG_KUBECONFIG_H_
#define KSLICE_CLIENT_CONFIG_KUBECONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec/node.h"
#include "client/config/rest_config.h"

namespace kslice::client {

// clientcmd's Cluster. *_data fields hold decoded bytes (the file has base64).
struct KubeconfigCluster {
  std::string server;
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string certificate_authority;  // path
  std::string certificate_authority_data;
  std::string proxy_url;
  bool disable_compression = false;
  // extensions[name == "client.authentication.k8s.io/exec"].extension
  std::optional<codec::Node> exec_extension;
  std::string origin;  // the file it came from
};

// clientcmd's AuthInfo ("users" entries).
struct KubeconfigUser {
  std::string client_certificate;  // path
  std::string client_certificate_data;
  std::string client_key;  // path
  std::string client_key_data;
  std::string token;
  std::string token_file;
  std::string username;
  std::string password;
  std::string impersonate;                                            // "as"
  std::string impersonate_uid;                                        // "as-uid"
  std::vector<std::string> impersonate_groups;                        // "as-groups"
  std::map<std::string, std::vector<std::string>> impersonate_extra;  // "as-user-extra"
  std::optional<ExecConfig> exec;
  std::string auth_provider;  // auth-provider.name, when present (not supported)
  std::string origin;
};

struct KubeconfigContext {
  std::string cluster;
  std::string user;
  std::string namespace_;
  std::string origin;
};

struct Kubeconfig {
  std::map<std::string, KubeconfigCluster> clusters;
  std::map<std::string, KubeconfigUser> users;
  std::map<std::string, KubeconfigContext> contexts;
  std::string current_context;
  // Files that were read, in precedence order.
  std::vector<std::string> files;

  bool empty() const {
    return clusters.empty() && users.empty() && contexts.empty() && current_context.empty();
  }
};

// Parses one kubeconfig document. `path` names the file in errors and is the base for
// relative paths (when empty, relative paths are kept as written). An empty document
// is an empty config; apiVersion/kind, when present, must be v1/Config.
absl::StatusOr<Kubeconfig> ParseKubeconfig(absl::string_view yaml, absl::string_view path);

// Reads and parses one file. A missing file is NotFound.
absl::StatusOr<Kubeconfig> LoadKubeconfigFile(const std::string& path);

// Merges configs in precedence order (first wins; see the file comment).
Kubeconfig MergeKubeconfigs(const std::vector<Kubeconfig>& configs);

struct LoadingRules {
  // --kubeconfig: when set, the only file, and it must exist.
  std::string explicit_path;
  // Files to merge, highest precedence first (from $KUBECONFIG or the home default).
  std::vector<std::string> precedence;
  // True when `precedence` came from $KUBECONFIG: then at least one file must exist.
  bool precedence_required = false;

  // The rules kubectl uses, read from $KUBECONFIG and $HOME now.
  static LoadingRules FromEnvironment(std::string explicit_path = "");
};

absl::StatusOr<Kubeconfig> LoadKubeconfig(const LoadingRules& rules);

// kubectl's --context, --cluster, --user, --namespace.
struct ConfigOverrides {
  std::string context;
  std::string cluster;
  std::string user;
  std::string namespace_;
};

// The RestConfig for the chosen context: server and TLS from its cluster, credentials
// from its user (files are read now: CA, client certificate and key, token file),
// namespace from the context. Validates what clientcmd validates for that context.
absl::StatusOr<RestConfig> BuildRestConfig(const Kubeconfig& config,
                                           const ConfigOverrides& overrides = {});

// The namespace the chosen context selects ("default" when unset).
absl::StatusOr<std::string> ResolveNamespace(const Kubeconfig& config,
                                             const ConfigOverrides& overrides = {});

}  // namespace kslice::client

#endif  // KSLICE_CLIENT_CONFIG_KUBECONFIG_H_
