// Strategic merge patch as kube-apiserver applies it (apimachinery
// pkg/util/strategicpatch: StrategicMergeMapPatch with MergeParallelList and
// IgnoreUnmatchedNulls), with the patch metadata read from our protobuf schemas
// instead of Go struct tags. The structure follows upstream's functions so their
// behavior (including error texts and element order) can be compared one by one;
// upstream's linear scans are replaced by hash lookups with the same results.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/proto/annotations.pb.h"
#include "envtest/patch/errors.h"
#include "envtest/patch/internal/common.h"
#include "envtest/patch/internal/go_sort.h"
#include "envtest/patch/internal/value.h"
#include "envtest/patch/patch.h"
#include "envtest/storage/errors.h"

namespace kslice::envtest::patch {
namespace {

namespace pb = ::google::protobuf;
using codec::Node;
using internal::GoEqual;
using internal::GoFormat;
using internal::GoKey;
using internal::GoType;
using internal::GoTypeName;
using internal::TypeOf;

constexpr absl::string_view kDirectiveMarker = "$patch";
constexpr absl::string_view kDeleteDirective = "delete";
constexpr absl::string_view kReplaceDirective = "replace";
constexpr absl::string_view kMergeDirective = "merge";
constexpr absl::string_view kRetainKeysStrategy = "retainKeys";
constexpr absl::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
constexpr absl::string_view kRetainKeysDirective = "$retainKeys";
constexpr absl::string_view kSetElementOrderPrefix = "$setElementOrder";

// Errors by the HTTP answer interpretStrategicMergePatchError gives them.
absl::Status BadRequest(absl::string_view m) { return absl::InvalidArgumentError(m); }
absl::Status Unprocessable(absl::string_view m) { return absl::FailedPreconditionError(m); }
absl::Status Internal(absl::string_view m) { return absl::InternalError(m); }

// mergepatch errors.
constexpr absl::string_view kErrNoListOfLists = "lists of lists are not supported";
constexpr absl::string_view kErrBadPatchFormatForPrimitiveList =
    "invalid patch format of primitive list";
constexpr absl::string_view kErrBadPatchFormatForRetainKeys = "invalid patch format of retainKeys";
constexpr absl::string_view kErrBadPatchFormatForSetElementOrderList =
    "invalid patch format of setElementOrder list";
constexpr absl::string_view kErrUnsupportedStrategicMergePatchFormat =
    "strategic merge patch format is not supported";

absl::Status ErrNoMergeKey(const Node& m, absl::string_view key) {
  return Internal(absl::StrCat("map: ", GoFormat(m), " does not contain declared merge key: ", key));
}

// ErrBadArgType(expected, actual): "expected a <T>, but received a <T>".
absl::Status ErrBadArgType(GoType expected, const Node& actual) {
  return Internal(absl::StrCat("expected a ", GoTypeName(expected), ", but received a ",
                               GoTypeName(TypeOf(actual))));
}

// fmt's %s of a value (strings bare; other scalars as %!s(T=v)).
std::string GoFormatS(const Node& v) {
  switch (TypeOf(v)) {
    case GoType::kString:
      return v.text;
    case GoType::kNil:
      return "%!s(<nil>)";
    case GoType::kSlice: {
      std::vector<std::string> parts;
      for (const Node& e : v.values) parts.push_back(GoFormatS(e));
      return absl::StrCat("[", absl::StrJoin(parts, " "), "]");
    }
    case GoType::kMap:
      return GoFormat(v);
    default:
      return absl::StrCat("%!s(", GoTypeName(TypeOf(v)), "=", GoFormat(v), ")");
  }
}

absl::Status ErrBadPatchType(const Node& t, const Node& m) {
  return Internal(absl::StrCat("unknown patch type: ", GoFormatS(t), " in map: ", GoFormat(m)));
}

bool IsString(const Node& v, absl::string_view s) { return v.is_string() && v.text == s; }

// ---- Schema: the Go type behind a JSON value, from the protobuf descriptors ----

struct Schema {
  enum class Kind { kStruct, kSlice, kMap, kScalar };
  Kind kind = Kind::kStruct;
  const pb::Descriptor* msg = nullptr;        // kStruct
  const pb::FieldDescriptor* field = nullptr;  // kSlice, kMap: the field
  std::string scalar;                          // kScalar: Go kind ("string", "int32", ...)
  bool pointer = false;                        // kStruct: a Go pointer (*T) field
};

struct PatchMeta {
  std::vector<std::string> strategies;
  std::string merge_key;
};

std::string GoScalarKind(const pb::FieldDescriptor* f) {
  switch (f->type()) {
    case pb::FieldDescriptor::TYPE_STRING:
      return "string";
    case pb::FieldDescriptor::TYPE_BOOL:
      return "bool";
    case pb::FieldDescriptor::TYPE_INT64:
    case pb::FieldDescriptor::TYPE_SINT64:
    case pb::FieldDescriptor::TYPE_SFIXED64:
      return "int64";
    case pb::FieldDescriptor::TYPE_UINT64:
    case pb::FieldDescriptor::TYPE_FIXED64:
      return "uint64";
    case pb::FieldDescriptor::TYPE_UINT32:
    case pb::FieldDescriptor::TYPE_FIXED32:
      return "uint32";
    case pb::FieldDescriptor::TYPE_DOUBLE:
      return "float64";
    case pb::FieldDescriptor::TYPE_FLOAT:
      return "float32";
    case pb::FieldDescriptor::TYPE_BYTES:
      return "slice";
    default:
      return "int32";
  }
}

bool IsItemsWrapper(const pb::Descriptor* d) {
  return d->options().GetExtension(kslice::api::json_format) == kslice::api::JSON_FORMAT_ITEMS &&
         d->field_count() > 0;
}

Schema StructSchema(const pb::Descriptor* d) {
  Schema s;
  s.kind = Schema::Kind::kStruct;
  s.msg = d;
  return s;
}

Schema ScalarSchema(std::string kind) {
  Schema s;
  s.kind = Schema::Kind::kScalar;
  s.scalar = std::move(kind);
  return s;
}

Schema FieldSchema(const pb::FieldDescriptor* f) {
  Schema s;
  s.field = f;
  if (f->is_map()) {
    s.kind = Schema::Kind::kMap;
  } else if (f->is_repeated()) {
    s.kind = Schema::Kind::kSlice;
  } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
    if (IsItemsWrapper(f->message_type())) {
      s.kind = Schema::Kind::kSlice;
    } else {
      Schema st = StructSchema(f->message_type());
      st.pointer = f->options().GetExtension(kslice::api::nullable);
      return st;
    }
  } else {
    return ScalarSchema(GoScalarKind(f));
  }
  return s;
}

// The element type of a slice schema.
Schema ElemSchema(const Schema& slice) {
  const pb::FieldDescriptor* f = slice.field;
  if (!f->is_repeated()) f = f->message_type()->field(0);  // Verbs-like wrapper
  if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
    return StructSchema(f->message_type());
  }
  return ScalarSchema(GoScalarKind(f));
}

