#include "lab/kubelet/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lab/kubelet/pod_files.h"

namespace kslice::lab::kubelet {

using api::core::v1::Container;
using api::core::v1::Probe;
using api::core::v1::ProbeHandler;

const char* ProbeKindName(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kReadiness:
      return "Readiness";
    case ProbeKind::kLiveness:
      return "Liveness";
    case ProbeKind::kStartup:
      return "Startup";
  }
  return "?";
}

ProbeTracker::ProbeTracker(const Probe& spec, ProbeKind kind, absl::Time container_started)
    : spec_(spec), kind_(kind) {
  period_ = absl::Seconds(spec.periodseconds() > 0 ? spec.periodseconds() : 10);
  timeout_ = absl::Seconds(spec.timeoutseconds() > 0 ? spec.timeoutseconds() : 1);
  success_threshold_ = spec.successthreshold() > 0 ? spec.successthreshold() : 1;
  failure_threshold_ = spec.failurethreshold() > 0 ? spec.failurethreshold() : 3;
  first_due_ = container_started + absl::Seconds(spec.initialdelayseconds());
  result_ = kind == ProbeKind::kLiveness;
}

absl::Time ProbeTracker::NextDue() const {
  if (!any_attempt_) return first_due_;
  return std::max(first_due_, last_attempt_ + period_);
}

bool ProbeTracker::Due(absl::Time now) const { return now >= NextDue(); }

bool ProbeTracker::Record(bool success, absl::Time now) {
  last_attempt_ = now;
  if (any_attempt_ && success == last_attempt_ok_) {
    ++run_;
  } else {
    last_attempt_ok_ = success;
    run_ = 1;
  }
  any_attempt_ = true;
  if (success && run_ < success_threshold_) return false;
  if (!success && run_ < failure_threshold_) return false;
  bool changed = result_ != success;
  result_ = success;
  return changed;
}

namespace {

// The port number of an IntOrString, resolving a name through the container's ports.
absl::StatusOr<int> ResolvePort(const api::intstr::IntOrString& port, const Container* c) {
  if (port.type() == 0) {
    if (port.intval() <= 0 || port.intval() > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("invalid port ", port.intval()));
    }
    return port.intval();
  }
  int n = 0;
  if (absl::SimpleAtoi(port.strval(), &n) && n > 0 && n <= 65535) return n;
  if (c != nullptr) {
    for (const api::core::v1::ContainerPort& p : c->ports()) {
      if (p.name() == port.strval()) return p.containerport();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("couldn't find port: ", port.strval()));
}

// A connected TCP socket to ip:port within `timeout`, or the reason (kubelet's words:
// "dial tcp IP:PORT: connect: connection refused").
absl::StatusOr<int> Dial(const std::string& ip, int port, absl::Duration timeout) {
  std::string where = absl::StrCat("dial tcp ", ip, ":", port, ": ");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, ip.c_str(), &sa.sin_addr) != 1) {
    return absl::InvalidArgumentError(where + "not an IPv4 address");
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(where + strerror(errno));
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    if (errno != EINPROGRESS) {
      std::string e = strerror(errno);
      close(fd);
      return absl::UnavailableError(where + "connect: " + absl::AsciiStrToLower(e));
    }
    pollfd p{fd, POLLOUT, 0};
    int n = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    if (n <= 0) {
      close(fd);
      return absl::DeadlineExceededError(where + "i/o timeout");
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      close(fd);
      return absl::UnavailableError(where + "connect: " + absl::AsciiStrToLower(strerror(err)));
    }
  }
  return fd;
}

