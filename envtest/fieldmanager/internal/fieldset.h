// Field sets as structured-merge-diff (SMD) defines them: a tree of path elements
// where each node may be a member of the set (a field somebody owns) and may have
// children. Internal to envtest/fieldmanager.
//
// A path element is one of
//   f:<name>       a field of a struct or a key of a map          (".name")
//   k:{"a":1,...}  an element of an associative list, by its keys ("[a=1,b=\"x\"]")
//   v:<json>       an element of a set list, by its value         ("[=\"x\"]")
//   i:<n>          an element of a list by index (only decoded)   ("[3]")
// The FieldsV1 form (metadata.managedFields[].fieldsV1) is a JSON object with one key
// per path element; a node that is both a member and has children lists "." first.
// Keys are written in SMD's order: field names before keys before values before
// indexes, each group sorted.
#ifndef KSLICE_ENVTEST_FIELDMANAGER_INTERNAL_FIELDSET_H_
#define KSLICE_ENVTEST_FIELDMANAGER_INTERNAL_FIELDSET_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "api/codec/node.h"

namespace kslice::envtest::fieldmanager::internal {

struct PathElement {
  enum class Kind { kField, kKey, kValue, kIndex };
  Kind kind = Kind::kField;
  std::string name;                                     // kField
  std::vector<std::pair<std::string, codec::Node>> key;  // kKey, sorted by name
  codec::Node value;                                    // kValue
  int64_t index = 0;                                    // kIndex

  static PathElement Field(std::string name);
  // `key` is sorted here.
  static PathElement Key(std::vector<std::pair<std::string, codec::Node>> key);
  static PathElement Value(codec::Node value);
  static PathElement Index(int64_t index);

  // SMD's String(): ".name", "[name=\"x\"]", "[=\"x\"]", "[3]".
  std::string ToString() const;
  // The FieldsV1 key: "f:name", "k:{\"name\":\"x\"}", "v:\"x\"", "i:3".
  std::string ToFieldsV1Key() const;
};

// SMD's ordering of JSON values (numbers < strings < bools < lists < maps < null) and
// of path elements.
int CompareValues(const codec::Node& a, const codec::Node& b);
int Compare(const PathElement& a, const PathElement& b);

using Path = std::vector<PathElement>;

// ".spec.containers[name=\"app\"].image"
std::string PathToString(const Path& path);

class Set {
 public:
  struct Entry;

  bool Empty() const { return entries_.empty(); }
  void Insert(const Path& path);
  bool Has(const Path& path) const;

  Set Union(const Set& other) const;
  // Members of this set not members of `other`; children are subtracted only by
  // other's children (a member of `other` does not remove this set's children).
  Set Difference(const Set& other) const;
  Set Intersection(const Set& other) const;
  // Keeps only the paths whose first element is not one of `names` (fields).
  Set WithoutTopLevelFields(const std::vector<std::string>& names) const;

  // Every member, in SMD's Iterate order (this level's members, then children).
  void Iterate(const std::function<void(const Path&)>& fn) const;

  // The node for `pe`, or nullptr.
  const Entry* Find(const PathElement& pe) const;
  const std::vector<Entry>& entries() const { return entries_; }

  bool operator==(const Set& other) const;

 private:
  Entry* FindOrAdd(const PathElement& pe);
  void IteratePrefix(Path* prefix, const std::function<void(const Path&)>& fn) const;

  std::vector<Entry> entries_;  // sorted by path element; no entry without content
};

struct Set::Entry {
  PathElement pe;
  bool member = false;
  Set children;
};

// FieldsV1 JSON object <-> Set.
codec::Node ToFieldsV1(const Set& set);
absl::StatusOr<Set> FromFieldsV1(const codec::Node& fields);

}  // namespace kslice::envtest::fieldmanager::internal

#endif  // KSLICE_ENVTEST_FIELDMANAGER_INTERNAL_FIELDSET_H_
