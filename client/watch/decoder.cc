#include "client/watch/decoder.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/meta/v1/meta.pb.h"
#include "api/scheme/scheme.h"
#include "client/watch/json_scanner.h"
#include "google/protobuf/io/coded_stream.h"

namespace kslice::client::watch {

namespace {

using kslice::api::meta::v1::Status;
using kslice::codec::Format;

// Status is registered as v1/Status; some servers say meta.k8s.io/v1.
const kslice::api::Scheme& StatusScheme() {
  static const kslice::api::Scheme* scheme = [] {
    auto* s = new kslice::api::Scheme();
    (void)s->Register("v1", "Status", &Status::default_instance());
    (void)s->Register("meta.k8s.io/v1", "Status", &Status::default_instance());
    return s;
  }();
  return *scheme;
}

absl::Status WithOffset(const absl::Status& s, uint64_t offset) {
  return absl::Status(s.code(),
                      absl::StrCat("watch stream: ", s.message(), " (event at byte ", offset, ")"));
}

// ---- JSON ----

class JsonDecoder : public Decoder {
 public:
  explicit JsonDecoder(DecoderOptions options)
      : Decoder(std::move(options)), scanner_(options_.codec.limits.max_depth + 1) {}

 protected:
  absl::StatusOr<size_t> Process(absl::string_view data, std::vector<Event>* out) override {
    size_t consumed = 0;
    while (true) {
      if (!in_event_) {
        while (consumed < data.size() && internal::IsJsonSpace(data[consumed])) ++consumed;
        if (consumed == data.size()) return consumed;
        if (data[consumed] != '{') {
          return WithOffset(absl::InvalidArgumentError(
                                absl::StrCat("invalid character ", ShowByte(data[consumed]),
                                             " looking for the beginning of an event")),
                            offset() + consumed);
        }
        in_event_ = true;
        scanner_.Reset();
      }
      const absl::string_view rest = data.substr(consumed);
      // Never look further than one byte past the limit.
      const size_t window =
          options_.max_event_bytes < rest.size() ? options_.max_event_bytes + 1 : rest.size();
      absl::StatusOr<bool> done = scanner_.Scan(rest.substr(0, window));
      if (!done.ok()) return WithOffset(done.status(), offset() + consumed);
      const size_t length = scanner_.scanned();
      if (length > options_.max_event_bytes) {
        return WithOffset(
            absl::InvalidArgumentError(absl::StrCat("event larger than the limit of ",
                                                    options_.max_event_bytes, " bytes")),
            offset() + consumed);
      }
      if (!*done) return consumed;  // rest is an unfinished event
      in_event_ = false;
      Event event;
      if (absl::Status s = DecodeEvent(rest.substr(0, length), &event); !s.ok()) {
        return WithOffset(s, offset() + consumed);
      }
      out->push_back(std::move(event));
      consumed += length;
    }
  }

  size_t BytesWanted(absl::string_view buffered) const override {
    // Where the event ends is unknown: up to one byte past the limit.
    return options_.max_event_bytes + 1 > buffered.size()
               ? options_.max_event_bytes + 1 - buffered.size()
               : 1;
  }

 private:
  static std::string ShowByte(char c) {
    if (c >= 0x20 && c < 0x7f) return absl::StrCat("'", absl::string_view(&c, 1), "'");
    return absl::StrCat("0x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
  }

  absl::Status DecodeEvent(absl::string_view text, Event* event) {
    absl::StatusOr<std::vector<internal::Member>> members =
        internal::SplitObject(text, scanner_.spans());
    if (!members.ok()) return members.status();
    absl::string_view type;
    absl::string_view object;
    for (const internal::Member& m : *members) {
      // As apimachinery's JSON serializer (sigs.k8s.io/json): keys are case-sensitive,
      // the last duplicate wins, unknown members are ignored but must be valid JSON.
      if (m.key == "type") {
        type = m.value;
      } else if (m.key == "object") {
        object = m.value;
      } else if (absl::StatusOr<kslice::codec::Node> v =
                     kslice::codec::ParseJson(m.value, options_.codec.limits);
                 !v.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid value of member \"", m.key, "\": ", v.status().message()));
      }
    }
    std::string type_name;
    if (type.empty()) {
      // Missing: reported as an invalid (empty) type below.
    } else if (type.size() >= 2 && type.front() == '"' && type.back() == '"' &&
               type.find('\\') == absl::string_view::npos) {
      type_name = std::string(type.substr(1, type.size() - 2));
    } else {
      absl::StatusOr<kslice::codec::Node> v = kslice::codec::ParseJson(type);
      if (!v.ok() || !v->is_string()) {
        return absl::InvalidArgumentError("event type is not a JSON string");
      }
      type_name = std::move(v->text);
    }
    return DecodeObject(type_name, object, Format::kJson, event);
  }