// reflect.Kind().String() of the schema's type.
std::string KindName(const Schema& s) {
  switch (s.kind) {
    case Schema::Kind::kStruct:
      return "struct";
    case Schema::Kind::kSlice:
      return "slice";
    case Schema::Kind::kMap:
      return "map";
    case Schema::Kind::kScalar:
      return s.scalar;
  }
  return "";
}

// One JSON key of a struct: a field, or the virtual kind/apiVersion of TypeMeta.
struct JsonField {
  std::string name;
  const pb::FieldDescriptor* field = nullptr;  // nullptr: a TypeMeta string
};

void CollectJsonFields(const pb::Descriptor* d, std::vector<JsonField>* out,
                       absl::flat_hash_set<std::string>* seen, int depth) {
  if (depth > 8) return;
  if (d->options().GetExtension(kslice::api::json_format) != kslice::api::JSON_FORMAT_OBJECT) {
    return;  // Time, Quantity, RawExtension...: Go structs without JSON fields
  }
  // Go's dominance rule: a shallower field hides deeper ones of the same name.
  std::vector<const pb::FieldDescriptor*> inlined;
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    const pb::FieldOptions& o = f->options();
    if (o.GetExtension(kslice::api::inline_) &&
        f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      inlined.push_back(f);
      out->push_back(JsonField{"", f});  // placeholder keeps Go's field order
      continue;
    }
    std::string name = o.HasExtension(kslice::api::json) ? o.GetExtension(kslice::api::json)
                                                        : f->name();
    if (seen->insert(name).second) out->push_back(JsonField{std::move(name), f});
  }
  // Expand placeholders in place.
  std::vector<JsonField> expanded;
  for (JsonField& jf : *out) {
    if (!jf.name.empty() || jf.field == nullptr) {
      expanded.push_back(std::move(jf));
      continue;
    }
    std::vector<JsonField> sub;
    CollectJsonFields(jf.field->message_type(), &sub, seen, depth + 1);
    for (JsonField& s : sub) expanded.push_back(std::move(s));
  }
  *out = std::move(expanded);
}

std::vector<JsonField> JsonFields(const pb::Descriptor* d) {
  std::vector<JsonField> out;
  absl::flat_hash_set<std::string> seen;
  // Kinds embed TypeMeta first: "kind" and "apiVersion" are string fields.
  if (d->field_count() > 0 && d->field(0)->name() == "metadata") {
    out.push_back(JsonField{"kind", nullptr});
    out.push_back(JsonField{"apiVersion", nullptr});
    seen.insert("kind");
    seen.insert("apiVersion");
  }
  std::vector<JsonField> rest;
  CollectJsonFields(d, &rest, &seen, 0);
  for (JsonField& f : rest) out.push_back(std::move(f));
  return out;
}

// forkedjson.LookupPatchMetadataForStruct.
absl::StatusOr<std::pair<Schema, PatchMeta>> LookupPatchMetadataForStruct(const Schema& s,
                                                                          absl::string_view key) {
  if (s.kind != Schema::Kind::kStruct) {
    return Internal(absl::StrCat(
        "merging an object in json but data type is not struct, instead is: ", KindName(s)));
  }
  std::vector<JsonField> fields = JsonFields(s.msg);
  const JsonField* found = nullptr;
  for (const JsonField& f : fields) {
    if (f.name == key) {
      found = &f;
      break;
    }
    if (found == nullptr && absl::EqualsIgnoreCase(f.name, key)) found = &f;
  }
  if (found == nullptr) {
    return Internal(absl::StrCat("unable to find api field in struct ", s.msg->name(),
                                 " for the json field ", storage::GoQuote(key)));
  }
  PatchMeta meta;
  if (found->field == nullptr) {
    meta.strategies = {""};
    return std::make_pair(ScalarSchema("string"), meta);
  }
  const pb::FieldOptions& o = found->field->options();
  meta.strategies = absl::StrSplit(o.GetExtension(kslice::api::patch_strategy), ',');
  meta.merge_key = o.GetExtension(kslice::api::patch_merge_key);
  return std::make_pair(FieldSchema(found->field), meta);
}

