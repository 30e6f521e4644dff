// The rotating side of authentication, shared by every request of one client.
//
// A RestConfig is plain data; Credentials turns it into what a request needs now:
//  - a bearer token file (a projected service-account token, which kubelet rewrites
//    about hourly) is re-read when it changes: its identity (mtime, size, inode) is
//    checked at most once per check_interval, and read again only when that changed.
//    A failed re-read keeps the last good token (or the static bearer_token);
//  - an exec plugin runs when no token, basic auth or client certificate is set, and
//    its answer is cached until it expires or a 401 invalidates it.
// All methods are thread-safe.
#ifndef KSLICE_CLIENT_CONFIG_CREDENTIALS_H_
#define KSLICE_CLIENT_CONFIG_CREDENTIALS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/config/exec_credential.h"
#include "client/config/rest_config.h"

namespace kslice::client {

// A token kept in a file, re-read when the file changes.
class TokenFileSource {
 public:
  // fallback is returned while the file cannot be read and no token was read yet
  // (client-go's "token plus tokenFile" case); empty means such a failure is an error.
  TokenFileSource(
      std::string path, std::string fallback = "", absl::Duration check_interval = absl::Minutes(1),
      std::function<absl::Time()> now = [] { return absl::Now(); });

  TokenFileSource(const TokenFileSource&) = delete;
  TokenFileSource& operator=(const TokenFileSource&) = delete;

  // The token (surrounding whitespace trimmed). The file is stat'ed at most once per
  // check interval and read only when its identity changed.
  absl::StatusOr<std::string> Token();

  // Makes the next Token() look at the file regardless of the interval (after a 401).
  void ForceCheck();

  const std::string& path() const { return path_; }
  // How many times the file has been read (for tests).
  uint64_t reads() const;

 private:
  struct FileId {
    int64_t mtime_ns = 0;
    int64_t size = 0;
    uint64_t inode = 0;
    uint64_t device = 0;
    friend bool operator==(const FileId&, const FileId&) = default;
  };

  const std::string path_;
  const std::string fallback_;
  const absl::Duration check_interval_;
  const std::function<absl::Time()> now_;

  mutable std::mutex mu_;
  std::optional<std::string> token_;
  std::optional<FileId> id_;
  absl::Time next_check_ = absl::InfinitePast();
  uint64_t reads_ = 0;
};

struct CredentialsOptions {
  absl::Duration token_file_check_interval = absl::Minutes(1);
  std::function<absl::Time()> now = [] { return absl::Now(); };
  ExecOptions exec;  // exec.now is replaced by `now`
};

// A client certificate as PEM.
struct ClientCertificate {
  std::string cert_pem;
  std::string key_pem;
  bool empty() const { return cert_pem.empty(); }
};

class Credentials {
 public:
  explicit Credentials(const RestConfig& config, CredentialsOptions options = {});

  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;

  // The bearer token to send now: from the token file, the static token, or the exec
  // plugin; "" when the client authenticates otherwise (or not at all).
  absl::StatusOr<std::string> CurrentBearerToken();

  // The Authorization header value: "Bearer <token>", "Basic <base64>", or "".
  absl::StatusOr<std::string> AuthorizationHeader();

  // The client certificate to present: the configured one, else the exec plugin's;
  // empty when there is none.
  absl::StatusOr<ClientCertificate> CurrentClientCertificate();

  // The server answered 401: drop the exec plugin's cached credential (it runs again
  // on the next call) and look at the token file again.
  void Invalidate();

  // True when requests authenticate through the exec plugin.
  bool UsesExecPlugin() const { return exec_ != nullptr; }

 private:
  const std::string static_token_;
  const std::string username_;
  const std::string password_;
  const ClientCertificate static_cert_;
  std::unique_ptr<TokenFileSource> token_file_;
  std::unique_ptr<ExecCredentialProvider> exec_;
};

}  // namespace kslice::client

#endif  // KSLICE_CLIENT_CONFIG_CREDENTIALS_H_
