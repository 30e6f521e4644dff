// Encoding and decoding of Kubernetes API objects in the three wire formats an API
// server speaks: protobuf (application/vnd.kubernetes.protobuf, the "k8s\0" envelope
// around runtime.Unknown), JSON and YAML.
//
//   absl::StatusOr<std::unique_ptr<google::protobuf::Message>> obj =
//       kslice::codec::Decode(bytes, kslice::codec::Format::kProtobuf);
//   absl::StatusOr<Pod> pod = kslice::codec::DecodeAs<Pod>(json, Format::kJson);
//   absl::StatusOr<std::string> yaml = kslice::codec::Encode(*pod, Format::kYaml);
//
// Every decode returns a canonical object (api/codec/canonical.h): decoding the same
// object from any format gives equal messages, and protobuf encoding reproduces the
// API server's bytes. Malformed, truncated, oversized or deeply nested input is an
// InvalidArgument error naming what is wrong; the codecs never crash on input.
#ifndef KSLICE_API_CODEC_CODEC_H_
#define KSLICE_API_CODEC_CODEC_H_

#include <memory>
#include <string>

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec/node.h"
#include "api/scheme/scheme.h"
#include "google/protobuf/message.h"

namespace kslice::codec {

enum class Format { kProtobuf, kJson, kYaml };

// "pb"/"protobuf", "json", "yaml"/"yml".
absl::StatusOr<Format> ParseFormat(absl::string_view name);
absl::string_view FormatName(Format format);
// The media type an API server uses for the format.
absl::string_view ContentType(Format format);
// Format of a media type ("application/json; charset=utf-8" -> kJson).
absl::StatusOr<Format> FormatForContentType(absl::string_view content_type);
// Guesses the format of data: the protobuf magic, else JSON if it starts with '{'
// (after white space), else YAML.
Format DetectFormat(absl::string_view data);

inline constexpr absl::string_view kProtobufMagic{"k8s\0", 4};

struct DecodeOptions {
  ParseLimits limits;
  // Types to decode into; nullptr means Scheme::Builtin().
  const kslice::api::Scheme* scheme = nullptr;
  // When set, receives the paths of fields the schema does not know (JSON keys, or
  // protobuf field numbers as "#N"); such fields are otherwise dropped, as upstream does.
  std::vector<std::string>* unknown_fields = nullptr;
};

struct EncodeOptions {
  // JSON: 0 for compact output, N to indent by N spaces.
  int json_indent = 0;
  const kslice::api::Scheme* scheme = nullptr;
};

// Decodes an object of any registered kind; the kind comes from the data.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Decode(absl::string_view data,
                                                                  Format format,
                                                                  const DecodeOptions& options = {});

// Decodes into `out` (cleared first). If the data names a kind, it must be out's.
absl::Status DecodeInto(absl::string_view data, Format format, google::protobuf::Message* out,
                        const DecodeOptions& options = {});

template <typename T>
absl::StatusOr<T> DecodeAs(absl::string_view data, Format format,
                           const DecodeOptions& options = {}) {
  T out;
  if (absl::Status s = DecodeInto(data, format, &out, options); !s.ok()) return s;
  return out;
}

// Encodes a registered object with its apiVersion and kind.
absl::StatusOr<std::string> Encode(const google::protobuf::Message& object, Format format,
                                   const EncodeOptions& options = {});

// The JSON tree of a registered object, with apiVersion and kind first.
absl::StatusOr<Node> ToNode(const google::protobuf::Message& object,
                            const EncodeOptions& options = {});

}  // namespace kslice::codec

#endif  // KSLICE_API_CODEC_CODEC_H_
