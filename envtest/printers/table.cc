#include "envtest/printers/table.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/codec/codec.h"
#include "api/codec/go_time.h"
#include "api/codec/object.h"
#include "api/meta/v1/meta.pb.h"
#include "envtest/printers/internal/kinds.h"
#include "envtest/printers/internal/status.h"
#include "envtest/storage/errors.h"

namespace kslice::envtest::printers {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using kslice::api::meta::v1::ObjectMeta;

std::vector<Column> GenericColumns() {
  return {Column{"Name", "string", "name", "Name of the object (unique in its namespace).", 0},
          Column{"Created At", "date", "", "When the object was created (creationTimestamp).", 0}};
}

// The object's ObjectMeta, or nullptr when the type has none.
const Message* MetadataOf(const Message& object) {
  const FieldDescriptor* f = object.GetDescriptor()->FindFieldByName("metadata");
  if (f == nullptr || f->is_repeated() || f->message_type() != ObjectMeta::descriptor()) {
    return nullptr;
  }
  return &object.GetReflection()->GetMessage(object, f);
}

const ObjectMeta& AsObjectMeta(const Message& m, ObjectMeta* scratch) {
  if (const auto* p = dynamic_cast<const ObjectMeta*>(&m)) return *p;
  scratch->CopyFrom(m);
  return *scratch;
}

absl::Status NotPrintable(const Descriptor* type) {
  return internal::NotAcceptableError(
      absl::StrCat("the resource ", type->name(), " does not support being converted to a Table"));
}

// The generic row (rest.defaultTableConvertor): name and creation time in RFC 3339.
absl::Status GenericRow(const ObjectMeta& meta, internal::Row* row) {
  codec::UnixTime t{internal::kZeroTimeSeconds, 0};
  if (!internal::IsZeroTime(meta.creationtimestamp()))
    t.seconds = meta.creationtimestamp().seconds();
  absl::StatusOr<std::string> created = codec::FormatRfc3339(t, 0);
  if (!created.ok()) return created.status();
  row->cells.push_back(codec::Node::String(meta.name()));
  row->cells.push_back(codec::Node::String(*std::move(created)));
  return absl::OkStatus();
}

absl::StatusOr<codec::Node> RowObject(const Message& object, const ObjectMeta& meta,
                                      const TableOptions& options) {
  switch (options.include_object) {
    case IncludeObject::kNone:
      return codec::Node::Null();
    case IncludeObject::kMetadata: {
      absl::StatusOr<codec::Node> m = codec::MessageToNode(meta);
      if (!m.ok()) return m.status();
      codec::Node partial = codec::Node::Object();
      partial.Add("kind", codec::Node::String("PartialObjectMetadata"));
      partial.Add("apiVersion", codec::Node::String(std::string(TableApiVersion(options.version))));
      partial.Add("metadata", *std::move(m));
      return partial;
    }
    case IncludeObject::kObject:
      return codec::ToNode(object);
  }
  return absl::InternalError("unknown IncludeObject");
}

codec::Node ColumnNode(const Column& c) {
  codec::Node n = codec::Node::Object();
  n.Add("name", codec::Node::String(c.name));
  n.Add("type", codec::Node::String(c.type));
  n.Add("format", codec::Node::String(c.format));
  n.Add("description", codec::Node::String(c.description));
  n.Add("priority", codec::Node::Number(std::to_string(c.priority)));
  return n;
}

absl::StatusOr<codec::Node> BuildTable(const Descriptor* item_type,
                                       const std::vector<const Message*>& objects,
                                       const TableOptions& options,
                                       const ListMetaFields& list_meta) {
  if (item_type == nullptr) {
    if (objects.empty() || objects.front() == nullptr) {
      return absl::InvalidArgumentError("ToTable: no item type for an empty list");
    }
    item_type = objects.front()->GetDescriptor();
  }
  const internal::KindPrinter* printer = internal::FindPrinter(item_type);
  const absl::Time now = options.now == absl::InfinitePast() ? absl::Now() : options.now;

  codec::Node rows =
      printer == nullptr && objects.empty() ? codec::Node::Null() : codec::Node::Array();
  for (size_t i = 0; i < objects.size(); ++i) {
    const Message* object = objects[i];
    if (object == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("ToTable: object ", i, " is null"));
    }
    if (object->GetDescriptor() != item_type) {
      return absl::InvalidArgumentError(absl::StrCat("ToTable: object ", i, " is a ",
                                                     object->GetDescriptor()->full_name(),
                                                     ", not a ", item_type->full_name()));
    }
    const Message* meta_message = MetadataOf(*object);
    if (meta_message == nullptr) return NotPrintable(item_type);
    ObjectMeta scratch;
    const ObjectMeta& meta = AsObjectMeta(*meta_message, &scratch);

    internal::Row row;
    absl::Status s =
        printer != nullptr ? printer->print(*object, now, &row) : GenericRow(meta, &row);
    if (!s.ok()) return s;
    absl::StatusOr<codec::Node> row_object = RowObject(*object, meta, options);
    if (!row_object.ok()) return row_object.status();

    codec::Node r = codec::Node::Object();
    codec::Node& cells = r.Add("cells", codec::Node::Array());
    for (codec::Node& cell : row.cells) cells.Push(std::move(cell));
    if (!row.conditions.empty()) {
      codec::Node& conditions = r.Add("conditions", codec::Node::Array());
      for (const internal::RowCondition& c : row.conditions) {
        codec::Node& n = conditions.Push(codec::Node::Object());
        n.Add("type", codec::Node::String(c.type));
        n.Add("status", codec::Node::String(c.status));
        if (!c.reason.empty()) n.Add("reason", codec::Node::String(c.reason));
        if (!c.message.empty()) n.Add("message", codec::Node::String(c.message));
      }
    }
    r.Add("object", *std::move(row_object));
    rows.Push(std::move(r));
  }

