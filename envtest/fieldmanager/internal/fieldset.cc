#include "envtest/fieldmanager/internal/fieldset.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "envtest/storage/errors.h"

namespace kslice::envtest::fieldmanager::internal {
namespace {

using codec::Node;

bool IsIntegerText(const std::string& text) {
  return text.find_first_of(".eE") == std::string::npos;
}

int Sign(double d) { return d < 0 ? -1 : (d > 0 ? 1 : 0); }

// Rank of a value's type in SMD's value.Compare: numbers, strings, bools, lists, maps,
// null.
int TypeRank(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kNumber:
      return 0;
    case Node::Kind::kString:
      return 1;
    case Node::Kind::kBool:
      return 2;
    case Node::Kind::kArray:
      return 3;
    case Node::Kind::kObject:
      return 4;
    case Node::Kind::kNull:
      return 5;
  }
  return 5;
}

int CompareNumbers(const Node& a, const Node& b) {
  int64_t ia = 0, ib = 0;
  if (IsIntegerText(a.text) && IsIntegerText(b.text) && absl::SimpleAtoi(a.text, &ia) &&
      absl::SimpleAtoi(b.text, &ib)) {
    return ia < ib ? -1 : (ia > ib ? 1 : 0);
  }
  double da = 0, db = 0;
  if (!absl::SimpleAtod(a.text, &da) || !absl::SimpleAtod(b.text, &db)) {
    return a.text.compare(b.text) < 0 ? -1 : (a.text == b.text ? 0 : 1);
  }
  return Sign(da - db);
}

// Compact JSON; a Node that cannot be written (a YAML-only number) falls back to its
// source text.
std::string Json(const Node& n) {
  absl::StatusOr<std::string> s = codec::WriteJson(n);
  if (s.ok()) return *std::move(s);
  return n.text;
}

// Compact JSON as SMD writes key and value path elements (jsoniter compatible with
// encoding/json): '<', '>', '&', U+2028 and U+2029 escaped. They can only occur inside
// strings, so the replacement is safe on the written text.
std::string EscapedJson(const Node& n) {
  std::string in = Json(n);
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xe2' && i + 2 < in.size() && in[i + 1] == '\x80' &&
               (in[i + 2] == '\xa8' || in[i + 2] == '\xa9')) {
      out += in[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Go's %v of a value as SMD's value.ToString prints it.
std::string ValueString(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kNull:
      return "null";
    case Node::Kind::kNumber:
      return n.text;
    case Node::Kind::kString:
      return storage::GoQuote(n.text);
    case Node::Kind::kBool:
      return n.boolean ? "true" : "false";
    case Node::Kind::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < n.values.size(); ++i) {
        if (i > 0) out += ",";
        out += ValueString(n.values[i]);
      }
      return out + "]";
    }
    case Node::Kind::kObject: {
      std::string out;
      for (size_t i = 0; i < n.keys.size(); ++i) {
        absl::StrAppend(&out, n.keys[i], "=", ValueString(n.values[i]));
      }
      return out;
    }
  }
  return "";
}

}  // namespace

PathElement PathElement::Field(std::string name) {
  PathElement pe;
  pe.kind = Kind::kField;
  pe.name = std::move(name);
  return pe;
}

