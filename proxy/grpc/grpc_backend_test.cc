// The grpc backend over real gRPC on unix sockets (and TCP for TLS) in a temp dir.
#include "proxy/grpc/grpc_backend.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "envtest/pki/pki.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proxy/grpc/client.h"
#include "proxy/grpc/proxy_state.grpc.pb.h"
#include "proxy/grpc/test_states.h"
#include "proxy/metrics.h"

namespace kslice::proxy::grpc {
namespace {

using testing::BigState;
using testing::Churn;
using testing::SameContent;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kslice-grpc-XXXXXX";  // short: unix socket paths are limited
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<GrpcBackend> NewGrpcBackend(const std::string& listen,
                                            std::map<std::string, std::string> extra = {},
                                            IPFamily family = IPFamily::kIPv4,
                                            controller::metrics::Registry* registry = nullptr) {
  BackendOptions o;
  o.node_name = "node-a";
  o.family = family;
  o.extra = std::move(extra);
  o.extra["grpc.listen"] = listen;
  absl::StatusOr<GrpcBackendOptions> g = GrpcBackendOptionsFrom(o);
  EXPECT_TRUE(g.ok()) << g.status();
  g->registry = registry;
  absl::StatusOr<std::unique_ptr<GrpcBackend>> b = GrpcBackend::Create(*g);
  EXPECT_TRUE(b.ok()) << b.status();
  return std::move(*b);
}

std::shared_ptr<::grpc::Channel> Channel(const std::string& target) {
  return ::grpc::CreateChannel(target, ::grpc::InsecureChannelCredentials());
}

// A WatchClient on its own thread, keeping the last state it got.
class Follower {
 public:
  explicit Follower(WatchClientOptions o) {
    o.backoff_initial = absl::Milliseconds(20);
    o.backoff_max = absl::Milliseconds(200);
    auto c = WatchClient::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
    thread_ = std::jthread([this](std::stop_token st) {
      result_ = client_->Run(st, [this](const ProxyState& s, const AppliedUpdate& u) {
        std::lock_guard<std::mutex> l(mu_);
        state_ = s;
        (u.snapshot ? snapshots_ : deltas_)++;
      });
    });
  }
  ~Follower() { Stop(); }
  void Stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }
  // Waits until the follower has `version`.
  bool WaitFor(uint64_t version, absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time end = absl::Now() + timeout;
    while (absl::Now() < end) {
      {
        std::lock_guard<std::mutex> l(mu_);
        if (state_.version == version) return true;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }
  ProxyState state() {
    std::lock_guard<std::mutex> l(mu_);
    return state_;
  }
  int snapshots() {
    std::lock_guard<std::mutex> l(mu_);
    return snapshots_;
  }
  int deltas() {
    std::lock_guard<std::mutex> l(mu_);
    return deltas_;
  }
  WatchClient& client() { return *client_; }
  absl::Status result() const { return result_; }

 private:
  std::unique_ptr<WatchClient> client_;
  std::mutex mu_;
  ProxyState state_;
  int snapshots_ = 0;
  int deltas_ = 0;
  absl::Status result_;
  std::jthread thread_;
};

// Reads one stream by hand.
struct RawStream {
  RawStream(const std::shared_ptr<::grpc::Channel>& channel, const v1::WatchRequest& req)
      : stub(channel) {
    reader = stub.Watch(&ctx, req);
  }
  // Reads the messages of one complete update into the replica.
  absl::StatusOr<AppliedUpdate> ReadUpdate(std::vector<v1::StateUpdate>* raw = nullptr) {
    v1::StateUpdate m;
    while (reader->Read(&m)) {
      if (raw) raw->push_back(m);
      absl::StatusOr<std::optional<AppliedUpdate>> a = replica.Apply(m);
      if (!a.ok()) return a.status();
      if (a->has_value()) return **a;
    }
    ::grpc::Status s = reader->Finish();
    finished = true;
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  ~RawStream() {
    if (!finished) {
      ctx.TryCancel();
      reader->Finish();
    }
  }
  v1::ProxyState::Stub stub;
  ::grpc::ClientContext ctx;
  std::unique_ptr<::grpc::ClientReader<v1::StateUpdate>> reader;
  StateReplica replica;
  bool finished = false;
};

SyncHint Full() { return SyncHint{}; }

class GrpcBackendTest : public ::testing::Test {
 protected:
  std::string Listen(const std::string& name = "state.sock") {
    return "unix:" + dir_.path() + "/" + name;
  }
  TempDir dir_;
};

TEST_F(GrpcBackendTest, RegisteredAsGrpc) {
  BackendOptions o;
  o.node_name = "node-a";
  o.extra["grpc.listen"] = Listen();
  o.extra["iptables.node-ip"] = "10.0.0.1";  // another backend's key: ignored
  absl::StatusOr<std::unique_ptr<Backend>> b = NewBackend("grpc", o);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->name(), "grpc");
  ASSERT_TRUE((*b)->Sync(BigState(2, 1), Full()).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/state.sock"));
  ASSERT_TRUE((*b)->Cleanup().ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/state.sock"));
}

// Through the registry, the backend's families land on the proxy's metrics registry
// (what kslice-proxy serves on /metrics).
TEST_F(GrpcBackendTest, RegisteredBackendExportsOnTheProxyRegistry) {
  controller::metrics::Registry registry;
  absl::StatusOr<std::unique_ptr<ProxyMetrics>> metrics = ProxyMetrics::Create(registry);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  BackendOptions o;
  o.node_name = "node-a";
  o.extra["grpc.listen"] = Listen();
  o.metrics = metrics->get();
  absl::StatusOr<std::unique_ptr<Backend>> b = NewBackend("grpc", o);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE((*b)->Sync(BigState(2, 1), Full()).ok());
  std::string text = registry.Expose();
  EXPECT_TRUE(absl::StrContains(text, "kslice_proxy_grpc_updates_sent_total")) << text;
  EXPECT_TRUE(absl::StrContains(text, "kubeproxy_sync_proxy_rules_duration_seconds")) << text;
  ASSERT_TRUE((*b)->Cleanup().ok());
}

TEST_F(GrpcBackendTest, OptionErrors) {
  auto err = [](std::map<std::string, std::string> extra) {
    BackendOptions o;
    o.node_name = "n";
    o.extra = std::move(extra);
    absl::StatusOr<std::unique_ptr<Backend>> b = NewBackend("grpc", o);
    return b.ok() ? std::string("ok") : std::string(b.status().message());
  };
  EXPECT_TRUE(absl::StrContains(err({{"grpc.lisen", "x"}}), "unknown grpc backend option"));
  EXPECT_TRUE(absl::StrContains(err({{"grpc.queue-limit", "0"}}), "grpc.queue-limit"));
  EXPECT_TRUE(absl::StrContains(err({{"grpc.history", "lots"}}), "grpc.history"));
  EXPECT_TRUE(absl::StrContains(err({{"grpc.tls-cert", "/x"}}), "together"));
  EXPECT_TRUE(absl::StrContains(err({{"grpc.tls-client-ca", "/x"}}), "grpc.tls-cert"));
  EXPECT_TRUE(absl::StrContains(err({{"grpc.listen", ""}}), "empty"));
  BackendOptions nameless;
  EXPECT_FALSE(NewBackend("grpc", nameless).ok());

  // Address errors surface on the first Sync, with a message naming the address.
  for (const char* bad : {"unix:relative.sock", "localhost", "127.0.0.1:99999", ":x"}) {
    std::unique_ptr<GrpcBackend> b = NewGrpcBackend(bad);
    absl::Status s = b->Sync(BigState(1, 1), Full());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad << ": " << s;
    EXPECT_TRUE(absl::StrContains(s.message(), bad)) << s;
  }
  std::unique_ptr<GrpcBackend> missing_tls =
      NewGrpcBackend(Listen(), {{"grpc.tls-cert", "/nonexistent.pem"},
                                {"grpc.tls-key", "/nonexistent.key"}});
  absl::Status s = missing_tls->Sync(BigState(1, 1), Full());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "/nonexistent.pem")) << s;
}

TEST_F(GrpcBackendTest, DryRunPrintsState) {
  BackendOptions o;
  o.node_name = "node-a";
  o.dry_run = true;
  std::ostringstream out;
  o.dry_run_output = &out;
  absl::StatusOr<std::unique_ptr<Backend>> b = NewBackend("grpc", o);
  ASSERT_TRUE(b.ok());
  ProxyState s = BigState(3, 2);
  ASSERT_TRUE((*b)->Sync(s, Full()).ok());
  EXPECT_EQ(out.str(), FormatState(s));
}

// The property over the wire: several clients (one joining late) follow random churn
// and end with exactly the in-process state.
TEST_F(GrpcBackendTest, RandomChurnClientsEqualState) {
  std::unique_ptr<GrpcBackend> b = NewGrpcBackend(Listen());
  ProxyState state = BigState(30, 3);
  ASSERT_TRUE(b->Sync(state, Full()).ok());
  std::vector<std::unique_ptr<Follower>> followers;
  for (int i = 0; i < 3; ++i) {
    followers.push_back(std::make_unique<Follower>(WatchClientOptions{.target = Listen()}));
  }
  Churn churn(20261127);
  for (int step = 0; step < 400; ++step) {
    SyncHint hint;
    state = churn.Next(state, 1 + step % 5, &hint);
    const absl::Time start = absl::Now();
    ASSERT_TRUE(b->Sync(state, hint).ok());
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
    if (step == 200) {
      followers.push_back(std::make_unique<Follower>(
          WatchClientOptions{.target = Listen(), .node_name = "node-a"}));
    }
  }
  for (auto& f : followers) {
    ASSERT_TRUE(f->WaitFor(state.version)) << "stuck at " << f->state().version;
    std::string why;
    EXPECT_TRUE(SameContent(state, f->state(), &why)) << why;
    EXPECT_EQ(FormatState(state), FormatState(f->state()));
    EXPECT_EQ(f->client().connects(), 1);
  }
  PublisherStats st = b->publisher().stats();
  EXPECT_EQ(st.subscribers, 4);
  EXPECT_EQ(st.published, 401);
}

TEST_F(GrpcBackendTest, ResumeFromVersionGetsDeltas) {
  std::unique_ptr<GrpcBackend> b = NewGrpcBackend(Listen());
  Churn churn(5);
  ProxyState state = BigState(20, 2);
  ASSERT_TRUE(b->Sync(state, Full()).ok());
  uint64_t seen;
  std::string instance;
  {
    RawStream first(Channel(Listen()), v1::WatchRequest{});
    absl::StatusOr<AppliedUpdate> u = first.ReadUpdate();
    ASSERT_TRUE(u.ok()) << u.status();
    EXPECT_TRUE(u->snapshot);
    seen = first.replica.version();
    instance = first.replica.instance();
    // The client disconnects; the proxy moves on.
  }
  for (int i = 0; i < 5; ++i) {
    SyncHint hint;
    state = churn.Next(state, 3, &hint);
    ASSERT_TRUE(b->Sync(state, hint).ok());
  }
  v1::WatchRequest req;
  req.set_resume_from_version(seen);
  req.set_resume_instance(instance);
  RawStream resumed(Channel(Listen()), req);
  // Only deltas, chained from the client's version to the current one.
  v1::StateUpdate m;
  uint64_t expect_prev = seen;
  while (expect_prev < state.version && resumed.reader->Read(&m)) {
    ASSERT_TRUE(m.has_delta()) << "got a snapshot instead of deltas";
    EXPECT_EQ(m.instance(), instance);
    EXPECT_EQ(m.delta().previous_version(), expect_prev);
    if (!m.delta().more()) expect_prev = m.delta().version();
  }
  EXPECT_EQ(expect_prev, state.version);
  EXPECT_EQ(b->publisher().stats().resumed, 1);
}

// WatchClient's own reconnect: streams cut by the server are resumed with deltas, not
// a new snapshot.
TEST_F(GrpcBackendTest, WatchClientReconnectsAndResumes) {
  controller::metrics::Registry registry;
  std::unique_ptr<GrpcBackend> b = NewGrpcBackend(Listen(), {}, IPFamily::kIPv4, &registry);
  Churn churn(15);
  ProxyState state = BigState(50, 3);
  ASSERT_TRUE(b->Sync(state, Full()).ok());
  Follower f(WatchClientOptions{.target = Listen()});
  ASSERT_TRUE(f.WaitFor(state.version));
  absl::StatusOr<std::shared_ptr<StateServer>> server =
      AcquireStateServer(StateServerOptions{.listen = Listen()});
  ASSERT_TRUE(server.ok()) << server.status();
  for (int round = 0; round < 3; ++round) {
    (*server)->CancelStreams();
    for (int i = 0; i < 4; ++i) {
      SyncHint hint;
      state = churn.Next(state, 3, &hint);
      ASSERT_TRUE(b->Sync(state, hint).ok());
    }
    ASSERT_TRUE(f.WaitFor(state.version));
  }
  std::string why;
  EXPECT_TRUE(SameContent(state, f.state(), &why)) << why;
  EXPECT_EQ(f.client().connects(), 4);
  EXPECT_EQ(f.snapshots(), 1);  // only the first: every reconnect resumed
  EXPECT_EQ(b->publisher().stats().resumed, 3);
  const std::string text = registry.Expose();
  EXPECT_TRUE(absl::StrContains(text, "kslice_proxy_grpc_clients{ip_family=\"IPv4\"} 1\n"))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text, "kslice_proxy_grpc_resumes_total{ip_family=\"IPv4\",result=\"delta\"} 3\n"))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text, "kslice_proxy_grpc_snapshots_sent_total{ip_family=\"IPv4\"} 1\n"))
      << text;
  // 1 snapshot + 12 deltas at least; a delta taken by a stream just as it was cut is
  // counted and then sent again on the resumed stream.
  const std::string sent_key = "kslice_proxy_grpc_updates_sent_total{ip_family=\"IPv4\"} ";
  const size_t at = text.find(sent_key);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_GE(std::stoi(text.substr(at + sent_key.size())), 13) << text;
}