  internal::JsonObjectScanner scanner_;
  bool in_event_ = false;
};

// ---- Protobuf ----

class ProtobufDecoder : public Decoder {
 public:
  explicit ProtobufDecoder(DecoderOptions options) : Decoder(std::move(options)) {}

 protected:
  absl::StatusOr<size_t> Process(absl::string_view data, std::vector<Event>* out) override {
    size_t consumed = 0;
    while (data.size() - consumed >= 4) {
      const auto* p = reinterpret_cast<const unsigned char*>(data.data() + consumed);
      const uint32_t length =
          (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
      if (length > options_.max_event_bytes) {
        return WithOffset(absl::InvalidArgumentError(
                              absl::StrCat("frame of ", length, " bytes exceeds the limit of ",
                                           options_.max_event_bytes, " bytes")),
                          offset() + consumed);
      }
      if (data.size() - consumed - 4 < length) break;
      Event event;
      if (absl::Status s = DecodeFrame(data.substr(consumed + 4, length), &event); !s.ok()) {
        return WithOffset(s, offset() + consumed);
      }
      out->push_back(std::move(event));
      consumed += 4 + length;
    }
    return consumed;
  }

  size_t BytesWanted(absl::string_view buffered) const override {
    if (buffered.size() < 4) return 4 - buffered.size();
    return 4 + FrameLength(buffered) - buffered.size();
  }

 private:
  static uint32_t FrameLength(absl::string_view data) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) |
           uint32_t{p[3]};
  }

  absl::Status DecodeFrame(absl::string_view frame, Event* event) {
    kslice::api::meta::v1::WatchEvent wire;
    google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(frame.data()),
                                                 static_cast<int>(frame.size()));
    if (!wire.MergePartialFromCodedStream(&input) || !input.ConsumedEntireMessage()) {
      return absl::InvalidArgumentError("frame is not a protobuf WatchEvent");
    }
    return DecodeObject(wire.type(), wire.object().raw(), Format::kProtobuf, event);
  }
};

}  // namespace

absl::Status Decoder::Feed(absl::string_view chunk, std::vector<Event>* out) {
  if (!status_.ok()) return status_;
  while (!chunk.empty()) {
    if (buffer_.empty()) {
      // Decode straight from the caller's bytes; keep only the unfinished tail, which
      // Process has already checked against the size limit.
      absl::StatusOr<size_t> consumed = Process(chunk, out);
      if (!consumed.ok()) return Fail(consumed.status());
      offset_ += *consumed;
      buffer_.assign(chunk.data() + *consumed, chunk.size() - *consumed);
      return absl::OkStatus();
    }
    // Complete the unfinished event, taking no more of the chunk than it can need, so
    // the buffer never outgrows the limit (an oversized protobuf frame is refused once
    // its 4 length bytes are in, whatever the size of the chunk).
    const size_t take = std::min(chunk.size(), std::max<size_t>(1, BytesWanted(buffer_)));
    buffer_.append(chunk.data(), take);
    chunk.remove_prefix(take);
    absl::StatusOr<size_t> consumed = Process(buffer_, out);
    if (!consumed.ok()) return Fail(consumed.status());
    offset_ += *consumed;
    buffer_.erase(0, *consumed);
  }
  return absl::OkStatus();
}

