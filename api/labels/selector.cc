#include "api/labels/selector.h"

#include <algorithm>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/labels/validation.h"

namespace kslice::labels {
namespace {

// Debian's abseil has its own string_view type.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Base-10 int64 with an optional sign, the whole string, nothing else (as Go's
// strconv.ParseInt(s, 10, 64)).
std::optional<int64_t> ParseInt64(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  // Accumulate as a negative number so INT64_MIN is representable.
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  int64_t acc = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const int digit = c - '0';
    if (acc < (kMin + digit) / 10) return std::nullopt;
    acc = acc * 10 - digit;
  }
  if (negative) return acc;
  if (acc == kMin) return std::nullopt;
  return -acc;
}

std::string Quote(std::string_view s) { return absl::StrCat("\"", absl::CHexEscape(Sv(s)), "\""); }

// ---- Lexer ----

enum class Tok {
  kEnd,
  kWord,   // identifier: a key or a value
  kIn,     // the word "in"
  kNotIn,  // the word "notin"
  kComma,
  kOpenParen,
  kCloseParen,
  kBang,
  kEquals,
  kDoubleEquals,
  kNotEquals,
  kGreater,
  kLess,
};

struct Token {
  Tok kind;
  std::string_view text;
};

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsSymbol(char c) {
  switch (c) {
    case '=':
    case '!':
    case '(':
    case ')':
    case ',':
    case '<':
    case '>':
      return true;
    default:
      return false;
  }
}

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && IsBlank(s[i])) ++i;
    if (i == s.size()) break;
    const char c = s[i];
    if (IsSymbol(c)) {
      // "!=" and "==" are the only two-character symbols.
      if (i + 1 < s.size() && s[i + 1] == '=' && (c == '!' || c == '=')) {
        out.push_back({c == '!' ? Tok::kNotEquals : Tok::kDoubleEquals, s.substr(i, 2)});
        i += 2;
        continue;
      }
      Tok kind = Tok::kEnd;
      switch (c) {
        case '=': kind = Tok::kEquals; break;
        case '!': kind = Tok::kBang; break;
        case '(': kind = Tok::kOpenParen; break;
        case ')': kind = Tok::kCloseParen; break;
        case ',': kind = Tok::kComma; break;
        case '<': kind = Tok::kLess; break;
        default: kind = Tok::kGreater; break;
      }
      out.push_back({kind, s.substr(i, 1)});
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < s.size() && !IsBlank(s[i]) && !IsSymbol(s[i])) ++i;
    const std::string_view word = s.substr(start, i - start);
    Tok kind = Tok::kWord;
    if (word == "in") kind = Tok::kIn;
    if (word == "notin") kind = Tok::kNotIn;
    out.push_back({kind, word});
  }
  out.push_back({Tok::kEnd, {}});
  return out;
}

// In key and value positions the keywords are ordinary words.
bool IsWord(Tok t) { return t == Tok::kWord || t == Tok::kIn || t == Tok::kNotIn; }

std::string Describe(const Token& t) {
  if (t.kind == Tok::kEnd) return "end of string";
  return absl::StrCat("'", absl::CHexEscape(Sv(t.text)), "'");
}