// PatchMetaFromStruct.LookupPatchMetadataForSlice.
absl::StatusOr<std::pair<Schema, PatchMeta>> LookupPatchMetadataForSlice(const Schema& s,
                                                                         absl::string_view key) {
  absl::StatusOr<std::pair<Schema, PatchMeta>> r = LookupPatchMetadataForStruct(s, key);
  if (!r.ok()) return r.status();
  if (r->first.kind == Schema::Kind::kStruct && r->first.pointer) {
    // A pointer to a struct stands for a list of that struct.
    r->first.pointer = false;
    return r;
  }
  if (r->first.kind != Schema::Kind::kSlice) {
    return Internal(absl::StrCat("expected slice or array type, but got: ", KindName(s)));
  }
  r->first = ElemSchema(r->first);
  return r;
}

// extractRetainKeysPatchStrategy: the strategy other than retainKeys.
absl::StatusOr<std::string> ExtractRetainKeysPatchStrategy(const std::vector<std::string>& s) {
  switch (s.size()) {
    case 0:
      return std::string();
    case 1:
      return s[0] == kRetainKeysStrategy ? std::string() : s[0];
    case 2:
      if (s[0] == kRetainKeysStrategy) return s[1];
      if (s[1] == kRetainKeysStrategy) return s[0];
      break;
    default:
      break;
  }
  return Internal(absl::StrCat("unexpected patch strategy: [", absl::StrJoin(s, " "), "]"));
}

// ---- helpers on values ----

// removeDirectives: nullopt when the value is a map carrying $patch (drop it).
std::optional<Node> RemoveDirectives(Node obj) {
  if (obj.is_object()) {
    if (internal::FindMember(obj, kDirectiveMarker) >= 0) return std::nullopt;
    Node out = Node::Object();
    for (size_t i = 0; i < obj.keys.size(); ++i) {
      if (std::optional<Node> v = RemoveDirectives(std::move(obj.values[i]))) {
        out.keys.push_back(std::move(obj.keys[i]));
        out.values.push_back(*std::move(v));
      }
    }
    return out;
  }
  if (obj.is_array()) {
    Node out = Node::Array();
    for (Node& e : obj.values) {
      if (std::optional<Node> v = RemoveDirectives(std::move(e))) out.values.push_back(*std::move(v));
    }
    return out;
  }
  return obj;
}

// discardNullValuesFromPatch.
void DiscardNullValues(Node* v) {
  if (v->is_object()) {
    size_t out = 0;
    for (size_t i = 0; i < v->keys.size(); ++i) {
      if (v->values[i].is_null()) continue;
      DiscardNullValues(&v->values[i]);
      if (out != i) {
        v->keys[out] = std::move(v->keys[i]);
        v->values[out] = std::move(v->values[i]);
      }
      ++out;
    }
    v->keys.resize(out);
    v->values.resize(out);
  } else if (v->is_array()) {
    for (Node& e : v->values) DiscardNullValues(&e);
  }
}

const Node* Member(const Node& m, absl::string_view key) {
  int i = internal::FindMember(m, key);
  return i < 0 ? nullptr : &m.values[i];
}

// The value index() compares for an item: the merge key's value for maps.
const Node* LookupValue(const Node& item, absl::string_view merge_key, bool maps) {
  static const Node kNil;
  if (!maps) return &item;
  if (!item.is_object()) return &kNil;
  const Node* v = Member(item, merge_key);
  return v == nullptr ? &kNil : v;
}

// index(l, item, mergeKey, kind) for many items: first position in l with an equal value.
class ListIndex {
 public:
  ListIndex(const std::vector<Node>& l, absl::string_view merge_key, bool maps)
      : merge_key_(merge_key), maps_(maps) {
    for (size_t i = 0; i < l.size(); ++i) {
      if (std::optional<std::string> k = GoKey(*LookupValue(l[i], merge_key, maps))) {
        first_.emplace(*std::move(k), static_cast<int>(i));
      }
    }
  }
  int Find(const Node& item) const {
    std::optional<std::string> k = GoKey(*LookupValue(item, merge_key_, maps_));
    if (!k.has_value()) return -1;
    auto it = first_.find(*k);
    return it == first_.end() ? -1 : it->second;
  }

 private:
  std::string merge_key_;
  bool maps_;
  absl::flat_hash_map<std::string, int> first_;
};

// sliceElementType: the common Go type of all elements.
absl::StatusOr<GoType> SliceElementType(const std::vector<const std::vector<Node>*>& slices) {
  std::optional<GoType> prev;
  for (const std::vector<Node>* s : slices) {
    for (const Node& v : *s) {
      GoType t = TypeOf(v);
      if (!prev.has_value()) {
        if (t == GoType::kNil) {
          // Go dereferences the nil reflect.Type here and panics (HTTP 500).
          return Internal("list elements must not be null");
        }
        if (t == GoType::kSlice) return Unprocessable(kErrNoListOfLists);
        prev = t;
      } else if (*prev != t) {
        std::vector<std::string> parts;
        for (const std::vector<Node>* x : slices) {
          Node arr = Node::Array();
          arr.values = *x;
          parts.push_back(GoFormat(arr));
        }
        return Internal(absl::StrCat("list element types are not identical: [",
                                     absl::StrJoin(parts, " "), "]"));
      }
    }
  }
  if (!prev.has_value()) return Internal("no elements in any of the given slices");
  return *prev;
}

absl::Status ValidateMergeKeyInList(absl::string_view merge_key, const std::vector<Node>& l) {
  for (const Node& item : l) {
    if (!item.is_object()) return ErrBadArgType(GoType::kMap, item);
    if (Member(item, merge_key) == nullptr) return ErrNoMergeKey(item, merge_key);
  }
  return absl::OkStatus();
}