absl::Status Decoder::Fail(absl::Status status) {
  status_ = std::move(status);
  buffer_.clear();
  buffer_.shrink_to_fit();
  return status_;
}

absl::Status Decoder::Finish() {
  if (!status_.ok()) return status_;
  if (!buffer_.empty()) {
    status_ = absl::OutOfRangeError(
        absl::StrCat("watch stream truncated: it ended inside an event (", buffer_.size(),
                     " bytes of it received, starting at byte ", offset_, ")"));
    buffer_.clear();
    return status_;
  }
  return absl::OkStatus();
}

absl::Status Decoder::DecodeObject(absl::string_view type_name, absl::string_view object,
                                   Format format, Event* event) const {
  std::optional<EventType> type = ParseEventType(type_name);
  if (!type.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid event type \"", absl::CHexEscape(type_name), "\""));
  }
  event->type = *type;
  if (object.empty() || (format == Format::kJson && object == "null")) {
    return absl::InvalidArgumentError(
        absl::StrCat(EventTypeName(*type), " event without an object"));
  }

  if (*type == EventType::kError) {
    auto status = std::make_unique<Status>();
    kslice::codec::DecodeOptions options = options_.codec;
    options.scheme = &StatusScheme();
    if (absl::Status s = kslice::codec::DecodeInto(object, format, status.get(), options);
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ERROR event object is not a Status: ", s.message()));
    }
    event->object = std::move(status);
    if (options_.mode == ObjectMode::kDynamic || options_.keep_raw)
      event->raw = std::string(object);
    return absl::OkStatus();
  }

  if (options_.mode == ObjectMode::kDynamic) {
    if (format == Format::kJson) {
      absl::StatusOr<kslice::codec::Node> node =
          kslice::codec::ParseJson(object, options_.codec.limits);
      if (!node.ok()) return node.status();
      if (!node->is_object()) {
        return absl::InvalidArgumentError(
            absl::StrCat(EventTypeName(*type), " event object is not a JSON object"));
      }
      event->node = std::move(*node);
    } else if (!absl::StartsWith(object, kslice::codec::kProtobufMagic)) {
      return absl::InvalidArgumentError(
          "event object is not a Kubernetes protobuf object (no k8s\\0 magic)");
    }
    event->raw = std::string(object);
    return absl::OkStatus();
  }

  if (options_.expected_type != nullptr) {
    std::unique_ptr<google::protobuf::Message> message(options_.expected_type->New());
    if (absl::Status s = kslice::codec::DecodeInto(object, format, message.get(), options_.codec);
        !s.ok()) {
      return s;
    }
    event->object = std::move(message);
  } else {
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> message =
        kslice::codec::Decode(object, format, options_.codec);
    if (!message.ok()) return message.status();
    event->object = std::move(*message);
  }
  if (options_.keep_raw) event->raw = std::string(object);
  return absl::OkStatus();
}

std::unique_ptr<Decoder> NewJsonDecoder(DecoderOptions options) {
  return std::make_unique<JsonDecoder>(std::move(options));
}

std::unique_ptr<Decoder> NewProtobufDecoder(DecoderOptions options) {
  return std::make_unique<ProtobufDecoder>(std::move(options));
}

absl::StatusOr<std::unique_ptr<Decoder>> NewDecoderForContentType(absl::string_view content_type,
                                                                  DecoderOptions options) {
  absl::string_view media = content_type.substr(0, content_type.find(';'));
  const std::string m = absl::AsciiStrToLower(absl::StripAsciiWhitespace(media));
  if (m == "application/json") return NewJsonDecoder(std::move(options));
  if (m == "application/vnd.kubernetes.protobuf") return NewProtobufDecoder(std::move(options));
  return absl::InvalidArgumentError(
      absl::StrCat("no watch stream decoder for content type \"", content_type, "\""));
}

}  // namespace kslice::client::watch
