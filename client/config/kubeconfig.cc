#include "client/config/kubeconfig.h"

#include <cstdlib>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/config/file_util.h"

namespace kslice::client {
namespace {

namespace fs = std::filesystem;
using codec::Node;

constexpr char kExecExtensionName[] = "client.authentication.k8s.io/exec";

// Reads typed fields of one YAML object, naming the file and field path in errors.
class Reader {
 public:
  Reader(absl::string_view file, absl::string_view base_dir) : file_(file), base_dir_(base_dir) {}

  absl::Status Error(absl::string_view field, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", file_, ": ", field, ": ", what));
  }

  // A member, or nullptr when absent or null.
  static const Node* Get(const Node& obj, absl::string_view key) {
    const Node* n = obj.Find(key);
    return (n == nullptr || n->is_null()) ? nullptr : n;
  }

  absl::Status Object(const Node& n, absl::string_view field) const {
    if (!n.is_object()) return Error(field, "expected a mapping");
    return absl::OkStatus();
  }

  // Strings take any plain scalar as text (`token: 12345`), as sigs.k8s.io/yaml does.
  absl::Status String(const Node& obj, absl::string_view key, absl::string_view path,
                      std::string* out) const {
    const Node* n = Get(obj, key);
    if (n == nullptr) return absl::OkStatus();
    if (n->is_string() || (n->plain && (n->is_number() || n->is_bool()))) {
      *out = n->text;
      return absl::OkStatus();
    }
    return Error(absl::StrCat(path, key), "expected a string");
  }

  absl::Status Bool(const Node& obj, absl::string_view key, absl::string_view path,
                    bool* out) const {
    const Node* n = Get(obj, key);
    if (n == nullptr) return absl::OkStatus();
    if (!n->is_bool()) return Error(absl::StrCat(path, key), "expected true or false");
    *out = n->boolean;
    return absl::OkStatus();
  }

  absl::Status StringList(const Node& obj, absl::string_view key, absl::string_view path,
                          std::vector<std::string>* out) const {
    const Node* n = Get(obj, key);
    if (n == nullptr) return absl::OkStatus();
    if (!n->is_array()) return Error(absl::StrCat(path, key), "expected a list of strings");
    for (size_t i = 0; i < n->values.size(); ++i) {
      const Node& v = n->values[i];
      if (v.is_string() || (v.plain && (v.is_number() || v.is_bool()))) {
        out->push_back(v.text);
      } else if (v.is_null()) {
        out->push_back("");
      } else {
        return Error(absl::StrCat(path, key, "[", i, "]"), "expected a string");
      }
    }
    return absl::OkStatus();
  }

