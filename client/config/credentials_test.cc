#include "client/config/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "client/config/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::client {
namespace {

using ::kslice::client::testing::TempDir;
using ::kslice::client::testing::Testdata;
using ::testing::HasSubstr;

// A controllable clock.
struct FakeClock {
  absl::Time now = absl::FromUnixSeconds(1700000000);
  std::function<absl::Time()> Fn() {
    return [this] { return now; };
  }
};

void SetMtime(const std::string& path, int64_t seconds) {
  struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

TEST(TokenFileSourceTest, ReadsAndTrims) {
  TempDir dir;
  std::string path = dir.Write("token", "  abc.def\n");
  TokenFileSource source(path);
  EXPECT_EQ(*source.Token(), "abc.def");
  EXPECT_EQ(source.path(), path);
}

TEST(TokenFileSourceTest, RereadsOnlyWhenChangedAndAtMostEveryInterval) {
  TempDir dir;
  FakeClock clock;
  std::string path = dir.Write("token", "one");
  SetMtime(path, 1000);
  TokenFileSource source(path, "", absl::Seconds(30), clock.Fn());
  EXPECT_EQ(*source.Token(), "one");
  EXPECT_EQ(source.reads(), 1u);

  // Unchanged file: stat'ed after the interval, not read again.
  clock.now += absl::Seconds(31);
  EXPECT_EQ(*source.Token(), "one");
  EXPECT_EQ(source.reads(), 1u);

  // Changed (same size, new mtime), but within the interval: still the old token.
  dir.Write("token", "two");
  SetMtime(path, 2000);
  clock.now += absl::Seconds(10);
  EXPECT_EQ(*source.Token(), "one");
  EXPECT_EQ(source.reads(), 1u);

  clock.now += absl::Seconds(21);
  EXPECT_EQ(*source.Token(), "two");
  EXPECT_EQ(source.reads(), 2u);

  // ForceCheck skips the wait.
  dir.Write("token", "three");
  SetMtime(path, 3000);
  EXPECT_EQ(*source.Token(), "two");
  source.ForceCheck();
  EXPECT_EQ(*source.Token(), "three");
}

TEST(TokenFileSourceTest, AtomicSwapIsSeen) {
  // kubelet writes projected tokens into a new file and renames it into place.
  TempDir dir;
  FakeClock clock;
  std::string path = dir.Write("token", "old");
  TokenFileSource source(path, "", absl::Seconds(1), clock.Fn());
  EXPECT_EQ(*source.Token(), "old");
  std::string next = dir.Write("token.new", "new");
  ASSERT_EQ(std::rename(next.c_str(), path.c_str()), 0);
  clock.now += absl::Seconds(2);
  EXPECT_EQ(*source.Token(), "new");
}

TEST(TokenFileSourceTest, KeepsLastTokenWhenFileDisappears) {
  TempDir dir;
  FakeClock clock;
  std::string path = dir.Write("token", "kept");
  TokenFileSource source(path, "", absl::Seconds(1), clock.Fn());
  EXPECT_EQ(*source.Token(), "kept");
  std::remove(path.c_str());
  clock.now += absl::Seconds(5);
  EXPECT_EQ(*source.Token(), "kept");
  dir.Write("token", "   ");  // an empty file is no token either
  clock.now += absl::Seconds(5);
  EXPECT_EQ(*source.Token(), "kept");
}

TEST(TokenFileSourceTest, MissingFileIsAnErrorUnlessThereIsAFallback) {
  TempDir dir;
  std::string path = dir.path() + "/missing";
  TokenFileSource no_fallback(path);
  absl::StatusOr<std::string> token = no_fallback.Token();
  EXPECT_FALSE(token.ok());
  EXPECT_THAT(token.status().message(), HasSubstr(path));

  TokenFileSource with_fallback(path, "static");
  EXPECT_EQ(*with_fallback.Token(), "static");

  // Once the file shows up it is used (nothing was cached, so no waiting).
  dir.Write("missing", "from-file");
  EXPECT_EQ(*no_fallback.Token(), "from-file");

  std::string empty = dir.Write("empty", "\n");
  EXPECT_THAT(TokenFileSource(empty).Token().status().message(), HasSubstr("empty"));
}

TEST(TokenFileSourceTest, ConcurrentReaders) {
  TempDir dir;
  std::string path = dir.Write("token", "t0");
  TokenFileSource source(path, "", absl::ZeroDuration());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 1; i < 50; ++i) {
      std::string next = dir.Write("token.tmp", "t" + std::to_string(i));
      std::rename(next.c_str(), path.c_str());
    }
    stop = true;
  });
  std::vector<std::thread> readers;
  std::atomic<int> failures{0};
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        absl::StatusOr<std::string> t = source.Token();
        if (!t.ok() || t->empty() || (*t)[0] != 't') ++failures;
      }
    });
  }
  writer.join();
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(failures, 0);
}

