#include "api/codec/node.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "rapidjson/error/en.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/reader.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace kslice::codec {

Node Node::Bool(bool b) {
  Node n;
  n.kind = Kind::kBool;
  n.boolean = b;
  return n;
}

Node Node::Number(std::string text) {
  Node n;
  n.kind = Kind::kNumber;
  n.text = std::move(text);
  return n;
}

Node Node::String(std::string s) {
  Node n;
  n.kind = Kind::kString;
  n.text = std::move(s);
  return n;
}

Node Node::Array() {
  Node n;
  n.kind = Kind::kArray;
  return n;
}

Node Node::Object() {
  Node n;
  n.kind = Kind::kObject;
  return n;
}

Node& Node::Add(std::string key, Node value) {
  keys.push_back(std::move(key));
  values.push_back(std::move(value));
  return values.back();
}

Node& Node::Push(Node value) {
  values.push_back(std::move(value));
  return values.back();
}

const Node* Node::Find(absl::string_view key) const {
  for (size_t i = keys.size(); i > 0; --i) {
    if (keys[i - 1] == key) return &values[i - 1];
  }
  return nullptr;
}

namespace {

bool NumbersEqual(const std::string& a, const std::string& b) {
  if (a == b) return true;
  int64_t ia, ib;
  if (absl::SimpleAtoi(a, &ia) && absl::SimpleAtoi(b, &ib)) return ia == ib;
  double da, db;
  if (absl::SimpleAtod(a, &da) && absl::SimpleAtod(b, &db)) return da == db;
  return false;
}

}  // namespace

bool Node::Equals(const Node& other) const {
  if (kind != other.kind) return false;
  switch (kind) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return boolean == other.boolean;
    case Kind::kNumber:
      return NumbersEqual(text, other.text);
    case Kind::kString:
      return text == other.text;
    case Kind::kArray:
      if (values.size() != other.values.size()) return false;
      for (size_t i = 0; i < values.size(); ++i) {
        if (!values[i].Equals(other.values[i])) return false;
      }
      return true;
    case Kind::kObject: {
      // Duplicate keys: the last one wins, as in every decoder we model.
      std::map<absl::string_view, const Node*> mine, theirs;
      for (size_t i = 0; i < keys.size(); ++i) mine[keys[i]] = &values[i];
      for (size_t i = 0; i < other.keys.size(); ++i) theirs[other.keys[i]] = &other.values[i];
      if (mine.size() != theirs.size()) return false;
      for (const auto& [k, v] : mine) {
        auto it = theirs.find(k);
        if (it == theirs.end() || !v->Equals(*it->second)) return false;
      }
      return true;
    }
  }
  return false;
}

namespace {

// Length of the well-formed UTF-8 character at s[i], or 0 if it is not one.
size_t Utf8CharLength(absl::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  if (len == 1) return 1;
  uint32_t cp = len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

// Offset of the first byte that is not well-formed UTF-8 at or after `from`, or
// s.size() when the rest is valid.
size_t Utf8Length(absl::string_view s, size_t from) {
  size_t i = from;
  while (i < s.size()) {
    size_t len = Utf8CharLength(s, i);
    if (len == 0) return i;
    i += len;
  }
  return i;
}

}  // namespace

// ---------------------------------------------------------------------------
// JSON parsing: rapidjson's iterative SAX reader feeding a Node builder.

namespace {

// Builds a Node tree from SAX events; refuses nesting deeper than max_depth.
class TreeBuilder {
 public:
  explicit TreeBuilder(int max_depth) : max_depth_(max_depth) {}

