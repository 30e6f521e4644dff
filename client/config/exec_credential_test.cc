#include "client/config/exec_credential.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/codec/node.h"
#include "client/config/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::client {
namespace {

using ::kslice::client::testing::ReadFileOrDie;
using ::kslice::client::testing::ScopedEnv;
using ::kslice::client::testing::TempDir;
using ::kslice::client::testing::Testdata;
using ::testing::HasSubstr;

struct FakeClock {
  absl::Time now = absl::FromUnixSeconds(1700000000);  // 2023-11-14T22:13:20Z
};

class ExecCredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = dir_.path() + "/runs.log";
    info_ = dir_.path() + "/exec-info.json";
    env_.Set("KSLICE_PLUGIN_LOG", log_);
    env_.Set("KSLICE_PLUGIN_INFO", info_);
  }

  // The test plugin run through /bin/sh, so its mode bits do not matter.
  ExecConfig Plugin(std::vector<std::string> args,
                    std::string api_version = kExecApiVersionV1) const {
    ExecConfig e;
    e.api_version = std::move(api_version);
    e.command = "/bin/sh";
    e.args = {Testdata("plugin/plugin.sh")};
    e.args.insert(e.args.end(), args.begin(), args.end());
    e.interactive_mode = "Never";
    return e;
  }

  ExecOptions Options() {
    ExecOptions o;
    o.now = [this] { return clock_.now; };
    o.stderr_fd = -1;
    o.timeout = absl::Seconds(20);
    return o;
  }

  int LoggedRuns() const {
    std::string log;
    if (::access(log_.c_str(), R_OK) == 0) log = ReadFileOrDie(log_);
    return static_cast<int>(std::count(log.begin(), log.end(), '\n'));
  }

  TempDir dir_;
  ScopedEnv env_;
  std::string log_;
  std::string info_;
  FakeClock clock_;
};

TEST_F(ExecCredentialTest, TokenV1) {
  ExecCredentialProvider p(Plugin({"token", kExecApiVersionV1, "abc"}), {}, Options());
  absl::StatusOr<ExecCredential> c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "abc");
  EXPECT_FALSE(c->expiration.has_value());
  EXPECT_EQ(c->generation, 1u);
  EXPECT_EQ(p.runs(), 1u);
}

TEST_F(ExecCredentialTest, TokenV1Beta1) {
  ExecConfig e = Plugin({"token", kExecApiVersionV1Beta1, "beta"}, kExecApiVersionV1Beta1);
  e.interactive_mode = "IfAvailable";
  ExecCredentialProvider p(e, {}, Options());
  absl::StatusOr<ExecCredential> c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "beta");
  absl::StatusOr<codec::Node> info = codec::ParseJson(ReadFileOrDie(info_));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->Find("apiVersion")->text, kExecApiVersionV1Beta1);
}

TEST_F(ExecCredentialTest, ClientCertificate) {
  ExecCredentialProvider p(Plugin({"cert", kExecApiVersionV1}), {}, Options());
  absl::StatusOr<ExecCredential> c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "");
  EXPECT_EQ(c->client_certificate_data,
            "-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(c->client_key_data, "-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n");
}

TEST_F(ExecCredentialTest, ExecInfoWithoutClusterInfo) {
  ExecClusterInfo cluster;
  cluster.server = "https://k:6443";
  ExecCredentialProvider p(Plugin({"token", kExecApiVersionV1, "x"}), cluster, Options());
  ASSERT_TRUE(p.Get().ok());
  EXPECT_EQ(ReadFileOrDie(info_),
            R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
            R"("spec":{"interactive":false}})");
}

TEST_F(ExecCredentialTest, ExecInfoWithClusterInfo) {
  RestConfig rc;
  rc.host = "https://k:6443";
  rc.tls.server_name = "api.internal";
  rc.tls.ca_data = "CA PEM";
  rc.proxy_url = "socks5://p:1080";
  absl::StatusOr<codec::Node> ext = codec::ParseJson(R"({"audience":"kslice"})");
  rc.exec_cluster_config = *ext;
  ExecConfig e = Plugin({"token", kExecApiVersionV1, "x"});
  e.provide_cluster_info = true;
  ExecCredentialProvider p(e, ExecClusterInfoFrom(rc), Options());
  ASSERT_TRUE(p.Get().ok());
  EXPECT_EQ(ReadFileOrDie(info_),
            R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
            R"("spec":{"cluster":{"server":"https://k:6443","tls-server-name":"api.internal",)"
            R"("certificate-authority-data":"Q0EgUEVN","proxy-url":"socks5://p:1080",)"
            R"("config":{"audience":"kslice"}},"interactive":false}})");
}

TEST_F(ExecCredentialTest, ArgsAndEnv) {
  ExecConfig e = Plugin({"env", kExecApiVersionV1});
  e.env = {{"PLUGIN_TOKEN", "first"}, {"PLUGIN_TOKEN", "from-config"}};
  env_.Set("PLUGIN_TOKEN", "from-parent");
  ExecCredentialProvider p(e, {}, Options());
  absl::StatusOr<ExecCredential> c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "from-config");

  // Without the override, the parent's environment is inherited.
  ExecCredentialProvider inherit(Plugin({"env", kExecApiVersionV1}), {}, Options());
  EXPECT_EQ(inherit.Get()->token, "from-parent");
}

