#include "client/rest/resource.h"

#include <map>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/scheme/scheme.h"

namespace kslice::client {

namespace {

std::string Plural(const std::string& kind) {
  std::string lower = absl::AsciiStrToLower(kind);
  if (kind == "Endpoints") return lower;
  if (absl::EndsWith(lower, "s") || absl::EndsWith(lower, "x") || absl::EndsWith(lower, "ch")) {
    return lower + "es";
  }
  if (absl::EndsWith(lower, "y") && lower.size() > 1 &&
      std::string("aeiou").find(lower[lower.size() - 2]) == std::string::npos) {
    return lower.substr(0, lower.size() - 1) + "ies";
  }
  return lower + "s";
}

bool ClusterScoped(const std::string& api_version, const std::string& kind) {
  return api_version == "v1" &&
         (kind == "Node" || kind == "Namespace" || kind == "PersistentVolume" ||
          kind == "ComponentStatus");
}

struct Table {
  std::map<const google::protobuf::Descriptor*, ResourceInfo> by_type;
  std::map<std::pair<std::string, std::string>, const ResourceInfo*> by_name;
};

const Table& Resources() {
  static const Table* table = [] {
    auto* t = new Table();
    const auto& scheme = kslice::api::Scheme::Builtin();
    for (const auto& tm : scheme.Kinds()) {
      const google::protobuf::Message* proto = scheme.Prototype(tm.api_version, tm.kind);
      const google::protobuf::Descriptor* d = proto->GetDescriptor();
      // Object kinds only: first field metadata of type ObjectMeta.
      if (d->field_count() == 0 || d->field(0)->name() != "metadata" ||
          d->field(0)->message_type() == nullptr ||
          d->field(0)->message_type()->name() != "ObjectMeta") {
        continue;
      }
      if (t->by_type.contains(d)) continue;
      ResourceInfo info;
      size_t slash = tm.api_version.find('/');
      info.group = slash == std::string::npos ? "" : tm.api_version.substr(0, slash);
      info.version = slash == std::string::npos ? tm.api_version : tm.api_version.substr(slash + 1);
      info.kind = tm.kind;
      info.resource = Plural(tm.kind);
      info.namespaced = !ClusterScoped(tm.api_version, tm.kind);
      auto& slot = t->by_type[d];
      slot = std::move(info);
      t->by_name[{tm.api_version, tm.kind}] = &slot;
    }
    return t;
  }();
  return *table;
}

}  // namespace

const ResourceInfo* ResourceFor(const google::protobuf::Descriptor* descriptor) {
  const Table& t = Resources();
  auto it = t.by_type.find(descriptor);
  return it == t.by_type.end() ? nullptr : &it->second;
}

const ResourceInfo* ResourceFor(absl::string_view api_version, absl::string_view kind) {
  const Table& t = Resources();
  auto it = t.by_name.find({std::string(api_version), std::string(kind)});
  return it == t.by_name.end() ? nullptr : it->second;
}

std::string PercentEncode(absl::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string ResourcePath(const ResourceInfo& r, absl::string_view ns, absl::string_view name,
                         absl::string_view subresource) {
  std::string path = r.group.empty() ? absl::StrCat("/api/", r.version)
                                     : absl::StrCat("/apis/", r.group, "/", r.version);
  if (r.namespaced && !ns.empty()) absl::StrAppend(&path, "/namespaces/", PercentEncode(ns));
  absl::StrAppend(&path, "/", r.resource);
  if (!name.empty()) {
    absl::StrAppend(&path, "/", PercentEncode(name));
    if (!subresource.empty()) absl::StrAppend(&path, "/", PercentEncode(subresource));
  }
  return path;
}

std::string QueryString(const ListOptions& o) {
  std::vector<std::string> params;
  auto add = [&](absl::string_view key, absl::string_view value) {
    params.push_back(absl::StrCat(key, "=", PercentEncode(value)));
  };
  if (!o.label_selector.empty()) add("labelSelector", o.label_selector);
  if (!o.field_selector.empty()) add("fieldSelector", o.field_selector);
  if (o.limit > 0) add("limit", absl::StrCat(o.limit));
  if (!o.continue_token.empty()) add("continue", o.continue_token);
  if (!o.resource_version.empty()) add("resourceVersion", o.resource_version);
  if (!o.resource_version_match.empty()) add("resourceVersionMatch", o.resource_version_match);
  if (o.timeout_seconds) add("timeoutSeconds", absl::StrCat(*o.timeout_seconds));
  if (o.watch) add("watch", "true");
  if (o.allow_watch_bookmarks) add("allowWatchBookmarks", "true");
  if (o.send_initial_events) add("sendInitialEvents", *o.send_initial_events ? "true" : "false");
  return params.empty() ? "" : absl::StrCat("?", absl::StrJoin(params, "&"));
}

}  // namespace kslice::client
