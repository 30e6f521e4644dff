// Fuzz target: the JSON and YAML decoders. Any input must give either an error or an
// object whose JSON encoding decodes again to an equal object.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "api/codec/codec.h"
#include "google/protobuf/util/message_differencer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kslice::codec::Format;
  if (size == 0) return 0;
  // The first byte picks the format so one corpus drives both parsers.
  const Format format = (data[0] & 1) ? Format::kYaml : Format::kJson;
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  auto obj = kslice::codec::Decode(input, format);
  if (!obj.ok()) return 0;
  auto json = kslice::codec::Encode(**obj, Format::kJson);
  if (!json.ok()) return 0;
  auto again = kslice::codec::Decode(*json, Format::kJson);
  if (!again.ok()) {
    std::fprintf(stderr, "re-decoding our own JSON failed: %s\ninput: %s\nJSON: %s\n",
                 std::string(again.status().message()).c_str(), input.c_str(), json->c_str());
    abort();
  }
  if (!google::protobuf::util::MessageDifferencer::Equals(**obj, **again)) {
    std::fprintf(stderr, "JSON round trip changed the object\ninput: %s\nJSON: %s\n",
                 input.c_str(), json->c_str());
    abort();
  }
  (void)kslice::codec::Encode(**obj, Format::kYaml);
  (void)kslice::codec::Encode(**obj, Format::kProtobuf);
  return 0;
}
