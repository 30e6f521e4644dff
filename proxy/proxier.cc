#include "proxy/proxier.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace kslice::proxy {
namespace {

using api::core::v1::Node;
using api::core::v1::Service;
using api::discovery::v1::EndpointSlice;

// Whether the labels hand the object to another proxy (or mark a headless Service).
template <typename M>
bool NotOurs(const M& metadata) {
  return metadata.labels().count(kServiceProxyNameLabel) > 0 ||
         metadata.labels().count(kHeadlessLabel) > 0;
}

SyncRunnerOptions RunnerOptions(const ProxierOptions& o) {
  SyncRunnerOptions r;
  r.min_interval = o.min_sync_period;
  r.burst = 2;
  r.max_interval = o.full_sync_period;
  r.retry_initial = std::min(absl::Seconds(1), o.sync_period);
  r.retry_max = o.sync_period;
  r.clock = o.clock;
  return r;
}

double UnixSeconds(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }

}  // namespace

informers::TweakListOptionsFunc ProxyListOptionsTweak() {
  return [](client::ListOptions& o) {
    std::string sel = absl::StrCat("!", kServiceProxyNameLabel, ",!", kHeadlessLabel);
    o.label_selector = o.label_selector.empty() ? sel : absl::StrCat(o.label_selector, ",", sel);
  };
}

absl::StatusOr<std::unique_ptr<Proxier>> Proxier::Create(Backend& backend,
                                                         ProxierOptions options) {
  if (options.node_name.empty()) return absl::InvalidArgumentError("proxier: node name is required");
  if (options.clock == nullptr) return absl::InvalidArgumentError("proxier: null clock");
  return std::unique_ptr<Proxier>(new Proxier(backend, std::move(options)));
}

Proxier::Proxier(Backend& backend, ProxierOptions options)
    : backend_(backend),
      options_(std::move(options)),
      services_tracker_(options_.family),
      endpoints_tracker_(EndpointsTrackerOptions{options_.node_name, options_.family, absl::Now(),
                                                 options_.node_hints}),
      runner_([this] { return SyncOnce(); }, RunnerOptions(options_)) {
  state_.family = options_.family;
  state_.node.name = options_.node_name;
  applied_state_ = state_;
}

Proxier::~Proxier() = default;

absl::Status Proxier::AttachInformers(informers::SharedInformerFactory& factory) {
  auto services = factory.For<Service>();
  if (!services.ok()) return services.status();
  auto slices = factory.For<EndpointSlice>();
  if (!slices.ok()) return slices.status();
  auto nodes = factory.For<Node>();
  if (!nodes.ok()) return nodes.status();

  informers::TypedHandlerFuncs<Service> sh;
  sh.add = [this](const std::shared_ptr<const Service>& s, bool) { OnServiceUpdate(nullptr, s); };
  sh.update = [this](const std::shared_ptr<const Service>& o,
                     const std::shared_ptr<const Service>& n) { OnServiceUpdate(o, n); };
  sh.del = [this](const informers::TypedDeletedObject<Service>& d) {
    if (d.object != nullptr) OnServiceUpdate(d.object, nullptr);
  };
  if (auto r = services->AddEventHandler(std::move(sh)); !r.ok()) return r.status();

  informers::TypedHandlerFuncs<EndpointSlice> eh;
  eh.add = [this](const std::shared_ptr<const EndpointSlice>& s, bool) {
    OnEndpointSliceUpdate(s, false);
  };
  eh.update = [this](const std::shared_ptr<const EndpointSlice>&,
                     const std::shared_ptr<const EndpointSlice>& n) {
    OnEndpointSliceUpdate(n, false);
  };
  eh.del = [this](const informers::TypedDeletedObject<EndpointSlice>& d) {
    if (d.object != nullptr) OnEndpointSliceUpdate(d.object, true);
  };
  if (auto r = slices->AddEventHandler(std::move(eh)); !r.ok()) return r.status();

  informers::TypedHandlerFuncs<Node> nh;
  nh.add = [this](const std::shared_ptr<const Node>& n, bool) { OnNodeUpdate(n); };
  nh.update = [this](const std::shared_ptr<const Node>&, const std::shared_ptr<const Node>& n) {
    OnNodeUpdate(n);
  };
  nh.del = [this](const informers::TypedDeletedObject<Node>& d) {
    if (d.object != nullptr && d.object->metadata().name() == options_.node_name) {
      OnNodeUpdate(nullptr);
    }
  };
  if (auto r = nodes->AddEventHandler(std::move(nh)); !r.ok()) return r.status();

  std::lock_guard<std::mutex> l(mu_);
  factory_ = &factory;
  return absl::OkStatus();
}

