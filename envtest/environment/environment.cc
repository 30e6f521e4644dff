#include "envtest/environment/environment.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "client/rest/client.h"
#include "envtest/pki/pki.h"

extern char** environ;

namespace kslice::envtest {
namespace {

bool Executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

absl::Status WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) return absl::InternalError("cannot write " + path);
  chmod(path.c_str(), 0600);
  return absl::OkStatus();
}

absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", argv[0], ": ", strerror(rc)));
  }
  return pid;
}

void Terminate(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return;
    usleep(50 * 1000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

std::string RandomSuffix() {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::random_device rd;
  std::string s;
  for (int i = 0; i < 5; ++i) s.push_back(kAlphabet[rd() % (sizeof(kAlphabet) - 1)]);
  return s;
}

}  // namespace

std::string FindAssets(const std::string& assets_dir) {
  std::string dir = assets_dir;
  if (dir.empty()) {
    const char* env = getenv("KUBEBUILDER_ASSETS");
    if (env != nullptr) dir = env;
  }
  if (dir.empty()) return "";
  if (Executable(dir + "/kube-apiserver") && Executable(dir + "/etcd")) return dir;
  return "";
}

absl::StatusOr<std::unique_ptr<Environment>> Environment::Start(EnvironmentOptions options) {
  std::unique_ptr<Environment> env(new Environment());
  std::string tmpl = (std::filesystem::temp_directory_path() / "kslice-envtest-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create a temporary folder: ", strerror(errno)));
  }
  env->dir_ = tmpl;
  env->kubeconfig_path_ = env->dir_ + "/kubeconfig";
  std::string assets = options.embedded_only ? "" : FindAssets(options.assets_dir);
  if (!assets.empty()) {
    if (absl::Status s = env->StartExternal(assets, options); !s.ok()) return s;
    return env;
  }
  absl::StatusOr<std::unique_ptr<apiserver::EmbeddedServer>> server =
      apiserver::EmbeddedServer::Start(options.embedded);
  if (!server.ok()) return server.status();
  env->embedded_ = std::move(*server);
  env->config_ = env->embedded_->RestConfig();
  env->config_.qps = 1000;
  env->config_.burst = 2000;
  if (absl::Status s = env->embedded_->WriteKubeconfig(env->kubeconfig_path_); !s.ok()) return s;
  return env;
}

