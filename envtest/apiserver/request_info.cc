#include "envtest/apiserver/request_info.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace kslice::envtest::apiserver {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's strconv.ParseBool plus presence: the apiserver treats "watch" as true unless
// it is "false" or "0" (any other value, even "", means watch).
bool WatchParamTrue(const Query& query) {
  std::optional<std::string> v = query.Find("watch");
  if (!v) return false;
  return *v != "false" && *v != "0" && *v != "False" && *v != "FALSE" && *v != "f" &&
         *v != "F";
}

}  // namespace

absl::StatusOr<std::string> PercentDecode(absl::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return absl::InvalidArgumentError("invalid URL escape");
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            std::string("invalid URL escape \"") + std::string(s.substr(i, 3)) + "\"");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<Query> Query::Parse(absl::string_view raw) {
  Query q;
  if (raw.empty()) return q;
  for (absl::string_view pair : absl::StrSplit(raw, absl::ByAnyChar("&;"))) {
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    absl::string_view k = pair.substr(0, eq);
    absl::string_view v = eq == absl::string_view::npos ? absl::string_view() : pair.substr(eq + 1);
    absl::StatusOr<std::string> key = PercentDecode(k, true);
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> value = PercentDecode(v, true);
    if (!value.ok()) return value.status();
    q.values_.emplace(std::move(*key), std::move(*value));
  }
  return q;
}

bool Query::Has(absl::string_view key) const { return values_.count(std::string(key)) > 0; }

std::string Query::Get(absl::string_view key) const {
  auto it = values_.find(std::string(key));
  return it == values_.end() ? std::string() : it->second;
}

std::optional<std::string> Query::Find(absl::string_view key) const {
  auto it = values_.find(std::string(key));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<RequestInfo> ParseRequestInfo(absl::string_view method, absl::string_view path,
                                             const Query& query) {
  RequestInfo info;
  info.verb = absl::AsciiStrToLower(std::string(method));
  absl::StatusOr<std::string> decoded = PercentDecode(path, false);
  if (!decoded.ok()) return decoded.status();
  info.path = *decoded;

  // Split the raw path, then decode each segment (an escaped '/' stays in its segment).
  std::vector<std::string> segments;
  for (absl::string_view seg : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    absl::StatusOr<std::string> d = PercentDecode(seg, false);
    if (!d.ok()) return d.status();
    segments.push_back(std::move(*d));
  }
  if (segments.empty() || (segments[0] != "api" && segments[0] != "apis")) return info;
  info.api_prefix = segments[0];
  size_t i = 1;
  if (info.api_prefix == "apis") {
    if (segments.size() < 3) return info;  // /apis, /apis/<group>: discovery
    info.group = segments[1];
    info.version = segments[2];
    i = 3;
  } else {
    if (segments.size() < 2) return info;  // /api
    info.version = segments[1];
    i = 2;
  }
  if (i >= segments.size()) return info;  // /api/v1, /apis/g/v: discovery
  info.resource_request = true;
  std::vector<std::string> parts(segments.begin() + static_cast<long>(i), segments.end());

  static const char* const kSpecialVerbs[] = {"proxy", "watch"};
  std::string verb_override;
  for (const char* special : kSpecialVerbs) {
    if (parts[0] == special) {
      verb_override = special;
      parts.erase(parts.begin());
      break;
    }
  }
  if (parts.empty()) {
    // "/api/v1/watch" alone: nothing to watch.
    info.resource_request = false;
    return info;
  }
  info.parts = parts;

  if (parts[0] == "namespaces") {
    if (parts.size() > 1) {
      info.ns = parts[1];
      // /namespaces/<ns>/<resource>...; but /namespaces/<name>, /namespaces/<name>/status
      // and /namespaces/<name>/finalize are the namespace object itself.
      if (parts.size() > 2 && parts[2] != "status" && parts[2] != "finalize") {
        parts.erase(parts.begin(), parts.begin() + 2);
      }
    }
  }
  // Now parts is [resource, name, subresource...] (or the namespaces case above).
  if (parts[0] == "namespaces" && !info.ns.empty() && parts.size() >= 2 &&
      parts[1] == info.ns) {
    // /namespaces/<name>[/<sub>]: the namespace object.
    info.resource = "namespaces";
    info.name = info.ns;
    info.ns.clear();
    if (parts.size() > 2) info.subresource = parts[2];
  } else {
    info.resource = parts[0];
    if (parts.size() >= 2) info.name = parts[1];
    if (parts.size() >= 3) info.subresource = parts[2];
  }

  if (verb_override == "watch") {
    info.verb = "watch";
  } else if (verb_override == "proxy") {
    info.verb = "proxy";
  } else if (info.verb == "get") {
    if (WatchParamTrue(query)) {
      info.verb = "watch";
    } else if (info.name.empty()) {
      info.verb = "list";
    }
  } else if (info.verb == "post") {
    info.verb = "create";
  } else if (info.verb == "put") {
    info.verb = "update";
  } else if (info.verb == "delete" && info.name.empty()) {
    info.verb = "deletecollection";
  }
  // A watch of one name is a watch of the collection filtered by name (the server
  // adds the field selector); the name is kept here.
  return info;
}

}  // namespace kslice::envtest::apiserver