  codec::Node table = codec::Node::Object();
  table.Add("kind", codec::Node::String("Table"));
  table.Add("apiVersion", codec::Node::String(std::string(TableApiVersion(options.version))));
  codec::Node& metadata = table.Add("metadata", codec::Node::Object());
  if (!list_meta.resource_version.empty()) {
    metadata.Add("resourceVersion", codec::Node::String(list_meta.resource_version));
  }
  if (!list_meta.continue_token.empty()) {
    metadata.Add("continue", codec::Node::String(list_meta.continue_token));
  }
  if (list_meta.remaining_item_count.has_value()) {
    metadata.Add("remainingItemCount",
                 codec::Node::Number(std::to_string(*list_meta.remaining_item_count)));
  }
  // Upstream's printers write [] without headers; the generic convertor leaves the
  // slice nil (null).
  codec::Node columns = codec::Node::Array();
  if (options.no_headers) {
    if (printer == nullptr) columns = codec::Node::Null();
  } else {
    for (const Column& c : ColumnsFor(item_type)) columns.Push(ColumnNode(c));
  }
  table.Add("columnDefinitions", std::move(columns));
  table.Add("rows", std::move(rows));
  return table;
}

}  // namespace

std::vector<Column> ColumnsFor(const Descriptor* item_type) {
  const internal::KindPrinter* printer = internal::FindPrinter(item_type);
  return printer == nullptr ? GenericColumns() : printer->columns;
}

bool HasPrinter(const Descriptor* item_type) { return internal::FindPrinter(item_type) != nullptr; }

absl::StatusOr<codec::Node> ToTable(const Descriptor* item_type,
                                    const std::vector<const Message*>& objects,
                                    const TableOptions& options, const ListMetaFields& list_meta) {
  return BuildTable(item_type, objects, options, list_meta);
}

absl::StatusOr<codec::Node> ToTable(const Message& object, const TableOptions& options) {
  ListMetaFields list_meta;
  if (const Message* m = MetadataOf(object); m != nullptr) {
    ObjectMeta scratch;
    list_meta.resource_version = AsObjectMeta(*m, &scratch).resourceversion();
  }
  return BuildTable(object.GetDescriptor(), {&object}, options, list_meta);
}

absl::StatusOr<IncludeObject> ParseIncludeObject(absl::string_view value) {
  if (value.empty() || value == "Metadata") return IncludeObject::kMetadata;
  if (value == "None") return IncludeObject::kNone;
  if (value == "Object") return IncludeObject::kObject;
  return storage::BadRequestError(
      absl::StrCat("Unable to convert to Table as requested: ",
                   storage::FieldError::Invalid("includeObject", value,
                                                "must be 'Metadata', 'Object', 'None', or empty")
                       .ToString()));
}

absl::string_view TableApiVersion(TableVersion version) {
  return version == TableVersion::kV1beta1 ? "meta.k8s.io/v1beta1" : "meta.k8s.io/v1";
}

}  // namespace kslice::envtest::printers
