// RFC 6902 JSON patch with the behavior of gopkg.in/evanphx/json-patch.v4 (v4.13), the
// library kube-apiserver applies application/json-patch+json with. Error texts are
// that library's; the API server turns every apply error into a generic 422, so the
// texts only reach the absl::Status message.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "envtest/patch/errors.h"
#include "envtest/patch/internal/common.h"
#include "envtest/patch/internal/value.h"
#include "envtest/patch/patch.h"
#include "envtest/storage/errors.h"

namespace kslice::envtest::patch {
namespace {

using codec::Node;
using internal::Depth;
using internal::FindMember;
using internal::SetMember;

constexpr absl::string_view kErrMissing = "missing value";
constexpr absl::string_view kErrTestFailed = "test failed";
constexpr absl::string_view kErrInvalidIndex = "invalid index referenced";

// An apply error (HTTP 422 generic) with evanphx's text.
struct OpError {
  std::string message;
};

// strconv.Atoi, with its error text.
bool Atoi(absl::string_view s, int64_t* out, std::string* err) {
  if (internal::ParseGoInt(s, out)) return true;
  bool digits = !s.empty();
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) digits = false;
  for (size_t j = i; j < s.size(); ++j) {
    if (s[j] < '0' || s[j] > '9') digits = false;
  }
  *err = absl::StrCat("strconv.Atoi: parsing ", storage::GoQuote(s), ": ",
                      digits ? "value out of range" : "invalid syntax");
  return false;
}

std::string InvalidIndex(int64_t idx) {
  return absl::StrCat("Unable to access invalid index: ", idx, ": ", kErrInvalidIndex);
}

// RFC 6901 unescaping, one left-to-right pass (strings.NewReplacer("~1", "/", "~0", "~")).
std::string DecodePatchKey(absl::string_view k) {
  std::string out;
  out.reserve(k.size());
  for (size_t i = 0; i < k.size(); ++i) {
    if (k[i] == '~' && i + 1 < k.size() && (k[i + 1] == '1' || k[i + 1] == '0')) {
      out.push_back(k[i + 1] == '1' ? '/' : '~');
      ++i;
    } else {
      out.push_back(k[i]);
    }
  }
  return out;
}

// A container (object or array) and the key an operation addresses in it.
struct Target {
  Node* con = nullptr;
  std::string key;
  int depth = 0;  // nesting level of the key's value: 1 for a member of the root
};

// Resolves an array index for get/set: negative counts from the end.
bool ArrayIndex(const Node& arr, absl::string_view key, int64_t* idx, std::string* err) {
  if (!Atoi(key, idx, err)) return false;
  const int64_t len = static_cast<int64_t>(arr.values.size());
  if (*idx < 0) {
    if (*idx < -len) {
      *err = InvalidIndex(*idx);
      return false;
    }
    *idx += len;
  }
  if (*idx >= len) {
    *err = InvalidIndex(*idx);
    return false;
  }
  return true;
}

// findObject: every segment but the last must name an existing, non-null object or
// array. A path with fewer than two "/"-separated parts addresses nothing; the first
// part is ignored (so "a/b" means "/b").
std::optional<Target> FindObject(Node* root, absl::string_view path) {
  std::vector<absl::string_view> split = absl::StrSplit(path, '/');
  if (split.size() < 2) return std::nullopt;
  Node* doc = root;
  for (size_t i = 1; i + 1 < split.size(); ++i) {
    const std::string part = DecodePatchKey(split[i]);
    Node* next = nullptr;
    if (doc->is_object()) {
      int m = FindMember(*doc, part);
      if (m >= 0) next = &doc->values[m];
    } else {
      int64_t idx = 0;
      std::string err;
      if (ArrayIndex(*doc, part, &idx, &err)) next = &doc->values[idx];
    }
    if (next == nullptr || !(next->is_object() || next->is_array())) return std::nullopt;
    doc = next;
  }
  return Target{doc, DecodePatchKey(split.back()), static_cast<int>(split.size()) - 1};
}

// container.get: for objects a missing member is no error (nullopt value).
std::optional<std::string> Get(const Target& t, const Node** out) {
  *out = nullptr;
  if (t.con->is_object()) {
    int m = FindMember(*t.con, t.key);
    if (m >= 0) *out = &t.con->values[m];
    return std::nullopt;
  }
  int64_t idx = 0;
  std::string err;
  if (!ArrayIndex(*t.con, t.key, &idx, &err)) return err;
  *out = &t.con->values[idx];
  return std::nullopt;
}

std::optional<std::string> Add(const Target& t, Node val) {
  if (t.con->is_object()) {
    SetMember(t.con, t.key, std::move(val));
    return std::nullopt;
  }
  auto& arr = t.con->values;
  if (t.key == "-") {
    arr.push_back(std::move(val));
    return std::nullopt;
  }
  int64_t idx = 0;
  std::string err;
  if (!Atoi(t.key, &idx, &err)) {
    return absl::StrCat("value was not a proper array index: '", t.key, "': ", err);
  }
  const int64_t sz = static_cast<int64_t>(arr.size()) + 1;
  if (idx >= sz) return InvalidIndex(idx);
  if (idx < 0) {
    if (idx < -sz) return InvalidIndex(idx);
    idx += sz;
  }
  arr.insert(arr.begin() + idx, std::move(val));
  return std::nullopt;
}

std::optional<std::string> Remove(const Target& t) {
  if (t.con->is_object()) {
    if (FindMember(*t.con, t.key) < 0) {
      return absl::StrCat("Unable to remove nonexistent key: ", t.key, ": ", kErrMissing);
    }
    internal::EraseMember(t.con, t.key);
    return std::nullopt;
  }
  auto& arr = t.con->values;
  int64_t idx = 0;
  std::string err;
  if (!Atoi(t.key, &idx, &err)) return err;
  const int64_t len = static_cast<int64_t>(arr.size());
  if (idx >= len) return InvalidIndex(idx);
  if (idx < 0) {
    if (idx < -len) return InvalidIndex(idx);
    idx += len;
  }
  arr.erase(arr.begin() + idx);
  return std::nullopt;
}

// Sets an existing array element or object member (replace, after Get succeeded).
void Set(const Target& t, Node val) {
  if (t.con->is_object()) {
    SetMember(t.con, t.key, std::move(val));
    return;
  }
  int64_t idx = 0;
  std::string err;
  ArrayIndex(*t.con, t.key, &idx, &err);
  t.con->values[idx] = std::move(val);
}

// The fields of one operation (a Go map[string]*json.RawMessage: null values are nil).
class Operation {
 public:
  explicit Operation(const Node* obj) : obj_(obj) {}

