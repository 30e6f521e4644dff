#include "client/config/exec_credential.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/codec/go_time.h"
#include "client/config/file_util.h"

extern char** environ;

namespace kslice::client {
namespace {

constexpr char kExecInfoEnv[] = "KUBERNETES_EXEC_INFO";
constexpr char kPluginDocs[] =
    "https://kubernetes.io/docs/reference/access-authn-authz/authentication/"
    "#client-go-credential-plugins";

std::string ErrnoText(int err) { return std::strerror(err); }

// A descriptor closed on scope exit.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  return S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string EnvValue(const std::vector<std::string>& env, absl::string_view name) {
  for (const std::string& entry : env) {
    if (entry.size() > name.size() && entry[name.size()] == '=' &&
        absl::string_view(entry).substr(0, name.size()) == name) {
      return entry.substr(name.size() + 1);
    }
  }
  return "";
}

// Finds the program as Go's exec.LookPath does: a name with a '/' is used as is,
// anything else is searched in $PATH (absolute entries only, so a command never
// silently resolves to the current directory).
std::optional<std::string> LookPath(const std::string& command, const std::string& path_env) {
  if (command.find('/') != std::string::npos) {
    if (IsExecutableFile(command)) return command;
    return std::nullopt;
  }
  for (absl::string_view dir : absl::StrSplit(path_env, ':')) {
    if (dir.empty() || dir[0] != '/') continue;
    std::string candidate = absl::StrCat(dir, "/", command);
    if (IsExecutableFile(candidate)) return candidate;
  }
  return std::nullopt;
}

void SetEnv(std::vector<std::string>& env, absl::string_view name, absl::string_view value) {
  std::string prefix = absl::StrCat(name, "=");
  std::erase_if(env,
                [&](const std::string& e) { return e.compare(0, prefix.size(), prefix) == 0; });
  env.push_back(absl::StrCat(prefix, value));
}

struct ProcessResult {
  std::string stdout_data;
  bool exited = false;
  int exit_code = 0;
  int signal = 0;
};

// Runs path with argv/env; stdin is /dev/null, stdout is captured (bounded), stderr
// goes to stderr_fd. The child gets its own process group so a timeout kills the
// whole tree.
absl::StatusOr<ProcessResult> RunProcess(const std::string& display_name, const std::string& path,
                                         const std::vector<std::string>& args,
                                         const std::vector<std::string>& env,
                                         const ExecOptions& options) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("exec: pipe: ", ErrnoText(errno)));
  }
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  if (options.stderr_fd < 0) {
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  } else if (options.stderr_fd != 2) {
    posix_spawn_file_actions_adddup2(&actions, options.stderr_fd, 2);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &empty_mask);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  pid_t pid = 0;
  int err = ::posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) {
    return absl::UnavailableError(
        absl::StrCat("exec: starting ", display_name, ": ", ErrnoText(err)));
  }
  write_end.Reset();

  const absl::Time deadline = absl::Now() + options.timeout;
  auto kill_and_reap = [&] {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  };
  auto timeout_error = [&] {
    return absl::DeadlineExceededError(
        absl::StrCat("exec: executable ", display_name, " did not finish within ",
                     absl::FormatDuration(options.timeout), "; it was killed"));
  };

  ProcessResult result;
  char buffer[16384];
  for (;;) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      kill_and_reap();
      return timeout_error();
    }
    struct pollfd pfd = {read_end.get(), POLLIN, 0};
    int wait_ms = static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1000));
    int n = ::poll(&pfd, 1, wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      int poll_errno = errno;
      kill_and_reap();
      return absl::InternalError(absl::StrCat("exec: poll: ", ErrnoText(poll_errno)));
    }
    if (n == 0) continue;
    ssize_t got = ::read(read_end.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      int read_errno = errno;
      kill_and_reap();
      return absl::InternalError(absl::StrCat("exec: reading output: ", ErrnoText(read_errno)));
    }
    if (got == 0) break;
    result.stdout_data.append(buffer, static_cast<size_t>(got));
    if (result.stdout_data.size() > options.max_output_bytes) {
      kill_and_reap();
      return absl::ResourceExhaustedError(
          absl::StrCat("exec: executable ", display_name, " wrote more than ",
                       options.max_output_bytes, " bytes to stdout"));
    }
  }
  // Output is complete; the process should be exiting.
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      return absl::InternalError(absl::StrCat("exec: waitpid: ", ErrnoText(errno)));
    }
    if (r == pid) {
      if (WIFEXITED(status)) {
        result.exited = true;
        result.exit_code = WEXITSTATUS(status);
      } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
      }
      return result;
    }
    if (absl::Now() >= deadline) {
      kill_and_reap();
      return timeout_error();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

const codec::Node* Member(const codec::Node& obj, absl::string_view key) {
  if (!obj.is_object()) return nullptr;
  const codec::Node* n = obj.Find(key);
  return (n == nullptr || n->is_null()) ? nullptr : n;
}

absl::StatusOr<std::string> StringMember(const codec::Node& obj, absl::string_view key,
                                         absl::string_view where) {
  const codec::Node* n = Member(obj, key);
  if (n == nullptr) return std::string();
  if (!n->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("decoding stdout: ", where, key, " must be a string"));
  }
  return n->text;
}

}  // namespace

