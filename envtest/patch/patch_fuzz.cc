// Fuzz target: the three patch types on a fixed Pod document. The first byte picks the
// patch type; any input must give an error or a document, never a crash, and a
// successful result must be writable as JSON.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "api/codec/node.h"
#include "api/core/v1/core.pb.h"
#include "envtest/patch/patch.h"

namespace {

const kslice::codec::Node& Doc() {
  static const kslice::codec::Node* doc = [] {
    auto n = kslice::codec::ParseJson(R"({"apiVersion":"v1","kind":"Pod",
      "metadata":{"name":"p","namespace":"default","labels":{"a":"b"},"finalizers":["x","y"],
        "ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n","uid":"u1"}]},
      "spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80,"protocol":"TCP"}],
        "env":[{"name":"A","value":"1"}],"args":["a","b"]}],
        "volumes":[{"name":"v","configMap":{"name":"cm"}}],"nodeSelector":{"k":"v"}},
      "status":{"conditions":[{"type":"Ready","status":"True"}]}})");
    if (!n.ok()) abort();
    return new kslice::codec::Node(*n);
  }();
  return *doc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace patch = kslice::envtest::patch;
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<kslice::codec::Node> out;
  switch (data[0] % 3) {
    case 0:
      out = patch::ApplyJsonPatch(Doc(), input);
      break;
    case 1:
      out = patch::ApplyMergePatch(Doc(), input);
      break;
    default:
      out = patch::ApplyStrategicMergePatch(Doc(), input, kslice::api::core::v1::Pod::descriptor());
      break;
  }
  if (!out.ok()) return 0;
  if (!kslice::codec::WriteJson(*out).ok() && data[0] % 3 != 0) {
    // Only JSON patch can carry YAML-only numbers through (it never parses them).
    std::fprintf(stderr, "patched document is not writable: %s\n", input.c_str());
    abort();
  }
  return 0;
}
