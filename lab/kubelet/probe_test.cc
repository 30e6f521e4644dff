#include "lab/kubelet/probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "lab/kubelet/fake_runner.h"

namespace kslice::lab::kubelet {
namespace {

using api::core::v1::Probe;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

Probe Spec(int initial, int period, int success, int failure) {
  Probe p;
  p.set_initialdelayseconds(initial);
  p.set_periodseconds(period);
  p.set_successthreshold(success);
  p.set_failurethreshold(failure);
  return p;
}

TEST(ProbeTrackerTest, InitialDelayAndPeriod) {
  ProbeTracker t(Spec(5, 2, 1, 3), ProbeKind::kReadiness, kStart);
  EXPECT_FALSE(t.result()) << "readiness starts false";
  EXPECT_FALSE(t.Due(kStart + absl::Seconds(4)));
  EXPECT_TRUE(t.Due(kStart + absl::Seconds(5)));
  EXPECT_TRUE(t.Record(true, kStart + absl::Seconds(5))) << "one success flips it (threshold 1)";
  EXPECT_TRUE(t.result());
  EXPECT_FALSE(t.Due(kStart + absl::Seconds(6)));
  EXPECT_EQ(t.NextDue(), kStart + absl::Seconds(7));
  EXPECT_TRUE(t.Due(kStart + absl::Seconds(7)));
}

TEST(ProbeTrackerTest, Thresholds) {
  ProbeTracker t(Spec(0, 1, 2, 3), ProbeKind::kReadiness, kStart);
  absl::Time now = kStart;
  auto step = [&](bool ok) {
    now += absl::Seconds(1);
    return t.Record(ok, now);
  };
  EXPECT_FALSE(step(true));
  EXPECT_FALSE(t.result()) << "needs two successes in a row";
  EXPECT_FALSE(step(false));
  EXPECT_FALSE(step(true));
  EXPECT_TRUE(step(true));
  EXPECT_TRUE(t.result());
  EXPECT_FALSE(step(false));
  EXPECT_FALSE(step(false));
  EXPECT_TRUE(t.result()) << "two failures are below the threshold of 3";
  EXPECT_FALSE(step(true));  // resets the failure run
  EXPECT_FALSE(step(false));
  EXPECT_FALSE(step(false));
  EXPECT_TRUE(step(false));
  EXPECT_FALSE(t.result());
  EXPECT_TRUE(t.FailedOut());
}

TEST(ProbeTrackerTest, DefaultsAndKinds) {
  ProbeTracker live(Probe(), ProbeKind::kLiveness, kStart);
  EXPECT_TRUE(live.result()) << "liveness starts healthy";
  EXPECT_EQ(live.period(), absl::Seconds(10));
  EXPECT_EQ(live.timeout(), absl::Seconds(1));
  EXPECT_TRUE(live.Due(kStart));
  live.Record(false, kStart);
  live.Record(false, kStart + absl::Seconds(10));
  EXPECT_TRUE(live.result());
  EXPECT_TRUE(live.Record(false, kStart + absl::Seconds(20))) << "default failureThreshold 3";
  EXPECT_FALSE(live.result());
  ProbeTracker startup(Probe(), ProbeKind::kStartup, kStart);
  EXPECT_FALSE(startup.result());
  EXPECT_STREQ(ProbeKindName(ProbeKind::kStartup), "Startup");
}

// A one-shot HTTP server on 127.0.0.1 answering `answer` to whatever it reads.
class OneShotServer {
 public:
  explicit OneShotServer(std::string answer) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    socklen_t len = sizeof sa;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    listen(fd_, 4);
    thread_ = std::thread([this, answer] {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[2048];
      ssize_t n = read(c, buf, sizeof buf);
      if (n > 0) request_.assign(buf, static_cast<size_t>(n));
      (void)!write(c, answer.data(), answer.size());
      close(c);
    });
  }
  ~OneShotServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string request() {
    thread_.join();
    thread_ = std::thread([] {});
    return request_;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string request_;
};

api::core::v1::ProbeHandler HttpHandler(int port, const std::string& path) {
  api::core::v1::ProbeHandler h;
  h.mutable_httpget()->mutable_port()->set_intval(port);
  h.mutable_httpget()->set_path(path);
  return h;
}

TEST(ProbeExecutorTest, HttpGetSuccessFailureAndRefused) {
  FakeRunner runner;
  auto exec = NewProbeExecutor(runner);
  ProbeTarget target{"127.0.0.1", "lab-pod-x", nullptr, {}};
  {
    OneShotServer s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    ProbeOutcome o = exec->Run(HttpHandler(s.port(), "/healthz"), target, absl::Seconds(2));
    EXPECT_TRUE(o.success) << o.message;
    std::string req = s.request();
    EXPECT_TRUE(absl::StartsWith(req, "GET /healthz HTTP/1.1\r\n")) << req;
    EXPECT_NE(req.find("User-Agent: kube-probe/"), std::string::npos) << req;
  }
  {
    OneShotServer s("HTTP/1.1 503 Service Unavailable\r\n\r\n");
    ProbeOutcome o = exec->Run(HttpHandler(s.port(), "/"), target, absl::Seconds(2));
    EXPECT_FALSE(o.success);
    EXPECT_EQ(o.message, "HTTP probe failed with statuscode: 503");
  }
  {
    OneShotServer s("HTTP/1.1 302 Found\r\n\r\n");
    EXPECT_TRUE(exec->Run(HttpHandler(s.port(), "/"), target, absl::Seconds(2)).success)
        << "3xx is success";
  }
  int port = 0;
  {
    OneShotServer s("");
    port = s.port();
  }
  ProbeOutcome refused = exec->Run(HttpHandler(port, "/"), target, absl::Seconds(2));
  EXPECT_FALSE(refused.success);
  EXPECT_NE(refused.message.find("connection refused"), std::string::npos) << refused.message;
}

TEST(ProbeExecutorTest, TcpNamedPortAndExec) {
  FakeRunner runner;
  runner.On("ip netns exec lab-pod-x env -i A=1 cat /tmp/ready",
            CommandResult{1, 0, "No such file", false});
  auto exec = NewProbeExecutor(runner);
  api::core::v1::Container c;
  OneShotServer s("");
  auto* p = c.add_ports();
  p->set_name("web");
  p->set_containerport(s.port());
  ProbeTarget target{"127.0.0.1", "lab-pod-x", &c, {"A=1"}};
  api::core::v1::ProbeHandler tcp;
  tcp.mutable_tcpsocket()->mutable_port()->set_type(1);
  tcp.mutable_tcpsocket()->mutable_port()->set_strval("web");
  EXPECT_TRUE(exec->Run(tcp, target, absl::Seconds(2)).success);
  tcp.mutable_tcpsocket()->mutable_port()->set_strval("nope");
  ProbeOutcome bad = exec->Run(tcp, target, absl::Seconds(2));
  EXPECT_FALSE(bad.success);
  EXPECT_EQ(bad.message, "couldn't find port: nope");

  api::core::v1::ProbeHandler ex;
  ex.mutable_exec()->add_command("cat");
  ex.mutable_exec()->add_command("/tmp/ready");
  ProbeOutcome o = exec->Run(ex, target, absl::Seconds(1));
  EXPECT_FALSE(o.success);
  EXPECT_NE(o.message.find("exited with 1"), std::string::npos) << o.message;
  ASSERT_FALSE(runner.commands().empty());
  EXPECT_EQ(runner.commands().back(), "ip netns exec lab-pod-x env -i A=1 cat /tmp/ready");
  ex.mutable_exec()->set_command(1, "/tmp/other");
  EXPECT_TRUE(exec->Run(ex, target, absl::Seconds(1)).success) << "exit 0";
}

}  // namespace
}  // namespace kslice::lab::kubelet
