// RFC 7386 JSON merge patch with the behavior of gopkg.in/evanphx/json-patch.v4's
// MergePatch, which kube-apiserver applies application/merge-patch+json with.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "envtest/patch/errors.h"
#include "envtest/patch/internal/common.h"
#include "envtest/patch/internal/value.h"
#include "envtest/patch/patch.h"
#include "envtest/storage/errors.h"

namespace kslice::envtest::patch {
namespace {

using codec::Node;

// pruneNulls: drops null members of objects, recursively (also inside arrays); null
// array elements stay.
void PruneNulls(Node* n) {
  if (n->is_object()) {
    size_t out = 0;
    for (size_t i = 0; i < n->keys.size(); ++i) {
      if (n->values[i].is_null()) continue;
      if (out != i) {
        n->keys[out] = std::move(n->keys[i]);
        n->values[out] = std::move(n->values[i]);
      }
      ++out;
    }
    n->keys.resize(out);
    n->values.resize(out);
  }
  for (Node& c : n->values) {
    if (!c.is_null()) PruneNulls(&c);
  }
}

void MergeDocs(Node* doc, Node* patch);

// merge(cur, patch): objects merge, anything else is replaced by the patch (pruned of
// nulls when the current value is not an object).
Node Merge(Node cur, Node patch) {
  if (!cur.is_object()) {
    PruneNulls(&patch);
    return patch;
  }
  if (!patch.is_object()) return patch;
  MergeDocs(&cur, &patch);
  return cur;
}

void MergeDocs(Node* doc, Node* patch) {
  internal::MemberIndex index(doc);
  for (size_t i = 0; i < patch->keys.size(); ++i) {
    const std::string& k = patch->keys[i];
    Node& v = patch->values[i];
    if (v.is_null()) {
      index.Erase(k);
      continue;
    }
    Node* cur = index.Get(k);
    if (cur == nullptr || cur->is_null()) {
      PruneNulls(&v);
      index.Set(k, std::move(v));
    } else {
      *cur = Merge(std::move(*cur), std::move(v));
    }
  }
  index.Compact();
}

}  // namespace

absl::StatusOr<Node> ApplyMergePatch(const Node& doc, absl::string_view patch,
                                     const PatchOptions& options) {
  absl::StatusOr<Node> p = internal::ParsePatchBody(patch);
  if (!p.ok()) return p.status();
  Node out;
  if (p->is_object()) {
    out = doc;
    if (!out.is_object()) {
      out = *std::move(p);
      PruneNulls(&out);
    } else {
      MergeDocs(&out, &*p);
    }
  } else if (p->is_array()) {
    // Not an object: the patch replaces the document (nulls pruned inside elements).
    out = *std::move(p);
    PruneNulls(&out);
  } else {
    return storage::BadRequestError("Invalid JSON Patch");
  }
  if (internal::Depth(out) > options.max_depth) {
    return UnprocessablePatchError(absl::StrCat("the patched document would nest deeper than ",
                                                options.max_depth, " levels"));
  }
  if (absl::Status s = internal::CheckPatchedTypeMeta(doc, out); !s.ok()) return s;
  return out;
}

}  // namespace kslice::envtest::patch
