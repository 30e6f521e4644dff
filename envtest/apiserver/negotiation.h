// Content negotiation as kube-apiserver does it (apimachinery
// pkg/runtime/serializer/codec_factory.go, apiserver pkg/endpoints/handlers/negotiation):
// the Accept header picks the response encoding and, with the `as` parameter, a
// server-side transformation (Table for kubectl get, PartialObjectMetadata for
// metadata-only clients); Content-Type picks the request decoder.
#ifndef KSLICE_ENVTEST_APISERVER_NEGOTIATION_H_
#define KSLICE_ENVTEST_APISERVER_NEGOTIATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec/codec.h"

namespace kslice::envtest::apiserver {

enum class Transform {
  kNone,
  kTable,                  // meta.k8s.io/v1 (or v1beta1) Table
  kPartialObjectMetadata,  // PartialObjectMetadata / PartialObjectMetadataList
};

struct Negotiated {
  codec::Format format = codec::Format::kJson;
  Transform transform = Transform::kNone;
  std::string transform_version = "v1";  // Table / PartialObjectMetadata version
  bool pretty = false;                   // the Accept clause had pretty=1
  // The Content-Type to answer with ("application/json",
  // "application/json;as=Table;v=v1;g=meta.k8s.io", ...).
  std::string content_type;
};

// Picks the media type as kube-apiserver does (printers::NegotiateAccept: q-values,
// wildcards, as/g/v parameters). Empty or "*/*" means JSON. `allow_transform` is false for requests that cannot be
// transformed (writes of non-list objects answer plain objects; the apiserver then
// skips ranges with `as`). `watch` selects the stream media types. Nothing acceptable
// is a 406 NotAcceptable Status error.
absl::StatusOr<Negotiated> NegotiateResponse(absl::string_view accept, bool allow_transform,
                                             bool watch);

// The request body format for a Content-Type (parameters ignored); unsupported types
// are a 415 UnsupportedMediaType Status error. An empty Content-Type is JSON.
absl::StatusOr<codec::Format> NegotiateRequest(absl::string_view content_type);

// The media type without parameters, lower-cased: "application/json".
std::string BaseMediaType(absl::string_view media_type);

}  // namespace kslice::envtest::apiserver

#endif  // KSLICE_ENVTEST_APISERVER_NEGOTIATION_H_
