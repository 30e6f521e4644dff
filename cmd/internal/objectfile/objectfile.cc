#include "cmd/internal/objectfile/objectfile.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/codec/codec.h"
#include "api/codec/node.h"
#include "envtest/defaults/defaults.h"

namespace kslice::cmd::objectfile {
namespace {

using codec::Format;

// Splits a YAML stream at document markers ("---" at the start of a line, alone or
// followed by white space or a comment). Documents holding only white space and
// comments are dropped.
std::vector<std::string> SplitYamlDocuments(absl::string_view data) {
  std::vector<std::string> docs;
  std::string current;
  bool has_content = false;
  auto flush = [&] {
    if (has_content) docs.push_back(std::move(current));
    current.clear();
    has_content = false;
  };
  for (absl::string_view line : absl::StrSplit(data, '\n')) {
    if (absl::StartsWith(line, "---") &&
        (line.size() == 3 || absl::ascii_isspace(static_cast<unsigned char>(line[3])) ||
         line[3] == '#')) {
      flush();
      continue;
    }
    if (line == "..." || absl::StartsWith(line, "... ")) {  // end-of-document marker
      flush();
      continue;
    }
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (!trimmed.empty() && trimmed[0] != '#') has_content = true;
    absl::StrAppend(&current, line, "\n");
  }
  flush();
  return docs;
}

// Splits a stream of concatenated JSON values (`kubectl get -o json` of several
// commands, `jq -c` output) at the end of each top-level object or array.
absl::StatusOr<std::vector<std::string>> SplitJsonStream(absl::string_view data) {
  std::vector<std::string> docs;
  size_t i = 0;
  while (true) {
    while (i < data.size() && absl::ascii_isspace(static_cast<unsigned char>(data[i]))) ++i;
    if (i == data.size()) break;
    if (data[i] != '{' && data[i] != '[') {
      return absl::InvalidArgumentError(
          absl::StrCat("JSON document ", docs.size() + 1, ": expected '{' at byte ", i));
    }
    const size_t start = i;
    int depth = 0;
    bool in_string = false;
    for (; i < data.size(); ++i) {
      const char c = data[i];
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++i;
          break;
        }
      }
    }
    if (depth != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("JSON document ", docs.size() + 1, " is not terminated"));
    }
    docs.emplace_back(data.substr(start, i - start));
  }
  return docs;
}

std::string StringMember(const codec::Node& node, absl::string_view key) {
  const codec::Node* v = node.Find(key);
  return v != nullptr && (v->is_string() || v->plain) ? v->text : std::string();
}

// Where an object came from, for error messages: "document 2, item 5".
std::string Where(int doc, int item) {
  return item < 0 ? absl::StrCat("document ", doc) : absl::StrCat("document ", doc, ", item ", item);
}

template <typename T>
absl::Status DecodeItem(const codec::Node& node, const std::string& where,
                        std::vector<std::shared_ptr<const T>>* out) {
  absl::StatusOr<std::string> json = codec::WriteJson(node);
  if (!json.ok()) return json.status();
  absl::StatusOr<T> object = codec::DecodeAs<T>(*json, Format::kJson);
  if (!object.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", object.status().message()));
  }
  // As the API server would have stored it: hand-written input (a container port
  // without protocol, a Service without ipFamilies) then behaves as in a cluster.
  envtest::defaults::Apply(&*object);
  out->push_back(std::make_shared<const T>(*std::move(object)));
  return absl::OkStatus();
}

// Adds one object (or the items of a list) to `in`. `api_version`/`kind` are the
// defaults for the items of a typed list, which carry no TypeMeta of their own.
absl::Status Collect(const codec::Node& node, int doc, int item, std::string api_version,
                     std::string kind, ObjectSet* in) {
  if (node.is_null()) return absl::OkStatus();
  if (!node.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(Where(doc, item), ": not an object"));
  }
  if (std::string v = StringMember(node, "apiVersion"); !v.empty()) api_version = v;
  if (std::string k = StringMember(node, "kind"); !k.empty()) kind = k;
  const codec::Node* items = node.Find("items");
  if (absl::EndsWith(kind, "List") && items != nullptr) {
    if (!items->is_array() && !items->is_null()) {
      return absl::InvalidArgumentError(absl::StrCat(Where(doc, item), ": items is not a list"));
    }
    // "List" items name their own kind; a PodList's items are Pods.
    std::string item_kind = kind == "List" ? "" : kind.substr(0, kind.size() - 4);
    for (size_t i = 0; i < items->values.size(); ++i) {
      if (absl::Status s = Collect(items->values[i], doc, static_cast<int>(i) + 1,
                                   item_kind.empty() ? "" : api_version, item_kind, in);
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }
  const bool core = api_version == "v1";
  const bool discovery = api_version == "discovery.k8s.io/v1";
  if (!(core && (kind == "Service" || kind == "Pod" || kind == "Node")) &&
      !(discovery && kind == "EndpointSlice")) {
    ++in->ignored;
    return absl::OkStatus();
  }
  // Items of a typed list: give them the TypeMeta the codec checks.
  codec::Node typed = node;
  if (node.Find("apiVersion") == nullptr) typed.Add("apiVersion", codec::Node::String(api_version));
  if (node.Find("kind") == nullptr) typed.Add("kind", codec::Node::String(kind));
  const std::string where = absl::StrCat(Where(doc, item), " (", kind, ")");
  if (kind == "Service") return DecodeItem(typed, where, &in->services);
  if (kind == "Pod") return DecodeItem(typed, where, &in->pods);
  if (kind == "Node") return DecodeItem(typed, where, &in->nodes);
  return DecodeItem(typed, where, &in->slices);
}

}  // namespace

absl::StatusOr<ObjectSet> ReadObjects(absl::string_view data) {
  ObjectSet in;
  std::vector<absl::StatusOr<codec::Node>> nodes;
  switch (codec::DetectFormat(data)) {
    case Format::kProtobuf:
      return absl::InvalidArgumentError("protobuf input is not supported; use YAML or JSON");
    case Format::kJson: {
      absl::StatusOr<std::vector<std::string>> docs = SplitJsonStream(data);
      if (!docs.ok()) return docs.status();
      for (const std::string& d : *docs) nodes.push_back(codec::ParseJson(d));
      break;
    }
    case Format::kYaml:
      for (const std::string& d : SplitYamlDocuments(data)) nodes.push_back(codec::ParseYaml(d));
      break;
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const int doc = static_cast<int>(i) + 1;
    if (!nodes[i].ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(doc, -1), ": ", nodes[i].status().message()));
    }
    if (absl::Status s = Collect(*nodes[i], doc, -1, "", "", &in); !s.ok()) return s;
  }
  return in;
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  std::string data;
  if (path == "-") {
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (std::cin.bad()) return absl::UnavailableError("cannot read stdin");
    return data;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::UnavailableError(absl::StrCat("error reading ", path));
  return data;
}

}  // namespace kslice::cmd::objectfile
