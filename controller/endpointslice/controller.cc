// The EndpointSlice controller on the kslice runtime (kubernetes/kubernetes
// pkg/controller/endpointslice/endpointslice_controller.go): event handlers decide which
// service keys to sync, workers run syncService, which reads the informer caches and
// hands the Reconciler the service, its pods and its slices. docs/endpointslice-controller.md
// ("Controller") describes the event rules.
#include "controller/endpointslice/controller.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "client/errors/errors.h"
#include "client/rest/client.h"
#include "controller/endpointslice/metrics.h"
#include "controller/endpointslice/reconciler.h"
#include "controller/endpointslice/slice_tracker.h"
#include "controller/endpointslice/topologycache/topology_cache.h"
#include "controller/endpointslice/trigger_time_tracker.h"
#include "controller/endpointslice/utils.h"
#include "controller/log/log.h"
#include "controller/record/recorder.h"
#include "controller/runtime/controller.h"
#include "controller/workqueue/rate_limiters.h"
#include "informers/cache/indexer.h"
#include "informers/cache/object.h"
#include "informers/lister.h"
#include "informers/typed.h"

namespace kslice::endpointslice {
namespace {

using api::discovery::v1::EndpointSliceList;

// Upstream's constants (endpointslice_controller.go).
constexpr int kMaxRetries = 15;
constexpr absl::Duration kSliceChangeMinSyncDelay = absl::Seconds(1);
constexpr absl::Duration kDefaultSyncBackOff = absl::Seconds(1);
constexpr absl::Duration kMaxSyncBackOff = absl::Seconds(1000);
constexpr char kTopologyQueueItemKey[] = "topologyQueueItemKey";
// Events' source.component, as upstream's broadcaster for this controller.
constexpr char kEventComponent[] = "endpoint-slice-controller";
constexpr char kServiceQueueName[] = "endpoint_slice";
constexpr char kStaleCacheMessage[] = "EndpointSlice informer cache is out of date";

// Writes go to the API server through the manager's REST client: POST, PUT with the
// slice's resourceVersion as precondition, DELETE by name (no preconditions, as
// upstream). Errors keep the server's Status (the reconciler looks for the
// NamespaceTerminating cause).
class RestSliceWriter : public SliceWriter {
 public:
  explicit RestSliceWriter(client::RestClient& client) : slices_(client) {}
  absl::StatusOr<EndpointSlice> Create(const EndpointSlice& slice) override {
    return slices_.Create(slice);
  }
  absl::StatusOr<EndpointSlice> Update(const EndpointSlice& slice) override {
    return slices_.Update(slice);
  }
  absl::Status Delete(const EndpointSlice& slice) override {
    return slices_.Delete(slice.metadata().namespace_(), slice.metadata().name());
  }

