// Helpers that give kslice::codec::Node trees the semantics of the Go values upstream's
// patch code works on (encoding/json into interface{}: nil, bool, string, int64 or
// float64 numbers, map[string]interface{}, []interface{}). Internal to envtest/patch.
#ifndef KSLICE_ENVTEST_PATCH_INTERNAL_VALUE_H_
#define KSLICE_ENVTEST_PATCH_INTERNAL_VALUE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "api/codec/node.h"

namespace kslice::envtest::patch::internal {

using codec::Node;

// The dynamic Go type of a decoded JSON value. Numbers are int64 when their text is a
// plain integer in range (k8s.io/apimachinery/pkg/util/json's PreserveInts), else float64.
enum class GoType { kNil, kBool, kString, kInt64, kFloat64, kMap, kSlice };

GoType TypeOf(const Node& v);
// reflect.Type.String() of the type: "map[string]interface {}", "[]interface {}", "int64"...
// ("%!s(<nil>)" for nil, as fmt prints a nil reflect.Type with %s).
std::string GoTypeName(GoType t);

// True when text is a number Go reads as int64 (sets *out).
bool ParseGoInt(absl::string_view text, int64_t* out);

// Go's == on two interface{} values holding scalars: same dynamic type and value.
// Maps and slices (where Go would panic) are never equal.
bool GoEqual(const Node& a, const Node& b);

// A hash key with GoEqual's equality; nullopt for maps and slices.
std::optional<std::string> GoKey(const Node& v);

// fmt's %v of the value (maps with sorted keys: map[a:1 b:[x y]]).
std::string GoFormat(const Node& v);

// Deep equality with JSON semantics on numbers as text and strings as values.
bool JsonEqual(const Node& a, const Node& b);

// Nesting depth: scalars 0, [] and {} 1, [[...]] 2, ...
int Depth(const Node& v);

// Object helpers (v must be kObject).
// Index of the member named key (the last one if repeated), or -1.
int FindMember(const Node& obj, absl::string_view key);
// Replaces the member's value (the first one with the key) or appends a member.
void SetMember(Node* obj, absl::string_view key, Node value);
// Removes every member named key; true if there was one.
bool EraseMember(Node* obj, absl::string_view key);
// Removes duplicate keys everywhere in the tree, keeping the last value at the
// position of the first occurrence (encoding/json into a map: the last one wins).
void DedupeKeys(Node* v);

// A key -> member index map over one object, kept valid by the mutators below.
class MemberIndex {
 public:
  explicit MemberIndex(Node* obj);
  Node* obj() const { return obj_; }
  // nullptr when absent.
  Node* Get(absl::string_view key) const;
  bool Has(absl::string_view key) const { return index_.contains(key); }
  void Set(absl::string_view key, Node value);
  void Erase(absl::string_view key);
  // Drops erased members from the object (call once at the end).
  void Compact();

 private:
  Node* obj_;  // not owned
  absl::flat_hash_map<std::string, size_t> index_;
  std::vector<bool> erased_;
};

}  // namespace kslice::envtest::patch::internal

#endif  // KSLICE_ENVTEST_PATCH_INTERNAL_VALUE_H_