  bool Null() { return Value(Node::Null()); }
  bool Bool(bool b) { return Value(Node::Bool(b)); }
  bool Int(int i) { return Value(Node::Number(absl::StrCat(i))); }
  bool Uint(unsigned u) { return Value(Node::Number(absl::StrCat(u))); }
  bool Int64(int64_t i) { return Value(Node::Number(absl::StrCat(i))); }
  bool Uint64(uint64_t u) { return Value(Node::Number(absl::StrCat(u))); }
  bool Double(double) { return false; }  // numbers arrive as text (kParseNumbersAsStringsFlag)
  bool RawNumber(const char* s, rapidjson::SizeType len, bool) {
    return Value(Node::Number(std::string(s, len)));
  }
  bool String(const char* s, rapidjson::SizeType len, bool) {
    return Value(Node::String(std::string(s, len)));
  }
  bool StartObject() { return Open(Node::Object()); }
  bool Key(const char* s, rapidjson::SizeType len, bool) {
    pending_keys_.back().assign(s, len);
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() { return Open(Node::Array()); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  bool too_deep() const { return too_deep_; }
  Node& root() { return root_; }

 private:
  bool Value(Node n) {
    if (stack_.empty()) {
      root_ = std::move(n);
      return true;
    }
    Node& top = stack_.back();
    if (top.kind == Node::Kind::kObject) {
      top.Add(std::move(pending_keys_.back()), std::move(n));
    } else {
      top.Push(std::move(n));
    }
    return true;
  }
  bool Open(Node n) {
    if (static_cast<int>(stack_.size()) >= max_depth_) {
      too_deep_ = true;
      return false;
    }
    stack_.push_back(std::move(n));
    pending_keys_.emplace_back();
    return true;
  }
  bool Close() {
    Node n = std::move(stack_.back());
    stack_.pop_back();
    pending_keys_.pop_back();
    return Value(std::move(n));
  }

  const int max_depth_;
  bool too_deep_ = false;
  std::vector<Node> stack_;
  std::vector<std::string> pending_keys_;
  Node root_;
};

}  // namespace

absl::StatusOr<Node> ParseJson(absl::string_view json, const ParseLimits& limits) {
  if (json.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("JSON input of ", json.size(),
                                                   " bytes exceeds the limit of ",
                                                   limits.max_bytes));
  }
  TreeBuilder builder(limits.max_depth);
  rapidjson::MemoryStream stream(json.data(), json.size());
  rapidjson::Reader reader;
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag |
                              rapidjson::kParseNumbersAsStringsFlag |
                              rapidjson::kParseValidateEncodingFlag;
  rapidjson::ParseResult result = reader.Parse<kFlags>(stream, builder);
  if (builder.too_deep()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nesting exceeds the limit of ", limits.max_depth, " levels"));
  }
  if (!result) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON at offset ", result.Offset(),
                                                   ": ",
                                                   rapidjson::GetParseError_En(result.Code())));
  }
  return std::move(builder.root());
}

// ---------------------------------------------------------------------------
// YAML parsing: yaml-cpp's event parser feeding a Node builder.

