#include "controller/endpointslice/reconciler.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/errors/errors.h"
#include "controller/endpointslice/endpoint_set.h"
#include "controller/endpointslice/trafficdist/trafficdist.h"
#include "controller/endpointslice/utils.h"
#include "google/protobuf/arena.h"

namespace kslice::endpointslice {

using api::discovery::v1::Endpoint;

namespace {

using SlicePtr = std::shared_ptr<const EndpointSlice>;
using NodeResult = absl::StatusOr<std::shared_ptr<const Node>>;

constexpr char kTopologyAwareHintsDisabled[] = "Topology Aware Hints has been disabled";

// Upstream utilerrors.NewAggregate: nothing -> OK, one error -> itself, several ->
// "[e1, e2]" (with the first error's code).
absl::Status Aggregate(const std::vector<absl::Status>& errs) {
  if (errs.empty()) return absl::OkStatus();
  if (errs.size() == 1) return errs[0];
  std::vector<std::string> messages;
  for (const absl::Status& e : errs) messages.emplace_back(e.message());
  return absl::Status(errs[0].code(), absl::StrCat("[", absl::StrJoin(messages, ", "), "]"));
}

// Keeps the error's code, prefixes its message.
absl::Status Wrap(const absl::Status& s, std::string_view prefix) {
  return absl::Status(s.code(), absl::StrCat(std::string(prefix), s.message()));
}

using google::protobuf::Arena;

// Everything one Reconcile call needs, shared by the per-address-type passes.
struct Pass {
  const Service& service;
  const std::string service_key;
  SliceWriter* writer;
  SliceTracker* tracker;
  topologycache::TopologyCache* topology;
  Metrics* metrics;
  const EventFunc& events;
  const ReconcilerOptions& options;
  const NodeGetter& nodes;
  // Node lookups are memoised for the call (many pods share a node).
  absl::flat_hash_map<std::string, NodeResult> node_cache;

