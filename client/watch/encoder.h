// Watch stream encoders, for the embedded API server: the bytes an API server
// writes for one event (see decoder.h for the formats).
//
//   absl::StatusOr<std::string> bytes = EncodeJsonEvent(EventType::kModified, pod);
//   // {"type":"MODIFIED","object":{"kind":"Pod","apiVersion":"v1",...}}\n
//
//   bytes = EncodeProtobufFrame(EventType::kModified, pod);
//   // 4-byte big-endian length + WatchEvent{type, object{raw: "k8s\0"+Unknown{...}}}
#ifndef KSLICE_CLIENT_WATCH_ENCODER_H_
#define KSLICE_CLIENT_WATCH_ENCODER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec/codec.h"
#include "client/watch/event.h"
#include "google/protobuf/message.h"

namespace kslice::client::watch {

// One JSON event, compact, ending in "\n" as the API server's JSON encoder writes it.
// `object` must be a registered kind (its kind/apiVersion are written); ERROR events
// carry a metav1.Status.
absl::StatusOr<std::string> EncodeJsonEvent(EventType type, const google::protobuf::Message& object,
                                            const kslice::codec::EncodeOptions& options = {});

// The same with the object's JSON text given (e.g. a custom resource). The text is
// embedded as is: it must be one compact JSON object.
std::string EncodeJsonEventRaw(EventType type, absl::string_view object_json);

// One protobuf frame: the length prefix and the bare WatchEvent, whose object.raw is
// the enveloped object.
absl::StatusOr<std::string> EncodeProtobufFrame(EventType type,
                                                const google::protobuf::Message& object,
                                                const kslice::codec::EncodeOptions& options = {});

// The same with the enveloped object ("k8s\0" + Unknown) given. Fails only for
// frames of 4 GiB or more.
absl::StatusOr<std::string> EncodeProtobufFrameRaw(EventType type,
                                                   absl::string_view enveloped_object);

}  // namespace kslice::client::watch

#endif  // KSLICE_CLIENT_WATCH_ENCODER_H_
