#include "api/codec/canonical.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "api/codec/schema_info.h"
#include "api/resource/quantity.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace kslice::codec {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using internal::FieldInfo;
using internal::InfoFor;
using internal::MessageInfo;

void SetZero(Message* msg, const Reflection* r, const FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      r->SetInt32(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      r->SetInt64(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      r->SetUInt32(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      r->SetUInt64(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      r->SetDouble(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      r->SetFloat(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      r->SetBool(msg, f, false);
      break;
    case FieldDescriptor::CPPTYPE_STRING:
      r->SetString(msg, f, std::string());
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      r->SetEnumValue(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
}

absl::Status Canon(Message* msg, const std::string& path, int depth);

absl::Status CanonTime(Message* msg, bool micro) {
  const auto* d = msg->GetDescriptor();
  const Reflection* r = msg->GetReflection();
  const FieldDescriptor* seconds = d->FindFieldByName("seconds");
  const FieldDescriptor* nanos = d->FindFieldByName("nanos");
  const bool present = r->HasField(*msg, seconds) || r->HasField(*msg, nanos);
  const int64_t s = r->GetInt64(*msg, seconds);
  int32_t n = r->GetInt32(*msg, nanos);
  msg->Clear();
  // Go's zero time is written as an empty message; any other time as seconds and
  // nanos, where Time drops the nanoseconds and MicroTime keeps whole microseconds.
  if (!present || (s == internal::kZeroTimeSeconds && (n == 0 || !micro))) return absl::OkStatus();
  n = micro ? (n / 1000) * 1000 : 0;
  if (n < 0 || n > 999999999) n = 0;
  r->SetInt64(msg, seconds, s);
  r->SetInt32(msg, nanos, n);
  return absl::OkStatus();
}

absl::Status CanonQuantity(Message* msg, const std::string& path) {
  const FieldDescriptor* f = msg->GetDescriptor()->FindFieldByName("string");
  const Reflection* r = msg->GetReflection();
  const std::string& s = r->GetString(*msg, f);
  if (s.empty()) {
    r->SetString(msg, f, "0");
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> canonical = kslice::resource::CanonicalString(s);
  if (!canonical.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path.empty() ? "quantity" : path, ": ",
                                                   canonical.status().message()));
  }
  if (*canonical != s) r->SetString(msg, f, *std::move(canonical));
  return absl::OkStatus();
}

absl::Status Canon(Message* msg, const std::string& path, int depth) {
  if (depth > 100) return absl::InvalidArgumentError(absl::StrCat(path, ": nested too deeply"));
  const MessageInfo& info = InfoFor(msg->GetDescriptor());
  switch (info.format) {
    case kslice::api::JSON_FORMAT_TIME:
      return CanonTime(msg, false);
    case kslice::api::JSON_FORMAT_MICRO_TIME:
      return CanonTime(msg, true);
    case kslice::api::JSON_FORMAT_QUANTITY:
      return CanonQuantity(msg, path);
    default:
      break;
  }
  const Reflection* r = msg->GetReflection();
  for (const FieldInfo& fi : info.fields) {
    const FieldDescriptor* f = fi.field;
    const std::string fpath = path.empty() ? fi.json_name : absl::StrCat(path, ".", fi.json_name);
    if (f->is_repeated()) {
      if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      const bool is_map = f->is_map();
      const FieldDescriptor* value_field = is_map ? f->message_type()->map_value() : nullptr;
      if (is_map && value_field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      for (int i = 0, n = r->FieldSize(*msg, f); i < n; ++i) {
        Message* element = r->MutableRepeatedMessage(msg, f, i);
        if (is_map) {
          element = element->GetReflection()->MutableMessage(element, value_field);
        }
        if (absl::Status s = Canon(element, absl::StrCat(fpath, "[", i, "]"), depth + 1); !s.ok()) {
          return s;
        }
      }
      continue;
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (fi.nullable && !r->HasField(*msg, f)) continue;
      if (absl::Status s = Canon(r->MutableMessage(msg, f), fpath, depth + 1); !s.ok()) return s;
      continue;
    }
    if (!fi.nullable && !r->HasField(*msg, f)) SetZero(msg, r, f);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Canonicalize(google::protobuf::Message* message) {
  return Canon(message, "", 0);
}

}  // namespace kslice::codec
