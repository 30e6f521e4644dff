// A small JSON value tree shared by the JSON and YAML codecs.
//
// Kubernetes' YAML is JSON in another syntax (sigs.k8s.io/yaml converts one to the
// other), so both formats parse into a Node and are written from one. Numbers keep
// their source text, so int64 values, resource quantities ("1e3") and doubles pass
// through without rounding; YAML plain scalars remember that they were untyped, so a
// string field may take `port: 80` or `enabled: true` as text, as upstream does.
//
// Parsing is bounded: nesting depth, input size and (for YAML aliases) the size of the
// expanded tree are limited, and every failure is an absl::Status, never a crash.
#ifndef KSLICE_API_CODEC_NODE_H_
#define KSLICE_API_CODEC_NODE_H_

#include <cstddef>
#include <string>

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kslice::codec {

struct Node {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  Kind kind = Kind::kNull;
  bool boolean = false;
  // kNumber: the number's source text (valid JSON number syntax); kString: the value.
  // For YAML plain scalars of any kind, the scalar's original text.
  std::string text;
  // True for YAML plain (unquoted) scalars: the value may be read as a string.
  bool plain = false;
  // kArray elements, or kObject values (keys[i] names values[i]; order as written).
  std::vector<Node> values;
  std::vector<std::string> keys;

  static Node Null() { return Node(); }
  static Node Bool(bool b);
  static Node Number(std::string text);
  static Node String(std::string s);
  static Node Array();
  static Node Object();

  bool is_null() const { return kind == Kind::kNull; }
  bool is_object() const { return kind == Kind::kObject; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_number() const { return kind == Kind::kNumber; }
  bool is_bool() const { return kind == Kind::kBool; }

  // kObject: appends a member (no duplicate check) and returns its value.
  Node& Add(std::string key, Node value);
  // kArray: appends an element and returns it.
  Node& Push(Node value);
  // kObject: the last member named key, or nullptr.
  const Node* Find(absl::string_view key) const;

  // Deep equality with JSON semantics: object member order does not matter, numbers
  // compare by value (1 == 1.0), the plain flag is ignored.
  bool Equals(const Node& other) const;
};

struct ParseLimits {
  size_t max_bytes = 64u << 20;    // input larger than this is refused
  int max_depth = 256;             // arrays/objects nested deeper are refused
  size_t max_nodes = 4u << 20;     // YAML: nodes after alias expansion
};

// Parses one JSON document (RFC 8259, UTF-8 validated, no trailing content).
absl::StatusOr<Node> ParseJson(absl::string_view json, const ParseLimits& limits = {});

// Parses one YAML document (YAML 1.1 scalar resolution as go-yaml v2 does it: null/~,
// true/false/yes/no/on/off, ints, floats; anything else is a string). A stream with
// more than one non-empty document is refused. Aliases are expanded within limits.
absl::StatusOr<Node> ParseYaml(absl::string_view yaml, const ParseLimits& limits = {});

struct WriteOptions {
  int indent = 0;  // JSON: 0 writes compact output, N pretty-prints with N spaces
};

// Writes a Node as JSON. Numbers are written from their text; a YAML-only number
// spelling (0x1f, .inf) is refused.
absl::StatusOr<std::string> WriteJson(const Node& node, const WriteOptions& options = {});

// Writes a Node as block YAML with object keys sorted (as sigs.k8s.io/yaml does);
// strings that YAML would read as another type are quoted.
absl::StatusOr<std::string> WriteYaml(const Node& node);

}  // namespace kslice::codec

#endif  // KSLICE_API_CODEC_NODE_H_