ExecClusterInfo ExecClusterInfoFrom(const RestConfig& config) {
  ExecClusterInfo info;
  info.server = config.host;
  info.tls_server_name = config.tls.server_name;
  info.insecure_skip_tls_verify = config.tls.insecure_skip_tls_verify;
  info.certificate_authority_data = config.tls.ca_data;
  if (info.certificate_authority_data.empty() && !config.tls.ca_file.empty()) {
    absl::StatusOr<std::string> ca = internal::ReadFileToString(config.tls.ca_file);
    if (ca.ok()) info.certificate_authority_data = *std::move(ca);
  }
  info.proxy_url = config.proxy_url;
  info.disable_compression = config.disable_compression;
  info.config = config.exec_cluster_config;
  return info;
}

absl::StatusOr<std::string> ExecInfoJson(const ExecConfig& config, const ExecClusterInfo& cluster) {
  codec::Node root = codec::Node::Object();
  root.Add("kind", codec::Node::String("ExecCredential"));
  root.Add("apiVersion", codec::Node::String(config.api_version));
  codec::Node& spec = root.Add("spec", codec::Node::Object());
  if (config.provide_cluster_info) {
    codec::Node& c = spec.Add("cluster", codec::Node::Object());
    c.Add("server", codec::Node::String(cluster.server));
    if (!cluster.tls_server_name.empty()) {
      c.Add("tls-server-name", codec::Node::String(cluster.tls_server_name));
    }
    if (cluster.insecure_skip_tls_verify) {
      c.Add("insecure-skip-tls-verify", codec::Node::Bool(true));
    }
    if (!cluster.certificate_authority_data.empty()) {
      c.Add("certificate-authority-data",
            codec::Node::String(absl::Base64Escape(cluster.certificate_authority_data)));
    }
    if (!cluster.proxy_url.empty()) c.Add("proxy-url", codec::Node::String(cluster.proxy_url));
    if (cluster.disable_compression) c.Add("disable-compression", codec::Node::Bool(true));
    if (cluster.config) c.Add("config", *cluster.config);
  }
  // kslice never hands the plugin a terminal.
  spec.Add("interactive", codec::Node::Bool(false));
  return codec::WriteJson(root);
}

absl::StatusOr<ExecCredential> ParseExecCredential(absl::string_view output,
                                                   absl::string_view want_api_version) {
  codec::ParseLimits limits;
  limits.max_depth = 64;
  absl::StatusOr<codec::Node> parsed = codec::ParseJson(output, limits);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("decoding stdout: ", parsed.status().message()));
  }
  const codec::Node& root = *parsed;
  if (!root.is_object()) {
    return absl::InvalidArgumentError("decoding stdout: expected an ExecCredential object");
  }
  absl::StatusOr<std::string> kind = StringMember(root, "kind", "");
  if (!kind.ok()) return kind.status();
  absl::StatusOr<std::string> api_version = StringMember(root, "apiVersion", "");
  if (!api_version.ok()) return api_version.status();
  if (kind->empty()) {
    return absl::InvalidArgumentError("decoding stdout: kind is missing (want ExecCredential)");
  }
  if (*kind != "ExecCredential") {
    return absl::InvalidArgumentError(
        absl::StrCat("decoding stdout: kind is \"", *kind, "\", want ExecCredential"));
  }
  if (*api_version != want_api_version) {
    return absl::InvalidArgumentError(absl::StrCat("exec plugin is configured to use API version ",
                                                   want_api_version, ", plugin returned version ",
                                                   api_version->empty() ? "(none)" : *api_version));
  }
  const codec::Node* status = Member(root, "status");
  if (status == nullptr)
    return absl::InvalidArgumentError("exec plugin didn't return a status field");
  if (!status->is_object()) {
    return absl::InvalidArgumentError("decoding stdout: status must be an object");
  }
  ExecCredential cred;
  absl::StatusOr<std::string> token = StringMember(*status, "token", "status.");
  if (!token.ok()) return token.status();
  absl::StatusOr<std::string> cert = StringMember(*status, "clientCertificateData", "status.");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = StringMember(*status, "clientKeyData", "status.");
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> expiry = StringMember(*status, "expirationTimestamp", "status.");
  if (!expiry.ok()) return expiry.status();
  cred.token = *std::move(token);
  cred.client_certificate_data = *std::move(cert);
  cred.client_key_data = *std::move(key);
  if (cred.token.empty() && cred.client_certificate_data.empty() && cred.client_key_data.empty()) {
    return absl::InvalidArgumentError("exec plugin didn't return a token or cert/key pair");
  }
  if (cred.client_certificate_data.empty() != cred.client_key_data.empty()) {
    return absl::InvalidArgumentError("exec plugin returned only certificate or key, not both");
  }
  if (!expiry->empty()) {
    absl::StatusOr<codec::UnixTime> t = codec::ParseRfc3339(*expiry);
    if (!t.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("decoding stdout: status.expirationTimestamp: ", t.status().message()));
    }
    cred.expiration = absl::FromUnixSeconds(t->seconds) + absl::Nanoseconds(t->nanos);
  }
  return cred;
}