namespace {

bool IsJsonNumber(absl::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t start = i;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  return i == s.size();
}

// Resolves a YAML plain scalar as go-yaml v2 does for untyped targets.
Node ResolvePlain(const std::string& s) {
  Node n;
  n.plain = true;
  n.text = s;
  static const char* const kNull[] = {"", "~", "null", "Null", "NULL"};
  static const char* const kTrue[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
                                      "true", "True", "TRUE"};
  static const char* const kFalse[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF",
                                       "false", "False", "FALSE"};
  for (const char* v : kNull) {
    if (s == v) {
      n.kind = Node::Kind::kNull;
      return n;
    }
  }
  for (const char* v : kTrue) {
    if (s == v) {
      n.kind = Node::Kind::kBool;
      n.boolean = true;
      return n;
    }
  }
  for (const char* v : kFalse) {
    if (s == v) {
      n.kind = Node::Kind::kBool;
      n.boolean = false;
      return n;
    }
  }
  std::string plain = absl::StrReplaceAll(s, {{"_", ""}});
  // Integers: decimal, 0x hex, 0o / leading-0 octal, 0b binary, optional sign.
  {
    absl::string_view v = plain;
    bool negative = false;
    if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
      negative = v[0] == '-';
      v.remove_prefix(1);
    }
    int base = 10;
    if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
      base = 16;
      v.remove_prefix(2);
    } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'b' || v[1] == 'B')) {
      base = 2;
      v.remove_prefix(2);
    } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'o' || v[1] == 'O')) {
      base = 8;
      v.remove_prefix(2);
    } else if (v.size() > 1 && v[0] == '0') {
      base = 8;
      v.remove_prefix(1);
    }
    uint64_t value = 0;
    if (!v.empty()) {
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), value, base);
      if (ec == std::errc() && ptr == v.data() + v.size()) {
        if (!negative && value <= static_cast<uint64_t>(INT64_MAX)) {
          n.kind = Node::Kind::kNumber;
          n.text = absl::StrCat(value);
          return n;
        }
        if (negative && value <= static_cast<uint64_t>(INT64_MAX) + 1) {
          n.kind = Node::Kind::kNumber;
          n.text = value == 0 ? "0" : absl::StrCat("-", value);
          return n;
        }
      }
    }
  }
  // Floats.
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" ||
      s == "+.INF" || s == "-.inf" || s == "-.Inf" || s == "-.INF" || s == ".nan" ||
      s == ".NaN" || s == ".NAN") {
    n.kind = Node::Kind::kNumber;  // not representable in JSON; WriteJson refuses it
    return n;
  }
  {
    absl::string_view v = plain;
    if (!v.empty() && v[0] == '+') v.remove_prefix(1);
    std::string candidate(v);
    if (!candidate.empty() && candidate[0] == '.') candidate.insert(0, "0");
    if (candidate.size() > 1 && candidate[0] == '-' && candidate[1] == '.') {
      candidate.insert(1, "0");
    }
    size_t dot = candidate.find('.');
    if (dot != std::string::npos &&
        (dot + 1 == candidate.size() || !absl::ascii_isdigit(static_cast<unsigned char>(
                                            candidate[dot + 1])))) {
      candidate.insert(dot + 1, "0");
    }
    if (IsJsonNumber(candidate)) {
      n.kind = Node::Kind::kNumber;
      n.text = candidate;
      return n;
    }
  }
  n.kind = Node::Kind::kString;
  return n;
}

class YamlBuilder : public YAML::EventHandler {
 public:
  explicit YamlBuilder(const ParseLimits& limits) : limits_(limits) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override {
    Node n;
    n.plain = true;
    Value(std::move(n), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      Fail(absl::StrCat("line ", mark.line + 1, ": unknown alias"));
      return;
    }
    size_t count = CountNodes(it->second);
    nodes_ += count;
    if (nodes_ > limits_.max_nodes) {
      Fail(absl::StrCat("YAML aliases expand beyond the limit of ", limits_.max_nodes,
                        " nodes"));
      return;
    }
    Value(Node(it->second), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (!error_.empty()) return;
    if (++nodes_ > limits_.max_nodes) {
      Fail(absl::StrCat("YAML document exceeds the limit of ", limits_.max_nodes, " nodes"));
      return;
    }
    // Mapping keys are always taken as text.
    if (!stack_.empty() && stack_.back().kind == Node::Kind::kObject &&
        !awaiting_value_.back()) {
      pending_keys_.back() = value;
      awaiting_value_.back() = true;
      if (anchor != 0) anchors_[anchor] = Node::String(value);
      return;
    }
    Node n;
    if (tag == "?") {
      n = ResolvePlain(value);
    } else if (tag == "!" || tag == "tag:yaml.org,2002:str") {
      n = Node::String(value);
    } else if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
               tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
      n = ResolvePlain(value);
      n.plain = false;
    } else {
      Fail(absl::StrCat("line ", mark.line + 1, ": unsupported YAML tag ", tag));
      return;
    }
    Value(std::move(n), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(Node::Array(), anchor, mark);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(Node::Object(), anchor, mark);
  }
  void OnMapEnd() override { Close(); }

  const std::string& error() const { return error_; }
  int documents() const { return documents_; }
  Node& root() { return root_; }

 private:
  static size_t CountNodes(const Node& n) {
    size_t c = 1;
    for (const Node& v : n.values) c += CountNodes(v);
    return c;
  }

  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  void Value(Node n, YAML::anchor_t anchor) {
    if (!error_.empty()) return;
    if (anchor != 0) anchors_[anchor] = n;
    if (stack_.empty()) {
      root_ = std::move(n);
      ++documents_;
      return;
    }
    Node& top = stack_.back();
    if (top.kind == Node::Kind::kObject) {
      if (!awaiting_value_.back()) {
        Fail("YAML mapping keys must be scalars");
        return;
      }
      top.Add(std::move(pending_keys_.back()), std::move(n));
      awaiting_value_.back() = false;
    } else {
      top.Push(std::move(n));
    }
  }

  void Open(Node n, YAML::anchor_t anchor, const YAML::Mark& mark) {
    if (!error_.empty()) {
      ++ignored_depth_;
      return;
    }
    if (++nodes_ > limits_.max_nodes) {
      Fail(absl::StrCat("YAML document exceeds the limit of ", limits_.max_nodes, " nodes"));
      ++ignored_depth_;
      return;
    }
    if (!stack_.empty() && stack_.back().kind == Node::Kind::kObject &&
        !awaiting_value_.back()) {
      Fail(absl::StrCat("line ", mark.line + 1, ": YAML mapping keys must be scalars"));
      ++ignored_depth_;
      return;
    }
    if (static_cast<int>(stack_.size()) >= limits_.max_depth) {
      Fail(absl::StrCat("YAML nesting exceeds the limit of ", limits_.max_depth, " levels"));
      ++ignored_depth_;
      return;
    }
    stack_.push_back(std::move(n));
    pending_keys_.emplace_back();
    awaiting_value_.push_back(false);
    open_anchors_.push_back(anchor);
  }

  void Close() {
    if (ignored_depth_ > 0) {
      --ignored_depth_;
      return;
    }
    if (stack_.empty()) return;
    Node n = std::move(stack_.back());
    YAML::anchor_t anchor = open_anchors_.back();
    stack_.pop_back();
    pending_keys_.pop_back();
    awaiting_value_.pop_back();
    open_anchors_.pop_back();
    Value(std::move(n), anchor);
  }

  const ParseLimits& limits_;
  std::string error_;
  int documents_ = 0;
  int ignored_depth_ = 0;
  size_t nodes_ = 0;
  std::vector<Node> stack_;
  std::vector<std::string> pending_keys_;
  std::vector<bool> awaiting_value_;
  std::vector<YAML::anchor_t> open_anchors_;
  std::map<YAML::anchor_t, Node> anchors_;
  Node root_;
};

}  // namespace

