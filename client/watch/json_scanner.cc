#include "client/watch/json_scanner.h"

#include "absl/strings/str_cat.h"
#include "api/codec/node.h"

namespace kslice::client::watch::internal {

namespace {

absl::Status SyntaxError(absl::string_view what, size_t offset) {
  return absl::InvalidArgumentError(absl::StrCat(what, " at offset ", offset, " of the event"));
}

}  // namespace

void JsonObjectScanner::Reset() {
  pos_ = 0;
  in_string_ = false;
  escape_ = false;
  span_begin_ = 0;
  stack_.clear();
  spans_.clear();
}

absl::StatusOr<bool> JsonObjectScanner::Scan(absl::string_view data) {
  const char* const p = data.data();
  const size_t n = data.size();
  size_t i = pos_;
  if (i == 0 && n > 0 && p[0] != '{') return SyntaxError("expected '{'", 0);
  while (i < n) {
    if (in_string_) {
      if (escape_) {
        escape_ = false;
        ++i;
        continue;
      }
      // Most of a Kubernetes object is string content: skip it in a tight loop.
      const char* q = p + i;
      const char* const end = p + n;
      while (q < end && *q != '"' && *q != '\\') ++q;
      i = static_cast<size_t>(q - p);
      if (i == n) break;
      ++i;
      if (*q == '\\') {
        escape_ = true;
        continue;
      }
      in_string_ = false;
      if (stack_.size() == 1) spans_.emplace_back(span_begin_, i);
      continue;
    }
    const char c = p[i];
    switch (c) {
      case '"':
        in_string_ = true;
        if (stack_.size() == 1) span_begin_ = i;
        break;
      case '{':
      case '[':
        if (static_cast<int>(stack_.size()) >= max_depth_) {
          pos_ = i;
          return SyntaxError(absl::StrCat("nesting deeper than ", max_depth_), i);
        }
        if (stack_.size() == 1) span_begin_ = i;
        stack_.push_back(c);
        break;
      case '}':
      case ']': {
        const char open = c == '}' ? '{' : '[';
        if (stack_.empty() || stack_.back() != open) {
          pos_ = i;
          return SyntaxError(absl::StrCat("unexpected '", absl::string_view(&c, 1), "'"), i);
        }
        stack_.pop_back();
        if (stack_.size() == 1) spans_.emplace_back(span_begin_, i + 1);
        if (stack_.empty()) {
          pos_ = i + 1;
          return true;
        }
        break;
      }
      default:
        break;
    }
    ++i;
  }
  pos_ = i;
  return false;
}

absl::StatusOr<std::vector<Member>> SplitObject(absl::string_view object,
                                                const std::vector<Span>& spans) {
  std::vector<Member> members;
  const size_t n = object.size();
  size_t i = 0;
  size_t k = 0;  // next span
  auto skip_space = [&] {
    while (i < n && IsJsonSpace(object[i])) ++i;
  };
  // The span starting at i (strings and containers were delimited by the scanner).
  auto take_span = [&](absl::string_view what) -> absl::StatusOr<absl::string_view> {
    if (k >= spans.size() || spans[k].first != i) return SyntaxError(absl::StrCat("bad ", what), i);
    absl::string_view text = object.substr(i, spans[k].second - i);
    i = spans[k].second;
    ++k;
    return text;
  };

  if (n < 2 || object[0] != '{' || object[n - 1] != '}') return SyntaxError("not an object", 0);
  i = 1;
  skip_space();
  if (i == n - 1) return members;  // {}
  while (true) {
    skip_space();
    if (i >= n || object[i] != '"') return SyntaxError("expected a member name", i);
    absl::StatusOr<absl::string_view> key_text = take_span("member name");
    if (!key_text.ok()) return key_text.status();
    Member m;
    if (key_text->find('\\') == absl::string_view::npos) {
      m.key = std::string(key_text->substr(1, key_text->size() - 2));
    } else {
      absl::StatusOr<kslice::codec::Node> key = kslice::codec::ParseJson(*key_text);
      if (!key.ok()) return SyntaxError("invalid member name", i - key_text->size());
      m.key = std::move(key->text);
    }
    skip_space();
    if (i >= n || object[i] != ':') return SyntaxError("expected ':'", i);
    ++i;
    skip_space();
    if (i >= n - 1) return SyntaxError("expected a value", i);
    const char c = object[i];
    if (c == '"' || c == '{' || c == '[') {
      absl::StatusOr<absl::string_view> value = take_span("value");
      if (!value.ok()) return value.status();
      m.value = *value;
    } else {
      // A number or literal: up to the next delimiter; the parser validates it.
      const size_t begin = i;
      while (i < n - 1 && object[i] != ',' && object[i] != '}' && !IsJsonSpace(object[i])) ++i;
      if (i == begin) return SyntaxError("expected a value", i);
      m.value = object.substr(begin, i - begin);
    }
    members.push_back(std::move(m));
    skip_space();
    if (i >= n) return SyntaxError("unterminated object", i);
    if (object[i] == ',') {
      ++i;
      continue;
    }
    if (object[i] == '}' && i == n - 1) {
      if (k != spans.size()) return SyntaxError("stray string or bracket in a value", i);
      return members;
    }
    return SyntaxError(absl::StrCat("unexpected '", object.substr(i, 1), "'"), i);
  }
}

}  // namespace kslice::client::watch::internal
