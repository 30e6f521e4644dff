#include "envtest/discovery/openapi.h"

#include <algorithm>
#include <deque>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/meta/v1/meta.pb.h"
#include "api/proto/annotations.pb.h"

namespace kslice::envtest::discovery {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using kslice::codec::Node;

constexpr absl::string_view kSchemaRefPrefix = "#/components/schemas/";
constexpr absl::string_view kMetaPackage = "kslice.api.meta.v1";

Node Str(std::string s) { return Node::String(std::move(s)); }

Node TypeNode(absl::string_view type) {
  Node n = Node::Object();
  n.Add("type", Str(std::string(type)));
  return n;
}

Node Ref(const Descriptor* d) {
  Node n = Node::Object();
  n.Add("$ref", Str(absl::StrCat(kSchemaRefPrefix, DefinitionName(d))));
  return n;
}

// Sorts object members by key, recursively (Go writes maps sorted).
void SortKeys(Node& node) {
  for (Node& child : node.values) SortKeys(child);
  if (!node.is_object() || node.keys.size() < 2) return;
  std::vector<size_t> order(node.keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return node.keys[a] < node.keys[b]; });
  std::vector<std::string> keys;
  std::vector<Node> values;
  keys.reserve(order.size());
  values.reserve(order.size());
  for (size_t i : order) {
    keys.push_back(std::move(node.keys[i]));
    values.push_back(std::move(node.values[i]));
  }
  node.keys = std::move(keys);
  node.values = std::move(values);
}

std::string JsonName(const FieldDescriptor* f) {
  const auto& opts = f->options();
  if (opts.HasExtension(kslice::api::json)) return opts.GetExtension(kslice::api::json);
  return f->name();
}

bool Nullable(const FieldDescriptor* f) {
  return f->options().GetExtension(kslice::api::nullable) ||
         f->type() == FieldDescriptor::TYPE_BYTES;
}
bool EmitEmpty(const FieldDescriptor* f) {
  return f->options().GetExtension(kslice::api::emit_empty);
}
bool Inline(const FieldDescriptor* f) {
  return f->options().GetExtension(kslice::api::inline_) &&
         f->type() == FieldDescriptor::TYPE_MESSAGE && !f->is_repeated();
}

bool IsMetaMessage(const Descriptor* d, absl::string_view name) {
  return d != nullptr && d->file()->package() == kMetaPackage && d->name() == name;
}

// Types that embed metav1.TypeMeta upstream: objects and lists (their first field is
// `metadata`), and the option kinds sent as bodies.
bool HasTypeMeta(const Descriptor* d) {
  if (IsMetaMessage(d, "DeleteOptions")) return true;
  if (d->field_count() == 0) return false;
  const FieldDescriptor* first = d->field(0);
  return first->name() == "metadata" && first->type() == FieldDescriptor::TYPE_MESSAGE &&
         (IsMetaMessage(first->message_type(), "ObjectMeta") ||
          IsMetaMessage(first->message_type(), "ListMeta"));
}

// The schema of one value of field `f` (an element, for repeated and map fields).
Node ValueSchema(const FieldDescriptor* f, bool with_default) {
  Node n = Node::Object();
  switch (f->type()) {
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP: {
      Node all_of = Node::Array();
      all_of.Push(Ref(f->message_type()));
      n.Add("allOf", std::move(all_of));
      if (with_default) n.Add("default", Node::Object());
      return n;
    }
    case FieldDescriptor::TYPE_STRING:
    case FieldDescriptor::TYPE_ENUM:
      n.Add("type", Str("string"));
      if (with_default) n.Add("default", Str(""));
      return n;
    case FieldDescriptor::TYPE_BYTES:
      n.Add("type", Str("string"));
      n.Add("format", Str("byte"));
      return n;
    case FieldDescriptor::TYPE_BOOL:
      n.Add("type", Str("boolean"));
      if (with_default) n.Add("default", Node::Bool(false));
      return n;
    case FieldDescriptor::TYPE_DOUBLE:
    case FieldDescriptor::TYPE_FLOAT:
      n.Add("type", Str("number"));
      n.Add("format", Str("double"));
      if (with_default) n.Add("default", Node::Number("0"));
      return n;
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_SINT32:
    case FieldDescriptor::TYPE_SFIXED32:
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32:
      n.Add("type", Str("integer"));
      n.Add("format", Str("int32"));
      if (with_default) n.Add("default", Node::Number("0"));
      return n;
    default:  // 64-bit integers
      n.Add("type", Str("integer"));
      n.Add("format", Str("int64"));
      if (with_default) n.Add("default", Node::Number("0"));
      return n;
  }
}

