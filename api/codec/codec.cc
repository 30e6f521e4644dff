#include "api/codec/codec.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/codec/canonical.h"
#include "api/codec/object.h"
#include "api/runtime/runtime.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/unknown_field_set.h"

namespace kslice::codec {

namespace {

using google::protobuf::Message;
using kslice::api::Scheme;
using kslice::api::TypeMeta;

constexpr int kMaxProtobufDepth = 100;

const Scheme& SchemeOf(const Scheme* s) { return s != nullptr ? *s : Scheme::Builtin(); }

// Parses protobuf bytes strictly: bounded size and recursion, whole input consumed.
absl::Status ParseBytes(absl::string_view bytes, Message* out, absl::string_view what) {
  google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                                               static_cast<int>(bytes.size()));
  input.SetRecursionLimit(kMaxProtobufDepth);
  if (!out->MergePartialFromCodedStream(&input) || !input.ConsumedEntireMessage()) {
    return absl::InvalidArgumentError(absl::StrCat("malformed protobuf ", what));
  }
  return absl::OkStatus();
}

// Lists unknown protobuf fields as "path.#N" and drops them.
void CollectUnknown(const Message& msg, const std::string& path, std::vector<std::string>* out) {
  const auto* r = msg.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown = r->GetUnknownFields(msg);
  for (int i = 0; i < unknown.field_count(); ++i) {
    out->push_back(absl::StrCat(path.empty() ? "" : path + ".", "#", unknown.field(i).number()));
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(msg, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    std::string fpath = path.empty() ? f->name() : absl::StrCat(path, ".", f->name());
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(msg, f); ++i) {
        CollectUnknown(r->GetRepeatedMessage(msg, f, i), absl::StrCat(fpath, "[", i, "]"), out);
      }
    } else {
      CollectUnknown(r->GetMessage(msg, f), fpath, out);
    }
  }
}

absl::StatusOr<std::pair<TypeMeta, std::string>> OpenEnvelope(absl::string_view data,
                                                              const DecodeOptions& options) {
  if (data.size() > options.limits.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("protobuf input of ", data.size(),
                                                   " bytes exceeds the limit of ",
                                                   options.limits.max_bytes));
  }
  if (!absl::StartsWith(data, kProtobufMagic)) {
    return absl::InvalidArgumentError(
        "not a Kubernetes protobuf object: the data does not start with the k8s\\0 magic");
  }
  kslice::api::runtime::Unknown unknown;
  if (absl::Status s = ParseBytes(data.substr(kProtobufMagic.size()), &unknown, "envelope");
      !s.ok()) {
    return s;
  }
  if (!unknown.contentencoding().empty()) {
    return absl::UnimplementedError(
        absl::StrCat("unsupported protobuf content encoding \"", unknown.contentencoding(), "\""));
  }
  if (!unknown.contenttype().empty() &&
      unknown.contenttype() != ContentType(Format::kProtobuf)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported content type \"", unknown.contenttype(), "\" in envelope"));
  }
  TypeMeta tm{unknown.typemeta().apiversion(), unknown.typemeta().kind()};
  return std::make_pair(std::move(tm), std::move(*unknown.mutable_raw()));
}

absl::Status DecodeProtobufBody(absl::string_view raw, Message* out, const DecodeOptions& options) {
  if (absl::Status s = ParseBytes(raw, out, "object"); !s.ok()) return s;
  if (options.unknown_fields != nullptr) CollectUnknown(*out, "", options.unknown_fields);
  return Canonicalize(out);  // also drops the unknown fields
}

absl::StatusOr<Node> ParseText(absl::string_view data, Format format, const DecodeOptions& options) {
  absl::StatusOr<Node> node =
      format == Format::kJson ? ParseJson(data, options.limits) : ParseYaml(data, options.limits);
  if (!node.ok()) return node.status();
  if (!node->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a ", FormatName(format), " object at the top level"));
  }
  return node;
}

