#include "envtest/discovery/documents.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/codec/node.h"

namespace kslice::envtest::discovery {
namespace {

using kslice::codec::Node;

Node Str(std::string s) { return Node::String(std::move(s)); }

Node StrArray(const std::vector<std::string>& items) {
  Node a = Node::Array();
  for (const std::string& s : items) a.Push(Str(s));
  return a;
}

std::string Sha512Hex(absl::string_view data) {
  unsigned char digest[SHA512_DIGEST_LENGTH] = {};
  SHA512(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return absl::AsciiStrToUpper(absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest))));
}

std::string Quote(absl::string_view etag) { return absl::StrCat("\"", etag, "\""); }

// Group order of kube-apiserver's /apis (the aggregator's group priorities); kubectl
// prefers earlier groups for ambiguous resource names. Other groups follow in
// registration order.
int GroupPriority(const std::string& group) {
  static const std::vector<std::string>* order = new std::vector<std::string>{
      "apiregistration.k8s.io",
      "apps",
      "events.k8s.io",
      "authentication.k8s.io",
      "authorization.k8s.io",
      "autoscaling",
      "batch",
      "certificates.k8s.io",
      "networking.k8s.io",
      "policy",
      "rbac.authorization.k8s.io",
      "storage.k8s.io",
      "admissionregistration.k8s.io",
      "apiextensions.k8s.io",
      "scheduling.k8s.io",
      "coordination.k8s.io",
      "node.k8s.io",
      "discovery.k8s.io",
      "flowcontrol.apiserver.k8s.io",
      "resource.k8s.io",
  };
  auto it = std::find(order->begin(), order->end(), group);
  return it == order->end() ? static_cast<int>(order->size())
                            : static_cast<int>(it - order->begin());
}

// Kubernetes version priority (apimachinery's version.CompareKubeAwareVersionStrings):
// GA before beta before alpha, higher numbers first, anything else last (lexically).
struct KubeVersion {
  bool kube_like = false;
  int major = 0;
  int stability = 0;  // 2 GA, 1 beta, 0 alpha
  int minor = 0;
};

KubeVersion ParseKubeVersion(absl::string_view v) {
  KubeVersion out;
  if (!absl::ConsumePrefix(&v, "v")) return out;
  size_t digits = 0;
  while (digits < v.size() && absl::ascii_isdigit(v[digits])) ++digits;
  if (digits == 0 || !absl::SimpleAtoi(v.substr(0, digits), &out.major)) return out;
  v.remove_prefix(digits);
  if (v.empty()) {
    out.kube_like = true;
    out.stability = 2;
    return out;
  }
  if (absl::ConsumePrefix(&v, "beta")) {
    out.stability = 1;
  } else if (absl::ConsumePrefix(&v, "alpha")) {
    out.stability = 0;
  } else {
    return out;
  }
  if (v.empty() || !absl::SimpleAtoi(v, &out.minor)) return out;
  out.kube_like = true;
  return out;
}

bool VersionBefore(const std::string& a, const std::string& b) {
  KubeVersion x = ParseKubeVersion(a), y = ParseKubeVersion(b);
  if (x.kube_like != y.kube_like) return x.kube_like;
  if (!x.kube_like) return a < b;
  if (x.stability != y.stability) return x.stability > y.stability;
  if (x.major != y.major) return x.major > y.major;
  return x.minor > y.minor;
}

struct Served {
  const storage::ResourceConfig* config;
  ResourceInfo info;
};

struct VersionGroup {
  std::string version;
  std::vector<Served> resources;  // sorted by resource name
};

struct Group {
  std::string name;
  int registration = 0;
  std::vector<VersionGroup> versions;  // preferred first
};

std::string GroupVersionString(const std::string& group, const std::string& version) {
  return group.empty() ? version : absl::StrCat(group, "/", version);
}

std::string GroupVersionPath(const std::string& group, const std::string& version) {
  return group.empty() ? absl::StrCat("api/", version) : absl::StrCat("apis/", group, "/", version);
}

Node GroupVersionForDiscovery(const std::string& group, const std::string& version) {
  Node n = Node::Object();
  n.Add("groupVersion", Str(GroupVersionString(group, version)));
  n.Add("version", Str(version));
  return n;
}

