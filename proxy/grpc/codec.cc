#include "proxy/grpc/codec.h"

#include <functional>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kslice::proxy::grpc {

v1::IPFamily ToProto(IPFamily family) {
  return family == IPFamily::kIPv6 ? v1::IPV6 : v1::IPV4;
}

absl::StatusOr<IPFamily> FromProto(v1::IPFamily family) {
  switch (family) {
    case v1::IPV4:
      return IPFamily::kIPv4;
    case v1::IPV6:
      return IPFamily::kIPv6;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("family must be IPV4 or IPV6, got ", static_cast<int>(family)));
  }
}

void ToProto(const ServicePortName& name, v1::ServicePortName* out) {
  out->set_namespace_(name.ns);
  out->set_name(name.name);
  out->set_port(name.port);
  out->set_protocol(name.protocol);
}

void ToProto(const NodeContext& node, v1::NodeContext* out) {
  out->set_name(node.name);
  out->mutable_labels()->insert(node.labels.begin(), node.labels.end());
}

namespace {

void InfoToProto(const ServicePortInfo& in, v1::ServicePortInfo* out) {
  out->set_cluster_ip(in.cluster_ip);
  out->set_port(in.port);
  out->set_protocol(in.protocol);
  out->set_node_port(in.node_port);
  for (const std::string& s : in.external_ips) out->add_external_ips(s);
  for (const std::string& s : in.load_balancer_vips) out->add_load_balancer_vips(s);
  for (const std::string& s : in.load_balancer_source_ranges) {
    out->add_load_balancer_source_ranges(s);
  }
  out->set_session_affinity(in.session_affinity == SessionAffinity::kClientIP
                                ? v1::SESSION_AFFINITY_CLIENT_IP
                                : v1::SESSION_AFFINITY_NONE);
  out->set_sticky_max_age_seconds(in.sticky_max_age_seconds);
  out->set_health_check_node_port(in.health_check_node_port);
  out->set_external_policy_local(in.external_policy_local);
  out->set_internal_policy_local(in.internal_policy_local);
  out->set_traffic_distribution(in.traffic_distribution);
  out->set_service_type(in.service_type);
}

ServicePortInfo InfoFromProto(const v1::ServicePortInfo& in) {
  ServicePortInfo out;
  out.cluster_ip = in.cluster_ip();
  out.port = in.port();
  out.protocol = in.protocol();
  out.node_port = in.node_port();
  out.external_ips.assign(in.external_ips().begin(), in.external_ips().end());
  out.load_balancer_vips.assign(in.load_balancer_vips().begin(), in.load_balancer_vips().end());
  out.load_balancer_source_ranges.assign(in.load_balancer_source_ranges().begin(),
                                         in.load_balancer_source_ranges().end());
  out.session_affinity = in.session_affinity() == v1::SESSION_AFFINITY_CLIENT_IP
                             ? SessionAffinity::kClientIP
                             : SessionAffinity::kNone;
  out.sticky_max_age_seconds = in.sticky_max_age_seconds();
  out.health_check_node_port = in.health_check_node_port();
  out.external_policy_local = in.external_policy_local();
  out.internal_policy_local = in.internal_policy_local();
  out.traffic_distribution = in.traffic_distribution();
  out.service_type = in.service_type();
  return out;
}

void EndpointToProto(const EndpointInfo& in, v1::Endpoint* out) {
  out->set_ip(in.ip);
  out->set_port(in.port);
  out->set_ready(in.ready);
  out->set_serving(in.serving);
  out->set_terminating(in.terminating);
  out->set_is_local(in.is_local);
  out->set_node_name(in.node_name);
  out->set_zone(in.zone);
  for (const std::string& h : in.zone_hints) out->add_zone_hints(h);
  for (const std::string& h : in.node_hints) out->add_node_hints(h);
}

EndpointInfo EndpointFromProto(const v1::Endpoint& in) {
  EndpointInfo out;
  out.ip = in.ip();
  out.port = in.port();
  out.ready = in.ready();
  out.serving = in.serving();
  out.terminating = in.terminating();
  out.is_local = in.is_local();
  out.node_name = in.node_name();
  out.zone = in.zone();
  out.zone_hints.insert(in.zone_hints().begin(), in.zone_hints().end());
  out.node_hints.insert(in.node_hints().begin(), in.node_hints().end());
  return out;
}

NodeContext NodeFromProto(const v1::NodeContext& in) {
  NodeContext out;
  out.name = in.name();
  out.labels.insert(in.labels().begin(), in.labels().end());
  return out;
}

template <typename T>
const T* Find(const std::map<ServicePortName, std::shared_ptr<const T>>& m,
              const ServicePortName& name) {
  auto it = m.find(name);
  return it == m.end() ? nullptr : it->second.get();
}

// Splits an update into parts of about `units` units each. `start` makes a new message
// with the header fields set; every part but the last gets more = true.
class PartWriter {
 public:
  PartWriter(size_t units, std::function<v1::StateUpdate()> start)
      : limit_(units == 0 ? 1 : units), start_(std::move(start)) {}