// apiVersion/kind of a parsed JSON/YAML object; empty strings where absent.
absl::StatusOr<TypeMeta> TextTypeMeta(const Node& node) {
  TypeMeta tm;
  for (auto [key, out] : {std::pair{"apiVersion", &tm.api_version}, std::pair{"kind", &tm.kind}}) {
    const Node* v = node.Find(key);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_string() && !v->plain) {
      return absl::InvalidArgumentError(absl::StrCat(key, " must be a string"));
    }
    *out = v->text;
  }
  return tm;
}

absl::Status DecodeTextBody(const Node& node, Message* out, const DecodeOptions& options) {
  ObjectDecodeOptions object_options;
  object_options.unknown_fields = options.unknown_fields;
  if (absl::Status s = NodeToMessage(node, out, object_options); !s.ok()) return s;
  return Canonicalize(out);
}

absl::Status CheckKind(const TypeMeta& got, const Message& out, const Scheme& scheme) {
  if (got.api_version.empty() && got.kind.empty()) return absl::OkStatus();
  const Message* proto = scheme.Prototype(got.api_version, got.kind);
  if (proto != nullptr && proto->GetDescriptor() == out.GetDescriptor()) return absl::OkStatus();
  absl::StatusOr<TypeMeta> want = scheme.TypeMetaFor(out.GetDescriptor());
  // Some documents name only their kind (the API server's /api answers
  // {"kind":"APIVersions",...}); the kind must then be the expected one.
  if (got.api_version.empty() && want.ok() && got.kind == want->kind) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "data holds ", got.api_version, "/", got.kind, " but ",
      want.ok() ? absl::StrCat(want->api_version, "/", want->kind)
                : out.GetDescriptor()->full_name(),
      " was expected"));
}

absl::StatusOr<std::unique_ptr<Message>> NewFor(const TypeMeta& tm, const Scheme& scheme) {
  if (tm.kind.empty()) return absl::InvalidArgumentError("object has no kind");
  if (tm.api_version.empty()) return absl::InvalidArgumentError("object has no apiVersion");
  const Message* proto = scheme.Prototype(tm.api_version, tm.kind);
  if (proto == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no kind \"", tm.kind, "\" is registered for version \"", tm.api_version, "\""));
  }
  return std::unique_ptr<Message>(proto->New());
}

}  // namespace

absl::StatusOr<Format> ParseFormat(absl::string_view name) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "pb" || n == "proto" || n == "protobuf") return Format::kProtobuf;
  if (n == "json") return Format::kJson;
  if (n == "yaml" || n == "yml") return Format::kYaml;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown format \"", name, "\" (want pb, json or yaml)"));
}

absl::string_view FormatName(Format format) {
  switch (format) {
    case Format::kProtobuf:
      return "protobuf";
    case Format::kJson:
      return "JSON";
    case Format::kYaml:
      return "YAML";
  }
  return "?";
}

absl::string_view ContentType(Format format) {
  switch (format) {
    case Format::kProtobuf:
      return "application/vnd.kubernetes.protobuf";
    case Format::kJson:
      return "application/json";
    case Format::kYaml:
      return "application/yaml";
  }
  return "";
}

absl::StatusOr<Format> FormatForContentType(absl::string_view content_type) {
  absl::string_view media = content_type.substr(0, content_type.find(';'));
  std::string m = absl::AsciiStrToLower(absl::StripAsciiWhitespace(media));
  if (m == "application/vnd.kubernetes.protobuf") return Format::kProtobuf;
  if (m == "application/json") return Format::kJson;
  if (m == "application/yaml" || m == "application/x-yaml" || m == "text/yaml") {
    return Format::kYaml;
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported content type \"", content_type, "\""));
}

Format DetectFormat(absl::string_view data) {
  if (absl::StartsWith(data, kProtobufMagic)) return Format::kProtobuf;
  absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(data);
  if (!trimmed.empty() && trimmed[0] == '{') return Format::kJson;
  return Format::kYaml;
}

