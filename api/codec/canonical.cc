#include "api/codec/canonical.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "api/codec/schema_info.h"
#include "api/resource/quantity.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/unknown_field_set.h"

namespace kslice::codec {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using internal::FieldInfo;
using internal::InfoFor;
using internal::MessageInfo;
using internal::Path;



absl::Status CanonTime(Message* msg, bool micro) {
  const auto* d = msg->GetDescriptor();
  const Reflection* r = msg->GetReflection();
  const FieldDescriptor* seconds = d->field(0);
  const FieldDescriptor* nanos = d->field(1);
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

absl::Status CanonQuantity(Message* msg, const Path& path) {
  const FieldDescriptor* f = msg->GetDescriptor()->field(0);
  const Reflection* r = msg->GetReflection();
  if (!r->GetUnknownFields(*msg).empty()) r->MutableUnknownFields(msg)->Clear();
  const std::string& s = r->GetString(*msg, f);
  if (s.empty()) {
    r->SetString(msg, f, "0");
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> canonical = kslice::resource::CanonicalString(s);
  if (!canonical.ok()) {
    std::string p = path.ToString();
    return absl::InvalidArgumentError(
        absl::StrCat(p.empty() ? "quantity" : p, ": ", canonical.status().message()));
  }
  if (*canonical != s) r->SetString(msg, f, *std::move(canonical));
  return absl::OkStatus();
}

// Calls fn on each message element of a repeated field, or each message value of a
// map. (Map reflection goes through the map's repeated mirror: protobuf keeps the
// direct map iterator private.)
template <typename Fn>
absl::Status ForEachMessage(Message* msg, const FieldDescriptor* f, Fn fn) {
  if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return absl::OkStatus();
  const FieldDescriptor* value_field = f->is_map() ? f->message_type()->map_value() : nullptr;
  if (value_field != nullptr && value_field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    return absl::OkStatus();
  }
  const Reflection* r = msg->GetReflection();
  for (int i = 0, n = r->FieldSize(*msg, f); i < n; ++i) {
    Message* element = r->MutableRepeatedMessage(msg, f, i);
    if (value_field != nullptr) {
      element = element->GetReflection()->MutableMessage(element, value_field);
    }
    if (absl::Status s = fn(element, i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Minimal canonical form. Sets *empty when the message holds nothing (Go's zero
// value for a struct).
absl::Status Canon(Message* msg, const Path& path, int depth, bool* empty) {
  *empty = false;
  if (depth > 100) {
    return absl::InvalidArgumentError(absl::StrCat(path.ToString(), ": nested too deeply"));
  }
  const MessageInfo& info = InfoFor(msg->GetDescriptor());
  switch (info.format) {
    case kslice::api::JSON_FORMAT_TIME:
    case kslice::api::JSON_FORMAT_MICRO_TIME: {
      absl::Status s = CanonTime(msg, info.format == kslice::api::JSON_FORMAT_MICRO_TIME);
      *empty = !msg->GetReflection()->HasField(*msg, msg->GetDescriptor()->field(0));
      return s;
    }
    case kslice::api::JSON_FORMAT_QUANTITY:
      return CanonQuantity(msg, path);
    default:
      break;
  }
  const Reflection* r = msg->GetReflection();
  // Go's decoder drops fields it does not know; so do we.
  if (!r->GetUnknownFields(*msg).empty()) r->MutableUnknownFields(msg)->Clear();
  bool any = false;
  for (const FieldInfo& fi : info.fields) {
    const FieldDescriptor* f = fi.field;
    if (f->is_repeated()) {
      const int n = r->FieldSize(*msg, f);
      any = any || n > 0;
      if (n == 0) continue;
      const Path fpath = path.Field(fi.json_name);
      absl::Status s = ForEachMessage(msg, f, [&](Message* element, int i) {
        bool element_empty;
        return Canon(element, fpath.Index(i), depth + 1, &element_empty);
      });
      if (!s.ok()) return s;
      continue;
    }
    if (!r->HasField(*msg, f)) continue;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      bool child_empty;
      if (absl::Status s =
              Canon(r->MutableMessage(msg, f), path.Field(fi.json_name), depth + 1, &child_empty);
          !s.ok()) {
        return s;
      }
      // A value struct at its zero value is the same as an absent one.
      if (child_empty && !fi.nullable) {
        r->ClearField(msg, f);
        continue;
      }
      any = true;
      continue;
    }
    if (!fi.nullable && internal::IsZeroScalar(*msg, r, f)) {
      r->ClearField(msg, f);
      continue;
    }
    any = true;
  }
  *empty = !any;
  return absl::OkStatus();
}

// Sets presence on every value field, recursively: the fields Go's encoder writes.
void FillWire(Message* msg, int depth) {
  if (depth > 100) return;
  const MessageInfo& info = InfoFor(msg->GetDescriptor());
  switch (info.format) {
    case kslice::api::JSON_FORMAT_TIME:
    case kslice::api::JSON_FORMAT_MICRO_TIME:
      return;  // the zero time is written as an empty message
    case kslice::api::JSON_FORMAT_QUANTITY: {
      const FieldDescriptor* f = msg->GetDescriptor()->field(0);
      if (msg->GetReflection()->GetString(*msg, f).empty()) {
        msg->GetReflection()->SetString(msg, f, "0");
      }
      return;
    }
    default:
      break;
  }
  const Reflection* r = msg->GetReflection();
  for (const FieldInfo& fi : info.fields) {
    const FieldDescriptor* f = fi.field;
    if (f->is_repeated()) {
      (void)ForEachMessage(msg, f, [&](Message* element, int) {
        FillWire(element, depth + 1);
        return absl::OkStatus();
      });
      continue;
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (fi.nullable && !r->HasField(*msg, f)) continue;
      FillWire(r->MutableMessage(msg, f), depth + 1);
      continue;
    }
    if (!fi.nullable && !r->HasField(*msg, f)) internal::StoreScalar(msg, r, f, internal::ScalarValue{});
  }
}

}  // namespace

absl::Status Canonicalize(google::protobuf::Message* message) {
  bool empty;
  return Canon(message, Path{}, 0, &empty);
}

void FillWireDefaults(google::protobuf::Message* message) { FillWire(message, 0); }

}  // namespace kslice::codec
