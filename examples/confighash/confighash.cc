#include "examples/confighash/confighash.h"

#include <map>

#include "absl/strings/str_format.h"
#include "client/errors/errors.h"
#include "informers/cache/object.h"

namespace kslice::examples {

using api::core::v1::ConfigMap;

std::string DataHash(const ConfigMap& cm) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // separator
  };
  for (const auto& [k, v] : std::map<std::string, std::string>(cm.data().begin(), cm.data().end())) {
    mix(k), mix(v);
  }
  for (const auto& [k, v] :
       std::map<std::string, std::string>(cm.binarydata().begin(), cm.binarydata().end())) {
    mix(k), mix(v);
  }
  return absl::StrFormat("%016x", h);
}

absl::StatusOr<std::unique_ptr<controller::Controller>> SetUpConfigHash(
    controller::Manager& manager, int workers) {
  absl::StatusOr<informers::TypedInformer<ConfigMap>> cms = manager.informers().For<ConfigMap>();
  if (!cms.ok()) return cms.status();
  informers::Lister<ConfigMap> lister = cms->Lister();
  client::RestClient* rest = &manager.client();

  // Reconcile one key: read the cache, compare, patch the annotation when it is stale.
  auto reconcile = [lister, rest](const std::string& key) -> absl::StatusOr<controller::Result> {
    auto [ns, name] = informers::SplitKey(key);
    absl::StatusOr<std::shared_ptr<const ConfigMap>> cm = lister.Get(ns, name);
    if (!cm.ok()) {
      if (absl::IsNotFound(cm.status())) return controller::Result{};  // deleted: nothing to do
      return cm.status();
    }
    const std::string want = DataHash(**cm);
    auto it = (*cm)->metadata().annotations().find(kHashAnnotation);
    if (it != (*cm)->metadata().annotations().end() && it->second == want) {
      return controller::Result{};
    }
    // A merge patch with the resourceVersion we saw: a concurrent change is a 409, and
    // the key comes back through the queue with the newer object.
    std::string patch = absl::StrFormat(
        R"({"metadata":{"resourceVersion":"%s","annotations":{"%s":"%s"}}})",
        (*cm)->metadata().resourceversion(), kHashAnnotation, want);
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> r =
        rest->Patch(*client::ResourceFor(ConfigMap::descriptor()), ns, name,
                    client::PatchType::kMerge, patch, {.field_manager = "confighash"});
    if (!r.ok() && !absl::IsNotFound(r.status())) return r.status();
    return controller::Result{};
  };

  controller::ControllerOptions o;
  o.name = "confighash";
  o.workers = workers;
  o.registry = &manager.registry();  // served on the manager's /metrics
  auto c = std::make_unique<controller::Controller>(std::move(o), std::move(reconcile));
  controller::Controller* ctl = c.get();
  auto enqueue = [ctl](const ConfigMap& cm) { ctl->Enqueue(informers::KeyOf(cm)); };
  absl::StatusOr<std::shared_ptr<informers::HandlerRegistration>> reg = cms->AddEventHandler({
      .add = [enqueue](const std::shared_ptr<const ConfigMap>& cm, bool) { enqueue(*cm); },
      .update = [enqueue](const std::shared_ptr<const ConfigMap>&,
                          const std::shared_ptr<const ConfigMap>& cm) { enqueue(*cm); },
      .del = nullptr,
  });
  if (!reg.ok()) return reg.status();
  manager.AddController(ctl);
  return c;
}

}  // namespace kslice::examples