absl::StatusOr<std::unique_ptr<Message>> Decode(absl::string_view data, Format format,
                                                const DecodeOptions& options) {
  const Scheme& scheme = SchemeOf(options.scheme);
  if (format == Format::kProtobuf) {
    auto envelope = OpenEnvelope(data, options);
    if (!envelope.ok()) return envelope.status();
    auto out = NewFor(envelope->first, scheme);
    if (!out.ok()) return out.status();
    if (absl::Status s = DecodeProtobufBody(envelope->second, out->get(), options); !s.ok()) {
      return s;
    }
    return out;
  }
  absl::StatusOr<Node> node = ParseText(data, format, options);
  if (!node.ok()) return node.status();
  absl::StatusOr<TypeMeta> tm = TextTypeMeta(*node);
  if (!tm.ok()) return tm.status();
  auto out = NewFor(*tm, scheme);
  if (!out.ok()) return out.status();
  if (absl::Status s = DecodeTextBody(*node, out->get(), options); !s.ok()) return s;
  return out;
}

absl::Status DecodeInto(absl::string_view data, Format format, Message* out,
                        const DecodeOptions& options) {
  const Scheme& scheme = SchemeOf(options.scheme);
  out->Clear();
  if (format == Format::kProtobuf) {
    auto envelope = OpenEnvelope(data, options);
    if (!envelope.ok()) return envelope.status();
    if (absl::Status s = CheckKind(envelope->first, *out, scheme); !s.ok()) return s;
    return DecodeProtobufBody(envelope->second, out, options);
  }
  absl::StatusOr<Node> node = ParseText(data, format, options);
  if (!node.ok()) return node.status();
  absl::StatusOr<TypeMeta> tm = TextTypeMeta(*node);
  if (!tm.ok()) return tm.status();
  if (absl::Status s = CheckKind(*tm, *out, scheme); !s.ok()) return s;
  return DecodeTextBody(*node, out, options);
}

absl::StatusOr<Node> ToNode(const Message& object, const EncodeOptions& options) {
  absl::StatusOr<TypeMeta> tm = SchemeOf(options.scheme).TypeMetaFor(object.GetDescriptor());
  if (!tm.ok()) return tm.status();
  absl::StatusOr<Node> body = MessageToNode(object);
  if (!body.ok()) return body.status();
  Node out = Node::Object();
  out.keys.reserve(body->keys.size() + 2);
  out.values.reserve(body->keys.size() + 2);
  out.Add("kind", Node::String(tm->kind));
  out.Add("apiVersion", Node::String(tm->api_version));
  for (size_t i = 0; i < body->keys.size(); ++i) {
    out.Add(std::move(body->keys[i]), std::move(body->values[i]));
  }
  return out;
}

absl::StatusOr<std::string> Encode(const Message& object, Format format,
                                   const EncodeOptions& options) {
  if (format == Format::kProtobuf) {
    absl::StatusOr<TypeMeta> tm = SchemeOf(options.scheme).TypeMetaFor(object.GetDescriptor());
    if (!tm.ok()) return tm.status();
    // Go's encoder writes every value field: canonicalize a copy, then fill them in.
    std::unique_ptr<Message> canonical(object.New());
    canonical->CopyFrom(object);
    if (absl::Status s = Canonicalize(canonical.get()); !s.ok()) return s;
    FillWireDefaults(canonical.get());
    kslice::api::runtime::Unknown unknown;
    unknown.mutable_typemeta()->set_apiversion(tm->api_version);
    unknown.mutable_typemeta()->set_kind(tm->kind);
    std::string* raw = unknown.mutable_raw();
    {
      google::protobuf::io::StringOutputStream stream(raw);
      google::protobuf::io::CodedOutputStream out(&stream);
      out.SetSerializationDeterministic(true);
      if (!canonical->SerializePartialToCodedStream(&out)) {
        return absl::InternalError("protobuf serialization failed");
      }
    }
    unknown.set_contentencoding("");
    unknown.set_contenttype("");
    std::string result(kProtobufMagic);
    if (!unknown.AppendPartialToString(&result)) {
      return absl::InternalError("protobuf serialization failed");
    }
    return result;
  }
  absl::StatusOr<Node> node = ToNode(object, options);
  if (!node.ok()) return node.status();
  if (format == Format::kJson) {
    WriteOptions w;
    w.indent = options.json_indent;
    return WriteJson(*node, w);
  }
  return WriteYaml(*node);
}

}  // namespace kslice::codec