 private:
  client::Typed<EndpointSlice, EndpointSliceList> slices_;
};

// Indexes this controller adds to the shared informers. The caches keep objects
// serialized (CacheMode::kCompact) and decode on every read, so scanning a namespace per
// event or per sync (what upstream's listers do over decoded objects) would decode
// every pod and service of the namespace each time. With the indexes a pod event reads
// only the services whose selector shares a label pair with the pod, and a sync only
// the pods carrying one of the selector's pairs and the service's own slices. The
// results are those of the full scan.
constexpr char kPodLabelIndex[] = "endpointslice.kslice.io/pod-label";
constexpr char kServiceSelectorIndex[] = "endpointslice.kslice.io/service-selector";
constexpr char kSliceServiceIndex[] = "endpointslice.kslice.io/service-name";

// "ns/key=value": label keys have no '=', so the first '/' and the next '=' split it.
std::string PairValue(const std::string& ns, const std::string& key, const std::string& value) {
  return absl::StrCat(ns, "/", key, "=", value);
}

std::vector<std::string> PodLabelValues(const google::protobuf::Message& m) {
  std::vector<std::string> out;
  const auto* pod = dynamic_cast<const Pod*>(&m);
  if (pod == nullptr) return out;
  for (const auto& [k, v] : pod->metadata().labels()) {
    out.push_back(PairValue(pod->metadata().namespace_(), k, v));
  }
  return out;
}

std::vector<std::string> ServiceSelectorValues(const google::protobuf::Message& m) {
  std::vector<std::string> out;
  const auto* svc = dynamic_cast<const Service*>(&m);
  if (svc == nullptr) return out;
  for (const auto& [k, v] : svc->spec().selector()) {
    out.push_back(PairValue(svc->metadata().namespace_(), k, v));
  }
  return out;
}

std::vector<std::string> SliceServiceValues(const google::protobuf::Message& m) {
  const auto* slice = dynamic_cast<const EndpointSlice*>(&m);
  if (slice == nullptr) return {};
  auto it = slice->metadata().labels().find(kLabelServiceName);
  if (it == slice->metadata().labels().end()) return {};
  return {absl::StrCat(slice->metadata().namespace_(), "/", it->second)};
}

// Adds one index; AlreadyExists (another controller of this process added it) is fine.
absl::Status AddIndex(informers::SharedIndexInformer& informer, const char* name,
                      informers::IndexFunc func) {
  absl::Status s = informer.AddIndexers({{name, std::move(func)}});
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
}

// The objects of type T under `value` of `index`.
template <typename T>
std::vector<std::shared_ptr<const T>> ByIndex(const informers::Indexer& indexer,
                                              const char* index, const std::string& value) {
  std::vector<std::shared_ptr<const T>> out;
  absl::StatusOr<std::vector<informers::ObjectPtr>> objs = indexer.ByIndex(index, value);
  if (!objs.ok()) return out;
  for (informers::ObjectPtr& o : *objs) {
    if (o->GetDescriptor() == T::descriptor()) {
      out.push_back(std::static_pointer_cast<const T>(std::move(o)));
    }
  }
  return out;
}

bool IsNodeReady(const Node& node) {
  for (const api::core::v1::NodeCondition& c : node.status().conditions()) {
    if (c.type() == "Ready") return c.status() == "True";
  }
  return false;
}

std::string ZoneOf(const Node& node) {
  auto it = node.metadata().labels().find(kLabelTopologyZone);
  return it == node.metadata().labels().end() ? std::string() : it->second;
}

const std::string& ManagedBy(const EndpointSlice& slice) {
  static const std::string* const kEmpty = new std::string();
  auto it = slice.metadata().labels().find(kLabelManagedBy);
  return it == slice.metadata().labels().end() ? *kEmpty : it->second;
}

const std::string& ServiceNameLabel(const EndpointSlice& slice) {
  static const std::string* const kEmpty = new std::string();
  auto it = slice.metadata().labels().find(kLabelServiceName);
  return it == slice.metadata().labels().end() ? *kEmpty : it->second;
}

}  // namespace

// Everything the controller owns. Built by SetUpEndpointSliceController; handlers and
// workers only run between manager.Run() and its return, which this object outlives.
class EndpointSliceController::Impl {
 public:
  Impl(controller::Manager& manager, EndpointSliceControllerOptions options)
      : manager_(manager), options_(std::move(options)), writer_(manager.client()) {}

  ~Impl() {
    // The informers belong to the manager and may outlive us: stop our handlers first.
    for (auto& [informer, registration] : registrations_) {
      informer->RemoveEventHandler(registration);
    }
  }

  absl::Status Init();

 private:
  // syncService; `stale` is set when the slice cache is older than our writes.
  absl::Status SyncService(const std::string& key, bool* stale);
  absl::StatusOr<controller::Result> ProcessService(const std::string& key);
  void CheckNodeTopologyDistribution();

  void QueueServiceForSlice(const EndpointSlice& slice);
  void OnSliceAdd(const EndpointSlice& slice);
  void OnSliceUpdate(const EndpointSlice& old_slice, const EndpointSlice& slice);
  void OnSliceDelete(const EndpointSlice* slice);
  void OnPodChange(const Pod* old_pod, const Pod* new_pod);
  bool ManagedByController(const EndpointSlice& slice) const {
    return ManagedBy(slice) == reconciler_->options().controller_name;
  }

  absl::Status AddHandlers();
  template <typename T>
  absl::Status Register(informers::TypedInformer<T>& informer,
                        informers::TypedHandlerFuncs<T> funcs) {
    absl::StatusOr<std::shared_ptr<informers::HandlerRegistration>> reg =
        informer.AddEventHandler(std::move(funcs));
    if (!reg.ok()) return reg.status();
    registrations_.emplace_back(&informer.Informer(), *std::move(reg));
    return absl::OkStatus();
  }

