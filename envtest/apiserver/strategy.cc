#include "envtest/apiserver/strategy.h"

#include <map>
#include <memory>
#include <set>
#include <string>

#include "api/apps/v1/apps.pb.h"
#include "api/core/v1/core.pb.h"
#include "envtest/storage/object.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace kslice::envtest::apiserver {
namespace {

namespace core = kslice::api::core::v1;
namespace apps = kslice::api::apps::v1;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

bool Is(const storage::ResourceConfig& c, absl::string_view group, absl::string_view resource) {
  return c.key.group == group && c.key.resource == resource;
}

// Copies field `name` of `from` into `to` (both of the same type); clears it when unset.
void CopyField(Message* to, const Message& from, absl::string_view name) {
  const FieldDescriptor* f = to->GetDescriptor()->FindFieldByName(std::string(name));
  if (f == nullptr) return;
  const auto* r = to->GetReflection();
  r->ClearField(to, f);
  if (f->is_repeated()) {
    for (int i = 0; i < from.GetReflection()->FieldSize(from, f); ++i) {
      r->AddMessage(to, f)->CopyFrom(from.GetReflection()->GetRepeatedMessage(from, f, i));
    }
    return;
  }
  if (!from.GetReflection()->HasField(from, f)) return;
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    r->MutableMessage(to, f)->CopyFrom(from.GetReflection()->GetMessage(from, f));
  }
}

// The kinds whose status changes only through /status (the main resource keeps it).
bool IsStatusKind(const Message& m) {
  return dynamic_cast<const core::Pod*>(&m) || dynamic_cast<const core::Service*>(&m) ||
         dynamic_cast<const core::Node*>(&m) || dynamic_cast<const core::Namespace*>(&m) ||
         dynamic_cast<const apps::Deployment*>(&m) || dynamic_cast<const apps::ReplicaSet*>(&m) ||
         dynamic_cast<const apps::DaemonSet*>(&m);
}

}  // namespace

bool HasStatusSubresource(const storage::ResourceConfig& c) {
  return Is(c, "", "pods") || Is(c, "", "services") || Is(c, "", "nodes") ||
         Is(c, "", "namespaces") || Is(c, "apps", "deployments") ||
         Is(c, "apps", "replicasets") || Is(c, "apps", "daemonsets");
}

bool HasScaleSubresource(const storage::ResourceConfig& c) {
  return Is(c, "apps", "deployments") || Is(c, "apps", "replicasets");
}

bool AllowCreateOnUpdate(const storage::ResourceConfig& c) {
  return Is(c, "", "endpoints") || Is(c, "", "events") || Is(c, "coordination.k8s.io", "leases");
}

bool ReturnsDeletedObject(const storage::ResourceConfig& c) { return Is(c, "", "pods"); }