Node FieldSchema(const FieldDescriptor* f) {
  Node n;
  if (f->is_map()) {
    n = TypeNode("object");
    n.Add("additionalProperties",
          ValueSchema(f->message_type()->map_value(), /*with_default=*/true));
  } else if (f->is_repeated()) {
    n = TypeNode("array");
    n.Add("items", ValueSchema(f, /*with_default=*/true));
  } else {
    // Non-pointer structs default to {}; non-pointer scalars without omitempty to
    // their zero value (kube-openapi derives defaults from zero values).
    const bool is_message = f->type() == FieldDescriptor::TYPE_MESSAGE;
    const bool with_default = !Nullable(f) && (is_message || EmitEmpty(f));
    n = ValueSchema(f, with_default);
  }
  const auto& opts = f->options();
  if (opts.HasExtension(kslice::api::patch_strategy)) {
    n.Add("x-kubernetes-patch-strategy", Str(opts.GetExtension(kslice::api::patch_strategy)));
  }
  if (opts.HasExtension(kslice::api::patch_merge_key)) {
    n.Add("x-kubernetes-patch-merge-key", Str(opts.GetExtension(kslice::api::patch_merge_key)));
  }
  if (opts.HasExtension(kslice::api::list_type)) {
    n.Add("x-kubernetes-list-type", Str(opts.GetExtension(kslice::api::list_type)));
  }
  if (opts.ExtensionSize(kslice::api::list_map_keys) > 0) {
    Node keys = Node::Array();
    for (int i = 0; i < opts.ExtensionSize(kslice::api::list_map_keys); ++i) {
      keys.Push(Str(opts.GetExtension(kslice::api::list_map_keys, i)));
    }
    n.Add("x-kubernetes-list-map-keys", std::move(keys));
  }
  if (opts.HasExtension(kslice::api::map_type)) {
    n.Add("x-kubernetes-map-type", Str(opts.GetExtension(kslice::api::map_type)));
  }
  return n;
}

// Adds the properties of `d` (and of its inline fields) to `properties`.
void AddProperties(const Descriptor* d, Node& properties, std::vector<std::string>& required,
                   int depth) {
  if (depth > 16) return;  // inline cycles cannot happen in Go; guard anyway
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (Inline(f)) {
      AddProperties(f->message_type(), properties, required, depth + 1);
      continue;
    }
    std::string name = JsonName(f);
    if (properties.Find(name) != nullptr) continue;  // an outer field shadows an inline one
    if (EmitEmpty(f) && !Nullable(f)) required.push_back(name);
    properties.Add(std::move(name), FieldSchema(f));
  }
}

// Every message a schema of `d` refers to, by $ref.
void ReferencedMessages(const Descriptor* d, std::vector<const Descriptor*>& out) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->type() != FieldDescriptor::TYPE_MESSAGE) continue;
    if (f->is_map()) {
      const FieldDescriptor* value = f->message_type()->map_value();
      if (value->type() == FieldDescriptor::TYPE_MESSAGE) out.push_back(value->message_type());
    } else if (Inline(f)) {
      ReferencedMessages(f->message_type(), out);
    } else {
      out.push_back(f->message_type());
    }
  }
}

std::string CamelGroup(const std::string& group) {
  if (group.empty()) return "Core";
  std::string g = group;
  if (absl::EndsWith(g, ".k8s.io")) g.resize(g.size() - strlen(".k8s.io"));
  std::string out;
  for (absl::string_view part : absl::StrSplit(g, absl::ByAnyChar(".-"), absl::SkipEmpty())) {
    std::string p(part);
    p[0] = absl::ascii_toupper(p[0]);
    out += p;
  }
  return out;
}