  // Base64 ([]byte in Go): standard alphabet, padded; line breaks are ignored.
  absl::Status Bytes(const Node& obj, absl::string_view key, absl::string_view path,
                     std::string* out) const {
    std::string text;
    if (absl::Status s = String(obj, key, path, &text); !s.ok()) return s;
    if (text.empty()) return absl::OkStatus();
    std::string compact;
    for (char c : text) {
      if (c != '\n' && c != '\r') compact.push_back(c);
    }
    bool valid = compact.size() % 4 == 0;
    size_t padding = 0;
    for (size_t i = 0; valid && i < compact.size(); ++i) {
      char c = compact[i];
      if (c == '=') {
        ++padding;
      } else if (padding > 0 ||
                 !(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) {
        valid = false;
      }
    }
    if (padding > 2) valid = false;
    if (!valid || !absl::Base64Unescape(compact, out)) {
      return Error(absl::StrCat(path, key), "invalid base64 data");
    }
    return absl::OkStatus();
  }

  // A path field, resolved against the kubeconfig's folder when relative.
  absl::Status Path(const Node& obj, absl::string_view key, absl::string_view path,
                    std::string* out) const {
    if (absl::Status s = String(obj, key, path, out); !s.ok()) return s;
    *out = Resolve(*out);
    return absl::OkStatus();
  }

  std::string Resolve(const std::string& p) const {
    if (p.empty() || base_dir_.empty() || p[0] == '/') return p;
    return (fs::path(base_dir_) / p).lexically_normal().string();
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::string base_dir_;
};

absl::Status ParseCluster(const Reader& r, const Node& n, absl::string_view at,
                          KubeconfigCluster* c) {
  if (absl::Status s = r.Object(n, at); !s.ok()) return s;
  std::string p = absl::StrCat(at, ".");
  absl::Status s;
  if (s.ok()) s = r.String(n, "server", p, &c->server);
  if (s.ok()) s = r.String(n, "tls-server-name", p, &c->tls_server_name);
  if (s.ok()) s = r.Bool(n, "insecure-skip-tls-verify", p, &c->insecure_skip_tls_verify);
  if (s.ok()) s = r.Path(n, "certificate-authority", p, &c->certificate_authority);
  if (s.ok()) s = r.Bytes(n, "certificate-authority-data", p, &c->certificate_authority_data);
  if (s.ok()) s = r.String(n, "proxy-url", p, &c->proxy_url);
  if (s.ok()) s = r.Bool(n, "disable-compression", p, &c->disable_compression);
  if (!s.ok()) return s;
  if (const Node* ext = Reader::Get(n, "extensions")) {
    if (!ext->is_array()) return r.Error(absl::StrCat(p, "extensions"), "expected a list");
    for (size_t i = 0; i < ext->values.size(); ++i) {
      const Node& e = ext->values[i];
      std::string ep = absl::StrCat(p, "extensions[", i, "]");
      if (absl::Status s2 = r.Object(e, ep); !s2.ok()) return s2;
      std::string name;
      if (absl::Status s2 = r.String(e, "name", ep + ".", &name); !s2.ok()) return s2;
      if (name == kExecExtensionName) {
        if (const Node* value = Reader::Get(e, "extension")) c->exec_extension = *value;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ParseExec(const Reader& r, const Node& n, absl::string_view at, ExecConfig* e) {
  if (absl::Status s = r.Object(n, at); !s.ok()) return s;
  std::string p = absl::StrCat(at, ".");
  absl::Status s;
  if (s.ok()) s = r.String(n, "apiVersion", p, &e->api_version);
  if (s.ok()) s = r.String(n, "command", p, &e->command);
  if (s.ok()) s = r.StringList(n, "args", p, &e->args);
  if (s.ok()) s = r.String(n, "installHint", p, &e->install_hint);
  if (s.ok()) s = r.Bool(n, "provideClusterInfo", p, &e->provide_cluster_info);
  if (s.ok()) s = r.String(n, "interactiveMode", p, &e->interactive_mode);
  if (!s.ok()) return s;
  // Only a command given as a path is relative to the file; a bare name is looked up
  // in $PATH when the plugin runs.
  if (e->command.find('/') != std::string::npos) e->command = r.Resolve(e->command);
  if (const Node* env = Reader::Get(n, "env")) {
    if (!env->is_array()) return r.Error(absl::StrCat(p, "env"), "expected a list");
    for (size_t i = 0; i < env->values.size(); ++i) {
      const Node& v = env->values[i];
      std::string vp = absl::StrCat(p, "env[", i, "]");
      if (absl::Status s2 = r.Object(v, vp); !s2.ok()) return s2;
      std::string name, value;
      if (absl::Status s2 = r.String(v, "name", vp + ".", &name); !s2.ok()) return s2;
      if (absl::Status s2 = r.String(v, "value", vp + ".", &value); !s2.ok()) return s2;
      e->env.emplace_back(std::move(name), std::move(value));
    }
  }
  // clientcmd's defaulting: v1beta1 plugins may use a terminal when there is one.
  if (e->interactive_mode.empty() && e->api_version == kExecApiVersionV1Beta1) {
    e->interactive_mode = "IfAvailable";
  }
  return absl::OkStatus();
}

absl::Status ParseUser(const Reader& r, const Node& n, absl::string_view at, KubeconfigUser* u) {
  if (absl::Status s = r.Object(n, at); !s.ok()) return s;
  std::string p = absl::StrCat(at, ".");
  absl::Status s;
  if (s.ok()) s = r.Path(n, "client-certificate", p, &u->client_certificate);
  if (s.ok()) s = r.Bytes(n, "client-certificate-data", p, &u->client_certificate_data);
  if (s.ok()) s = r.Path(n, "client-key", p, &u->client_key);
  if (s.ok()) s = r.Bytes(n, "client-key-data", p, &u->client_key_data);
  if (s.ok()) s = r.String(n, "token", p, &u->token);
  if (s.ok()) s = r.Path(n, "tokenFile", p, &u->token_file);
  if (s.ok()) s = r.String(n, "username", p, &u->username);
  if (s.ok()) s = r.String(n, "password", p, &u->password);
  if (s.ok()) s = r.String(n, "as", p, &u->impersonate);
  if (s.ok()) s = r.String(n, "as-uid", p, &u->impersonate_uid);
  if (s.ok()) s = r.StringList(n, "as-groups", p, &u->impersonate_groups);
  if (!s.ok()) return s;
  if (const Node* extra = Reader::Get(n, "as-user-extra")) {
    std::string ep = absl::StrCat(p, "as-user-extra");
    if (absl::Status s2 = r.Object(*extra, ep); !s2.ok()) return s2;
    for (size_t i = 0; i < extra->keys.size(); ++i) {
      std::vector<std::string> values;
      if (absl::Status s2 = r.StringList(*extra, extra->keys[i], ep + ".", &values); !s2.ok()) {
        return s2;
      }
      u->impersonate_extra[extra->keys[i]] = std::move(values);
    }
  }
  if (const Node* exec = Reader::Get(n, "exec")) {
    ExecConfig e;
    if (absl::Status s2 = ParseExec(r, *exec, absl::StrCat(p, "exec"), &e); !s2.ok()) return s2;
    u->exec = std::move(e);
  }
  if (const Node* provider = Reader::Get(n, "auth-provider")) {
    std::string pp = absl::StrCat(p, "auth-provider");
    if (absl::Status s2 = r.Object(*provider, pp); !s2.ok()) return s2;
    if (absl::Status s2 = r.String(*provider, "name", pp + ".", &u->auth_provider); !s2.ok()) {
      return s2;
    }
    if (u->auth_provider.empty()) u->auth_provider = "(unnamed)";
  }
  return absl::OkStatus();
}

absl::Status ParseContext(const Reader& r, const Node& n, absl::string_view at,
                          KubeconfigContext* c) {
  if (absl::Status s = r.Object(n, at); !s.ok()) return s;
  std::string p = absl::StrCat(at, ".");
  absl::Status s;
  if (s.ok()) s = r.String(n, "cluster", p, &c->cluster);
  if (s.ok()) s = r.String(n, "user", p, &c->user);
  if (s.ok()) s = r.String(n, "namespace", p, &c->namespace_);
  return s;
}

// Reads a named list ("clusters: [{name: a, cluster: {...}}]") into a map.
template <typename T, typename ParseFn>
absl::Status ParseNamedList(const Reader& r, const Node& root, absl::string_view list_key,
                            absl::string_view item_key, std::map<std::string, T>* out,
                            ParseFn parse) {
  const Node* list = Reader::Get(root, list_key);
  if (list == nullptr) return absl::OkStatus();
  if (!list->is_array()) return r.Error(list_key, "expected a list");
  for (size_t i = 0; i < list->values.size(); ++i) {
    const Node& entry = list->values[i];
    std::string at = absl::StrCat(list_key, "[", i, "]");
    if (absl::Status s = r.Object(entry, at); !s.ok()) return s;
    std::string name;
    if (absl::Status s = r.String(entry, "name", at + ".", &name); !s.ok()) return s;
    if (name.empty()) return r.Error(at, "name is missing");
    if (out->count(name) != 0) {
      return r.Error(at, absl::StrCat("duplicate name \"", name, "\" in ", list_key));
    }
    T value;
    value.origin = r.file();
    if (const Node* body = Reader::Get(entry, item_key)) {
      if (absl::Status s =
              parse(r, *body, absl::StrCat(list_key, "[", name, "].", item_key), &value);
          !s.ok()) {
        return s;
      }
    }
    out->emplace(std::move(name), std::move(value));
  }
  return absl::OkStatus();
}

bool IsDns1123Label(absl::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return s.front() != '-' && s.back() != '-';
}

// A file named by the kubeconfig: "unable to read <what> <path>: <reason>".
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, absl::string_view what) {
  absl::StatusOr<std::string> data = internal::ReadFileToString(path);
  if (!data.ok()) {
    return absl::Status(data.status().code(),
                        absl::StrCat("unable to read ", what, " ", data.status().message()));
  }
  return data;
}

std::string FileList(const Kubeconfig& config) {
  if (config.files.empty()) return "(no kubeconfig files)";
  return absl::StrJoin(config.files, ", ");
}

// The context, cluster and user the overrides and current-context select.
struct Selection {
  std::string context_name;
  const KubeconfigContext* context = nullptr;
  std::string cluster_name;
  std::string user_name;
  std::string namespace_;
};

absl::StatusOr<Selection> Select(const Kubeconfig& config, const ConfigOverrides& overrides) {
  Selection sel;
  sel.context_name = overrides.context.empty() ? config.current_context : overrides.context;
  if (!sel.context_name.empty()) {
    auto it = config.contexts.find(sel.context_name);
    if (it == config.contexts.end()) {
      if (!overrides.context.empty()) {
        return absl::NotFoundError(absl::StrCat("context \"", sel.context_name,
                                                "\" does not exist in ", FileList(config)));
      }
      return absl::NotFoundError(absl::StrCat("current-context \"", sel.context_name,
                                              "\" is not defined in ", FileList(config)));
    }
    sel.context = &it->second;
  } else if (overrides.cluster.empty()) {
    if (config.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("no configuration has been provided: ", FileList(config),
                       " (set --kubeconfig or KUBECONFIG, or run in a pod)"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("no context chosen: current-context is not set in ", FileList(config),
                     " and no context was given"));
  }
  sel.cluster_name = !overrides.cluster.empty() ? overrides.cluster
                     : sel.context != nullptr   ? sel.context->cluster
                                                : "";
  sel.user_name = !overrides.user.empty()  ? overrides.user
                  : sel.context != nullptr ? sel.context->user
                                           : "";
  sel.namespace_ = !overrides.namespace_.empty() ? overrides.namespace_
                   : sel.context != nullptr      ? sel.context->namespace_
                                                 : "";
  if (!sel.namespace_.empty() && !IsDns1123Label(sel.namespace_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "namespace \"", sel.namespace_,
        overrides.namespace_.empty()
            ? absl::StrCat("\" of context \"", sel.context_name, "\" in ", FileList(config))
            : std::string("\" (override)"),
        " is not a valid DNS-1123 label"));
  }
  if (sel.namespace_.empty()) sel.namespace_ = "default";
  return sel;
}

void ValidateExec(const std::string& user, const ExecConfig& exec, std::vector<std::string>* errs) {
  if (exec.command.empty()) {
    errs->push_back(absl::StrCat("command must be specified for user \"", user,
                                 "\" to use an exec authentication plugin"));
  }
  if (exec.api_version.empty()) {
    errs->push_back(absl::StrCat("apiVersion must be specified for user \"", user,
                                 "\" to use an exec authentication plugin"));
  } else if (exec.api_version != kExecApiVersionV1 && exec.api_version != kExecApiVersionV1Beta1) {
    errs->push_back(absl::StrCat("exec plugin of user \"", user, "\": invalid apiVersion \"",
                                 exec.api_version, "\" (want ", kExecApiVersionV1, " or ",
                                 kExecApiVersionV1Beta1, ")"));
  }
  for (const auto& [name, value] : exec.env) {
    if (name.empty()) {
      errs->push_back(absl::StrCat("env variable name must be specified for user \"", user,
                                   "\" to use an exec authentication plugin"));
    }
  }
  if (exec.interactive_mode.empty()) {
    errs->push_back(absl::StrCat("interactiveMode must be specified for user \"", user,
                                 "\" to use an exec authentication plugin"));
  } else if (exec.interactive_mode != "Never" && exec.interactive_mode != "IfAvailable" &&
             exec.interactive_mode != "Always") {
    errs->push_back(absl::StrCat("invalid interactiveMode for user \"", user, "\": \"",
                                 exec.interactive_mode, "\""));
  }
}

}  // namespace

absl::StatusOr<Kubeconfig> ParseKubeconfig(absl::string_view yaml, absl::string_view path) {
  std::string base_dir;
  if (!path.empty()) {
    std::error_code ec;
    fs::path abs = fs::absolute(fs::path(std::string(path)), ec);
    if (!ec) base_dir = abs.parent_path().lexically_normal().string();
  }
  Reader r(path.empty() ? absl::string_view("(inline)") : path, base_dir);

  Kubeconfig config;
  if (!path.empty()) config.files.emplace_back(path);
  absl::StatusOr<Node> parsed = codec::ParseYaml(yaml);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", r.file(), ": ", parsed.status().message()));
  }
  const Node& root = *parsed;
  if (root.is_null()) return config;
  if (!root.is_object()) return r.Error("(top level)", "expected a mapping");

  std::string api_version, kind;
  if (absl::Status s = r.String(root, "apiVersion", "", &api_version); !s.ok()) return s;
  if (absl::Status s = r.String(root, "kind", "", &kind); !s.ok()) return s;
  if (!api_version.empty() && api_version != "v1") {
    return r.Error("apiVersion",
                   absl::StrCat("unsupported version \"", api_version, "\" (want v1)"));
  }
  if (!kind.empty() && kind != "Config") {
    return r.Error("kind", absl::StrCat("unexpected kind \"", kind, "\" (want Config)"));
  }
  if (absl::Status s = r.String(root, "current-context", "", &config.current_context); !s.ok()) {
    return s;
  }
  absl::Status s = ParseNamedList(r, root, "clusters", "cluster", &config.clusters, ParseCluster);
  if (s.ok()) s = ParseNamedList(r, root, "users", "user", &config.users, ParseUser);
  if (s.ok()) s = ParseNamedList(r, root, "contexts", "context", &config.contexts, ParseContext);
  if (!s.ok()) return s;
  return config;
}

absl::StatusOr<Kubeconfig> LoadKubeconfigFile(const std::string& path) {
  absl::StatusOr<std::string> data = internal::ReadFileToString(path);
  if (absl::IsNotFound(data.status())) {
    return absl::NotFoundError(absl::StrCat("kubeconfig file ", path, " does not exist"));
  }
  if (!data.ok()) {
    return absl::Status(data.status().code(),
                        absl::StrCat("unable to read kubeconfig file ", data.status().message()));
  }
  return ParseKubeconfig(*data, path);
}

Kubeconfig MergeKubeconfigs(const std::vector<Kubeconfig>& configs) {
  Kubeconfig merged;
  for (const Kubeconfig& c : configs) {
    // map::insert keeps an existing entry: the first file to define a name wins.
    merged.clusters.insert(c.clusters.begin(), c.clusters.end());
    merged.users.insert(c.users.begin(), c.users.end());
    merged.contexts.insert(c.contexts.begin(), c.contexts.end());
    if (merged.current_context.empty()) merged.current_context = c.current_context;
    merged.files.insert(merged.files.end(), c.files.begin(), c.files.end());
  }
  return merged;
}

LoadingRules LoadingRules::FromEnvironment(std::string explicit_path) {
  LoadingRules rules;
  rules.explicit_path = std::move(explicit_path);
  const char* env = std::getenv("KUBECONFIG");
  if (env != nullptr && *env != '\0') {
    std::set<std::string> seen;
    for (absl::string_view part : absl::StrSplit(env, ':')) {
      if (part.empty()) continue;
      std::string file(part);
      if (seen.insert(file).second) rules.precedence.push_back(std::move(file));
    }
    rules.precedence_required = !rules.precedence.empty();
  }
  if (rules.precedence.empty()) {
    const char* home = std::getenv("HOME");
    if (home != nullptr && *home != '\0') {
      rules.precedence.push_back((fs::path(home) / ".kube" / "config").string());
    }
  }
  return rules;
}

absl::StatusOr<Kubeconfig> LoadKubeconfig(const LoadingRules& rules) {
  if (!rules.explicit_path.empty()) {
    absl::StatusOr<Kubeconfig> config = LoadKubeconfigFile(rules.explicit_path);
    if (!config.ok()) return config.status();
    return config;
  }
  std::vector<Kubeconfig> configs;
  std::vector<std::string> missing;
  for (const std::string& file : rules.precedence) {
    absl::StatusOr<Kubeconfig> config = LoadKubeconfigFile(file);
    if (absl::IsNotFound(config.status())) {
      missing.push_back(file);
      continue;
    }
    if (!config.ok()) return config.status();
    configs.push_back(*std::move(config));
  }
  if (configs.empty() && rules.precedence_required) {
    return absl::NotFoundError(absl::StrCat("none of the kubeconfig files in KUBECONFIG exist: ",
                                            absl::StrJoin(missing, ", ")));
  }
  return MergeKubeconfigs(configs);
}

absl::StatusOr<std::string> ResolveNamespace(const Kubeconfig& config,
                                             const ConfigOverrides& overrides) {
  absl::StatusOr<Selection> sel = Select(config, overrides);
  if (!sel.ok()) return sel.status();
  return sel->namespace_;
}

absl::StatusOr<RestConfig> BuildRestConfig(const Kubeconfig& config,
                                           const ConfigOverrides& overrides) {
  absl::StatusOr<Selection> selected = Select(config, overrides);
  if (!selected.ok()) return selected.status();
  const Selection& sel = *selected;
  const std::string context_desc = sel.context_name.empty()
                                       ? std::string("the overrides")
                                       : absl::StrCat("context \"", sel.context_name, "\"");

  if (sel.cluster_name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cluster was not specified for ", context_desc, " in ", FileList(config)));
  }
  auto cluster_it = config.clusters.find(sel.cluster_name);
  if (cluster_it == config.clusters.end()) {
    return absl::NotFoundError(absl::StrCat("cluster \"", sel.cluster_name, "\" (used by ",
                                            context_desc, ") does not exist in ",
                                            FileList(config)));
  }
  const KubeconfigCluster& cluster = cluster_it->second;
  const KubeconfigUser* user = nullptr;
  if (!sel.user_name.empty()) {
    auto user_it = config.users.find(sel.user_name);
    if (user_it == config.users.end()) {
      return absl::NotFoundError(absl::StrCat("user \"", sel.user_name, "\" (used by ",
                                              context_desc, ") does not exist in ",
                                              FileList(config)));
    }
    user = &user_it->second;
  }

  std::vector<std::string> errs;
  const std::string& cn = sel.cluster_name;
  RestConfig rc;
  rc.namespace_ = sel.namespace_;

  // Cluster: server identity.
  if (cluster.server.empty()) {
    errs.push_back(absl::StrCat("no server found for cluster \"", cn, "\""));
  }
  rc.host = cluster.server;
  rc.tls.server_name = cluster.tls_server_name;
  rc.tls.insecure_skip_tls_verify = cluster.insecure_skip_tls_verify;
  rc.proxy_url = cluster.proxy_url;
  rc.disable_compression = cluster.disable_compression;
  rc.exec_cluster_config = cluster.exec_extension;
  if (!cluster.proxy_url.empty()) {
    if (absl::Status s = ValidateProxyUrl(cluster.proxy_url); !s.ok()) {
      errs.push_back(absl::StrCat("cluster \"", cn, "\": ", s.message()));
    }
  }
  if (!cluster.certificate_authority.empty() && !cluster.certificate_authority_data.empty()) {
    errs.push_back(
        absl::StrCat("certificate-authority-data and certificate-authority are both "
                     "specified for cluster \"",
                     cn, "\""));
  } else if (!cluster.certificate_authority_data.empty()) {
    rc.tls.ca_data = cluster.certificate_authority_data;
  } else if (!cluster.certificate_authority.empty()) {
    rc.tls.ca_file = cluster.certificate_authority;
    absl::StatusOr<std::string> ca =
        ReadWholeFile(cluster.certificate_authority, "certificate-authority");
    if (!ca.ok()) {
      errs.push_back(absl::StrCat("cluster \"", cn, "\": ", ca.status().message()));
    } else {
      rc.tls.ca_data = *std::move(ca);
    }
  }
  if (rc.tls.insecure_skip_tls_verify &&
      (!cluster.certificate_authority.empty() || !cluster.certificate_authority_data.empty())) {
    errs.push_back(absl::StrCat("cluster \"", cn,
                                "\" sets both a certificate authority and "
                                "insecure-skip-tls-verify; choose one"));
  }

  // User: client identity.
  if (user != nullptr) {
    const std::string& un = sel.user_name;
    auto both = [&](const std::string& file, const std::string& data, absl::string_view file_key,
                    absl::string_view data_key) {
      if (!file.empty() && !data.empty()) {
        errs.push_back(
            absl::StrCat(data_key, " and ", file_key, " are both specified for user \"", un, "\""));
        return true;
      }
      return false;
    };
    auto load = [&](const std::string& file, const std::string& data, absl::string_view what,
                    std::string* out_data, std::string* out_file) {
      if (!data.empty()) {
        *out_data = data;
      } else if (!file.empty()) {
        *out_file = file;
        absl::StatusOr<std::string> content = ReadWholeFile(file, what);
        if (!content.ok()) {
          errs.push_back(absl::StrCat("user \"", un, "\": ", content.status().message()));
        } else {
          *out_data = *std::move(content);
        }
      }
    };
    bool has_cert = !user->client_certificate.empty() || !user->client_certificate_data.empty();
    bool has_key = !user->client_key.empty() || !user->client_key_data.empty();
    bool cert_conflict = both(user->client_certificate, user->client_certificate_data,
                              "client-certificate", "client-certificate-data");
    bool key_conflict =
        both(user->client_key, user->client_key_data, "client-key", "client-key-data");
    if (has_cert && !has_key) {
      errs.push_back(absl::StrCat("client-key-data or client-key must be specified for user \"", un,
                                  "\" to use the client certificate"));
    } else if (has_key && !has_cert) {
      errs.push_back(
          absl::StrCat("user \"", un, "\" has a client key but no client-certificate(-data)"));
    } else if (has_cert && !cert_conflict && !key_conflict) {
      load(user->client_certificate, user->client_certificate_data, "client-certificate",
           &rc.tls.client_cert_data, &rc.tls.client_cert_file);
      load(user->client_key, user->client_key_data, "client-key", &rc.tls.client_key_data,
           &rc.tls.client_key_file);
    }

    std::vector<std::string> methods;
    if (!user->token.empty() || !user->token_file.empty()) methods.push_back("token");
    if (!user->username.empty() || !user->password.empty()) methods.push_back("basicAuth");
    if (methods.size() > 1) {
      errs.push_back(absl::StrCat("more than one authentication method found for user \"", un,
                                  "\"; found [", absl::StrJoin(methods, " "),
                                  "], only one is allowed"));
    }
    rc.bearer_token = user->token;
    rc.bearer_token_file = user->token_file;
    if (user->token.empty() && !user->token_file.empty()) {
      absl::StatusOr<std::string> token = ReadWholeFile(user->token_file, "tokenFile");
      if (!token.ok()) {
        errs.push_back(absl::StrCat("user \"", un, "\": ", token.status().message()));
      } else if (std::string t(absl::StripAsciiWhitespace(*token)); t.empty()) {
        errs.push_back(
            absl::StrCat("user \"", un, "\": tokenFile ", user->token_file, " is empty"));
      } else {
        rc.bearer_token = std::move(t);
      }
    }
    rc.username = user->username;
    rc.password = user->password;

    rc.impersonate.user = user->impersonate;
    rc.impersonate.uid = user->impersonate_uid;
    rc.impersonate.groups = user->impersonate_groups;
    rc.impersonate.extra = user->impersonate_extra;
    if (user->impersonate.empty() &&
        (!user->impersonate_groups.empty() || !user->impersonate_extra.empty())) {
      errs.push_back(absl::StrCat("user \"", un,
                                  "\" requests groups or user-extra without impersonating a user"));
    }

    if (!user->auth_provider.empty()) {
      if (user->exec) {
        errs.push_back(
            absl::StrCat("auth-provider cannot be provided in combination with an "
                         "exec plugin for user \"",
                         un, "\""));
      } else {
        errs.push_back(absl::StrCat("user \"", un, "\" uses auth-provider \"", user->auth_provider,
                                    "\", which kslice does not support; use an exec credential "
                                    "plugin instead"));
      }
    }
    if (user->exec) {
      ValidateExec(un, *user->exec, &errs);
      rc.exec = user->exec;
    }
  }

  if (errs.empty()) {
    if (absl::Status s = rc.Validate(); !s.ok()) {
      errs.push_back(std::string(s.message()));
    }
  }
  if (!errs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid configuration (", context_desc, " in ",
                                                   FileList(config),
                                                   "): ", absl::StrJoin(errs, "; ")));
  }
  return rc;
}

}  // namespace kslice::client
