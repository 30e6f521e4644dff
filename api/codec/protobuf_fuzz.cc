// Fuzz target: the protobuf envelope and object decoder. Any input must give either
// an error or an object that re-encodes and decodes again to the same bytes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "api/codec/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kslice::codec::Format;
  std::string input(reinterpret_cast<const char*>(data), size);
  auto obj = kslice::codec::Decode(input, Format::kProtobuf);
  if (!obj.ok()) return 0;
  auto encoded = kslice::codec::Encode(**obj, Format::kProtobuf);
  if (!encoded.ok()) return 0;  // e.g. a time outside what RFC 3339 can write is fine here
  auto again = kslice::codec::Decode(*encoded, Format::kProtobuf);
  if (!again.ok()) {
    std::fprintf(stderr, "re-decoding our own protobuf failed: %s\n",
                 std::string(again.status().message()).c_str());
    abort();
  }
  auto reencoded = kslice::codec::Encode(**again, Format::kProtobuf);
  if (!reencoded.ok() || *reencoded != *encoded) {
    std::fprintf(stderr, "protobuf encoding is not stable across a round trip\n");
    abort();
  }
  // The JSON path must not crash on whatever the protobuf held.
  (void)kslice::codec::Encode(**obj, Format::kJson);
  return 0;
}
