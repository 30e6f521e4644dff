#include "envtest/patch/internal/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kslice::envtest::patch::internal {

bool ParseGoInt(absl::string_view text, int64_t* out) {
  if (text.empty()) return false;
  size_t i = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (i == text.size()) return false;
  for (size_t j = i; j < text.size(); ++j) {
    if (text[j] < '0' || text[j] > '9') return false;
  }
  return absl::SimpleAtoi(text, out);
}

namespace {

double ParseGoFloat(absl::string_view text) {
  double d = 0;
  if (!absl::SimpleAtod(text, &d)) return std::numeric_limits<double>::quiet_NaN();
  return d;
}

// fmt's %v of a float64: strconv's 'g' with the shortest digits, which switches to
// %e when the exponent is < -4 or >= 6 (1e+06, 1.5e-05, 123456).
std::string FormatGoFloat(double d) {
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (std::isnan(d)) return "NaN";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci: [-]d[.ddd]e[+-]XX
  bool neg = false;
  size_t pos = 0;
  if (sci[0] == '-') {
    neg = true;
    pos = 1;
  }
  size_t e = sci.find('e');
  std::string digits;
  for (size_t i = pos; i < e; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  int exp = 0;
  (void)absl::SimpleAtoi(absl::string_view(sci).substr(e + 1), &exp);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = neg ? "-" : "";
  if (digits == "0") return out + "0";
  if (exp < -4 || exp >= 6) {
    out.push_back(digits[0]);
    if (digits.size() > 1) absl::StrAppend(&out, ".", digits.substr(1));
    absl::StrAppend(&out, "e", exp < 0 ? "-" : "+");
    int a = exp < 0 ? -exp : exp;
    if (a < 10) out.push_back('0');
    absl::StrAppend(&out, a);
    return out;
  }
  if (exp < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exp - 1), '0');
    out += digits;
    return out;
  }
  const size_t int_digits = static_cast<size_t>(exp) + 1;
  if (digits.size() <= int_digits) {
    out += digits;
    out.append(int_digits - digits.size(), '0');
  } else {
    absl::StrAppend(&out, digits.substr(0, int_digits), ".", digits.substr(int_digits));
  }
  return out;
}

}  // namespace

GoType TypeOf(const Node& v) {
  switch (v.kind) {
    case Node::Kind::kNull:
      return GoType::kNil;
    case Node::Kind::kBool:
      return GoType::kBool;
    case Node::Kind::kString:
      return GoType::kString;
    case Node::Kind::kNumber: {
      int64_t i = 0;
      return ParseGoInt(v.text, &i) ? GoType::kInt64 : GoType::kFloat64;
    }
    case Node::Kind::kArray:
      return GoType::kSlice;
    case Node::Kind::kObject:
      return GoType::kMap;
  }
  return GoType::kNil;
}

std::string GoTypeName(GoType t) {
  switch (t) {
    case GoType::kNil:
      return "%!s(<nil>)";
    case GoType::kBool:
      return "bool";
    case GoType::kString:
      return "string";
    case GoType::kInt64:
      return "int64";
    case GoType::kFloat64:
      return "float64";
    case GoType::kMap:
      return "map[string]interface {}";
    case GoType::kSlice:
      return "[]interface {}";
  }
  return "";
}

bool GoEqual(const Node& a, const Node& b) {
  const GoType ta = TypeOf(a);
  if (ta != TypeOf(b)) return false;
  switch (ta) {
    case GoType::kNil:
      return true;
    case GoType::kBool:
      return a.boolean == b.boolean;
    case GoType::kString:
      return a.text == b.text;
    case GoType::kInt64: {
      int64_t x = 0, y = 0;
      ParseGoInt(a.text, &x);
      ParseGoInt(b.text, &y);
      return x == y;
    }
    case GoType::kFloat64:
      return ParseGoFloat(a.text) == ParseGoFloat(b.text);
    case GoType::kMap:
    case GoType::kSlice:
      return false;
  }
  return false;
}

