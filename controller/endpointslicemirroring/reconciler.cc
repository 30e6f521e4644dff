#include "controller/endpointslicemirroring/reconciler.h"

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/errors/errors.h"

namespace kslice::endpointslicemirroring {

using api::discovery::v1::Endpoint;
using api::discovery::v1::EndpointPort;

namespace {

// Desired endpoints of one key, in insertion order (upstream's set hands them out in
// map order, i.e. any order; ours is the canonical address order of RepackSubsets).
// Inserting an endpoint whose identity is present replaces it, as upstream's Insert.
class EndpointSet {
 public:
  void Insert(Endpoint endpoint) {
    std::string id = EndpointIdentity(endpoint);
    auto [it, inserted] = index_.try_emplace(std::move(id), items_.size());
    if (inserted) {
      items_.push_back(std::move(endpoint));
    } else {
      items_[it->second] = std::move(endpoint);
    }
  }
  const Endpoint* Get(const Endpoint& like) const {
    auto it = index_.find(EndpointIdentity(like));
    return it == index_.end() ? nullptr : &items_[it->second];
  }
  size_t size() const { return items_.size(); }
  const std::vector<Endpoint>& items() const { return items_; }

 private:
  std::vector<Endpoint> items_;
  std::unordered_map<std::string, size_t> index_;
};

struct Desired {
  std::string address_type;
  std::vector<EndpointPort> ports;
  EndpointSet endpoints;
};

struct Totals {
  int added = 0, updated = 0, removed = 0;
  void Add(const Totals& o) {
    added += o.added;
    updated += o.updated;
    removed += o.removed;
  }
  bool None() const { return added == 0 && updated == 0 && removed == 0; }
};

using SlicePtr = std::shared_ptr<const EndpointSlice>;

// What it takes for `existing` to hold exactly `desired` (upstream totalChanges).
Totals TotalChanges(const EndpointSlice& existing, const EndpointSet& desired) {
  Totals t;
  int matches = 0;
  for (const Endpoint& e : existing.endpoints()) {
    const Endpoint* want = desired.Get(e);
    if (want == nullptr) {
      ++t.removed;
      continue;
    }
    ++matches;
    if (!EndpointsEqualBeyondHash(*want, e)) ++t.updated;
  }
  t.added = static_cast<int>(desired.size()) - matches;
  return t;
}

std::map<std::string, std::string> ToMap(const google::protobuf::Map<std::string, std::string>& m,
                                         std::initializer_list<std::string_view> without = {}) {
  std::map<std::string, std::string> out(m.begin(), m.end());
  for (std::string_view k : without) out.erase(std::string(k));
  return out;
}

// The slice points at an earlier Endpoints of the same name (deleted and created
// again): rewrite it, or the garbage collector would delete it with the old owner.
bool HasStaleOwnerReference(const EndpointSlice& slice, const Endpoints& endpoints) {
  for (const auto& owner : slice.metadata().ownerreferences()) {
    if (owner.kind() == "Endpoints" && owner.name() == endpoints.metadata().name() &&
        owner.uid() != endpoints.metadata().uid()) {
      return true;
    }
  }
  return false;
}

// The error `s` with `message` in front, keeping its code and payloads (the API
// Status the client predicates read).
absl::Status Annotate(const absl::Status& s, const std::string& message) {
  absl::Status out(s.code(), absl::StrCat(message, ": ", s.message()));
  s.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

bool IsNamespaceTerminating(const absl::Status& s) {
  std::optional<client::StatusError> e = client::FromStatus(s);
  return e.has_value() && client::FindCause(*e, "NamespaceTerminating").has_value();
}

}  // namespace

struct Reconciler::Plan {
  std::vector<EndpointSlice> to_create;
  std::vector<EndpointSlice> to_update;
  std::vector<SlicePtr> to_delete;
};

Reconciler::Reconciler(SliceWriter* writer, endpointslice::SliceTracker* tracker, Metrics* metrics,
                       EventFunc events, ReconcilerOptions options)
    : writer_(writer),
      tracker_(tracker),
      metrics_(metrics),
      events_(std::move(events)),
      options_(options) {}

absl::Status Reconciler::Reconcile(const Endpoints& endpoints,
                                   const std::vector<SlicePtr>& existing) {
  const int max = options_.max_endpoints_per_subset;
  const auto& meta = endpoints.metadata();

  // Desired state, keyed by address type and port set (keys in first-seen order).
  std::vector<std::string> key_order;
  std::map<std::string, Desired> desired;
  int invalid = 0;
  int skipped = 0;
  for (const api::core::v1::EndpointSubset& subset : RepackSubsets(endpoints.subsets())) {
    std::vector<EndpointPort> ports = ToSlicePorts(subset.ports());
    const std::string port_key = PortMapKey(ports);
    for (const char* type : {kAddressTypeIPv4, kAddressTypeIPv6}) {
      std::string key = AddrTypePortMapKey(type, port_key);
      auto [it, inserted] = desired.try_emplace(key);
      if (inserted) {
        key_order.push_back(key);
        it->second.address_type = type;
      }
      it->second.ports = ports;
    }
    const int total = subset.addresses_size() + subset.notreadyaddresses_size();
    int added = 0;
    auto mirror = [&](const api::core::v1::EndpointAddress& address, bool ready) {
      if (added >= max) return false;  // the per-subset limit: stop this list
      std::optional<MirroredEndpoint> m = AddressToEndpoint(address, ready);
      if (!m.has_value()) {
        ++invalid;
        return true;
      }
      desired[AddrTypePortMapKey(m->address_type, port_key)].endpoints.Insert(
          std::move(m->endpoint));
      ++added;
      return true;
    };
    for (const auto& a : subset.addresses()) {
      if (!mirror(a, true)) break;
    }
    for (const auto& a : subset.notreadyaddresses()) {
      if (!mirror(a, false)) break;
    }
    skipped += total - added;
  }

  if (metrics_ != nullptr) metrics_->addresses_skipped_per_sync->Observe(skipped);
  if (events_ && invalid > 0) {
    events_(endpoints, "Warning", kReasonInvalidIPAddress,
            absl::StrFormat("Skipped %d invalid IP addresses when mirroring to EndpointSlices",
                            invalid));
  }
  if (events_ && skipped > invalid) {
    events_(endpoints, "Warning", kReasonTooManyAddressesToMirror,
            absl::StrFormat("A max of %d addresses can be mirrored to EndpointSlices per "
                            "Endpoints subset. %d addresses were skipped",
                            max, skipped));
  }

  // Existing slices by the same key.
  std::vector<std::string> existing_order;
  std::map<std::string, std::vector<SlicePtr>> existing_by_key;
  for (const SlicePtr& s : existing) {
    std::string key = AddrTypePortMapKey(s->addresstype(), PortMapKey(s->ports()));
    auto [it, inserted] = existing_by_key.try_emplace(key);
    if (inserted) existing_order.push_back(key);
    it->second.push_back(s);
  }

  const auto want_annotations =
      ToMap(meta.annotations(), {kAnnotationTriggerTime, kAnnotationLastApplied});
  const auto want_labels = ToMap(meta.labels());
  Plan plan;
  Totals totals;
  EndpointPortCache port_cache;
  const std::vector<SlicePtr> none;
  for (const std::string& key : key_order) {
    Desired& d = desired[key];
    auto found = existing_by_key.find(key);
    const std::vector<SlicePtr>& have = found == existing_by_key.end() ? none : found->second;
    const int creates_before = static_cast<int>(plan.to_create.size());
    const int deletes_before = static_cast<int>(plan.to_delete.size());

    // reconcileByPortMapping.
    if (d.endpoints.size() == 0) {
      for (const SlicePtr& s : have) {
        plan.to_delete.push_back(s);
        totals.removed += s->endpoints_size();
      }
    } else {
      bool rewrite = true;
      if (have.empty()) {
        totals.added += static_cast<int>(d.endpoints.size());
      } else {
        plan.to_delete.insert(plan.to_delete.end(), have.begin() + 1, have.end());
        Totals t = TotalChanges(*have[0], d.endpoints);
        totals.Add(t);
        rewrite = !t.None() ||
                  ToMap(have[0]->metadata().labels(), {kLabelManagedBy, kLabelServiceName}) !=
                      want_labels ||
                  ToMap(have[0]->metadata().annotations()) != want_annotations ||
                  HasStaleOwnerReference(*have[0], endpoints);
      }
      if (rewrite) {
        const std::string name = have.empty() ? "" : have[0]->metadata().name();
        EndpointSlice slice = NewEndpointSlice(endpoints, d.ports, d.address_type, name);
        for (const Endpoint& e : d.endpoints.items()) {
          if (slice.endpoints_size() >= max) break;
          *slice.add_endpoints() = e;
        }
        (name.empty() ? plan.to_create : plan.to_update).push_back(std::move(slice));
      }
    }
    port_cache[key] =
        EfficiencyInfo{.endpoints = static_cast<int>(d.endpoints.size()),
                       .slices = static_cast<int>(have.size()) +
                                 (static_cast<int>(plan.to_create.size()) - creates_before) -
                                 (static_cast<int>(plan.to_delete.size()) - deletes_before)};
  }
  // Port sets no longer desired.
  for (const std::string& key : existing_order) {
    if (desired.contains(key)) continue;
    for (const SlicePtr& s : existing_by_key[key]) plan.to_delete.push_back(s);
  }

  if (metrics_ != nullptr) {
    metrics_->endpoints_added_per_sync->Observe(totals.added);
    metrics_->endpoints_updated_per_sync->Observe(totals.updated);
    metrics_->endpoints_removed_per_sync->Observe(totals.removed);
    metrics_->UpdateEndpointPortCache(absl::StrCat(meta.namespace_(), "/", meta.name()),
                                      std::move(port_cache));
  }
  return Finalize(endpoints, plan);
}

absl::Status Reconciler::Finalize(const Endpoints& endpoints, Plan& plan) {
  // Recycle: per address type, the i-th create becomes an update of the i-th slice of
  // that type being deleted.
  for (const char* type : {kAddressTypeIPv4, kAddressTypeIPv6}) {
    std::vector<size_t> creates, deletes;
    for (size_t i = 0; i < plan.to_create.size(); ++i) {
      if (plan.to_create[i].addresstype() == type) creates.push_back(i);
    }
    for (size_t i = 0; i < plan.to_delete.size(); ++i) {
      if (plan.to_delete[i]->addresstype() == type) deletes.push_back(i);
    }
    const size_t n = std::min(creates.size(), deletes.size());
    if (n == 0) continue;
    std::vector<bool> drop_create(plan.to_create.size()), drop_delete(plan.to_delete.size());
    for (size_t i = 0; i < n; ++i) {
      EndpointSlice slice = std::move(plan.to_create[creates[i]]);
      slice.mutable_metadata()->set_name(plan.to_delete[deletes[i]]->metadata().name());
      plan.to_update.push_back(std::move(slice));
      drop_create[creates[i]] = true;
      drop_delete[deletes[i]] = true;
    }
    std::vector<EndpointSlice> kept_creates;
    for (size_t i = 0; i < plan.to_create.size(); ++i) {
      if (!drop_create[i]) kept_creates.push_back(std::move(plan.to_create[i]));
    }
    std::vector<SlicePtr> kept_deletes;
    for (size_t i = 0; i < plan.to_delete.size(); ++i) {
      if (!drop_delete[i]) kept_deletes.push_back(std::move(plan.to_delete[i]));
    }
    plan.to_create = std::move(kept_creates);
    plan.to_delete = std::move(kept_deletes);
  }

  const std::string& ns = endpoints.metadata().namespace_();
  const std::string& name = endpoints.metadata().name();
  // No new slices for an Endpoints being deleted.
  if (!endpoints.metadata().has_deletiontimestamp()) {
    for (const EndpointSlice& slice : plan.to_create) {
      absl::StatusOr<EndpointSlice> created = writer_->Create(slice);
      if (!created.ok()) {
        // Creates keep failing in a terminating namespace: drop the item.
        if (IsNamespaceTerminating(created.status())) return absl::OkStatus();
        return Annotate(
            created.status(),
            absl::StrCat("failed to create EndpointSlice for Endpoints ", ns, "/", name));
      }
      tracker_->Update(*created);
      if (metrics_ != nullptr) metrics_->changes->WithLabelValues({"create"}).Inc();
    }
  }
  for (const EndpointSlice& slice : plan.to_update) {
    absl::StatusOr<EndpointSlice> updated = writer_->Update(slice);
    if (!updated.ok()) {
      return Annotate(updated.status(),
                      absl::StrCat("failed to update ", slice.metadata().name(),
                                   " EndpointSlice for Endpoints ", ns, "/", name));
    }
    tracker_->Update(*updated);
    if (metrics_ != nullptr) metrics_->changes->WithLabelValues({"update"}).Inc();
  }
  for (const SlicePtr& slice : plan.to_delete) {
    absl::Status s = writer_->Delete(*slice);
    if (!s.ok()) {
      return Annotate(s, absl::StrCat("failed to delete ", slice->metadata().name(),
                                      " EndpointSlice for Endpoints ", ns, "/", name));
    }
    tracker_->ExpectDeletion(*slice);
    if (metrics_ != nullptr) metrics_->changes->WithLabelValues({"delete"}).Inc();
  }
  return absl::OkStatus();
}

absl::Status Reconciler::Sync(const std::string& key, const Listers& listers) {
  const absl::Time start = absl::Now();
  absl::Status s = SyncLocked(key, listers);
  if (metrics_ != nullptr) {
    // Upstream: whole milliseconds, in seconds.
    metrics_->endpoints_sync_duration->Observe(
        static_cast<double>(absl::ToInt64Milliseconds(absl::Now() - start)) / 1000);
  }
  return s;
}

absl::Status Reconciler::SyncLocked(const std::string& key, const Listers& listers) {
  const size_t slash = key.find('/');
  const std::string ns = slash == std::string::npos ? "" : key.substr(0, slash);
  const std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
  if (name.empty() || name.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected key format: \"", key, "\""));
  }