// normalizeSliceOrder: sorts toSort by the positions of its items in order (Go's
// SliceStable with upstream's comparator); maps marked $patch: delete go last.
absl::StatusOr<std::vector<Node>> NormalizeSliceOrder(std::vector<Node> to_sort,
                                                      const std::vector<Node>& order,
                                                      absl::string_view merge_key, bool maps) {
  std::vector<Node> to_delete;
  if (maps) {
    if (absl::Status s = ValidateMergeKeyInList(merge_key, to_sort); !s.ok()) return s;
    if (absl::Status s = ValidateMergeKeyInList(merge_key, order); !s.ok()) return s;
    std::vector<Node> keep;
    for (Node& v : to_sort) {
      const Node* d = Member(v, kDirectiveMarker);
      if (d != nullptr && IsString(*d, kDeleteDirective)) {
        to_delete.push_back(std::move(v));
      } else {
        keep.push_back(std::move(v));
      }
    }
    to_sort = std::move(keep);
  }
  ListIndex index(order, merge_key, maps);
  std::vector<std::pair<int, Node>> items;
  items.reserve(to_sort.size());
  for (Node& v : to_sort) {
    int pos = index.Find(v);
    items.emplace_back(pos, std::move(v));
  }
  internal::GoSliceStable(&items, [](const std::pair<int, Node>& a, const std::pair<int, Node>& b) {
    if (a.first >= 0 && b.first >= 0) return a.first < b.first;
    return true;
  });
  std::vector<Node> out;
  out.reserve(items.size() + to_delete.size());
  for (auto& [pos, v] : items) out.push_back(std::move(v));
  for (Node& v : to_delete) out.push_back(std::move(v));
  return out;
}

// mergeSortedSlice: interleaves left (server-only items) into right (patch items).
std::vector<Node> MergeSortedSlice(std::vector<Node> left, std::vector<Node> right,
                                   const std::vector<Node>& server_order,
                                   absl::string_view merge_key, bool maps) {
  ListIndex index(server_order, merge_key, maps);
  std::vector<int> li, ri;
  for (const Node& v : left) li.push_back(index.Find(v));
  for (const Node& v : right) ri.push_back(index.Find(v));
  std::vector<Node> s;
  s.reserve(left.size() + right.size());
  size_t i = 0, j = 0;
  const size_t size = left.size() + right.size();
  for (size_t k = 0; k < size; ++k) {
    if (i >= left.size() && j < right.size()) {
      s.push_back(std::move(right[j++]));
    } else if (j >= right.size() && i < left.size()) {
      s.push_back(std::move(left[i++]));
    } else if (li[i] >= 0 && ri[j] >= 0 && li[i] < ri[j]) {
      s.push_back(std::move(left[i++]));
    } else {
      s.push_back(std::move(right[j++]));
    }
  }
  return s;
}

absl::StatusOr<std::vector<Node>> NormalizeElementOrder(std::vector<Node> patch,
                                                        std::vector<Node> server_only,
                                                        const std::vector<Node>& patch_order,
                                                        const std::vector<Node>& server_order,
                                                        absl::string_view merge_key, bool maps) {
  absl::StatusOr<std::vector<Node>> p =
      NormalizeSliceOrder(std::move(patch), patch_order, merge_key, maps);
  if (!p.ok()) return p.status();
  absl::StatusOr<std::vector<Node>> s =
      NormalizeSliceOrder(std::move(server_only), server_order, merge_key, maps);
  if (!s.ok()) return s.status();
  return MergeSortedSlice(*std::move(s), *std::move(p), server_order, merge_key, maps);
}

// partitionPrimitivesByPresentInList.
void PartitionPrimitives(std::vector<Node> original, const std::vector<Node>& by,
                         std::vector<Node>* in, std::vector<Node>* out) {
  absl::flat_hash_set<std::string> present;
  for (const Node& v : by) {
    if (auto k = GoKey(v)) present.insert(*k);
  }
  for (Node& v : original) {
    auto k = GoKey(v);
    if (k.has_value() && present.contains(*k)) {
      in->push_back(std::move(v));
    } else {
      out->push_back(std::move(v));
    }
  }
}

// partitionMapsByPresentInList (findMapInSliceBasedOnKeyValue fails on the first
// non-map element it meets before a match).
absl::Status PartitionMaps(std::vector<Node> original, const std::vector<Node>& by,
                           absl::string_view merge_key, std::vector<Node>* in,
                           std::vector<Node>* out) {
  int first_non_map = -1;
  absl::flat_hash_map<std::string, int> first;
  for (size_t i = 0; i < by.size(); ++i) {
    if (!by[i].is_object()) {
      if (first_non_map < 0) first_non_map = static_cast<int>(i);
      continue;
    }
    const Node* v = Member(by[i], merge_key);
    if (v == nullptr) continue;
    if (auto k = GoKey(*v)) first.emplace(*k, static_cast<int>(i));
  }
  for (Node& item : original) {
    if (!item.is_object()) return ErrBadArgType(GoType::kMap, item);
    const Node* v = Member(item, merge_key);
    if (v == nullptr) return ErrNoMergeKey(item, merge_key);
    int pos = -1;
    if (auto k = GoKey(*v)) {
      auto it = first.find(*k);
      if (it != first.end()) pos = it->second;
    }
    if (first_non_map >= 0 && (pos < 0 || first_non_map < pos)) {
      return Internal(absl::StrCat("value for key ", first_non_map, " is not a map"));
    }
    if (pos >= 0) {
      in->push_back(std::move(item));
    } else {
      out->push_back(std::move(item));
    }
  }
  return absl::OkStatus();
}