  // The part being filled.
  v1::StateUpdate& Current() {
    if (parts_.empty() || used_ >= limit_) {
      parts_.push_back(start_());
      used_ = 0;
    }
    return parts_.back();
  }
  // The entry just added to Current() weighs `units`.
  void Added(size_t units) { used_ += units; }

  UpdateMessages Finish() {
    if (parts_.empty()) parts_.push_back(start_());  // an update has at least one message
    UpdateMessages out;
    out.reserve(parts_.size());
    for (size_t i = 0; i < parts_.size(); ++i) {
      v1::StateUpdate& m = parts_[i];
      const bool more = i + 1 < parts_.size();
      if (m.has_snapshot()) m.mutable_snapshot()->set_more(more);
      if (m.has_delta()) m.mutable_delta()->set_more(more);
      out.push_back(std::make_shared<const v1::StateUpdate>(std::move(m)));
    }
    parts_.clear();
    return out;
  }

 private:
  const size_t limit_;
  std::function<v1::StateUpdate()> start_;
  std::vector<v1::StateUpdate> parts_;
  size_t used_ = 0;
};

}  // namespace

void ToProto(const ServicePortName& name, const ServicePortInfo* info,
             const EndpointList* endpoints, v1::ServicePort* out) {
  ToProto(name, out->mutable_name());
  if (info != nullptr) InfoToProto(*info, out->mutable_info());
  if (endpoints != nullptr) {
    out->mutable_endpoints()->Reserve(static_cast<int>(endpoints->size()));
    for (const EndpointInfo& e : *endpoints) EndpointToProto(e, out->add_endpoints());
  }
}

absl::StatusOr<ServicePortName> FromProto(const v1::ServicePortName& name) {
  if (name.namespace_().empty() || name.name().empty() || name.protocol().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "service port name needs namespace, name and protocol, got \"", name.namespace_(), "/",
        name.name(), ":", name.port(), "\" protocol \"", name.protocol(), "\""));
  }
  return ServicePortName{name.namespace_(), name.name(), name.port(), name.protocol()};
}

UpdateMessages EncodeSnapshot(const ProxyState& state, const std::string& instance,
                              size_t units_per_message) {
  PartWriter w(units_per_message, [&] {
    v1::StateUpdate m;
    m.set_instance(instance);
    v1::Snapshot* s = m.mutable_snapshot();
    s->set_version(state.version);
    s->set_family(ToProto(state.family));
    ToProto(state.node, s->mutable_node());
    return m;
  });
  // Merge-walk both maps (sorted by name): every name in either map, once.
  auto si = state.services->begin();
  auto ei = state.endpoints->begin();
  while (si != state.services->end() || ei != state.endpoints->end()) {
    const ServicePortInfo* info = nullptr;
    const EndpointList* eps = nullptr;
    const ServicePortName* name;
    if (ei == state.endpoints->end() || (si != state.services->end() && si->first < ei->first)) {
      name = &si->first;
      info = si->second.get();
      ++si;
    } else if (si == state.services->end() || ei->first < si->first) {
      name = &ei->first;
      eps = ei->second.get();
      ++ei;
    } else {
      name = &si->first;
      info = si->second.get();
      eps = ei->second.get();
      ++si;
      ++ei;
    }
    ToProto(*name, info, eps, w.Current().mutable_snapshot()->add_service_ports());
    w.Added(1 + (eps ? eps->size() : 0));
  }
  return w.Finish();
}

