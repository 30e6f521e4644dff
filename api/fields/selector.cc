#include "api/fields/selector.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kslice::fields {
namespace {

// Debian's abseil has its own string_view type.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string Quote(std::string_view s) { return absl::StrCat("\"", absl::CHexEscape(Sv(s)), "\""); }

// Splits on commas that are not escaped. A backslash always takes the next byte with
// it (whether or not that makes a valid escape; the value check reports bad ones), and
// the pieces keep their backslashes.
std::vector<std::string_view> SplitTerms(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  bool escaped = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (escaped) {
      escaped = false;
    } else if (s[i] == '\\') {
      escaped = true;
    } else if (s[i] == ',') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

struct Term {
  std::string_view field;
  Operator op;
  std::string_view raw_value;
};

// The field runs up to the first operator; no escaping applies to it. At any one
// position "!=" wins, then "==", then "=".
std::optional<Term> SplitTerm(std::string_view term) {
  for (std::size_t i = 0; i < term.size(); ++i) {
    const std::string_view rest = term.substr(i);
    if (rest.starts_with("!=")) return Term{term.substr(0, i), Operator::kNotEquals, rest.substr(2)};
    if (rest.starts_with("==")) return Term{term.substr(0, i), Operator::kEquals, rest.substr(2)};
    if (rest.starts_with("=")) return Term{term.substr(0, i), Operator::kEquals, rest.substr(1)};
  }
  return std::nullopt;
}

}  // namespace

std::string EscapeValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == ',' || c == '=') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

namespace {

// Unescapes into *out; on failure returns what is wrong (without naming the value).
std::optional<std::string> Unescape(std::string_view escaped, std::string* out) {
  out->clear();
  out->reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == '\\') {
      if (i + 1 == escaped.size()) return "trailing backslash (write \\\\ for a literal one)";
      const char next = escaped[++i];
      if (next != '\\' && next != ',' && next != '=') {
        return absl::StrCat("invalid escape sequence ", Quote(escaped.substr(i - 1, 2)),
                            " (only \\\\, \\, and \\= are recognized)");
      }
      out->push_back(next);
    } else if (c == ',' || c == '=') {
      return absl::StrCat("unescaped '", std::string(1, c), "' (write \\", std::string(1, c), ")");
    } else {
      out->push_back(c);
    }
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::string> UnescapeValue(std::string_view escaped) {
  std::string out;
  if (std::optional<std::string> err = Unescape(escaped, &out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid field selector value ", Quote(escaped), ": ", *err));
  }
  return out;
}

std::string Requirement::String() const {
  return absl::StrCat(field, op == Operator::kEquals ? "=" : "!=", EscapeValue(value));
}

Selector Selector::Nothing() {
  Selector s;
  s.nothing_ = true;
  return s;
}

Selector Selector::OneTermEqual(std::string field, std::string value) {
  Selector s;
  s.requirements_.push_back({std::move(field), Operator::kEquals, std::move(value)});
  return s;
}

Selector Selector::OneTermNotEqual(std::string field, std::string value) {
  Selector s;
  s.requirements_.push_back({std::move(field), Operator::kNotEquals, std::move(value)});
  return s;
}

Selector Selector::FromRequirements(std::vector<Requirement> requirements) {
  Selector s;
  s.requirements_ = std::move(requirements);
  return s;
}

Selector Selector::And(const std::vector<Selector>& selectors) {
  Selector out;
  for (const Selector& s : selectors) {
    if (s.nothing_) return Nothing();
    out.requirements_.insert(out.requirements_.end(), s.requirements_.begin(),
                             s.requirements_.end());
  }
  return out;
}

std::string Selector::String() const {
  return absl::StrJoin(requirements_, ",", [](std::string* out, const Requirement& r) {
    out->append(r.String());
  });
}

std::optional<std::string> Selector::RequiresExactMatch(std::string_view field) const {
  for (const Requirement& r : requirements_) {
    if (r.op == Operator::kEquals && r.field == field) return r.value;
  }
  return std::nullopt;
}

absl::StatusOr<Selector> Parse(std::string_view selector) {
  if (selector.empty()) return Selector::Everything();
  std::vector<std::string_view> terms = SplitTerms(selector);
  std::sort(terms.begin(), terms.end());
  std::vector<Requirement> reqs;
  reqs.reserve(terms.size());
  for (std::string_view term : terms) {
    if (term.empty()) continue;
    const std::optional<Term> t = SplitTerm(term);
    if (!t.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid field selector ", Quote(selector), ": can't understand term ",
                       Quote(term), " (expected field=value, field==value or field!=value)"));
    }
    std::string value;
    if (std::optional<std::string> err = Unescape(t->raw_value, &value)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid field selector ", Quote(selector),
                                                     ": value of term ", Quote(term), ": ", *err));
    }
    reqs.push_back({std::string(t->field), t->op, std::move(value)});
  }
  return Selector::FromRequirements(std::move(reqs));
}

Selector SelectorFromSet(const FieldSet& fields) {
  std::vector<std::pair<std::string, std::string>> sorted(fields.begin(), fields.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<Requirement> reqs;
  reqs.reserve(sorted.size());
  for (auto& [field, value] : sorted) {
    reqs.push_back({std::move(field), Operator::kEquals, std::move(value)});
  }
  return Selector::FromRequirements(std::move(reqs));
}

}  // namespace kslice::fields
