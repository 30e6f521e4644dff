// Incremental decoders for Kubernetes watch streams.
//
// A watch response body is a stream of events. Bytes arrive in arbitrary pieces;
// feed each piece as it comes and collect the events completed so far:
//
//   auto decoder = NewDecoderForContentType(response.content_type());
//   std::vector<Event> events;
//   while (read(chunk)) {
//     absl::Status s = (*decoder)->Feed(chunk, &events);
//     for (Event& e : events) handle(std::move(e));
//     events.clear();
//     if (!s.ok()) return s;               // the watch is broken; re-watch
//   }
//   return (*decoder)->Finish();           // error if the stream stopped mid-event
//
// Wire formats (apimachinery's stream serializers, as the API server writes them):
//
//  * JSON (Content-Type application/json): a sequence of JSON objects
//    {"type":"ADDED","object":{...}}. The server ends each with "\n", but nothing
//    here relies on it: any JSON white space (or none) may separate events, as Go's
//    json.Decoder accepts. Object boundaries are found by a scanner that tracks
//    strings, escapes and bracket nesting; the object is then decoded with the codec.
//
//  * Protobuf (application/vnd.kubernetes.protobuf;stream=watch): frames of a 4-byte
//    big-endian length followed by that many bytes of a metav1.WatchEvent. The frame
//    is the BARE WatchEvent message — no "k8s\0" magic, no runtime.Unknown envelope
//    (the stream serializer is protobuf.RawSerializer, framed by
//    LengthDelimitedFramer) — while the object inside, WatchEvent.object.raw, IS
//    enveloped: "k8s\0" + Unknown{typeMeta, raw}, because the API server encodes the
//    embedded object with the ordinary (enveloping) protobuf serializer
//    (apiserver endpoints/handlers/watch.go: the outer encoder is the negotiated
//    StreamSerializer, the embedded encoder the negotiated Serializer; client-go's
//    rest/watch/decoder.go mirrors this with a streaming decoder for the WatchEvent
//    and runtime.Decode for object.raw).
//
// Limits and errors. One event (the JSON text of the event, or one protobuf frame)
// may be at most DecoderOptions::max_event_bytes (default 16 MiB, the limit of
// apimachinery's streaming decoder); a protobuf frame whose length prefix exceeds it
// is refused as soon as the 4 prefix bytes are read, before anything is allocated,
// and a JSON event as soon as its unfinished text passes the limit. The decoder
// copies at most one unfinished event and never holds more than the limit + 4
// bytes, however the stream is cut and however large the pieces fed. Garbage between events, malformed events, unknown
// event types, objects that do not decode, and ERROR objects that are not a Status
// are InvalidArgument errors naming the stream offset. Any error ends the stream:
// the decoder stays failed and returns the same error from then on (client-go also
// ends a watch on the first undecodable event). Events completed before the error
// in the same Feed call are still appended to `out`.
//
// A decoder is not thread-safe; use one per stream.
#ifndef KSLICE_CLIENT_WATCH_DECODER_H_
#define KSLICE_CLIENT_WATCH_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec/codec.h"
#include "client/watch/event.h"
#include "google/protobuf/message.h"

namespace kslice::client::watch {

// apimachinery's streaming decoder limit.
inline constexpr size_t kDefaultMaxEventBytes = 16u << 20;

enum class ObjectMode {
  // Event::object holds the object decoded through the Scheme.
  kTyped,
  // JSON streams: Event::node holds the object as a JSON tree and Event::raw its text,
  // for kinds the Scheme does not know (custom resources). Protobuf streams (built-in
  // kinds only): Event::raw holds the enveloped object, undecoded.
  // ERROR events carry their Status in Event::object in both modes.
  kDynamic,
};

struct DecoderOptions {
  ObjectMode mode = ObjectMode::kTyped;
  size_t max_event_bytes = kDefaultMaxEventBytes;
  // Scheme (nullptr: the built-in one) and parse limits (nesting depth) for objects.
  kslice::codec::DecodeOptions codec;
  // Typed mode: when set, objects of non-ERROR events are decoded as this type
  // (not owned; a generated default instance). Their kind may then be absent from the
  // data; when present it must be this type's.
  const google::protobuf::Message* expected_type = nullptr;
  // Typed mode: also keep the object's wire bytes in Event::raw.
  bool keep_raw = false;
};

class Decoder {
 public:
  virtual ~Decoder() = default;

  // Consumes the next piece of the stream and appends the events it completes to
  // `out` (which is not cleared).
  absl::Status Feed(absl::string_view chunk, std::vector<Event>* out);

  // The stream has ended. OK when it ended between events; an error (OutOfRange,
  // "truncated") when an event was cut short, or the earlier error if the decoder
  // had failed.
  absl::Status Finish();

  // Bytes held for an unfinished event.
  size_t buffered() const { return buffer_.size(); }
  // Bytes consumed since the start of the stream (complete events and white space).
  uint64_t offset() const { return offset_; }

 protected:
  explicit Decoder(DecoderOptions options) : options_(std::move(options)) {}

  // Decodes the complete events at the start of `data` (which begins at stream
  // offset offset()) into `out`; returns the number of bytes consumed. What remains is
  // the start of one unfinished event, to be passed again with more bytes appended.
  virtual absl::StatusOr<size_t> Process(absl::string_view data, std::vector<Event>* out) = 0;

  // How many more bytes the unfinished event in `buffered` may still need (an upper
  // bound; at least 1).
  virtual size_t BytesWanted(absl::string_view buffered) const = 0;

  // Shared by both formats: fills `event` from a wire type name and the object bytes.
  absl::Status DecodeObject(absl::string_view type_name, absl::string_view object,
                            kslice::codec::Format format, Event* event) const;

  const DecoderOptions options_;

 private:
  absl::Status Fail(absl::Status status);

  std::string buffer_;  // the unfinished event
  uint64_t offset_ = 0;
  absl::Status status_;
};

// JSON watch streams.
std::unique_ptr<Decoder> NewJsonDecoder(DecoderOptions options = {});

// Protobuf watch streams (length-prefixed WatchEvent frames).
std::unique_ptr<Decoder> NewProtobufDecoder(DecoderOptions options = {});

// The decoder for a watch response's Content-Type: application/json ->
// JSON; application/vnd.kubernetes.protobuf (with or without ;stream=watch) ->
// protobuf. Anything else is InvalidArgument (YAML watch streams are not supported).
absl::StatusOr<std::unique_ptr<Decoder>> NewDecoderForContentType(absl::string_view content_type,
                                                                  DecoderOptions options = {});

}  // namespace kslice::client::watch

#endif  // KSLICE_CLIENT_WATCH_DECODER_H_
