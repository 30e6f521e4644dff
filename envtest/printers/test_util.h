// Helpers for the printers tests: objects from JSON, a fixed clock, cell text.
#ifndef KSLICE_ENVTEST_PRINTERS_TEST_UTIL_H_
#define KSLICE_ENVTEST_PRINTERS_TEST_UTIL_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/codec/codec.h"
#include "api/codec/node.h"
#include "envtest/printers/table.h"
#include "gtest/gtest.h"

namespace kslice::envtest::printers::test_util {

// The reference time of every test: 2026-06-01T00:00:00Z.
inline absl::Time Now() { return absl::FromUnixSeconds(1780272000); }

// RFC 3339 of Now() - ago, for object JSON.
inline std::string Ago(absl::Duration ago) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", Now() - ago, absl::UTCTimeZone());
}
inline std::string AgoMicro(absl::Duration ago) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", Now() - ago, absl::UTCTimeZone());
}

template <typename T>
T FromJson(const std::string& json) {
  absl::StatusOr<T> obj = codec::DecodeAs<T>(json, codec::Format::kJson);
  EXPECT_TRUE(obj.ok()) << obj.status() << "\n" << json;
  return obj.ok() ? *obj : T();
}

// A cell as text: strings as they are, numbers as "int:N", booleans as "bool:true".
inline std::string CellText(const codec::Node& cell) {
  switch (cell.kind) {
    case codec::Node::Kind::kString:
      return cell.text;
    case codec::Node::Kind::kNumber:
      return absl::StrCat("int:", cell.text);
    case codec::Node::Kind::kBool:
      return cell.boolean ? "bool:true" : "bool:false";
    case codec::Node::Kind::kNull:
      return "null";
    default:
      return "<composite>";
  }
}

// The cells of row `row` of a Table node.
inline std::vector<std::string> RowCells(const codec::Node& table, size_t row = 0) {
  std::vector<std::string> out;
  const codec::Node* rows = table.Find("rows");
  if (rows == nullptr || !rows->is_array() || rows->values.size() <= row) {
    ADD_FAILURE() << "no row " << row;
    return out;
  }
  const codec::Node* cells = rows->values[row].Find("cells");
  if (cells == nullptr) return out;
  for (const codec::Node& c : cells->values) out.push_back(CellText(c));
  return out;
}

// The one-row table of `object` at Now(), with the given include policy.
inline codec::Node TableOf(const google::protobuf::Message& object,
                           IncludeObject include = IncludeObject::kNone) {
  TableOptions options;
  options.now = Now();
  options.include_object = include;
  absl::StatusOr<codec::Node> table = ToTable(object, options);
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *table : codec::Node();
}

inline std::vector<std::string> CellsOf(const google::protobuf::Message& object) {
  return RowCells(TableOf(object));
}

}  // namespace kslice::envtest::printers::test_util

#endif  // KSLICE_ENVTEST_PRINTERS_TEST_UTIL_H_