  std::string Kind() const {
    const Node* v = Field("op");
    return v != nullptr && v->is_string() ? v->text : "unknown";
  }
  // path / from: the string, or the error text.
  bool Str(absl::string_view name, std::string* out, std::string* err) const {
    const Node* v = Field(name);
    if (v == nullptr) {
      *err = name == "path" ? absl::StrCat("operation missing path field: ", kErrMissing)
                            : absl::StrCat("operation, missing from field: ", kErrMissing);
      return false;
    }
    if (!v->is_string()) {
      *err = absl::StrCat("json: cannot unmarshal ", internal::JsonKindName(*v),
                          " into Go value of type string");
      return false;
    }
    *out = v->text;
    return true;
  }
  // The value: nullptr when the operation has no "value" member; a JSON null is a
  // present (null) value.
  const Node* Value() const {
    if (obj_ == nullptr) return nullptr;
    int m = FindMember(*obj_, "value");
    return m < 0 ? nullptr : &obj_->values[m];
  }

 private:
  // A member that is present and not null.
  const Node* Field(absl::string_view name) const {
    if (obj_ == nullptr) return nullptr;
    int m = FindMember(*obj_, name);
    if (m < 0 || obj_->values[m].is_null()) return nullptr;
    return &obj_->values[m];
  }
  const Node* obj_;  // not owned; nullptr for a null operation
};

class Applier {
 public:
  Applier(Node doc, const PatchOptions& options) : doc_(std::move(doc)), options_(options) {}

  std::optional<OpError> Apply(const Operation& op) {
    const std::string kind = op.Kind();
    std::optional<std::string> err;
    if (kind == "add") {
      err = DoAdd(op);
    } else if (kind == "remove") {
      err = DoRemove(op);
    } else if (kind == "replace") {
      err = DoReplace(op);
    } else if (kind == "move") {
      err = DoMove(op);
    } else if (kind == "test") {
      err = DoTest(op);
    } else if (kind == "copy") {
      err = DoCopy(op);
    } else {
      err = absl::StrCat("Unexpected kind: ", kind);
    }
    if (err.has_value()) return OpError{*std::move(err)};
    return std::nullopt;
  }

  Node Take() { return std::move(doc_); }