std::string SnakeGroup(const std::string& group) {
  if (group.empty()) return "core";
  std::string g = group;
  if (absl::EndsWith(g, ".k8s.io")) g.resize(g.size() - strlen(".k8s.io"));
  for (char& c : g) {
    if (c == '.' || c == '-') c = '_';
  }
  return g;
}

Node Param(absl::string_view name, absl::string_view in, absl::string_view type, bool required) {
  Node p = Node::Object();
  p.Add("name", Str(std::string(name)));
  p.Add("in", Str(std::string(in)));
  if (required) p.Add("required", Node::Bool(true));
  Node schema = TypeNode(type);
  schema.Add("uniqueItems", Node::Bool(true));
  p.Add("schema", std::move(schema));
  return p;
}

Node QueryParams(const std::vector<std::pair<absl::string_view, absl::string_view>>& params) {
  Node out = Node::Array();
  for (const auto& [name, type] : params) out.Push(Param(name, "query", type, false));
  return out;
}

Node Content(const std::vector<absl::string_view>& types, const Descriptor* d) {
  Node content = Node::Object();
  for (absl::string_view t : types) {
    Node media = Node::Object();
    media.Add("schema", Ref(d));
    content.Add(std::string(t), std::move(media));
  }
  return content;
}

Node Responses(const std::vector<absl::string_view>& codes, const Descriptor* d, bool list) {
  std::vector<absl::string_view> types = {"application/json", "application/yaml",
                                          "application/vnd.kubernetes.protobuf"};
  if (list) {
    types.push_back("application/json;stream=watch");
    types.push_back("application/vnd.kubernetes.protobuf;stream=watch");
  }
  Node responses = Node::Object();
  for (absl::string_view code : codes) {
    Node r = Node::Object();
    r.Add("description", Str(code == "201" ? "Created" : code == "202" ? "Accepted" : "OK"));
    r.Add("content", Content(types, d));
    responses.Add(std::string(code), std::move(r));
  }
  Node unauthorized = Node::Object();
  unauthorized.Add("description", Str("Unauthorized"));
  responses.Add("401", std::move(unauthorized));
  return responses;
}

struct Gvk {
  std::string group, version, kind;
};

Node GvkNode(const Gvk& gvk) {
  Node n = Node::Object();
  n.Add("group", Str(gvk.group));
  n.Add("kind", Str(gvk.kind));
  n.Add("version", Str(gvk.version));
  return n;
}

struct OperationSpec {
  std::string method;  // "get", "post", ...
  std::string action;  // x-kubernetes-action
  std::string operation_id;
  Gvk gvk;
  Node parameters;                            // array or null
  const Descriptor* body = nullptr;           // request body schema
  std::vector<absl::string_view> body_types;  // request body media types
  std::vector<absl::string_view> codes;
  const Descriptor* response = nullptr;
  bool list = false;
};

Node Operation(const OperationSpec& s, const std::string& tag) {
  Node op = Node::Object();
  Node tags = Node::Array();
  tags.Push(Str(tag));
  op.Add("tags", std::move(tags));
  op.Add("operationId", Str(s.operation_id));
  if (s.parameters.is_array() && !s.parameters.values.empty()) {
    op.Add("parameters", s.parameters);
  }
  if (s.body != nullptr) {
    Node body = Node::Object();
    body.Add("content", Content(s.body_types, s.body));
    body.Add("required", Node::Bool(true));
    op.Add("requestBody", std::move(body));
  }
  op.Add("responses", Responses(s.codes, s.response, s.list));
  op.Add("x-kubernetes-action", Str(s.action));
  op.Add("x-kubernetes-group-version-kind", GvkNode(s.gvk));
  return op;
}

Node PathParams(bool namespaced, bool named) {
  Node params = Node::Array();
  if (named) params.Push(Param("name", "path", "string", true));
  if (namespaced) params.Push(Param("namespace", "path", "string", true));
  params.Push(Param("pretty", "query", "string", false));
  return params;
}