  const NodeResult& GetNode(const std::string& name) {
    auto it = node_cache.find(name);
    if (it == node_cache.end()) it = node_cache.emplace(name, nodes(name)).first;
    return it->second;
  }
};

// A copy of `s` on the arena without its endpoints (they are about to be replaced).
EndpointSlice* ArenaCopyWithoutEndpoints(Arena* arena, const EndpointSlice& s) {
  EndpointSlice* out = Arena::CreateMessage<EndpointSlice>(arena);
  out->mutable_metadata()->CopyFrom(s.metadata());
  out->set_addresstype(s.addresstype());
  out->mutable_ports()->CopyFrom(s.ports());
  return out;
}

EndpointSlice* ArenaCopy(Arena* arena, const EndpointSlice& s) {
  EndpointSlice* out = Arena::CreateMessage<EndpointSlice>(arena);
  out->CopyFrom(s);
  return out;
}

// The desired endpoints are heap messages kept per thread between reconciles and
// reused: Clear() keeps their strings' buffers, so refilling one for a pod copies the
// pod's name, uid, ... without allocating (on an arena, every string longer than the
// small-string buffer was a malloc and a free per reconcile). The slices on the arena
// take them with UnsafeArenaAddAllocated (no ownership transfer) and are gone before
// the lease ends; nothing keeps a pointer past ReconcileByAddressType.
class EndpointPool {
 public:
  // Endpoints handed out during the lease are returned when it ends.
  class Lease {
   public:
    explicit Lease(EndpointPool* pool) : pool_(pool), mark_(pool->used_) {}
    ~Lease() { pool_->Release(mark_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Endpoint* Take() { return pool_->Take(); }

   private:
    EndpointPool* pool_;
    size_t mark_;
  };

  static EndpointPool& ForThisThread() {
    thread_local EndpointPool pool;
    return pool;
  }

 private:
  // At most this many endpoints stay allocated between reconciles.
  static constexpr size_t kMaxRetained = 16384;

  Endpoint* Take() {
    if (used_ == endpoints_.size()) endpoints_.push_back(std::make_unique<Endpoint>());
    return endpoints_[used_++].get();
  }
  void Release(size_t mark) {
    used_ = mark;
    if (used_ == 0 && endpoints_.size() > kMaxRetained) endpoints_.resize(kMaxRetained);
  }

  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  size_t used_ = 0;
};

// The outcome of one port group (upstream reconcileByPortMapping). Slices to create
// and update live on the pass's arena.
struct PortGroupResult {
  std::vector<EndpointSlice*> to_create;
  std::vector<EndpointSlice*> to_update;
  std::vector<SlicePtr> to_delete;
  int added = 0;
  int removed = 0;
};

PortGroupResult ReconcileByPortMapping(Pass& pass, Arena* arena, const EndpointSlice& skeleton,
                                       const std::vector<SlicePtr>& existing,
                                       EndpointSet& desired) {
  const int max = pass.options.max_endpoints_per_slice;
  enum class State { kUnchanged, kUpdate, kDelete };
  struct Work {
    const SlicePtr* original;
    State state;
    EndpointSlice* copy;  // kUpdate: the new version (arena)
  };
  std::vector<Work> work;
  work.reserve(existing.size());
  PortGroupResult r;
  std::vector<Endpoint*> kept;

  // 1. Keep the desired version of every endpoint still desired; drop the rest.
  for (const SlicePtr& slice : existing) {
    Work w{&slice, State::kUnchanged, nullptr};
    kept.clear();
    bool endpoint_updated = false;
    for (const Endpoint& ep : slice->endpoints()) {
      Endpoint* got = desired.Take(ep);
      if (got == nullptr) continue;  // not desired (or a duplicate already placed)
      if (!EndpointsEqualBeyondHash(*got, ep)) endpoint_updated = true;
      kept.push_back(got);
    }
    bool labels_changed = false;
    LabelMap labels = EndpointSliceLabels(slice->metadata().labels(), pass.service,
                                          pass.options.controller_name, &labels_changed);
    const int kept_count = static_cast<int>(kept.size());
    if (endpoint_updated || kept_count != slice->endpoints_size()) {
      if (slice->endpoints_size() > kept_count) r.removed += slice->endpoints_size() - kept_count;
      if (kept.empty()) {
        w.state = State::kDelete;
      } else {
        w.copy = ArenaCopyWithoutEndpoints(arena, *slice);
        auto* eps = w.copy->mutable_endpoints();
        eps->Reserve(kept_count);
        for (Endpoint* ep : kept) eps->UnsafeArenaAddAllocated(ep);
        *w.copy->mutable_metadata()->mutable_labels() = labels;
        w.state = State::kUpdate;
      }
    } else if (labels_changed) {
      w.copy = ArenaCopy(arena, *slice);
      *w.copy->mutable_metadata()->mutable_labels() = labels;
      w.state = State::kUpdate;
    }
    work.push_back(w);
  }

  r.added = static_cast<int>(desired.size());

  // 2. Fill the slices being updated anyway, fullest first.
  if (!desired.empty()) {
    std::vector<Work*> updating;
    for (Work& w : work) {
      if (w.state == State::kUpdate) updating.push_back(&w);
    }
    std::stable_sort(updating.begin(), updating.end(), [](const Work* a, const Work* b) {
      return a->copy->endpoints_size() > b->copy->endpoints_size();
    });
    for (Work* w : updating) {
      auto* eps = w->copy->mutable_endpoints();
      while (!desired.empty() && eps->size() < max) eps->UnsafeArenaAddAllocated(desired.PopAny());
    }
  }

  // 3. Leftovers: into the untouched slice that ends closest to full if all of them
  //    fit, otherwise into new slices.
  while (!desired.empty()) {
    const int remaining = static_cast<int>(desired.size());
    Work* fill = nullptr;
    if (remaining < max) {
      int closest = max;
      for (Work& w : work) {
        if (w.state != State::kUnchanged) continue;
        int diff = max - (remaining + (*w.original)->endpoints_size());
        if (diff >= 0 && diff < closest) {
          closest = diff;
          fill = &w;
          if (diff == 0) break;
        }
      }
    }
    EndpointSlice* target;
    if (fill == nullptr) {
      target = ArenaCopy(arena, skeleton);
      r.to_create.push_back(target);
    } else {
      fill->copy = ArenaCopy(arena, **fill->original);
      fill->state = State::kUpdate;
      target = fill->copy;
    }
    auto* eps = target->mutable_endpoints();
    eps->Reserve(std::min(max, eps->size() + remaining));
    while (!desired.empty() && eps->size() < max) eps->UnsafeArenaAddAllocated(desired.PopAny());
  }

  for (Work& w : work) {
    if (w.state == State::kUpdate) r.to_update.push_back(w.copy);
    if (w.state == State::kDelete) r.to_delete.push_back(*w.original);
  }
  return r;
}

// Upstream finalize: recycle deletes into creates, then write creates, updates,
// deletes (first error stops).
absl::Status Finalize(Pass& pass, std::vector<EndpointSlice*>& to_create,
                      std::vector<EndpointSlice*>& to_update, std::vector<SlicePtr>& to_delete,
                      absl::Time trigger_time, bool hints_enabled, bool can_use_td) {
  const Service& svc = pass.service;
  const std::string svc_name = absl::StrCat(svc.metadata().namespace_(), "/", svc.metadata().name());

  // An owned slice about to be deleted takes the place (the name) of the last create.
  for (size_t i = 0; i < to_delete.size() && !to_create.empty();) {
    const EndpointSlice& doomed = *to_delete[i];
    EndpointSlice* created = to_create.back();
    if (doomed.addresstype() == created->addresstype() && OwnedBy(doomed, svc)) {
      created->mutable_metadata()->set_name(doomed.metadata().name());
      to_update.push_back(created);
      to_create.pop_back();
      to_delete.erase(to_delete.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }

  // No creates while the service is being deleted (the garbage collector would race).
  if (!svc.metadata().has_deletiontimestamp()) {
    for (EndpointSlice* slice : to_create) {
      SetTriggerTimeAnnotation(slice, trigger_time);
      absl::StatusOr<EndpointSlice> created = pass.writer->Create(*slice);
      if (!created.ok()) {
        // Creates keep failing in a terminating namespace: drop the item.
        if (std::optional<client::StatusError> e = client::FromStatus(created.status());
            e.has_value() && client::FindCause(*e, "NamespaceTerminating").has_value()) {
          return absl::OkStatus();
        }
        return Wrap(created.status(),
                    absl::StrCat("failed to create EndpointSlice for Service ", svc_name, ": "));
      }
      pass.tracker->Update(*created);
      if (pass.metrics != nullptr) pass.metrics->changes->WithLabelValues({"create"}).Inc();
    }
  }

  for (EndpointSlice* slice : to_update) {
    SetTriggerTimeAnnotation(slice, trigger_time);
    absl::StatusOr<EndpointSlice> updated = pass.writer->Update(*slice);
    if (!updated.ok()) {
      return Wrap(updated.status(), absl::StrCat("failed to update ", slice->metadata().name(),
                                                 " EndpointSlice for Service ", svc_name, ": "));
    }
    pass.tracker->Update(*updated);
    if (pass.metrics != nullptr) pass.metrics->changes->WithLabelValues({"update"}).Inc();
  }

  for (const SlicePtr& slice : to_delete) {
    absl::Status s = pass.writer->Delete(*slice);
    if (!s.ok()) {
      return Wrap(s, absl::StrCat("failed to delete ", slice->metadata().name(),
                                  " EndpointSlice for Service ", svc_name, ": "));
    }
    pass.tracker->ExpectDeletion(*slice);
    if (pass.metrics != nullptr) pass.metrics->changes->WithLabelValues({"delete"}).Inc();
  }

  if (pass.metrics != nullptr) {
    const std::string topology_label =
        pass.topology != nullptr && hints_enabled ? "Auto" : "Disabled";
    const std::string td = can_use_td ? svc.spec().trafficdistribution() : "";
    pass.metrics->endpointslices_changed_per_sync->WithLabelValues({topology_label, td})
        .Observe(static_cast<double>(to_create.size() + to_update.size() + to_delete.size()));
  }
  return absl::OkStatus();
}

// ---- Prefetching the pods ------------------------------------------------------
// A pod's fields live in a dozen separate heap blocks (the Pod, its metadata, spec and
// status messages, their strings, the conditions and podIPs arrays and elements), and
// the pods of a large service are scattered over far more memory than the cache holds,
// so reading them one after another mostly waits for memory. The pod loop therefore
// asks for the blocks a few pods ahead, one level of pointers per stage: by the time a
// pod is processed its blocks are (mostly) in cache. Pure hints: no effect on results.
inline void Prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }
inline void Prefetch2(const void* p) {
  Prefetch(p);
  Prefetch(static_cast<const char*>(p) + 64);
}

// Pods between two stages; stage s runs for the pod kPrefetchStride * (5 - s) ahead.
constexpr size_t kPrefetchStride = 3;

void PrefetchPods(const std::vector<std::shared_ptr<const Pod>>& pods, size_t i) {
  auto at = [&pods](size_t k) -> const Pod* { return k < pods.size() ? pods[k].get() : nullptr; };
  // Stage 0: the Pod message.
  if (const Pod* p = at(i + 5 * kPrefetchStride)) Prefetch(p);
  // Stage 1: its metadata, spec and status messages.
  if (const Pod* p = at(i + 4 * kPrefetchStride)) {
    Prefetch2(&p->metadata());
    Prefetch2(&p->spec());
    Prefetch2(&p->status());
  }
  // Stage 2: the strings and arrays those point to.
  if (const Pod* p = at(i + 3 * kPrefetchStride)) {
    const auto& md = p->metadata();
    Prefetch(&md.name());
    Prefetch(&md.namespace_());
    Prefetch(&md.uid());
    Prefetch(&p->spec().nodename());
    const auto& st = p->status();
    Prefetch(&st.phase());
    Prefetch(&st.podip());
    Prefetch(st.conditions().data());
    Prefetch(st.podips().data());
  }
  // Stage 3: string contents and array elements.
  if (const Pod* p = at(i + 2 * kPrefetchStride)) {
    const auto& md = p->metadata();
    Prefetch(md.name().data());
    Prefetch(md.uid().data());
    Prefetch(p->spec().nodename().data());
    const auto& st = p->status();
    const int conditions = st.conditions_size();
    for (int j = 0; j < conditions; ++j) Prefetch(st.conditions().data()[j]);
    if (st.podips_size() > 0) Prefetch(st.podips().data()[0]);
  }
  // Stage 4: the conditions' strings and the first pod IP.
  if (const Pod* p = at(i + kPrefetchStride)) {
    const auto& st = p->status();
    for (const auto& c : st.conditions()) {
      Prefetch(&c.type());
      Prefetch(&c.status());
    }
    if (st.podips_size() > 0) Prefetch(&st.podips(0).ip());
  }
}

// About what one pod costs on the arena (its EndpointSet entry and index slot, its
// pointer in a slice, slice overhead; the endpoints themselves come from the pool).
constexpr size_t kArenaBytesPerPod = 512;
constexpr size_t kMinScratch = 64 << 10;
constexpr size_t kMaxScratch = 16 << 20;

google::protobuf::ArenaOptions ScratchArenaOptions(size_t pods) {
  thread_local std::unique_ptr<char[]> buffer;
  thread_local size_t buffer_size = 0;
  size_t want = std::clamp(pods * kArenaBytesPerPod, kMinScratch, kMaxScratch);
  if (want > buffer_size) {
    buffer = std::make_unique_for_overwrite<char[]>(want);
    buffer_size = want;
  }
  google::protobuf::ArenaOptions o;
  o.initial_block = buffer.get();
  o.initial_block_size = buffer_size;
  o.start_block_size = 64 << 10;
  o.max_block_size = 4 << 20;
  return o;
}

bool AnyHints(const std::vector<EndpointSlice*>& slices) {
  for (const EndpointSlice* s : slices) {
    for (const Endpoint& ep : s->endpoints()) {
      if (ep.has_hints()) return true;
    }
  }
  return false;
}

// One address type (upstream reconcileByAddressType).
absl::Status ReconcileByAddressType(Pass& pass,
                                    const std::vector<std::shared_ptr<const Pod>>& pods,
                                    const std::vector<SlicePtr>& existing,
                                    absl::Time trigger_time, const std::string& address_type) {
  const Service& svc = pass.service;
  std::vector<absl::Status> errs;
  std::vector<SlicePtr> to_delete;
  // Desired endpoints and the slices written are built on one arena, freed at the end.
  // Its first block is a per-thread buffer kept between calls (sized for this many
  // pods, at most kMaxScratch), so steady-state reconciles make no large allocations.
  Arena arena(ScratchArenaOptions(pods.size()));
  // Declared after the arena: ends (endpoints back to the pool) before the arena goes.
  EndpointPool::Lease endpoints(&EndpointPool::ForThisThread());

  // Existing state: owned slices by port group (in first-seen order); others go.
  std::vector<std::string> existing_keys;
  absl::flat_hash_map<std::string, std::vector<SlicePtr>> existing_by_key;
  for (const SlicePtr& slice : existing) {
    if (!OwnedBy(*slice, svc)) {
      to_delete.push_back(slice);
      continue;
    }
    std::string key = PortMapKey(slice->ports());
    auto [it, inserted] = existing_by_key.try_emplace(key);
    if (inserted) existing_keys.push_back(key);
    it->second.push_back(slice);
  }

  // Desired state: port group -> endpoints.
  struct Group {
    std::string key;
    EndpointSlice skeleton;  // a new slice of this group (ports set, no endpoints)
    EndpointSet endpoints;
  };
  std::vector<Group> groups;
  absl::flat_hash_map<std::string, size_t> group_index;
  // With only numeric target ports (or a port-less headless service) every pod has the
  // same ports: resolve them once.
  bool ports_per_pod = false;
  for (const auto& sp : svc.spec().ports()) {
    if (sp.targetport().type() != 0) ports_per_pod = true;
  }
  const bool publish_not_ready = svc.spec().publishnotreadyaddresses();
  Endpoint* ep = nullptr;
  size_t shared_group = SIZE_MAX;
  for (size_t pod_index = 0; pod_index < pods.size(); ++pod_index) {
    PrefetchPods(pods, pod_index);
    const std::shared_ptr<const Pod>& pod_ptr = pods[pod_index];
    if (pod_ptr == nullptr) continue;
    const Pod& pod = *pod_ptr;
    if (!ShouldPodBeInEndpoints(pod, true)) continue;

    size_t group = shared_group;
    if (group == SIZE_MAX) {
      EndpointPorts ports = GetEndpointPorts(svc, pod);
      SortEndpointPorts(&ports);
      std::string key = PortMapKey(ports);
      auto [it, inserted] = group_index.try_emplace(key, groups.size());
      if (inserted) {
        groups.push_back({std::move(key),
                          NewEndpointSlice(svc, address_type, ports, pass.options.controller_name),
                          EndpointSet(&arena)});
        if (!ports_per_pod) groups.back().endpoints.Reserve(pods.size());
      }
      group = it->second;
      if (!ports_per_pod) shared_group = group;
    }

    const NodeResult& node = pass.GetNode(pod.spec().nodename());
    if (!node.ok()) {
      // Only the informer cache is read: anything but NotFound is unexpected.
      if (!absl::IsNotFound(node.status())) return node.status();
      // A pod on a missing node is left out (and the service retried) unless the
      // service publishes not-ready addresses.
      if (!publish_not_ready) {
        errs.push_back(absl::NotFoundError(absl::StrCat(
            "skipping Pod ", pod.metadata().name(), " for Service ", svc.metadata().namespace_(),
            "/", svc.metadata().name(), ": Node ", pod.spec().nodename(), " Not Found")));
        continue;
      }
    }
    if (ep == nullptr) ep = endpoints.Take();
    PodToEndpoint(pod, node.ok() ? node->get() : nullptr, svc, address_type, ep);
    if (ep->addresses_size() > 0) {
      groups[group].endpoints.Insert(ep);
      ep = nullptr;
    }
  }

  ServicePortCache port_cache;
  int total_added = 0, total_removed = 0;
  std::vector<EndpointSlice*> to_create, to_update;
  static const std::vector<SlicePtr> kNone;
  for (Group& g : groups) {
    const int num_endpoints = static_cast<int>(g.endpoints.size());
    auto it = existing_by_key.find(g.key);
    const std::vector<SlicePtr>& group_existing = it == existing_by_key.end() ? kNone : it->second;
    PortGroupResult r = ReconcileByPortMapping(pass, &arena, g.skeleton, group_existing, g.endpoints);
    total_added += r.added;
    total_removed += r.removed;
    port_cache[g.key] = EfficiencyInfo{
        .endpoints = num_endpoints,
        .slices = static_cast<int>(group_existing.size() + r.to_create.size() -
                                   r.to_delete.size())};
    to_create.insert(to_create.end(), r.to_create.begin(), r.to_create.end());
    to_update.insert(to_update.end(), r.to_update.begin(), r.to_update.end());
    for (SlicePtr& s : r.to_delete) to_delete.push_back(std::move(s));
  }

  // Port groups no longer desired: all their slices go.
  for (const std::string& key : existing_keys) {
    if (group_index.contains(key)) continue;
    for (const SlicePtr& s : existing_by_key[key]) to_delete.push_back(s);
  }

  // Nothing would be left: keep (or create) one empty placeholder slice.
  if (existing.size() == to_delete.size() && to_create.empty()) {
    EndpointSlice* placeholder = Arena::CreateMessage<EndpointSlice>(&arena);
    *placeholder = NewEndpointSlice(svc, address_type, EndpointPorts(), pass.options.controller_name);
    if (to_delete.size() == 1 && PlaceholderSliceEqual(*to_delete[0], *placeholder)) {
      to_delete.clear();  // it is already there
    } else {
      to_create.push_back(placeholder);
    }
    port_cache[PortMapKey(EndpointPorts())] = EfficiencyInfo{.endpoints = 0, .slices = 1};
  }

  if (pass.metrics != nullptr) {
    pass.metrics->endpoints_added_per_sync->Observe(total_added);
    pass.metrics->endpoints_removed_per_sync->Observe(total_removed);
    pass.metrics->UpdateServicePortCache(pass.service_key, port_cache);
  }

  // Hints, per address type (upstream's order of topology-annotation and
  // trafficDistribution handling).
  topologycache::SliceInfo si;
  si.service_key = pass.service_key;
  si.address_type = address_type;
  {
    absl::flat_hash_map<std::string_view, bool> changed;
    for (const EndpointSlice* s : to_update) changed[s->metadata().name()] = true;
    for (const SlicePtr& s : to_delete) changed[s->metadata().name()] = true;
    for (const SlicePtr& s : existing) {
      if (!changed.contains(s->metadata().name())) si.unchanged.push_back(s);
    }
  }
  const bool hints_enabled = topologycache::HintsEnabled(svc.metadata().annotations());
  std::optional<std::string> td;
  if (svc.spec().has_trafficdistribution()) td = svc.spec().trafficdistribution();
  const bool can_use_td =
      trafficdist::Valid(td, pass.options.prefer_same_traffic_distribution) && !hints_enabled;
  const bool use_topology = pass.topology != nullptr && hints_enabled;

  // The hint functions work on SliceInfo's heap-allocated slices. In the common case (no
  // hints wanted, none on the slices being written) they can only move unchanged slices
  // with stale hints into to_update, so the arena slices stay out of SliceInfo and are
  // not copied.
  const bool slices_via_si = use_topology || can_use_td || AnyHints(to_create) || AnyHints(to_update);
  if (slices_via_si) {
    si.to_create.reserve(to_create.size());
    for (const EndpointSlice* s : to_create) si.to_create.push_back(*s);
    si.to_update.reserve(to_update.size());
    for (const EndpointSlice* s : to_update) si.to_update.push_back(*s);
    to_create.clear();
    to_update.clear();
  }

  std::vector<topologycache::HintEvent> events;
  if (use_topology) {
    pass.topology->AddHints(si, &events);
  } else {
    if (pass.topology != nullptr) {
      if (pass.topology->HasPopulatedHints(si.service_key)) {
        events.push_back({"Warning", "TopologyAwareHintsDisabled",
                          topologycache::FormatWithAddressType(kTopologyAwareHintsDisabled,
                                                               address_type)});
      }
      pass.topology->RemoveHints(si.service_key, address_type);
    }
    // Left alone when trafficDistribution is about to set them.
    if (!can_use_td) topologycache::RemoveHintsFromSlices(si);
  }
  if (can_use_td) {
    if (pass.metrics != nullptr) pass.metrics->UpdateTrafficDistributionForService(pass.service_key, td);
    trafficdist::ReconcileHints(td, si);
  } else if (pass.metrics != nullptr) {
    pass.metrics->UpdateTrafficDistributionForService(pass.service_key, std::nullopt);
  }
  for (EndpointSlice& s : si.to_create) to_create.push_back(&s);
  for (EndpointSlice& s : si.to_update) to_update.push_back(&s);

  absl::Status s = Finalize(pass, to_create, to_update, to_delete, trigger_time, hints_enabled,
                            can_use_td);
  if (!s.ok()) errs.push_back(s);
  for (const topologycache::HintEvent& e : events) pass.events(svc, e.type, e.reason, e.message);
  return Aggregate(errs);
}

}  // namespace

Reconciler::Reconciler(SliceWriter* writer, NodeGetter nodes, SliceTracker* tracker,
                       topologycache::TopologyCache* topology, Metrics* metrics, EventFunc events,
                       ReconcilerOptions options)
    : writer_(writer),
      nodes_(std::move(nodes)),
      tracker_(tracker),
      topology_(topology),
      metrics_(metrics),
      events_(std::move(events)),
      options_(std::move(options)) {}

absl::Status Reconciler::Reconcile(const Service& service,
                                   const std::vector<std::shared_ptr<const Pod>>& pods,
                                   const std::vector<std::shared_ptr<const EndpointSlice>>& existing,
                                   absl::Time trigger_time) {
  Pass pass{service,
            absl::StrCat(service.metadata().namespace_(), "/", service.metadata().name()),
            writer_,
            tracker_,
            topology_,
            metrics_,
            events_,
            options_,
            nodes_,
            {}};
  const std::vector<std::string> types = AddressTypesForService(service);
  std::vector<std::vector<SlicePtr>> by_type(types.size());
  std::vector<SlicePtr> unsupported;
  for (const SlicePtr& slice : existing) {
    if (slice == nullptr) continue;
    auto it = std::find(types.begin(), types.end(), slice->addresstype());
    if (it == types.end()) {
      // An address type the service no longer has (or legacy "IP"): delete after the
      // supported types are done; drop its topology hints.
      if (topology_ != nullptr) {
        absl::StatusOr<std::string> key = ServiceControllerKey(*slice);
        if (key.ok()) topology_->RemoveHints(*key, slice->addresstype());
      }
      unsupported.push_back(slice);
      continue;
    }
    by_type[it - types.begin()].push_back(slice);
  }

  std::vector<absl::Status> errs;
  for (size_t i = 0; i < types.size(); ++i) {
    absl::Status s = ReconcileByAddressType(pass, pods, by_type[i], trigger_time, types[i]);
    if (!s.ok()) errs.push_back(s);
  }

  for (const SlicePtr& slice : unsupported) {
    absl::Status s = writer_->Delete(*slice);
    if (!s.ok()) {
      errs.push_back(Wrap(s, absl::StrCat("error deleting ", slice->metadata().name(),
                                          " EndpointSlice for Service ",
                                          service.metadata().namespace_(), "/",
                                          service.metadata().name(), ": ")));
      continue;
    }
    tracker_->ExpectDeletion(*slice);
    if (metrics_ != nullptr) metrics_->changes->WithLabelValues({"delete"}).Inc();
  }
  return Aggregate(errs);
}

}  // namespace kslice::endpointslice