 private:
  // Refuses a value that would nest deeper than max_depth at `depth`.
  std::optional<std::string> CheckDepth(int depth, const Node& value) const {
    if (depth + Depth(value) > options_.max_depth) {
      return absl::StrCat("the patched document would nest deeper than ", options_.max_depth,
                          " levels");
    }
    return std::nullopt;
  }

  static Node ValueOrNull(const Node* v) { return v == nullptr ? Node::Null() : *v; }

  std::optional<std::string> DoAdd(const Operation& op) {
    std::string path, err;
    if (!op.Str("path", &path, &err)) {
      return absl::StrCat("add operation failed to decode path: ", kErrMissing);
    }
    std::optional<Target> t = FindObject(&doc_, path);
    if (!t.has_value()) {
      return absl::StrCat("add operation does not apply: doc is missing path: \"", path,
                          "\": ", kErrMissing);
    }
    Node val = ValueOrNull(op.Value());
    if (auto e = CheckDepth(t->depth, val)) return e;
    if (auto e = Add(*t, std::move(val))) {
      return absl::StrCat("error in add for path: '", path, "': ", *e);
    }
    return std::nullopt;
  }

  std::optional<std::string> DoRemove(const Operation& op) {
    std::string path, err;
    if (!op.Str("path", &path, &err)) {
      return absl::StrCat("remove operation failed to decode path: ", kErrMissing);
    }
    std::optional<Target> t = FindObject(&doc_, path);
    if (!t.has_value()) {
      return absl::StrCat("remove operation does not apply: doc is missing path: \"", path,
                          "\": ", kErrMissing);
    }
    if (auto e = Remove(*t)) {
      return absl::StrCat("error in remove for path: '", path, "': ", *e);
    }
    return std::nullopt;
  }

  std::optional<std::string> DoReplace(const Operation& op) {
    std::string path, err;
    if (!op.Str("path", &path, &err)) {
      return absl::StrCat("replace operation failed to decode path: ", err);
    }
    if (path.empty()) {
      const Node* val = op.Value();
      if (val == nullptr || !(val->is_object() || val->is_array())) {
        return std::string("replace operation value must be object or array: %!w(<nil>)");
      }
      if (auto e = CheckDepth(0, *val)) return e;
      doc_ = *val;
      return std::nullopt;
    }
    std::optional<Target> t = FindObject(&doc_, path);
    if (!t.has_value()) {
      return absl::StrCat("replace operation does not apply: doc is missing path: ", path, ": ",
                          kErrMissing);
    }
    const Node* cur = nullptr;
    if (Get(*t, &cur).has_value()) {
      return absl::StrCat("replace operation does not apply: doc is missing key: ", path, ": ",
                          kErrMissing);
    }
    Node val = ValueOrNull(op.Value());
    if (auto e = CheckDepth(t->depth, val)) return e;
    Set(*t, std::move(val));
    return std::nullopt;
  }

  std::optional<std::string> DoMove(const Operation& op) {
    std::string from, path, err;
    if (!op.Str("from", &from, &err)) {
      return absl::StrCat("move operation failed to decode from: ", err);
    }
    std::optional<Target> t = FindObject(&doc_, from);
    if (!t.has_value()) {
      return absl::StrCat("move operation does not apply: doc is missing from path: ", from, ": ",
                          kErrMissing);
    }
    const Node* cur = nullptr;
    if (auto e = Get(*t, &cur)) return absl::StrCat("error in move for path: '", t->key, "': ", *e);
    Node val = ValueOrNull(cur);
    const int from_depth = t->depth;
    if (auto e = Remove(*t)) return absl::StrCat("error in move for path: '", t->key, "': ", *e);
    if (!op.Str("path", &path, &err)) {
      return absl::StrCat("move operation failed to decode path: ", err);
    }
    t = FindObject(&doc_, path);
    if (!t.has_value()) {
      return absl::StrCat("move operation does not apply: doc is missing destination path: ",
                          path, ": ", kErrMissing);
    }
    if (t->depth > from_depth) {
      if (auto e = CheckDepth(t->depth, val)) return e;
    }
    if (auto e = Add(*t, std::move(val))) {
      return absl::StrCat("error in move for path: '", path, "': ", *e);
    }
    return std::nullopt;
  }

