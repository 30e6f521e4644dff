// Label selectors with the semantics of k8s.io/apimachinery/pkg/labels.
//
// A Selector is an AND of Requirements, kept sorted by key (stably, so requirements on
// the same key keep their written order). Parse() reads the string form used in
// `?labelSelector=` and `kubectl -l`:
//
//   selector     := "" | requirement ("," requirement)*
//   requirement  := ["!"] KEY
//                 | KEY ("=" | "==" | "!=") [VALUE]
//                 | KEY (">" | "<") INTEGER
//                 | KEY ("in" | "notin") "(" [VALUE] ("," [VALUE])* ")"
//
// Blanks (space, tab, CR, LF) may separate tokens. "in"/"notin" are keywords only in
// operator position, so they are fine as keys and values. Missing values are the empty
// string ("x=" requires x to be set to ""; "x in (a,)" allows "a" or ""). Keys and
// values are validated as in the API (see validation.h); ">"/"<" take a base-10 int64.
//
// String() gives the canonical form upstream prints: no blanks except around
// in/notin, "!" for DoesNotExist, set values sorted, requirements sorted by key; it
// parses back to an equal selector.
#ifndef KSLICE_API_LABELS_SELECTOR_H_
#define KSLICE_API_LABELS_SELECTOR_H_

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace kslice::labels {

// The usual owning label set. Matches() also takes std::map, std::unordered_map and
// google::protobuf::Map<std::string, std::string> (an object's metadata.labels)
// directly, or any lookup function.
using LabelMap = absl::flat_hash_map<std::string, std::string>;

// A map-like label set: find(key) and ->second readable as a string.
template <typename M>
concept LabelLookupMap = requires(const M& m, const std::string& key) {
  { m.find(key) == m.end() } -> std::convertible_to<bool>;
  { m.find(key)->second } -> std::convertible_to<std::string_view>;
};

// Type-erased label lookup: the value of `key`, or nullopt when the label is absent.
using LabelLookup = absl::FunctionRef<std::optional<std::string_view>(const std::string& key)>;

enum class Operator {
  kEquals,        // key=value
  kDoubleEquals,  // key==value (same meaning as =)
  kNotEquals,     // key!=value
  kIn,            // key in (v1,v2)
  kNotIn,         // key notin (v1,v2)
  kExists,        // key
  kDoesNotExist,  // !key
  kGreaterThan,   // key>N
  kLessThan,      // key<N
};

// Upstream's selection.Operator spelling: "=", "==", "!=", "in", "notin", "exists",
// "!", "gt", "lt".
std::string_view OperatorName(Operator op);

class Selector;

class Requirement {
 public:
  // Validates like upstream's NewRequirement:
  //  - key is a qualified name;
  //  - in/notin: at least one value; =, ==, !=: exactly one; exists/!: none;
  //    gt/lt: exactly one, a base-10 int64;
  //  - every value is a valid label value (the empty string is valid).
  // Values are kept in the given order (String() sorts set values for output).
  static absl::StatusOr<Requirement> Create(std::string key, Operator op,
                                            std::vector<std::string> values = {});

  const std::string& key() const { return key_; }
  Operator op() const { return op_; }
  const std::vector<std::string>& values() const { return values_; }

  // Whether a label set whose value for key() is `value` (nullopt: label absent)
  // satisfies this requirement. Absent labels satisfy !=, notin and !key.
  // gt/lt require the label to hold a base-10 int64.
  bool MatchesValue(std::optional<std::string_view> value) const;

  template <LabelLookupMap M>
  bool Matches(const M& labels) const {
    auto it = labels.find(key_);
    if (it == labels.end()) return MatchesValue(std::nullopt);
    return MatchesValue(std::string_view(it->second));
  }
  bool Matches(LabelLookup lookup) const { return MatchesValue(lookup(key_)); }

  std::string String() const;

  friend bool operator==(const Requirement&, const Requirement&) = default;

 private:
  friend Selector SelectorFromSet(const LabelMap& labels);

  Requirement(std::string key, Operator op, std::vector<std::string> values, int64_t bound)
      : key_(std::move(key)), op_(op), values_(std::move(values)), bound_(bound) {}

  bool HasValue(std::string_view v) const;

  std::string key_;
  Operator op_;
  std::vector<std::string> values_;
  int64_t bound_;  // gt/lt: values_[0] as an integer; 0 otherwise
};

class Selector {
 public:
  // Matches every label set (same as Everything()).
  Selector() = default;

  static Selector Everything() { return Selector(); }
  // Matches no label set; what a nil metav1.LabelSelector means.
  static Selector Nothing();

  // True when the selector places no restriction (no requirements, not Nothing()).
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  // True only for Nothing() (a contradictory selector such as "a=b,a!=b" is not
  // detected, as upstream).
  bool MatchesNothing() const { return nothing_; }

  // Sorted by key. Empty for both Everything() and Nothing().
  const std::vector<Requirement>& requirements() const { return requirements_; }

  // A copy with the requirements added, re-sorted by key. Nothing() stays Nothing().
  Selector Add(std::vector<Requirement> requirements) const;
  Selector Add(Requirement requirement) const;

  template <LabelLookupMap M>
  bool Matches(const M& labels) const {
    if (nothing_) return false;
    for (const Requirement& r : requirements_) {
      if (!r.Matches(labels)) return false;
    }
    return true;
  }
  bool Matches(LabelLookup lookup) const;

  // The canonical string form; "" for Everything() and for Nothing().
  std::string String() const;

  // If the selector pins `label` to a single value (the first requirement on that key
  // is =, == or "in" with exactly one value), that value.
  std::optional<std::string> RequiresExactMatch(std::string_view label) const;

  friend bool operator==(const Selector&, const Selector&) = default;

 private:
  bool nothing_ = false;
  std::vector<Requirement> requirements_;
};

// Parses the string form (see the file comment). "" (or only blanks) gives an empty
// selector that matches everything. Errors are InvalidArgument and name the problem.
absl::StatusOr<Selector> Parse(std::string_view selector);

// key=value for every entry, without validation (upstream's SelectorFromSet). An
// empty set gives Everything().
Selector SelectorFromSet(const LabelMap& labels);
// The same, but validates every key and value first.
absl::StatusOr<Selector> ValidatedSelectorFromSet(const LabelMap& labels);

}  // namespace kslice::labels

#endif  // KSLICE_API_LABELS_SELECTOR_H_