namespace {

template <typename T>
bool SameEntry(const T* a, const T* b) {
  if (a == b) return true;
  if (a == nullptr || b == nullptr) return false;
  return *a == *b;
}

}  // namespace

StateDiff Diff(const ProxyState& from, const ProxyState& to,
               const std::optional<std::set<ServicePortName>>& candidates) {
  StateDiff d;
  d.node_changed = !(from.node == to.node);
  auto check = [&](const ServicePortName& name) {
    const ServicePortInfo* ni = Find(*to.services, name);
    const EndpointList* ne = Find(*to.endpoints, name);
    const ServicePortInfo* oi = Find(*from.services, name);
    const EndpointList* oe = Find(*from.endpoints, name);
    if (SameEntry(oi, ni) && SameEntry(oe, ne)) return;
    if (ni == nullptr && ne == nullptr) {
      d.removed.push_back(name);
    } else {
      d.upserted.push_back(name);
    }
  };
  if (candidates.has_value()) {
    for (const ServicePortName& name : *candidates) check(name);  // sorted set
    return d;
  }
  // Every name of either state, once, in order.
  std::set<ServicePortName> names;
  auto collect = [&](const auto& m) {
    for (const auto& [name, _] : m) names.insert(name);
  };
  // Fast path: identical map objects contribute nothing.
  if (from.services != to.services) {
    collect(*from.services);
    collect(*to.services);
  }
  if (from.endpoints != to.endpoints) {
    collect(*from.endpoints);
    collect(*to.endpoints);
  }
  for (const ServicePortName& name : names) check(name);
  return d;
}

std::optional<std::set<ServicePortName>> CandidatesFromHint(const ProxyState& from,
                                                            const ProxyState& to,
                                                            const SyncHint& hint) {
  if (hint.full) return std::nullopt;
  std::set<ServicePortName> out = hint.changed_ports;
  auto add_service = [&](const auto& m, const std::string& ns_name) {
    const size_t slash = ns_name.find('/');
    if (slash == std::string::npos) return;
    ServicePortName lo{ns_name.substr(0, slash), ns_name.substr(slash + 1), "", ""};
    for (auto it = m.lower_bound(lo);
         it != m.end() && it->first.ns == lo.ns && it->first.name == lo.name; ++it) {
      out.insert(it->first);
    }
  };
  for (const std::string& s : hint.changed_services) {
    add_service(*from.services, s);
    add_service(*to.services, s);
    add_service(*from.endpoints, s);
    add_service(*to.endpoints, s);
  }
  return out;
}

UpdateMessages EncodeDelta(const ProxyState& from, const ProxyState& to, const StateDiff& diff,
                           const std::string& instance, size_t units_per_message) {
  PartWriter w(units_per_message, [&] {
    v1::StateUpdate m;
    m.set_instance(instance);
    v1::Delta* d = m.mutable_delta();
    d->set_version(to.version);
    d->set_previous_version(from.version);
    if (diff.node_changed) ToProto(to.node, d->mutable_node());
    return m;
  });
  for (const ServicePortName& name : diff.upserted) {
    const EndpointList* eps = Find(*to.endpoints, name);
    ToProto(name, Find(*to.services, name), eps, w.Current().mutable_delta()->add_upserted());
    w.Added(1 + (eps ? eps->size() : 0));
  }
  for (const ServicePortName& name : diff.removed) {
    ToProto(name, w.Current().mutable_delta()->add_removed());
    w.Added(1);
  }
  return w.Finish();
}

