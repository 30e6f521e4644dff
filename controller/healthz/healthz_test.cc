#include "controller/healthz/healthz.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gtest/gtest.h"

namespace kslice::controller::healthz {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct Answer {
  int status = 0;
  std::string content_type;
  std::string body;
  bool keep_alive = false;
};

// A plain HTTP/1.1 GET over a fresh connection.
Answer Get(int port, const std::string& target) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return Answer{static_cast<int>(res.result_int()), std::string(res[http::field::content_type]),
                res.body(), res.keep_alive()};
}

std::vector<NamedCheck> Checks(bool informers_ok) {
  return {{"ping", [] { return absl::OkStatus(); }},
          {"informers",
           [informers_ok] {
             return informers_ok ? absl::OkStatus() : absl::UnavailableError("cache not synced");
           }},
          {"leader", [] { return absl::OkStatus(); }}};
}

TEST(HandleChecksTest, Table) {
  struct Case {
    std::string name;
    bool informers_ok;
    std::string path, query;
    int status;
    std::string body;
    bool show_reasons = false;
  };
  std::vector<Case> cases = {
      {"ok", true, "", "", 200, "ok"},
      {"ok verbose", true, "/", "verbose", 200,
       "[+]ping ok\n[+]informers ok\n[+]leader ok\nreadyz check passed\n"},
      {"ok verbose=1", true, "", "verbose=1", 200,
       "[+]ping ok\n[+]informers ok\n[+]leader ok\nreadyz check passed\n"},
      {"failing is always verbose", false, "", "", 500,
       "[+]ping ok\n[-]informers failed: reason withheld\n[+]leader ok\nreadyz check failed\n"},
      {"show reasons", false, "", "", 500,
       "[+]ping ok\n[-]informers failed: cache not synced\n[+]leader ok\nreadyz check failed\n",
       true},
      {"exclude the failing one", false, "", "exclude=informers", 200, "ok"},
      {"exclude verbose with unknown", false, "", "verbose&exclude=informers&exclude=x%2By&exclude=a",
       200,
       "[+]ping ok\n[+]informers excluded: ok\n[+]leader ok\nwarn: some health checks cannot be "
       "excluded: no matches for \"a\",\"x+y\"\nreadyz check passed\n"},
      {"one check ok", false, "/ping", "", 200, "ok"},
      {"one check failing", false, "/informers", "", 500,
       "internal server error: cache not synced\n"},
      {"one check trailing slash", true, "/informers/", "", 200, "ok"},
      {"unknown check", true, "/nope", "", 404, "404 page not found\n"},
  };
  for (const Case& c : cases) {
    Response r = HandleChecks("readyz", Checks(c.informers_ok), c.path, c.query,
                              {.show_reasons = c.show_reasons});
    EXPECT_EQ(r.status, c.status) << c.name;
    EXPECT_EQ(r.body, c.body) << c.name;
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8") << c.name;
  }
}

TEST(HandleChecksTest, NoChecksMeansPing) {
  EXPECT_EQ(HandleChecks("livez", {}, "", "verbose", {}).body, "[+]ping ok\nlivez check passed\n");
  EXPECT_EQ(HandleChecks("livez", {}, "/ping", "", {}).body, "ok");
}

TEST(ParseBindAddressTest, Forms) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(ParseBindAddress(":8081", &host, &port).ok());
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 8081);
  ASSERT_TRUE(ParseBindAddress("127.0.0.1:0", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(ParseBindAddress("[::1]:9", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  for (const char* bad : {"8081", ":x", ":70000", "::1:80", "[::1:80", ":"}) {
    EXPECT_EQ(ParseBindAddress(bad, &host, &port).code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(ServerTest, ServesOverSockets) {
  std::atomic<bool> synced{false};
  auto server = Server::Start({.address = "127.0.0.1",
                               .port = 0,
                               .metrics = [] { return std::string("# TYPE up gauge\nup 1\n"); }});
  ASSERT_TRUE(server.ok()) << server.status();
  Server& s = **server;
  ASSERT_GT(s.port(), 0);
  EXPECT_EQ(s.url(), "http://127.0.0.1:" + std::to_string(s.port()));
  ASSERT_TRUE(s.AddReadyzCheck("informers", [&] {
                 return synced ? absl::OkStatus() : absl::UnavailableError("not synced");
               }).ok());
  EXPECT_EQ(s.AddReadyzCheck("informers", [] { return absl::OkStatus(); }).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.AddReadyzCheck("a/b", [] { return absl::OkStatus(); }).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(s.AddHealthzCheck("ping", [] { return absl::OkStatus(); }).ok());

  Answer a = Get(s.port(), "/readyz");
  EXPECT_EQ(a.status, 500);
  EXPECT_EQ(a.body, "[-]informers failed: reason withheld\nreadyz check failed\n");
  a = Get(s.port(), "/readyz/informers");
  EXPECT_EQ(a.status, 500);
  EXPECT_EQ(a.body, "internal server error: not synced\n");
  synced = true;
  a = Get(s.port(), "/readyz");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "ok");
  EXPECT_EQ(a.content_type, "text/plain; charset=utf-8");
  a = Get(s.port(), "/healthz?verbose");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "[+]ping ok\nhealthz check passed\n");
  a = Get(s.port(), "/livez");
  EXPECT_EQ(a.body, "ok");
  a = Get(s.port(), "/metrics");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(a.body, "# TYPE up gauge\nup 1\n");
  a = Get(s.port(), "/other");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body, "404 page not found\n");

  s.Stop();
  s.Stop();  // idempotent
  asio::io_context ioc;
  tcp::socket sock(ioc);
  beast::error_code ec;
  sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(s.port())), ec);
  EXPECT_TRUE(ec) << "still accepting after Stop";
}

TEST(ServerTest, KeepAliveAndConcurrentClients) {
  auto server = Server::Start({.address = "127.0.0.1", .io_threads = 2});
  ASSERT_TRUE(server.ok()) << server.status();
  int port = (*server)->port();
  // Several requests on one connection.
  {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    for (int i = 0; i < 3; ++i) {
      http::request<http::empty_body> req{http::verb::get, "/livez", 11};
      http::write(stream, req);
      beast::flat_buffer buffer;
      http::response<http::string_body> res;
      http::read(stream, buffer, res);
      EXPECT_EQ(res.body(), "ok");
      EXPECT_TRUE(res.keep_alive());
    }
  }
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (Get(port, "/healthz").body == "ok") ++ok;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), 40);
}

TEST(ServerTest, StopClosesIdleKeepAliveConnections) {
  auto server = Server::Start({.address = "127.0.0.1"});
  ASSERT_TRUE(server.ok());
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                               static_cast<unsigned short>((*server)->port())));
  http::request<http::empty_body> req{http::verb::get, "/readyz", 11};
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  ASSERT_EQ(res.body(), "ok");
  auto start = std::chrono::steady_clock::now();
  (*server)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  // The server closed our idle connection: a read sees EOF.
  char byte;
  beast::error_code ec;
  stream.socket().read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec);
}

TEST(ServerTest, BindErrors) {
  EXPECT_EQ(Server::Start({.address = "not-an-ip"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto first = Server::Start({.address = "127.0.0.1"});
  ASSERT_TRUE(first.ok());
  auto second = Server::Start({.address = "127.0.0.1", .port = (*first)->port()});
  EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace kslice::controller::healthz
