// kslice-apiserver as a library: the API server, its HTTPS front, certificates, a
// token and a kubeconfig, in one object. The binary (cmd/kslice-apiserver) and the
// envtest harness (envtest/environment.h) are thin layers over it.
//
//   EmbeddedServerOptions o;                 // HTTPS on 127.0.0.1, a free port
//   auto server = EmbeddedServer::Start(o);
//   client::RestConfig config = (*server)->RestConfig();
//   (*server)->WriteKubeconfig("/tmp/kubeconfig");
#ifndef KSLICE_ENVTEST_APISERVER_EMBEDDED_H_
#define KSLICE_ENVTEST_APISERVER_EMBEDDED_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/config/rest_config.h"
#include "envtest/apiserver/apiserver.h"
#include "envtest/apiserver/http_server.h"
#include "envtest/storage/file_persistence.h"

namespace kslice::envtest::apiserver {

struct EmbeddedServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;  // 0: a free port
  // Plain HTTP (only allowed on a loopback address).
  bool insecure = false;
  // Where the CA and serving certificate live: reused when present, generated and
  // written otherwise. Empty: generated in memory.
  std::string cert_dir;
  // Keeps objects across restarts (FilePersistence). Empty: memory only.
  std::string data_dir;
  // The bearer token clients must send. Empty: a random one. Authentication cannot
  // be turned off on HTTPS; plain HTTP accepts anyone.
  std::string token;
  std::string service_cluster_ip_range = "10.96.0.0/12";
  int node_port_first = 30000;
  int node_port_last = 32767;
  absl::Duration min_request_timeout = absl::Seconds(1800);
  bool run_controllers = true;
  int io_threads = 2;
  int worker_threads = 8;
  // Store settings other than persistence and registry (history, bookmarks, clock).
  storage::StoreOptions store{};
};

class EmbeddedServer {
 public:
  static absl::StatusOr<std::unique_ptr<EmbeddedServer>> Start(EmbeddedServerOptions options);
  ~EmbeddedServer();
  EmbeddedServer(const EmbeddedServer&) = delete;
  EmbeddedServer& operator=(const EmbeddedServer&) = delete;

  // https://127.0.0.1:PORT
  std::string url() const { return http_->url(); }
  const std::string& token() const { return token_; }
  const std::string& ca_pem() const { return ca_pem_; }
  // A client configuration for this server (token auth, the CA pinned).
  client::RestConfig RestConfig() const;
  // kubeconfig YAML with one cluster/user/context named "kslice".
  std::string Kubeconfig() const;
  // Writes it with mode 0600.
  absl::Status WriteKubeconfig(const std::string& path) const;

  APIServer& api() { return *api_; }
  HttpServer& http() { return *http_; }
  // Stops serving (idempotent); the destructor does it too.
  void Stop();

 private:
  EmbeddedServer() = default;
  EmbeddedServerOptions options_;
  std::string token_, ca_pem_;
  std::unique_ptr<storage::FilePersistence> persistence_;
  std::unique_ptr<APIServer> api_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace kslice::envtest::apiserver

#endif  // KSLICE_ENVTEST_APISERVER_EMBEDDED_H_