  controller::Manager& manager_;  // not owned
  const EndpointSliceControllerOptions options_;
  RestSliceWriter writer_;
  std::unique_ptr<controller::record::Recorder> recorder_;
  std::unique_ptr<Metrics> metrics_;
  SliceTracker tracker_;
  TriggerTimeTracker trigger_times_;
  topologycache::TopologyCache topology_;
  std::unique_ptr<Reconciler> reconciler_;

  std::optional<informers::TypedInformer<Service>> services_;
  std::optional<informers::TypedInformer<Pod>> pods_;
  std::optional<informers::TypedInformer<Node>> nodes_;
  std::optional<informers::TypedInformer<EndpointSlice>> slices_;
  std::vector<std::pair<informers::SharedIndexInformer*,
                        std::shared_ptr<informers::HandlerRegistration>>>
      registrations_;

  std::unique_ptr<controller::Controller> service_queue_;
  std::unique_ptr<controller::Controller> topology_queue_;
};

absl::Status ValidateOptions(const EndpointSliceControllerOptions& options) {
  // kube-controller-manager's EndpointSliceControllerOptions.Validate.
  if (options.workers < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "concurrent-service-endpoint-syncs must not be less than 1, but got ", options.workers));
  }
  if (options.workers > 50) {
    return absl::InvalidArgumentError(absl::StrCat(
        "concurrent-service-endpoint-syncs must not be more than 50, but got ", options.workers));
  }
  if (options.max_endpoints_per_slice < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max-endpoints-per-slice must not be less than 1, but got ",
                     options.max_endpoints_per_slice));
  }
  if (options.max_endpoints_per_slice > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("max-endpoints-per-slice must not be more than 1000, but got ",
                     options.max_endpoints_per_slice));
  }
  return absl::OkStatus();
}

absl::Status EndpointSliceController::Impl::Init() {
  informers::SharedInformerFactory& factory = manager_.informers();
  absl::StatusOr<informers::TypedInformer<Service>> services = factory.For<Service>();
  if (!services.ok()) return services.status();
  absl::StatusOr<informers::TypedInformer<Pod>> pods = factory.For<Pod>();
  if (!pods.ok()) return pods.status();
  absl::StatusOr<informers::TypedInformer<Node>> nodes = factory.For<Node>();
  if (!nodes.ok()) return nodes.status();
  absl::StatusOr<informers::TypedInformer<EndpointSlice>> slices = factory.For<EndpointSlice>();
  if (!slices.ok()) return slices.status();
  services_.emplace(*services);
  pods_.emplace(*pods);
  nodes_.emplace(*nodes);
  slices_.emplace(*slices);
  if (absl::Status s = AddIndex(pods_->Informer(), kPodLabelIndex, PodLabelValues); !s.ok()) {
    return s;
  }
  if (absl::Status s =
          AddIndex(services_->Informer(), kServiceSelectorIndex, ServiceSelectorValues);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AddIndex(slices_->Informer(), kSliceServiceIndex, SliceServiceValues);
      !s.ok()) {
    return s;
  }

  // The manager's recorder reports as the manager; upstream's events of this controller
  // come from "endpoint-slice-controller" whatever the process is called.
  controller::record::RecorderOptions ro;
  ro.component = kEventComponent;
  ro.host = manager_.identity();
  absl::StatusOr<std::unique_ptr<controller::record::Recorder>> rec =
      controller::record::Recorder::Create(manager_.client(), ro);
  if (!rec.ok()) return rec.status();
  recorder_ = *std::move(rec);

  absl::StatusOr<std::unique_ptr<Metrics>> m =
      Metrics::Create(manager_.registry(), options_.max_endpoints_per_slice);
  if (!m.ok()) return m.status();
  metrics_ = *std::move(m);

  informers::Lister<Node> node_lister = nodes_->Lister();
  NodeGetter get_node = [node_lister](const std::string& name) {
    return node_lister.Get("", name);
  };
  controller::record::Recorder* recorder = recorder_.get();
  EventFunc events = [recorder](const Service& service, std::string_view type,
                                std::string_view reason, std::string_view message) {
    recorder->Event(service, type, reason, message);
  };
  ReconcilerOptions ro2;
  ro2.max_endpoints_per_slice = options_.max_endpoints_per_slice;
  ro2.prefer_same_traffic_distribution = options_.prefer_same_traffic_distribution;
  reconciler_ = std::make_unique<Reconciler>(&writer_, std::move(get_node), &tracker_, &topology_,
                                             metrics_.get(), std::move(events), ro2);

  // The service queue: per-item exponential backoff from 1 s (not client-go's 5 ms: a
  // sync may write many slices) to 1000 s, with an overall 10 qps / 100 bucket.
  absl::StatusOr<std::unique_ptr<controller::workqueue::RateLimiter>> bucket =
      controller::workqueue::NewBucketRateLimiter(10, 100);
  if (!bucket.ok()) return bucket.status();
  std::vector<std::unique_ptr<controller::workqueue::RateLimiter>> limiters;
  limiters.push_back(controller::workqueue::NewItemExponentialFailureRateLimiter(
      kDefaultSyncBackOff, kMaxSyncBackOff));
  limiters.push_back(*std::move(bucket));
  controller::ControllerOptions so;
  so.name = kServiceQueueName;
  so.workers = options_.workers;
  so.max_retries = kMaxRetries;
  so.rate_limiter = controller::workqueue::NewMaxOfRateLimiter(std::move(limiters));
  so.registry = &manager_.registry();
  so.on_drop = [](const std::string& key, const absl::Status& error) {
    log::Error(error, "Retry budget exceeded, dropping service out of the queue",
               {{"key", key}});
  };
  service_queue_ = std::make_unique<controller::Controller>(
      std::move(so), [this](const std::string& key) { return ProcessService(key); });

  // The topology queue: one constant key, one worker, client-go's default limiter and
  // no name (upstream's topology queue exports no workqueue metrics).
  controller::ControllerOptions to;
  to.workers = 1;
  to.registry = &manager_.registry();
  topology_queue_ = std::make_unique<controller::Controller>(
      std::move(to), [this](const std::string&) -> absl::StatusOr<controller::Result> {
        CheckNodeTopologyDistribution();
        return controller::Result{};
      });

  if (absl::Status s = AddHandlers(); !s.ok()) return s;
  manager_.AddController(service_queue_.get());
  manager_.AddController(topology_queue_.get());
  return absl::OkStatus();
}