Node ApiGroup(const Group& g, bool with_type_meta) {
  Node n = Node::Object();
  if (with_type_meta) {
    n.Add("kind", Str("APIGroup"));
    n.Add("apiVersion", Str("v1"));
  }
  n.Add("name", Str(g.name));
  Node versions = Node::Array();
  for (const VersionGroup& v : g.versions)
    versions.Push(GroupVersionForDiscovery(g.name, v.version));
  n.Add("versions", std::move(versions));
  n.Add("preferredVersion", GroupVersionForDiscovery(g.name, g.versions.front().version));
  return n;
}

Node ApiResourceList(const std::string& group, const VersionGroup& v) {
  Node n = Node::Object();
  n.Add("kind", Str("APIResourceList"));
  if (!group.empty()) n.Add("apiVersion", Str("v1"));
  n.Add("groupVersion", Str(GroupVersionString(group, v.version)));
  // Resources and subresources, sorted by name as upstream lists them.
  std::vector<std::pair<std::string, Node>> entries;
  for (const Served& s : v.resources) {
    const storage::ResourceConfig& c = *s.config;
    Node r = Node::Object();
    r.Add("name", Str(c.key.resource));
    r.Add("singularName", Str(s.info.singular));
    r.Add("namespaced", Node::Bool(c.namespaced));
    r.Add("kind", Str(c.kind));
    r.Add("verbs", StrArray(s.info.verbs));
    if (!s.info.short_names.empty()) r.Add("shortNames", StrArray(s.info.short_names));
    if (!s.info.categories.empty()) r.Add("categories", StrArray(s.info.categories));
    r.Add("storageVersionHash", Str(StorageVersionHash(group, v.version, c.kind)));
    entries.emplace_back(c.key.resource, std::move(r));
    for (const SubresourceInfo& sub : s.info.subresources) {
      std::string name = absl::StrCat(c.key.resource, "/", sub.name);
      Node e = Node::Object();
      e.Add("name", Str(name));
      e.Add("singularName", Str(""));
      e.Add("namespaced", Node::Bool(c.namespaced));
      if (!sub.group.empty() || !sub.version.empty()) {
        e.Add("group", Str(sub.group));
        e.Add("version", Str(sub.version.empty() ? v.version : sub.version));
      }
      e.Add("kind", Str(sub.kind.empty() ? c.kind : sub.kind));
      e.Add("verbs", StrArray(sub.verbs));
      entries.emplace_back(std::move(name), std::move(e));
    }
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Node resources = Node::Array();
  for (auto& [name, e] : entries) resources.Push(std::move(e));
  n.Add("resources", std::move(resources));
  return n;
}

Node ResponseKind(const std::string& group, const std::string& version, const std::string& kind) {
  Node n = Node::Object();
  n.Add("group", Str(group));
  n.Add("version", Str(version));
  n.Add("kind", Str(kind));
  return n;
}

Node AggregatedGroup(const Group& g) {
  Node item = Node::Object();
  Node metadata = Node::Object();
  metadata.Add("name", Str(g.name));
  item.Add("metadata", std::move(metadata));
  Node versions = Node::Array();
  for (const VersionGroup& v : g.versions) {
    Node ver = Node::Object();
    ver.Add("version", Str(v.version));
    Node resources = Node::Array();
    for (const Served& s : v.resources) {
      const storage::ResourceConfig& c = *s.config;
      Node r = Node::Object();
      r.Add("resource", Str(c.key.resource));
      r.Add("responseKind", ResponseKind(g.name, v.version, c.kind));
      r.Add("scope", Str(c.namespaced ? "Namespaced" : "Cluster"));
      r.Add("singularResource", Str(s.info.singular));
      r.Add("verbs", StrArray(s.info.verbs));
      if (!s.info.short_names.empty()) r.Add("shortNames", StrArray(s.info.short_names));
      if (!s.info.categories.empty()) r.Add("categories", StrArray(s.info.categories));
      if (!s.info.subresources.empty()) {
        std::vector<SubresourceInfo> subs = s.info.subresources;
        std::stable_sort(subs.begin(), subs.end(),
                         [](const auto& a, const auto& b) { return a.name < b.name; });
        Node arr = Node::Array();
        for (const SubresourceInfo& sub : subs) {
          Node e = Node::Object();
          e.Add("subresource", Str(sub.name));
          const bool own = sub.group.empty() && sub.version.empty();
          e.Add("responseKind", ResponseKind(own ? g.name : sub.group,
                                             sub.version.empty() ? v.version : sub.version,
                                             sub.kind.empty() ? c.kind : sub.kind));
          e.Add("verbs", StrArray(sub.verbs));
          arr.Push(std::move(e));
        }
        r.Add("subresources", std::move(arr));
      }
      resources.Push(std::move(r));
    }
    ver.Add("resources", std::move(resources));
    ver.Add("freshness", Str("Current"));
    versions.Push(std::move(ver));
  }
  item.Add("versions", std::move(versions));
  return item;
}

Node AggregatedList(const std::vector<const Group*>& groups, absl::string_view api_version) {
  Node n = Node::Object();
  n.Add("kind", Str("APIGroupDiscoveryList"));
  n.Add("apiVersion", Str(std::string(api_version)));
  n.Add("metadata", Node::Object());
  Node items = Node::Array();
  for (const Group* g : groups) items.Push(AggregatedGroup(*g));
  n.Add("items", std::move(items));
  return n;
}

void AddIfSet(Node& n, const char* key, const std::string& value, bool omitempty) {
  if (omitempty && value.empty()) return;
  n.Add(key, Str(value));
}

enum class Negotiated { kLegacy, kV2, kV2Beta1, kNone };

// Chooses the discovery format for an Accept header as the API server does: media
// ranges in order of q (stable), the first one we can produce wins.
Negotiated NegotiateDiscovery(absl::string_view accept) {
  if (absl::StripAsciiWhitespace(accept).empty()) return Negotiated::kLegacy;
  struct Clause {
    double q;
    Negotiated what;
  };
  std::vector<Clause> clauses;
  for (absl::string_view range : absl::StrSplit(accept, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(range, ';');
    std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
    std::map<std::string, std::string> params;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(parts[i], absl::MaxSplits('=', 1));
      params[absl::AsciiStrToLower(absl::StripAsciiWhitespace(kv.first))] =
          std::string(absl::StripAsciiWhitespace(kv.second));
    }
    double q = 1;
    if (auto it = params.find("q"); it != params.end() && !absl::SimpleAtod(it->second, &q)) {
      q = 0;
    }
    if (q <= 0) continue;
    Negotiated what = Negotiated::kNone;
    if (type == "application/json" && params.count("g") != 0) {
      if (params["g"] == "apidiscovery.k8s.io" && params["as"] == "APIGroupDiscoveryList") {
        if (params["v"] == "v2") what = Negotiated::kV2;
        if (params["v"] == "v2beta1") what = Negotiated::kV2Beta1;
      }
    } else if (type == "application/json" || type == "*/*" || type == "application/*") {
      what = Negotiated::kLegacy;
    }
    if (what != Negotiated::kNone) clauses.push_back({q, what});
  }
  std::stable_sort(clauses.begin(), clauses.end(),
                   [](const Clause& a, const Clause& b) { return a.q > b.q; });
  return clauses.empty() ? Negotiated::kNone : clauses.front().what;
}

bool EtagMatches(absl::string_view if_none_match, absl::string_view etag) {
  if (etag.empty()) return false;
  const std::string quoted = Quote(etag);
  for (absl::string_view token : absl::StrSplit(if_none_match, ',')) {
    token = absl::StripAsciiWhitespace(token);
    absl::ConsumePrefix(&token, "W/");
    if (token == "*" || token == quoted) return true;
  }
  return false;
}

Response NotFound() {
  return Response{404, {{"Content-Type", "text/plain; charset=utf-8"}}, "404 page not found\n"};
}

Response NotAcceptable() {
  return Response{406, {{"Content-Type", "text/plain; charset=utf-8"}}, "406 Not Acceptable\n"};
}

std::string QueryParam(absl::string_view query, absl::string_view name) {
  for (absl::string_view kv : absl::StrSplit(query, '&')) {
    std::pair<absl::string_view, absl::string_view> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    if (p.first == name) return std::string(p.second);
  }
  return "";
}

absl::StatusOr<std::string> Json(const Node& node) { return kslice::codec::WriteJson(node); }

}  // namespace

