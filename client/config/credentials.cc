#include "client/config/credentials.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/config/file_util.h"

namespace kslice::client {

TokenFileSource::TokenFileSource(std::string path, std::string fallback,
                                 absl::Duration check_interval, std::function<absl::Time()> now)
    : path_(std::move(path)),
      fallback_(std::move(fallback)),
      check_interval_(check_interval),
      now_(std::move(now)) {}

uint64_t TokenFileSource::reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reads_;
}

void TokenFileSource::ForceCheck() {
  std::lock_guard<std::mutex> lock(mu_);
  next_check_ = absl::InfinitePast();
}

absl::StatusOr<std::string> TokenFileSource::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = now_();
  if (token_ && now < next_check_) return *token_;
  next_check_ = now + check_interval_;

  // Keeps serving the last good token (or the fallback) when the file is unusable.
  auto unusable = [&](std::string why) -> absl::StatusOr<std::string> {
    if (token_) return *token_;
    if (!fallback_.empty()) return fallback_;
    next_check_ = absl::InfinitePast();  // nothing to serve: try again next call
    return absl::UnavailableError(absl::StrCat("reading token file ", why));
  };

  struct stat st;
  if (::stat(path_.c_str(), &st) != 0)
    return unusable(absl::StrCat(path_, ": ", std::strerror(errno)));
  FileId id;
  id.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  id.size = static_cast<int64_t>(st.st_size);
  id.inode = static_cast<uint64_t>(st.st_ino);
  id.device = static_cast<uint64_t>(st.st_dev);
  if (token_ && id_ && *id_ == id) return *token_;

  absl::StatusOr<std::string> content = internal::ReadFileToString(path_, 1u << 20);
  if (!content.ok()) return unusable(std::string(content.status().message()));
  ++reads_;
  std::string token(absl::StripAsciiWhitespace(*content));
  if (token.empty()) return unusable(absl::StrCat(path_, ": the file is empty"));
  token_ = std::move(token);
  id_ = id;
  return *token_;
}

Credentials::Credentials(const RestConfig& config, CredentialsOptions options)
    : static_token_(config.bearer_token),
      username_(config.username),
      password_(config.password),
      static_cert_{config.tls.client_cert_data, config.tls.client_key_data} {
  if (!config.bearer_token_file.empty()) {
    token_file_ = std::make_unique<TokenFileSource>(config.bearer_token_file, config.bearer_token,
                                                    options.token_file_check_interval, options.now);
  }
  // As client-go: explicitly configured credentials win over the plugin.
  bool has_static = config.HasTokenAuth() || config.HasBasicAuth() || config.HasCertAuth();
  if (config.exec && !has_static) {
    ExecOptions exec_options = options.exec;
    exec_options.now = options.now;
    exec_ = std::make_unique<ExecCredentialProvider>(*config.exec, ExecClusterInfoFrom(config),
                                                     std::move(exec_options));
  }
}

absl::StatusOr<std::string> Credentials::CurrentBearerToken() {
  if (token_file_) return token_file_->Token();
  if (!static_token_.empty()) return static_token_;
  if (exec_) {
    absl::StatusOr<ExecCredential> cred = exec_->Get();
    if (!cred.ok()) return cred.status();
    return cred->token;
  }
  return std::string();
}

absl::StatusOr<std::string> Credentials::AuthorizationHeader() {
  if (!username_.empty() || !password_.empty()) {
    return absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(username_, ":", password_)));
  }
  absl::StatusOr<std::string> token = CurrentBearerToken();
  if (!token.ok()) return token.status();
  if (token->empty()) return std::string();
  return absl::StrCat("Bearer ", *token);
}

absl::StatusOr<ClientCertificate> Credentials::CurrentClientCertificate() {
  if (!static_cert_.empty()) return static_cert_;
  if (exec_) {
    absl::StatusOr<ExecCredential> cred = exec_->Get();
    if (!cred.ok()) return cred.status();
    return ClientCertificate{cred->client_certificate_data, cred->client_key_data};
  }
  return ClientCertificate{};
}

void Credentials::Invalidate() {
  if (exec_) exec_->Invalidate();
  if (token_file_) token_file_->ForceCheck();
}

}  // namespace kslice::client
