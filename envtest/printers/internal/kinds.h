// The per-kind printers behind ToTable (envtest/printers/table.h): column
// definitions and row cells for each kind kube-apiserver prints specially.
#ifndef KSLICE_ENVTEST_PRINTERS_INTERNAL_KINDS_H_
#define KSLICE_ENVTEST_PRINTERS_INTERNAL_KINDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "api/codec/node.h"
#include "api/meta/v1/meta.pb.h"
#include "envtest/printers/table.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace kslice::envtest::printers::internal {

// meta.k8s.io TableRowCondition.
struct RowCondition {
  std::string type;
  std::string status;
  std::string reason;
  std::string message;
};

struct Row {
  std::vector<codec::Node> cells;  // strings, integers or booleans, one per column
  std::vector<RowCondition> conditions;
};

struct KindPrinter {
  std::vector<Column> columns;
  // Fills row->cells (and conditions) for `object`, whose type the printer was
  // registered for; `now` is the reference time for ages.
  absl::Status (*print)(const google::protobuf::Message& object, absl::Time now, Row* row);
};

// The printer for `item_type`, or nullptr (generic table).
const KindPrinter* FindPrinter(const google::protobuf::Descriptor* item_type);

// Go's zero time (0001-01-01T00:00:00Z) in Unix seconds; also what an empty
// meta.v1.Time message means.
inline constexpr int64_t kZeroTimeSeconds = -62135596800;

// A meta.v1.Time as Unix seconds/nanos and absl::Time; an empty message is Go's zero
// time.
bool IsZeroTime(const kslice::api::meta::v1::Time& time);
absl::Time TimeOf(const kslice::api::meta::v1::Time& time);

}  // namespace kslice::envtest::printers::internal

#endif  // KSLICE_ENVTEST_PRINTERS_INTERNAL_KINDS_H_