  std::optional<std::string> DoTest(const Operation& op) {
    std::string path, err;
    if (!op.Str("path", &path, &err)) {
      return absl::StrCat("test operation failed to decode path: ", err);
    }
    const Node* want = op.Value();
    if (path.empty()) {
      if (want != nullptr && internal::JsonEqual(doc_, *want)) return std::nullopt;
      return absl::StrCat("testing value ", path, " failed: ", kErrTestFailed);
    }
    std::optional<Target> t = FindObject(&doc_, path);
    if (!t.has_value()) {
      return absl::StrCat("test operation does not apply: is missing path: ", path, ": ",
                          kErrMissing);
    }
    const Node* cur = nullptr;
    if (auto e = Get(*t, &cur)) {
      return absl::StrCat("error in test for path: '", path, "': ", *e);
    }
    if (cur == nullptr || cur->is_null()) {
      if (want == nullptr || want->is_null()) return std::nullopt;
      return absl::StrCat("testing value ", path, " failed: ", kErrTestFailed);
    }
    if (want != nullptr && internal::JsonEqual(*cur, *want)) return std::nullopt;
    return absl::StrCat("testing value ", path, " failed: ", kErrTestFailed);
  }

  std::optional<std::string> DoCopy(const Operation& op) {
    std::string from, path, err;
    if (!op.Str("from", &from, &err)) {
      return absl::StrCat("copy operation failed to decode from: ", err);
    }
    std::optional<Target> t = FindObject(&doc_, from);
    if (!t.has_value()) {
      return absl::StrCat("copy operation does not apply: doc is missing from path: ", from, ": ",
                          kErrMissing);
    }
    const Node* cur = nullptr;
    if (auto e = Get(*t, &cur)) return absl::StrCat("error in copy for from: '", from, "': ", *e);
    if (!op.Str("path", &path, &err)) {
      return absl::StrCat("copy operation failed to decode path: ", kErrMissing);
    }
    std::optional<Target> dst = FindObject(&doc_, path);
    if (!dst.has_value()) {
      return absl::StrCat("copy operation does not apply: doc is missing destination path: ",
                          path, ": ", kErrMissing);
    }
    Node val = ValueOrNull(cur);
    if (cur != nullptr) {
      absl::StatusOr<std::string> json = codec::WriteJson(val);
      copied_ += json.ok() ? static_cast<int64_t>(json->size()) : 0;
      if (options_.max_copy_bytes > 0 && copied_ > options_.max_copy_bytes) {
        return absl::StrCat("Unable to complete the copy, the accumulated size increase of copy is ",
                            copied_, ", exceeding the limit ", options_.max_copy_bytes);
      }
    }
    if (auto e = CheckDepth(dst->depth, val)) return e;
    if (auto e = Add(*dst, std::move(val))) {
      return absl::StrCat("error while adding value during copy: ", *e);
    }
    return std::nullopt;
  }

  Node doc_;
  const PatchOptions& options_;
  int64_t copied_ = 0;
};

}  // namespace

absl::StatusOr<Node> ApplyJsonPatch(const Node& doc, absl::string_view patch,
                                    const PatchOptions& options) {
  absl::StatusOr<Node> ops = internal::ParsePatchBody(patch);
  if (!ops.ok()) return ops.status();
  // jsonpatch.DecodePatch: a JSON array of objects ([]map[string]*json.RawMessage).
  if (!ops->is_array() && !ops->is_null()) {
    return storage::BadRequestError(absl::StrCat("json: cannot unmarshal ",
                                                 internal::JsonKindName(*ops),
                                                 " into Go value of type jsonpatch.Patch"));
  }
  for (const Node& op : ops->values) {
    if (!op.is_object() && !op.is_null()) {
      return storage::BadRequestError(absl::StrCat("json: cannot unmarshal ",
                                                   internal::JsonKindName(op),
                                                   " into Go value of type jsonpatch.Operation"));
    }
  }
  if (static_cast<int64_t>(ops->values.size()) > options.max_json_patch_operations) {
    return RequestEntityTooLargeError(
        absl::StrCat("The allowed maximum operations in a JSON patch is ",
                     options.max_json_patch_operations, ", got ", ops->values.size()));
  }
  Applier applier(doc, options);
  for (const Node& op : ops->values) {
    if (std::optional<OpError> e = applier.Apply(Operation(op.is_null() ? nullptr : &op))) {
      return UnprocessablePatchError(e->message);
    }
  }
  Node out = applier.Take();
  if (absl::Status s = internal::CheckPatchedTypeMeta(doc, out); !s.ok()) return s;
  return out;
}

}  // namespace kslice::envtest::patch
