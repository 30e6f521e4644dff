#include "api/scheme/scheme.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "api/apps/v1/apps.pb.h"
#include "api/autoscaling/v1/autoscaling.pb.h"
#include "api/coordination/v1/coordination.pb.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "api/meta/v1/meta.pb.h"
#include "google/protobuf/message.h"

namespace kslice::api {

absl::Status Scheme::Register(std::string api_version, std::string kind,
                              const google::protobuf::Message* prototype) {
  auto key = std::make_pair(api_version, kind);
  if (by_name_.contains(key)) {
    return absl::AlreadyExistsError(absl::StrCat(api_version, "/", kind, " is already registered"));
  }
  by_name_.emplace(std::move(key), prototype);
  by_type_.try_emplace(prototype->GetDescriptor(), TypeMeta{std::move(api_version), std::move(kind)});
  return absl::OkStatus();
}

absl::Status Scheme::RegisterObjectKinds(const google::protobuf::FileDescriptor* file,
                                         const std::string& api_version) {
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  for (int i = 0; i < file->message_type_count(); ++i) {
    const google::protobuf::Descriptor* d = file->message_type(i);
    if (d->field_count() == 0) continue;
    const google::protobuf::FieldDescriptor* first = d->field(0);
    if (first->name() != "metadata" || first->message_type() == nullptr) continue;
    const std::string& meta = first->message_type()->full_name();
    if (meta != meta::v1::ObjectMeta::descriptor()->full_name() &&
        meta != meta::v1::ListMeta::descriptor()->full_name()) {
      continue;
    }
    if (absl::Status s = Register(api_version, d->name(), factory->GetPrototype(d)); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

const google::protobuf::Message* Scheme::Prototype(absl::string_view api_version,
                                                   absl::string_view kind) const {
  auto it = by_name_.find(std::make_pair(std::string(api_version), std::string(kind)));
  return it == by_name_.end() ? nullptr : it->second;
}

absl::StatusOr<TypeMeta> Scheme::TypeMetaFor(const google::protobuf::Descriptor* descriptor) const {
  auto it = by_type_.find(descriptor);
  if (it == by_type_.end()) {
    return absl::NotFoundError(
        absl::StrCat("type ", descriptor->full_name(), " is not registered in the scheme"));
  }
  return it->second;
}

std::vector<TypeMeta> Scheme::Kinds() const {
  std::vector<TypeMeta> out;
  out.reserve(by_name_.size());
  for (const auto& [key, proto] : by_name_) out.push_back(TypeMeta{key.first, key.second});
  std::sort(out.begin(), out.end(), [](const TypeMeta& a, const TypeMeta& b) {
    return std::tie(a.api_version, a.kind) < std::tie(b.api_version, b.kind);
  });
  return out;
}

namespace {

Scheme* BuildBuiltin() {
  auto* s = new Scheme();
  auto must = [](absl::Status st) {
    if (!st.ok()) {
      // Programming error in the built-in table; fail loudly at start-up.
      fprintf(stderr, "kslice: built-in scheme: %s\n", std::string(st.message()).c_str());
      abort();
    }
  };
  must(s->RegisterObjectKinds(core::v1::Pod::descriptor()->file(), "v1"));
  must(s->RegisterObjectKinds(discovery::v1::EndpointSlice::descriptor()->file(),
                              "discovery.k8s.io/v1"));
  must(s->RegisterObjectKinds(coordination::v1::Lease::descriptor()->file(),
                              "coordination.k8s.io/v1"));
  must(s->RegisterObjectKinds(apps::v1::Deployment::descriptor()->file(), "apps/v1"));
  must(s->RegisterObjectKinds(autoscaling::v1::Scale::descriptor()->file(), "autoscaling/v1"));
  // meta/v1 kinds that API servers return with apiVersion v1.
  must(s->Register("v1", "Status", &meta::v1::Status::default_instance()));
  must(s->Register("v1", "APIVersions", &meta::v1::APIVersions::default_instance()));
  must(s->Register("v1", "APIGroupList", &meta::v1::APIGroupList::default_instance()));
  must(s->Register("v1", "APIGroup", &meta::v1::APIGroup::default_instance()));
  must(s->Register("v1", "APIResourceList", &meta::v1::APIResourceList::default_instance()));
  must(s->Register("meta.k8s.io/v1", "DeleteOptions", &meta::v1::DeleteOptions::default_instance()));
  must(s->Register("v1", "DeleteOptions", &meta::v1::DeleteOptions::default_instance()));
  must(s->Register("meta.k8s.io/v1", "WatchEvent", &meta::v1::WatchEvent::default_instance()));
  must(s->Register("meta.k8s.io/v1", "PartialObjectMetadata",
                   &meta::v1::PartialObjectMetadata::default_instance()));
  must(s->Register("meta.k8s.io/v1", "PartialObjectMetadataList",
                   &meta::v1::PartialObjectMetadataList::default_instance()));
  return s;
}

}  // namespace

const Scheme& Scheme::Builtin() {
  static const Scheme* scheme = BuildBuiltin();
  return *scheme;
}

}  // namespace kslice::api
