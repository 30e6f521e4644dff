// Request options of the storage operations, with the API server's validation.
#ifndef KSLICE_ENVTEST_STORAGE_OPTIONS_H_
#define KSLICE_ENVTEST_STORAGE_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/fields/selector.h"
#include "api/labels/selector.h"
#include "envtest/storage/object.h"

namespace kslice::envtest::storage {

enum class ResourceVersionMatch { kUnset, kNotOlderThan, kExact };

// "" -> kUnset, "NotOlderThan", "Exact" (exact spelling). Anything else is a 422 on
// ListOptions: for a list `resourceVersionMatch: Unsupported value: "x": supported
// values: "Exact", "NotOlderThan", ""`, for a watch only "NotOlderThan" is listed.
absl::StatusOr<ResourceVersionMatch> ParseResourceVersionMatch(absl::string_view value,
                                                               bool watch);

// Parses a resourceVersion parameter: "" and "0" are 0; otherwise a decimal uint64.
// Failure is a 400 "invalid resource version: ...".
absl::StatusOr<uint64_t> ParseResourceVersion(absl::string_view value);

// metav1.ListOptions for List and Watch.
struct ListOptions {
  // Namespace to list or watch; "" for all namespaces. Ignored for cluster-scoped
  // resources.
  std::string ns{};
  kslice::labels::Selector label_selector{};
  // Checked against the resource's field labels (ConvertFieldSelector) by the store.
  kslice::fields::Selector field_selector{};
  // "", "0" or a decimal RV; semantics in store.h.
  std::string resource_version{};
  ResourceVersionMatch resource_version_match = ResourceVersionMatch::kUnset;
  // List only: page size (0 = everything) and the continue token of the previous page.
  int64_t limit = 0;
  std::string continue_token{};
  // Watch only.
  std::optional<bool> send_initial_events{};
  bool allow_watch_bookmarks = false;
  // Watch only: bound of the watcher's queue of live events; 0 = the store's default.
  size_t watch_queue_capacity = 0;
};

// upstream's ValidateListOptions: 422 Invalid on kind ListOptions.meta.k8s.io for
// resourceVersionMatch without resourceVersion, with continue, "Exact" with "0",
// sendInitialEvents on a list; for watches sendInitialEvents needs
// resourceVersionMatch=NotOlderThan (and the WatchList gate), resourceVersionMatch
// needs sendInitialEvents. A continue token with a resourceVersion other than "" or
// "0" is a 400 (checked by List).
absl::Status ValidateListOptions(const ListOptions& options, bool watch, bool watch_list_enabled);

struct GetOptions {
  // "" = latest, "0" = any (the store serves the latest), N = not older than N.
  std::string resource_version{};
};

// Conditions a write checks against the stored object; a mismatch is a Conflict.
struct Preconditions {
  std::optional<std::string> uid{};
  std::optional<std::string> resource_version{};
};

struct CreateOptions {
  // Check everything, store nothing; the result has no resourceVersion.
  bool dry_run = false;
  // The caller promises the object is canonical already (decoded by api/codec), which
  // saves a reflection pass.
  bool assume_canonical = false;
};

struct UpdateOptions {
  // A missing object is created (PUT create-on-update); otherwise it is a NotFound.
  bool allow_create = false;
  bool dry_run = false;
  bool assume_canonical = false;
};

struct GuaranteedUpdateOptions {
  Preconditions preconditions{};
  // When the object is missing, call the update function with nullptr instead of
  // failing with NotFound; what it returns is created.
  bool ignore_not_found = false;
  bool dry_run = false;
  bool assume_canonical = false;
  // A write of the status subresource: metadata.generation stays as stored, whatever
  // changed (upstream's status strategies never bump it; a Deployment's annotations
  // written through /status must not either).
  bool keep_generation = false;
  // Attempts before giving up with a Conflict when other writers keep winning.
  int max_attempts = 1000;
};

struct DeleteOptions {
  Preconditions preconditions{};
  bool dry_run = false;
};

struct ListResult {
  // Sorted by key (namespace/name).
  std::vector<Object> items{};
  // The snapshot the items were read at (ListMeta.resourceVersion).
  uint64_t resource_version = 0;
  // Non-empty when more items may follow (ListMeta.continue).
  std::string continue_token{};
  // ListMeta.remainingItemCount: only when there is a next page and no selector.
  std::optional<int64_t> remaining_item_count{};
};

struct UpdateResult {
  Object object{};
  bool created = false;  // the object did not exist (create-on-update)
  bool deleted = false;  // GuaranteedUpdate's function asked for deletion
  bool unchanged = false;  // nothing to write: the stored object is returned as is
};

}  // namespace kslice::envtest::storage

#endif  // KSLICE_ENVTEST_STORAGE_OPTIONS_H_
