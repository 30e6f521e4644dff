#include "envtest/apiserver/controllers.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "envtest/apiserver/apiserver.h"
#include "envtest/storage/object.h"
#include "envtest/storage/store.h"

namespace kslice::envtest::apiserver {
namespace {

namespace core = kslice::api::core::v1;
namespace meta = kslice::api::meta::v1;

bool HasFinalizer(const meta::ObjectMeta& m, const std::string& f) {
  return std::find(m.finalizers().begin(), m.finalizers().end(), f) != m.finalizers().end();
}

}  // namespace

Controllers::Controllers(APIServer* server) : server_(server) {}

Controllers::~Controllers() {
  stopping_ = true;
  cv_.notify_all();
  for (std::thread& t : watchers_) t.join();
  if (worker_.joinable()) worker_.join();
}

absl::Status Controllers::Start() {
  // The first watches are opened here, before the server takes requests, so no write
  // can fall between the server starting and a watch starting (a deletion the
  // controllers never see would leave its dependents behind).
  storage::ListOptions lo;
  lo.watch_queue_capacity = 1u << 20;
  for (const storage::ResourceConfig* c : server_->store().registry().All()) {
    absl::StatusOr<std::unique_ptr<storage::Watcher>> w = server_->store().Watch(c->key, lo);
    if (!w.ok()) return w.status();
    std::shared_ptr<storage::Watcher> first(std::move(*w));
    watchers_.emplace_back([this, c, first] { WatchLoop(c, first); });
  }
  worker_ = std::thread([this] { WorkLoop(); });
  return absl::OkStatus();
}

void Controllers::WatchLoop(const storage::ResourceConfig* config,
                            std::shared_ptr<storage::Watcher> watcher) {
  storage::Store& store = server_->store();
  while (!stopping_) {
    if (watcher == nullptr) {
      // Watch from "": the current state as ADDED events, then every change.
      storage::ListOptions lo;
      lo.watch_queue_capacity = 1u << 20;
      absl::StatusOr<std::unique_ptr<storage::Watcher>> w = store.Watch(config->key, lo);
      if (!w.ok()) return;
      watcher = std::move(*w);
    }
    std::vector<storage::WatchEvent> batch;
    while (!stopping_) {
      batch.clear();
      if (!watcher->NextBatch(&batch, absl::Milliseconds(100), 1024)) break;
      if (batch.empty()) continue;
      {
        std::lock_guard<std::mutex> l(mu_);
        for (storage::WatchEvent& e : batch) queue_.push_back({config, std::move(e)});
      }
      cv_.notify_one();
    }
    // The watch ended (store closing, or too slow): the worker rebuilds from ADDEDs.
    watcher.reset();
  }
}

void Controllers::WorkLoop() {
  absl::Time next_periodic = absl::Now();
  while (!stopping_) {
    std::deque<Item> items;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(50), [&] { return stopping_ || !queue_.empty(); });
      items.swap(queue_);
    }
    for (const Item& item : items) {
      if (stopping_) return;
      Observe(item);
    }
    if (absl::Now() >= next_periodic || !pending_checks_.empty()) {
      Periodic();
      next_periodic = absl::Now() + absl::Milliseconds(100);
    }
  }
}

