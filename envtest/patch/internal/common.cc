#include "envtest/patch/internal/common.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/scheme/scheme.h"
#include "envtest/patch/errors.h"
#include "envtest/patch/internal/value.h"
#include "envtest/storage/errors.h"

namespace kslice::envtest::patch::internal {
namespace {

// The runtime.Scheme of kube-apiserver, as it names itself in errors.
constexpr absl::string_view kSchemeName = "k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30";

struct GroupVersion {
  std::string group;
  std::string version;
};

// schema.ParseGroupVersion.
absl::StatusOr<GroupVersion> ParseGroupVersion(absl::string_view gv) {
  if (gv.empty() || gv == "/") return GroupVersion{};
  std::vector<absl::string_view> parts = absl::StrSplit(gv, '/');
  if (parts.size() == 1) return GroupVersion{"", std::string(parts[0])};
  if (parts.size() == 2) return GroupVersion{std::string(parts[0]), std::string(parts[1])};
  return absl::InvalidArgumentError(absl::StrCat("unexpected GroupVersion string: ", gv));
}

// The Go package name of a group's internal types (k8s.io/kubernetes/pkg/apis/<name>).
std::string InternalPackage(absl::string_view group) {
  if (group.empty()) return "core";
  return std::string(group.substr(0, group.find('.')));
}

// Reads apiVersion or kind the way encoding/json fills a string field: absent and null
// leave it empty, another type is an UnmarshalTypeError.
absl::Status ReadTypeMetaString(const codec::Node& obj, absl::string_view key, std::string* out) {
  const codec::Node* v = obj.Find(key);
  if (v == nullptr || v->is_null()) return absl::OkStatus();
  if (!v->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("couldn't get version/kind; json parse error: json: cannot unmarshal ",
                     JsonKindName(*v), " into Go struct field .", key, " of type string"));
  }
  *out = v->text;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<codec::Node> ParsePatchBody(absl::string_view body) {
  absl::StatusOr<codec::Node> node = codec::ParseJson(body);
  if (!node.ok()) return storage::BadRequestError("invalid JSON patch");
  DedupeKeys(&*node);
  return node;
}

absl::string_view JsonKindName(const codec::Node& v) {
  switch (v.kind) {
    case codec::Node::Kind::kObject:
      return "object";
    case codec::Node::Kind::kArray:
      return "array";
    case codec::Node::Kind::kString:
      return "string";
    case codec::Node::Kind::kNumber:
      return "number";
    case codec::Node::Kind::kBool:
      return "bool";
    case codec::Node::Kind::kNull:
      return "null";
  }
  return "";
}

absl::Status CheckPatchedTypeMeta(const codec::Node& original, const codec::Node& patched) {
  auto invalid = [&](absl::string_view detail) {
    return PatchedObjectInvalidError(patched, detail);
  };
  if (!patched.is_object()) {
    return invalid(absl::StrCat(
        "couldn't get version/kind; json parse error: json: cannot unmarshal ",
        JsonKindName(patched),
        " into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; "
        "Kind string \"json:\\\"kind,omitempty\\\"\" }"));
  }
  std::string orig_api_version, orig_kind;
  if (const codec::Node* v = original.Find("apiVersion"); v != nullptr && v->is_string()) {
    orig_api_version = v->text;
  }
  if (const codec::Node* v = original.Find("kind"); v != nullptr && v->is_string()) {
    orig_kind = v->text;
  }
  std::string api_version, kind;
  if (absl::Status s = ReadTypeMetaString(patched, "apiVersion", &api_version); !s.ok()) {
    return invalid(s.message());
  }
  if (absl::Status s = ReadTypeMetaString(patched, "kind", &kind); !s.ok()) {
    return invalid(s.message());
  }
  absl::StatusOr<GroupVersion> gv = ParseGroupVersion(api_version);
  if (!gv.ok()) return invalid(gv.status().message());
  absl::StatusOr<GroupVersion> orig_gv = ParseGroupVersion(orig_api_version);
  if (!orig_gv.ok()) return absl::OkStatus();  // not ours to judge
  if (kind.empty()) kind = orig_kind;
  if ((api_version.empty() || api_version == orig_api_version) && kind == orig_kind) {
    return absl::OkStatus();
  }
  const std::string orig_type = absl::StrCat(InternalPackage(orig_gv->group), ".", orig_kind);
  const kslice::api::Scheme& scheme = kslice::api::Scheme::Builtin();
  if (gv->version.empty()) {
    // Defaulted to the internal version of the stored type's group.
    if (kind == orig_kind) return absl::OkStatus();
    if (scheme.Prototype(orig_api_version, kind) == nullptr) {
      return invalid(absl::StrCat("no kind \"", kind,
                                  "\" is registered for the internal version of group \"",
                                  orig_gv->group, "\" in scheme \"", kSchemeName, "\""));
    }
    return invalid(absl::StrCat("converting (", InternalPackage(orig_gv->group), ".", kind,
                                ") to (", orig_type, "): unknown conversion"));
  }
  const google::protobuf::Message* proto = scheme.Prototype(api_version, kind);
  const google::protobuf::Message* orig_proto = scheme.Prototype(orig_api_version, orig_kind);
  if (proto == nullptr) {
    const std::string gv_text = gv->group.empty() ? gv->version
                                                  : absl::StrCat(gv->group, "/", gv->version);
    return invalid(absl::StrCat("no kind \"", kind, "\" is registered for version \"", gv_text,
                                "\" in scheme \"", kSchemeName, "\""));
  }
  if (orig_proto != nullptr && proto->GetDescriptor() == orig_proto->GetDescriptor()) {
    return absl::OkStatus();
  }
  return invalid(absl::StrCat("converting (", gv->version, ".", kind, ") to (", orig_type,
                              "): unknown conversion"));
}

}  // namespace kslice::envtest::patch::internal