absl::StatusOr<Node> ParseYaml(absl::string_view yaml, const ParseLimits& limits) {
  if (yaml.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("YAML input of ", yaml.size(),
                                                   " bytes exceeds the limit of ",
                                                   limits.max_bytes));
  }
  // YAML streams are Unicode; go-yaml refuses invalid UTF-8, and so do we.
  if (size_t bad = Utf8Length(yaml, 0); bad != yaml.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("YAML input is not valid UTF-8 at byte offset ", bad));
  }
  // Nor control characters (go-yaml: "control characters are not allowed"); yaml-cpp
  // would otherwise mangle some of them.
  for (size_t i = 0; i < yaml.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(yaml[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat("YAML input has a control character at byte offset ", i));
    }
  }
  std::istringstream in{std::string(yaml)};
  std::optional<Node> result;  // empty (null) documents around the object are fine
  try {
    YAML::Parser parser(in);
    for (int calls = 0;; ++calls) {
      YamlBuilder builder(limits);
      if (!parser.HandleNextDocument(builder)) break;
      if (!builder.error().empty()) return absl::InvalidArgumentError(builder.error());
      // yaml-cpp can report a document without consuming stray tokens (e.g. a
      // top-level "]"), and would do so forever: a call that yields no node is an error.
      if (builder.documents() == 0 || calls > 10000) {
        return absl::InvalidArgumentError("invalid YAML: unexpected content after a document");
      }
      Node& doc = builder.root();
      if (!result || result->is_null()) {
        result = std::move(doc);
      } else if (!doc.is_null()) {
        return absl::InvalidArgumentError(
            "YAML stream holds more than one document; expected one object");
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML: ", e.what()));
  }
  return result ? *std::move(result) : Node();
}

// ---------------------------------------------------------------------------
// Writers.

namespace {

// Go's encoding/json writes invalid UTF-8 as U+FFFD; so do we.
std::string ValidUtf8(const std::string& s) {
  if (Utf8Length(s, 0) == s.size()) return s;
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    size_t len = Utf8CharLength(s, i);
    if (len > 0) {
      out.append(s, i, len);
      i += len;
    } else {
      out.append("\xef\xbf\xbd");
      ++i;
    }
  }
  return out;
}

template <typename Writer>
absl::Status WriteNode(const Node& n, Writer& w) {
  switch (n.kind) {
    case Node::Kind::kNull:
      w.Null();
      return absl::OkStatus();
    case Node::Kind::kBool:
      w.Bool(n.boolean);
      return absl::OkStatus();
    case Node::Kind::kNumber:
      if (!IsJsonNumber(n.text)) {
        return absl::InvalidArgumentError(
            absl::StrCat("number \"", n.text, "\" cannot be written as JSON"));
      }
      w.RawValue(n.text.data(), n.text.size(), rapidjson::kNumberType);
      return absl::OkStatus();
    case Node::Kind::kString: {
      std::string s = ValidUtf8(n.text);
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
      return absl::OkStatus();
    }
    case Node::Kind::kArray:
      w.StartArray();
      for (const Node& v : n.values) {
        if (absl::Status s = WriteNode(v, w); !s.ok()) return s;
      }
      w.EndArray();
      return absl::OkStatus();
    case Node::Kind::kObject:
      w.StartObject();
      for (size_t i = 0; i < n.keys.size(); ++i) {
        std::string k = ValidUtf8(n.keys[i]);
        w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
        if (absl::Status s = WriteNode(n.values[i], w); !s.ok()) return s;
      }
      w.EndObject();
      return absl::OkStatus();
  }
  return absl::InternalError("unknown node kind");
}

bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  Node resolved = ResolvePlain(s);
  if (resolved.kind != Node::Kind::kString) return true;
  // Timestamps stay strings in Go but many YAML readers take them as dates.
  if (s.size() >= 10 && absl::ascii_isdigit(static_cast<unsigned char>(s[0])) &&
      s[4] == '-' && s[7] == '-') {
    return true;
  }
  return false;
}