const std::vector<std::pair<absl::string_view, absl::string_view>> kListParams = {
    {"allowWatchBookmarks", "boolean"},
    {"continue", "string"},
    {"fieldSelector", "string"},
    {"labelSelector", "string"},
    {"limit", "integer"},
    {"resourceVersion", "string"},
    {"resourceVersionMatch", "string"},
    {"sendInitialEvents", "boolean"},
    {"timeoutSeconds", "integer"},
    {"watch", "boolean"}};
const std::vector<std::pair<absl::string_view, absl::string_view>> kWriteParams = {
    {"dryRun", "string"}, {"fieldManager", "string"}, {"fieldValidation", "string"}};
const std::vector<std::pair<absl::string_view, absl::string_view>> kPatchParams = {
    {"dryRun", "string"},
    {"fieldManager", "string"},
    {"fieldValidation", "string"},
    {"force", "boolean"}};
const std::vector<std::pair<absl::string_view, absl::string_view>> kDeleteParams = {
    {"dryRun", "string"},
    {"gracePeriodSeconds", "integer"},
    {"orphanDependents", "boolean"},
    {"propagationPolicy", "string"}};
const std::vector<absl::string_view> kPatchTypes = {
    "application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
    "application/strategic-merge-patch+json"};
const std::vector<absl::string_view> kAnyType = {"*/*"};

bool HasVerb(const std::vector<std::string>& verbs, absl::string_view verb) {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

}  // namespace

absl::StatusOr<GroupVersion> ParseApiVersion(const std::string& api_version) {
  std::vector<std::string> parts = absl::StrSplit(api_version, '/');
  if (parts.size() == 1 && !parts[0].empty()) return GroupVersion{"", parts[0]};
  if (parts.size() == 2 && !parts[0].empty() && !parts[1].empty()) {
    return GroupVersion{parts[0], parts[1]};
  }
  return absl::InvalidArgumentError(absl::StrCat("invalid apiVersion \"", api_version, "\""));
}

std::string DefinitionName(const Descriptor* d) {
  const std::string& package = d->file()->package();
  static const auto* renames = new std::map<std::string, std::string>{
      {"kslice.api.meta.v1", "io.k8s.apimachinery.pkg.apis.meta.v1"},
      {"kslice.api.runtime", "io.k8s.apimachinery.pkg.runtime"},
      {"kslice.api.intstr", "io.k8s.apimachinery.pkg.util.intstr"},
      {"kslice.api.resource", "io.k8s.apimachinery.pkg.api.resource"},
  };
  auto it = renames->find(package);
  if (it != renames->end()) return absl::StrCat(it->second, ".", d->name());
  constexpr absl::string_view kPrefix = "kslice.api.";
  if (absl::StartsWith(package, kPrefix)) {
    return absl::StrCat("io.k8s.api.", package.substr(kPrefix.size()), ".", d->name());
  }
  return d->full_name();
}

