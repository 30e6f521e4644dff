#include "proxy/grpc/server.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/server_credentials.h"
#include "proxy/grpc/proxy_state.grpc.pb.h"

namespace kslice::proxy::grpc {
namespace {

// "unix:/abs" or "unix:///abs" -> "/abs"; "" for other addresses.
std::string UnixPath(const std::string& listen) {
  if (absl::StartsWith(listen, "unix://")) return listen.substr(strlen("unix://"));
  if (absl::StartsWith(listen, "unix:")) return listen.substr(strlen("unix:"));
  return "";
}

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", what, " ", path, ": ", strerror(errno)));
  }
  std::stringstream ss;
  ss << f.rdbuf();
  if (ss.str().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, " is empty"));
  }
  return ss.str();
}

::grpc::Status ToGrpc(const absl::Status& s) {
  return ::grpc::Status(static_cast<::grpc::StatusCode>(s.code()), std::string(s.message()));
}

}  // namespace

absl::Status RemoveStaleUnixSocket(const std::string& listen) {
  const std::string path = UnixPath(listen);
  if (path.empty()) return absl::OkStatus();
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a unix socket; not removing it"));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("unix socket path too long: ", path));
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  const int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  const int err = errno;
  close(fd);
  if (rc == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("another server is listening on ", path));
  }
  if (err != ECONNREFUSED && err != ENOENT) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot check unix socket ", path, ": ", strerror(err)));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot remove stale socket ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

class StateServer::Service final : public v1::ProxyState::Service {
 public:
  explicit Service(StateServer& server) : server_(server) {}

  ::grpc::Status Watch(::grpc::ServerContext* ctx, const v1::WatchRequest* req,
                       ::grpc::ServerWriter<v1::StateUpdate>* writer) override {
    if (server_.stopping_.load()) {
      return ::grpc::Status(::grpc::StatusCode::UNAVAILABLE, "the server is shutting down");
    }
    absl::StatusOr<std::shared_ptr<Publisher>> pub =
        server_.PublisherFor(static_cast<int>(req->family()), req->node_name());
    if (!pub.ok()) return ToGrpc(pub.status());
    if (server_.active_streams_.fetch_add(1) >= server_.options_.max_clients) {
      server_.active_streams_.fetch_sub(1);
      return ::grpc::Status(::grpc::StatusCode::RESOURCE_EXHAUSTED,
                            absl::StrCat("the server already has ", server_.options_.max_clients,
                                         " Watch streams (grpc.max-clients)"));
    }
    struct Release {
      StateServer& s;
      ::grpc::ServerContext* ctx;
      ~Release() {
        s.active_streams_.fetch_sub(1);
        std::lock_guard<std::mutex> l(s.mu_);
        s.contexts_.erase(ctx);
      }
    } release{server_, ctx};
    {
      std::lock_guard<std::mutex> l(server_.mu_);
      server_.contexts_.insert(ctx);
    }
    absl::StatusOr<std::unique_ptr<Subscription>> sub =
        (*pub)->Subscribe(req->resume_from_version(), req->resume_instance());
    if (!sub.ok()) return ToGrpc(sub.status());
    while (!ctx->IsCancelled()) {
      if (server_.stopping_.load()) break;
      absl::StatusOr<Batch> batch = (*sub)->Next(absl::Milliseconds(100));
      if (!batch.ok()) return ToGrpc(batch.status());
      for (const std::shared_ptr<const v1::StateUpdate>& m : batch->messages) {
        if (!writer->Write(*m)) {
          return ::grpc::Status(::grpc::StatusCode::CANCELLED, "the client went away");
        }
      }
    }
    if (server_.stopping_.load()) {
      return ::grpc::Status(::grpc::StatusCode::UNAVAILABLE, "the server is shutting down");
    }
    return ::grpc::Status(::grpc::StatusCode::CANCELLED, "the stream was cancelled");
  }

 private:
  StateServer& server_;  // owns this service
};

StateServer::StateServer(const StateServerOptions& options) : options_(options) {}

StateServer::~StateServer() { Stop(); }

absl::StatusOr<std::unique_ptr<StateServer>> StateServer::Start(
    const StateServerOptions& options) {
  if (options.max_clients <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("grpc.max-clients must be positive, got ", options.max_clients));
  }
  std::unique_ptr<StateServer> s(new StateServer(options));
  const std::string& listen = options.listen;
  if (absl::StartsWith(listen, "unix:")) {
    s->unix_path_ = UnixPath(listen);
    if (s->unix_path_.empty() || s->unix_path_[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          "grpc.listen \"", listen, "\": a unix socket needs an absolute path, unix:/path"));
    }
    if (s->unix_path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("grpc.listen \"", listen, "\": unix socket path too long"));
    }
  } else {
    const size_t colon = listen.rfind(':');
    int port = -1;
    if (colon == std::string::npos || colon == 0 ||
        !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          "grpc.listen \"", listen, "\": want unix:/path.sock or host:port (port 0..65535)"));
    }
  }

  // Credentials.
  std::shared_ptr<::grpc::ServerCredentials> creds;
  const bool has_cert = !options.tls_cert_file.empty();
  const bool has_key = !options.tls_key_file.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError("grpc.tls-cert and grpc.tls-key must be given together");
  }
  if (!has_cert && !options.tls_client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "grpc.tls-client-ca needs grpc.tls-cert and grpc.tls-key (mutual TLS is TLS)");
  }
  if (has_cert) {
    absl::StatusOr<std::string> cert = ReadFile(options.tls_cert_file, "grpc.tls-cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile(options.tls_key_file, "grpc.tls-key");
    if (!key.ok()) return key.status();
    ::grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!options.tls_client_ca_file.empty()) {
      absl::StatusOr<std::string> ca = ReadFile(options.tls_client_ca_file, "grpc.tls-client-ca");
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
      ssl.client_certificate_request =
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    creds = ::grpc::SslServerCredentials(ssl);
  } else {
    creds = ::grpc::InsecureServerCredentials();
  }

  if (!s->unix_path_.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(s->unix_path_).parent_path(), ec);
    if (ec) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot create the directory of ", s->unix_path_, ": ", ec.message()));
    }
    if (absl::Status st = RemoveStaleUnixSocket(listen); !st.ok()) return st;
  }

  s->service_ = std::make_unique<Service>(*s);
  ::grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, creds, &port);
  builder.RegisterService(s->service_.get());
  builder.SetMaxReceiveMessageSize(1 << 20);  // requests are a few bytes
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  ::grpc::ResourceQuota quota("kslice-proxy-state");
  quota.SetMaxThreads(options.max_clients + 16);
  builder.SetResourceQuota(quota);
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || (s->unix_path_.empty() && port == 0)) {
    s->server_.reset();
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot listen on ", listen, " (address in use, not permitted, or unresolvable)"));
  }
  if (s->unix_path_.empty()) {
    s->address_ = absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port);
  } else {
    s->address_ = "unix:" + s->unix_path_;
  }
  return s;
}

