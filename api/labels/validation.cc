#include "api/labels/validation.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kslice::labels {
namespace {

// Debian's abseil has its own string_view type.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [A-Za-z0-9] ([-A-Za-z0-9_.]* [A-Za-z0-9])?  -- one or more characters.
bool IsNameToken(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// One DNS label inside a subdomain: [a-z0-9] ([-a-z0-9]* [a-z0-9])?
bool IsDNSLabelToken(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

constexpr char kNameRule[] =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName', 'my.name' or '123-abc')";

constexpr char kSubdomainRule[] =
    "must be a lowercase RFC 1123 subdomain: lower case alphanumeric characters, '-' or "
    "'.', starting and ending with an alphanumeric character (e.g. 'example.com')";

constexpr char kValueRule[] =
    "must be empty or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue', 'my_value' or "
    "'12345')";

std::string TooLong(std::size_t max) {
  return absl::StrCat("must be no more than ", max, " characters");
}

std::string Quote(std::string_view s) { return absl::StrCat("\"", absl::CHexEscape(Sv(s)), "\""); }

}  // namespace

std::vector<std::string> IsDNS1123Subdomain(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDNS1123SubdomainMaxLength) {
    errs.push_back(TooLong(kDNS1123SubdomainMaxLength));
  }
  bool ok = true;
  std::size_t start = 0;
  while (ok) {
    const std::size_t dot = value.find('.', start);
    const std::string_view label =
        value.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    ok = IsDNSLabelToken(label);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (!ok) errs.push_back(kSubdomainRule);
  return errs;
}

std::vector<std::string> IsQualifiedName(std::string_view value) {
  std::vector<std::string> errs;
  std::string_view name = value;
  const std::size_t slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      errs.push_back(
          absl::StrCat("a qualified name ", kNameRule,
                       ", with an optional DNS subdomain prefix and '/' (e.g. "
                       "'example.com/MyName')"));
      return errs;
    }
    const std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (const std::string& e : IsDNS1123Subdomain(prefix)) {
        errs.push_back(absl::StrCat("prefix part ", e));
      }
    }
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > kQualifiedNameMaxLength) {
    errs.push_back(absl::StrCat("name part ", TooLong(kQualifiedNameMaxLength)));
  }
  if (!IsNameToken(name)) errs.push_back(absl::StrCat("name part ", kNameRule));
  return errs;
}

std::vector<std::string> IsValidLabelValue(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kLabelValueMaxLength) errs.push_back(TooLong(kLabelValueMaxLength));
  if (!value.empty() && !IsNameToken(value)) errs.push_back(kValueRule);
  return errs;
}

absl::Status ValidateLabelKey(std::string_view key) {
  const std::vector<std::string> errs = IsQualifiedName(key);
  if (errs.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid label key ", Quote(key), ": ", absl::StrJoin(errs, "; ")));
}

absl::Status ValidateLabelValue(std::string_view key, std::string_view value) {
  const std::vector<std::string> errs = IsValidLabelValue(value);
  if (errs.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("invalid value ", Quote(value),
                                                 " for label ", Quote(key), ": ",
                                                 absl::StrJoin(errs, "; ")));
}

}  // namespace kslice::labels