// deduplicateScalars, simulated with position sets: same result as upstream's
// swap-with-last loop, in O(n log n).
std::vector<Node> DeduplicateScalars(std::vector<Node> s) {
  if (s.size() < 2) return s;
  std::vector<std::optional<std::string>> keys;
  keys.reserve(s.size());
  absl::flat_hash_map<std::string, std::set<size_t>> pos;
  for (size_t i = 0; i < s.size(); ++i) {
    keys.push_back(GoKey(s[i]));
    if (keys.back().has_value()) pos[*keys.back()].insert(i);
  }
  size_t length = s.size() - 1;
  for (size_t i = 0; i < length; ++i) {
    if (!keys[i].has_value()) continue;
    std::set<size_t>& same = pos[*keys[i]];
    while (true) {
      auto it = same.upper_bound(i);
      if (it == same.end() || *it > length) break;
      const size_t p = *it;
      same.erase(it);
      if (p != length) {
        // s[p] = s[length]
        if (keys[length].has_value()) {
          std::set<size_t>& other = pos[*keys[length]];
          other.erase(length);
          other.insert(p);
        }
        s[p] = std::move(s[length]);
        keys[p] = std::move(keys[length]);
      }
      s.pop_back();
      keys.pop_back();
      --length;
      if (i >= length) break;
    }
  }
  return s;
}

// deleteFromSlice.
std::vector<Node> DeleteFromSlice(std::vector<Node> current, const std::vector<Node>& to_delete) {
  absl::flat_hash_set<std::string> del;
  for (const Node& v : to_delete) {
    if (auto k = GoKey(v)) del.insert(*k);
  }
  std::vector<Node> out;
  for (Node& v : current) {
    auto k = GoKey(v);
    if (k.has_value() && del.contains(*k)) continue;
    out.push_back(std::move(v));
  }
  return out;
}

absl::StatusOr<std::string> ExtractKey(absl::string_view s, absl::string_view prefix) {
  std::vector<absl::string_view> parts = absl::StrSplit(s, absl::MaxSplits('/', 1));
  if (parts.size() <= 1 || parts[0] != prefix) {
    if (prefix == kDeleteFromPrimitiveListPrefix) {
      return BadRequest(kErrBadPatchFormatForPrimitiveList);
    }
    return BadRequest(kErrBadPatchFormatForSetElementOrderList);
  }
  return std::string(parts[1]);
}

// ---- the merge ----

absl::StatusOr<Node> MergeMap(Node original, Node patch, const Schema& schema);

absl::StatusOr<std::vector<Node>> MergeSlice(std::vector<Node> original, std::vector<Node> patch,
                                             const Schema& schema, const std::string& merge_key,
                                             bool is_delete_list,
                                             std::vector<Node>* aliased_view = nullptr);

// mergeSliceHandler.
absl::StatusOr<Node> MergeSliceHandler(Node original, Node patch, const Schema& schema,
                                       const std::string& strategy, const std::string& merge_key,
                                       bool is_delete_list,
                                       std::vector<Node>* aliased_view = nullptr) {
  if (!original.is_array()) return ErrBadArgType(GoType::kSlice, original);
  if (!patch.is_array()) return ErrBadArgType(GoType::kSlice, patch);
  if (strategy == kMergeDirective || is_delete_list) {
    absl::StatusOr<std::vector<Node>> merged = MergeSlice(
        std::move(original.values), std::move(patch.values), schema, merge_key, is_delete_list,
        aliased_view);
    if (!merged.ok()) return merged.status();
    Node out = Node::Array();
    out.values = *std::move(merged);
    return out;
  }
  return patch;
}

// Go's deleteMatchingEntries and append work in the backing array of the original
// list, which the caller of mergeSlice in mergePatchIntoOriginal still reads with the
// old length (as the reference order of the live list). This replays those writes:
// deletions shift left in place, leaving stale elements at the end, then appended
// items fill the freed slots (the backing array's capacity is taken as its length, as
// when the list was built with its exact size).
std::vector<Node> AliasedView(std::vector<Node> backing, const std::vector<Node>& deletions,
                              const std::vector<Node>& appended, const std::string& merge_key) {
  // Deleting the element at i with length L shifts [i+1, L) left and leaves slot L-1
  // holding what was the last element. Replayed in O(n): a linked list of the live
  // elements and, per merge-key value, its positions in order.
  const size_t n = backing.size();
  std::vector<size_t> prev(n), next(n);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = i == 0 ? n : i - 1;
    next[i] = i + 1;
  }
  size_t head = n == 0 ? n : 0, tail = n == 0 ? n : n - 1;
  absl::flat_hash_map<std::string, std::vector<size_t>> positions;
  for (size_t i = 0; i < n; ++i) {
    const Node* v = backing[i].is_object() ? Member(backing[i], merge_key) : nullptr;
    if (v == nullptr) continue;
    if (auto k = GoKey(*v)) positions[*k].push_back(i);
  }
  std::vector<Node> stale(n);
  std::vector<bool> has_stale(n, false);
  size_t len = n;
  for (const Node& value : deletions) {
    std::optional<std::string> k = GoKey(value);
    if (!k.has_value()) continue;
    auto it = positions.find(*k);
    if (it == positions.end()) continue;
    for (size_t p : it->second) {
      stale[len - 1] = backing[tail];
      has_stale[len - 1] = true;
      // unlink p
      if (prev[p] != n) {
        next[prev[p]] = next[p];
      } else {
        head = next[p];
      }
      if (next[p] != n) {
        prev[next[p]] = prev[p];
      } else {
        tail = prev[p];
      }
      --len;
    }
    positions.erase(it);
  }
  std::vector<Node> view;
  view.reserve(n);
  for (size_t i = head; i != n && view.size() < len; i = next[i]) view.push_back(backing[i]);
  for (size_t p = len; p < n; ++p) view.push_back(has_stale[p] ? stale[p] : backing[p]);
  for (size_t a = 0; a < appended.size() && len + a < n; ++a) view[len + a] = appended[a];
  return view;
}

