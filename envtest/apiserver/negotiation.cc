#include "envtest/apiserver/negotiation.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "envtest/apiserver/status.h"
#include "envtest/printers/table.h"

namespace kslice::envtest::apiserver {
std::string BaseMediaType(absl::string_view media_type) {
  absl::string_view base = media_type.substr(0, media_type.find(';'));
  return absl::AsciiStrToLower(std::string(absl::StripAsciiWhitespace(base)));
}

absl::StatusOr<Negotiated> NegotiateResponse(absl::string_view accept, bool allow_transform,
                                             bool watch) {
  // The Accept grammar (q-values, wildcards, as/g/v) is printers::NegotiateAccept's.
  absl::StatusOr<printers::AcceptChoice> choice = printers::NegotiateAccept(accept);
  if (!choice.ok()) return choice.status();
  Negotiated n;
  n.pretty = choice->pretty;
  if (choice->media_type == "application/yaml") {
    n.format = codec::Format::kYaml;
  } else if (choice->media_type == "application/vnd.kubernetes.protobuf") {
    n.format = codec::Format::kProtobuf;
  } else {
    n.format = codec::Format::kJson;
  }
  if (watch && n.format == codec::Format::kYaml) {
    // Watch streams are JSON or protobuf.
    n.format = codec::Format::kJson;
  }
  std::string as;
  printers::TableVersion version = printers::TableVersion::kV1;
  if (allow_transform && choice->table) {
    n.transform = Transform::kTable;
    as = "Table";
    version = choice->table_version;
  } else if (allow_transform && !choice->other_conversion.empty()) {
    n.transform = Transform::kPartialObjectMetadata;
    as = choice->other_conversion;
    version = choice->other_conversion_version;
  }
  n.transform_version = version == printers::TableVersion::kV1beta1 ? "v1beta1" : "v1";
  std::string base = std::string(codec::ContentType(n.format));
  if (!as.empty()) {
    n.content_type = absl::StrCat(base, ";as=", as, ";v=", n.transform_version, ";g=meta.k8s.io");
  } else if (n.format == codec::Format::kProtobuf && watch) {
    n.content_type = "application/vnd.kubernetes.protobuf;stream=watch";
  } else {
    n.content_type = base;
  }
  return n;
}

absl::StatusOr<codec::Format> NegotiateRequest(absl::string_view content_type) {
  std::string base = BaseMediaType(content_type);
  if (base.empty() || base == "application/json") return codec::Format::kJson;
  if (base == "application/yaml") return codec::Format::kYaml;
  if (base == "application/vnd.kubernetes.protobuf") return codec::Format::kProtobuf;
  return UnsupportedMediaTypeError(std::string(content_type));
}

}  // namespace kslice::envtest::apiserver