Node MessageSchema(const Descriptor* d) {
  Node s = Node::Object();
  const auto format = d->options().GetExtension(kslice::api::json_format);
  switch (format) {
    case kslice::api::JSON_FORMAT_TIME:
    case kslice::api::JSON_FORMAT_MICRO_TIME:
      s.Add("type", Str("string"));
      s.Add("format", Str("date-time"));
      break;
    case kslice::api::JSON_FORMAT_DURATION:
      s.Add("type", Str("string"));
      break;
    case kslice::api::JSON_FORMAT_INT_OR_STRING: {
      s.Add("format", Str("int-or-string"));
      Node one_of = Node::Array();
      one_of.Push(TypeNode("integer"));
      one_of.Push(TypeNode("string"));
      s.Add("oneOf", std::move(one_of));
      break;
    }
    case kslice::api::JSON_FORMAT_QUANTITY: {
      Node one_of = Node::Array();
      one_of.Push(TypeNode("string"));
      one_of.Push(TypeNode("number"));
      s.Add("oneOf", std::move(one_of));
      break;
    }
    case kslice::api::JSON_FORMAT_RAW:
      s.Add("type", Str("object"));
      break;
    case kslice::api::JSON_FORMAT_ITEMS: {
      const FieldDescriptor* items = d->FindFieldByName("items");
      s.Add("type", Str("array"));
      if (items != nullptr) s.Add("items", ValueSchema(items, /*with_default=*/true));
      break;
    }
    default: {
      Node properties = Node::Object();
      std::vector<std::string> required;
      if (HasTypeMeta(d)) {
        properties.Add("apiVersion", TypeNode("string"));
        properties.Add("kind", TypeNode("string"));
      }
      AddProperties(d, properties, required, 0);
      s.Add("type", Str("object"));
      if (!properties.keys.empty()) s.Add("properties", std::move(properties));
      if (!required.empty()) {
        Node req = Node::Array();
        for (std::string& r : required) req.Push(Str(std::move(r)));
        s.Add("required", std::move(req));
      }
      if (d->options().HasExtension(kslice::api::struct_type)) {
        s.Add("x-kubernetes-map-type", Str(d->options().GetExtension(kslice::api::struct_type)));
      }
      break;
    }
  }
  SortKeys(s);
  return s;
}