absl::StatusOr<std::vector<Node>> MergeSlice(std::vector<Node> original, std::vector<Node> patch,
                                             const Schema& schema, const std::string& merge_key,
                                             bool is_delete_list,
                                             std::vector<Node>* aliased_view) {
  if (aliased_view != nullptr) *aliased_view = original;
  if (original.empty() && patch.empty()) return original;
  absl::StatusOr<GoType> t = SliceElementType({&original, &patch});
  if (!t.ok()) return t.status();
  const bool maps = *t == GoType::kMap;
  std::vector<Node> merged;
  std::vector<Node> deletions, appended;  // for the aliased view
  if (!maps) {
    if (is_delete_list) return DeleteFromSlice(std::move(original), patch);
    std::vector<Node> both = original;
    both.insert(both.end(), patch.begin(), patch.end());
    merged = DeduplicateScalars(std::move(both));
  } else {
    if (merge_key.empty()) {
      return Internal(absl::StrCat("cannot merge lists without merge key for ", KindName(schema)));
    }
    // mergeSliceWithSpecialElements.
    std::vector<Node> plain;
    bool replace = false;
    absl::flat_hash_set<std::string> deleted;
    for (Node& v : patch) {
      const Node* directive = Member(v, kDirectiveMarker);
      if (directive == nullptr) {
        plain.push_back(std::move(v));
        continue;
      }
      if (IsString(*directive, kDeleteDirective)) {
        const Node* value = Member(v, merge_key);
        if (value == nullptr) return ErrNoMergeKey(v, merge_key);
        if (auto k = GoKey(*value)) deleted.insert(*k);
        if (aliased_view != nullptr) deletions.push_back(*value);
      } else if (IsString(*directive, kReplaceDirective)) {
        replace = true;
      } else if (IsString(*directive, kMergeDirective)) {
        return Internal("merging lists cannot yet be specified in the patch");
      } else {
        return ErrBadPatchType(*directive, v);
      }
    }
    if (replace) {
      original = std::move(plain);
      patch.clear();
    } else {
      if (!deleted.empty()) {
        std::vector<Node> kept;
        for (Node& v : original) {
          const Node* value = v.is_object() ? Member(v, merge_key) : nullptr;
          std::optional<std::string> k = value == nullptr ? std::nullopt : GoKey(*value);
          if (k.has_value() && deleted.contains(*k)) continue;
          kept.push_back(std::move(v));
        }
        original = std::move(kept);
      }
      patch = std::move(plain);
    }
    // mergeSliceWithoutSpecialElements.
    merged = original;
    absl::flat_hash_map<std::string, size_t> first;
    for (size_t i = 0; i < merged.size(); ++i) {
      const Node* value = Member(merged[i], merge_key);
      if (value == nullptr) continue;
      if (auto k = GoKey(*value)) first.emplace(*k, i);
    }
    for (const Node& v : patch) {
      const Node* value = Member(v, merge_key);
      if (value == nullptr) return ErrNoMergeKey(v, merge_key);
      std::optional<std::string> k = GoKey(*value);
      auto it = k.has_value() ? first.find(*k) : first.end();
      if (it != first.end()) {
        absl::StatusOr<Node> m = MergeMap(std::move(merged[it->second]), v, schema);
        if (!m.ok()) return m.status();
        merged[it->second] = *std::move(m);
      } else {
        if (k.has_value()) first.emplace(*k, merged.size());
        merged.push_back(v);
        if (aliased_view != nullptr && !replace) appended.push_back(v);
      }
    }
  }
  if (aliased_view != nullptr && maps) {
    *aliased_view = AliasedView(std::move(*aliased_view), deletions, appended, merge_key);
  }
  // Enforce the order: patch items by the patch, the rest by the original.
  std::vector<Node> patch_items, server_only;
  if (merge_key.empty()) {
    PartitionPrimitives(std::move(merged), patch, &patch_items, &server_only);
  } else if (absl::Status s =
                 PartitionMaps(std::move(merged), patch, merge_key, &patch_items, &server_only);
             !s.ok()) {
    return s;
  }
  return NormalizeElementOrder(std::move(patch_items), std::move(server_only), patch, original,
                               merge_key, maps);
}

// applyRetainKeysDirective.
absl::Status ApplyRetainKeys(internal::MemberIndex* original, Node* patch) {
  int r = internal::FindMember(*patch, kRetainKeysDirective);
  if (r < 0) return absl::OkStatus();
  Node list = std::move(patch->values[r]);
  internal::EraseMember(patch, kRetainKeysDirective);
  if (!list.is_array()) return BadRequest(kErrBadPatchFormatForRetainKeys);
  absl::flat_hash_set<std::string> keep;
  for (const Node& v : list.values) {
    if (v.is_string()) keep.insert(v.text);
  }
  for (size_t i = 0; i < patch->keys.size(); ++i) {
    const std::string& k = patch->keys[i];
    if (patch->values[i].is_null() || absl::StartsWith(k, kDeleteFromPrimitiveListPrefix) ||
        absl::StartsWith(k, kSetElementOrderPrefix)) {
      continue;
    }
    if (!keep.contains(k)) return BadRequest(kErrBadPatchFormatForRetainKeys);
  }
  std::vector<std::string> drop;
  for (size_t i = 0; i < original->obj()->keys.size(); ++i) {
    const std::string& k = original->obj()->keys[i];
    if (!keep.contains(k) && original->Has(k)) drop.push_back(k);
  }
  for (const std::string& k : drop) original->Erase(k);
  return absl::OkStatus();
}

