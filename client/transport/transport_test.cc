#include "client/transport/transport.h"

#include <chrono>
#include <thread>
#include <vector>

#include "envtest/pki/pki.h"
#include "gtest/gtest.h"
#include "testing/http/test_server.h"

namespace kslice::client {
namespace {

using kslice::envtest::pki::CertRequest;
using kslice::envtest::pki::CertUsage;
using kslice::envtest::pki::KeyPair;
using kslice::testing::TestRequest;
using kslice::testing::TestResponder;
using kslice::testing::TestServer;
using kslice::testing::TestServerOptions;

struct Pki {
  KeyPair ca, serving, client, other_ca;
  Pki() {
    ca = *envtest::pki::GenerateCa("test-ca");
    other_ca = *envtest::pki::GenerateCa("other-ca");
    CertRequest s;
    s.common_name = "server";
    s.dns_names = {"kslice.test"};
    s.ip_addresses = {"127.0.0.1"};
    serving = *envtest::pki::IssueCert(ca, s);
    CertRequest c;
    c.common_name = "alice";
    c.usage = CertUsage::kClient;
    client = *envtest::pki::IssueCert(ca, c);
  }
};

const Pki& TestPki() {
  static const Pki* pki = new Pki();
  return *pki;
}

TestServerOptions Tls(bool require_client_ca = false) {
  TestServerOptions o;
  o.cert_pem = TestPki().serving.cert_pem;
  o.key_pem = TestPki().serving.key_pem;
  if (require_client_ca) o.client_ca_pem = TestPki().ca.cert_pem;
  return o;
}

std::unique_ptr<Transport> NewTransport(TransportOptions o = {}) {
  if (o.tls.ca_pem.empty() && !o.tls.insecure_skip_verify) o.tls.ca_pem = TestPki().ca.cert_pem;
  auto t = Transport::Create(std::move(o));
  EXPECT_TRUE(t.ok()) << t.status();
  return *std::move(t);
}

Request Req(std::string method, std::string url, std::string body = "",
            absl::Duration timeout = absl::InfiniteDuration()) {
  Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  r.timeout = timeout;
  return r;
}

void Echo(const TestRequest& req, TestResponder& out) {
  out.Respond(200, {{"Content-Type", "text/plain"}, {"X-Method", req.method}},
              req.method + " " + req.target + " " + req.body + " ua=" + req.Header("User-Agent") +
                  " cn=" + req.client_cert_cn);
}

TEST(Transport, GetOverVerifiedTls) {
  TestServer server(Tls(), Echo);
  TransportOptions o;
  o.user_agent = "kslice/test";
  auto t = NewTransport(o);
  auto r = t->Do(Req("GET", server.url() + "/api/v1?x=1"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "text/plain");
  EXPECT_EQ(r->Header("x-method"), "GET");
  EXPECT_EQ(r->body, "GET /api/v1?x=1  ua=kslice/test cn=");
}

TEST(Transport, MethodsAndBodies) {
  TestServer server(Tls(), Echo);
  auto t = NewTransport();
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
    auto r = t->Do(Req(method, server.url() + "/x", "{\"a\":1}"));
    ASSERT_TRUE(r.ok()) << method << ": " << r.status();
    EXPECT_EQ(r->body, std::string(method) + " /x {\"a\":1} ua= cn=");
  }
  auto del = t->Do(Req("DELETE", server.url() + "/y"));
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->Header("x-method"), "DELETE");
}

TEST(Transport, RefusesAnUntrustedServer) {
  TestServer server(Tls(), Echo);
  TransportOptions o;
  o.tls.ca_pem = TestPki().other_ca.cert_pem;
  auto t = NewTransport(o);
  auto r = t->Do(Req("GET", server.url() + "/"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  TransportOptions insecure;
  insecure.tls.insecure_skip_verify = true;
  auto t2 = NewTransport(insecure);
  EXPECT_TRUE(t2->Do(Req("GET", server.url() + "/")).ok());
}

TEST(Transport, ServerNameOverridesTheVerifiedName) {
  // The serving certificate names kslice.test and 127.0.0.1; ask for a name it lacks
  // through "localhost" in the URL, then fix it with server_name.
  TestServer server(Tls(), Echo);
  std::string url = "https://localhost:" + std::to_string(server.port()) + "/";
  auto plain = NewTransport();
  EXPECT_FALSE(plain->Do(Req("GET", url)).ok());
  TransportOptions o;
  o.tls.server_name = "kslice.test";
  auto named = NewTransport(o);
  auto r = named->Do(Req("GET", url));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

TEST(Transport, ClientCertificateFromMemory) {
  TestServer server(Tls(/*require_client_ca=*/true), Echo);
  TransportOptions o;
  o.tls.cert_pem = TestPki().client.cert_pem;
  o.tls.key_pem = TestPki().client.key_pem;
  auto t = NewTransport(o);
  auto r = t->Do(Req("GET", server.url() + "/"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->body.find("cn=alice"), std::string::npos) << r->body;
}

TEST(Transport, KeepsTheConnectionAlive) {
  TestServer server(Tls(), Echo);
  auto t = NewTransport();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(t->Do(Req("GET", server.url() + "/")).ok());
  EXPECT_EQ(server.connections_accepted(), 1);
  EXPECT_EQ(t->stats().connections_opened, 1);
}

TEST(Transport, StreamsChunksInOrder) {
  TestServer server(Tls(), [](const TestRequest&, TestResponder& out) {
    out.StartStream(200, {{"Content-Type", "application/json"}});
    for (int i = 0; i < 5; ++i) {
      out.Write("chunk" + std::to_string(i) + ";");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    out.Finish();
  });
  auto t = NewTransport();
  std::string got;
  int heads = 0;
  auto r = t->Stream(
      Req("GET", server.url() + "/watch"),
      [&](absl::string_view chunk) {
        EXPECT_EQ(heads, 1);  // the head comes first
        got.append(chunk.data(), chunk.size());
        return absl::OkStatus();
      },
      nullptr,
      [&](const Response& head) {
        ++heads;
        EXPECT_EQ(head.status, 200);
        EXPECT_EQ(head.Header("content-type"), "application/json");
        return absl::OkStatus();
      });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(heads, 1);
  EXPECT_EQ(got, "chunk0;chunk1;chunk2;chunk3;chunk4;");
}

TEST(Transport, CancelsANeverEndingStream) {
  TestServer server(Tls(), [&](const TestRequest&, TestResponder& out) {
    out.StartStream(200, {});
    while (out.Write("tick\n")) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  auto t = NewTransport();
  CancelToken cancel;
  std::atomic<int> chunks{0};
  std::thread canceller([&] {
    while (chunks.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    cancel.Cancel();
  });
  auto start = std::chrono::steady_clock::now();
  auto r = t->Stream(Req("GET", server.url() + "/"), [&](absl::string_view) {
    ++chunks;
    return absl::OkStatus();
  }, &cancel);
  canceller.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled) << r.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Transport, CallbackErrorAbortsTheStream) {
  TestServer server(Tls(), [&](const TestRequest&, TestResponder& out) {
    out.StartStream(200, {});
    while (out.Write("data")) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  auto t = NewTransport();
  auto r = t->Stream(Req("GET", server.url() + "/"), [](absl::string_view) {
    return absl::DataLossError("bad frame");
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.status().message(), "bad frame");
}

TEST(Transport, TimesOut) {
  TestServer server(Tls(), [](const TestRequest&, TestResponder& out) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    out.Respond(200, {}, "late");
  });
  auto t = NewTransport();
  auto r = t->Do(Req("GET", server.url() + "/", "", absl::Milliseconds(200)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
}

TEST(Transport, BoundsTheResponseSize) {
  TestServer server(Tls(), [](const TestRequest&, TestResponder& out) {
    out.Respond(200, {}, std::string(100000, 'x'));
  });
  TransportOptions o;
  o.max_response_bytes = 1024;
  auto t = NewTransport(o);
  auto r = t->Do(Req("GET", server.url() + "/"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
}

TEST(Transport, ConnectionRefusedIsUnavailable) {
  int port;
  {
    TestServer server(Tls(), Echo);
    port = server.port();
  }
  auto t = NewTransport();
  auto r = t->Do(Req("GET", "https://127.0.0.1:" + std::to_string(port) + "/"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_FALSE(t->Do(Req("GET", "not a url")).ok());
}

TEST(Transport, PlainHttpAndConcurrentCallers) {
  TestServerOptions plain;
  plain.tls = false;
  TestServer server(plain, Echo);
  auto t = NewTransport();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j) {
        auto r = t->Do(Req("GET", server.url() + "/" + std::to_string(i)));
        if (r.ok() && r->status == 200) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 80);
}

TEST(Transport, ShutdownCancelsInFlightRequests) {
  TestServer server(Tls(), [&](const TestRequest&, TestResponder& out) {
    out.StartStream(200, {});
    while (out.Write("x")) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  auto t = NewTransport();
  absl::Status result;
  std::thread streamer([&] {
    result = t->Stream(Req("GET", server.url() + "/"), [](absl::string_view) {
      return absl::OkStatus();
    }).status();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  t.reset();
  streamer.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled) << result;
}

}  // namespace
}  // namespace kslice::client
