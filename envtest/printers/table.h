// Server-side printing: the meta.k8s.io Table an API server returns when a client
// (kubectl get) asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
//
//   // GET /api/v1/namespaces/default/pods with a Table Accept header:
//   absl::StatusOr<AcceptChoice> choice = NegotiateAccept(accept_header);
//   if (choice.ok() && choice->table) {
//     absl::StatusOr<IncludeObject> include = ParseIncludeObject(query_include_object);
//     TableOptions options;
//     options.include_object = *include;
//     options.version = choice->table_version;
//     absl::StatusOr<codec::Node> table =
//         ToTable(Pod::descriptor(), pods, options, ListMetaFields{rv, continue_token, {}});
//     // codec::WriteJson(*table) is the response body.
//   }
//
// Columns and cells follow kube-apiserver's printers (k8s.io/kubernetes
// pkg/printers/internalversion) for the kinds listed in docs/tables.md; other kinds
// get the generic table (Name, Created At). As upstream's server does, every column
// is always filled, including the priority-1 ("-o wide") ones; kubectl hides those
// unless asked. Column descriptions and row-condition messages are our own wording.
//
// Watch: each event's object is a one-row Table (ToTable(object, options)); upstream
// sends column definitions with the first event only, so a caller sets
// options.no_headers for the following events. ERROR events (a Status) are sent
// untransformed.
//
// All functions are pure and thread-safe; objects are borrowed for the call only.
#ifndef KSLICE_ENVTEST_PRINTERS_TABLE_H_
#define KSLICE_ENVTEST_PRINTERS_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/codec/node.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace kslice::envtest::printers {

// TableOptions.includeObject: what each row's `object` holds.
enum class IncludeObject {
  kNone,      // null
  kMetadata,  // a PartialObjectMetadata (the default)
  kObject,    // the whole object
};

// The meta.k8s.io version of the Table (and of the PartialObjectMetadata in rows).
enum class TableVersion { kV1, kV1beta1 };

struct TableOptions {
  IncludeObject include_object = IncludeObject::kMetadata;
  // AGE and similar cells are measured against this; InfinitePast means absl::Now().
  absl::Time now = absl::InfinitePast();
  // Leave columnDefinitions empty (watch events after the first).
  bool no_headers = false;
  TableVersion version = TableVersion::kV1;
};

// The list's metadata, copied to the Table's metadata as given (empty fields are
// left out, as upstream's omitempty does).
struct ListMetaFields {
  std::string resource_version{};
  std::string continue_token{};
  std::optional<int64_t> remaining_item_count{};
};

// One column definition (meta.k8s.io TableColumnDefinition).
struct Column {
  std::string name;    // "Name", "Ready", "Created At"
  std::string type;    // "string", "integer", "date", "boolean"
  std::string format;  // "name" for the object's name column, else ""
  std::string description;
  int32_t priority = 0;  // 1: shown by kubectl only with -o wide
};

// The columns a Table of `item_type` objects has; the generic Name/Created At
// columns for kinds without a printer.
std::vector<Column> ColumnsFor(const google::protobuf::Descriptor* item_type);

// Whether `item_type` has its own printer (false: the generic table).
bool HasPrinter(const google::protobuf::Descriptor* item_type);

// A Table of a list of `item_type` objects (all must be of that type; item_type is
// also what gives an empty list its columns). Errors: a null or mismatched object
// (InvalidArgument); an object without ObjectMeta `metadata` (NotAcceptable, 406,
// as upstream answers for a type that cannot be printed).
absl::StatusOr<codec::Node> ToTable(const google::protobuf::Descriptor* item_type,
                                    const std::vector<const google::protobuf::Message*>& objects,
                                    const TableOptions& options, const ListMetaFields& list_meta);

// A one-row Table of a single object (GET of one object, or one watch event); its
// metadata.resourceVersion is the object's, as upstream's table convertors do.
absl::StatusOr<codec::Node> ToTable(const google::protobuf::Message& object,
                                    const TableOptions& options);

// The value of the `includeObject` query parameter: "" (Metadata), "None",
// "Metadata" or "Object"; anything else is a 400 BadRequest
// "Unable to convert to Table as requested: includeObject: Invalid value: ...".
absl::StatusOr<IncludeObject> ParseIncludeObject(absl::string_view value);

// The result of content negotiation on an Accept header.
struct AcceptChoice {
  // The serializer: "application/json", "application/yaml" or
  // "application/vnd.kubernetes.protobuf".
  std::string media_type;
  // A meta.k8s.io Table was asked for (and is possible in media_type).
  bool table = false;
  TableVersion table_version = TableVersion::kV1;
  // Another meta.k8s.io conversion the clause asked for ("PartialObjectMetadata",
  // "PartialObjectMetadataList"), with its version; empty when none.
  std::string other_conversion{};
  TableVersion other_conversion_version = TableVersion::kV1;
  // The clause had pretty=1.
  bool pretty = false;
};

// Negotiates the response format as kube-apiserver does for a resource endpoint:
// clauses are ordered by q (then specific types before wildcards); the first clause
// that a supported serializer (JSON, YAML, protobuf, in that order) matches and
// whose as/g/v parameters are acceptable wins. A Table is acceptable as
// g=meta.k8s.io, v=v1 or v1beta1, in JSON or YAML only; other `as` targets
// (or other groups/versions) make the clause unacceptable. An empty header means
// JSON. No acceptable clause: 406 NotAcceptable
// ("only the following media types are accepted: ...").
absl::StatusOr<AcceptChoice> NegotiateAccept(absl::string_view accept_header);

// "meta.k8s.io/v1" or "meta.k8s.io/v1beta1".
absl::string_view TableApiVersion(TableVersion version);

}  // namespace kslice::envtest::printers

#endif  // KSLICE_ENVTEST_PRINTERS_TABLE_H_
