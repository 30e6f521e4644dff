// The Scheme maps Kubernetes kinds (apiVersion + kind) to kslice's protobuf types
// and back, so codecs can decode an object whose type is named only in its data.
//
//   const auto& scheme = kslice::api::Scheme::Builtin();
//   const google::protobuf::Message* proto = scheme.Prototype("v1", "Pod");
//   absl::StatusOr<TypeMeta> tm = scheme.TypeMetaFor(Pod::descriptor());  // {"v1","Pod"}
//
// A Scheme is built once and then read from any thread.
#ifndef KSLICE_API_SCHEME_SCHEME_H_
#define KSLICE_API_SCHEME_SCHEME_H_

#include <string>

#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace kslice::api {

struct TypeMeta {
  std::string api_version;  // "v1", "discovery.k8s.io/v1"
  std::string kind;         // "Pod"
  friend bool operator==(const TypeMeta&, const TypeMeta&) = default;
};

class Scheme {
 public:
  Scheme() = default;

  // Every built-in type of api/: core/v1, apps/v1, autoscaling/v1 (Scale),
  // discovery.k8s.io/v1, coordination.k8s.io/v1
  // and the meta/v1 kinds an API server returns (Status, discovery documents).
  static const Scheme& Builtin();

  // Registers `prototype` (not owned; a generated default instance lives forever) as
  // apiVersion/kind. A type may be registered under several apiVersions; the first
  // registration is the one TypeMetaFor returns. Registering a taken name fails.
  absl::Status Register(std::string api_version, std::string kind,
                        const google::protobuf::Message* prototype);

  // Registers every object kind of a .proto file under api_version: messages whose
  // first field is `metadata` (ObjectMeta for objects, ListMeta for lists).
  absl::Status RegisterObjectKinds(const google::protobuf::FileDescriptor* file,
                                   const std::string& api_version);

  // The prototype for apiVersion/kind, or nullptr.
  const google::protobuf::Message* Prototype(absl::string_view api_version,
                                             absl::string_view kind) const;

  // The apiVersion/kind of a registered type; NotFound otherwise.
  absl::StatusOr<TypeMeta> TypeMetaFor(const google::protobuf::Descriptor* descriptor) const;

  // All registrations, sorted by apiVersion then kind.
  std::vector<TypeMeta> Kinds() const;

 private:
  absl::flat_hash_map<std::pair<std::string, std::string>, const google::protobuf::Message*>
      by_name_;
  absl::flat_hash_map<const google::protobuf::Descriptor*, TypeMeta> by_type_;
};

}  // namespace kslice::api

#endif  // KSLICE_API_SCHEME_SCHEME_H_
