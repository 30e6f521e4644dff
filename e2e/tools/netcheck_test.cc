#include "e2e/tools/netcheck.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kslice::e2e {
namespace {

// A WhoamiServer on `ip` (127.0.0.1 unless told) served by a thread for the test's lifetime.
class ServingServer {
 public:
  explicit ServingServer(const std::string& name, const std::string& ip = "127.0.0.1") {
    auto s = WhoamiServer::Listen(ip, 0, name);
    EXPECT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    thread_ = std::thread([this] { server_->Serve(stop_); });
  }
  ~ServingServer() {
    stop_.store(true);
    thread_.join();
  }
  int port() const { return server_->port(); }
  uint64_t served() const { return server_->served(); }

 private:
  std::unique_ptr<WhoamiServer> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A loopback port with nothing listening on it.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(ParseHostPortTest, AcceptsIPv4AndBracketedIPv6AndRejectsTheRest) {
  std::string ip;
  int port = 0;
  ASSERT_TRUE(ParseHostPort("10.96.0.10:80", &ip, &port).ok());
  EXPECT_EQ(ip, "10.96.0.10");
  EXPECT_EQ(port, 80);
  ASSERT_TRUE(ParseHostPort("[fd00:10:96::10]:8080", &ip, &port).ok());
  EXPECT_EQ(ip, "fd00:10:96::10");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(ParseHostPort("[::]:0", &ip, &port).ok());
  EXPECT_EQ(ip, "::");
  EXPECT_EQ(port, 0);
  EXPECT_FALSE(ParseHostPort("10.96.0.10", &ip, &port).ok());
  EXPECT_FALSE(ParseHostPort("10.96.0.10:70000", &ip, &port).ok());
  EXPECT_FALSE(ParseHostPort("web:80", &ip, &port).ok());
  EXPECT_FALSE(ParseHostPort("fd00:10:96::10:80", &ip, &port).ok());  // no brackets
  EXPECT_FALSE(ParseHostPort("[10.96.0.10]:80", &ip, &port).ok());    // IPv4 in brackets
  EXPECT_FALSE(ParseHostPort("[fd00::10:80", &ip, &port).ok());
  EXPECT_FALSE(ParseHostPort("[]:80", &ip, &port).ok());
  EXPECT_FALSE(ParseHostPort("[fd00::g]:80", &ip, &port).ok());
}

TEST(ParseHostPortTest, JoinHostPortBracketsIPv6) {
  EXPECT_EQ(JoinHostPort("10.96.0.10", 80), "10.96.0.10:80");
  EXPECT_EQ(JoinHostPort("fd00:10:96::10", 80), "[fd00:10:96::10]:80");
}

// Whether this machine (or sandbox) has a usable IPv6 loopback.
bool HaveIPv6Loopback() {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr = {};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

TEST(NetcheckTest, ProbeOverIPv6) {
  if (!HaveIPv6Loopback()) GTEST_SKIP() << "no IPv6 loopback (::1) here";
  ServingServer server("backend-v6", "::1");
  Tally t = ProbeMany("::1", server.port(), 5, absl::Seconds(5));
  EXPECT_EQ(t.answers["backend-v6"], 5) << FormatTally(t);
  EXPECT_EQ(server.served(), 5u);
  // The IPv6 listener does not take IPv4 connections on the same port.
  EXPECT_NE(Probe("127.0.0.1", server.port(), absl::Seconds(5)).outcome, Outcome::kAnswered);
}

TEST(NetcheckTest, ProbeGetsTheServersName) {
  ServingServer server("backend-a");
  ProbeResult r = Probe("127.0.0.1", server.port(), absl::Seconds(5));
  EXPECT_EQ(r.outcome, Outcome::kAnswered) << r.error;
  EXPECT_EQ(r.answer, "backend-a");
}

TEST(NetcheckTest, ProbeManyTalliesEveryConnection) {
  ServingServer server("backend-b");
  Tally t = ProbeMany("127.0.0.1", server.port(), 25, absl::Seconds(5));
  EXPECT_EQ(t.answers["backend-b"], 25);
  EXPECT_EQ(t.outcomes[Outcome::kAnswered], 25);
  EXPECT_EQ(server.served(), 25u);
  std::string text = FormatTally(t);
  EXPECT_EQ(text.substr(0, text.find("max_ms ")),
            "answer backend-b 25\nanswered 25\nrefused 0\nunreachable 0\ntimeout 0\nreset 0\n"
            "error 0\n");
}

TEST(NetcheckTest, ClosedPortIsRefused) {
  Tally t = ProbeMany("127.0.0.1", ClosedPort(), 3, absl::Seconds(5));
  EXPECT_EQ(t.outcomes[Outcome::kRefused], 3);
  EXPECT_TRUE(t.answers.empty());
  std::string text = FormatTally(t);
  EXPECT_NE(text.find("refused 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("last_error connect: "), std::string::npos) << text;
}

// A listener that never answers: the probe gives up at its deadline with kTimeout.
TEST(NetcheckTest, SilentServerTimesOut) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ProbeResult r = Probe("127.0.0.1", ntohs(addr.sin_port), absl::Milliseconds(200));
  EXPECT_EQ(r.outcome, Outcome::kTimeout) << r.error;
  close(fd);
}

}  // namespace
}  // namespace kslice::e2e