void Controllers::Observe(const Item& item) {
  const storage::WatchEvent& e = item.event;
  if (e.type == storage::EventType::kBookmark || e.type == storage::EventType::kError) return;
  const meta::ObjectMeta& m = storage::MetaOf(*e.object);
  const std::string& uid = m.uid();
  if (uid.empty()) return;
  // Drop the old edges.
  if (auto it = nodes_.find(uid); it != nodes_.end()) {
    for (const meta::OwnerReference& owner : it->second.owners) {
      auto range = dependents_.equal_range(owner.uid());
      for (auto d = range.first; d != range.second;) {
        d = d->second == uid ? dependents_.erase(d) : std::next(d);
      }
    }
  }
  if (e.type == storage::EventType::kDeleted) {
    nodes_.erase(uid);
    foreground_.erase(uid);
    orphan_.erase(uid);
    // Its dependents may be orphans now; owners waiting on it may proceed.
    auto range = dependents_.equal_range(uid);
    for (auto d = range.first; d != range.second; ++d) pending_checks_.insert(d->second);
    return;
  }
  Node node;
  node.config = item.config;
  node.ns = m.namespace_();
  node.name = m.name();
  for (const meta::OwnerReference& ref : m.ownerreferences()) {
    node.owners.push_back(ref);
    dependents_.emplace(ref.uid(), uid);
  }
  nodes_[uid] = node;
  if (!node.owners.empty()) pending_checks_.insert(uid);
  if (m.has_deletiontimestamp()) {
    if (HasFinalizer(m, "foregroundDeletion")) foreground_.insert(uid);
    if (HasFinalizer(m, "orphan")) orphan_.insert(uid);
    if (item.config->key.group.empty() && item.config->key.resource == "namespaces") {
      terminating_namespaces_.insert(m.name());
    }
    if (item.config->key.group.empty() && item.config->key.resource == "pods" &&
        m.has_deletiongraceperiodseconds() && m.deletiongraceperiodseconds() > 0) {
      absl::Time at = absl::FromUnixSeconds(m.deletiontimestamp().seconds());
      // Only the latest deadline of a pod matters; older entries fail their check.
      pod_expiry_[{at, uid}] = {m.namespace_(), m.name()};
    }
  }
}

bool Controllers::OwnerExists(const std::string& dependent_ns,
                              const meta::OwnerReference& ref) const {
  if (nodes_.contains(ref.uid())) return true;
  // Find the owner's resource by apiVersion and kind.
  for (const storage::ResourceConfig* c : server_->store().registry().All()) {
    if (c->api_version != ref.apiversion() || c->kind != ref.kind()) continue;
    absl::StatusOr<storage::Object> o =
        server_->store().Get(c->key, c->namespaced ? dependent_ns : "", ref.name());
    if (!o.ok()) {
      // Unknown errors count as "exists": never delete on doubt.
      return o.status().code() != absl::StatusCode::kNotFound;
    }
    return storage::MetaOf(**o).uid() == ref.uid();
  }
  // A kind this server does not serve: the owner cannot be checked, so it is absent
  // (upstream's GC treats an unresolvable owner as absent as well).
  return false;
}

void Controllers::CheckDependent(const std::string& uid) {
  auto it = nodes_.find(uid);
  if (it == nodes_.end()) return;
  const Node node = it->second;
  // Decide on the object as stored now, not as the graph last saw it (an orphaning
  // owner may just have removed its reference), and delete only that version.
  absl::StatusOr<storage::Object> current =
      server_->store().Get(node.config->key, node.ns, node.name);
  if (!current.ok()) return;
  const meta::ObjectMeta& cm = storage::MetaOf(**current);
  if (cm.uid() != uid) return;
  std::vector<std::string> dangling;
  size_t live = 0;
  for (const meta::OwnerReference& owner : cm.ownerreferences()) {
    if (OwnerExists(node.ns, owner)) {
      ++live;
    } else {
      dangling.push_back(owner.uid());
    }
  }
  if (dangling.empty()) return;
  if (live == 0) {
    meta::DeleteOptions opts;
    opts.set_propagationpolicy("Background");
    opts.mutable_preconditions()->set_uid(uid);
    opts.mutable_preconditions()->set_resourceversion(cm.resourceversion());
    absl::StatusOr<APIServer::DeleteOutcome> out =
        server_->DeleteWithOptions(*node.config, node.ns, node.name, opts, false);
    if (!out.ok() && out.status().code() != absl::StatusCode::kNotFound &&
        out.status().code() != absl::StatusCode::kAborted) {
      retry_checks_.insert(uid);  // try again on the next round
    }
    return;
  }
  absl::StatusOr<storage::UpdateResult> updated = server_->UpdateWith(*node.config, node.ns, node.name,
                            [&](google::protobuf::Message* obj) -> absl::Status {
                              auto* refs = storage::MutableMetaOf(obj)->mutable_ownerreferences();
                              refs->erase(std::remove_if(refs->begin(), refs->end(),
                                                         [&](const meta::OwnerReference& r) {
                                                           return std::find(dangling.begin(),
                                                                            dangling.end(),
                                                                            r.uid()) !=
                                                                  dangling.end();
                                                         }),
                                          refs->end());
                              return absl::OkStatus();
                            });
  if (!updated.ok() && updated.status().code() != absl::StatusCode::kNotFound) {
    retry_checks_.insert(uid);
  }
}