  absl::StatusOr<std::shared_ptr<const Endpoints>> endpoints = listers.endpoints(ns, name);
  if (!endpoints.ok()) {
    if (absl::IsNotFound(endpoints.status())) return DeleteMirroredSlices(ns, name, listers);
    return endpoints.status();
  }
  if (!ShouldMirror(**endpoints)) return DeleteMirroredSlices(ns, name, listers);

  absl::StatusOr<std::shared_ptr<const Service>> service = listers.service(ns, name);
  if (!service.ok()) {
    if (absl::IsNotFound(service.status())) return DeleteMirroredSlices(ns, name, listers);
    return service.status();
  }
  // A selector (an empty one does not survive the API's encoding: nil) means the
  // EndpointSlice controller owns the service's slices.
  if ((*service)->spec().selector_size() > 0) return DeleteMirroredSlices(ns, name, listers);

  absl::StatusOr<std::vector<SlicePtr>> slices = listers.mirrored_slices(ns, name);
  if (!slices.ok()) return slices.status();
  if (tracker_->StaleSlices(**service, *slices)) {
    return absl::AbortedError("EndpointSlice informer cache is out of date");
  }
  return Reconcile(**endpoints, *slices);
}

absl::Status Reconciler::DeleteMirroredSlices(const std::string& ns, const std::string& name,
                                              const Listers& listers) {
  tracker_->DeleteService(ns, name);
  absl::StatusOr<std::vector<SlicePtr>> slices = listers.mirrored_slices(ns, name);
  if (!slices.ok()) return slices.status();
  return DeleteEndpoints(ns, name, *slices);
}

absl::Status Reconciler::DeleteEndpoints(const std::string& ns, const std::string& name,
                                         const std::vector<SlicePtr>& slices) {
  if (metrics_ != nullptr) metrics_->DeleteEndpoints(absl::StrCat(ns, "/", name));
  std::vector<absl::Status> errors;
  for (const SlicePtr& slice : slices) {
    absl::Status s = writer_->Delete(*slice);
    if (!s.ok()) errors.push_back(std::move(s));
  }
  if (errors.empty()) return absl::OkStatus();
  return Annotate(errors[0], absl::StrFormat("error(s) deleting %d/%d EndpointSlices for %s/%s "
                                             "Endpoints, including",
                                             errors.size(), slices.size(), ns, name));
}

}  // namespace kslice::endpointslicemirroring
