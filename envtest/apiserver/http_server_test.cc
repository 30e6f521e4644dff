// The HTTP front with hostile and unusual clients: raw bytes over a socket.
#include "envtest/apiserver/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "envtest/apiserver/wiring.h"
#include "gtest/gtest.h"

namespace kslice::envtest::apiserver {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    ASSERT_TRUE(InstallStandardHooks(&o).ok());
    auto api = APIServer::Create(std::move(o));
    ASSERT_TRUE(api.ok());
    api_ = std::move(*api);
    HttpServerOptions ho;
    ho.tls = false;
    auto http = HttpServer::Start(api_.get(), ho);
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = std::move(*http);
  }

  int Connect() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(http_->port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
  }

  // Sends `data`, reads until the server closes (or `until` appears).
  std::string Exchange(const std::string& data, const std::string& until = "") {
    int fd = Connect();
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    std::string out;
    char buf[4096];
    while (true) {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      if (!until.empty() && absl::StrContains(out, until)) break;
    }
    close(fd);
    return out;
  }

  std::unique_ptr<APIServer> api_;
  std::unique_ptr<HttpServer> http_;
};

TEST_F(HttpServerTest, AnswersAndKeepsTheConnection) {
  std::string out = Exchange(
      "GET /api/v1/namespaces/default HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(out, "HTTP/1.1 200 OK")) << out;
  EXPECT_TRUE(absl::StrContains(out, R"("kind":"Namespace")")) << out;
  EXPECT_TRUE(absl::StrContains(out, "\r\n\r\nok")) << out;
}

TEST_F(HttpServerTest, GarbageGets400AndAClosedConnection) {
  std::string out = Exchange("\x16\x03\x01garbage that is not http\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(out, "HTTP/1.1 400")) << out;
  EXPECT_TRUE(absl::StrContains(out, R"("reason":"BadRequest")")) << out;
}

TEST_F(HttpServerTest, HugeHeadersGet431) {
  std::string out = Exchange(absl::StrCat("GET /healthz HTTP/1.1\r\nX-Big: ",
                                          std::string(100000, 'a'), "\r\n\r\n"));
  EXPECT_TRUE(absl::StartsWith(out, "HTTP/1.1 431")) << out.substr(0, 200);
}

TEST_F(HttpServerTest, OversizedBodySentAnywayStillGets413) {
  // The client sends the whole body before reading: the server's lingering close lets
  // it read the answer instead of a reset.
  std::string body(4u << 20, 'x');
  std::string out = Exchange(absl::StrCat(
      "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nContent-Length: ",
      body.size(), "\r\n\r\n", body));
  EXPECT_TRUE(absl::StartsWith(out, "HTTP/1.1 413")) << out.substr(0, 200);
}

TEST_F(HttpServerTest, OversizedBodyGets413) {
  // The announced length is refused before the body is read.
  std::string out = Exchange(absl::StrCat(
      "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nContent-Length: ",
      4u << 20, "\r\n\r\n"));
  EXPECT_TRUE(absl::StartsWith(out, "HTTP/1.1 413")) << out.substr(0, 200);
}

TEST_F(HttpServerTest, ExpectContinueIsHonored) {
  int fd = Connect();
  std::string body = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})";
  std::string head = absl::StrCat(
      "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: ",
      body.size(), "\r\n\r\n");
  ASSERT_EQ(send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  ASSERT_GT(n, 0);
  EXPECT_TRUE(absl::StartsWith(std::string(buf, static_cast<size_t>(n)), "HTTP/1.1 100"));
  ASSERT_EQ(send(fd, body.data(), body.size(), MSG_NOSIGNAL), static_cast<ssize_t>(body.size()));
  std::string out;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  EXPECT_TRUE(absl::StartsWith(out, "HTTP/1.1 201")) << out;
}

TEST_F(HttpServerTest, WatchEndsWhenTheClientGoesAway) {
  int fd = Connect();
  std::string req =
      "GET /api/v1/namespaces/default/configmaps?watch=1 HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_GT(send(fd, req.data(), req.size(), MSG_NOSIGNAL), 0);
  char buf[4096];
  ASSERT_GT(recv(fd, buf, sizeof(buf), 0), 0);  // the headers
  for (int i = 0; i < 100 && http_->active_watches() != 1; ++i) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(http_->active_watches(), 1);
  close(fd);
  for (int i = 0; i < 200 && http_->active_watches() != 0; ++i) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(http_->active_watches(), 0);
}

TEST_F(HttpServerTest, WatchTimeoutEndsTheChunkedStreamCleanly) {
  std::string out = Exchange(
      "GET /api/v1/namespaces?watch=1&timeoutSeconds=1 HTTP/1.1\r\nHost: x\r\n\r\n", "0\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(out, "HTTP/1.1 200")) << out;
  EXPECT_TRUE(absl::StrContains(out, "Transfer-Encoding: chunked")) << out;
  EXPECT_TRUE(absl::StrContains(out, R"("type":"ADDED")")) << out;  // the initial state
  EXPECT_TRUE(absl::EndsWith(out, "0\r\n\r\n")) << out;
}

}  // namespace
}  // namespace kslice::envtest::apiserver