TEST_F(ExecCredentialTest, CachedUntilExpiry) {
  ExecCredentialProvider p(Plugin({"counter", kExecApiVersionV1, "2023-11-14T23:13:20Z"}), {},
                           Options());
  absl::StatusOr<ExecCredential> c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "tok-1");
  ASSERT_TRUE(c->expiration.has_value());
  EXPECT_EQ(*c->expiration, absl::FromUnixSeconds(1700000000 + 3600));

  clock_.now += absl::Minutes(30);
  EXPECT_EQ(p.Get()->token, "tok-1");
  clock_.now += absl::Minutes(30);  // exactly at expiry: still valid
  EXPECT_EQ(p.Get()->token, "tok-1");
  EXPECT_EQ(p.runs(), 1u);

  clock_.now += absl::Seconds(1);
  c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "tok-2");
  EXPECT_EQ(c->generation, 2u);
  EXPECT_EQ(p.runs(), 2u);
  EXPECT_EQ(LoggedRuns(), 2);
}

TEST_F(ExecCredentialTest, NoExpiryCachesUntilInvalidated) {
  ExecCredentialProvider p(Plugin({"counter", kExecApiVersionV1}), {}, Options());
  EXPECT_EQ(p.Get()->token, "tok-1");
  clock_.now += absl::Hours(24 * 365);
  EXPECT_EQ(p.Get()->token, "tok-1");

  // A 401 with the current credential: run again.
  p.Invalidate();
  absl::StatusOr<ExecCredential> c = p.Get();
  EXPECT_EQ(c->token, "tok-2");

  // A 401 reported for an older credential does not drop the newer one.
  p.Invalidate(/*generation=*/1);
  EXPECT_EQ(p.Get()->token, "tok-2");
  p.Invalidate(c->generation);
  EXPECT_EQ(p.Get()->token, "tok-3");
  EXPECT_EQ(p.runs(), 3u);
}

TEST_F(ExecCredentialTest, ConcurrentCallersShareOneRun) {
  ExecCredentialProvider p(Plugin({"counter", kExecApiVersionV1}), {}, Options());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      absl::StatusOr<ExecCredential> c = p.Get();
      if (c.ok() && c->token == "tok-1") ++ok;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(p.runs(), 1u);
}

TEST_F(ExecCredentialTest, FailureExitCode) {
  ExecCredentialProvider p(Plugin({"fail"}), {}, Options());
  absl::StatusOr<ExecCredential> c = p.Get();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(c.status().message(), HasSubstr("exec: executable /bin/sh failed with exit code 3"));
  // Failures are not cached: the next call runs the plugin again.
  EXPECT_FALSE(p.Get().ok());
  EXPECT_EQ(p.runs(), 2u);
}

TEST_F(ExecCredentialTest, StderrIsPassedThrough) {
  std::string path = dir_.path() + "/stderr.txt";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ExecOptions o = Options();
  o.stderr_fd = fd;
  ExecCredentialProvider p(Plugin({"stderr", kExecApiVersionV1}), {}, o);
  absl::StatusOr<ExecCredential> c = p.Get();
  ::close(fd);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "t");
  EXPECT_EQ(ReadFileOrDie(path), "plugin says hello on stderr\n");
}

TEST_F(ExecCredentialTest, NotFoundShowsInstallHint) {
  ExecConfig e;
  e.api_version = kExecApiVersionV1;
  e.command = "kslice-test-no-such-plugin";
  e.interactive_mode = "Never";
  e.install_hint = "Install it with: apt-get install kslice-test-plugin";
  ExecCredentialProvider p(e, {}, Options());
  absl::StatusOr<ExecCredential> c = p.Get();
  EXPECT_TRUE(absl::IsNotFound(c.status()));
  EXPECT_THAT(c.status().message(),
              HasSubstr("exec: executable kslice-test-no-such-plugin not found"));
  EXPECT_THAT(c.status().message(),
              HasSubstr("\n\nInstall it with: apt-get install kslice-test-plugin"));
  EXPECT_EQ(p.runs(), 0u);

  e.command = dir_.path() + "/missing/plugin";
  ExecCredentialProvider by_path(e, {}, Options());
  EXPECT_TRUE(absl::IsNotFound(by_path.Get().status()));

  // A file that is not executable is not a plugin either.
  e.command = dir_.Write("not-executable", "#!/bin/sh\n", 0644);
  ExecCredentialProvider not_executable(e, {}, Options());
  EXPECT_TRUE(absl::IsNotFound(not_executable.Get().status()));
}