absl::Status Proxier::Run(std::stop_token stop) {
  informers::SharedInformerFactory* factory;
  {
    std::lock_guard<std::mutex> l(mu_);
    factory = factory_;
  }
  if (factory == nullptr) return absl::FailedPreconditionError("proxier: informers not attached");
  for (const auto& [name, synced] : factory->WaitForCacheSync(stop)) {
    if (!synced) {
      if (stop.stop_requested()) return absl::CancelledError("proxier: stopped before sync");
      return absl::UnavailableError(absl::StrCat("proxier: informer ", name, " did not sync"));
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    initialized_ = true;
  }
  RequestSync();
  runner_.Loop(stop);
  return absl::OkStatus();
}

void Proxier::RequestSync() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!initialized_) return;  // the first sync is requested by Run()
  }
  if (options_.metrics != nullptr) {
    options_.metrics->sync_proxy_rules_last_queued_timestamp->Set(UnixSeconds(absl::Now()));
  }
  if (options_.on_sync_queued) options_.on_sync_queued();
  runner_.Run();
}

void Proxier::OnServiceUpdate(const std::shared_ptr<const Service>& previous,
                              const std::shared_ptr<const Service>& current) {
  const Service* prev = previous != nullptr && !NotOurs(previous->metadata()) ? previous.get() : nullptr;
  const Service* cur = current != nullptr && !NotOurs(current->metadata()) ? current.get() : nullptr;
  if (prev == nullptr && cur == nullptr) return;
  if (options_.metrics != nullptr) options_.metrics->service_changes_total->Inc();
  bool pending = services_tracker_.Update(prev, cur);
  if (options_.metrics != nullptr) {
    options_.metrics->service_changes_pending->Set(
        static_cast<double>(services_tracker_.PendingCount()));
  }
  if (pending) RequestSync();
}

void Proxier::OnEndpointSliceUpdate(const std::shared_ptr<const EndpointSlice>& slice,
                                    bool remove) {
  if (slice == nullptr) return;
  // A slice that became "not ours" is removed, as the informer's selector would do.
  if (NotOurs(slice->metadata())) remove = true;
  if (options_.metrics != nullptr) options_.metrics->endpoint_changes_total->Inc();
  bool changed = endpoints_tracker_.EndpointSliceUpdate(slice, remove);
  if (options_.metrics != nullptr) {
    options_.metrics->endpoint_changes_pending->Set(
        static_cast<double>(endpoints_tracker_.PendingCount()));
  }
  if (changed) RequestSync();
}

void Proxier::OnNodeUpdate(const std::shared_ptr<const Node>& node) {
  if (node != nullptr && node->metadata().name() != options_.node_name) return;
  std::map<std::string, std::string> labels;
  if (node != nullptr) labels.insert(node->metadata().labels().begin(), node->metadata().labels().end());
  {
    std::lock_guard<std::mutex> l(mu_);
    pending_node_labels_ = std::move(labels);
  }
  RequestSync();
}

