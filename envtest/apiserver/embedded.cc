#include "envtest/apiserver/embedded.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "envtest/apiserver/wiring.h"
#include "envtest/pki/pki.h"

namespace kslice::envtest::apiserver {
namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

absl::Status WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      close(fd);
      return absl::InternalError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
    }
    off += static_cast<size_t>(n);
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

std::string RandomToken() {
  std::random_device rd;
  std::string raw(24, '\0');
  for (char& c : raw) c = static_cast<char>(rd() & 0xff);
  std::string out;
  absl::WebSafeBase64Escape(raw, &out);
  return out;
}

bool IsLoopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address == "localhost" ||
         address.rfind("127.", 0) == 0;
}

// The CA and serving pair: from cert_dir when both exist there, else new.
absl::Status LoadOrCreateCerts(const EmbeddedServerOptions& o, pki::KeyPair* ca,
                               pki::KeyPair* serving) {
  std::string dir = o.cert_dir;
  if (!dir.empty()) {
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", strerror(errno)));
    }
    if (ReadFile(dir + "/ca.crt", &ca->cert_pem) && ReadFile(dir + "/ca.key", &ca->key_pem) &&
        ReadFile(dir + "/apiserver.crt", &serving->cert_pem) &&
        ReadFile(dir + "/apiserver.key", &serving->key_pem)) {
      return absl::OkStatus();
    }
  }
  absl::StatusOr<pki::KeyPair> new_ca = pki::GenerateCa("kslice-ca");
  if (!new_ca.ok()) return new_ca.status();
  pki::CertRequest req;
  req.common_name = "kslice-apiserver";
  req.dns_names = {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                   "kubernetes.default.svc.cluster.local"};
  req.ip_addresses = {"127.0.0.1", "::1"};
  if (o.address != "127.0.0.1" && o.address != "::1" && o.address != "0.0.0.0" &&
      o.address != "::" && o.address != "localhost") {
    req.ip_addresses.push_back(o.address);
  }
  req.usage = pki::CertUsage::kServer;
  absl::StatusOr<pki::KeyPair> leaf = pki::IssueCert(*new_ca, req);
  if (!leaf.ok()) return leaf.status();
  *ca = *std::move(new_ca);
  *serving = *std::move(leaf);
  if (!dir.empty()) {
    for (auto [name, data] : {std::pair<const char*, const std::string*>{"ca.crt", &ca->cert_pem},
                              {"ca.key", &ca->key_pem},
                              {"apiserver.crt", &serving->cert_pem},
                              {"apiserver.key", &serving->key_pem}}) {
      if (absl::Status s = WriteFile(dir + "/" + name, *data, 0600); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<EmbeddedServer>> EmbeddedServer::Start(
    EmbeddedServerOptions options) {
  std::unique_ptr<EmbeddedServer> s(new EmbeddedServer());
  if (options.insecure && !IsLoopback(options.address)) {
    return absl::InvalidArgumentError(
        absl::StrCat("plain HTTP is only served on a loopback address, not ", options.address));
  }
  s->options_ = options;
  s->token_ = options.token.empty() ? RandomToken() : options.token;
  pki::KeyPair ca, serving;
  if (!options.insecure) {
    if (absl::Status st = LoadOrCreateCerts(options, &ca, &serving); !st.ok()) return st;
    s->ca_pem_ = ca.cert_pem;
  }
  ServerOptions so;
  so.service_cluster_ip_range = options.service_cluster_ip_range;
  so.node_port_first = options.node_port_first;
  so.node_port_last = options.node_port_last;
  so.min_request_timeout = options.min_request_timeout;
  so.run_controllers = options.run_controllers;
  if (!options.insecure) so.tokens = {s->token_};
  so.store = options.store;
  if (!options.data_dir.empty()) {
    const storage::ResourceRegistry& registry = so.store.registry != nullptr
                                                    ? *so.store.registry
                                                    : storage::ResourceRegistry::Builtin();
    absl::StatusOr<std::unique_ptr<storage::FilePersistence>> p =
        storage::FilePersistence::Open(options.data_dir, registry);
    if (!p.ok()) return p.status();
    s->persistence_ = std::move(*p);
    so.store.persistence = s->persistence_.get();
  }
  // Listen first so the advertised address has the real port.
  HttpServerOptions ho;
  ho.address = options.address;
  ho.port = options.port;
  ho.tls = !options.insecure;
  ho.cert_pem = serving.cert_pem;
  ho.key_pem = serving.key_pem;
  ho.io_threads = options.io_threads;
  ho.worker_threads = options.worker_threads;
  // The HTTP server needs the APIServer; create the APIServer with a placeholder
  // address, which only the discovery document's serverAddressByClientCIDRs uses.
  std::string advertise = absl::StrCat(options.address, ":", options.port);
  if (absl::Status st = InstallStandardHooks(&so, advertise); !st.ok()) return st;
  absl::StatusOr<std::unique_ptr<APIServer>> api = APIServer::Create(std::move(so));
  if (!api.ok()) return api.status();
  s->api_ = std::move(*api);
  absl::StatusOr<std::unique_ptr<HttpServer>> http = HttpServer::Start(s->api_.get(), ho);
  if (!http.ok()) return http.status();
  s->http_ = std::move(*http);
  return s;
}

EmbeddedServer::~EmbeddedServer() { Stop(); }

void EmbeddedServer::Stop() {
  if (http_) http_->Stop();
}

client::RestConfig EmbeddedServer::RestConfig() const {
  client::RestConfig c;
  c.host = url();
  c.tls.ca_data = ca_pem_;
  if (!options_.insecure) c.bearer_token = token_;
  return c;
}

std::string EmbeddedServer::Kubeconfig() const {
  std::string cluster = absl::StrCat("    server: ", url(), "\n");
  if (!ca_pem_.empty()) {
    absl::StrAppend(&cluster, "    certificate-authority-data: ", absl::Base64Escape(ca_pem_),
                    "\n");
  }
  std::string user = options_.insecure ? "  user: {}\n" : absl::StrCat("  user:\n    token: ", token_, "\n");
  return absl::StrCat("apiVersion: v1\nkind: Config\nclusters:\n- name: kslice\n  cluster:\n",
                      cluster,
                      "contexts:\n- name: kslice\n  context:\n    cluster: kslice\n"
                      "    user: kslice-admin\n    namespace: default\n"
                      "current-context: kslice\nusers:\n- name: kslice-admin\n",
                      user, "preferences: {}\n");
}

absl::Status EmbeddedServer::WriteKubeconfig(const std::string& path) const {
  return WriteFile(path, Kubeconfig(), 0600);
}

}  // namespace kslice::envtest::apiserver