void EmitYaml(const Node& n, YAML::Emitter& out) {
  switch (n.kind) {
    case Node::Kind::kNull:
      out << YAML::Null;
      return;
    case Node::Kind::kBool:
      out << (n.boolean ? "true" : "false");
      return;
    case Node::Kind::kNumber:
      out << n.text;
      return;
    case Node::Kind::kString: {
      std::string s = ValidUtf8(n.text);
      if (NeedsQuotes(s)) {
        out << YAML::DoubleQuoted << s;
      } else {
        out << s;
      }
      return;
    }
    case Node::Kind::kArray:
      if (n.values.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      out << YAML::BeginSeq;
      for (const Node& v : n.values) EmitYaml(v, out);
      out << YAML::EndSeq;
      return;
    case Node::Kind::kObject: {
      if (n.keys.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      // Sorted keys, last duplicate wins.
      std::map<std::string, const Node*> sorted;
      for (size_t i = 0; i < n.keys.size(); ++i) sorted[ValidUtf8(n.keys[i])] = &n.values[i];
      out << YAML::BeginMap;
      for (const auto& [k, v] : sorted) {
        out << YAML::Key;
        if (NeedsQuotes(k)) {
          out << YAML::DoubleQuoted << k;
        } else {
          out << k;
        }
        out << YAML::Value;
        EmitYaml(*v, out);
      }
      out << YAML::EndMap;
      return;
    }
  }
}

}  // namespace

absl::StatusOr<std::string> WriteJson(const Node& node, const WriteOptions& options) {
  rapidjson::StringBuffer buffer;
  if (options.indent > 0) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent(' ', static_cast<unsigned>(options.indent));
    if (absl::Status s = WriteNode(node, writer); !s.ok()) return s;
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    if (absl::Status s = WriteNode(node, writer); !s.ok()) return s;
  }
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::StatusOr<std::string> WriteYaml(const Node& node) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  EmitYaml(node, out);
  if (!out.good()) {
    return absl::InternalError(absl::StrCat("YAML emitter: ", out.GetLastError()));
  }
  std::string result(out.c_str(), out.size());
  result.push_back('\n');
  return result;
}

}  // namespace kslice::codec