absl::Status EndpointSliceController::Impl::AddHandlers() {
  // Services: any add, update or delete syncs the key at once (a deleted service's sync
  // forgets it; the garbage collector removes its slices through the owner reference).
  controller::Controller* q = service_queue_.get();
  absl::Status s = Register<Service>(
      *services_,
      {.add = [q](const std::shared_ptr<const Service>& svc,
                  bool) { q->Enqueue(informers::KeyOf(*svc)); },
       .update = [q](const std::shared_ptr<const Service>&,
                     const std::shared_ptr<const Service>& svc) {
         q->Enqueue(informers::KeyOf(*svc));
       },
       .del = [q](const informers::TypedDeletedObject<Service>& d) { q->Enqueue(d.key); }});
  if (!s.ok()) return s;

  // Pods: mapped to the services selecting their old or new labels.
  s = Register<Pod>(
      *pods_,
      {.add = [this](const std::shared_ptr<const Pod>& pod, bool) { OnPodChange(nullptr, pod.get()); },
       .update = [this](const std::shared_ptr<const Pod>& old_pod,
                        const std::shared_ptr<const Pod>& pod) {
         OnPodChange(old_pod.get(), pod.get());
       },
       .del = [this](const informers::TypedDeletedObject<Pod>& d) {
         if (d.object != nullptr) OnPodChange(d.object.get(), nullptr);
       }});
  if (!s.ok()) return s;

  // Nodes: only the topology cache cares (zone and nodeName of endpoints are read at
  // the next sync of each service).
  controller::Controller* tq = topology_queue_.get();
  s = Register<Node>(
      *nodes_,
      {.add = [tq](const std::shared_ptr<const Node>&, bool) { tq->Enqueue(kTopologyQueueItemKey); },
       .update = [tq](const std::shared_ptr<const Node>& old_node,
                      const std::shared_ptr<const Node>& node) {
         // The zone label may be added by a cloud provider after the node is created.
         if (IsNodeReady(*old_node) != IsNodeReady(*node) || ZoneOf(*old_node) != ZoneOf(*node)) {
           tq->Enqueue(kTopologyQueueItemKey);
         }
       },
       .del = [tq](const informers::TypedDeletedObject<Node>&) {
         tq->Enqueue(kTopologyQueueItemKey);
       }});
  if (!s.ok()) return s;

  return Register<EndpointSlice>(
      *slices_,
      {.add = [this](const std::shared_ptr<const EndpointSlice>& slice, bool) { OnSliceAdd(*slice); },
       .update = [this](const std::shared_ptr<const EndpointSlice>& old_slice,
                        const std::shared_ptr<const EndpointSlice>& slice) {
         OnSliceUpdate(*old_slice, *slice);
       },
       .del = [this](const informers::TypedDeletedObject<EndpointSlice>& d) {
         OnSliceDelete(d.object.get());
       }});
}