TEST_F(GrpcBackendTest, ResumeTooOldOrOtherInstanceGetsSnapshot) {
  std::unique_ptr<GrpcBackend> b = NewGrpcBackend(Listen(), {{"grpc.history", "2"}});
  Churn churn(6);
  ProxyState state = BigState(10, 2);
  ASSERT_TRUE(b->Sync(state, Full()).ok());
  const std::string instance = b->publisher().instance();
  for (int i = 0; i < 6; ++i) {
    SyncHint hint;
    state = churn.Next(state, 2, &hint);
    ASSERT_TRUE(b->Sync(state, hint).ok());
  }
  for (const auto& [version, inst] : std::vector<std::pair<uint64_t, std::string>>{
           {1, instance}, {state.version - 1, "someone-else"}}) {
    v1::WatchRequest req;
    req.set_resume_from_version(version);
    req.set_resume_instance(inst);
    RawStream s(Channel(Listen()), req);
    absl::StatusOr<AppliedUpdate> u = s.ReadUpdate();
    ASSERT_TRUE(u.ok()) << u.status();
    EXPECT_TRUE(u->snapshot) << version;
    EXPECT_EQ(u->version, state.version);
    std::string why;
    EXPECT_TRUE(SameContent(state, s.replica.state(), &why)) << why;
  }
  EXPECT_EQ(b->publisher().stats().resume_misses, 2);
  // Within the history: deltas.
  v1::WatchRequest req;
  req.set_resume_from_version(state.version - 2);
  req.set_resume_instance(instance);
  RawStream s(Channel(Listen()), req);
  v1::StateUpdate m;
  ASSERT_TRUE(s.reader->Read(&m));
  EXPECT_TRUE(m.has_delta());
}