absl::StatusOr<std::vector<Controllers::Node>> Controllers::DependentsOf(
    const std::string& uid) const {
  // From storage, not from the graph: the graph may not have seen a dependent created
  // just before its owner's deletion, and an owner must not finish deleting (nor
  // orphan) without it.
  std::vector<Node> out;
  for (const storage::ResourceConfig* c : server_->store().registry().All()) {
    absl::StatusOr<storage::ListResult> list = server_->store().List(c->key, {});
    if (!list.ok()) return list.status();
    for (const storage::Object& o : list->items) {
      const meta::ObjectMeta& m = storage::MetaOf(*o);
      for (const meta::OwnerReference& ref : m.ownerreferences()) {
        if (ref.uid() == uid) {
          out.push_back(Node{c, m.namespace_(), m.name(), {}});
          break;
        }
      }
    }
  }
  return out;
}

bool Controllers::ProcessForeground(const std::string& uid) {
  auto it = nodes_.find(uid);
  if (it == nodes_.end()) return true;
  const Node owner = it->second;
  absl::StatusOr<std::vector<Node>> deps = DependentsOf(uid);
  if (!deps.ok()) return false;
  for (const Node& dep : *deps) {
    meta::DeleteOptions opts;
    opts.set_propagationpolicy("Foreground");
    (void)server_->DeleteWithOptions(*dep.config, dep.ns, dep.name, opts, false);
  }
  if (!deps->empty()) return false;  // again once they are gone
  absl::StatusOr<storage::UpdateResult> r = server_->UpdateWith(
      *owner.config, owner.ns, owner.name, [](google::protobuf::Message* obj) -> absl::Status {
        auto* f = storage::MutableMetaOf(obj)->mutable_finalizers();
        f->erase(std::remove(f->begin(), f->end(), std::string("foregroundDeletion")), f->end());
        return absl::OkStatus();
      });
  return r.ok() || r.status().code() == absl::StatusCode::kNotFound;
}

bool Controllers::ProcessOrphan(const std::string& uid) {
  auto it = nodes_.find(uid);
  if (it == nodes_.end()) return true;
  const Node owner = it->second;
  absl::StatusOr<std::vector<Node>> deps = DependentsOf(uid);
  if (!deps.ok()) return false;
  for (const Node& dep : *deps) {
    absl::StatusOr<storage::UpdateResult> r = server_->UpdateWith(
        *dep.config, dep.ns, dep.name,
        [&](google::protobuf::Message* obj) -> absl::Status {
          auto* refs = storage::MutableMetaOf(obj)->mutable_ownerreferences();
          refs->erase(std::remove_if(refs->begin(), refs->end(),
                                     [&](const meta::OwnerReference& r) { return r.uid() == uid; }),
                      refs->end());
          return absl::OkStatus();
        });
    if (!r.ok() && r.status().code() != absl::StatusCode::kNotFound) return false;
  }
  absl::StatusOr<storage::UpdateResult> r = server_->UpdateWith(
      *owner.config, owner.ns, owner.name, [](google::protobuf::Message* obj) -> absl::Status {
        auto* f = storage::MutableMetaOf(obj)->mutable_finalizers();
        f->erase(std::remove(f->begin(), f->end(), std::string("orphan")), f->end());
        return absl::OkStatus();
      });
  return r.ok() || r.status().code() == absl::StatusCode::kNotFound;
}

