#include "envtest/storage/continue_token.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace kslice::envtest::storage {
namespace {

constexpr char kTokenVersion[] = "meta.k8s.io/v1";
constexpr char kInvalid[] = "continue key is not valid";

absl::Status Invalid(absl::string_view detail) {
  return absl::InvalidArgumentError(absl::StrCat(kInvalid, ": ", detail));
}

bool ValidBase64Url(absl::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return s.size() % 4 != 1;
}

}  // namespace

std::string EncodeContinueToken(int64_t resource_version, absl::string_view start_key) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("v");
  w.String(kTokenVersion);
  w.Key("rv");
  w.Int64(resource_version);
  w.Key("start");
  w.String(start_key.data(), static_cast<rapidjson::SizeType>(start_key.size()));
  w.EndObject();
  return absl::WebSafeBase64Escape(absl::string_view(buf.GetString(), buf.GetSize()));
}

absl::StatusOr<ContinueToken> DecodeContinueToken(absl::string_view token) {
  // Go's base64.RawURLEncoding: URL alphabet, no padding.
  std::string json;
  if (!ValidBase64Url(token) || !absl::WebSafeBase64Unescape(token, &json)) {
    return Invalid("illegal base64 data");
  }
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return Invalid(rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return Invalid("the token is not a JSON object");
  std::string version;
  ContinueToken out;
  // Indexing, not iterator comparison: rapidjson's member iterator `!=` is ambiguous
  // under clang's C++20 rewritten operators (-Wambiguous-reversed-operator).
  for (rapidjson::SizeType i = 0; i < doc.MemberCount(); ++i) {
    const auto it = doc.MemberBegin() + i;
    const absl::string_view key(it->name.GetString(), it->name.GetStringLength());
    const rapidjson::Value& v = it->value;
    if (key == "v") {
      if (!v.IsString()) return Invalid("field v is not a string");
      version.assign(v.GetString(), v.GetStringLength());
    } else if (key == "rv") {
      if (!v.IsInt64()) return Invalid("field rv is not an int64");
      out.resource_version = v.GetInt64();
    } else if (key == "start") {
      if (!v.IsString()) return Invalid("field start is not a string");
      out.start_key.assign(v.GetString(), v.GetStringLength());
    }
  }
  if (version != kTokenVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat(kInvalid, ": server does not recognize this encoded version ", version));
  }
  if (out.resource_version == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        kInvalid, ": incorrect encoded start resourceVersion (version meta.k8s.io/v1)"));
  }
  if (out.start_key.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kInvalid, ": encoded start key empty (version meta.k8s.io/v1)"));
  }
  // Upstream's defence against path traversal: the key, rooted, must already be clean.
  std::string rooted = out.start_key;
  if (rooted[0] != '/') rooted.insert(rooted.begin(), '/');
  const std::string cleaned = CleanPath(rooted);
  if (cleaned != rooted) return Invalid(out.start_key);
  out.start_key = cleaned.substr(1);
  return out;
}

std::string CleanPath(absl::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path[0] == '/';
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out = absl::StrJoin(parts, "/");
  if (rooted) return "/" + out;
  return out.empty() ? "." : out;
}

}  // namespace kslice::envtest::storage