TEST_F(GrpcBackendTest, VersionResetStartsNewInstance) {
  std::unique_ptr<GrpcBackend> b = NewGrpcBackend(Listen());
  ProxyState s = BigState(5, 1);
  s.version = 10;
  ASSERT_TRUE(b->Sync(s, Full()).ok());
  Follower f(WatchClientOptions{.target = Listen()});
  ASSERT_TRUE(f.WaitFor(10));
  const std::string before = b->publisher().instance();
  ProxyState restarted = BigState(6, 1);  // a new proxy counting from 1
  ASSERT_TRUE(b->Sync(restarted, Full()).ok());
  EXPECT_NE(b->publisher().instance(), before);
  ASSERT_TRUE(f.WaitFor(1));
  std::string why;
  EXPECT_TRUE(SameContent(restarted, f.state(), &why)) << why;
  EXPECT_EQ(f.snapshots(), 2);
}

// A client that goes away mid-stream (cancelled, channel dropped) leaves the others
// streaming; the server forgets it.
TEST_F(GrpcBackendTest, ClientKilledMidStreamDoesNotDisturbOthers) {
  std::unique_ptr<GrpcBackend> b = NewGrpcBackend(Listen());
  Churn churn(7);
  ProxyState state = BigState(200, 5);
  ASSERT_TRUE(b->Sync(state, Full()).ok());
  Follower a(WatchClientOptions{.target = Listen()});
  Follower c(WatchClientOptions{.target = Listen()});
  {
    auto victim = std::make_unique<RawStream>(Channel(Listen()), v1::WatchRequest{});
    ASSERT_TRUE(victim->ReadUpdate().ok());
    for (int i = 0; i < 50; ++i) {
      SyncHint hint;
      state = churn.Next(state, 4, &hint);
      ASSERT_TRUE(b->Sync(state, hint).ok());
      if (i == 20) victim.reset();  // cancels the call and drops its channel mid-stream
    }
  }
  ASSERT_TRUE(a.WaitFor(state.version));
  ASSERT_TRUE(c.WaitFor(state.version));
  std::string why;
  EXPECT_TRUE(SameContent(state, a.state(), &why)) << why;
  EXPECT_TRUE(SameContent(state, c.state(), &why)) << why;
  const absl::Time end = absl::Now() + absl::Seconds(10);
  while (b->publisher().stats().subscribers != 2 && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(b->publisher().stats().subscribers, 2);
}

// A client that stops reading: Sync never waits for it, other clients keep up, and when
// it reads again it gets a snapshot of the latest state (its queue overflowed).
TEST_F(GrpcBackendTest, SlowClientDoesNotBlockAndGetsSnapshot) {
  std::unique_ptr<GrpcBackend> b = NewGrpcBackend(Listen(), {{"grpc.queue-limit", "4"}});
  Churn churn(8);
  ProxyState state = BigState(600, 10);
  ASSERT_TRUE(b->Sync(state, Full()).ok());
  Follower fast(WatchClientOptions{.target = Listen()});
  ::grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // keep the flow-control window small
  args.SetMaxReceiveMessageSize(64 << 20);
  RawStream slow(
      ::grpc::CreateCustomChannel(Listen(), ::grpc::InsecureChannelCredentials(), args),
      v1::WatchRequest{});
  ASSERT_TRUE(slow.ReadUpdate().ok());
  ASSERT_TRUE(fast.WaitFor(state.version));
  // Large deltas (every Service's endpoints change, ~250 KB each): far more than the
  // flow-control windows and socket buffers hold.
  absl::Duration slowest;
  const absl::Time begin = absl::Now();
  for (int i = 0; i < 25; ++i) {
    SyncHint hint;
    hint.full = true;
    ProxyState next = BigState(600, 10 + (i % 2));
    next.version = state.version + 1;
    state = next;
    const absl::Time start = absl::Now();
    ASSERT_TRUE(b->Sync(state, hint).ok());
    slowest = std::max(slowest, absl::Now() - start);
  }
  EXPECT_LT(slowest, absl::Seconds(2)) << "Sync waited for a client";
  ASSERT_TRUE(fast.WaitFor(state.version, absl::Seconds(60)));
  std::cerr << "25 syncs + fast client caught up: " << absl::Now() - begin << "\n";
  EXPECT_GE(b->publisher().stats().snapshots_forced, 1);
  // The slow client catches up: a snapshot somewhere after the first one, and the
  // final state.
  bool got_snapshot = false;
  while (slow.replica.version() != state.version) {
    absl::StatusOr<AppliedUpdate> u = slow.ReadUpdate();
    ASSERT_TRUE(u.ok()) << u.status();
    got_snapshot = got_snapshot || u->snapshot;
  }
  EXPECT_TRUE(got_snapshot);
  std::string why;
  EXPECT_TRUE(SameContent(state, slow.replica.state(), &why)) << why;
}

TEST_F(GrpcBackendTest, RequestErrors) {
  std::unique_ptr<GrpcBackend> b = NewGrpcBackend(Listen(), {{"grpc.max-clients", "2"}});
  ASSERT_TRUE(b->Sync(BigState(2, 1), Full()).ok());
  auto code_of = [&](const v1::WatchRequest& req, std::string* msg) {
    RawStream s(Channel(Listen()), req);
    absl::StatusOr<AppliedUpdate> u = s.ReadUpdate();
    if (u.ok()) return absl::StatusCode::kOk;
    *msg = std::string(u.status().message());
    return u.status().code();
  };
  std::string msg;
  v1::WatchRequest bad_family;
  bad_family.set_family(static_cast<v1::IPFamily>(7));
  EXPECT_EQ(code_of(bad_family, &msg), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(msg, "unknown family 7")) << msg;
  v1::WatchRequest other_node;
  other_node.set_node_name("node-b");
  EXPECT_EQ(code_of(other_node, &msg), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(msg, "node-a")) << msg;
  v1::WatchRequest v6;
  v6.set_family(v1::IPV6);
  EXPECT_EQ(code_of(v6, &msg), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(msg, "IPv4 only")) << msg;
  v1::WatchRequest future;
  future.set_resume_from_version(99);
  future.set_resume_instance(b->publisher().instance());
  EXPECT_EQ(code_of(future, &msg), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(msg, "newer")) << msg;

  // max-clients.
  {
    RawStream one(Channel(Listen()), v1::WatchRequest{});
    RawStream two(Channel(Listen()), v1::WatchRequest{});
    ASSERT_TRUE(one.ReadUpdate().ok());
    ASSERT_TRUE(two.ReadUpdate().ok());
    EXPECT_EQ(code_of(v1::WatchRequest{}, &msg), absl::StatusCode::kResourceExhausted);
  }

  // An unknown method.
  ::grpc::GenericStub generic(Channel(Listen()));
  ::grpc::ClientContext ctx;
  ::grpc::Slice payload("\x08\x01", 2);  // some bytes: the method does not exist anyway
  ::grpc::ByteBuffer req(&payload, 1), resp;
  std::promise<::grpc::Status> done;
  generic.UnaryCall(&ctx, "/kslice.proxy.v1.ProxyState/Frobnicate", ::grpc::StubOptions(), &req,
                    &resp, [&](::grpc::Status s) { done.set_value(s); });
  EXPECT_EQ(done.get_future().get().error_code(), ::grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(GrpcBackendTest, DualStackSharesOneServer) {
  std::unique_ptr<GrpcBackend> v4 = NewGrpcBackend(Listen());
  std::unique_ptr<GrpcBackend> v6 = NewGrpcBackend(Listen(), {}, IPFamily::kIPv6);
  ProxyState s4 = BigState(3, 1);
  ProxyState s6 = BigState(4, 2, IPFamily::kIPv6);
  ASSERT_TRUE(v4->Sync(s4, Full()).ok());
  ASSERT_TRUE(v6->Sync(s6, Full()).ok());
  std::string why;
  for (auto [family, want] : {std::pair{v1::IP_FAMILY_UNSPECIFIED, &s4},
                              std::pair{v1::IPV4, &s4}, std::pair{v1::IPV6, &s6}}) {
    v1::WatchRequest req;
    req.set_family(family);
    RawStream s(Channel(Listen()), req);
    ASSERT_TRUE(s.ReadUpdate().ok());
    EXPECT_TRUE(SameContent(*want, s.replica.state(), &why)) << why;
  }
  // One family cleaned up: the other still serves on the socket.
  ASSERT_TRUE(v6->Cleanup().ok());
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/state.sock"));
  v1::WatchRequest req;
  req.set_family(v1::IPV6);
  RawStream gone(Channel(Listen()), req);
  EXPECT_EQ(gone.ReadUpdate().status().code(), absl::StatusCode::kFailedPrecondition);
  v4.reset();  // the last user stops the server
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/state.sock"));
}

TEST_F(GrpcBackendTest, StaleAndLiveSockets) {
  const std::string path = dir_.path() + "/state.sock";
  // A socket file nobody listens on (an earlier run that crashed).
  {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, path.c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    close(fd);
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  std::unique_ptr<GrpcBackend> fresh = NewGrpcBackend(Listen());
  ASSERT_TRUE(fresh->Cleanup().ok());  // Cleanup with no Sync removes the stale socket
  EXPECT_FALSE(std::filesystem::exists(path));

  std::unique_ptr<GrpcBackend> b = NewGrpcBackend(Listen());
  ASSERT_TRUE(b->Sync(BigState(1, 1), Full()).ok());
  // Another server (as if another process) on the same live socket is refused.
  absl::StatusOr<std::unique_ptr<StateServer>> second =
      StateServer::Start(StateServerOptions{.listen = Listen()});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(second.status().message(), "listening")) << second.status();
  // A regular file in the way is not removed.
  std::ofstream(dir_.path() + "/file.sock") << "x";
  std::unique_ptr<GrpcBackend> blocked = NewGrpcBackend(Listen("file.sock"));
  absl::Status s = blocked->Sync(BigState(1, 1), Full());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/file.sock"));
  // The default directory is created when missing.
  std::unique_ptr<GrpcBackend> nested = NewGrpcBackend(Listen("sub/dir/s.sock"));
  EXPECT_TRUE(nested->Sync(BigState(1, 1), Full()).ok());
}

// TLS and mutual TLS over TCP, certificates from envtest/pki.
class GrpcTlsTest : public GrpcBackendTest {
 protected:
  void SetUp() override {
    absl::StatusOr<envtest::pki::KeyPair> ca = envtest::pki::GenerateCa("test-ca");
    ASSERT_TRUE(ca.ok());
    envtest::pki::CertRequest server;
    server.common_name = "kslice-proxy";
    server.dns_names = {"localhost"};
    server.ip_addresses = {"127.0.0.1"};
    absl::StatusOr<envtest::pki::KeyPair> sc = envtest::pki::IssueCert(*ca, server);
    ASSERT_TRUE(sc.ok());
    envtest::pki::CertRequest client;
    client.common_name = "agent";
    client.usage = envtest::pki::CertUsage::kClient;
    absl::StatusOr<envtest::pki::KeyPair> cc = envtest::pki::IssueCert(*ca, client);
    ASSERT_TRUE(cc.ok());
    absl::StatusOr<envtest::pki::KeyPair> other_ca = envtest::pki::GenerateCa("other-ca");
    absl::StatusOr<envtest::pki::KeyPair> rogue = envtest::pki::IssueCert(*other_ca, client);
    ASSERT_TRUE(rogue.ok());
    Write("ca.pem", ca->cert_pem);
    Write("server.pem", sc->cert_pem);
    Write("server.key", sc->key_pem);
    Write("client.pem", cc->cert_pem);
    Write("client.key", cc->key_pem);
    Write("rogue.pem", rogue->cert_pem);
    Write("rogue.key", rogue->key_pem);
  }
  void Write(const std::string& name, const std::string& data) {
    std::ofstream(F(name)) << data;
  }
  std::string F(const std::string& name) { return dir_.path() + "/" + name; }

  // Whether a client with these files gets a snapshot from `target`.
  absl::Status Try(const std::string& target, WatchClientOptions o) {
    o.target = target;
    o.tls_server_name = "localhost";
    absl::Status last = absl::DeadlineExceededError("no update");
    std::stop_source stop;
    o.on_stream_end = [&](const absl::Status& s) {  // refused: no need to wait for retries
      last = s;
      stop.request_stop();
    };
    absl::StatusOr<std::unique_ptr<WatchClient>> c = WatchClient::Create(o);
    if (!c.ok()) return c.status();
    std::jthread timer([&](std::stop_token st) {
      std::mutex m;
      std::condition_variable_any cv;
      std::unique_lock<std::mutex> l(m);
      cv.wait_for(l, st, std::chrono::seconds(3), [] { return false; });
      stop.request_stop();
    });
    absl::Status run = (*c)->Run(stop.get_token(), [&](const ProxyState&, const AppliedUpdate&) {
      last = absl::OkStatus();
      stop.request_stop();
    });
    if (!run.ok()) return run;
    return last;
  }
};

TEST_F(GrpcTlsTest, MutualTls) {
  std::unique_ptr<GrpcBackend> b = NewGrpcBackend(
      "127.0.0.1:0", {{"grpc.tls-cert", F("server.pem")},
                      {"grpc.tls-key", F("server.key")},
                      {"grpc.tls-client-ca", F("ca.pem")}});
  ASSERT_TRUE(b->Sync(BigState(3, 2), Full()).ok());
  const std::string target = b->address();
  ASSERT_TRUE(absl::StartsWith(target, "127.0.0.1:")) << target;
  EXPECT_TRUE(Try(target, {.tls_ca_file = F("ca.pem"),
                           .tls_cert_file = F("client.pem"),
                           .tls_key_file = F("client.key")})
                  .ok());
  // No client certificate, one from another CA, no TLS at all: refused.
  EXPECT_FALSE(Try(target, {.tls_ca_file = F("ca.pem")}).ok());
  EXPECT_FALSE(Try(target, {.tls_ca_file = F("ca.pem"),
                            .tls_cert_file = F("rogue.pem"),
                            .tls_key_file = F("rogue.key")})
                   .ok());
  EXPECT_FALSE(Try(target, {}).ok());
  EXPECT_EQ(b->publisher().stats().snapshots_sent, 1);
}

TEST_F(GrpcTlsTest, ServerOnlyTls) {
  std::unique_ptr<GrpcBackend> b = NewGrpcBackend(
      "127.0.0.1:0", {{"grpc.tls-cert", F("server.pem")}, {"grpc.tls-key", F("server.key")}});
  ASSERT_TRUE(b->Sync(BigState(3, 2), Full()).ok());
  EXPECT_TRUE(Try(b->address(), {.tls_ca_file = F("ca.pem")}).ok());
  // A client that does not trust the server's CA is refused.
  EXPECT_FALSE(Try(b->address(), {.tls_ca_file = F("rogue.pem")}).ok());
}

}  // namespace
}  // namespace kslice::proxy::grpc
