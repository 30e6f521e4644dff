// Server-side apply and field ownership (metadata.managedFields), as kube-apiserver
// does them with sigs.k8s.io/structured-merge-diff.
//
// Every write records which manager owns which fields. Apply (PATCH with
// application/apply-patch+yaml) merges an apply configuration into the live object,
// refuses to change fields another manager owns unless forced, and removes fields the
// applier set before and leaves out now when nobody else owns them. Every other write
// (create, update, JSON/merge/strategic patches) goes through Update, which gives the
// writer (operation "Update") the fields it changed and takes them from the others.
//
//   fieldmanager::Options opts;
//   opts.manager = "kubectl";
//   opts.now = absl::Now();
//   absl::StatusOr<codec::Node> obj = fieldmanager::Apply(
//       live /* nullptr to create */, config, kslice::api::apps::v1::Deployment::descriptor(),
//       opts);
//   // 409 Conflict with FieldManagerConflict causes when another manager owns a
//   // changed field; opts.force = true takes them over instead.
//
// Objects are JSON trees (api/codec/node.h) of whole objects, apiVersion and kind
// included, in the form api/codec/object.h writes (the canonical JSON of the stored
// message). Types come from the message descriptor and its kslice.api annotations;
// see docs/server-side-apply.md for the rules and where they differ from upstream.
//
// Errors are absl::Status values carrying the metav1.Status the API server sends
// (envtest/storage/errors.h): 409 Conflict (kAborted) for apply conflicts, 400
// BadRequest / 422 Invalid (kInvalidArgument) for bad apply requests, 500 (kInternal)
// for objects the schema cannot describe. The functions are pure and thread-safe.
#ifndef KSLICE_ENVTEST_FIELDMANAGER_FIELDMANAGER_H_
#define KSLICE_ENVTEST_FIELDMANAGER_FIELDMANAGER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/codec/node.h"
#include "google/protobuf/descriptor.h"

namespace kslice::envtest::fieldmanager {

struct Options {
  // The fieldManager query parameter. Required for Apply (422 when empty, as
  // upstream); Update records an empty manager as "unknown".
  std::string manager;
  bool force = false;        // Apply only: take over conflicting fields
  std::string subresource;   // "" or "status"
  absl::Time now;            // ManagedFieldsEntry.time of the entries written
  // The apiVersion and kind of the URL. Apply refuses a configuration of another type
  // (400 "invalid object type: ..."). When empty they are taken from `live`, or for a
  // create from the configuration itself.
  std::string api_version;
  std::string kind;
};

// Server-side apply of `config` (the parsed apply configuration) onto `live`
// (nullptr: the object does not exist yet and is created by the apply). Returns the
// new object with metadata.managedFields updated.
//
// Conflicts with fields other managers own (the apply would change their value) are a
// 409 Conflict with one FieldManagerConflict cause per field, unless options.force,
// which moves them to the applier. Fields the manager applied before and omits now are
// removed from the object when no other manager owns them. The configuration must
// name the object (metadata.name) and must not set metadata.managedFields.
absl::StatusOr<codec::Node> Apply(const codec::Node* live, const codec::Node& config,
                                  const google::protobuf::Descriptor* type,
                                  const Options& options);

// Field tracking for non-apply writes (create, update, every other patch type):
// returns `updated` with metadata.managedFields recomputed so that `manager`
// (operation Update) owns the fields it changed, taken away from other managers.
// live = nullptr for create. As upstream: managedFields sent in `updated` replace the
// tracked ones (an empty list resets tracking), an existing object without
// managedFields stays untracked, the status subresource ignores managedFields sent by
// the client, and at most 10 Update managers are kept (older ones are merged into
// "ancient-changes").
absl::StatusOr<codec::Node> Update(const codec::Node* live, const codec::Node& updated,
                                   const google::protobuf::Descriptor* type,
                                   const Options& options);

}  // namespace kslice::envtest::fieldmanager

#endif  // KSLICE_ENVTEST_FIELDMANAGER_FIELDMANAGER_H_
