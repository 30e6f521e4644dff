#include "e2e/tools/netcheck.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace kslice::e2e {
namespace {

constexpr size_t kMaxRead = 64 * 1024;

std::string ErrnoText(absl::string_view what, int err) {
  return absl::StrCat(what, ": ", std::strerror(err));
}

// A socket address for a literal IPv4 or IPv6 address (no brackets, no zone) and a port.
struct SocketAddress {
  sockaddr_storage storage;
  socklen_t len = 0;
  int family() const { return storage.ss_family; }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

bool MakeAddress(const std::string& ip, int port, SocketAddress* addr) {
  std::memset(&addr->storage, 0, sizeof(addr->storage));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr->storage);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    addr->len = sizeof(sockaddr_in);
    return true;
  }
  std::memset(&addr->storage, 0, sizeof(addr->storage));
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr->storage);
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    addr->len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

int PortOf(const SocketAddress& addr) {
  if (addr.family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr.storage)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&addr.storage)->sin_port);
}

// Milliseconds left until `deadline`, at least 0, for poll().
int MillisLeft(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
}

Outcome OutcomeOfErrno(int err) {
  switch (err) {
    case ECONNREFUSED:
      return Outcome::kRefused;
    case EHOSTUNREACH:
    case ENETUNREACH:
      return Outcome::kUnreachable;
    case ETIMEDOUT:
      return Outcome::kTimeout;
    case ECONNRESET:
    case EPIPE:
      return Outcome::kReset;
    default:
      return Outcome::kError;
  }
}

// Fills the outcome from errno `err` (or a timeout when err is 0).
ProbeResult Failed(absl::string_view step, int err, absl::Time start) {
  ProbeResult r;
  r.outcome = err == 0 ? Outcome::kTimeout : OutcomeOfErrno(err);
  r.error = err == 0 ? absl::StrCat(step, ": timed out") : ErrnoText(step, err);
  r.elapsed = absl::Now() - start;
  return r;
}

}  // namespace

std::string JoinHostPort(absl::string_view ip, int port) {
  if (absl::StrContains(ip, ':')) return absl::StrCat("[", ip, "]:", port);
  return absl::StrCat(ip, ":", port);
}