absl::StatusOr<std::unique_ptr<Documents>> Documents::Build(
    const storage::ResourceRegistry& registry, Options options) {
  // Group the resources by group and version.
  std::vector<Group> groups;
  std::vector<GroupVersion> all_gvs;
  for (const storage::ResourceConfig* c : registry.All()) {
    absl::StatusOr<GroupVersion> gv = ParseApiVersion(c->api_version);
    if (!gv.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource ", c->key.String(), ": ", gv.status().message()));
    }
    if (gv->group != c->key.group) {
      return absl::InvalidArgumentError(absl::StrCat("resource ", c->key.String(), ": apiVersion ",
                                                     c->api_version, " is not in group \"",
                                                     c->key.group, "\""));
    }
    if (c->prototype == nullptr || c->kind.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource ", c->key.String(), " has no kind or prototype"));
    }
    auto override_it = options.resource_info.find(c->key);
    Served served{c,
                  override_it != options.resource_info.end() ? override_it->second : InfoFor(*c)};
    if (served.info.singular.empty()) served.info.singular = absl::AsciiStrToLower(c->kind);
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const Group& x) { return x.name == gv->group; });
    if (g == groups.end()) {
      groups.push_back(Group{gv->group, static_cast<int>(groups.size()), {}});
      g = groups.end() - 1;
    }
    auto v = std::find_if(g->versions.begin(), g->versions.end(),
                          [&](const VersionGroup& x) { return x.version == gv->version; });
    if (v == g->versions.end()) {
      g->versions.push_back(VersionGroup{gv->version, {}});
      v = g->versions.end() - 1;
      all_gvs.push_back(*gv);
    }
    v->resources.push_back(std::move(served));
  }
  for (Group& g : groups) {
    std::stable_sort(g.versions.begin(), g.versions.end(),
                     [](const VersionGroup& a, const VersionGroup& b) {
                       return VersionBefore(a.version, b.version);
                     });
    for (VersionGroup& v : g.versions) {
      std::stable_sort(v.resources.begin(), v.resources.end(),
                       [](const Served& a, const Served& b) {
                         return a.config->key.resource < b.config->key.resource;
                       });
    }
  }
  std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    int pa = a.name.empty() ? -1 : GroupPriority(a.name);
    int pb = b.name.empty() ? -1 : GroupPriority(b.name);
    if (pa != pb) return pa < pb;
    return a.registration < b.registration;
  });
  std::sort(all_gvs.begin(), all_gvs.end(), [](const GroupVersion& a, const GroupVersion& b) {
    return std::tie(a.group, a.version) < std::tie(b.group, b.version);
  });

  std::unique_ptr<Documents> docs(new Documents());
  auto set = [](Entity& e, absl::string_view content_type, const Node& node,
                bool etag) -> absl::Status {
    absl::StatusOr<std::string> body = Json(node);
    if (!body.ok()) return body.status();
    e.content_type = std::string(content_type);
    e.body = *std::move(body);
    if (etag) e.etag = Sha512Hex(e.body);
    return absl::OkStatus();
  };

  // /version
  {
    const VersionInfo& v = options.version;
    Node n = Node::Object();
    AddIfSet(n, "major", v.major, false);
    AddIfSet(n, "minor", v.minor, false);
    AddIfSet(n, "emulationMajor", v.emulation_major, true);
    AddIfSet(n, "emulationMinor", v.emulation_minor, true);
    AddIfSet(n, "minCompatibilityMajor", v.min_compatibility_major, true);
    AddIfSet(n, "minCompatibilityMinor", v.min_compatibility_minor, true);
    AddIfSet(n, "gitVersion", v.git_version, false);
    AddIfSet(n, "gitCommit", v.git_commit, false);
    AddIfSet(n, "gitTreeState", v.git_tree_state, false);
    AddIfSet(n, "buildDate", v.build_date, false);
    AddIfSet(n, "goVersion", v.go_version, false);
    AddIfSet(n, "compiler", v.compiler, false);
    AddIfSet(n, "platform", v.platform, false);
    if (absl::Status s = set(docs->version_, "application/json", n, false); !s.ok()) return s;
  }

  const Group* core = nullptr;
  std::vector<const Group*> named;
  for (const Group& g : groups) {
    if (g.name.empty()) {
      core = &g;
    } else {
      named.push_back(&g);
    }
  }

  // /api and /apis, legacy and aggregated.
  {
    Node n = Node::Object();
    n.Add("kind", Str("APIVersions"));
    Node versions = Node::Array();
    if (core != nullptr) {
      for (const VersionGroup& v : core->versions) versions.Push(Str(v.version));
    }
    n.Add("versions", std::move(versions));
    if (options.server_address.empty()) {
      n.Add("serverAddressByClientCIDRs", Node::Null());
    } else {
      Node cidrs = Node::Array();
      Node entry = Node::Object();
      entry.Add("clientCIDR", Str("0.0.0.0/0"));
      entry.Add("serverAddress", Str(options.server_address));
      cidrs.Push(std::move(entry));
      n.Add("serverAddressByClientCIDRs", std::move(cidrs));
    }
    if (absl::Status s = set(docs->api_legacy_, "application/json", n, false); !s.ok()) return s;

    Node list = Node::Object();
    list.Add("kind", Str("APIGroupList"));
    list.Add("apiVersion", Str("v1"));
    Node arr = Node::Array();
    for (const Group* g : named) arr.Push(ApiGroup(*g, false));
    list.Add("groups", std::move(arr));
    if (absl::Status s = set(docs->apis_legacy_, "application/json", list, false); !s.ok()) {
      return s;
    }

    std::vector<const Group*> core_only;
    if (core != nullptr) core_only.push_back(core);
    for (const auto& [entity, gs, api_version, content_type] :
         {std::tuple{&docs->api_v2_, &core_only, "apidiscovery.k8s.io/v2",
                     kAggregatedV2ContentType},
          std::tuple{&docs->api_v2beta1_, &core_only, "apidiscovery.k8s.io/v2beta1",
                     kAggregatedV2Beta1ContentType},
          std::tuple{&docs->apis_v2_, &named, "apidiscovery.k8s.io/v2", kAggregatedV2ContentType},
          std::tuple{&docs->apis_v2beta1_, &named, "apidiscovery.k8s.io/v2beta1",
                     kAggregatedV2Beta1ContentType}}) {
      if (absl::Status s = set(*entity, content_type, AggregatedList(*gs, api_version), true);
          !s.ok()) {
        return s;
      }
    }
  }

  // /api/v1, /apis/<g>, /apis/<g>/<v>, and the OpenAPI v3 documents.
  Node index_paths = Node::Object();
  for (const Group& g : groups) {
    if (!g.name.empty()) {
      if (absl::Status s = set(docs->groups_[absl::StrCat("apis/", g.name)], "application/json",
                               ApiGroup(g, true), false);
          !s.ok()) {
        return s;
      }
    }
    for (const VersionGroup& v : g.versions) {
      const std::string path = GroupVersionPath(g.name, v.version);
      if (absl::Status s = set(docs->resource_lists_[path], "application/json",
                               ApiResourceList(g.name, v), false);
          !s.ok()) {
        return s;
      }
      GroupVersionDocumentOptions oo;
      oo.group_version = {g.name, v.version};
      for (const Served& s : v.resources) oo.resources.push_back({s.config, s.info});
      oo.all_group_versions = all_gvs;
      oo.title_version = options.version.git_version;
      absl::StatusOr<Node> doc = GroupVersionDocument(oo);
      if (!doc.ok()) return doc.status();
      Entity& e = docs->openapi_v3_[path];
      if (absl::Status s = set(e, "application/json", *doc, true); !s.ok()) return s;
    }
  }
  for (const auto& [path, e] : docs->openapi_v3_) {
    Node entry = Node::Object();
    entry.Add("serverRelativeURL", Str(absl::StrCat("/openapi/v3/", path, "?hash=", e.etag)));
    index_paths.Add(path, std::move(entry));
  }
  Node index = Node::Object();
  index.Add("paths", std::move(index_paths));
  if (absl::Status s = set(docs->openapi_index_, "application/json", index, true); !s.ok()) {
    return s;
  }
  return docs;
}