absl::StatusOr<Node> GroupVersionDocument(const GroupVersionDocumentOptions& options) {
  const GroupVersion& gv = options.group_version;
  const std::string prefix = gv.group.empty() ? absl::StrCat("/api/", gv.version)
                                              : absl::StrCat("/apis/", gv.group, "/", gv.version);
  std::string version_camel = gv.version;
  if (!version_camel.empty()) version_camel[0] = absl::ascii_toupper(version_camel[0]);
  const std::string gv_camel = CamelGroup(gv.group) + version_camel;
  const std::string tag = absl::StrCat(SnakeGroup(gv.group), "_", gv.version);

  const Descriptor* delete_options = kslice::api::meta::v1::DeleteOptions::descriptor();
  const Descriptor* status = kslice::api::meta::v1::Status::descriptor();
  const Descriptor* patch = kslice::api::meta::v1::Patch::descriptor();
  const Descriptor* watch_event = kslice::api::meta::v1::WatchEvent::descriptor();

  // Kinds named by x-kubernetes-group-version-kind, by type.
  std::map<const Descriptor*, std::vector<Gvk>> gvks;
  std::vector<const Descriptor*> roots = {delete_options, status, patch, watch_event};
  for (const GroupVersion& other : options.all_group_versions) {
    gvks[delete_options].push_back({other.group, other.version, "DeleteOptions"});
    gvks[watch_event].push_back({other.group, other.version, "WatchEvent"});
  }
  gvks[status].push_back({"", "v1", "Status"});

  Node paths = Node::Object();
  for (const OpenApiResource& r : options.resources) {
    const storage::ResourceConfig& c = *r.config;
    if (c.prototype == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource ", c.key.String(), " has no prototype"));
    }
    const Descriptor* kind = c.prototype->GetDescriptor();
    const Descriptor* list = kind->file()->pool()->FindMessageTypeByName(
        absl::StrCat(kind->file()->package(), ".", c.kind, "List"));
    if (list == nullptr) list = kind;  // no list type: still describe the paths
    roots.push_back(kind);
    roots.push_back(list);
    gvks[kind].push_back({gv.group, gv.version, c.kind});
    if (list != kind) gvks[list].push_back({gv.group, gv.version, c.kind + "List"});

    const Gvk gvk{gv.group, gv.version, c.kind};
    const std::string ns_word = c.namespaced ? "Namespaced" : "";
    const std::string collection =
        c.namespaced ? absl::StrCat(prefix, "/namespaces/{namespace}/", c.key.resource)
                     : absl::StrCat(prefix, "/", c.key.resource);
    const std::string item = collection + "/{name}";
    const std::vector<std::string>& verbs = r.info.verbs;

    Node coll = Node::Object();
    if (HasVerb(verbs, "list")) {
      coll.Add("get", Operation({"get",
                                 "list",
                                 absl::StrCat("list", gv_camel, ns_word, c.kind),
                                 gvk,
                                 QueryParams(kListParams),
                                 nullptr,
                                 {},
                                 {"200"},
                                 list,
                                 true},
                                tag));
    }
    if (HasVerb(verbs, "create")) {
      coll.Add("post", Operation({"post",
                                  "post",
                                  absl::StrCat("create", gv_camel, ns_word, c.kind),
                                  gvk,
                                  QueryParams(kWriteParams),
                                  kind,
                                  kAnyType,
                                  {"200", "201", "202"},
                                  kind,
                                  false},
                                 tag));
    }
    if (HasVerb(verbs, "deletecollection")) {
      Node params = QueryParams(kDeleteParams);
      for (const auto& p : kListParams) {
        if (p.first != "watch" && p.first != "allowWatchBookmarks") {
          params.Push(Param(p.first, "query", p.second, false));
        }
      }
      coll.Add("delete", Operation({"delete",
                                    "deletecollection",
                                    absl::StrCat("delete", gv_camel, "Collection", ns_word, c.kind),
                                    gvk,
                                    std::move(params),
                                    delete_options,
                                    kAnyType,
                                    {"200"},
                                    status,
                                    false},
                                   tag));
    }
    if (!coll.keys.empty()) {
      coll.Add("parameters", PathParams(c.namespaced, false));
      paths.Add(collection, std::move(coll));
    }
    if (c.namespaced && HasVerb(verbs, "list")) {
      Node all = Node::Object();
      all.Add("get", Operation({"get",
                                "list",
                                absl::StrCat("list", gv_camel, c.kind, "ForAllNamespaces"),
                                gvk,
                                QueryParams(kListParams),
                                nullptr,
                                {},
                                {"200"},
                                list,
                                true},
                               tag));
      all.Add("parameters", PathParams(false, false));
      paths.Add(absl::StrCat(prefix, "/", c.key.resource), std::move(all));
    }

    Node one = Node::Object();
    const std::string suffix = absl::StrCat(gv_camel, ns_word, c.kind);
    if (HasVerb(verbs, "get")) {
      one.Add("get", Operation({"get",
                                "get",
                                "read" + suffix,
                                gvk,
                                Node::Array(),
                                nullptr,
                                {},
                                {"200"},
                                kind,
                                false},
                               tag));
    }
    if (HasVerb(verbs, "update")) {
      one.Add("put", Operation({"put",
                                "put",
                                "replace" + suffix,
                                gvk,
                                QueryParams(kWriteParams),
                                kind,
                                kAnyType,
                                {"200", "201"},
                                kind,
                                false},
                               tag));
    }
    if (HasVerb(verbs, "patch")) {
      one.Add("patch", Operation({"patch",
                                  "patch",
                                  "patch" + suffix,
                                  gvk,
                                  QueryParams(kPatchParams),
                                  patch,
                                  kPatchTypes,
                                  {"200", "201"},
                                  kind,
                                  false},
                                 tag));
    }
    if (HasVerb(verbs, "delete")) {
      one.Add("delete", Operation({"delete",
                                   "delete",
                                   "delete" + suffix,
                                   gvk,
                                   QueryParams(kDeleteParams),
                                   delete_options,
                                   kAnyType,
                                   {"200", "202"},
                                   kind,
                                   false},
                                  tag));
    }
    if (!one.keys.empty()) {
      one.Add("parameters", PathParams(c.namespaced, true));
      paths.Add(item, std::move(one));
    }

    for (const SubresourceInfo& sub : r.info.subresources) {
      // Only subresources whose type we know get paths (not policy/v1 Eviction).
      const Descriptor* sub_kind = kind;
      Gvk sub_gvk = gvk;
      if (!sub.kind.empty() && sub.kind != c.kind) {
        if (!sub.group.empty() && sub.group != gv.group) {
          // A kind of another group (autoscaling/v1 Scale): our schema for it is
          // kslice.api.<group>.<version>.<Kind> when linked in.
          sub_kind = kind->file()->pool()->FindMessageTypeByName(absl::StrCat(
              "kslice.api.", sub.group.substr(0, sub.group.find('.')), ".", sub.version, ".",
              sub.kind));
          if (sub_kind == nullptr) continue;
          sub_gvk = Gvk{sub.group, sub.version, sub.kind};
        } else {
          sub_kind = kind->file()->pool()->FindMessageTypeByName(
              absl::StrCat(kind->file()->package(), ".", sub.kind));
          if (sub_kind == nullptr) continue;
          sub_gvk.kind = sub.kind;
        }
        roots.push_back(sub_kind);
        gvks[sub_kind].push_back(sub_gvk);
      }
      std::string sub_camel = sub.name;
      sub_camel[0] = absl::ascii_toupper(sub_camel[0]);
      const std::string sub_suffix = suffix + sub_camel;
      Node path = Node::Object();
      if (HasVerb(sub.verbs, "get")) {
        path.Add("get", Operation({"get",
                                   "get",
                                   "read" + sub_suffix,
                                   sub_gvk,
                                   Node::Array(),
                                   nullptr,
                                   {},
                                   {"200"},
                                   sub_kind,
                                   false},
                                  tag));
      }
      if (HasVerb(sub.verbs, "create")) {
        path.Add("post", Operation({"post",
                                    "post",
                                    "create" + sub_suffix,
                                    sub_gvk,
                                    QueryParams(kWriteParams),
                                    sub_kind,
                                    kAnyType,
                                    {"200", "201", "202"},
                                    sub_kind,
                                    false},
                                   tag));
      }
      if (HasVerb(sub.verbs, "update")) {
        path.Add("put", Operation({"put",
                                   "put",
                                   "replace" + sub_suffix,
                                   sub_gvk,
                                   QueryParams(kWriteParams),
                                   sub_kind,
                                   kAnyType,
                                   {"200", "201"},
                                   sub_kind,
                                   false},
                                  tag));
      }
      if (HasVerb(sub.verbs, "patch")) {
        path.Add("patch", Operation({"patch",
                                     "patch",
                                     "patch" + sub_suffix,
                                     sub_gvk,
                                     QueryParams(kPatchParams),
                                     patch,
                                     kPatchTypes,
                                     {"200", "201"},
                                     sub_kind,
                                     false},
                                    tag));
      }
      if (path.keys.empty()) continue;
      path.Add("parameters", PathParams(c.namespaced, true));
      paths.Add(absl::StrCat(item, "/", sub.name), std::move(path));
    }
  }

  // The closure of referenced types, breadth first.
  std::map<std::string, const Descriptor*> definitions;
  std::deque<const Descriptor*> queue(roots.begin(), roots.end());
  while (!queue.empty()) {
    const Descriptor* d = queue.front();
    queue.pop_front();
    if (!definitions.emplace(DefinitionName(d), d).second) continue;
    std::vector<const Descriptor*> refs;
    ReferencedMessages(d, refs);
    for (const Descriptor* ref : refs) queue.push_back(ref);
  }
  Node schemas = Node::Object();
  for (const auto& [name, d] : definitions) {
    Node schema = MessageSchema(d);
    auto it = gvks.find(d);
    if (it != gvks.end()) {
      std::vector<Gvk> list = it->second;
      std::sort(list.begin(), list.end(), [](const Gvk& a, const Gvk& b) {
        return std::tie(a.group, a.version, a.kind) < std::tie(b.group, b.version, b.kind);
      });
      Node arr = Node::Array();
      for (const Gvk& g : list) arr.Push(GvkNode(g));
      schema.Add("x-kubernetes-group-version-kind", std::move(arr));
    }
    schemas.Add(name, std::move(schema));
  }

  Node doc = Node::Object();
  doc.Add("openapi", Str("3.0.0"));
  Node info = Node::Object();
  info.Add("title", Str("Kubernetes"));
  info.Add("version", Str(options.title_version));
  doc.Add("info", std::move(info));
  doc.Add("paths", std::move(paths));
  Node components = Node::Object();
  components.Add("schemas", std::move(schemas));
  doc.Add("components", std::move(components));
  SortKeys(doc);
  return doc;
}

}  // namespace kslice::envtest::discovery