ExecCredentialProvider::ExecCredentialProvider(ExecConfig config, ExecClusterInfo cluster,
                                               ExecOptions options)
    : config_(std::move(config)), cluster_(std::move(cluster)), options_(std::move(options)) {}

absl::StatusOr<ExecCredential> ExecCredentialProvider::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && (!cached_->expiration || !(options_.now() > *cached_->expiration))) {
    return *cached_;
  }
  return RunLocked();
}

void ExecCredentialProvider::Invalidate(std::optional<uint64_t> generation) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!cached_) return;
  if (generation && *generation != cached_->generation) return;
  cached_.reset();
}

uint64_t ExecCredentialProvider::runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}

absl::StatusOr<ExecCredential> ExecCredentialProvider::RunLocked() {
  if (config_.api_version != kExecApiVersionV1 && config_.api_version != kExecApiVersionV1Beta1) {
    return absl::InvalidArgumentError(
        absl::StrCat("exec plugin: invalid apiVersion \"", config_.api_version, "\""));
  }
  const std::string& mode = config_.interactive_mode;
  if (mode == "Always") {
    return absl::FailedPreconditionError(
        "exec plugin cannot support interactive mode: standard input is not a terminal");
  }
  if (!mode.empty() && mode != "Never" && mode != "IfAvailable") {
    return absl::InvalidArgumentError(
        absl::StrCat("exec plugin: unknown interactiveMode \"", mode, "\""));
  }
  if (config_.command.empty()) {
    return absl::InvalidArgumentError("exec plugin: no command configured");
  }

  std::vector<std::string> env;
  if (options_.base_environment) {
    env = *options_.base_environment;
  } else {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  }
  std::optional<std::string> path = LookPath(config_.command, EnvValue(env, "PATH"));
  if (!path) {
    std::string message =
        absl::StrCat("exec: executable ", config_.command,
                     " not found; it looks like a client-go credential plugin that is not "
                     "installed (see ",
                     kPluginDocs, ")");
    if (!config_.install_hint.empty()) absl::StrAppend(&message, "\n\n", config_.install_hint);
    return absl::NotFoundError(message);
  }
  for (const auto& [name, value] : config_.env) SetEnv(env, name, value);
  absl::StatusOr<std::string> info = ExecInfoJson(config_, cluster_);
  if (!info.ok()) return info.status();
  SetEnv(env, kExecInfoEnv, *info);

  ++runs_;
  absl::StatusOr<ProcessResult> result =
      RunProcess(config_.command, *path, config_.args, env, options_);
  if (!result.ok()) return result.status();
  if (!result->exited) {
    return absl::UnavailableError(absl::StrCat("exec: executable ", config_.command,
                                               " was killed by signal ", result->signal));
  }
  if (result->exit_code != 0) {
    return absl::UnavailableError(absl::StrCat("exec: executable ", config_.command,
                                               " failed with exit code ", result->exit_code));
  }
  absl::StatusOr<ExecCredential> cred =
      ParseExecCredential(result->stdout_data, config_.api_version);
  if (!cred.ok()) {
    return absl::Status(cred.status().code(), absl::StrCat("exec plugin ", config_.command, ": ",
                                                           cred.status().message()));
  }
  cred->generation = ++generation_;
  cached_ = *cred;
  return cred;
}

}  // namespace kslice::client