TEST(CredentialsTest, StaticToken) {
  RestConfig rc;
  rc.bearer_token = "static";
  Credentials creds(rc);
  EXPECT_EQ(*creds.CurrentBearerToken(), "static");
  EXPECT_EQ(*creds.AuthorizationHeader(), "Bearer static");
  EXPECT_TRUE(creds.CurrentClientCertificate()->empty());
  EXPECT_FALSE(creds.UsesExecPlugin());
}

TEST(CredentialsTest, TokenFileWinsOverStaticTokenWhileReadable) {
  TempDir dir;
  RestConfig rc;
  rc.bearer_token = "static";
  rc.bearer_token_file = dir.path() + "/token";
  Credentials creds(rc);
  // Unreadable file: the static token.
  EXPECT_EQ(*creds.CurrentBearerToken(), "static");
  dir.Write("token", "from-file");
  creds.Invalidate();
  EXPECT_EQ(*creds.CurrentBearerToken(), "from-file");
}

TEST(CredentialsTest, BasicAuth) {
  RestConfig rc;
  rc.username = "admin";
  rc.password = "s3cret";
  Credentials creds(rc);
  EXPECT_EQ(*creds.AuthorizationHeader(), "Basic " + absl::Base64Escape("admin:s3cret"));
  EXPECT_EQ(*creds.CurrentBearerToken(), "");
}

TEST(CredentialsTest, Anonymous) {
  Credentials creds(RestConfig{});
  EXPECT_EQ(*creds.AuthorizationHeader(), "");
  EXPECT_TRUE(creds.CurrentClientCertificate()->empty());
}

TEST(CredentialsTest, StaticClientCertificate) {
  RestConfig rc;
  rc.tls.client_cert_data = "cert";
  rc.tls.client_key_data = "key";
  Credentials creds(rc);
  absl::StatusOr<ClientCertificate> cert = creds.CurrentClientCertificate();
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(cert->cert_pem, "cert");
  EXPECT_EQ(cert->key_pem, "key");
  EXPECT_EQ(*creds.AuthorizationHeader(), "");
}

ExecConfig PluginConfig(std::vector<std::string> args) {
  ExecConfig e;
  e.api_version = kExecApiVersionV1;
  e.command = "/bin/sh";
  e.args = {Testdata("plugin/plugin.sh")};
  e.args.insert(e.args.end(), args.begin(), args.end());
  e.interactive_mode = "Never";
  return e;
}

TEST(CredentialsTest, ExecPluginWhenNothingElseIsConfigured) {
  RestConfig rc;
  rc.host = "https://k";
  rc.exec = PluginConfig({"token", kExecApiVersionV1, "exec-token"});
  Credentials creds(rc);
  EXPECT_TRUE(creds.UsesExecPlugin());
  EXPECT_EQ(*creds.AuthorizationHeader(), "Bearer exec-token");

  rc.exec = PluginConfig({"cert", kExecApiVersionV1});
  Credentials cert_creds(rc);
  absl::StatusOr<ClientCertificate> cert = cert_creds.CurrentClientCertificate();
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_THAT(cert->cert_pem, HasSubstr("BEGIN CERTIFICATE"));
  EXPECT_THAT(cert->key_pem, HasSubstr("BEGIN PRIVATE KEY"));
  EXPECT_EQ(*cert_creds.AuthorizationHeader(), "");
}

TEST(CredentialsTest, ExplicitCredentialsWinOverExecPlugin) {
  RestConfig rc;
  rc.exec = PluginConfig({"fail"});
  rc.bearer_token = "explicit";
  Credentials creds(rc);
  EXPECT_FALSE(creds.UsesExecPlugin());
  EXPECT_EQ(*creds.AuthorizationHeader(), "Bearer explicit");
}

TEST(CredentialsTest, ExecPluginErrorsSurface) {
  RestConfig rc;
  rc.exec = PluginConfig({"fail"});
  CredentialsOptions options;
  options.exec.stderr_fd = -1;
  Credentials creds(rc, options);
  absl::StatusOr<std::string> header = creds.AuthorizationHeader();
  EXPECT_FALSE(header.ok());
  EXPECT_THAT(header.status().message(), HasSubstr("exit code 3"));
}

}  // namespace
}  // namespace kslice::client