PathElement PathElement::Key(std::vector<std::pair<std::string, Node>> key) {
  std::stable_sort(key.begin(), key.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  PathElement pe;
  pe.kind = Kind::kKey;
  pe.key = std::move(key);
  return pe;
}

PathElement PathElement::Value(Node value) {
  PathElement pe;
  pe.kind = Kind::kValue;
  pe.value = std::move(value);
  return pe;
}

PathElement PathElement::Index(int64_t index) {
  PathElement pe;
  pe.kind = Kind::kIndex;
  pe.index = index;
  return pe;
}

std::string PathElement::ToString() const {
  switch (kind) {
    case Kind::kField:
      return absl::StrCat(".", name);
    case Kind::kKey: {
      std::string out = "[";
      for (size_t i = 0; i < key.size(); ++i) {
        if (i > 0) out += ",";
        absl::StrAppend(&out, key[i].first, "=", ValueString(key[i].second));
      }
      return out + "]";
    }
    case Kind::kValue:
      return absl::StrCat("[=", ValueString(value), "]");
    case Kind::kIndex:
      return absl::StrCat("[", index, "]");
  }
  return "{{invalid path element}}";
}

std::string PathElement::ToFieldsV1Key() const {
  switch (kind) {
    case Kind::kField:
      return absl::StrCat("f:", name);
    case Kind::kKey: {
      Node obj = Node::Object();
      for (const auto& [k, v] : key) obj.Add(k, v);
      return absl::StrCat("k:", EscapedJson(obj));
    }
    case Kind::kValue:
      return absl::StrCat("v:", EscapedJson(value));
    case Kind::kIndex:
      return absl::StrCat("i:", index);
  }
  return "";
}

int CompareValues(const Node& a, const Node& b) {
  int ra = TypeRank(a), rb = TypeRank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (a.kind) {
    case Node::Kind::kNumber:
      return CompareNumbers(a, b);
    case Node::Kind::kString:
      return a.text < b.text ? -1 : (a.text == b.text ? 0 : 1);
    case Node::Kind::kBool:
      return a.boolean == b.boolean ? 0 : (a.boolean ? 1 : -1);
    case Node::Kind::kArray: {
      for (size_t i = 0; i < a.values.size() && i < b.values.size(); ++i) {
        if (int c = CompareValues(a.values[i], b.values[i]); c != 0) return c;
      }
      if (a.values.size() == b.values.size()) return 0;
      return a.values.size() < b.values.size() ? -1 : 1;
    }
    case Node::Kind::kObject: {
      // By sorted keys, then values (SMD compares maps as sorted field lists).
      auto sorted = [](const Node& n) {
        std::vector<size_t> idx(n.keys.size());
        for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
        std::stable_sort(idx.begin(), idx.end(),
                         [&n](size_t x, size_t y) { return n.keys[x] < n.keys[y]; });
        return idx;
      };
      std::vector<size_t> ia = sorted(a), ib = sorted(b);
      for (size_t i = 0; i < ia.size() && i < ib.size(); ++i) {
        if (int c = a.keys[ia[i]].compare(b.keys[ib[i]]); c != 0) return c < 0 ? -1 : 1;
        if (int c = CompareValues(a.values[ia[i]], b.values[ib[i]]); c != 0) return c;
      }
      if (ia.size() == ib.size()) return 0;
      return ia.size() < ib.size() ? -1 : 1;
    }
    case Node::Kind::kNull:
      return 0;
  }
  return 0;
}

int Compare(const PathElement& a, const PathElement& b) {
  if (a.kind != b.kind) return static_cast<int>(a.kind) < static_cast<int>(b.kind) ? -1 : 1;
  switch (a.kind) {
    case PathElement::Kind::kField:
      return a.name < b.name ? -1 : (a.name == b.name ? 0 : 1);
    case PathElement::Kind::kKey:
      for (size_t i = 0; i < a.key.size() && i < b.key.size(); ++i) {
        if (int c = a.key[i].first.compare(b.key[i].first); c != 0) return c < 0 ? -1 : 1;
        if (int c = CompareValues(a.key[i].second, b.key[i].second); c != 0) return c;
      }
      if (a.key.size() == b.key.size()) return 0;
      return a.key.size() < b.key.size() ? -1 : 1;
    case PathElement::Kind::kValue:
      return CompareValues(a.value, b.value);
    case PathElement::Kind::kIndex:
      return a.index < b.index ? -1 : (a.index == b.index ? 0 : 1);
  }
  return 0;
}

std::string PathToString(const Path& path) {
  std::string out;
  for (const PathElement& pe : path) out += pe.ToString();
  return out;
}

// ---- Set ----

namespace {

template <typename Entries>
auto LowerBound(Entries& entries, const PathElement& pe) {
  return std::lower_bound(entries.begin(), entries.end(), pe,
                          [](const Set::Entry& e, const PathElement& p) {
                            return Compare(e.pe, p) < 0;
                          });
}

}  // namespace

const Set::Entry* Set::Find(const PathElement& pe) const {
  auto it = LowerBound(entries_, pe);
  if (it != entries_.end() && Compare(it->pe, pe) == 0) return &*it;
  return nullptr;
}

Set::Entry* Set::FindOrAdd(const PathElement& pe) {
  auto it = LowerBound(entries_, pe);
  if (it != entries_.end() && Compare(it->pe, pe) == 0) return &*it;
  Entry e;
  e.pe = pe;
  it = entries_.insert(it, std::move(e));
  return &*it;
}

void Set::Insert(const Path& path) {
  if (path.empty()) return;
  Set* s = this;
  for (size_t i = 0; i < path.size(); ++i) {
    Entry* e = s->FindOrAdd(path[i]);
    if (i + 1 == path.size()) {
      e->member = true;
    } else {
      s = &e->children;
    }
  }
}

bool Set::Has(const Path& path) const {
  const Set* s = this;
  for (size_t i = 0; i < path.size(); ++i) {
    const Entry* e = s->Find(path[i]);
    if (e == nullptr) return false;
    if (i + 1 == path.size()) return e->member;
    s = &e->children;
  }
  return false;
}

Set Set::Union(const Set& other) const {
  Set out;
  size_t i = 0, j = 0;
  while (i < entries_.size() || j < other.entries_.size()) {
    int c = 0;
    if (i == entries_.size()) {
      c = 1;
    } else if (j == other.entries_.size()) {
      c = -1;
    } else {
      c = Compare(entries_[i].pe, other.entries_[j].pe);
    }
    if (c < 0) {
      out.entries_.push_back(entries_[i++]);
    } else if (c > 0) {
      out.entries_.push_back(other.entries_[j++]);
    } else {
      Entry e;
      e.pe = entries_[i].pe;
      e.member = entries_[i].member || other.entries_[j].member;
      e.children = entries_[i].children.Union(other.entries_[j].children);
      out.entries_.push_back(std::move(e));
      ++i;
      ++j;
    }
  }
  return out;
}

Set Set::Difference(const Set& other) const {
  Set out;
  for (const Entry& e : entries_) {
    const Entry* o = other.Find(e.pe);
    if (o == nullptr) {
      out.entries_.push_back(e);
      continue;
    }
    Entry d;
    d.pe = e.pe;
    d.member = e.member && !o->member;
    d.children = e.children.Difference(o->children);
    if (d.member || !d.children.Empty()) out.entries_.push_back(std::move(d));
  }
  return out;
}

Set Set::Intersection(const Set& other) const {
  Set out;
  for (const Entry& e : entries_) {
    const Entry* o = other.Find(e.pe);
    if (o == nullptr) continue;
    Entry d;
    d.pe = e.pe;
    d.member = e.member && o->member;
    d.children = e.children.Intersection(o->children);
    if (d.member || !d.children.Empty()) out.entries_.push_back(std::move(d));
  }
  return out;
}

Set Set::WithoutTopLevelFields(const std::vector<std::string>& names) const {
  Set out;
  for (const Entry& e : entries_) {
    if (e.pe.kind == PathElement::Kind::kField &&
        std::find(names.begin(), names.end(), e.pe.name) != names.end()) {
      continue;
    }
    out.entries_.push_back(e);
  }
  return out;
}

void Set::IteratePrefix(Path* prefix, const std::function<void(const Path&)>& fn) const {
  for (const Entry& e : entries_) {
    if (!e.member) continue;
    prefix->push_back(e.pe);
    fn(*prefix);
    prefix->pop_back();
  }
  for (const Entry& e : entries_) {
    if (e.children.Empty()) continue;
    prefix->push_back(e.pe);
    e.children.IteratePrefix(prefix, fn);
    prefix->pop_back();
  }
}

void Set::Iterate(const std::function<void(const Path&)>& fn) const {
  Path prefix;
  IteratePrefix(&prefix, fn);
}

bool Set::operator==(const Set& other) const {
  if (entries_.size() != other.entries_.size()) return false;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& a = entries_[i];
    const Entry& b = other.entries_[i];
    if (Compare(a.pe, b.pe) != 0 || a.member != b.member || !(a.children == b.children)) {
      return false;
    }
  }
  return true;
}

