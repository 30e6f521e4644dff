#include "client/config/rest_config.h"

#include <charconv>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/config/version.h"

namespace kslice::client {
namespace {

struct ParsedUrl {
  std::string scheme;
  std::string authority;
  std::string path;
};

// Splits "scheme://authority/path?query#fragment"; scheme may be absent.
ParsedUrl SplitUrl(absl::string_view text) {
  ParsedUrl out;
  size_t sep = text.find("://");
  // A scheme is letters, digits, '+', '-', '.' starting with a letter.
  if (sep != absl::string_view::npos && sep > 0 &&
      absl::ascii_isalpha(static_cast<unsigned char>(text[0]))) {
    bool ok = true;
    for (char c : text.substr(0, sep)) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
        ok = false;
        break;
      }
    }
    if (ok) {
      out.scheme = absl::AsciiStrToLower(text.substr(0, sep));
      text.remove_prefix(sep + 3);
    }
  }
  size_t end = text.find_first_of("?#");
  if (end != absl::string_view::npos) text = text.substr(0, end);
  size_t slash = text.find('/');
  out.authority = std::string(text.substr(0, slash));
  if (slash != absl::string_view::npos) out.path = std::string(text.substr(slash));
  return out;
}

// host[:port] or [v6][:port]. port 0 means "not given".
absl::Status SplitAuthority(absl::string_view authority, std::string* host, int* port) {
  *port = 0;
  if (authority.find('@') != absl::string_view::npos) {
    return absl::InvalidArgumentError("user information in the URL is not supported");
  }
  absl::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError("missing ']' in IPv6 address");
    }
    *host = std::string(authority.substr(1, close - 1));
    absl::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return absl::InvalidArgumentError("unexpected text after ']'");
      port_text = rest.substr(1);
      has_port = true;
    }
    if (host->find(':') == std::string::npos) {
      return absl::InvalidArgumentError("brackets hold something that is not an IPv6 address");
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != absl::string_view::npos) {
      if (authority.find(':') != colon) {
        return absl::InvalidArgumentError("IPv6 addresses must be written in brackets");
      }
      port_text = authority.substr(colon + 1);
      has_port = true;
      authority = authority.substr(0, colon);
    }
    *host = std::string(authority);
  }
  if (host->empty()) return absl::InvalidArgumentError("no host");
  if (has_port) {
    int value = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
        value < 1 || value > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("invalid port \"", port_text, "\""));
    }
    *port = value;
  }
  return absl::OkStatus();
}

}  // namespace

std::string ServerUrl::HostPort() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

std::string ServerUrl::String() const {
  return absl::StrCat(scheme, "://", HostPort(), path_prefix);
}

absl::StatusOr<ServerUrl> ParseServerUrl(absl::string_view text, bool default_tls) {
  auto fail = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("invalid server address \"", text, "\": ", why));
  };
  if (text.empty()) return fail("empty");
  ParsedUrl parts = SplitUrl(text);
  ServerUrl url;
  if (parts.scheme.empty()) {
    url.scheme = default_tls ? "https" : "http";
  } else if (parts.scheme == "http" || parts.scheme == "https") {
    url.scheme = parts.scheme;
  } else {
    return fail(absl::StrCat("unsupported scheme \"", parts.scheme, "\" (want http or https)"));
  }
  int port = 0;
  if (absl::Status s = SplitAuthority(parts.authority, &url.host, &port); !s.ok()) {
    return fail(s.message());
  }
  url.port = static_cast<uint16_t>(port != 0 ? port : (url.scheme == "https" ? 443 : 80));
  std::string path = parts.path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  url.path_prefix = path;
  return url;
}

absl::Status ValidateProxyUrl(absl::string_view proxy_url) {
  ParsedUrl parts = SplitUrl(proxy_url);
  if (parts.scheme != "http" && parts.scheme != "https" && parts.scheme != "socks5") {
    return absl::InvalidArgumentError(absl::StrCat("invalid proxy URL \"", proxy_url,
                                                   "\": unsupported scheme \"", parts.scheme,
                                                   "\", must be http, https, or socks5"));
  }
  // Proxies may carry credentials (user:password@host).
  absl::string_view authority = parts.authority;
  if (size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string host;
  int port = 0;
  if (absl::Status s = SplitAuthority(authority, &host, &port); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid proxy URL \"", proxy_url, "\": ", s.message()));
  }
  return absl::OkStatus();
}

RestConfig::RestConfig() : user_agent(kDefaultUserAgent) {}

bool RestConfig::HasTlsSettings() const {
  return !tls.ca_data.empty() || !tls.ca_file.empty() || !tls.client_cert_data.empty() ||
         !tls.client_cert_file.empty() || tls.insecure_skip_tls_verify;
}

absl::StatusOr<ServerUrl> RestConfig::Server() const {
  return ParseServerUrl(host, HasTlsSettings());
}

absl::Status RestConfig::Validate() const {
  if (absl::StatusOr<ServerUrl> url = Server(); !url.ok()) return url.status();
  if (!proxy_url.empty()) {
    if (absl::Status s = ValidateProxyUrl(proxy_url); !s.ok()) return s;
  }
  if (tls.insecure_skip_tls_verify && (!tls.ca_data.empty() || !tls.ca_file.empty())) {
    return absl::InvalidArgumentError(
        "specifying a root certificates file with the insecure flag is not allowed");
  }
  if (tls.client_cert_data.empty() != tls.client_key_data.empty()) {
    return absl::InvalidArgumentError(tls.client_cert_data.empty()
                                          ? "a client key is set without a client certificate"
                                          : "a client certificate is set without its key");
  }
  if (HasTokenAuth() && HasBasicAuth()) {
    return absl::InvalidArgumentError(
        "more than one authentication method: bearer token and basic auth");
  }
  if (exec) {
    if (exec->command.empty()) return absl::InvalidArgumentError("exec plugin has no command");
    if (exec->api_version != kExecApiVersionV1 && exec->api_version != kExecApiVersionV1Beta1) {
      return absl::InvalidArgumentError(
          absl::StrCat("exec plugin: invalid apiVersion \"", exec->api_version, "\""));
    }
  }
  if (!std::isfinite(qps)) return absl::InvalidArgumentError("qps must be a finite number");
  if (qps > 0 && burst <= 0) {
    return absl::InvalidArgumentError("burst must be positive when qps is positive");
  }
  if (api_path.empty() || api_path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("api_path \"", api_path, "\" must start with '/'"));
  }
  return absl::OkStatus();
}

}  // namespace kslice::client