// validatePatchWithSetOrderList.
absl::Status ValidatePatchWithSetOrderList(const std::vector<Node>& patch_list,
                                           const std::vector<Node>& order,
                                           const std::string& merge_key) {
  if (order.empty() || patch_list.empty()) return absl::OkStatus();
  std::vector<const Node*> non_delete;
  for (const Node& v : patch_list) {
    if (!merge_key.empty()) {
      if (!v.is_object()) return ErrBadArgType(GoType::kMap, v);
      const Node* d = Member(v, kDirectiveMarker);
      if (d != nullptr && IsString(*d, kDeleteDirective)) continue;
    }
    non_delete.push_back(&v);
  }
  size_t pi = 0, oi = 0;
  while (pi < non_delete.size() && oi < order.size()) {
    const Node& p = *non_delete[pi];
    if (p.is_object() && Member(p, kDirectiveMarker) != nullptr) {
      ++pi;
      continue;
    }
    bool equal = false;
    if (merge_key.empty()) {
      equal = GoEqual(p, order[oi]);
    } else {
      if (!p.is_object()) return ErrBadArgType(GoType::kMap, p);
      if (!order[oi].is_object()) return ErrBadArgType(GoType::kMap, order[oi]);
      const Node* l = Member(p, merge_key);
      if (l == nullptr) return ErrNoMergeKey(p, merge_key);
      const Node* r = Member(order[oi], merge_key);
      if (r == nullptr) return ErrNoMergeKey(order[oi], merge_key);
      equal = GoEqual(*l, *r);
    }
    if (equal) ++pi;
    ++oi;
  }
  if (pi < non_delete.size() && oi >= order.size()) {
    Node p = Node::Array();
    p.values = patch_list;
    Node o = Node::Array();
    o.values = order;
    return Internal(absl::StrCat("The order in patch list:\n", GoFormat(p), "\n doesn't match ",
                                 kSetElementOrderPrefix, " list:\n", GoFormat(o), "\n"));
  }
  return absl::OkStatus();
}

// mergePatchIntoOriginal: the $setElementOrder directives and their lists.
absl::Status MergePatchIntoOriginal(internal::MemberIndex* original, Node* patch,
                                    const Schema& schema) {
  std::vector<std::string> directives;
  for (const std::string& k : patch->keys) {
    if (absl::StartsWith(k, kSetElementOrderPrefix)) directives.push_back(k);
  }
  for (const std::string& key : directives) {
    int d = internal::FindMember(*patch, key);
    if (d < 0) continue;
    Node order = std::move(patch->values[d]);
    internal::EraseMember(patch, key);
    if (!order.is_array()) return ErrBadArgType(GoType::kSlice, order);
    absl::StatusOr<std::string> original_key = ExtractKey(key, kSetElementOrderPrefix);
    if (!original_key.ok()) return original_key.status();
    Node* original_list = original->Get(*original_key);
    int pi = internal::FindMember(*patch, *original_key);
    const bool found_original = original_list != nullptr;
    const bool found_patch = pi >= 0;
    std::vector<Node> original_values, patch_values;
    if (found_original) {
      if (!original_list->is_array()) return ErrBadArgType(GoType::kSlice, *original_list);
      original_values = original_list->values;
    }
    if (found_patch) {
      if (!patch->values[pi].is_array()) return ErrBadArgType(GoType::kSlice, patch->values[pi]);
      patch_values = patch->values[pi].values;
    }
    absl::StatusOr<std::pair<Schema, PatchMeta>> meta =
        LookupPatchMetadataForSlice(schema, *original_key);
    if (!meta.ok()) return meta.status();
    absl::StatusOr<std::string> strategy = ExtractRetainKeysPatchStrategy(meta->second.strategies);
    if (!strategy.ok()) return strategy.status();
    const std::string& merge_key = meta->second.merge_key;
    if (absl::Status s = ValidatePatchWithSetOrderList(patch_values, order.values, merge_key);
        !s.ok()) {
      return s;
    }
    std::vector<Node> merged;
    std::vector<Node> server_order = original_values;
    if (found_original && !found_patch) {
      merged = original_values;
    } else if (!found_original && found_patch) {
      Node arr = Node::Array();
      arr.values = patch_values;
      merged = RemoveDirectives(std::move(arr))->values;
    } else if (found_original && found_patch) {
      absl::StatusOr<Node> m =
          MergeSliceHandler(*original_list, patch->values[pi], meta->first, *strategy, merge_key,
                            /*is_delete_list=*/false, &server_order);
      if (!m.ok()) return m.status();
      merged = std::move(m->values);
    } else {
      continue;
    }
    std::vector<Node> patch_items, server_only;
    if (merge_key.empty()) {
      PartitionPrimitives(std::move(merged), order.values, &patch_items, &server_only);
    } else if (absl::Status s = PartitionMaps(std::move(merged), order.values, merge_key,
                                              &patch_items, &server_only);
               !s.ok()) {
      return s;
    }
    absl::StatusOr<GoType> t = SliceElementType({&original_values, &patch_values});
    if (!t.ok()) return t.status();
    absl::StatusOr<std::vector<Node>> both =
        NormalizeElementOrder(std::move(patch_items), std::move(server_only), order.values,
                              server_order, merge_key, *t == GoType::kMap);
    if (!both.ok()) return both.status();
    Node list = Node::Array();
    list.values = *std::move(both);
    original->Set(*original_key, std::move(list));
    internal::EraseMember(patch, *original_key);
  }
  return absl::OkStatus();
}

