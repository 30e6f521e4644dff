// PATCH as kube-apiserver applies it, on the JSON tree of a stored object
// (kslice::codec::ToNode: apiVersion, kind, then the fields).
//
//   absl::StatusOr<codec::Node> doc = codec::ToNode(pod);
//   absl::StatusOr<codec::Node> out = patch::ApplyStrategicMergePatch(
//       *doc, R"({"spec":{"containers":[{"name":"app","image":"nginx:2"}]}})",
//       api::core::v1::Pod::descriptor());
//   // decode *out into a Pod; if that fails, answer PatchedObjectInvalidError(*out, why)
//
// The three patch types of the PATCH verb:
//   application/json-patch+json             ApplyJsonPatch (RFC 6902, evanphx/json-patch v4)
//   application/merge-patch+json            ApplyMergePatch (RFC 7386, evanphx/json-patch v4)
//   application/strategic-merge-patch+json  ApplyStrategicMergePatch (apimachinery
//                                           strategicpatch, driven by the schema annotations
//                                           of api/proto/annotations.proto)
// Server-side apply (application/apply-patch+yaml) is not here.
//
// Errors are absl::Status values carrying the metav1.Status the API server sends
// (envtest/patch/errors.h lists which failure is which HTTP answer). The functions never
// crash on hostile input: the patch is parsed with the codec's limits (nesting 256,
// size 64 MiB), a JSON patch is limited to 10000 operations and 3 MiB of copied data
// (upstream's defaults), documents may not grow deeper than PatchOptions::max_depth, and
// the list algorithms of strategic merge patch use hashing instead of upstream's
// quadratic scans. Behavior and known differences from upstream: docs/patch.md.
//
// Thread safety: the functions are pure; call them from any thread.
#ifndef KSLICE_ENVTEST_PATCH_PATCH_H_
#define KSLICE_ENVTEST_PATCH_PATCH_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec/node.h"
#include "envtest/patch/errors.h"
#include "google/protobuf/descriptor.h"

namespace kslice::envtest::patch {

struct PatchOptions {
  // apiserver's maxJSONPatchOperations; more is 413 RequestEntityTooLarge.
  int max_json_patch_operations = 10000;
  // apiserver's JSONPatchMaxCopyBytes (jsonpatch.AccumulatedCopySizeLimit): total JSON
  // size of the values "copy" operations may add. 0 means no limit.
  int64_t max_copy_bytes = 3 << 20;
  // A patched document nesting deeper than this is refused (422): upstream's decoder
  // refuses 10000 levels; ours refuses what our codecs could not read back anyway.
  int max_depth = 512;
};

// RFC 6902 JSON patch (add, remove, replace, move, copy, test) applied to `doc`, with
// evanphx/json-patch v4's behavior: negative array indices count from the end,
// "replace" of a missing object member adds it, "copy" from a missing member copies
// null, a path without a leading "/" drops its first segment. After the operations the
// result's apiVersion/kind must still name doc's type (422 otherwise, as the API server
// fails to decode the result into the stored type).
absl::StatusOr<codec::Node> ApplyJsonPatch(const codec::Node& doc, absl::string_view patch,
                                           const PatchOptions& options = {});

// RFC 7386 JSON merge patch: null deletes, objects merge recursively, anything else
// replaces (nulls inside added values are dropped). A `null` patch is 400 "Invalid JSON
// Patch", a top-level array replaces the whole document (which then fails to decode).
// apiVersion/kind are checked as for ApplyJsonPatch.
absl::StatusOr<codec::Node> ApplyMergePatch(const codec::Node& doc, absl::string_view patch,
                                            const PatchOptions& options = {});

// Strategic merge patch for a built-in kind; `type` is the descriptor of the object's
// message (Pod::descriptor()); nullptr stands for a type without a schema (custom
// resources), which upstream refuses with 400 "strategic merge patch format is not
// supported". Each field's patch strategy and merge key come from the annotations
// (kslice.api.patch_strategy / patch_merge_key); JSON keys map to fields by
// (kslice.api.json) or the field name, looking through (kslice.api.inline) fields.
// Directives: $patch (replace, delete; merge is refused in lists), $retainKeys,
// $deleteFromPrimitiveList/<field>, $setElementOrder/<field>. As upstream, a changed
// apiVersion/kind is ignored (the result keeps doc's).
absl::StatusOr<codec::Node> ApplyStrategicMergePatch(const codec::Node& doc,
                                                     absl::string_view patch,
                                                     const google::protobuf::Descriptor* type,
                                                     const PatchOptions& options = {});

}  // namespace kslice::envtest::patch

#endif  // KSLICE_ENVTEST_PATCH_PATCH_H_