bool Controllers::ProcessNamespace(const std::string& name) {
  storage::Store& store = server_->store();
  const storage::ResourceConfig* ns_config = store.registry().Find({"", "namespaces"});
  absl::StatusOr<storage::Object> ns = store.Get({"", "namespaces"}, "", name);
  if (!ns.ok()) return true;
  const auto& nso = static_cast<const core::Namespace&>(**ns);
  if (!nso.metadata().has_deletiontimestamp()) return true;
  if (nso.status().phase() != "Terminating") {
    (void)server_->UpdateWith(
        *ns_config, "", name,
        [](google::protobuf::Message* obj) -> absl::Status {
          static_cast<core::Namespace*>(obj)->mutable_status()->set_phase("Terminating");
          return absl::OkStatus();
        },
        "status");
  }
  bool empty = true;
  for (const storage::ResourceConfig* c : store.registry().All()) {
    if (!c->namespaced) continue;
    storage::ListOptions lo;
    lo.ns = name;
    absl::StatusOr<storage::ListResult> list = store.List(c->key, lo);
    if (!list.ok()) return false;
    for (const storage::Object& o : list->items) {
      empty = false;
      const auto& m = storage::MetaOf(*o);
      if (m.has_deletiontimestamp()) continue;
      meta::DeleteOptions opts;
      opts.set_propagationpolicy("Background");
      (void)server_->DeleteWithOptions(*c, name, m.name(), opts, false);
    }
  }
  if (!empty) return false;
  if (nso.spec().finalizers_size() > 0) {
    (void)server_->UpdateWith(
        *ns_config, "", name,
        [](google::protobuf::Message* obj) -> absl::Status {
          auto* f = static_cast<core::Namespace*>(obj)->mutable_spec()->mutable_finalizers();
          f->erase(std::remove(f->begin(), f->end(), std::string("kubernetes")), f->end());
          return absl::OkStatus();
        },
        "finalize");
  }
  meta::DeleteOptions opts;
  absl::StatusOr<APIServer::DeleteOutcome> out =
      server_->DeleteWithOptions(*ns_config, "", name, opts, false);
  return out.ok() ? out->deleted : out.status().code() == absl::StatusCode::kNotFound;
}

void Controllers::Periodic() {
  std::set<std::string> checks;
  checks.swap(pending_checks_);
  checks.insert(retry_checks_.begin(), retry_checks_.end());
  retry_checks_.clear();
  for (const std::string& uid : checks) CheckDependent(uid);
  for (auto it = foreground_.begin(); it != foreground_.end();) {
    it = ProcessForeground(*it) ? foreground_.erase(it) : std::next(it);
  }
  for (auto it = orphan_.begin(); it != orphan_.end();) {
    it = ProcessOrphan(*it) ? orphan_.erase(it) : std::next(it);
  }
  for (auto it = terminating_namespaces_.begin(); it != terminating_namespaces_.end();) {
    it = ProcessNamespace(*it) ? terminating_namespaces_.erase(it) : std::next(it);
  }
  const absl::Time now = server_->Now();
  const storage::ResourceConfig* pods = server_->store().registry().Find({"", "pods"});
  while (!pod_expiry_.empty() && pod_expiry_.begin()->first.first <= now && pods != nullptr) {
    auto [key, where] = *pod_expiry_.begin();
    pod_expiry_.erase(pod_expiry_.begin());
    meta::DeleteOptions opts;
    opts.set_graceperiodseconds(0);
    opts.mutable_preconditions()->set_uid(key.second);
    (void)server_->DeleteWithOptions(*pods, where.first, where.second, opts, false);
  }
}

}  // namespace kslice::envtest::apiserver