// ---- FieldsV1 ----

namespace {

void EmitFieldsV1(const Set& set, bool include_self, Node* out) {
  if (include_self && !set.Empty()) out->Add(".", Node::Object());
  for (const Set::Entry& e : set.entries()) {
    Node child = Node::Object();
    if (!e.children.Empty()) EmitFieldsV1(e.children, e.member, &child);
    out->Add(e.pe.ToFieldsV1Key(), std::move(child));
  }
}

absl::StatusOr<PathElement> ParseFieldsV1Key(const std::string& key) {
  if (key.size() < 2 || key[1] != ':') {
    return absl::InvalidArgumentError(absl::StrCat("invalid path element key ", key));
  }
  std::string rest = key.substr(2);
  switch (key[0]) {
    case 'f':
      return PathElement::Field(std::move(rest));
    case 'k': {
      absl::StatusOr<Node> obj = codec::ParseJson(rest);
      if (!obj.ok() || !obj->is_object() || obj->keys.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("invalid key path element ", key));
      }
      std::vector<std::pair<std::string, Node>> fields;
      for (size_t i = 0; i < obj->keys.size(); ++i) {
        fields.emplace_back(obj->keys[i], obj->values[i]);
      }
      return PathElement::Key(std::move(fields));
    }
    case 'v': {
      absl::StatusOr<Node> v = codec::ParseJson(rest);
      if (!v.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("invalid value path element ", key));
      }
      return PathElement::Value(*std::move(v));
    }
    case 'i': {
      int64_t i = 0;
      if (!absl::SimpleAtoi(rest, &i)) {
        return absl::InvalidArgumentError(absl::StrCat("invalid index path element ", key));
      }
      return PathElement::Index(i);
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat("unknown path element prefix in ", key));
  }
}