std::string Documents::OpenApiV3Hash(absl::string_view group_version_path) const {
  auto it = openapi_v3_.find(group_version_path);
  return it == openapi_v3_.end() ? "" : it->second.etag;
}

std::optional<Response> Documents::Serve(absl::string_view path, absl::string_view query,
                                         absl::string_view accept,
                                         absl::string_view if_none_match) const {
  absl::string_view p = path;
  while (p.size() > 1 && absl::EndsWith(p, "/")) p.remove_suffix(1);
  auto plain = [](const Entity& e) {
    return Response{200, {{"Content-Type", e.content_type}}, e.body};
  };

  if (p == "/version") return plain(version_);
  if (p == "/openapi") return NotFound();
  if (absl::ConsumePrefix(&p, "/openapi/")) return ServeOpenApi(p, query, accept, if_none_match);

  if (p == "/api" || p == "/apis") {
    const bool core = p == "/api";
    const Entity* e = nullptr;
    switch (NegotiateDiscovery(accept)) {
      case Negotiated::kV2:
        e = core ? &api_v2_ : &apis_v2_;
        break;
      case Negotiated::kV2Beta1:
        e = core ? &api_v2beta1_ : &apis_v2beta1_;
        break;
      case Negotiated::kLegacy:
        e = core ? &api_legacy_ : &apis_legacy_;
        break;
      case Negotiated::kNone:
        return NotAcceptable();
    }
    Response r{200, {{"Content-Type", e->content_type}, {"Vary", "Accept"}}, ""};
    if (!e->etag.empty()) {
      r.headers.emplace_back("ETag", Quote(e->etag));
      r.headers.emplace_back("Cache-Control", "public");
      if (EtagMatches(if_none_match, e->etag)) {
        r.status = 304;
        return r;
      }
    }
    r.body = e->body;
    return r;
  }

  absl::string_view rest = p;
  if (absl::ConsumePrefix(&rest, "/api/")) {
    // /api/<version>; deeper paths are resources.
    if (absl::StrContains(rest, '/')) return std::nullopt;
    auto it = resource_lists_.find(absl::StrCat("api/", rest));
    return it == resource_lists_.end() ? NotFound() : plain(it->second);
  }
  if (absl::ConsumePrefix(&rest, "/apis/")) {
    std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
    if (parts.size() == 1) {
      auto it = groups_.find(absl::StrCat("apis/", rest));
      return it == groups_.end() ? NotFound() : plain(it->second);
    }
    if (parts.size() == 2) {
      auto it = resource_lists_.find(absl::StrCat("apis/", rest));
      return it == resource_lists_.end() ? NotFound() : plain(it->second);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Response> Documents::ServeOpenApi(absl::string_view rest, absl::string_view query,
                                                absl::string_view accept,
                                                absl::string_view if_none_match) const {
  const Entity* e = nullptr;
  std::string gv_path;
  if (rest == "v3") {
    e = &openapi_index_;
  } else if (absl::ConsumePrefix(&rest, "v3/")) {
    gv_path = std::string(rest);
    auto it = openapi_v3_.find(gv_path);
    if (it == openapi_v3_.end()) return NotFound();
    e = &it->second;
    // JSON only: the protobuf form (application/com.github.proto-openapi.spec.v3@v1.0+
    // protobuf) is not produced, so a client accepting nothing else gets a 406.
    bool acceptable = absl::StripAsciiWhitespace(accept).empty();
    for (absl::string_view range : absl::StrSplit(accept, ',')) {
      std::vector<absl::string_view> parts = absl::StrSplit(range, ';');
      std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
      if (type == "application/json" || type == "application/*" || type == "*/*") {
        acceptable = true;
      }
    }
    if (!acceptable) {
      Response r = NotAcceptable();
      r.headers.emplace_back("Vary", "Accept");
      return r;
    }
  } else if (rest == "v2") {
    // An empty OpenAPI v2 document (an empty protobuf message). kubectl validates files
    // of `kind: List` on the client with the v2 document and fails on a 404; with an
    // empty one it sends the items and the server validates them (fieldValidation).
    return Response{200,
                    {{"Content-Type", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"}},
                    ""};
  } else {
    return NotFound();
  }

  Response r{200, {{"Content-Type", e->content_type}, {"ETag", Quote(e->etag)}}, ""};
  if (!gv_path.empty()) {
    r.headers.emplace_back("Vary", "Accept");
    const std::string hash = QueryParam(query, "hash");
    if (!hash.empty()) {
      if (hash != e->etag) {
        const std::string location = absl::StrCat("/openapi/v3/", gv_path, "?hash=", e->etag);
        return Response{301,
                        {{"Location", location}, {"Content-Type", "text/html; charset=utf-8"}},
                        absl::StrCat("<a href=\"", location, "\">Moved Permanently</a>.\n\n")};
      }
      r.headers.emplace_back("Cache-Control", "public, immutable");
      r.headers.emplace_back(
          "Expires", absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                      absl::Now() + absl::Hours(24 * 365), absl::UTCTimeZone()));
    }
  }
  if (EtagMatches(if_none_match, e->etag)) {
    r.status = 304;
    return r;
  }
  r.body = e->body;
  return r;
}

}  // namespace kslice::envtest::discovery
