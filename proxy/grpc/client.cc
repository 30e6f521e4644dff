#include "proxy/grpc/client.h"

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/credentials.h"
#include "proxy/grpc/proxy_state.grpc.pb.h"

namespace kslice::proxy::grpc {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  if (!f || !(ss << f.rdbuf()) || ss.str().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read ", what, " ", path));
  }
  return ss.str();
}

absl::Status FromGrpc(const ::grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

bool Permanent(absl::StatusCode code) {
  return code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kNotFound ||
         code == absl::StatusCode::kUnimplemented;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WatchClient>> WatchClient::Create(WatchClientOptions options) {
  if (options.target.empty()) return absl::InvalidArgumentError("no server address");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("the client certificate and key go together");
  }
  if (options.tls_ca_file.empty() && !options.tls_cert_file.empty()) {
    return absl::InvalidArgumentError("a client certificate needs TLS (a CA file)");
  }
  std::shared_ptr<::grpc::ChannelCredentials> creds;
  ::grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.backoff_initial)));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.backoff_max)));
  if (!options.tls_ca_file.empty()) {
    ::grpc::SslCredentialsOptions ssl;
    absl::StatusOr<std::string> ca = ReadPem(options.tls_ca_file, "CA file");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
    if (!options.tls_cert_file.empty()) {
      absl::StatusOr<std::string> cert = ReadPem(options.tls_cert_file, "client certificate");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPem(options.tls_key_file, "client key");
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    creds = ::grpc::SslCredentials(ssl);
    if (!options.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(options.tls_server_name);
    }
  } else {
    creds = ::grpc::InsecureChannelCredentials();
  }
  std::unique_ptr<WatchClient> c(new WatchClient(std::move(options)));
  c->channel_ = ::grpc::CreateCustomChannel(c->options_.target, creds, args);
  return c;
}

WatchClient::~WatchClient() = default;

absl::Status WatchClient::RunStream(std::stop_token stop, const UpdateCallback& on_update,
                                    bool* progressed) {
  v1::WatchRequest req;
  req.set_node_name(options_.node_name);
  if (options_.family.has_value()) req.set_family(ToProto(*options_.family));
  if (replica_.version() > 0) {
    req.set_resume_from_version(replica_.version());
    req.set_resume_instance(replica_.instance());
  }
  ::grpc::ClientContext ctx;
  std::stop_callback cancel(stop, [&ctx] { ctx.TryCancel(); });
  v1::ProxyState::Stub stub(channel_);
  std::unique_ptr<::grpc::ClientReader<v1::StateUpdate>> reader = stub.Watch(&ctx, req);
  ++connects_;
  v1::StateUpdate msg;
  absl::Status chain_error;
  while (reader->Read(&msg)) {
    absl::StatusOr<std::optional<AppliedUpdate>> r = replica_.Apply(msg);
    if (!r.ok()) {  // the replica reset itself: the next stream asks for a snapshot
      chain_error = r.status();
      ctx.TryCancel();
      break;
    }
    if (r->has_value()) {
      *progressed = true;
      ++updates_;
      on_update(replica_.state(), **r);
    }
  }
  absl::Status s = FromGrpc(reader->Finish());
  if (stop.stop_requested()) return absl::OkStatus();
  if (!chain_error.ok()) {
    return absl::AbortedError(absl::StrCat("stream inconsistent: ", chain_error.message()));
  }
  if (s.ok()) return absl::UnavailableError("the server ended the stream");
  return s;
}

absl::Status WatchClient::Run(std::stop_token stop, const UpdateCallback& on_update) {
  absl::Duration backoff = options_.backoff_initial;
  std::mutex mu;
  std::condition_variable_any cv;
  while (!stop.stop_requested()) {
    bool progressed = false;
    absl::Status s = RunStream(stop, on_update, &progressed);
    if (stop.stop_requested()) return absl::OkStatus();
    if (Permanent(s.code())) return s;
    if (options_.on_stream_end) options_.on_stream_end(s);
    if (progressed) backoff = options_.backoff_initial;
    std::unique_lock<std::mutex> l(mu);
    cv.wait_for(l, stop, absl::ToChronoNanoseconds(backoff), [] { return false; });
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
  return absl::OkStatus();
}

}  // namespace kslice::proxy::grpc
