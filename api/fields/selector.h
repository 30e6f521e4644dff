// Field selectors with the semantics of k8s.io/apimachinery/pkg/fields.
//
//   selector := term ("," term)*          empty terms are skipped; "" selects everything
//   term     := FIELD ("=" | "==" | "!=") VALUE
//
// FIELD is taken literally up to the first operator ("metadata.name",
// "spec.nodeName", "status.phase", ...); it is not validated here (the API server
// decides which fields a resource supports). VALUE is escaped: "\\", "\," and "\="
// stand for '\', ',' and '='; any other backslash sequence, a trailing backslash, and
// an unescaped ',' or '=' inside a value are errors. "==" means the same as "=".
//
// A field that the object does not have reads as "" when matching: "f=" matches an
// absent field and "f!=x" does too.
//
// Parsed terms are kept in the order of their raw text sorted bytewise, as upstream
// does, and String() prints them canonically (field=value / field!=value, values
// re-escaped). Because "==" prints as "=", re-parsing String() may order terms
// differently, but it always gives the same set of terms.
#ifndef KSLICE_API_FIELDS_SELECTOR_H_
#define KSLICE_API_FIELDS_SELECTOR_H_

#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace kslice::fields {

// Field path -> value, e.g. {"metadata.name": "web-0", "status.phase": "Running"}.
using FieldSet = absl::flat_hash_map<std::string, std::string>;

// Anything callable with a field path that yields text: a lambda reading an object,
// returning std::string, std::string_view or const char*. "" means the field is unset.
template <typename F>
concept FieldAccessor =
    std::is_invocable_v<const F&, std::string_view> &&
    std::convertible_to<std::invoke_result_t<const F&, std::string_view>, std::string_view>;

// A map-like field set: find(field) and ->second readable as a string.
template <typename M>
concept FieldLookupMap = requires(const M& m, const std::string& field) {
  { m.find(field) == m.end() } -> std::convertible_to<bool>;
  { m.find(field)->second } -> std::convertible_to<std::string_view>;
};

enum class Operator {
  kEquals,     // field=value (also written field==value)
  kNotEquals,  // field!=value
};

struct Requirement {
  std::string field;
  Operator op = Operator::kEquals;
  std::string value;  // unescaped

  bool MatchesValue(std::string_view actual) const {
    return (actual == value) == (op == Operator::kEquals);
  }
  // "field=value" / "field!=value" with the value escaped.
  std::string String() const;

  friend bool operator==(const Requirement&, const Requirement&) = default;
};

// Escapes '\', ',' and '=' with a backslash, so any string can be a selector value.
std::string EscapeValue(std::string_view value);
// The inverse; InvalidArgument on an unknown escape, a trailing '\' or a bare ',' / '='.
absl::StatusOr<std::string> UnescapeValue(std::string_view escaped);

class Selector {
 public:
  // Matches everything (same as Everything()).
  Selector() = default;

  static Selector Everything() { return Selector(); }
  // Matches nothing.
  static Selector Nothing();
  // A single field=value / field!=value term (no parsing, any text allowed).
  static Selector OneTermEqual(std::string field, std::string value);
  static Selector OneTermNotEqual(std::string field, std::string value);
  // The AND of the given terms, in the given order.
  static Selector FromRequirements(std::vector<Requirement> requirements);
  // The AND of all the selectors; terms keep their order. Nothing() if any is Nothing().
  static Selector And(const std::vector<Selector>& selectors);

  // True when there is no restriction (no terms, not Nothing()).
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  bool MatchesNothing() const { return nothing_; }
  const std::vector<Requirement>& requirements() const { return requirements_; }

  template <FieldAccessor F>
  bool Matches(const F& get_field) const {
    if (nothing_) return false;
    for (const Requirement& r : requirements_) {
      if (!r.MatchesValue(std::string_view(get_field(std::string_view(r.field))))) return false;
    }
    return true;
  }

  template <FieldLookupMap M>
  bool Matches(const M& fields) const {
    if (nothing_) return false;
    for (const Requirement& r : requirements_) {
      auto it = fields.find(r.field);
      const std::string_view actual =
          it == fields.end() ? std::string_view() : std::string_view(it->second);
      if (!r.MatchesValue(actual)) return false;
    }
    return true;
  }

  // Terms joined with ','; "" for Everything() and for Nothing().
  std::string String() const;

  // The value of the first field=value term on `field`, if any ("!=" terms never pin
  // a value).
  std::optional<std::string> RequiresExactMatch(std::string_view field) const;

  friend bool operator==(const Selector&, const Selector&) = default;

 private:
  bool nothing_ = false;
  std::vector<Requirement> requirements_;
};

// Parses a field selector (see the file comment); InvalidArgument on bad input.
absl::StatusOr<Selector> Parse(std::string_view selector);

// field=value for every entry, sorted by field (upstream's order is unspecified).
Selector SelectorFromSet(const FieldSet& fields);

}  // namespace kslice::fields

#endif  // KSLICE_API_FIELDS_SELECTOR_H_