absl::Status StateServer::AddPublisher(std::shared_ptr<Publisher> publisher) {
  std::lock_guard<std::mutex> l(mu_);
  auto [it, inserted] = publishers_.emplace(publisher->family(), publisher);
  if (!inserted && it->second != publisher) {
    return absl::AlreadyExistsError(absl::StrCat("the gRPC server on ", address_,
                                                 " already streams the ",
                                                 IPFamilyName(publisher->family()), " state"));
  }
  return absl::OkStatus();
}

void StateServer::RemovePublisher(const Publisher& publisher) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = publishers_.find(publisher.family());
  if (it != publishers_.end() && it->second.get() == &publisher) publishers_.erase(it);
}

absl::StatusOr<std::shared_ptr<Publisher>> StateServer::PublisherFor(int family,
                                                                     const std::string& node) {
  if (family != v1::IP_FAMILY_UNSPECIFIED && family != v1::IPV4 && family != v1::IPV6) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown family ", family, "; use IPV4, IPV6 or leave it unset"));
  }
  std::lock_guard<std::mutex> l(mu_);
  if (publishers_.empty()) {
    return absl::UnavailableError("the proxy has not published a state yet; retry");
  }
  std::shared_ptr<Publisher> p;
  if (family == v1::IP_FAMILY_UNSPECIFIED) {
    auto it = publishers_.find(IPFamily::kIPv4);
    p = it != publishers_.end() ? it->second : publishers_.begin()->second;
  } else {
    const IPFamily f = family == v1::IPV6 ? IPFamily::kIPv6 : IPFamily::kIPv4;
    auto it = publishers_.find(f);
    if (it == publishers_.end()) {
      std::vector<std::string> served;
      for (const auto& [k, _] : publishers_) served.push_back(IPFamilyName(k));
      return absl::FailedPreconditionError(absl::StrCat("this server streams ",
                                                        absl::StrJoin(served, " and "),
                                                        " only, not ", IPFamilyName(f)));
    }
    p = it->second;
  }
  if (!node.empty() && node != p->node_name()) {
    return absl::NotFoundError(absl::StrCat("this server streams the state of node \"",
                                            p->node_name(), "\", not \"", node, "\""));
  }
  return p;
}

void StateServer::CancelStreams() {
  std::lock_guard<std::mutex> l(mu_);
  for (::grpc::ServerContext* ctx : contexts_) ctx->TryCancel();
}

void StateServer::Stop() {
  std::call_once(stopped_, [this] {
    stopping_.store(true);
    if (server_ != nullptr) {
      {
        std::lock_guard<std::mutex> l(mu_);
        for (::grpc::ServerContext* ctx : contexts_) ctx->TryCancel();
      }
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
      server_->Wait();
      server_.reset();
      // Only a server that bound the socket removes it (a failed start must not remove
      // another server's socket).
      if (!unix_path_.empty()) unlink(unix_path_.c_str());
    }
  });
}

absl::StatusOr<std::shared_ptr<StateServer>> AcquireStateServer(
    const StateServerOptions& options) {
  static std::mutex* mu = new std::mutex;
  static auto* servers = new std::map<std::string, std::weak_ptr<StateServer>>;
  std::lock_guard<std::mutex> l(*mu);
  auto it = servers->find(options.listen);
  if (it != servers->end()) {
    if (std::shared_ptr<StateServer> s = it->second.lock()) {
      const StateServerOptions& o = s->options();
      if (o.tls_cert_file != options.tls_cert_file || o.tls_key_file != options.tls_key_file ||
          o.tls_client_ca_file != options.tls_client_ca_file ||
          o.max_clients != options.max_clients) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the gRPC server on ", options.listen,
            " already runs in this process with other TLS or client settings"));
      }
      return s;
    }
  }
  absl::StatusOr<std::unique_ptr<StateServer>> s = StateServer::Start(options);
  if (!s.ok()) return s.status();
  std::shared_ptr<StateServer> shared(std::move(*s));
  (*servers)[options.listen] = shared;
  return shared;
}

}  // namespace kslice::proxy::grpc
