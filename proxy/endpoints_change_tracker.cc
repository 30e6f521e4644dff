#include "proxy/endpoints_change_tracker.h"

#include <algorithm>
#include <utility>

#include "google/protobuf/util/message_differencer.h"
#include "proxy/internal/net.h"

namespace kslice::proxy {
namespace {

using api::discovery::v1::EndpointSlice;

bool SameSlice(const std::shared_ptr<const EndpointSlice>& a,
               const std::shared_ptr<const EndpointSlice>& b) {
  if (a == b) return true;
  if (a == nullptr || b == nullptr) return false;
  return google::protobuf::util::MessageDifferencer::Equals(*a, *b);
}

// Service key and slice name of a slice; false when it has no service-name label or
// no namespace/name.
bool SliceKeys(const EndpointSlice& slice, std::string* service_key, std::string* service) {
  const auto& labels = slice.metadata().labels();
  auto it = labels.find(kServiceNameLabel);
  if (it == labels.end() || it->second.empty()) return false;
  if (slice.metadata().namespace_().empty() || slice.metadata().name().empty()) return false;
  *service = it->second;
  *service_key = slice.metadata().namespace_() + "/" + it->second;
  return true;
}

bool ListsEqual(const EndpointListPtr& a, const EndpointListPtr& b) {
  if (a == b) return true;
  if (a == nullptr || b == nullptr) return false;
  return *a == *b;
}

}  // namespace

bool ParseTriggerTime(const std::string& text, absl::Time* out) {
  std::string err;
  return absl::ParseTime(absl::RFC3339_full, text, out, &err);
}

EndpointsChangeTracker::EndpointsChangeTracker(EndpointsTrackerOptions options)
    : options_(std::move(options)) {}

bool EndpointsChangeTracker::EndpointSliceUpdate(std::shared_ptr<const EndpointSlice> slice,
                                                 bool remove) {
  if (slice == nullptr) return false;
  if (slice->addresstype() != IPFamilyName(options_.family)) return false;
  std::string key, service;
  if (!SliceKeys(*slice, &key, &service)) return false;
  const std::string& name = slice->metadata().name();
  std::shared_ptr<const EndpointSlice> value = remove ? nullptr : slice;

  std::lock_guard<std::mutex> l(mu_);
  Tracker& t = trackers_[key];
  bool changed;
  auto pending = t.pending.find(name);
  auto applied = t.applied.find(name);
  if (pending != t.pending.end()) {
    changed = !SameSlice(pending->second, value);
  } else if (applied != t.applied.end()) {
    changed = !SameSlice(applied->second, value);
  } else {
    changed = !remove;
  }
  if (!changed) {
    if (t.applied.empty() && t.pending.empty()) trackers_.erase(key);
    return false;
  }
  t.pending[name] = value;
  if (remove) {
    trigger_times_.erase(key);
  } else {
    const auto& ann = slice->metadata().annotations();
    auto it = ann.find(kLastChangeTriggerTimeAnnotation);
    absl::Time when;
    if (it != ann.end() && ParseTriggerTime(it->second, &when) && when > options_.start_time) {
      trigger_times_[key].push_back(when);
    }
  }
  return true;
}

size_t EndpointsChangeTracker::PendingCount() const {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = 0;
  for (const auto& [_, t] : trackers_) n += t.pending.empty() ? 0 : 1;
  return n;
}

EndpointsMap EndpointsChangeTracker::EndpointsFor(const std::string& ns,
                                                  const std::string& service,
                                                  const SliceByName& slices) const {
  // Per service port: endpoints by "ip:port".
  std::map<ServicePortName, std::map<std::string, EndpointInfo>> by_port;
  for (const auto& [slice_name, slice] : slices) {
    if (slice == nullptr) continue;
    for (const auto& port : slice->ports()) {
      if (!port.has_name()) continue;
      if (!port.has_port() || port.port() == 0) continue;
      ServicePortName spn{ns, service, port.name(),
                          port.protocol().empty() ? "TCP" : port.protocol()};
      std::map<std::string, EndpointInfo>& set = by_port[spn];
      for (const auto& ep : slice->endpoints()) {
        if (ep.addresses_size() == 0) continue;
        EndpointInfo info;
        auto ip = internal::ParseIP(ep.addresses(0));
        info.ip = ip ? ip->text : ep.addresses(0);
        info.port = port.port();
        const auto& c = ep.conditions();
        info.ready = !c.has_ready() || c.ready();
        info.serving = !c.has_serving() || c.serving();
        info.terminating = c.has_terminating() && c.terminating();
        if (ep.has_nodename()) {
          info.node_name = ep.nodename();
          info.is_local = !options_.node_name.empty() && ep.nodename() == options_.node_name;
        }
        if (ep.has_zone()) info.zone = ep.zone();
        if (ep.has_hints()) {
          for (const auto& z : ep.hints().forzones()) info.zone_hints.insert(z.name());
          if (options_.node_hints) {
            for (const auto& n : ep.hints().fornodes()) info.node_hints.insert(n.name());
          }
        }
        std::string k = info.String();
        auto it = set.find(k);
        // A non-terminating endpoint replaces an earlier copy; a terminating one only
        // fills an empty place (a reused pod IP prefers the running pod).
        if (it == set.end()) {
          set.emplace(std::move(k), std::move(info));
        } else if (!info.terminating) {
          it->second = std::move(info);
        }
      }
    }
  }
  EndpointsMap out;
  for (auto& [spn, set] : by_port) {
    if (set.empty()) continue;
    auto list = std::make_shared<EndpointList>();
    list->reserve(set.size());
    // std::map iterates in key ("ip:port") order: the required sort.
    for (auto& [_, info] : set) list->push_back(std::move(info));
    out[spn] = std::move(list);
  }
  return out;
}

EndpointsChangeTracker::Result EndpointsChangeTracker::Apply(
    EndpointsMap& map, std::set<ServicePortName>* changed_ports) {
  Result result;
  // Snapshot the pending work under the lock, compute outside it.
  struct Work {
    std::string ns, service;
    SliceByName before, after;
  };
  std::vector<std::pair<std::string, Work>> work;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = trackers_.begin(); it != trackers_.end();) {
      Tracker& t = it->second;
      if (t.pending.empty()) {
        ++it;
        continue;
      }
      Work w;
      size_t slash = it->first.find('/');
      w.ns = it->first.substr(0, slash);
      w.service = it->first.substr(slash + 1);
      w.before = t.applied;
      for (auto& [name, slice] : t.pending) {
        if (slice == nullptr) {
          t.applied.erase(name);
        } else {
          t.applied[name] = slice;
        }
      }
      t.pending.clear();
      w.after = t.applied;
      work.emplace_back(it->first, std::move(w));
      if (t.applied.empty()) {
        it = trackers_.erase(it);
      } else {
        ++it;
      }
    }
    result.last_change_trigger_times.swap(trigger_times_);
  }
  for (auto& [key, w] : work) {
    result.updated_services.insert(key);
    EndpointsMap before = EndpointsFor(w.ns, w.service, w.before);
    EndpointsMap after = EndpointsFor(w.ns, w.service, w.after);
    for (const auto& [spn, list] : before) {
      if (after.count(spn) == 0) {
        map.erase(spn);
        if (changed_ports != nullptr) changed_ports->insert(spn);
      }
    }
    for (auto& [spn, list] : after) {
      auto it = before.find(spn);
      auto cur = map.find(spn);
      if (it != before.end() && cur != map.end() && ListsEqual(it->second, list) &&
          ListsEqual(cur->second, list)) {
        continue;  // unchanged: keep the published list (and its pointer)
      }
      if (changed_ports != nullptr && (it == before.end() || !ListsEqual(it->second, list))) {
        changed_ports->insert(spn);
      }
      map[spn] = std::move(list);
    }
  }
  return result;
}

}  // namespace kslice::proxy