void EndpointSliceController::Impl::OnPodChange(const Pod* old_pod, const Pod* new_pod) {
  std::optional<PodProjectionKey> key = PodUpdateProjectionKey(old_pod, new_pod);
  if (!key.has_value()) return;
  // Candidates: services whose selector shares a pair with the new or old labels (a
  // superset of the matching ones; ServicesToUpdate decides).
  std::set<std::string> seen;
  std::vector<std::shared_ptr<const Service>> candidates;
  auto collect = [&](const std::map<std::string, std::string>& labels) {
    for (const auto& [k, v] : labels) {
      for (std::shared_ptr<const Service>& svc : ByIndex<Service>(
               services_->Informer().GetIndexer(), kServiceSelectorIndex, PairValue(key->ns, k, v))) {
        if (seen.insert(svc->metadata().name()).second) candidates.push_back(std::move(svc));
      }
    }
  };
  collect(key->labels);
  if (key->old_labels.has_value()) collect(*key->old_labels);
  for (const std::string& service_key : ServicesToUpdate(candidates, *key)) {
    service_queue_->EnqueueAfter(service_key, options_.endpoint_updates_batch_period);
  }
}

void EndpointSliceController::Impl::QueueServiceForSlice(const EndpointSlice& slice) {
  absl::StatusOr<std::string> key = ServiceControllerKey(slice);
  if (!key.ok()) {
    log::Error(key.status(), "Couldn't get key for EndpointSlice",
               {{"endpointslice", log::KObj(slice)}});
    return;
  }
  // Several slices of one service change together: wait at least a second so their
  // events collapse into one sync.
  service_queue_->EnqueueAfter(
      *key, std::max(kSliceChangeMinSyncDelay, options_.endpoint_updates_batch_period));
}

void EndpointSliceController::Impl::OnSliceAdd(const EndpointSlice& slice) {
  if (ManagedByController(slice) && tracker_.ShouldSync(slice)) QueueServiceForSlice(slice);
}

void EndpointSliceController::Impl::OnSliceUpdate(const EndpointSlice& old_slice,
                                            const EndpointSlice& slice) {
  // The generation does not move on label changes: a slice moved to another service by
  // its service-name label resyncs both services, whoever manages it.
  if (ServiceNameLabel(slice) != ServiceNameLabel(old_slice)) {
    log::Info("label changed", {{"label", kLabelServiceName},
                                {"oldService", ServiceNameLabel(old_slice)},
                                {"newService", ServiceNameLabel(slice)},
                                {"endpointslice", log::KObj(slice)}});
    QueueServiceForSlice(slice);
    QueueServiceForSlice(old_slice);
    return;
  }
  if (ManagedByController(old_slice) != ManagedByController(slice) ||
      (ManagedByController(slice) && tracker_.ShouldSync(slice))) {
    QueueServiceForSlice(slice);
  }
}

void EndpointSliceController::Impl::OnSliceDelete(const EndpointSlice* slice) {
  if (slice == nullptr || !ManagedByController(*slice) || !tracker_.Has(*slice)) return;
  // A deletion we did not ask for (someone else deleted our slice): resync.
  if (!tracker_.HandleDeletion(*slice)) QueueServiceForSlice(*slice);
}

void EndpointSliceController::Impl::CheckNodeTopologyDistribution() {
  topology_.SetNodes(nodes_->Lister().List());
  for (const std::string& key : topology_.GetOverloadedServices()) {
    log::V(2).Info("Queuing Service after Node change due to overloading", {{"key", key}});
    service_queue_->Enqueue(key);
  }
}

absl::StatusOr<controller::Result> EndpointSliceController::Impl::ProcessService(
    const std::string& key) {
  bool stale = false;
  const absl::Time start = absl::Now();
  absl::Status s = SyncService(key, &stale);
  log::V(4).Info("Finished syncing service endpoint slices",
                 {{"key", key}, {"elapsedTime", absl::FormatDuration(absl::Now() - start)}});
  metrics_->syncs->WithLabelValues({s.ok() ? "success" : (stale ? "stale" : "error")}).Inc();
  if (!s.ok()) {
    log::Info("Error syncing endpoint slices for service, retrying",
              {{"key", key}, {"err", s}});
    return s;
  }
  return controller::Result{};
}

