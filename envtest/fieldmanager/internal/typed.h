// Typed operations on JSON trees, as structured-merge-diff's typed package does them:
// the schema of a node (from protobuf descriptors and the kslice.api annotations), the
// field set of a value, the comparison of two values, the merge of an apply
// configuration into a live object, and the removal of fields an applier gave up.
// Internal to envtest/fieldmanager.
//
// Schema rules (docs/server-side-apply.md):
//   - message with json_format other than OBJECT (Time, Quantity, IntOrString,
//     RawExtension, ...): a scalar (a leaf, replaced as a whole);
//   - message: a struct, atomic when (kslice.api.struct_type) = "atomic";
//   - map<string, X>: a granular map, atomic when (kslice.api.map_type) = "atomic";
//   - repeated: (kslice.api.list_type) "atomic" | "set" | "map" with list_map_keys;
//     without a list type, a patch strategy containing "merge" makes the list
//     associative on (kslice.api.patch_merge_key) (a set when there is no key), as the
//     OpenAPI-to-SMD conversion does; any other list is atomic.
#ifndef KSLICE_ENVTEST_FIELDMANAGER_INTERNAL_TYPED_H_
#define KSLICE_ENVTEST_FIELDMANAGER_INTERNAL_TYPED_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec/node.h"
#include "envtest/fieldmanager/internal/fieldset.h"
#include "google/protobuf/descriptor.h"

namespace kslice::envtest::fieldmanager::internal {

struct TypeRef {
  enum class Kind { kScalar, kStruct, kList, kMap };
  Kind kind = Kind::kScalar;
  bool atomic = false;
  bool root = false;  // the object root: also has apiVersion and kind
  const google::protobuf::Descriptor* message = nullptr;     // kStruct
  const google::protobuf::FieldDescriptor* field = nullptr;  // kList, kMap: the field
  std::vector<std::string> keys;                             // kList: associative keys
  bool set = false;                                          // kList: associative, no keys

  bool associative() const { return kind == Kind::kList && !atomic; }
};

// The type of a whole object of `message` (apiVersion and kind included).
TypeRef RootType(const google::protobuf::Descriptor* message);
// The type of a struct's field by JSON key (inline fields resolved); nullopt when the
// schema has no such field.
std::optional<TypeRef> FieldType(const TypeRef& struct_type, absl::string_view key);
// The element type of a list or map.
TypeRef ElementType(const TypeRef& container);

// The path element of an associative list's item. A missing key field named
// "protocol" takes upstream's default "TCP" (the one key default in the core API).
absl::StatusOr<PathElement> ItemPathElement(const TypeRef& list, const codec::Node& item);

// Every field `value` sets, as SMD's ToFieldSet: leaves, atomic values, list items,
// map entries, and struct fields that are null or empty objects. Unknown fields are
// an error (".spec.foo: field not declared in schema"), and so are duplicate items of
// an associative list unless `allow_duplicates` (live objects may have them; such an
// item is then owned as a whole).
absl::StatusOr<Set> ToFieldSet(const codec::Node& value, const TypeRef& type,
                               bool allow_duplicates = false);

struct Comparison {
  Set added;
  Set modified;
  Set removed;

  Comparison FilterTopLevel(const std::vector<std::string>& ignored) const;
};

// What changed from lhs to rhs.
absl::StatusOr<Comparison> Diff(const codec::Node& lhs, const codec::Node& rhs,
                                const TypeRef& type);

// lhs (live) with rhs (apply configuration) merged in: rhs wins leaves and atomic
// values, structs and maps are merged key by key, associative lists item by item in
// SMD's order (shared items in rhs order, lhs-only items where they were).
// Duplicate keys in rhs are an error.
absl::StatusOr<codec::Node> Merge(const codec::Node& lhs, const codec::Node& rhs,
                                  const TypeRef& type);

// Removes from `value` the fields of `last` (what the applier owned before) that no
// manager owns now (`owned`, the union of every manager's set with the applier's new
// one), the way SMD's Updater.prune does it: named struct fields count as members of
// both sets, so a struct nobody owns anything under any more is removed too.
void Prune(codec::Node* value, const TypeRef& type, const Set& last, const Set& owned);

}  // namespace kslice::envtest::fieldmanager::internal

#endif  // KSLICE_ENVTEST_FIELDMANAGER_INTERNAL_TYPED_H_