SyncHint AppliedUpdate::ToSyncHint(uint64_t last_applied) const {
  SyncHint h;
  h.previous_version = last_applied;
  h.full = snapshot || node_changed || last_applied == 0 || last_applied != previous_version;
  if (!h.full) {
    h.changed_ports = changed_ports;
    h.changed_services = changed_services;
  }
  return h;
}

// ---- StateReplica ----

namespace {

// A map shared with the previous state, copied on the first real change (so a delta
// that touches only endpoints shares the Service port map, and unchanged entries keep
// their pointers: backends that cache by pointer stay warm).
template <typename Map>
class CowMap {
 public:
  explicit CowMap(std::shared_ptr<const Map> base = std::make_shared<const Map>())
      : base_(std::move(base)) {}
  const Map& view() const { return copy_ ? *copy_ : *base_; }
  Map& mut() {
    if (!copy_) copy_.emplace(*base_);
    return *copy_;
  }
  std::shared_ptr<const Map> Finish() {
    if (!copy_) return base_;
    return std::make_shared<const Map>(std::move(*copy_));
  }

 private:
  std::shared_ptr<const Map> base_;
  std::optional<Map> copy_;
};

}  // namespace

struct StateReplica::Pending {
  bool snapshot = false;
  std::string instance;
  uint64_t version = 0;
  uint64_t previous_version = 0;
  IPFamily family = IPFamily::kIPv4;
  NodeContext node;
  bool node_changed = false;
  CowMap<ServicePortMap> services;
  CowMap<EndpointsMap> endpoints;
  std::set<ServicePortName> changed_ports;
  std::set<std::string> changed_services;
};

void StateReplica::Reset() {
  state_ = ProxyState{};
  instance_.clear();
  pending_.reset();
}

absl::StatusOr<std::optional<AppliedUpdate>> StateReplica::Apply(const v1::StateUpdate& m) {
  absl::StatusOr<std::optional<AppliedUpdate>> r;
  switch (m.update_case()) {
    case v1::StateUpdate::kSnapshot:
      r = ApplySnapshot(m);
      break;
    case v1::StateUpdate::kDelta:
      r = ApplyDelta(m);
      break;
    default:
      r = absl::InvalidArgumentError("state update carries neither a snapshot nor a delta");
  }
  if (!r.ok()) Reset();
  return r;
}

