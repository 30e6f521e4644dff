// kslice-proxy-agent (the binary) against a grpc backend running in this test.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "envtest/pki/pki.h"
#include "gtest/gtest.h"
#include "proxy/backend.h"
#include "proxy/grpc/codec.h"
#include "proxy/grpc/grpc_backend.h"
#include "proxy/grpc/test_states.h"

extern char** environ;

namespace kslice::proxy::grpc {
namespace {

std::string AgentPath() {
  const char* srcdir = getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir ? srcdir : ".", "/kslice/cmd/kslice-proxy-agent/kslice-proxy-agent");
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// One agent process, stdout and stderr in files.
class Agent {
 public:
  Agent(const std::string& dir, const std::string& name, std::vector<std::string> args)
      : out_(dir + "/" + name + ".out"), err_(dir + "/" + name + ".err") {
    args.insert(args.begin(), AgentPath());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Agent() {
    if (pid_ > 0 && exit_code_ < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string out() const { return ReadAll(out_); }
  std::string err() const { return ReadAll(err_); }
  // Waits until stdout holds `n` occurrences of `marker`.
  bool WaitOut(const std::string& marker, size_t n, absl::Duration timeout = absl::Seconds(30)) {
    const absl::Time end = absl::Now() + timeout;
    while (absl::Now() < end) {
      if (Count(out(), marker) >= n) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }
  // The exit code (-1 on timeout; 128+sig when killed).
  int Wait(absl::Duration timeout = absl::Seconds(30)) {
    const absl::Time end = absl::Now() + timeout;
    while (absl::Now() < end) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_code_;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return -1;
  }
  void Kill(int sig) { kill(pid_, sig); }

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

class AgentTest : public ::testing::Test {
 protected:
  AgentTest() {
    char tmpl[] = "/tmp/kslice-agent-XXXXXX";
    dir_ = mkdtemp(tmpl);
    listen_ = "unix:" + dir_ + "/s.sock";
  }
  ~AgentTest() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Backend> Server(std::map<std::string, std::string> extra = {}) {
    BackendOptions o;
    o.node_name = "node-a";
    o.extra = std::move(extra);
    if (!o.extra.count("grpc.listen")) o.extra["grpc.listen"] = listen_;
    absl::StatusOr<std::unique_ptr<Backend>> b = NewBackend("grpc", o);
    EXPECT_TRUE(b.ok()) << b.status();
    return std::move(*b);
  }

  std::string dir_;
  std::string listen_;
};

TEST_F(AgentTest, PrintFollowsState) {
  std::unique_ptr<Backend> b = Server();
  testing::Churn churn(11);
  std::vector<ProxyState> states{testing::BigState(40, 3)};
  ASSERT_TRUE(b->Sync(states[0], SyncHint{}).ok());
  Agent a(dir_, "a", {"--server", listen_, "--print", "--hostname-override", "node-a",
                      "--exit-after", "4"});
  ASSERT_TRUE(a.WaitOut("end\n", 1)) << a.err();
  for (int i = 1; i < 4; ++i) {
    SyncHint hint;
    states.push_back(churn.Next(states.back(), 5, &hint));
    ASSERT_TRUE(b->Sync(states.back(), hint).ok());
    ASSERT_TRUE(a.WaitOut("end\n", i + 1)) << a.err();
  }
  ASSERT_EQ(a.Wait(), 0) << a.err();
  std::string want;
  for (const ProxyState& s : states) want += FormatState(s);
  EXPECT_EQ(a.out(), want);
}

// --apply iptables --dry-run: the agent's local iptables backend, driven by what came
// over the wire, writes the same payloads as the iptables backend fed in-process with
// the same states and the hints of their exact changes.
TEST_F(AgentTest, ApplyIptablesDryRunEqualsInProcess) {
  std::unique_ptr<Backend> b = Server();
  BackendOptions ro;
  ro.node_name = "node-a";
  ro.cluster_cidrs = {"10.0.0.0/8"};
  ro.dry_run = true;
  std::ostringstream reference;
  ro.dry_run_output = &reference;
  absl::StatusOr<std::unique_ptr<Backend>> ref = NewBackend("iptables", ro);
  ASSERT_TRUE(ref.ok()) << ref.status();

  testing::Churn churn(12);
  ProxyState state = testing::BigState(30, 3);
  ASSERT_TRUE(b->Sync(state, SyncHint{}).ok());
  ASSERT_TRUE((*ref)->Sync(state, SyncHint{}).ok());
  std::vector<std::string> want{reference.str()};
  Agent a(dir_, "a", {"--server", listen_, "--apply", "iptables", "--dry-run",
                      "--hostname-override", "node-a", "--cluster-cidr", "10.0.0.0/8",
                      "--min-sync-period", "0s", "--exit-after", "6"});
  ASSERT_TRUE(a.WaitOut("COMMIT\n", 2)) << a.err();
  int partial = 0;
  for (int i = 1; i < 6; ++i) {
    SyncHint hint;
    ProxyState next = churn.Next(state, 4, &hint);
    ASSERT_TRUE(b->Sync(next, hint).ok());
    // The reference gets the exact changes, as the agent derives them from the delta.
    StateDiff d = Diff(state, next, std::nullopt);
    SyncHint exact;
    exact.full = hint.full;
    exact.previous_version = state.version;
    for (const auto* list : {&d.upserted, &d.removed}) {
      for (const ServicePortName& p : *list) {
        exact.changed_ports.insert(p);
        exact.changed_services.insert(p.NamespacedName());
      }
    }
    if (!exact.full) ++partial;
    reference.str("");
    ASSERT_TRUE((*ref)->Sync(next, exact).ok());
    want.push_back(reference.str());
    state = next;
    ASSERT_TRUE(a.WaitOut("COMMIT\n", 2 * (i + 1))) << a.err();
  }
  ASSERT_EQ(a.Wait(), 0) << a.err();
  std::string all;
  for (const std::string& w : want) all += w;
  EXPECT_EQ(a.out(), all);
  EXPECT_GT(partial, 0);  // partial syncs were compared, not only full ones
}

TEST_F(AgentTest, KilledAgentDoesNotDisturbAnother) {
  std::unique_ptr<Backend> b = Server();
  auto* g = dynamic_cast<GrpcBackend*>(b.get());
  ASSERT_NE(g, nullptr);
  testing::Churn churn(13);
  ProxyState state = testing::BigState(500, 5);
  ASSERT_TRUE(b->Sync(state, SyncHint{}).ok());
  Agent victim(dir_, "victim", {"--server", listen_, "--print"});
  Agent survivor(dir_, "survivor", {"--server", listen_, "--print", "--exit-after", "21"});
  ASSERT_TRUE(victim.WaitOut("end\n", 1));
  ASSERT_TRUE(survivor.WaitOut("end\n", 1));
  for (int i = 0; i < 20; ++i) {
    SyncHint hint;
    state = churn.Next(state, 3, &hint);
    ASSERT_TRUE(b->Sync(state, hint).ok());
    if (i == 5) victim.Kill(SIGKILL);  // mid-stream
    ASSERT_TRUE(survivor.WaitOut("end\n", i + 2)) << survivor.err();
  }
  EXPECT_EQ(victim.Wait(), 128 + SIGKILL);
  ASSERT_EQ(survivor.Wait(), 0) << survivor.err();
  std::vector<std::string> printed = absl::StrSplit(survivor.out(), "end\n");
  EXPECT_EQ(printed.size(), 22u);  // 21 states and the empty tail
  EXPECT_EQ(printed[20] + "end\n", FormatState(state));
  const absl::Time end = absl::Now() + absl::Seconds(10);
  while (g->publisher().stats().subscribers != 0 && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(g->publisher().stats().subscribers, 0);
}

TEST_F(AgentTest, MutualTls) {
  absl::StatusOr<envtest::pki::KeyPair> ca = envtest::pki::GenerateCa("ca");
  ASSERT_TRUE(ca.ok());
  envtest::pki::CertRequest sr;
  sr.common_name = "proxy";
  sr.dns_names = {"proxy.local"};
  envtest::pki::CertRequest cr;
  cr.common_name = "agent";
  cr.usage = envtest::pki::CertUsage::kClient;
  absl::StatusOr<envtest::pki::KeyPair> sc = envtest::pki::IssueCert(*ca, sr);
  absl::StatusOr<envtest::pki::KeyPair> cc = envtest::pki::IssueCert(*ca, cr);
  ASSERT_TRUE(sc.ok() && cc.ok());
  auto write = [&](const std::string& name, const std::string& data) {
    std::ofstream(dir_ + "/" + name) << data;
    return dir_ + "/" + name;
  };
  std::unique_ptr<Backend> b =
      Server({{"grpc.listen", listen_},
              {"grpc.tls-cert", write("s.pem", sc->cert_pem)},
              {"grpc.tls-key", write("s.key", sc->key_pem)},
              {"grpc.tls-client-ca", write("ca.pem", ca->cert_pem)}});
  ProxyState state = testing::BigState(5, 2);
  ASSERT_TRUE(b->Sync(state, SyncHint{}).ok());
  Agent a(dir_, "a", {"--server", listen_, "--print", "--exit-after", "1", "--tls-ca",
                      dir_ + "/ca.pem", "--tls-cert", write("c.pem", cc->cert_pem),
                      "--tls-key", write("c.key", cc->key_pem), "--tls-server-name",
                      "proxy.local"});
  ASSERT_EQ(a.Wait(), 0) << a.err();
  EXPECT_EQ(a.out(), FormatState(state));
  // Without a client certificate: refused (the agent keeps retrying; stop it).
  Agent anon(dir_, "anon", {"--server", listen_, "--print", "--tls-ca", dir_ + "/ca.pem",
                            "--tls-server-name", "proxy.local"});
  const absl::Time end = absl::Now() + absl::Seconds(30);
  while (!absl::StrContains(anon.err(), "reconnecting") && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  anon.Kill(SIGTERM);
  EXPECT_EQ(anon.Wait(), 0);
  EXPECT_EQ(anon.out(), "");
  EXPECT_TRUE(absl::StrContains(anon.err(), "reconnecting")) << anon.err();
}

TEST_F(AgentTest, WrongNodeAndBadFlags) {
  std::unique_ptr<Backend> b = Server();
  ASSERT_TRUE(b->Sync(testing::BigState(1, 1), SyncHint{}).ok());
  Agent wrong(dir_, "wrong", {"--server", listen_, "--print", "--hostname-override", "node-b"});
  EXPECT_EQ(wrong.Wait(), 1);
  EXPECT_TRUE(absl::StrContains(wrong.err(), "NOT_FOUND")) << wrong.err();
  EXPECT_TRUE(absl::StrContains(wrong.err(), "node-a")) << wrong.err();
  Agent bad(dir_, "bad", {"--server", listen_});
  EXPECT_EQ(bad.Wait(), 2);
  EXPECT_TRUE(absl::StrContains(bad.err(), "--print")) << bad.err();
  Agent mode(dir_, "mode", {"--server", listen_, "--apply", "nosuch", "--hostname-override", "n"});
  EXPECT_EQ(mode.Wait(), 1);
  EXPECT_TRUE(absl::StrContains(mode.err(), "nosuch")) << mode.err();
}

}  // namespace
}  // namespace kslice::proxy::grpc
