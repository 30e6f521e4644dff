// Everything a client needs to reach and authenticate to one API server, as
// client-go's rest.Config carries it, in a plain value type.
//
// A RestConfig comes from a kubeconfig (kubeconfig.h), from the pod environment
// (in_cluster.h), or from either one chosen the way kubectl chooses
// (client_config.h); it can also be filled in by hand. It holds data only: the
// rotating parts of authentication (a token file that kubelet rewrites, an exec
// plugin whose credential expires) live in a Credentials object built from it
// (credentials.h), one per client.
#ifndef KSLICE_CLIENT_CONFIG_REST_CONFIG_H_
#define KSLICE_CLIENT_CONFIG_REST_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/codec/node.h"

namespace kslice::client {

// The "exec" stanza of a kubeconfig user: an external program that prints an
// ExecCredential (client.authentication.k8s.io) on stdout.
struct ExecConfig {
  // "client.authentication.k8s.io/v1" or ".../v1beta1".
  std::string api_version;
  // Program to run: a path (absolute, or already resolved against the kubeconfig's
  // folder) or a bare name looked up in $PATH. Never run through a shell.
  std::string command;
  std::vector<std::string> args;
  // Added to (and overriding) the client's own environment, in this order.
  std::vector<std::pair<std::string, std::string>> env;
  // Printed when the command cannot be found.
  std::string install_hint;
  // Put the cluster's connection details into KUBERNETES_EXEC_INFO.
  bool provide_cluster_info = false;
  // "Never", "IfAvailable" or "Always". kslice never gives the plugin a terminal, so
  // "Always" fails when the plugin is run; empty means the version's default
  // (v1beta1: IfAvailable; v1 requires a value).
  std::string interactive_mode;

  friend bool operator==(const ExecConfig&, const ExecConfig&) = default;
};

inline constexpr char kExecApiVersionV1[] = "client.authentication.k8s.io/v1";
inline constexpr char kExecApiVersionV1Beta1[] = "client.authentication.k8s.io/v1beta1";

// TLS settings. PEM data is what the transport uses; the *_file fields record where
// the data came from (for messages, and so a transport may re-read rotated files).
struct TlsConfig {
  bool insecure_skip_tls_verify = false;
  // SNI name and the name the server certificate is checked against, when it differs
  // from the host in the URL.
  std::string server_name;
  std::string ca_data;  // PEM bundle; empty: the system's roots
  std::string ca_file;
  std::string client_cert_data;  // PEM
  std::string client_cert_file;
  std::string client_key_data;  // PEM
  std::string client_key_file;

  friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

// Impersonation headers (Impersonate-User, -Uid, -Group, -Extra-<key>).
struct ImpersonationConfig {
  std::string user;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;

  friend bool operator==(const ImpersonationConfig&, const ImpersonationConfig&) = default;
};

// The parts of a server address, after client-go's defaulting: a missing scheme is
// "https" when TLS settings are present and "http" otherwise; a missing port is the
// scheme's (443 / 80).
struct ServerUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // host name or IP; IPv6 without brackets
  uint16_t port = 0;
  std::string path_prefix;  // "" or "/prefix" (no trailing slash)

  // "host:port", with IPv6 hosts bracketed: what goes in the Host header and CONNECT.
  std::string HostPort() const;
  // scheme://host:port[/prefix]
  std::string String() const;
};

// Parses a server address as client-go's DefaultServerURL reads rest.Config.Host:
// "https://h:6443", "h:6443", "h", "[::1]:6443", "https://h/prefix". Query strings and
// fragments are dropped. Schemes other than http/https, user info, bad ports and empty
// hosts are errors.
absl::StatusOr<ServerUrl> ParseServerUrl(absl::string_view host, bool default_tls);

// Checks a proxy URL the way clientcmd does: scheme http, https or socks5, and a host.
absl::Status ValidateProxyUrl(absl::string_view proxy_url);

struct RestConfig {
  // The API server: "https://host:port", optionally with a path prefix. See
  // ParseServerUrl for the forms accepted.
  std::string host;
  // Path of the legacy core group; groups live under "/apis".
  std::string api_path = "/api";

  TlsConfig tls;

  // Authentication. At most one of token / basic is used; an exec plugin is consulted
  // only when neither they nor a client certificate are set (as client-go does).
  std::string bearer_token;
  // Re-read on change (see Credentials); wins over bearer_token while readable.
  std::string bearer_token_file;
  std::string username;
  std::string password;
  std::optional<ExecConfig> exec;
  // Cluster details an exec plugin may receive (ExecCredential spec.cluster.config):
  // the cluster's "client.authentication.k8s.io/exec" extension, if any.
  std::optional<codec::Node> exec_cluster_config;

  ImpersonationConfig impersonate;

  // http, https or socks5 URL of a proxy; empty: none (no environment fallback is
  // applied here).
  std::string proxy_url;
  bool disable_compression = false;

  // Default namespace for namespaced requests (the context's, or "default").
  std::string namespace_ = "default";

  // Client-side rate limit (token bucket).
  float qps = 5.0f;
  int burst = 10;
  // Per-request timeout; zero means none.
  absl::Duration timeout = absl::ZeroDuration();

  std::string user_agent;  // set to kDefaultUserAgent by the constructor

  RestConfig();

  // The parsed server address with client-go's defaults applied.
  absl::StatusOr<ServerUrl> Server() const;
  // True when a TLS setting is present (CA, client certificate, insecure flag); this
  // is what makes a scheme-less host https.
  bool HasTlsSettings() const;
  bool HasBasicAuth() const { return !username.empty() || !password.empty(); }
  bool HasTokenAuth() const { return !bearer_token.empty() || !bearer_token_file.empty(); }
  bool HasCertAuth() const { return !tls.client_cert_data.empty() && !tls.client_key_data.empty(); }

  // Consistency checks every transport would otherwise trip over: a parsable host,
  // proxy URL, a CA together with insecure_skip_tls_verify, a certificate without its
  // key (or the reverse), token together with basic auth, qps/burst ranges.
  absl::Status Validate() const;
};

}  // namespace kslice::client

#endif  // KSLICE_CLIENT_CONFIG_REST_CONFIG_H_