namespace {

// Sets one entry of the maps (replacing what was there); equal values are left alone.
template <typename SM, typename EM>
absl::Status PutEntry(const v1::ServicePort& sp, SM& services, EM& endpoints,
                      ServicePortName* name_out) {
  absl::StatusOr<ServicePortName> name = FromProto(sp.name());
  if (!name.ok()) return name.status();
  if (sp.has_info()) {
    ServicePortInfo info = InfoFromProto(sp.info());
    auto it = services.view().find(*name);
    if (it == services.view().end() || !(*it->second == info)) {
      services.mut()[*name] = std::make_shared<const ServicePortInfo>(std::move(info));
    }
  } else if (services.view().count(*name)) {
    services.mut().erase(*name);
  }
  if (sp.endpoints_size() > 0) {
    EndpointList list;
    list.reserve(sp.endpoints_size());
    for (const v1::Endpoint& e : sp.endpoints()) list.push_back(EndpointFromProto(e));
    auto it = endpoints.view().find(*name);
    if (it == endpoints.view().end() || !(*it->second == list)) {
      endpoints.mut()[*name] = std::make_shared<const EndpointList>(std::move(list));
    }
  } else if (endpoints.view().count(*name)) {
    endpoints.mut().erase(*name);
  }
  *name_out = *std::move(name);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<AppliedUpdate>> StateReplica::ApplySnapshot(
    const v1::StateUpdate& m) {
  const v1::Snapshot& s = m.snapshot();
  if (s.version() == 0) return absl::InvalidArgumentError("snapshot with version 0");
  if (pending_ && (!pending_->snapshot || pending_->version != s.version() ||
                   pending_->instance != m.instance())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snapshot part of version ", s.version(), " while another update (version ",
        pending_->version, ") is incomplete"));
  }
  if (!pending_) {
    absl::StatusOr<IPFamily> family = FromProto(s.family());
    if (!family.ok()) return family.status();
    pending_ = std::make_shared<Pending>();
    pending_->snapshot = true;
    pending_->instance = m.instance();
    pending_->version = s.version();
    pending_->family = *family;
    pending_->node = NodeFromProto(s.node());
  }
  for (const v1::ServicePort& sp : s.service_ports()) {
    ServicePortName name;
    if (absl::Status st = PutEntry(sp, pending_->services, pending_->endpoints, &name); !st.ok()) {
      return st;
    }
  }
  if (s.more()) return std::optional<AppliedUpdate>();
  ProxyState next;
  next.version = pending_->version;
  next.family = pending_->family;
  next.node = std::move(pending_->node);
  next.services = pending_->services.Finish();
  next.endpoints = pending_->endpoints.Finish();
  state_ = std::move(next);
  instance_ = pending_->instance;
  pending_.reset();
  AppliedUpdate out;
  out.snapshot = true;
  out.version = state_.version;
  out.node_changed = true;
  return std::optional<AppliedUpdate>(std::move(out));
}

absl::StatusOr<std::optional<AppliedUpdate>> StateReplica::ApplyDelta(const v1::StateUpdate& m) {
  const v1::Delta& d = m.delta();
  if (pending_ && (pending_->snapshot || pending_->version != d.version() ||
                   pending_->instance != m.instance())) {
    return absl::InvalidArgumentError(absl::StrCat("delta part of version ", d.version(),
                                                   " while another update (version ",
                                                   pending_->version, ") is incomplete"));
  }
  if (!pending_) {
    if (state_.version == 0) {
      return absl::FailedPreconditionError("delta before any snapshot");
    }
    if (m.instance() != instance_ || d.previous_version() != state_.version ||
        d.version() <= d.previous_version()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "delta ", d.previous_version(), " -> ", d.version(), " of instance \"", m.instance(),
          "\" does not follow version ", state_.version, " of instance \"", instance_, "\""));
    }
    pending_ = std::make_shared<Pending>();
    pending_->instance = m.instance();
    pending_->version = d.version();
    pending_->previous_version = d.previous_version();
    pending_->node = state_.node;
    pending_->services = CowMap<ServicePortMap>(state_.services);
    pending_->endpoints = CowMap<EndpointsMap>(state_.endpoints);
  }
  if (d.has_node()) {
    NodeContext node = NodeFromProto(d.node());
    pending_->node_changed = pending_->node_changed || !(node == pending_->node);
    pending_->node = std::move(node);
  }
  for (const v1::ServicePort& sp : d.upserted()) {
    ServicePortName name;
    if (absl::Status st = PutEntry(sp, pending_->services, pending_->endpoints, &name); !st.ok()) {
      return st;
    }
    pending_->changed_services.insert(name.NamespacedName());
    pending_->changed_ports.insert(std::move(name));
  }
  for (const v1::ServicePortName& n : d.removed()) {
    absl::StatusOr<ServicePortName> name = FromProto(n);
    if (!name.ok()) return name.status();
    if (pending_->services.view().count(*name)) pending_->services.mut().erase(*name);
    if (pending_->endpoints.view().count(*name)) pending_->endpoints.mut().erase(*name);
    pending_->changed_services.insert(name->NamespacedName());
    pending_->changed_ports.insert(*std::move(name));
  }
  if (d.more()) return std::optional<AppliedUpdate>();
  ProxyState next;
  next.version = pending_->version;
  next.family = state_.family;
  next.node = std::move(pending_->node);
  next.services = pending_->services.Finish();
  next.endpoints = pending_->endpoints.Finish();
  state_ = std::move(next);
  AppliedUpdate out;
  out.version = pending_->version;
  out.previous_version = pending_->previous_version;
  out.changed_ports = std::move(pending_->changed_ports);
  out.changed_services = std::move(pending_->changed_services);
  out.node_changed = pending_->node_changed;
  pending_.reset();
  return std::optional<AppliedUpdate>(std::move(out));
}

