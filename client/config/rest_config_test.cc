#include "client/config/rest_config.h"

#include <string>

#include "absl/strings/match.h"
#include "client/config/version.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::client {
namespace {

using ::testing::HasSubstr;

TEST(VersionTest, UserAgentCarriesVersion) {
  EXPECT_EQ(std::string(kDefaultUserAgent), std::string("kslice/") + kVersion);
  RestConfig config;
  EXPECT_EQ(config.user_agent, kDefaultUserAgent);
}

TEST(RestConfigTest, Defaults) {
  RestConfig config;
  EXPECT_EQ(config.api_path, "/api");
  EXPECT_EQ(config.namespace_, "default");
  EXPECT_FLOAT_EQ(config.qps, 5.0f);
  EXPECT_EQ(config.burst, 10);
  EXPECT_EQ(config.timeout, absl::ZeroDuration());
}

struct ServerCase {
  std::string host;
  bool default_tls;
  std::string want;  // ServerUrl::String(), or "" for an error
  std::string want_hostport = "";

  friend void PrintTo(const ServerCase& c, std::ostream* os) { *os << '"' << c.host << '"'; }
};

class ServerUrlTest : public ::testing::TestWithParam<ServerCase> {};

TEST_P(ServerUrlTest, Parses) {
  const ServerCase& c = GetParam();
  absl::StatusOr<ServerUrl> url = ParseServerUrl(c.host, c.default_tls);
  if (c.want.empty()) {
    EXPECT_FALSE(url.ok()) << c.host << " parsed as " << url->String();
    return;
  }
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->String(), c.want);
  if (!c.want_hostport.empty()) {
    EXPECT_EQ(url->HostPort(), c.want_hostport);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ServerUrlTest,
    ::testing::Values(ServerCase{"https://example.com:6443", false, "https://example.com:6443"},
                      ServerCase{"https://example.com", false, "https://example.com:443"},
                      ServerCase{"http://example.com", true, "http://example.com:80"},
                      ServerCase{"HTTPS://Example.com:1", false, "https://Example.com:1"},
                      // No scheme: https when TLS settings are present, http otherwise.
                      ServerCase{"example.com:6443", true, "https://example.com:6443"},
                      ServerCase{"example.com:8080", false, "http://example.com:8080"},
                      ServerCase{"example.com", false, "http://example.com:80"},
                      ServerCase{"localhost", true, "https://localhost:443"},
                      ServerCase{"https://[::1]:6443", false, "https://[::1]:6443", "[::1]:6443"},
                      ServerCase{"[fd00::1]", true, "https://[fd00::1]:443", "[fd00::1]:443"},
                      ServerCase{"https://10.0.0.1:443/", false, "https://10.0.0.1:443"},
                      ServerCase{"https://h/prefix/", false, "https://h:443/prefix"},
                      ServerCase{"https://h:6443/a/b?x=1#frag", false, "https://h:6443/a/b"},
                      ServerCase{"", false, ""}, ServerCase{"ftp://h", false, ""},
                      ServerCase{"https://", false, ""}, ServerCase{"https://h:0", false, ""},
                      ServerCase{"https://h:65536", false, ""},
                      ServerCase{"https://h:x", false, ""},
                      ServerCase{"https://user:pw@h", false, ""},
                      ServerCase{"https://::1", false, ""}, ServerCase{"https://[::1", false, ""},
                      ServerCase{"https://h:", false, ""}));

TEST(RestConfigTest, SchemeFollowsTlsSettings) {
  RestConfig config;
  config.host = "example.com:6443";
  EXPECT_EQ(config.Server()->scheme, "http");
  config.tls.ca_data = "pem";
  EXPECT_EQ(config.Server()->scheme, "https");
  config.tls = TlsConfig{};
  config.tls.insecure_skip_tls_verify = true;
  EXPECT_EQ(config.Server()->scheme, "https");
}

TEST(RestConfigTest, ValidateRejectsInconsistentSettings) {
  RestConfig base;
  base.host = "https://h:6443";
  ASSERT_TRUE(base.Validate().ok());

  RestConfig c = base;
  c.tls.insecure_skip_tls_verify = true;
  c.tls.ca_data = "pem";
  EXPECT_THAT(c.Validate().message(), HasSubstr("insecure"));

  c = base;
  c.tls.client_cert_data = "cert";
  EXPECT_THAT(c.Validate().message(), HasSubstr("without its key"));

  c = base;
  c.bearer_token = "t";
  c.username = "u";
  EXPECT_THAT(c.Validate().message(), HasSubstr("more than one authentication method"));

  c = base;
  c.proxy_url = "ftp://proxy";
  EXPECT_THAT(c.Validate().message(), HasSubstr("must be http, https, or socks5"));

  c = base;
  c.burst = 0;
  EXPECT_FALSE(c.Validate().ok());
  c.qps = -1;  // negative qps: no client-side rate limit, burst irrelevant
  EXPECT_TRUE(c.Validate().ok());

  c = base;
  c.exec = ExecConfig{};
  c.exec->command = "x";
  c.exec->api_version = "client.authentication.k8s.io/v1alpha1";
  EXPECT_THAT(c.Validate().message(), HasSubstr("invalid apiVersion"));

  c = base;
  c.host = "ftp://h";
  EXPECT_THAT(c.Validate().message(), HasSubstr("unsupported scheme"));
}

TEST(ProxyUrlTest, Schemes) {
  EXPECT_TRUE(ValidateProxyUrl("http://proxy:3128").ok());
  EXPECT_TRUE(ValidateProxyUrl("https://proxy").ok());
  EXPECT_TRUE(ValidateProxyUrl("socks5://user:pw@proxy:1080").ok());
  EXPECT_FALSE(ValidateProxyUrl("proxy:3128").ok());
  EXPECT_FALSE(ValidateProxyUrl("socks4://proxy").ok());
  EXPECT_FALSE(ValidateProxyUrl("http://").ok());
}

}  // namespace
}  // namespace kslice::client