absl::Status Proxier::SyncOnce() {
  client::flowcontrol::Clock& clock = *options_.clock;
  const absl::Time start = clock.Now();

  ProxyState next;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    next = state_;
  }
  // Node labels: a change makes this sync full.
  std::optional<std::map<std::string, std::string>> labels;
  {
    std::lock_guard<std::mutex> l(mu_);
    labels.swap(pending_node_labels_);
  }
  if (labels.has_value() && *labels != next.node.labels) {
    next.node.labels = std::move(*labels);
    need_full_sync_ = true;
  }
  // Services: copy-on-write of the map when something is pending.
  if (services_tracker_.PendingCount() > 0) {
    auto map = std::make_shared<ServicePortMap>(*next.services);
    ServiceChangeTracker::Result r = services_tracker_.Apply(*map, &changed_ports_);
    changed_services_.insert(r.updated_services.begin(), r.updated_services.end());
    next.services = std::move(map);
  }
  if (options_.metrics != nullptr) options_.metrics->service_changes_pending->Set(0);
  if (endpoints_tracker_.PendingCount() > 0) {
    auto map = std::make_shared<EndpointsMap>(*next.endpoints);
    EndpointsChangeTracker::Result r = endpoints_tracker_.Apply(*map, &changed_ports_);
    changed_services_.insert(r.updated_services.begin(), r.updated_services.end());
    for (auto& [svc, times] : r.last_change_trigger_times) {
      auto& v = trigger_times_[svc];
      v.insert(v.end(), times.begin(), times.end());
    }
    next.endpoints = std::move(map);
  } else {
    // Trigger times queued without a pending change are still handed out.
    EndpointsMap unused;
    EndpointsChangeTracker::Result r = endpoints_tracker_.Apply(unused, nullptr);
    for (auto& [svc, times] : r.last_change_trigger_times) {
      auto& v = trigger_times_[svc];
      v.insert(v.end(), times.begin(), times.end());
    }
  }
  if (options_.metrics != nullptr) options_.metrics->endpoint_changes_pending->Set(0);

  SyncHint hint;
  hint.full = need_full_sync_ || start - last_full_sync_ >= options_.full_sync_period;
  next.version = next.version + 1;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    hint.previous_version = applied_version_;
    state_ = next;
  }
  if (!hint.full) {
    hint.changed_services = changed_services_;
    hint.changed_ports = changed_ports_;
  }

  absl::Status status = backend_.Sync(next, hint);

  const absl::Duration took = clock.Now() - start;
  if (options_.metrics != nullptr) {
    options_.metrics->sync_proxy_rules_duration->Observe(absl::ToDoubleSeconds(took));
    (hint.full ? options_.metrics->sync_full_proxy_rules_duration
               : options_.metrics->sync_partial_proxy_rules_duration)
        ->Observe(absl::ToDoubleSeconds(took));
  }
  if (!status.ok()) {
    need_full_sync_ = true;
    return status;
  }
  {
    std::lock_guard<std::mutex> l(state_mu_);
    applied_version_ = next.version;
  }
  if (hint.full) last_full_sync_ = start;
  need_full_sync_ = false;
  changed_services_.clear();
  changed_ports_.clear();
  if (options_.metrics != nullptr) {
    const absl::Time now = absl::Now();
    options_.metrics->sync_proxy_rules_last_timestamp->Set(UnixSeconds(now));
    for (const auto& [svc, times] : trigger_times_) {
      for (absl::Time t : times) {
        options_.metrics->network_programming_duration->Observe(absl::ToDoubleSeconds(now - t));
      }
    }
  }
  trigger_times_.clear();
  ProxyState previous = std::move(applied_state_);
  applied_state_ = next;
  if (options_.after_sync) options_.after_sync(previous, next);
  return absl::OkStatus();
}

ProxyState Proxier::LastState() const {
  std::lock_guard<std::mutex> l(state_mu_);
  return state_;
}

uint64_t Proxier::LastAppliedVersion() const {
  std::lock_guard<std::mutex> l(state_mu_);
  return applied_version_;
}

}  // namespace kslice::proxy