absl::Status ParseHostPort(absl::string_view s, std::string* ip, int* port) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("want IPv4:PORT or [IPv6]:PORT, got \"", s, "\""));
  };
  size_t colon = s.rfind(':');
  if (colon == absl::string_view::npos) return bad();
  absl::string_view host = s.substr(0, colon);
  if (absl::StartsWith(host, "[")) {
    // [IPv6]:PORT; the address inside must be IPv6.
    if (!absl::EndsWith(host, "]") || host.size() < 3) return bad();
    host = host.substr(1, host.size() - 2);
    if (!absl::StrContains(host, ':')) return bad();
  } else if (absl::StrContains(host, ':')) {
    return bad();  // an IPv6 address needs its brackets
  }
  *ip = std::string(host);
  SocketAddress addr;
  if (!absl::SimpleAtoi(s.substr(colon + 1), port) || *port < 0 || *port > 65535 ||
      !MakeAddress(*ip, *port, &addr)) {
    return bad();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<WhoamiServer>> WhoamiServer::Listen(const std::string& ip, int port,
                                                                   std::string name) {
  SocketAddress addr;
  if (!MakeAddress(ip, port, &addr)) {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 or IPv6 address: \"", ip, "\""));
  }
  int fd = socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(ErrnoText("socket", errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (addr.family() == AF_INET6) {
    // "::" listens on IPv6 only, so that an IPv4 listener on the same port can coexist.
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (bind(fd, addr.get(), addr.len) != 0 || listen(fd, 128) != 0) {
    int err = errno;
    close(fd);
    return absl::UnavailableError(ErrnoText(absl::StrCat("listen on ", JoinHostPort(ip, port)), err));
  }
  socklen_t len = sizeof(addr.storage);
  getsockname(fd, addr.get(), &len);
  return std::unique_ptr<WhoamiServer>(new WhoamiServer(fd, PortOf(addr), std::move(name)));
}

WhoamiServer::~WhoamiServer() { close(fd_); }

void WhoamiServer::Serve(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    Answer(conn);
    close(conn);
  }
}

void WhoamiServer::Answer(int conn) {
  // Read the request headers (to their blank line), EOF, or 2 s: whichever comes first.
  // Answering before the request is in would make the close send a RST.
  absl::Time deadline = absl::Now() + absl::Seconds(2);
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < kMaxRead) {
    pollfd p{conn, POLLIN, 0};
    if (poll(&p, 1, MillisLeft(deadline)) <= 0) break;
    ssize_t n = read(conn, buf, sizeof(buf));
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  std::string body = absl::StrCat(name_, "\n");
  std::string response =
      absl::StrCat("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n",
                   "Content-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
  size_t off = 0;
  while (off < response.size()) {
    ssize_t n = send(conn, response.data() + off, response.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
  served_.fetch_add(1);
  shutdown(conn, SHUT_WR);
  // Drain briefly so the close does not turn into a RST on unread request bytes.
  pollfd p{conn, POLLIN, 0};
  if (poll(&p, 1, 200) > 0) (void)read(conn, buf, sizeof(buf));
}

absl::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kAnswered:
      return "answered";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kUnreachable:
      return "unreachable";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kReset:
      return "reset";
    case Outcome::kError:
      return "error";
  }
  return "error";
}

ProbeResult Probe(const std::string& ip, int port, absl::Duration timeout) {
  absl::Time start = absl::Now();
  absl::Time deadline = start + timeout;
  SocketAddress addr;
  if (!MakeAddress(ip, port, &addr)) {
    ProbeResult r;
    r.error = absl::StrCat("not an IPv4 or IPv6 address: \"", ip, "\"");
    return r;
  }
  int fd = socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Failed("socket", errno, start);
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};

  // Non-blocking connect, completion (or failure) awaited with poll.
  if (connect(fd, addr.get(), addr.len) != 0) {
    if (errno != EINPROGRESS) return Failed("connect", errno, start);
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, MillisLeft(deadline)) <= 0) return Failed("connect", 0, start);
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Failed("connect", err, start);
  }

  std::string request =
      absl::StrCat("GET / HTTP/1.0\r\nHost: ", JoinHostPort(ip, port), "\r\n\r\n");
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n = send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN) return Failed("send", errno, start);
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, MillisLeft(deadline)) <= 0) return Failed("send", 0, start);
  }

  std::string response;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      response.append(buf, static_cast<size_t>(n));
      if (response.size() > kMaxRead) break;
      continue;
    }
    if (n == 0) break;  // EOF: the whole answer is in
    if (errno != EAGAIN) return Failed("read", errno, start);
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, MillisLeft(deadline)) <= 0) return Failed("read", 0, start);
  }

  ProbeResult r;
  r.elapsed = absl::Now() - start;
  size_t body = response.find("\r\n\r\n");
  if (!absl::StartsWith(response, "HTTP/1.") || body == std::string::npos) {
    r.outcome = Outcome::kError;
    r.error = absl::StrCat("not an HTTP answer: \"", response.substr(0, 80), "\"");
    return r;
  }
  r.outcome = Outcome::kAnswered;
  r.answer = std::string(absl::StripAsciiWhitespace(absl::string_view(response).substr(body + 4)));
  return r;
}

Tally ProbeMany(const std::string& ip, int port, int connections, absl::Duration timeout) {
  Tally t;
  for (int i = 0; i < connections; ++i) {
    ProbeResult r = Probe(ip, port, timeout);
    ++t.outcomes[r.outcome];
    if (r.outcome == Outcome::kAnswered) ++t.answers[r.answer];
    if (!r.error.empty()) t.last_error = r.error;
    if (r.elapsed > t.max_elapsed) t.max_elapsed = r.elapsed;
  }
  return t;
}

std::string FormatTally(const Tally& t) {
  std::string out;
  for (const auto& [name, count] : t.answers)
    absl::StrAppend(&out, "answer ", name, " ", count, "\n");
  for (Outcome o : {Outcome::kAnswered, Outcome::kRefused, Outcome::kUnreachable, Outcome::kTimeout,
                    Outcome::kReset, Outcome::kError}) {
    auto it = t.outcomes.find(o);
    absl::StrAppend(&out, OutcomeName(o), " ", it == t.outcomes.end() ? 0 : it->second, "\n");
  }
  absl::StrAppend(&out, "max_ms ", absl::ToInt64Milliseconds(t.max_elapsed), "\n");
  if (!t.last_error.empty()) absl::StrAppend(&out, "last_error ", t.last_error, "\n");
  return out;
}

}  // namespace kslice::e2e
