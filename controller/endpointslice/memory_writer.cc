#include "controller/endpointslice/memory_writer.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kslice::endpointslice {

namespace {

// The API server bumps an EndpointSlice's generation when anything but its metadata
// changes (as the envtest storage's kAllButMetadata policy).
bool ContentDiffers(const EndpointSlice& a, const EndpointSlice& b) {
  EndpointSlice x = a, y = b;
  x.clear_metadata();
  y.clear_metadata();
  return x.SerializeAsString() != y.SerializeAsString();
}

// A copy without endpoints: what count-only mode hands back (the reconciler only reads
// the metadata of returned slices).
EndpointSlice MetadataOnly(const EndpointSlice& s) {
  EndpointSlice out;
  *out.mutable_metadata() = s.metadata();
  out.set_addresstype(s.addresstype());
  return out;
}

}  // namespace

void MemoryWriter::Seed(const EndpointSlice& slice) {
  EndpointSlice s = slice;
  auto* meta = s.mutable_metadata();
  ++next_;
  if (meta->name().empty()) meta->set_name(absl::StrFormat("%s%05d", meta->generatename(), next_));
  if (meta->uid().empty()) meta->set_uid(absl::StrCat("uid-", next_));
  if (meta->generation() == 0) meta->set_generation(1);
  if (meta->resourceversion().empty()) meta->set_resourceversion(absl::StrCat(next_));
  slices_[{meta->namespace_(), meta->name()}] = std::move(s);
}

absl::StatusOr<EndpointSlice> MemoryWriter::Create(const EndpointSlice& slice) {
  ++creates_;
  ++next_;
  if (count_only_) {
    EndpointSlice out = MetadataOnly(slice);
    auto* meta = out.mutable_metadata();
    meta->set_name(absl::StrFormat("%s%05d", meta->generatename(), next_));
    meta->set_uid(absl::StrCat("uid-", next_));
    meta->set_generation(1);
    meta->set_resourceversion(absl::StrCat(next_));
    return out;
  }
  if (slice.metadata().name().empty() && slice.metadata().generatename().empty()) {
    --creates_;
    return absl::InvalidArgumentError("name or generateName is required");
  }
  actions_.push_back({Action::Kind::kCreate, slice});
  EndpointSlice stored = slice;
  auto* meta = stored.mutable_metadata();
  if (meta->name().empty()) meta->set_name(absl::StrFormat("%s%05d", meta->generatename(), next_));
  std::pair<std::string, std::string> key{meta->namespace_(), meta->name()};
  if (slices_.count(key) > 0) {
    return absl::AlreadyExistsError(absl::StrCat("endpointslices \"", meta->name(), "\" already exists"));
  }
  meta->set_uid(absl::StrCat("uid-", next_));
  meta->set_generation(1);
  meta->set_resourceversion(absl::StrCat(next_));
  slices_[key] = stored;
  return stored;
}

absl::StatusOr<EndpointSlice> MemoryWriter::Update(const EndpointSlice& slice) {
  ++updates_;
  ++next_;
  if (count_only_) {
    EndpointSlice out = MetadataOnly(slice);
    out.mutable_metadata()->set_generation(slice.metadata().generation() + 1);
    out.mutable_metadata()->set_resourceversion(absl::StrCat(next_));
    return out;
  }
  actions_.push_back({Action::Kind::kUpdate, slice});
  auto it = slices_.find({slice.metadata().namespace_(), slice.metadata().name()});
  if (it == slices_.end()) {
    return absl::NotFoundError(
        absl::StrCat("endpointslices \"", slice.metadata().name(), "\" not found"));
  }
  EndpointSlice& old = it->second;
  if (!slice.metadata().resourceversion().empty() &&
      slice.metadata().resourceversion() != old.metadata().resourceversion()) {
    return absl::AbortedError(absl::StrCat(
        "Operation cannot be fulfilled on endpointslices.discovery.k8s.io \"",
        slice.metadata().name(),
        "\": the object has been modified; please apply your changes to the latest version "
        "and try again"));
  }
  EndpointSlice stored = slice;
  auto* meta = stored.mutable_metadata();
  meta->set_uid(old.metadata().uid());
  meta->set_generation(old.metadata().generation() + (ContentDiffers(old, slice) ? 1 : 0));
  meta->set_resourceversion(absl::StrCat(next_));
  old = stored;
  return stored;
}

absl::Status MemoryWriter::Delete(const EndpointSlice& slice) {
  ++deletes_;
  if (count_only_) return absl::OkStatus();
  actions_.push_back({Action::Kind::kDelete, slice});
  if (slices_.erase({slice.metadata().namespace_(), slice.metadata().name()}) == 0) {
    return absl::NotFoundError(
        absl::StrCat("endpointslices \"", slice.metadata().name(), "\" not found"));
  }
  return absl::OkStatus();
}

std::vector<std::shared_ptr<const EndpointSlice>> MemoryWriter::SlicesOf(
    const std::string& ns, const std::string& service) const {
  std::vector<std::shared_ptr<const EndpointSlice>> out;
  for (const auto& [key, slice] : slices_) {
    if (key.first != ns) continue;
    auto it = slice.metadata().labels().find(kLabelServiceName);
    if (it == slice.metadata().labels().end() || it->second != service) continue;
    out.push_back(std::make_shared<const EndpointSlice>(slice));
  }
  return out;  // the map is ordered by (namespace, name)
}

}  // namespace kslice::endpointslice