std::string PodQosClass(const Message& message) {
  const auto* pod = dynamic_cast<const core::Pod*>(&message);
  if (pod == nullptr) return "";
  // Only cpu and memory count; init containers too.
  static const std::set<std::string> kSupported = {"cpu", "memory"};
  bool any_request_or_limit = false;
  bool guaranteed = true;
  std::map<std::string, std::string> requests, limits;
  auto visit = [&](const core::Container& c) {
    std::set<std::string> limited;
    for (const auto& [name, q] : c.resources().limits()) {
      if (!kSupported.count(name)) continue;
      if (q.string() != "0") {
        any_request_or_limit = true;
        limited.insert(name);
      }
    }
    for (const auto& [name, q] : c.resources().requests()) {
      if (!kSupported.count(name)) continue;
      if (q.string() != "0") any_request_or_limit = true;
      auto lim = c.resources().limits().find(name);
      if (lim == c.resources().limits().end() || lim->second.string() != q.string()) {
        guaranteed = false;
      }
    }
    if (limited.size() != kSupported.size()) guaranteed = false;
  };
  for (const core::Container& c : pod->spec().containers()) visit(c);
  for (const core::Container& c : pod->spec().initcontainers()) visit(c);
  if (!any_request_or_limit) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

void PrepareForCreate(Message* object) {
  if (auto* pod = dynamic_cast<core::Pod*>(object)) {
    pod->clear_status();
    pod->mutable_status()->set_phase("Pending");
    pod->mutable_status()->set_qosclass(PodQosClass(*pod));
  } else if (auto* svc = dynamic_cast<core::Service*>(object)) {
    svc->clear_status();
  } else if (dynamic_cast<apps::Deployment*>(object) || dynamic_cast<apps::ReplicaSet*>(object) ||
             dynamic_cast<apps::DaemonSet*>(object)) {
    // The apps strategies' PrepareForCreate: status starts empty.
    object->GetReflection()->ClearField(object,
                                        object->GetDescriptor()->FindFieldByName("status"));
  } else if (auto* ns = dynamic_cast<core::Namespace*>(object)) {
    ns->clear_status();
    ns->mutable_status()->set_phase("Active");
    bool has = false;
    for (const std::string& f : ns->spec().finalizers()) has |= f == "kubernetes";
    if (!has) ns->mutable_spec()->add_finalizers("kubernetes");
  }
}

void PrepareForUpdate(Message* object, const Message& old, absl::string_view subresource) {
  const auto& old_meta = storage::MetaOf(old);
  auto* meta = storage::MutableMetaOf(object);
  // System fields the client may omit (rest.BeforeUpdate / FillObjectMetaSystemFields).
  if (meta->uid().empty()) meta->set_uid(old_meta.uid());
  // Requests cannot set the generation (rest.BeforeUpdate): the stored one is kept and
  // storage bumps it. An update built from scratch (no generation) is valid.
  if (old_meta.has_generation()) {
    meta->set_generation(old_meta.generation());
  } else {
    meta->clear_generation();
  }
  if (old_meta.has_creationtimestamp()) {
    *meta->mutable_creationtimestamp() = old_meta.creationtimestamp();
  } else {
    meta->clear_creationtimestamp();
  }
  meta->clear_selflink();
  if (subresource == "status") {
    // Everything but status and metadata from the stored object.
    const FieldDescriptor* status_field = object->GetDescriptor()->FindFieldByName("status");
    std::unique_ptr<Message> saved(object->New());
    saved->CopyFrom(*object);
    object->CopyFrom(old);
    CopyField(object, *saved, "metadata");
    if (status_field != nullptr) CopyField(object, *saved, "status");
    meta = storage::MutableMetaOf(object);
    // Upstream's status strategies: most kinds reset metadata as
    // metav1.ResetObjectMetaForStatus does; the apps kinds keep the request's metadata,
    // except that a Deployment keeps its stored labels (its controller writes the
    // revision annotation through /status without bumping the generation).
    const std::string& kind = object->GetDescriptor()->full_name();
    const bool apps_rs_or_ds =
        kind == "kslice.api.apps.v1.ReplicaSet" || kind == "kslice.api.apps.v1.DaemonSet";
    const bool apps_deployment = kind == "kslice.api.apps.v1.Deployment";
    if (!apps_rs_or_ds) *meta->mutable_labels() = old_meta.labels();
    if (!apps_rs_or_ds && !apps_deployment) {
      *meta->mutable_annotations() = old_meta.annotations();
      *meta->mutable_finalizers() = old_meta.finalizers();
      *meta->mutable_ownerreferences() = old_meta.ownerreferences();
    }
    if (old_meta.has_generation()) {
      meta->set_generation(old_meta.generation());
    } else {
      meta->clear_generation();
    }
  } else if (object->GetDescriptor()->FindFieldByName("status") != nullptr &&
             IsStatusKind(*object)) {
    CopyField(object, old, "status");
  }
  if (auto* ns = dynamic_cast<core::Namespace*>(object); ns != nullptr && subresource != "finalize") {
    // spec.finalizers change only through /finalize.
    *ns->mutable_spec()->mutable_finalizers() =
        static_cast<const core::Namespace&>(old).spec().finalizers();
  }
  if (old_meta.has_deletiontimestamp()) {
    *meta->mutable_deletiontimestamp() = old_meta.deletiontimestamp();
  } else {
    meta->clear_deletiontimestamp();
  }
  if (old_meta.has_deletiongraceperiodseconds()) {
    meta->set_deletiongraceperiodseconds(old_meta.deletiongraceperiodseconds());
  } else {
    meta->clear_deletiongraceperiodseconds();
  }
}

void PatchAllocatedValues(Message* object, const Message& old_message) {
  auto* svc = dynamic_cast<core::Service*>(object);
  const auto* old = dynamic_cast<const core::Service*>(&old_message);
  if (svc == nullptr || old == nullptr) return;
  core::ServiceSpec* spec = svc->mutable_spec();
  const core::ServiceSpec& prev = old->spec();
  const std::string type = spec->type().empty() ? "ClusterIP" : spec->type();
  if (type != "ExternalName" && spec->clusterip().empty() && spec->clusterips_size() == 0) {
    spec->set_clusterip(prev.clusterip());
    *spec->mutable_clusterips() = prev.clusterips();
    if (spec->ipfamilies_size() == 0) *spec->mutable_ipfamilies() = prev.ipfamilies();
    if (spec->ipfamilypolicy().empty() && prev.has_ipfamilypolicy()) {
      spec->set_ipfamilypolicy(prev.ipfamilypolicy());
    }
  }
  if (type == "NodePort" || type == "LoadBalancer") {
    for (core::ServicePort& p : *spec->mutable_ports()) {
      if (p.nodeport() != 0) continue;
      for (const core::ServicePort& op : prev.ports()) {
        if (op.nodeport() == 0) continue;
        bool same = !p.name().empty() ? op.name() == p.name()
                                      : op.port() == p.port() && op.protocol() == p.protocol();
        if (same) {
          p.set_nodeport(op.nodeport());
          break;
        }
      }
    }
  }
  if (spec->healthchecknodeport() == 0 && prev.healthchecknodeport() != 0 &&
      type == "LoadBalancer" && spec->externaltrafficpolicy() == "Local") {
    spec->set_healthchecknodeport(prev.healthchecknodeport());
  }
}

void NormalizePodIps(Message* object) {
  auto* pod = dynamic_cast<core::Pod*>(object);
  if (pod == nullptr || !pod->has_status()) return;
  core::PodStatus* st = pod->mutable_status();
  if (!st->podip().empty()) {
    if (st->podips_size() == 0 || st->podips(0).ip() != st->podip()) {
      st->clear_podips();
      st->add_podips()->set_ip(st->podip());
    }
  } else if (st->podips_size() > 0) {
    st->set_podip(st->podips(0).ip());
  }
  if (!st->hostip().empty()) {
    if (st->hostips_size() == 0 || st->hostips(0).ip() != st->hostip()) {
      st->clear_hostips();
      st->add_hostips()->set_ip(st->hostip());
    }
  } else if (st->hostips_size() > 0) {
    st->set_hostip(st->hostips(0).ip());
  }
}

std::optional<int64_t> GracePeriodFor(const Message& object, std::optional<int64_t> requested) {
  const auto* pod = dynamic_cast<const core::Pod*>(&object);
  if (pod == nullptr) return std::nullopt;
  int64_t grace = requested ? *requested
                            : (pod->spec().has_terminationgraceperiodseconds()
                                   ? pod->spec().terminationgraceperiodseconds()
                                   : 0);
  if (pod->spec().nodename().empty()) grace = 0;
  if (pod->status().phase() == "Succeeded" || pod->status().phase() == "Failed") grace = 0;
  if (grace < 0) grace = 1;
  return grace;
}

}  // namespace kslice::envtest::apiserver
