// Fuzz target: the watch stream decoders. Input byte 0 picks the format (bit 0),
// the object mode (bit 1) and the piece size (the rest); the remaining bytes are
// the stream, fed in pieces of that size. Any input must end in events or an error,
// never a crash, and feeding the same stream in one piece must give the same result.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/watch/decoder.h"

namespace {

using kslice::client::watch::Decoder;
using kslice::client::watch::DecoderOptions;
using kslice::client::watch::Event;

struct Outcome {
  std::vector<Event> events;
  bool ok = false;
};

Outcome Run(bool protobuf, const DecoderOptions& options, absl::string_view stream, size_t piece) {
  std::unique_ptr<Decoder> d = protobuf ? kslice::client::watch::NewProtobufDecoder(options)
                                        : kslice::client::watch::NewJsonDecoder(options);
  Outcome out;
  absl::Status s;
  for (size_t i = 0; i < stream.size() && s.ok(); i += piece) {
    s = d->Feed(stream.substr(i, piece), &out.events);
    if (d->buffered() > options.max_event_bytes + 4) {
      std::fprintf(stderr, "decoder buffers %zu bytes\n", d->buffered());
      abort();
    }
  }
  if (s.ok()) s = d->Finish();
  out.ok = s.ok();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool protobuf = (data[0] & 1) != 0;
  DecoderOptions options;
  options.mode = (data[0] & 2) ? kslice::client::watch::ObjectMode::kDynamic
                               : kslice::client::watch::ObjectMode::kTyped;
  options.max_event_bytes = 1 << 16;
  const size_t piece = 1 + (data[0] >> 2);
  const absl::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  Outcome pieces = Run(protobuf, options, stream, piece);
  Outcome whole = Run(protobuf, options, stream, stream.size() + 1);
  if (pieces.ok != whole.ok || pieces.events.size() != whole.events.size()) {
    std::fprintf(stderr, "piece size %zu changed the outcome: %d/%zu vs %d/%zu\n", piece, pieces.ok,
                 pieces.events.size(), whole.ok, whole.events.size());
    abort();
  }
  return 0;
}