ProbeOutcome HttpGet(const api::core::v1::HTTPGetAction& get, const ProbeTarget& target,
                     absl::Duration timeout) {
  if (!get.scheme().empty() && get.scheme() != "HTTP") {
    return {false, "only HTTP probes are supported in the lab (scheme " + get.scheme() + ")"};
  }
  absl::StatusOr<int> port = ResolvePort(get.port(), target.container);
  if (!port.ok()) return {false, std::string(port.status().message())};
  std::string host = get.host().empty() ? target.pod_ip : get.host();
  std::string path = get.path().empty() ? "/" : get.path();
  if (path[0] != '/') path = "/" + path;
  std::string url = absl::StrCat("http://", host, ":", *port, path);
  absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<int> fd = Dial(host, *port, timeout);
  if (!fd.ok()) return {false, absl::StrCat("Get \"", url, "\": ", fd.status().message())};
  std::string req = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: ", host, ":", *port,
                                 "\r\nUser-Agent: kube-probe/1.34\r\nAccept: */*\r\n");
  for (const api::core::v1::HTTPHeader& h : get.httpheaders()) {
    absl::StrAppend(&req, h.name(), ": ", h.value(), "\r\n");
  }
  req += "Connection: close\r\n\r\n";
  size_t sent = 0;
  std::string got;
  bool ok = true;
  while (ok && sent < req.size()) {
    pollfd p{*fd, POLLOUT, 0};
    int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
      ok = false;
      break;
    }
    ssize_t w = send(*fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (w <= 0) {
      ok = false;
      break;
    }
    sent += static_cast<size_t>(w);
  }
  while (ok && got.find("\r\n") == std::string::npos && got.size() < 8192) {
    pollfd p{*fd, POLLIN, 0};
    int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
      ok = false;
      break;
    }
    char buf[1024];
    ssize_t r = recv(*fd, buf, sizeof buf, 0);
    if (r <= 0) break;
    got.append(buf, static_cast<size_t>(r));
  }
  close(*fd);
  if (!ok && got.empty()) {
    return {false,
            absl::StrCat(
                "Get \"", url,
                "\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")};
  }
  // "HTTP/1.1 200 OK"
  std::vector<std::string> words = absl::StrSplit(got.substr(0, got.find("\r\n")), ' ');
  int code = 0;
  if (words.size() < 2 || !absl::StartsWith(words[0], "HTTP/") ||
      !absl::SimpleAtoi(words[1], &code)) {
    return {false, absl::StrCat("Get \"", url, "\": malformed HTTP response")};
  }
  if (code >= 200 && code < 400) return {true, ""};
  return {false, absl::StrCat("HTTP probe failed with statuscode: ", code)};
}

class RealProbeExecutor : public ProbeExecutor {
 public:
  explicit RealProbeExecutor(Runner& runner) : runner_(runner) {}

  ProbeOutcome Run(const ProbeHandler& h, const ProbeTarget& target,
                   absl::Duration timeout) override {
    if (h.has_httpget()) return HttpGet(h.httpget(), target, timeout);
    if (h.has_tcpsocket()) return Tcp(h.tcpsocket(), target, timeout);
    if (h.has_exec()) return Exec(h.exec(), target, timeout);
    if (h.has_grpc()) return {false, "gRPC probes are not supported in the lab"};
    return {false, "probe has no handler"};
  }

  ProbeOutcome RunHook(const api::core::v1::LifecycleHandler& h, const ProbeTarget& target,
                       absl::Duration timeout) override {
    if (h.has_exec()) return Exec(h.exec(), target, timeout);
    if (h.has_httpget()) return HttpGet(h.httpget(), target, timeout);
    if (h.has_tcpsocket()) return Tcp(h.tcpsocket(), target, timeout);
    if (h.has_sleep()) {
      absl::SleepFor(std::min(timeout, absl::Seconds(h.sleep().seconds())));
      return {true, ""};
    }
    return {false, "hook has no handler"};
  }

 private:
  ProbeOutcome Tcp(const api::core::v1::TCPSocketAction& t, const ProbeTarget& target,
                   absl::Duration timeout) {
    absl::StatusOr<int> port = ResolvePort(t.port(), target.container);
    if (!port.ok()) return {false, std::string(port.status().message())};
    absl::StatusOr<int> fd = Dial(t.host().empty() ? target.pod_ip : t.host(), *port, timeout);
    if (!fd.ok()) return {false, std::string(fd.status().message())};
    close(*fd);
    return {true, ""};
  }

  ProbeOutcome Exec(const api::core::v1::ExecAction& e, const ProbeTarget& target,
                    absl::Duration timeout) {
    if (e.command().empty()) return {false, "exec has no command"};
    std::vector<std::string> argv(e.command().begin(), e.command().end());
    absl::StatusOr<CommandResult> r = runner_.Run(InPod(target.netns, target.env, argv), timeout);
    if (!r.ok()) return {false, std::string(r.status().message())};
    if (r->timed_out)
      return {false, absl::StrCat("command timed out after ", absl::FormatDuration(timeout))};
    if (r->exit_code == 0) return {true, ""};
    std::string out = r->output;
    if (out.size() > 1024) out.resize(1024);
    return {false,
            absl::StrCat("command ", JoinArgv(argv), " exited with ", r->exit_code, ": ", out)};
  }

  Runner& runner_;
};

}  // namespace

std::unique_ptr<ProbeExecutor> NewProbeExecutor(Runner& runner) {
  return std::make_unique<RealProbeExecutor>(runner);
}

}  // namespace kslice::lab::kubelet