std::optional<std::string> GoKey(const Node& v) {
  switch (TypeOf(v)) {
    case GoType::kNil:
      return std::string("n");
    case GoType::kBool:
      return std::string(v.boolean ? "t" : "f");
    case GoType::kString:
      return absl::StrCat("s", v.text);
    case GoType::kInt64: {
      int64_t x = 0;
      ParseGoInt(v.text, &x);
      return absl::StrCat("i", x);
    }
    case GoType::kFloat64: {
      double d = ParseGoFloat(v.text);
      if (d == 0) d = 0;  // -0 == 0
      uint64_t bits = 0;
      std::memcpy(&bits, &d, sizeof(bits));
      return absl::StrCat("d", bits);
    }
    case GoType::kMap:
    case GoType::kSlice:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string GoFormat(const Node& v) {
  switch (TypeOf(v)) {
    case GoType::kNil:
      return "<nil>";
    case GoType::kBool:
      return v.boolean ? "true" : "false";
    case GoType::kString:
      return v.text;
    case GoType::kInt64: {
      int64_t x = 0;
      ParseGoInt(v.text, &x);
      return absl::StrCat(x);
    }
    case GoType::kFloat64:
      return FormatGoFloat(ParseGoFloat(v.text));
    case GoType::kSlice: {
      std::string out = "[";
      for (size_t i = 0; i < v.values.size(); ++i) {
        if (i > 0) out.push_back(' ');
        out += GoFormat(v.values[i]);
      }
      out.push_back(']');
      return out;
    }
    case GoType::kMap: {
      std::vector<size_t> order;
      // Last value of each key, keys sorted.
      absl::flat_hash_map<absl::string_view, size_t> last;
      for (size_t i = 0; i < v.keys.size(); ++i) last[v.keys[i]] = i;
      for (const auto& [k, i] : last) order.push_back(i);
      std::sort(order.begin(), order.end(),
                [&](size_t a, size_t b) { return v.keys[a] < v.keys[b]; });
      std::string out = "map[";
      for (size_t n = 0; n < order.size(); ++n) {
        if (n > 0) out.push_back(' ');
        absl::StrAppend(&out, v.keys[order[n]], ":", GoFormat(v.values[order[n]]));
      }
      out.push_back(']');
      return out;
    }
  }
  return "";
}

bool JsonEqual(const Node& a, const Node& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Node::Kind::kNull:
      return true;
    case Node::Kind::kBool:
      return a.boolean == b.boolean;
    case Node::Kind::kNumber:
    case Node::Kind::kString:
      return a.text == b.text;
    case Node::Kind::kArray:
      if (a.values.size() != b.values.size()) return false;
      for (size_t i = 0; i < a.values.size(); ++i) {
        if (!JsonEqual(a.values[i], b.values[i])) return false;
      }
      return true;
    case Node::Kind::kObject: {
      if (a.keys.size() != b.keys.size()) return false;
      absl::flat_hash_map<absl::string_view, size_t> theirs;
      for (size_t i = 0; i < b.keys.size(); ++i) theirs[b.keys[i]] = i;
      if (theirs.size() != b.keys.size()) return false;
      for (size_t i = 0; i < a.keys.size(); ++i) {
        auto it = theirs.find(a.keys[i]);
        if (it == theirs.end() || !JsonEqual(a.values[i], b.values[it->second])) return false;
      }
      return true;
    }
  }
  return false;
}

int Depth(const Node& v) {
  if (v.kind != Node::Kind::kArray && v.kind != Node::Kind::kObject) return 0;
  int d = 0;
  for (const Node& c : v.values) d = std::max(d, Depth(c));
  return d + 1;
}

int FindMember(const Node& obj, absl::string_view key) {
  for (size_t i = obj.keys.size(); i > 0; --i) {
    if (obj.keys[i - 1] == key) return static_cast<int>(i - 1);
  }
  return -1;
}

void SetMember(Node* obj, absl::string_view key, Node value) {
  for (size_t i = 0; i < obj->keys.size(); ++i) {
    if (obj->keys[i] == key) {
      obj->values[i] = std::move(value);
      return;
    }
  }
  obj->keys.emplace_back(key);
  obj->values.push_back(std::move(value));
}

bool EraseMember(Node* obj, absl::string_view key) {
  size_t out = 0;
  bool found = false;
  for (size_t i = 0; i < obj->keys.size(); ++i) {
    if (obj->keys[i] == key) {
      found = true;
      continue;
    }
    if (out != i) {
      obj->keys[out] = std::move(obj->keys[i]);
      obj->values[out] = std::move(obj->values[i]);
    }
    ++out;
  }
  obj->keys.resize(out);
  obj->values.resize(out);
  return found;
}

void DedupeKeys(Node* v) {
  if (v->kind == Node::Kind::kObject) {
    absl::flat_hash_map<std::string, size_t> first;
    bool dup = false;
    for (size_t i = 0; i < v->keys.size(); ++i) {
      auto [it, inserted] = first.emplace(v->keys[i], i);
      if (!inserted) {
        dup = true;
        v->values[it->second] = std::move(v->values[i]);
      }
    }
    if (dup) {
      size_t out = 0;
      for (size_t i = 0; i < v->keys.size(); ++i) {
        if (first[v->keys[i]] != i) continue;
        if (out != i) {
          v->keys[out] = std::move(v->keys[i]);
          v->values[out] = std::move(v->values[i]);
        }
        ++out;
      }
      v->keys.resize(out);
      v->values.resize(out);
    }
  }
  for (Node& c : v->values) DedupeKeys(&c);
}

MemberIndex::MemberIndex(Node* obj) : obj_(obj), erased_(obj->keys.size(), false) {
  for (size_t i = 0; i < obj->keys.size(); ++i) index_[obj->keys[i]] = i;
}

Node* MemberIndex::Get(absl::string_view key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &obj_->values[it->second];
}

void MemberIndex::Set(absl::string_view key, Node value) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    obj_->values[it->second] = std::move(value);
    return;
  }
  index_[key] = obj_->keys.size();
  obj_->keys.emplace_back(key);
  obj_->values.push_back(std::move(value));
  erased_.push_back(false);
}

void MemberIndex::Erase(absl::string_view key) {
  auto it = index_.find(key);
  if (it == index_.end()) return;
  erased_[it->second] = true;
  index_.erase(it);
}

void MemberIndex::Compact() {
  size_t out = 0;
  for (size_t i = 0; i < obj_->keys.size(); ++i) {
    if (erased_[i]) continue;
    if (out != i) {
      obj_->keys[out] = std::move(obj_->keys[i]);
      obj_->values[out] = std::move(obj_->values[i]);
    }
    ++out;
  }
  obj_->keys.resize(out);
  obj_->values.resize(out);
  erased_.assign(out, false);
  index_.clear();
  for (size_t i = 0; i < out; ++i) index_[obj_->keys[i]] = i;
}

}  // namespace kslice::envtest::patch::internal