absl::Status Environment::StartExternal(const std::string& assets,
                                        const EnvironmentOptions& options) {
  // Certificates: a CA, the serving certificate, and the service-account key.
  absl::StatusOr<pki::KeyPair> ca = pki::GenerateCa("kslice-envtest-ca");
  if (!ca.ok()) return ca.status();
  pki::CertRequest req;
  req.common_name = "kube-apiserver";
  req.dns_names = {"localhost"};
  req.ip_addresses = {"127.0.0.1"};
  absl::StatusOr<pki::KeyPair> serving = pki::IssueCert(*ca, req);
  if (!serving.ok()) return serving.status();
  std::random_device rd;
  std::string token = absl::StrCat("kslice-", rd(), rd(), rd());
  const std::string d = dir_;
  for (auto [name, data] :
       {std::pair<std::string, std::string>{"ca.crt", ca->cert_pem},
        {"apiserver.crt", serving->cert_pem},
        {"apiserver.key", serving->key_pem},
        {"sa.key", serving->key_pem},
        {"sa.pub", serving->cert_pem},
        {"tokens.csv", absl::StrCat(token, ",envtest-admin,envtest-admin,\"system:masters\"\n")}}) {
    if (absl::Status s = WriteFile(d + "/" + name, data); !s.ok()) return s;
  }
  mkdir((d + "/etcd").c_str(), 0700);
  const int etcd_port = FreePort(), peer_port = FreePort(), api_port = FreePort();
  if (etcd_port == 0 || peer_port == 0 || api_port == 0) {
    return absl::UnavailableError("no free local ports for etcd and kube-apiserver");
  }
  const std::string etcd_url = absl::StrCat("http://127.0.0.1:", etcd_port);
  absl::StatusOr<pid_t> etcd = Spawn(
      {assets + "/etcd", "--data-dir=" + d + "/etcd", "--listen-client-urls=" + etcd_url,
       "--advertise-client-urls=" + etcd_url,
       absl::StrCat("--listen-peer-urls=http://127.0.0.1:", peer_port),
       absl::StrCat("--initial-advertise-peer-urls=http://127.0.0.1:", peer_port),
       absl::StrCat("--initial-cluster=default=http://127.0.0.1:", peer_port),
       "--unsafe-no-fsync=true"},
      d + "/etcd.log");
  if (!etcd.ok()) return etcd.status();
  processes_.push_back(*etcd);
  absl::StatusOr<pid_t> api = Spawn(
      {assets + "/kube-apiserver", "--etcd-servers=" + etcd_url, "--bind-address=127.0.0.1",
       absl::StrCat("--secure-port=", api_port), "--cert-dir=" + d,
       "--tls-cert-file=" + d + "/apiserver.crt", "--tls-private-key-file=" + d + "/apiserver.key",
       "--token-auth-file=" + d + "/tokens.csv", "--authorization-mode=RBAC",
       "--service-cluster-ip-range=10.96.0.0/12", "--allow-privileged=true",
       "--service-account-issuer=https://localhost",
       "--service-account-key-file=" + d + "/apiserver.crt",
       "--service-account-signing-key-file=" + d + "/apiserver.key",
       "--disable-admission-plugins=ServiceAccount"},
      d + "/kube-apiserver.log");
  if (!api.ok()) return api.status();
  processes_.push_back(*api);
  config_.host = absl::StrCat("https://127.0.0.1:", api_port);
  config_.tls.ca_data = ca->cert_pem;
  config_.bearer_token = token;
  config_.qps = 1000;
  config_.burst = 2000;
  std::string kubeconfig = absl::StrCat(
      "apiVersion: v1\nkind: Config\nclusters:\n- name: envtest\n  cluster:\n    server: ",
      config_.host, "\n    certificate-authority-data: ", absl::Base64Escape(ca->cert_pem),
      "\ncontexts:\n- name: envtest\n  context: {cluster: envtest, user: envtest}\n"
      "current-context: envtest\nusers:\n- name: envtest\n  user:\n    token: ",
      token, "\n");
  if (absl::Status s = WriteFile(kubeconfig_path_, kubeconfig); !s.ok()) return s;
  if (absl::Status s = WaitReady(options.start_timeout); !s.ok()) {
    return absl::UnavailableError(absl::StrCat(s.message(), " (logs in ", d, ")"));
  }
  return absl::OkStatus();
}

absl::Status Environment::WaitReady(absl::Duration timeout) {
  absl::StatusOr<std::unique_ptr<client::RestClient>> c = client::RestClient::Create(config_);
  if (!c.ok()) return c.status();
  absl::Time deadline = absl::Now() + timeout;
  absl::Status last;
  while (absl::Now() < deadline) {
    absl::StatusOr<client::Response> r = (*c)->Send("GET", "/readyz");
    if (r.ok()) return absl::OkStatus();
    last = r.status();
    for (pid_t pid : processes_) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        return absl::UnavailableError("a server process exited while starting");
      }
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("kube-apiserver not ready in time: ", last.message()));
}

Environment::~Environment() { Stop(); }

void Environment::Stop() {
  if (embedded_) embedded_->Stop();
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) Terminate(*it);
  processes_.clear();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

absl::StatusOr<std::string> Environment::CreateNamespace(const std::string& prefix) {
  absl::StatusOr<std::unique_ptr<client::RestClient>> c = client::RestClient::Create(config_);
  if (!c.ok()) return c.status();
  for (int attempt = 0; attempt < 5; ++attempt) {
    api::core::v1::Namespace ns;
    ns.mutable_metadata()->set_name(prefix + RandomSuffix());
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> r = (*c)->Create(ns);
    if (r.ok()) return ns.metadata().name();
    if (r.status().code() != absl::StatusCode::kAlreadyExists) return r.status();
  }
  return absl::AlreadyExistsError("no free namespace name for prefix " + prefix);
}

}  // namespace kslice::envtest
