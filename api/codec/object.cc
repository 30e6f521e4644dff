#include "api/codec/object.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/codec/go_time.h"
#include "api/codec/schema_info.h"
#include "api/resource/quantity.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace kslice::codec {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using internal::FieldInfo;
using internal::InfoFor;
using internal::MessageInfo;
using internal::Path;
using kslice::api::JsonFormat;

// Maximum message nesting (the schema bounds it; this guards recursive types).
constexpr int kMaxDepth = 100;

absl::Status FieldError(const Path& path, absl::string_view what) {
  std::string p = path.ToString();
  return absl::InvalidArgumentError(absl::StrCat(p.empty() ? "object" : p, ": ", what));
}

const char* KindName(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kNull:
      return "null";
    case Node::Kind::kBool:
      return "boolean";
    case Node::Kind::kNumber:
      return "number";
    case Node::Kind::kString:
      return "string";
    case Node::Kind::kArray:
      return "array";
    case Node::Kind::kObject:
      return "object";
  }
  return "value";
}

std::string FormatDouble(double d) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  std::string s(buf, ptr);
  return s;
}

// ---------------------------------------------------------------------------
// Decoding: Node -> Message.

class Decoder {
 public:
  explicit Decoder(const ObjectDecodeOptions& options) : options_(options) {}

