#include "client/watch/encoder.h"

#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "api/meta/v1/meta.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace kslice::client::watch {

absl::StatusOr<std::string> EncodeJsonEvent(EventType type, const google::protobuf::Message& object,
                                            const kslice::codec::EncodeOptions& options) {
  kslice::codec::EncodeOptions compact = options;
  compact.json_indent = 0;
  absl::StatusOr<std::string> json =
      kslice::codec::Encode(object, kslice::codec::Format::kJson, compact);
  if (!json.ok()) return json.status();
  return EncodeJsonEventRaw(type, *json);
}

std::string EncodeJsonEventRaw(EventType type, absl::string_view object_json) {
  return absl::StrCat("{\"type\":\"", EventTypeName(type), "\",\"object\":", object_json, "}\n");
}

absl::StatusOr<std::string> EncodeProtobufFrame(EventType type,
                                                const google::protobuf::Message& object,
                                                const kslice::codec::EncodeOptions& options) {
  absl::StatusOr<std::string> enveloped =
      kslice::codec::Encode(object, kslice::codec::Format::kProtobuf, options);
  if (!enveloped.ok()) return enveloped.status();
  return EncodeProtobufFrameRaw(type, *enveloped);
}

absl::StatusOr<std::string> EncodeProtobufFrameRaw(EventType type,
                                                   absl::string_view enveloped_object) {
  kslice::api::meta::v1::WatchEvent event;
  event.set_type(std::string(EventTypeName(type)));
  event.mutable_object()->set_raw(std::string(enveloped_object));
  const size_t size = event.ByteSizeLong();
  if (size > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("watch event of ", size, " bytes does not fit a protobuf frame"));
  }
  std::string out;
  out.reserve(4 + size);
  const auto n = static_cast<uint32_t>(size);
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    event.SerializeWithCachedSizes(&coded);
  }
  return out;
}

}  // namespace kslice::client::watch