TEST_F(ExecCredentialTest, RunsExecutableDirectlyAndFromPath) {
  std::string script = ReadFileOrDie(Testdata("plugin/plugin.sh"));
  std::string bin = dir_.path() + "/bin";
  dir_.Write("bin/kslice-test-plugin", script, 0755);

  ExecConfig e;
  e.api_version = kExecApiVersionV1;
  e.command = bin + "/kslice-test-plugin";
  e.args = {"token", kExecApiVersionV1, "direct"};
  e.interactive_mode = "Never";
  ExecCredentialProvider direct(e, {}, Options());
  absl::StatusOr<ExecCredential> c = direct.Get();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "direct");

  // A bare name is looked up in PATH.
  ExecOptions o = Options();
  o.base_environment = std::vector<std::string>{absl::StrCat("PATH=", bin, ":/usr/bin:/bin"),
                                                "KSLICE_PLUGIN_LOG=" + log_};
  e.command = "kslice-test-plugin";
  e.args = {"token", kExecApiVersionV1, "via-path"};
  ExecCredentialProvider via_path(e, {}, o);
  c = via_path.Get();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "via-path");
}

TEST_F(ExecCredentialTest, BadOutput) {
  struct Case {
    std::vector<std::string> args;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {{"badjson"}, "decoding stdout"},
           {{"nostatus", kExecApiVersionV1}, "exec plugin didn't return a status field"},
           {{"certonly", kExecApiVersionV1}, "returned only certificate or key, not both"},
           {{"token", kExecApiVersionV1Beta1, "x"},
            "exec plugin is configured to use API version client.authentication.k8s.io/v1, "
            "plugin returned version client.authentication.k8s.io/v1beta1"},
           {{"token", kExecApiVersionV1, ""}, "didn't return a token or cert/key pair"},
           {{"token", kExecApiVersionV1, "x", "yesterday"}, "status.expirationTimestamp"},
       }) {
    ExecCredentialProvider p(Plugin(c.args), {}, Options());
    absl::StatusOr<ExecCredential> cred = p.Get();
    EXPECT_FALSE(cred.ok()) << c.args[0];
    EXPECT_THAT(cred.status().message(), HasSubstr(c.want)) << c.args[0];
  }
}

TEST_F(ExecCredentialTest, ParseExecCredential) {
  absl::StatusOr<ExecCredential> c = ParseExecCredential(
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",
          "spec":{"interactive":false},
          "status":{"token":"t","expirationTimestamp":"2024-01-02T03:04:05.5+01:00"}})",
      kExecApiVersionV1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c->expiration, absl::FromUnixSeconds(1704161045) + absl::Milliseconds(500));

  c = ParseExecCredential(
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",
          "status":{"token":"t","expirationTimestamp":null}})",
      kExecApiVersionV1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->expiration.has_value());

  EXPECT_THAT(ParseExecCredential(R"({"apiVersion":"client.authentication.k8s.io/v1",
                                      "status":{"token":"t"}})",
                                  kExecApiVersionV1)
                  .status()
                  .message(),
              HasSubstr("kind is missing"));
  EXPECT_THAT(ParseExecCredential(R"({"kind":"Secret","apiVersion":"v1"})", kExecApiVersionV1)
                  .status()
                  .message(),
              HasSubstr("want ExecCredential"));
  EXPECT_THAT(ParseExecCredential(R"({"kind":"ExecCredential",
                                      "apiVersion":"client.authentication.k8s.io/v1",
                                      "status":{"token":5}})",
                                  kExecApiVersionV1)
                  .status()
                  .message(),
              HasSubstr("status.token must be a string"));
  EXPECT_FALSE(ParseExecCredential("[]", kExecApiVersionV1).ok());
}

TEST_F(ExecCredentialTest, Timeout) {
  ExecOptions o = Options();
  o.timeout = absl::Milliseconds(300);
  ExecCredentialProvider p(Plugin({"sleep"}), {}, o);
  absl::Time start = absl::Now();
  absl::StatusOr<ExecCredential> c = p.Get();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(c.status().message(), HasSubstr("did not finish within 300ms"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(ExecCredentialTest, OutputIsBounded) {
  ExecOptions o = Options();
  o.max_output_bytes = 1000;
  ExecCredentialProvider p(Plugin({"big"}), {}, o);
  absl::StatusOr<ExecCredential> c = p.Get();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(c.status().message(), HasSubstr("more than 1000 bytes"));
}

TEST_F(ExecCredentialTest, InteractiveModes) {
  ExecConfig e = Plugin({"token", kExecApiVersionV1, "x"});
  e.interactive_mode = "Always";
  ExecCredentialProvider always(e, {}, Options());
  EXPECT_THAT(always.Get().status().message(),
              HasSubstr("exec plugin cannot support interactive mode"));
  e.interactive_mode = "IfAvailable";
  ExecCredentialProvider if_available(e, {}, Options());
  EXPECT_TRUE(if_available.Get().ok());
  e.interactive_mode = "Bogus";
  ExecCredentialProvider bogus(e, {}, Options());
  EXPECT_FALSE(bogus.Get().ok());
  e.interactive_mode = "Never";
  e.api_version = "client.authentication.k8s.io/v1alpha1";
  ExecCredentialProvider alpha(e, {}, Options());
  EXPECT_THAT(alpha.Get().status().message(), HasSubstr("invalid apiVersion"));
}

}  // namespace
}  // namespace kslice::client
