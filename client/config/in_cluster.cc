#include "client/config/in_cluster.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/config/file_util.h"

namespace kslice::client {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> ReadFile(const std::string& path, std::string* error, bool trim) {
  absl::StatusOr<std::string> data = internal::ReadFileToString(path, 1u << 20);
  if (!data.ok()) {
    if (error != nullptr) *error = std::string(data.status().message());
    return std::nullopt;
  }
  if (!trim) return *std::move(data);
  return std::string(absl::StripAsciiWhitespace(*data));
}

}  // namespace

std::string InClusterOptions::TokenPath() const {
  return (fs::path(root) / kServiceAccountDir / "token").string();
}
std::string InClusterOptions::CaPath() const {
  return (fs::path(root) / kServiceAccountDir / "ca.crt").string();
}
std::string InClusterOptions::NamespacePath() const {
  return (fs::path(root) / kServiceAccountDir / "namespace").string();
}

std::optional<std::string> InClusterOptions::Env(const std::string& name) const {
  if (getenv) return getenv(name);
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

bool InClusterPossible(const InClusterOptions& options) {
  std::optional<std::string> host = options.Env("KUBERNETES_SERVICE_HOST");
  std::optional<std::string> port = options.Env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) return false;
  std::error_code ec;
  fs::file_status st = fs::status(options.TokenPath(), ec);
  return !ec && fs::exists(st) && !fs::is_directory(st);
}

absl::StatusOr<RestConfig> InClusterConfig(const InClusterOptions& options) {
  std::optional<std::string> host = options.Env("KUBERNETES_SERVICE_HOST");
  std::optional<std::string> port = options.Env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return absl::FailedPreconditionError(
        "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
        "KUBERNETES_SERVICE_PORT must be defined");
  }
  RestConfig config;
  config.host = host->find(':') != std::string::npos ? absl::StrCat("https://[", *host, "]:", *port)
                                                     : absl::StrCat("https://", *host, ":", *port);

  const std::string token_path = options.TokenPath();
  std::string error;
  std::optional<std::string> token = ReadFile(token_path, &error, true);
  if (!token) {
    return absl::FailedPreconditionError(
        absl::StrCat("in-cluster configuration: reading service account token ", error));
  }
  if (token->empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("in-cluster configuration: service account token ", token_path, " is empty"));
  }
  config.bearer_token = *std::move(token);
  config.bearer_token_file = token_path;

  const std::string ca_path = options.CaPath();
  if (std::optional<std::string> ca = ReadFile(ca_path, nullptr, false);
      ca && !absl::StripAsciiWhitespace(*ca).empty()) {
    config.tls.ca_data = *std::move(ca);
    config.tls.ca_file = ca_path;
  }

  if (std::optional<std::string> ns = options.Env("POD_NAMESPACE"); ns && !ns->empty()) {
    config.namespace_ = *ns;
  } else if (std::optional<std::string> file_ns = ReadFile(options.NamespacePath(), nullptr, true);
             file_ns && !file_ns->empty()) {
    config.namespace_ = *file_ns;
  }

  if (absl::Status s = config.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("in-cluster configuration from KUBERNETES_SERVICE_HOST/PORT: ", s.message()));
  }
  return config;
}

}  // namespace kslice::client