// Sets original[key] to the patch value with directives removed (or drops the key
// when the value itself is a directive), discarding nulls first.
void TakePatchValue(internal::MemberIndex* original, const std::string& key, Node patch_value) {
  DiscardNullValues(&patch_value);
  if (std::optional<Node> v = RemoveDirectives(std::move(patch_value))) {
    original->Set(key, *std::move(v));
  } else {
    original->Erase(key);
  }
}

absl::StatusOr<Node> MergeMap(Node original, Node patch, const Schema& schema) {
  if (int d = internal::FindMember(patch, kDirectiveMarker); d >= 0) {
    // handleDirectiveInMergeMap.
    const Node& directive = patch.values[d];
    if (IsString(directive, kReplaceDirective)) {
      internal::EraseMember(&patch, kDirectiveMarker);
      return patch;
    }
    if (IsString(directive, kDeleteDirective)) return Node::Object();
    return ErrBadPatchType(directive, patch);
  }
  if (!original.is_object()) original = Node::Object();
  internal::MemberIndex index(&original);
  if (absl::Status s = ApplyRetainKeys(&index, &patch); !s.ok()) return s;
  if (absl::Status s = MergePatchIntoOriginal(&index, &patch, schema); !s.ok()) return s;

  for (size_t i = 0; i < patch.keys.size(); ++i) {
    std::string key = patch.keys[i];
    Node& patch_value = patch.values[i];
    bool is_delete_list = false;
    if (absl::StartsWith(key, kDeleteFromPrimitiveListPrefix)) {
      absl::StatusOr<std::string> k = ExtractKey(key, kDeleteFromPrimitiveListPrefix);
      if (!k.ok()) return k.status();
      is_delete_list = true;
      if (!k->empty()) key = *std::move(k);
    }
    if (patch_value.is_null()) {
      index.Erase(key);
      continue;
    }
    Node* current = index.Get(key);
    if (current == nullptr) {
      if (!is_delete_list) TakePatchValue(&index, key, std::move(patch_value));
      continue;
    }
    const GoType original_type = TypeOf(*current);
    if (original_type != TypeOf(patch_value)) {
      if (!is_delete_list) TakePatchValue(&index, key, std::move(patch_value));
      continue;
    }
    if (original_type == GoType::kMap) {
      absl::StatusOr<std::pair<Schema, PatchMeta>> meta =
          LookupPatchMetadataForStruct(schema, key);
      if (!meta.ok()) return meta.status();
      absl::StatusOr<std::string> strategy =
          ExtractRetainKeysPatchStrategy(meta->second.strategies);
      if (!strategy.ok()) return strategy.status();
      if (*strategy == kReplaceDirective) {
        *current = std::move(patch_value);
      } else {
        absl::StatusOr<Node> m = MergeMap(std::move(*current), std::move(patch_value), meta->first);
        if (!m.ok()) return m.status();
        *index.Get(key) = *std::move(m);
      }
    } else if (original_type == GoType::kSlice) {
      absl::StatusOr<std::pair<Schema, PatchMeta>> meta = LookupPatchMetadataForSlice(schema, key);
      if (!meta.ok()) return meta.status();
      absl::StatusOr<std::string> strategy =
          ExtractRetainKeysPatchStrategy(meta->second.strategies);
      if (!strategy.ok()) return strategy.status();
      absl::StatusOr<Node> m =
          MergeSliceHandler(std::move(*current), std::move(patch_value), meta->first, *strategy,
                            meta->second.merge_key, is_delete_list);
      if (!m.ok()) return m.status();
      *index.Get(key) = *std::move(m);
    } else {
      *current = std::move(patch_value);
    }
  }
  index.Compact();
  return original;
}

// The API server's answer for an error of the merge.
absl::Status ToApiError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return storage::BadRequestError(s.message());
    case absl::StatusCode::kFailedPrecondition:
      return UnprocessablePatchError(s.message());
    default:
      return storage::UnknownServerError(s.message());
  }
}

}  // namespace

absl::StatusOr<Node> ApplyStrategicMergePatch(const Node& doc, absl::string_view patch,
                                              const pb::Descriptor* type,
                                              const PatchOptions& options) {
  absl::StatusOr<Node> p = internal::ParsePatchBody(patch);
  if (!p.ok()) return p.status();
  if (!p->is_object() && !p->is_null()) {
    return storage::BadRequestError(absl::StrCat("json: cannot unmarshal ",
                                                 internal::JsonKindName(*p),
                                                 " into Go value of type map[string]interface {}"));
  }
  if (type == nullptr) return storage::BadRequestError(kErrUnsupportedStrategicMergePatchFormat);
  if (p->is_null()) return doc;  // decodes to a nil map: nothing to merge
  absl::StatusOr<Node> out = MergeMap(doc, *std::move(p), StructSchema(type));
  if (!out.ok()) return ToApiError(out.status());
  if (internal::Depth(*out) > options.max_depth) {
    return UnprocessablePatchError(absl::StrCat("the patched document would nest deeper than ",
                                                options.max_depth, " levels"));
  }
  // The result is converted by Go type, not by its apiVersion/kind: they stay doc's.
  for (absl::string_view k : {"apiVersion", "kind"}) {
    if (const Node* v = doc.Find(k)) internal::SetMember(&*out, k, *v);
  }
  return out;
}

}  // namespace kslice::envtest::patch