absl::Status ParseInto(const Node& node, Path* prefix, Set* out, int depth) {
  if (depth > 128) return absl::InvalidArgumentError("fieldsV1 nested too deeply");
  if (!node.is_object()) return absl::InvalidArgumentError("fieldsV1 node is not an object");
  for (size_t i = 0; i < node.keys.size(); ++i) {
    const std::string& key = node.keys[i];
    const Node& child = node.values[i];
    if (key == ".") {
      if (prefix->empty()) return absl::InvalidArgumentError("\".\" at the top of fieldsV1");
      out->Insert(*prefix);
      continue;
    }
    absl::StatusOr<PathElement> pe = ParseFieldsV1Key(key);
    if (!pe.ok()) return pe.status();
    prefix->push_back(*std::move(pe));
    if (!child.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("fieldsV1 value of ", key, " is not an object"));
    }
    if (child.keys.empty()) {
      out->Insert(*prefix);
    } else {
      absl::Status s = ParseInto(child, prefix, out, depth + 1);
      if (!s.ok()) return s;
    }
    prefix->pop_back();
  }
  return absl::OkStatus();
}

}  // namespace

Node ToFieldsV1(const Set& set) {
  Node out = Node::Object();
  EmitFieldsV1(set, false, &out);
  return out;
}

absl::StatusOr<Set> FromFieldsV1(const Node& fields) {
  Set out;
  Path prefix;
  absl::Status s = ParseInto(fields, &prefix, &out, 0);
  if (!s.ok()) return s;
  return out;
}

}  // namespace kslice::envtest::fieldmanager::internal