// ---- Parser ----

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  absl::StatusOr<std::vector<Requirement>> ParseSelector() {
    std::vector<Requirement> out;
    if (Peek().kind == Tok::kEnd) return out;
    while (true) {
      if (!IsWord(Peek().kind) && Peek().kind != Tok::kBang) {
        return Error(absl::StrCat("found ", Describe(Peek()),
                                  ", expected '!' or a label key",
                                  out.empty() ? "" : " after ','"));
      }
      absl::StatusOr<Requirement> r = ParseRequirement();
      if (!r.ok()) return r.status();
      out.push_back(*std::move(r));
      const Token& sep = Next();
      if (sep.kind == Tok::kEnd) return out;
      if (sep.kind != Tok::kComma) {
        return Error(absl::StrCat("found ", Describe(sep), ", expected ',' or end of string"));
      }
    }
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() {
    const Token& t = tokens_[pos_];
    if (t.kind != Tok::kEnd) ++pos_;
    return t;
  }

  static absl::Status Error(std::string_view detail) {
    return absl::InvalidArgumentError(Sv(detail));
  }

  absl::StatusOr<Requirement> ParseRequirement() {
    const bool negated = Peek().kind == Tok::kBang;
    if (negated) Next();
    const Token& key_token = Next();
    if (!IsWord(key_token.kind)) {
      return Error(absl::StrCat("found ", Describe(key_token), ", expected a label key"));
    }
    std::string key(key_token.text);
    if (absl::Status s = ValidateLabelKey(key); !s.ok()) return s;
    // "!key" is complete by itself; anything after it but ',' is an error for the caller.
    if (negated) return Requirement::Create(std::move(key), Operator::kDoesNotExist);
    if (Peek().kind == Tok::kEnd || Peek().kind == Tok::kComma) {
      return Requirement::Create(std::move(key), Operator::kExists);
    }

    const Token& op_token = Next();
    Operator op;
    switch (op_token.kind) {
      case Tok::kIn: op = Operator::kIn; break;
      case Tok::kNotIn: op = Operator::kNotIn; break;
      case Tok::kEquals: op = Operator::kEquals; break;
      case Tok::kDoubleEquals: op = Operator::kDoubleEquals; break;
      case Tok::kNotEquals: op = Operator::kNotEquals; break;
      case Tok::kGreater: op = Operator::kGreaterThan; break;
      case Tok::kLess: op = Operator::kLessThan; break;
      default:
        return Error(absl::StrCat("found ", Describe(op_token), " after label key ", Quote(key),
                                  ", expected one of: in, notin, =, ==, !=, >, <"));
    }

    std::vector<std::string> values;
    if (op == Operator::kIn || op == Operator::kNotIn) {
      if (absl::Status s = ParseValueSet(values); !s.ok()) return s;
    } else if (Peek().kind == Tok::kEnd || Peek().kind == Tok::kComma) {
      values.emplace_back();  // "key=" selects the empty value
    } else {
      const Token& v = Next();
      if (!IsWord(v.kind)) {
        return Error(absl::StrCat("found ", Describe(v), ", expected a value for label key ",
                                  Quote(key)));
      }
      values.emplace_back(v.text);
    }
    return Requirement::Create(std::move(key), op, std::move(values));
  }

  // "(" element ("," element)* ")" where an element is a word or nothing (the empty
  // value). The result is sorted and free of duplicates.
  absl::Status ParseValueSet(std::vector<std::string>& values) {
    const Token& open = Next();
    if (open.kind != Tok::kOpenParen) {
      return Error(absl::StrCat("found ", Describe(open), ", expected '('"));
    }
    while (true) {
      if (IsWord(Peek().kind)) {
        values.emplace_back(Next().text);
      } else {
        values.emplace_back();
      }
      const Token& t = Next();
      if (t.kind == Tok::kCloseParen) break;
      if (t.kind != Tok::kComma) {
        return Error(absl::StrCat("found ", Describe(t), " in value list, expected ',' or ')'"));
      }
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return absl::OkStatus();
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string_view OperatorName(Operator op) {
  switch (op) {
    case Operator::kEquals: return "=";
    case Operator::kDoubleEquals: return "==";
    case Operator::kNotEquals: return "!=";
    case Operator::kIn: return "in";
    case Operator::kNotIn: return "notin";
    case Operator::kExists: return "exists";
    case Operator::kDoesNotExist: return "!";
    case Operator::kGreaterThan: return "gt";
    case Operator::kLessThan: return "lt";
  }
  return "?";
}

// ---- Requirement ----

absl::StatusOr<Requirement> Requirement::Create(std::string key, Operator op,
                                                std::vector<std::string> values) {
  std::vector<std::string> errs;
  if (absl::Status s = ValidateLabelKey(key); !s.ok()) errs.emplace_back(s.message());
  int64_t bound = 0;
  switch (op) {
    case Operator::kIn:
    case Operator::kNotIn:
      if (values.empty()) {
        errs.push_back(absl::StrCat("operator '", Sv(OperatorName(op)),
                                    "' needs a non-empty set of values"));
      }
      break;
    case Operator::kEquals:
    case Operator::kDoubleEquals:
    case Operator::kNotEquals:
      if (values.size() != 1) {
        errs.push_back(absl::StrCat("operator '", Sv(OperatorName(op)),
                                    "' needs exactly one value, got ", values.size()));
      }
      break;
    case Operator::kExists:
    case Operator::kDoesNotExist:
      if (!values.empty()) {
        errs.push_back(absl::StrCat("operator '", Sv(OperatorName(op)), "' takes no values, got ",
                                    values.size()));
      }
      break;
    case Operator::kGreaterThan:
    case Operator::kLessThan:
      if (values.size() != 1) {
        errs.push_back(absl::StrCat("operator '", Sv(OperatorName(op)),
                                    "' needs exactly one value, got ", values.size()));
      }
      for (const std::string& v : values) {
        if (std::optional<int64_t> n = ParseInt64(v)) {
          bound = *n;
        } else {
          errs.push_back(absl::StrCat("operator '", Sv(OperatorName(op)),
                                      "' needs an integer value, got ", Quote(v)));
        }
      }
      break;
    default:
      errs.push_back(absl::StrCat("unsupported operator ", static_cast<int>(op)));
      break;
  }
  for (const std::string& v : values) {
    if (absl::Status s = ValidateLabelValue(key, v); !s.ok()) errs.emplace_back(s.message());
  }
  if (!errs.empty()) return absl::InvalidArgumentError(absl::StrJoin(errs, "; "));
  return Requirement(std::move(key), op, std::move(values), bound);
}

bool Requirement::HasValue(std::string_view v) const {
  for (const std::string& x : values_) {
    if (x == v) return true;
  }
  return false;
}

bool Requirement::MatchesValue(std::optional<std::string_view> value) const {
  switch (op_) {
    case Operator::kEquals:
    case Operator::kDoubleEquals:
    case Operator::kIn:
      return value.has_value() && HasValue(*value);
    case Operator::kNotEquals:
    case Operator::kNotIn:
      return !value.has_value() || !HasValue(*value);
    case Operator::kExists:
      return value.has_value();
    case Operator::kDoesNotExist:
      return !value.has_value();
    case Operator::kGreaterThan:
    case Operator::kLessThan: {
      if (!value.has_value()) return false;
      const std::optional<int64_t> n = ParseInt64(*value);
      if (!n.has_value()) return false;
      return op_ == Operator::kGreaterThan ? *n > bound_ : *n < bound_;
    }
  }
  return false;
}

std::string Requirement::String() const {
  std::string out;
  if (op_ == Operator::kDoesNotExist) out.push_back('!');
  out.append(key_);
  const bool set = op_ == Operator::kIn || op_ == Operator::kNotIn;
  switch (op_) {
    case Operator::kExists:
    case Operator::kDoesNotExist:
      return out;
    case Operator::kEquals: out.append("="); break;
    case Operator::kDoubleEquals: out.append("=="); break;
    case Operator::kNotEquals: out.append("!="); break;
    case Operator::kIn: out.append(" in ("); break;
    case Operator::kNotIn: out.append(" notin ("); break;
    case Operator::kGreaterThan: out.append(">"); break;
    case Operator::kLessThan: out.append("<"); break;
  }
  if (values_.size() == 1) {
    out.append(values_[0]);
  } else if (std::is_sorted(values_.begin(), values_.end())) {
    absl::StrAppend(&out, absl::StrJoin(values_, ","));
  } else {
    std::vector<std::string> sorted = values_;
    std::sort(sorted.begin(), sorted.end());
    absl::StrAppend(&out, absl::StrJoin(sorted, ","));
  }
  if (set) out.push_back(')');
  return out;
}

// ---- Selector ----

Selector Selector::Nothing() {
  Selector s;
  s.nothing_ = true;
  return s;
}

Selector Selector::Add(std::vector<Requirement> requirements) const {
  if (nothing_) return *this;
  Selector out;
  out.requirements_ = requirements_;
  out.requirements_.reserve(requirements_.size() + requirements.size());
  for (Requirement& r : requirements) out.requirements_.push_back(std::move(r));
  std::stable_sort(out.requirements_.begin(), out.requirements_.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key() < b.key(); });
  return out;
}

Selector Selector::Add(Requirement requirement) const {
  std::vector<Requirement> v;
  v.push_back(std::move(requirement));
  return Add(std::move(v));
}

bool Selector::Matches(LabelLookup lookup) const {
  if (nothing_) return false;
  for (const Requirement& r : requirements_) {
    if (!r.Matches(lookup)) return false;
  }
  return true;
}

std::string Selector::String() const {
  return absl::StrJoin(requirements_, ",", [](std::string* out, const Requirement& r) {
    out->append(r.String());
  });
}

std::optional<std::string> Selector::RequiresExactMatch(std::string_view label) const {
  for (const Requirement& r : requirements_) {
    if (r.key() != label) continue;
    switch (r.op()) {
      case Operator::kEquals:
      case Operator::kDoubleEquals:
      case Operator::kIn:
        if (r.values().size() == 1) return r.values()[0];
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

absl::StatusOr<Selector> Parse(std::string_view selector) {
  // Upstream's lexer stops at a NUL byte and silently ignores the rest of the input
  // ("\0anything" would select everything); reject NUL outright instead.
  if (selector.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid label selector ", Quote(selector), ": contains a NUL byte"));
  }
  absl::StatusOr<std::vector<Requirement>> reqs = Parser(Lex(selector)).ParseSelector();
  if (!reqs.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid label selector ", Quote(selector),
                                                   ": ", reqs.status().message()));
  }
  return Selector().Add(*std::move(reqs));
}

Selector SelectorFromSet(const LabelMap& labels) {
  std::vector<Requirement> reqs;
  reqs.reserve(labels.size());
  for (const auto& [k, v] : labels) {
    reqs.push_back(Requirement(k, Operator::kEquals, {v}, 0));
  }
  return Selector().Add(std::move(reqs));
}

absl::StatusOr<Selector> ValidatedSelectorFromSet(const LabelMap& labels) {
  std::vector<const std::string*> keys;
  keys.reserve(labels.size());
  for (const auto& entry : labels) keys.push_back(&entry.first);
  std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  std::vector<Requirement> reqs;
  reqs.reserve(labels.size());
  for (const std::string* k : keys) {
    absl::StatusOr<Requirement> r = Requirement::Create(*k, Operator::kEquals, {labels.at(*k)});
    if (!r.ok()) return r.status();
    reqs.push_back(*std::move(r));
  }
  return Selector().Add(std::move(reqs));
}

}  // namespace kslice::labels
