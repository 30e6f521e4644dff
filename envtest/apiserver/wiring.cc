#include "envtest/apiserver/wiring.h"

#include <memory>
#include <string>
#include <utility>

#include "api/codec/codec.h"
#include "api/codec/node.h"
#include "api/codec/object.h"
#include "envtest/fieldmanager/fieldmanager.h"
#include "envtest/patch/patch.h"
#include "envtest/storage/object.h"
#include "envtest/validation/validation.h"
#include "envtest/defaults/defaults.h"
#include "envtest/discovery/documents.h"
#include "envtest/printers/table.h"

namespace kslice::envtest::apiserver {

absl::Status InstallStandardHooks(ServerOptions* options, const std::string& server_address) {
  const storage::ResourceRegistry& registry = options->store.registry != nullptr
                                                  ? *options->store.registry
                                                  : storage::ResourceRegistry::Builtin();
  discovery::Documents::Options dopts;
  dopts.server_address = server_address;
  absl::StatusOr<std::unique_ptr<discovery::Documents>> docs =
      discovery::Documents::Build(registry, std::move(dopts));
  if (!docs.ok()) return docs.status();
  std::shared_ptr<const discovery::Documents> shared(std::move(*docs));
  options->hooks.non_resource = [shared](const std::string& path,
                                         const Request& request) -> std::optional<Response> {
    absl::string_view target = request.target;
    size_t q = target.find('?');
    absl::string_view query = q == absl::string_view::npos ? "" : target.substr(q + 1);
    std::optional<discovery::Response> r = shared->Serve(
        path, query, request.Header("Accept"), request.Header("If-None-Match"));
    if (!r) return std::nullopt;
    Response out;
    out.status = r->status;
    out.headers = std::move(r->headers);
    out.body = std::move(r->body);
    return out;
  };
  // Service IP families are the server's to decide (dual-stack service CIDRs).
  options->hooks.defaults = [](google::protobuf::Message* obj) {
    defaults::Options o;
    o.service_ip_families = false;
    defaults::Apply(obj, o);
  };
  options->hooks.validate_create = [](const google::protobuf::Message& obj) {
    return validation::ValidateCreate(obj);
  };
  options->hooks.validate_update = [](const google::protobuf::Message& obj,
                                      const google::protobuf::Message& old) {
    return validation::ValidateUpdate(obj, old);
  };
  options->hooks.validate_status_update = [](const google::protobuf::Message& obj,
                                             const google::protobuf::Message& old) {
    return validation::ValidateStatusUpdate(obj, old);
  };
  options->hooks.patch =
      [](const storage::ResourceConfig& config, const google::protobuf::Message* current,
         const PatchRequest& pr, absl::string_view /*ns*/,
         absl::string_view /*name*/) -> absl::StatusOr<std::unique_ptr<google::protobuf::Message>> {
    const google::protobuf::Descriptor* type = config.prototype->GetDescriptor();
    std::optional<codec::Node> live;
    if (current != nullptr) {
      absl::StatusOr<codec::Node> n = codec::ToNode(*current);
      if (!n.ok()) return n.status();
      live = *std::move(n);
    }
    absl::StatusOr<codec::Node> result;
    switch (pr.kind) {
      case PatchKind::kApply: {
        absl::StatusOr<codec::Node> cfg = codec::ParseYaml(pr.body);
        if (!cfg.ok()) {
          return storage::BadRequestError(
              absl::StrCat("error decoding YAML: ", cfg.status().message()));
        }
        fieldmanager::Options fo;
        fo.manager = pr.manager;
        fo.force = pr.force;
        fo.subresource = pr.subresource;
        fo.now = absl::Now();
        fo.api_version = config.api_version;
        fo.kind = config.kind;
        result = fieldmanager::Apply(live ? &*live : nullptr, *cfg, type, fo);
        break;
      }
      case PatchKind::kJson:
        result = patch::ApplyJsonPatch(*live, pr.body);
        break;
      case PatchKind::kMerge:
        result = patch::ApplyMergePatch(*live, pr.body);
        break;
      case PatchKind::kStrategic:
        result = patch::ApplyStrategicMergePatch(*live, pr.body, type);
        break;
    }
    if (!result.ok()) return result.status();
    std::unique_ptr<google::protobuf::Message> out(config.prototype->New());
    if (absl::Status s = codec::NodeToMessage(*result, out.get()); !s.ok()) {
      return storage::InvalidError(config.key.group, config.kind,
                                   live ? storage::MetaOf(*current).name() : "",
                                   {storage::FieldError{"FieldValueInvalid", "patch",
                                                        std::string(s.message())}});
    }
    return out;
  };
  options->hooks.track_fields = [](const google::protobuf::Message* live,
                                   google::protobuf::Message* obj, const std::string& manager,
                                   absl::string_view subresource) -> absl::Status {
    const google::protobuf::Descriptor* type = obj->GetDescriptor();
    std::optional<codec::Node> live_node;
    if (live != nullptr) {
      absl::StatusOr<codec::Node> n = codec::ToNode(*live);
      if (!n.ok()) return n.status();
      live_node = *std::move(n);
    }
    absl::StatusOr<codec::Node> updated = codec::ToNode(*obj);
    if (!updated.ok()) return updated.status();
    fieldmanager::Options fo;
    fo.manager = manager;
    fo.subresource = std::string(subresource);
    fo.now = absl::Now();
    absl::StatusOr<codec::Node> tracked =
        fieldmanager::Update(live_node ? &*live_node : nullptr, *updated, type, fo);
    if (!tracked.ok()) return tracked.status();
    std::unique_ptr<google::protobuf::Message> with(obj->New());
    if (absl::Status s = codec::NodeToMessage(*tracked, with.get()); !s.ok()) {
      return absl::InternalError(s.message());
    }
    *storage::MutableMetaOf(obj)->mutable_managedfields() =
        storage::MetaOf(*with).managedfields();
    return absl::OkStatus();
  };
  options->hooks.table = [](const TableRequest& t) -> absl::StatusOr<std::string> {
    absl::StatusOr<printers::IncludeObject> include = printers::ParseIncludeObject(t.include_object);
    if (!include.ok()) return include.status();
    printers::TableOptions o;
    o.include_object = *include;
    o.no_headers = t.no_headers;
    o.version = t.v1beta1 ? printers::TableVersion::kV1beta1 : printers::TableVersion::kV1;
    absl::StatusOr<codec::Node> table;
    if (t.list_meta == nullptr && t.objects->size() == 1) {
      table = printers::ToTable(*(*t.objects)[0], o);
    } else {
      printers::ListMetaFields lm;
      if (t.list_meta != nullptr) {
        lm.resource_version = t.list_meta->resourceversion();
        lm.continue_token = t.list_meta->continue_();
        if (t.list_meta->has_remainingitemcount()) {
          lm.remaining_item_count = t.list_meta->remainingitemcount();
        }
      }
      table = printers::ToTable(t.item_type, *t.objects, o, lm);
    }
    if (!table.ok()) return table.status();
    if (t.yaml) return codec::WriteYaml(*table);
    codec::WriteOptions w;
    w.indent = t.pretty ? 2 : 0;
    return codec::WriteJson(*table, w);
  };
  return absl::OkStatus();
}

}  // namespace kslice::envtest::apiserver