absl::Status EndpointSliceController::Impl::SyncService(const std::string& key, bool* stale) {
  auto [ns, name] = informers::SplitKey(key);
  absl::StatusOr<std::shared_ptr<const Service>> got = services_->Lister().Get(ns, name);
  if (!got.ok()) {
    if (!absl::IsNotFound(got.status())) return got.status();
    // Deleted: forget it everywhere; its slices go with it through the garbage collector.
    trigger_times_.DeleteService(ns, name);
    metrics_->DeleteService(key);
    tracker_.DeleteService(ns, name);
    return absl::OkStatus();
  }
  const Service& service = **got;
  // ExternalName services get no endpoints (https://issues.k8s.io/105986); services
  // without a selector get theirs from users or the mirroring controller.
  if (service.spec().type() == "ExternalName") return absl::OkStatus();
  if (service.spec().selector().empty()) return absl::OkStatus();

  log::V(5).Info("About to update endpoint slices for service", {{"key", key}});
  // The pods carrying the selector's rarest pair, then the whole selector (an equality
  // set selector, as upstream's labels.Set(selector).AsSelectorPreValidated()).
  const informers::Indexer& pod_index = pods_->Informer().GetIndexer();
  std::string rarest;
  size_t rarest_count = SIZE_MAX;
  for (const auto& [k, v] : service.spec().selector()) {
    std::string value = PairValue(ns, k, v);
    if (service.spec().selector().size() == 1) {
      rarest = std::move(value);
      break;
    }
    absl::StatusOr<std::vector<std::string>> keys = pod_index.IndexKeys(kPodLabelIndex, value);
    size_t n = keys.ok() ? keys->size() : 0;
    if (n < rarest_count) {
      rarest_count = n;
      rarest = std::move(value);
    }
  }
  std::vector<std::shared_ptr<const Pod>> pods;
  for (std::shared_ptr<const Pod>& pod : ByIndex<Pod>(pod_index, kPodLabelIndex, rarest)) {
    const auto& labels = pod->metadata().labels();
    bool match = true;
    for (const auto& [k, v] : service.spec().selector()) {
      auto it = labels.find(k);
      if (it == labels.end() || it->second != v) {
        match = false;
        break;
      }
    }
    if (match) pods.push_back(std::move(pod));
  }
  // The listers read the cache and cannot fail, so upstream's FailedToListPods and
  // FailedToListEndpointSlices events have no path here.

  // Our slices of the service: service-name label (the index) and managed-by.
  std::vector<std::shared_ptr<const EndpointSlice>> slices = ByIndex<EndpointSlice>(
      slices_->Informer().GetIndexer(), kSliceServiceIndex, absl::StrCat(ns, "/", name));
  std::erase_if(slices, [this](const std::shared_ptr<const EndpointSlice>& s) {
    return !ManagedByController(*s);
  });
  // Slices held by a finalizer would keep the controller from converging: ignore them.
  std::erase_if(slices, [](const std::shared_ptr<const EndpointSlice>& s) {
    return s->metadata().has_deletiontimestamp();
  });

  if (tracker_.StaleSlices(service, slices)) {
    *stale = true;
    return absl::AbortedError(kStaleCacheMessage);
  }

  // Computed before reconciling so the tracker's state moves on even when the sync
  // writes nothing.
  absl::Time trigger_time = trigger_times_.ComputeEndpointLastChangeTriggerTime(ns, service, pods);

  absl::Status s = reconciler_->Reconcile(service, pods, slices, trigger_time);
  if (!s.ok()) {
    recorder_->Event(service, controller::record::kEventTypeWarning, "FailedToUpdateEndpointSlices",
                     absl::StrFormat("Error updating Endpoint Slices for Service %s/%s: %s", ns,
                                     name, s.message()));
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<EndpointSliceController>> SetUpEndpointSliceController(
    controller::Manager& manager, EndpointSliceControllerOptions options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  auto impl = std::make_unique<EndpointSliceController::Impl>(manager, std::move(options));
  if (absl::Status s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<EndpointSliceController>(new EndpointSliceController(std::move(impl)));
}

EndpointSliceController::EndpointSliceController(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

EndpointSliceController::~EndpointSliceController() = default;

}  // namespace kslice::endpointslice