  absl::Status Message(const Node& node, google::protobuf::Message* msg, const Path& path,
                       int depth, bool root) {
    if (depth > kMaxDepth) return FieldError(path, "objects nested too deeply");
    const MessageInfo& info = InfoFor(msg->GetDescriptor());
    if (info.format != kslice::api::JSON_FORMAT_OBJECT) {
      return Special(info, node, msg, path);
    }
    if (!node.is_object()) {
      return FieldError(path, absl::StrCat("expected an object, got ", KindName(node)));
    }
    for (size_t i = 0; i < node.keys.size(); ++i) {
      const std::string& key = node.keys[i];
      auto it = info.by_json_name.find(key);
      if (it == info.by_json_name.end()) {
        if (root && options_.root_has_type_meta && (key == "apiVersion" || key == "kind")) {
          continue;
        }
        if (options_.unknown_fields != nullptr) options_.unknown_fields->push_back(path.Field(key).ToString());
        continue;
      }
      // Walk down through inline (embedded) fields to the owner of the key.
      google::protobuf::Message* target = msg;
      const std::vector<const FieldInfo*>& chain = it->second;
      for (size_t k = 0; k + 1 < chain.size(); ++k) {
        target = target->GetReflection()->MutableMessage(target, chain[k]->field);
      }
      if (absl::Status s = Field(*chain.back(), node.values[i], target, path.Field(key), depth);
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Field(const FieldInfo& fi, const Node& value, google::protobuf::Message* msg,
                     const Path& path, int depth) {
    const FieldDescriptor* f = fi.field;
    const Reflection* r = msg->GetReflection();
    if (f->is_map()) {
      r->ClearField(msg, f);
      if (value.is_null()) return absl::OkStatus();
      if (!value.is_object()) {
        return FieldError(path, absl::StrCat("expected an object, got ", KindName(value)));
      }
      const FieldDescriptor* key_field = f->message_type()->map_key();
      const FieldDescriptor* value_field = f->message_type()->map_value();
      // The last duplicate key wins.
      std::map<absl::string_view, size_t> last;
      for (size_t i = 0; i < value.keys.size(); ++i) last[value.keys[i]] = i;
      for (const auto& [key, index] : last) {
        google::protobuf::Message* entry = r->AddMessage(msg, f);
        const Reflection* er = entry->GetReflection();
        const Path entry_path = path.Key(key);
        if (absl::Status s = MapKey(key_field, key, entry, entry_path); !s.ok()) return s;
        if (absl::Status s = Singular(value_field, /*nullable=*/false, value.values[index], entry,
                                      er, entry_path, depth);
            !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    }
    if (f->is_repeated()) {
      r->ClearField(msg, f);
      if (value.is_null()) return absl::OkStatus();
      if (!value.is_array()) {
        return FieldError(path, absl::StrCat("expected an array, got ", KindName(value)));
      }
      for (size_t i = 0; i < value.values.size(); ++i) {
        if (absl::Status s = Element(f, value.values[i], msg, r, path.Index(static_cast<int64_t>(i)),
                                     depth);
            !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    }
    return Singular(f, fi.nullable, value, msg, r, path, depth);
  }

  absl::Status MapKey(const FieldDescriptor* f, absl::string_view key,
                      google::protobuf::Message* entry, const Path& path) {
    const Reflection* r = entry->GetReflection();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        r->SetString(entry, f, std::string(key));
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64:
      case FieldDescriptor::CPPTYPE_BOOL:
        return Scalar(f, Node::Number(std::string(key)), entry, r, path);
      default:
        return FieldError(path, "unsupported map key type");
    }
  }

  // A present JSON value for a singular field; null clears pointers.
  absl::Status Singular(const FieldDescriptor* f, bool nullable, const Node& value,
                        google::protobuf::Message* msg, const Reflection* r,
                        const Path& path, int depth) {
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      const MessageInfo& info = InfoFor(f->message_type());
      if (value.is_null()) {
        // Go: null leaves a value struct alone (special types read null as zero) and
        // sets a pointer to nil.
        if (nullable) {
          r->ClearField(msg, f);
        } else if (info.format != kslice::api::JSON_FORMAT_OBJECT) {
          r->ClearField(msg, f);
        }
        return absl::OkStatus();
      }
      return Message(value, r->MutableMessage(msg, f), path, depth + 1, false);
    }
    if (value.is_null()) {
      if (nullable) r->ClearField(msg, f);
      return absl::OkStatus();
    }
    return Scalar(f, value, msg, r, path);
  }

  absl::Status Element(const FieldDescriptor* f, const Node& value, google::protobuf::Message* msg,
                       const Reflection* r, const Path& path, int depth) {
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      google::protobuf::Message* element = r->AddMessage(msg, f);
      if (value.is_null()) return absl::OkStatus();  // Go: a zero element
      return Message(value, element, path, depth + 1, false);
    }
    // A null element of a scalar array is the zero value in Go.
    if (value.is_null()) {
      internal::StoreScalar(msg, r, f, internal::ScalarValue{});
      return absl::OkStatus();
    }
    return Scalar(f, value, msg, r, path);
  }

  // Reads a number node into int64/uint64/double with range checks for the field type.
  template <typename T>
  absl::Status ParseInteger(const Node& value, const Path& path, T& out) {
    if (!value.is_number()) {
      return FieldError(path, absl::StrCat("expected a number, got ", KindName(value)));
    }
    if (!absl::SimpleAtoi(value.text, &out)) {
      return FieldError(path, absl::StrCat("number ", value.text,
                                           " is not an integer in range for this field"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> StringValue(const FieldDescriptor* f, const Node& value,
                                          const Path& path) {
    if (value.is_string()) {
      if (f->type() != FieldDescriptor::TYPE_BYTES) return value.text;
      std::string decoded;
      if (!absl::Base64Unescape(value.text, &decoded)) {
        return FieldError(path, "invalid base64 data");
      }
      return decoded;
    }
    // YAML plain scalars are text to string fields (sigs.k8s.io/yaml converts them).
    if (value.plain && f->type() != FieldDescriptor::TYPE_BYTES) return value.text;
    return FieldError(path, absl::StrCat("expected a string, got ", KindName(value)));
  }

  // Reads a JSON value for a scalar field, type- and range-checked.
  absl::StatusOr<internal::ScalarValue> ReadScalar(const FieldDescriptor* f, const Node& value,
                                                   const Path& path) {
    internal::ScalarValue v;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: {
        int32_t x = 0;
        if (absl::Status s = ParseInteger(value, path, x); !s.ok()) return s;
        v.i = x;
        return v;
      }
      case FieldDescriptor::CPPTYPE_INT64:
        if (absl::Status s = ParseInteger(value, path, v.i); !s.ok()) return s;
        return v;
      case FieldDescriptor::CPPTYPE_UINT32: {
        uint32_t x = 0;
        if (absl::Status s = ParseInteger(value, path, x); !s.ok()) return s;
        v.u = x;
        return v;
      }
      case FieldDescriptor::CPPTYPE_UINT64:
        if (absl::Status s = ParseInteger(value, path, v.u); !s.ok()) return s;
        return v;
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        if (!value.is_number() || !absl::SimpleAtod(value.text, &v.d) || !std::isfinite(v.d)) {
          return FieldError(path, absl::StrCat("expected a finite number, got ", KindName(value)));
        }
        return v;
      case FieldDescriptor::CPPTYPE_BOOL:
        if (!value.is_bool()) {
          return FieldError(path, absl::StrCat("expected a boolean, got ", KindName(value)));
        }
        v.b = value.boolean;
        return v;
      case FieldDescriptor::CPPTYPE_STRING: {
        absl::StatusOr<std::string> s = StringValue(f, value, path);
        if (!s.ok()) return s.status();
        v.s = *std::move(s);
        return v;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        if (!value.is_string()) return FieldError(path, "expected an enum name");
        const auto* ev = f->enum_type()->FindValueByName(value.text);
        if (ev == nullptr) return FieldError(path, absl::StrCat("unknown value ", value.text));
        v.enum_value = ev->number();
        return v;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
    return FieldError(path, "unsupported field type");
  }

  // Sets (or, for repeated fields, appends) a scalar read from JSON.
  absl::Status Scalar(const FieldDescriptor* f, const Node& value, google::protobuf::Message* msg,
                      const Reflection* r, const Path& path) {
    absl::StatusOr<internal::ScalarValue> v = ReadScalar(f, value, path);
    if (!v.ok()) return v.status();
    internal::StoreScalar(msg, r, f, *std::move(v));
    return absl::OkStatus();
  }

  // Messages with their own JSON form.
  absl::Status Special(const MessageInfo& info, const Node& node, google::protobuf::Message* msg,
                       const Path& path) {
    const Descriptor* d = msg->GetDescriptor();
    const Reflection* r = msg->GetReflection();
    auto field = [&](const char* name) -> const FieldDescriptor* {
      return d->FindFieldByName(name);
    };
    switch (info.format) {
      case kslice::api::JSON_FORMAT_TIME:
      case kslice::api::JSON_FORMAT_MICRO_TIME: {
        const FieldDescriptor* seconds = field("seconds");
        const FieldDescriptor* nanos = field("nanos");
        if (seconds == nullptr || nanos == nullptr) return FieldError(path, "bad time schema");
        msg->Clear();
        if (node.is_null()) return absl::OkStatus();
        if (!node.is_string()) {
          return FieldError(path, absl::StrCat("expected an RFC 3339 time string, got ",
                                               KindName(node)));
        }
        absl::StatusOr<UnixTime> t = ParseRfc3339(node.text);
        if (!t.ok()) return FieldError(path, t.status().message());
        r->SetInt64(msg, seconds, t->seconds);
        r->SetInt32(msg, nanos, t->nanos);
        return absl::OkStatus();
      }
      case kslice::api::JSON_FORMAT_DURATION: {
        const FieldDescriptor* duration = field("duration");
        if (duration == nullptr) return FieldError(path, "bad duration schema");
        if (node.is_null()) return absl::OkStatus();
        if (!node.is_string()) {
          return FieldError(path, absl::StrCat("expected a duration string, got ", KindName(node)));
        }
        absl::StatusOr<int64_t> v = ParseGoDuration(node.text);
        if (!v.ok()) return FieldError(path, v.status().message());
        r->SetInt64(msg, duration, *v);
        return absl::OkStatus();
      }
      case kslice::api::JSON_FORMAT_INT_OR_STRING: {
        const FieldDescriptor* type = field("type");
        const FieldDescriptor* int_val = field("intVal");
        const FieldDescriptor* str_val = field("strVal");
        if (type == nullptr || int_val == nullptr || str_val == nullptr) {
          return FieldError(path, "bad IntOrString schema");
        }
        msg->Clear();
        if (node.is_null()) return absl::OkStatus();
        if (node.is_number()) {
          int32_t v;
          if (!absl::SimpleAtoi(node.text, &v)) {
            return FieldError(path, absl::StrCat("number ", node.text, " is not a 32-bit integer"));
          }
          r->SetInt64(msg, type, 0);
          r->SetInt32(msg, int_val, v);
          return absl::OkStatus();
        }
        if (node.is_string() || (node.plain && !node.is_null())) {
          r->SetInt64(msg, type, 1);
          r->SetString(msg, str_val, node.text);
          return absl::OkStatus();
        }
        return FieldError(path, absl::StrCat("expected a number or string, got ", KindName(node)));
      }
      case kslice::api::JSON_FORMAT_QUANTITY: {
        const FieldDescriptor* str = field("string");
        if (str == nullptr) return FieldError(path, "bad Quantity schema");
        if (node.is_null()) {
          msg->Clear();
          return absl::OkStatus();
        }
        if (!node.is_string() && !node.is_number()) {
          return FieldError(path, absl::StrCat("expected a quantity, got ", KindName(node)));
        }
        // Upstream trims white space around a JSON quantity before parsing it.
        absl::StatusOr<std::string> canonical =
            kslice::resource::CanonicalString(std::string(absl::StripAsciiWhitespace(node.text)));
        if (!canonical.ok()) return FieldError(path, canonical.status().message());
        r->SetString(msg, str, *std::move(canonical));
        return absl::OkStatus();
      }
      case kslice::api::JSON_FORMAT_RAW: {
        if (d->field_count() < 1 || d->field(0)->type() != FieldDescriptor::TYPE_BYTES) {
          return FieldError(path, "bad raw schema");
        }
        msg->Clear();
        if (node.is_null()) return absl::OkStatus();
        absl::StatusOr<std::string> json = WriteJson(node);
        if (!json.ok()) return FieldError(path, json.status().message());
        r->SetString(msg, d->field(0), *std::move(json));
        return absl::OkStatus();
      }
      case kslice::api::JSON_FORMAT_ITEMS: {
        const FieldDescriptor* items = field("items");
        if (items == nullptr || !items->is_repeated()) return FieldError(path, "bad items schema");
        FieldInfo fi{items, "items", false, false, false, false};
        return Field(fi, node, msg, path, 0);
      }
      case kslice::api::JSON_FORMAT_OBJECT:
        break;
    }
    return FieldError(path, "unsupported JSON format");
  }

  const ObjectDecodeOptions& options_;
};

// ---------------------------------------------------------------------------
// Encoding: Message -> Node.

class Encoder {
 public:
  absl::StatusOr<Node> Message(const google::protobuf::Message& msg, const Path& path,
                               int depth) {
    if (depth > kMaxDepth) return FieldError(path, "objects nested too deeply");
    const MessageInfo& info = InfoFor(msg.GetDescriptor());
    if (info.format != kslice::api::JSON_FORMAT_OBJECT) return Special(info, msg, path);
    Node out = Node::Object();
    if (absl::Status s = Fields(info, msg, path, depth, out); !s.ok()) return s;
    return out;
  }

 private:
  absl::Status Fields(const MessageInfo& info, const google::protobuf::Message& msg,
                      const Path& path, int depth, Node& out) {
    const Reflection* r = msg.GetReflection();
    for (const FieldInfo& fi : info.fields) {
      const FieldDescriptor* f = fi.field;
      const Path fpath = path.Field(fi.json_name);
      if (fi.inline_) {
        const google::protobuf::Message& child = r->GetMessage(msg, f);
        if (absl::Status s = Fields(InfoFor(f->message_type()), child, fpath, depth + 1, out);
            !s.ok()) {
          return s;
        }
        continue;
      }
      if (f->is_map()) {
        if (r->FieldSize(msg, f) == 0) {
          if (fi.emit_empty) out.Add(fi.json_name, Node::Null());
          continue;
        }
        absl::StatusOr<Node> v = Map(f, msg, fpath, depth);
        if (!v.ok()) return v.status();
        out.Add(fi.json_name, *std::move(v));
        continue;
      }
      if (f->is_repeated()) {
        const int n = r->FieldSize(msg, f);
        if (n == 0) {
          if (fi.emit_empty) out.Add(fi.json_name, Node::Null());
          continue;
        }
        Node array = Node::Array();
        for (int i = 0; i < n; ++i) {
          absl::StatusOr<Node> v = Repeated(f, msg, i, fpath.Index(i), depth);
          if (!v.ok()) return v.status();
          array.Push(*std::move(v));
        }
        out.Add(fi.json_name, std::move(array));
        continue;
      }
      const bool present = r->HasField(msg, f);
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        // Go never omits a value struct for omitempty; a nil pointer is omitted.
        if (fi.nullable && !present) {
          if (fi.emit_empty) out.Add(fi.json_name, Node::Null());
          continue;
        }
        absl::StatusOr<Node> v = Message(r->GetMessage(msg, f), fpath, depth + 1);
        if (!v.ok()) return v.status();
        if (fi.omit_zero && !fi.nullable && IsZeroMessage(r->GetMessage(msg, f))) continue;
        out.Add(fi.json_name, *std::move(v));
        continue;
      }
      if (fi.nullable) {
        if (!present) {
          if (fi.emit_empty) out.Add(fi.json_name, Node::Null());
          continue;
        }
        if (f->type() == FieldDescriptor::TYPE_BYTES && !fi.emit_empty &&
            r->GetString(msg, f).empty()) {
          continue;  // omitempty drops an empty []byte
        }
      } else if (!fi.emit_empty && internal::IsZeroScalar(msg, r, f)) {
        continue;
      }
      absl::StatusOr<Node> v = Scalar(f, msg, r, fpath);
      if (!v.ok()) return v.status();
      out.Add(fi.json_name, *std::move(v));
    }
    return absl::OkStatus();
  }

  // Go's omitzero: the struct equals its zero value (for Time: the zero time).
  static bool IsZeroMessage(const google::protobuf::Message& msg) {
    const MessageInfo& info = InfoFor(msg.GetDescriptor());
    if (info.format == kslice::api::JSON_FORMAT_TIME ||
        info.format == kslice::api::JSON_FORMAT_MICRO_TIME) {
      return IsZeroTime(msg);
    }
    std::vector<const FieldDescriptor*> set;
    msg.GetReflection()->ListFields(msg, &set);
    for (const FieldDescriptor* f : set) {
      if (f->is_repeated()) return false;
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        if (!IsZeroMessage(msg.GetReflection()->GetMessage(msg, f))) return false;
      } else if (!internal::IsZeroScalar(msg, msg.GetReflection(), f)) {
        return false;
      }
    }
    return true;
  }

  static bool IsZeroTime(const google::protobuf::Message& msg) {
    const Descriptor* d = msg.GetDescriptor();
    const Reflection* r = msg.GetReflection();
    const FieldDescriptor* seconds = d->FindFieldByName("seconds");
    const FieldDescriptor* nanos = d->FindFieldByName("nanos");
    if (!r->HasField(msg, seconds) && !r->HasField(msg, nanos)) return true;
    return r->GetInt64(msg, seconds) == internal::kZeroTimeSeconds && r->GetInt32(msg, nanos) == 0;
  }

  absl::StatusOr<Node> Map(const FieldDescriptor* f, const google::protobuf::Message& msg,
                           const Path& path, int depth) {
    const Reflection* r = msg.GetReflection();
    const FieldDescriptor* key_field = f->message_type()->map_key();
    const FieldDescriptor* value_field = f->message_type()->map_value();
    // Go writes map keys sorted.
    std::map<std::string, const google::protobuf::Message*> sorted;
    for (int i = 0; i < r->FieldSize(msg, f); ++i) {
      const google::protobuf::Message& entry = r->GetRepeatedMessage(msg, f, i);
      absl::StatusOr<Node> key = Scalar(key_field, entry, entry.GetReflection(), path);
      if (!key.ok()) return key.status();
      sorted[key->text] = &entry;
    }
    Node out = Node::Object();
    for (const auto& [key, entry] : sorted) {
      const Path vpath = path.Key(key);
      absl::StatusOr<Node> v =
          value_field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE
              ? Message(entry->GetReflection()->GetMessage(*entry, value_field), vpath, depth + 1)
              : Scalar(value_field, *entry, entry->GetReflection(), vpath);
      if (!v.ok()) return v.status();
      out.Add(key, *std::move(v));
    }
    return out;
  }

  absl::StatusOr<Node> Repeated(const FieldDescriptor* f, const google::protobuf::Message& msg,
                                int i, const Path& path, int depth) {
    const Reflection* r = msg.GetReflection();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return Message(r->GetRepeatedMessage(msg, f, i), path, depth + 1);
      case FieldDescriptor::CPPTYPE_INT32:
        return Node::Number(absl::StrCat(r->GetRepeatedInt32(msg, f, i)));
      case FieldDescriptor::CPPTYPE_INT64:
        return Node::Number(absl::StrCat(r->GetRepeatedInt64(msg, f, i)));
      case FieldDescriptor::CPPTYPE_UINT32:
        return Node::Number(absl::StrCat(r->GetRepeatedUInt32(msg, f, i)));
      case FieldDescriptor::CPPTYPE_UINT64:
        return Node::Number(absl::StrCat(r->GetRepeatedUInt64(msg, f, i)));
      case FieldDescriptor::CPPTYPE_DOUBLE:
        return Double(r->GetRepeatedDouble(msg, f, i), path);
      case FieldDescriptor::CPPTYPE_FLOAT:
        return Double(r->GetRepeatedFloat(msg, f, i), path);
      case FieldDescriptor::CPPTYPE_BOOL:
        return Node::Bool(r->GetRepeatedBool(msg, f, i));
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string s = r->GetRepeatedString(msg, f, i);
        return f->type() == FieldDescriptor::TYPE_BYTES ? Node::String(absl::Base64Escape(s))
                                                        : Node::String(std::move(s));
      }
      case FieldDescriptor::CPPTYPE_ENUM:
        return Node::String(r->GetRepeatedEnum(msg, f, i)->name());
    }
    return FieldError(path, "unsupported field type");
  }

  static absl::StatusOr<Node> Double(double d, const Path& path) {
    if (!std::isfinite(d)) return FieldError(path, "NaN and infinite numbers have no JSON form");
    return Node::Number(FormatDouble(d));
  }

  absl::StatusOr<Node> Scalar(const FieldDescriptor* f, const google::protobuf::Message& msg,
                              const Reflection* r, const Path& path) {
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        return Node::Number(absl::StrCat(r->GetInt32(msg, f)));
      case FieldDescriptor::CPPTYPE_INT64:
        return Node::Number(absl::StrCat(r->GetInt64(msg, f)));
      case FieldDescriptor::CPPTYPE_UINT32:
        return Node::Number(absl::StrCat(r->GetUInt32(msg, f)));
      case FieldDescriptor::CPPTYPE_UINT64:
        return Node::Number(absl::StrCat(r->GetUInt64(msg, f)));
      case FieldDescriptor::CPPTYPE_DOUBLE:
        return Double(r->GetDouble(msg, f), path);
      case FieldDescriptor::CPPTYPE_FLOAT:
        return Double(r->GetFloat(msg, f), path);
      case FieldDescriptor::CPPTYPE_BOOL:
        return Node::Bool(r->GetBool(msg, f));
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string s = r->GetString(msg, f);
        return f->type() == FieldDescriptor::TYPE_BYTES ? Node::String(absl::Base64Escape(s))
                                                        : Node::String(std::move(s));
      }
      case FieldDescriptor::CPPTYPE_ENUM:
        return Node::String(r->GetEnum(msg, f)->name());
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
    return FieldError(path, "unsupported field type");
  }

  absl::StatusOr<Node> Special(const MessageInfo& info, const google::protobuf::Message& msg,
                               const Path& path) {
    const Descriptor* d = msg.GetDescriptor();
    const Reflection* r = msg.GetReflection();
    switch (info.format) {
      case kslice::api::JSON_FORMAT_TIME:
      case kslice::api::JSON_FORMAT_MICRO_TIME: {
        if (IsZeroTime(msg)) return Node::Null();
        UnixTime t{r->GetInt64(msg, d->FindFieldByName("seconds")),
                   r->GetInt32(msg, d->FindFieldByName("nanos"))};
        absl::StatusOr<std::string> s =
            FormatRfc3339(t, info.format == kslice::api::JSON_FORMAT_MICRO_TIME ? 6 : 0);
        if (!s.ok()) return FieldError(path, s.status().message());
        return Node::String(*std::move(s));
      }
      case kslice::api::JSON_FORMAT_DURATION:
        return Node::String(FormatGoDuration(r->GetInt64(msg, d->FindFieldByName("duration"))));
      case kslice::api::JSON_FORMAT_INT_OR_STRING: {
        const int64_t type = r->GetInt64(msg, d->FindFieldByName("type"));
        if (type == 0) return Node::Number(absl::StrCat(r->GetInt32(msg, d->FindFieldByName("intVal"))));
        if (type == 1) return Node::String(r->GetString(msg, d->FindFieldByName("strVal")));
        return FieldError(path, absl::StrCat("IntOrString has impossible type ", type));
      }
      case kslice::api::JSON_FORMAT_QUANTITY: {
        const std::string& s = r->GetString(msg, d->FindFieldByName("string"));
        if (s.empty()) return Node::String("0");
        absl::StatusOr<std::string> canonical = kslice::resource::CanonicalString(s);
        if (!canonical.ok()) return FieldError(path, canonical.status().message());
        return Node::String(*std::move(canonical));
      }
      case kslice::api::JSON_FORMAT_RAW: {
        const FieldDescriptor* raw = d->field(0);
        if (!r->HasField(msg, raw)) return Node::Null();
        absl::StatusOr<Node> parsed = ParseJson(r->GetString(msg, raw));
        if (!parsed.ok()) {
          return FieldError(path, absl::StrCat("raw field does not hold JSON: ",
                                               parsed.status().message()));
        }
        return parsed;
      }
      case kslice::api::JSON_FORMAT_ITEMS: {
        const FieldDescriptor* items = d->FindFieldByName("items");
        Node array = Node::Array();
        for (int i = 0; i < r->FieldSize(msg, items); ++i) {
          absl::StatusOr<Node> v = Repeated(items, msg, i, path, 0);
          if (!v.ok()) return v.status();
          array.Push(*std::move(v));
        }
        return array;
      }
      case kslice::api::JSON_FORMAT_OBJECT:
        break;
    }
    return FieldError(path, "unsupported JSON format");
  }
};

}  // namespace

absl::Status NodeToMessage(const Node& node, google::protobuf::Message* message,
                           const ObjectDecodeOptions& options) {
  Decoder decoder(options);
  return decoder.Message(node, message, Path{}, 0, true);
}

absl::StatusOr<Node> MessageToNode(const google::protobuf::Message& message) {
  Encoder encoder;
  return encoder.Message(message, Path{}, 0);
}

}  // namespace kslice::codec