// ---- FormatState ----

namespace {

std::string Flags(const EndpointInfo& e) {
  std::vector<std::string> f;
  if (e.ready) f.push_back("ready");
  if (e.serving) f.push_back("serving");
  if (e.terminating) f.push_back("terminating");
  if (e.is_local) f.push_back("local");
  return f.empty() ? "-" : absl::StrJoin(f, ",");
}

}  // namespace

std::string FormatState(const ProxyState& state) {
  std::string out =
      absl::StrCat("state version=", state.version, " family=", IPFamilyName(state.family),
                   " node=", state.node.name, "\n");
  for (const auto& [k, v] : state.node.labels) absl::StrAppend(&out, "node-label ", k, "=", v, "\n");
  std::set<ServicePortName> names;
  for (const auto& [name, _] : *state.services) names.insert(name);
  for (const auto& [name, _] : *state.endpoints) names.insert(name);
  for (const ServicePortName& name : names) {
    absl::StrAppend(&out, "service ", name.String(), " ", name.protocol);
    if (const ServicePortInfo* i = Find(*state.services, name)) {
      absl::StrAppend(&out, " ", i->String(), " type=", i->service_type);
      if (i->node_port) absl::StrAppend(&out, " nodePort=", i->node_port);
      if (!i->external_ips.empty()) {
        absl::StrAppend(&out, " externalIPs=", absl::StrJoin(i->external_ips, ","));
      }
      if (!i->load_balancer_vips.empty()) {
        absl::StrAppend(&out, " lbVIPs=", absl::StrJoin(i->load_balancer_vips, ","));
      }
      if (!i->load_balancer_source_ranges.empty()) {
        absl::StrAppend(&out, " lbSourceRanges=",
                        absl::StrJoin(i->load_balancer_source_ranges, ","));
      }
      if (i->session_affinity == SessionAffinity::kClientIP) {
        absl::StrAppend(&out, " affinity=ClientIP/", i->sticky_max_age_seconds, "s");
      }
      if (i->health_check_node_port) {
        absl::StrAppend(&out, " healthCheckNodePort=", i->health_check_node_port);
      }
      if (i->external_policy_local) absl::StrAppend(&out, " etp=Local");
      if (i->internal_policy_local) absl::StrAppend(&out, " itp=Local");
      if (!i->traffic_distribution.empty()) {
        absl::StrAppend(&out, " trafficDistribution=", i->traffic_distribution);
      }
    } else {
      absl::StrAppend(&out, " (no service port)");
    }
    absl::StrAppend(&out, "\n");
    if (const EndpointList* eps = Find(*state.endpoints, name)) {
      for (const EndpointInfo& e : *eps) {
        absl::StrAppend(&out, "  endpoint ", e.String(), " ", Flags(e));
        if (!e.node_name.empty()) absl::StrAppend(&out, " node=", e.node_name);
        if (!e.zone.empty()) absl::StrAppend(&out, " zone=", e.zone);
        if (!e.zone_hints.empty()) {
          absl::StrAppend(&out, " zoneHints=", absl::StrJoin(e.zone_hints, ","));
        }
        if (!e.node_hints.empty()) {
          absl::StrAppend(&out, " nodeHints=", absl::StrJoin(e.node_hints, ","));
        }
        absl::StrAppend(&out, "\n");
      }
    }
  }
  absl::StrAppend(&out, "end\n");
  return out;
}

}  // namespace kslice::proxy::grpc
