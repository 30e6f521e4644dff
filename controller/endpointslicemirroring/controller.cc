// The mirroring controller on the kslice runtime (kubernetes/kubernetes
// pkg/controller/endpointslicemirroring/endpointslicemirroring_controller.go): event
// handlers decide which Endpoints keys to sync; the sync itself is Reconciler::Sync.
#include "controller/endpointslicemirroring/controller.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "api/labels/selector.h"
#include "client/rest/client.h"
#include "controller/endpointslice/slice_tracker.h"
#include "controller/endpointslicemirroring/metrics.h"
#include "controller/endpointslicemirroring/reconciler.h"
#include "controller/log/log.h"
#include "controller/record/recorder.h"
#include "controller/runtime/controller.h"
#include "controller/workqueue/rate_limiters.h"
#include "informers/cache/object.h"
#include "informers/lister.h"
#include "informers/typed.h"

namespace kslice::endpointslicemirroring {
namespace {

using api::discovery::v1::EndpointSliceList;

// Upstream's constants (endpointslicemirroring_controller.go).
constexpr int kMaxRetries = 15;
constexpr absl::Duration kDefaultSyncBackOff = absl::Seconds(1);
constexpr absl::Duration kMaxSyncBackOff = absl::Seconds(100);
constexpr char kQueueName[] = "endpoint_slice_mirroring";
// Events' source.component, as upstream's broadcaster for this controller.
constexpr char kEventComponent[] = "endpoint-slice-mirroring-controller";

// Writes through the manager's REST client: POST, PUT (unconditional: the reconciler
// sends no resourceVersion), DELETE by name. Errors keep the server's Status.
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

const std::string& LabelOf(const EndpointSlice& slice, const char* key) {
  static const std::string* const kEmpty = new std::string();
  auto it = slice.metadata().labels().find(key);
  return it == slice.metadata().labels().end() ? *kEmpty : it->second;
}

bool ManagedByUs(const EndpointSlice& slice) {
  return LabelOf(slice, kLabelManagedBy) == kControllerName;
}

}  // namespace

// Everything the controller owns. Built by SetUpMirroringController; handlers and
// workers only run between manager.Run() and its return, which this object outlives.
class MirroringController::Impl {
 public:
  Impl(controller::Manager& manager, MirroringControllerOptions options)
      : manager_(manager), options_(options), writer_(manager.client()) {}

  ~Impl() {
    // The informers belong to the manager and may outlive us: stop our handlers first.
    for (auto& [informer, registration] : registrations_) {
      informer->RemoveEventHandler(registration);
    }
  }

  absl::Status Init();
  const controller::Controller& queue() const { return *queue_; }

 private:
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
  void QueueForSlice(const EndpointSlice& slice);
  absl::StatusOr<controller::Result> Process(const std::string& key);

  controller::Manager& manager_;  // not owned
  const MirroringControllerOptions options_;
  RestSliceWriter writer_;
  std::unique_ptr<controller::record::Recorder> recorder_;
  std::unique_ptr<Metrics> metrics_;
  endpointslice::SliceTracker tracker_;
  std::unique_ptr<Reconciler> reconciler_;
  Listers listers_;

  std::optional<informers::TypedInformer<Endpoints>> endpoints_;
  std::optional<informers::TypedInformer<Service>> services_;
  std::optional<informers::TypedInformer<EndpointSlice>> slices_;
  std::vector<
      std::pair<informers::SharedIndexInformer*, std::shared_ptr<informers::HandlerRegistration>>>
      registrations_;
  std::unique_ptr<controller::Controller> queue_;
};

absl::Status ValidateOptions(const MirroringControllerOptions& options) {
  // kube-controller-manager's EndpointSliceMirroringControllerOptions.Validate (the
  // batch period is not validated upstream; a non-positive one means "at once").
  if (options.workers < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mirroring-concurrent-service-endpoint-syncs must not be less than 1, but got ",
        options.workers));
  }
  if (options.workers > 50) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mirroring-concurrent-service-endpoint-syncs must not be more than 50, but got ",
        options.workers));
  }
  if (options.max_endpoints_per_subset < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("mirroring-max-endpoints-per-subset must not be less than 1, but got ",
                     options.max_endpoints_per_subset));
  }
  if (options.max_endpoints_per_subset > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("mirroring-max-endpoints-per-subset must not be more than 1000, but got ",
                     options.max_endpoints_per_subset));
  }
  return absl::OkStatus();
}

absl::Status MirroringController::Impl::Init() {
  informers::SharedInformerFactory& factory = manager_.informers();
  absl::StatusOr<informers::TypedInformer<Endpoints>> endpoints = factory.For<Endpoints>();
  if (!endpoints.ok()) return endpoints.status();
  absl::StatusOr<informers::TypedInformer<Service>> services = factory.For<Service>();
  if (!services.ok()) return services.status();
  absl::StatusOr<informers::TypedInformer<EndpointSlice>> slices = factory.For<EndpointSlice>();
  if (!slices.ok()) return slices.status();
  endpoints_.emplace(*endpoints);
  services_.emplace(*services);
  slices_.emplace(*slices);

  // Upstream's events of this controller come from "endpoint-slice-mirroring-controller"
  // whatever the process is called, so it gets its own recorder.
  controller::record::RecorderOptions ro;
  ro.component = kEventComponent;
  ro.host = manager_.identity();
  absl::StatusOr<std::unique_ptr<controller::record::Recorder>> rec =
      controller::record::Recorder::Create(manager_.client(), ro);
  if (!rec.ok()) return rec.status();
  recorder_ = *std::move(rec);

  absl::StatusOr<std::unique_ptr<Metrics>> m =
      Metrics::Create(manager_.registry(), options_.max_endpoints_per_subset);
  if (!m.ok()) return m.status();
  metrics_ = *std::move(m);

  controller::record::Recorder* recorder = recorder_.get();
  EventFunc events = [recorder](const Endpoints& endpoints, std::string_view type,
                                std::string_view reason, std::string_view message) {
    recorder->Event(endpoints, type, reason, message);
  };
  reconciler_ = std::make_unique<Reconciler>(
      &writer_, &tracker_, metrics_.get(), std::move(events),
      ReconcilerOptions{.max_endpoints_per_subset = options_.max_endpoints_per_subset});

  informers::Lister<Endpoints> endpoints_lister = endpoints_->Lister();
  informers::Lister<Service> service_lister = services_->Lister();
  informers::Lister<EndpointSlice> slice_lister = slices_->Lister();
  listers_.endpoints = [endpoints_lister](const std::string& ns, const std::string& name) {
    return endpoints_lister.Get(ns, name);
  };
  listers_.service = [service_lister](const std::string& ns, const std::string& name) {
    return service_lister.Get(ns, name);
  };
  listers_.mirrored_slices = [slice_lister](const std::string& ns, const std::string& name)
      -> absl::StatusOr<std::vector<std::shared_ptr<const EndpointSlice>>> {
    labels::LabelMap set;
    set[kLabelServiceName] = name;
    set[kLabelManagedBy] = kControllerName;
    std::vector<std::shared_ptr<const EndpointSlice>> out =
        slice_lister.Namespace(ns).List(labels::SelectorFromSet(set));
    // Upstream lists in map order; by name, the slice kept for a key is deterministic.
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a->metadata().name() < b->metadata().name();
    });
    return out;
  };

  // The queue: per-key exponential backoff from 1 s (not client-go's 5 ms: a sync may
  // write many slices) to 100 s, under an overall 10 qps / 100 bucket.
  absl::StatusOr<std::unique_ptr<controller::workqueue::RateLimiter>> bucket =
      controller::workqueue::NewBucketRateLimiter(10, 100);
  if (!bucket.ok()) return bucket.status();
  std::vector<std::unique_ptr<controller::workqueue::RateLimiter>> limiters;
  limiters.push_back(controller::workqueue::NewItemExponentialFailureRateLimiter(
      kDefaultSyncBackOff, kMaxSyncBackOff));
  limiters.push_back(*std::move(bucket));
  controller::ControllerOptions co;
  co.name = kQueueName;
  co.workers = options_.workers;
  co.max_retries = kMaxRetries;
  co.rate_limiter = controller::workqueue::NewMaxOfRateLimiter(std::move(limiters));
  co.registry = &manager_.registry();
  co.on_drop = [](const std::string& key, const absl::Status& error) {
    log::Error(error, "Retry budget exceeded, dropping Endpoints out of the queue", {{"key", key}});
  };
  queue_ = std::make_unique<controller::Controller>(
      std::move(co), [this](const std::string& key) { return Process(key); });

  if (absl::Status s = AddHandlers(); !s.ok()) return s;
  manager_.AddController(queue_.get());
  return absl::OkStatus();
}

absl::Status MirroringController::Impl::AddHandlers() {
  controller::Controller* q = queue_.get();

  // Endpoints: when mirrorable (an update also when it stops being mirrorable, so the
  // slices go).
  informers::TypedHandlerFuncs<Endpoints> on_endpoints;
  on_endpoints.add = [q](const std::shared_ptr<const Endpoints>& ep, bool) {
    if (ShouldMirror(*ep)) q->Enqueue(informers::KeyOf(*ep));
  };
  on_endpoints.update = [q](const std::shared_ptr<const Endpoints>& old_ep,
                            const std::shared_ptr<const Endpoints>& ep) {
    if (ShouldMirror(*ep) || ShouldMirror(*old_ep)) q->Enqueue(informers::KeyOf(*ep));
  };
  on_endpoints.del = [q](const informers::TypedDeletedObject<Endpoints>& d) {
    if (d.object != nullptr && ShouldMirror(*d.object)) q->Enqueue(d.key);
  };
  if (absl::Status s = Register<Endpoints>(*endpoints_, std::move(on_endpoints)); !s.ok()) {
    return s;
  }

  // Services: selector-less ones come and go; a selector appears or disappears.
  informers::TypedHandlerFuncs<Service> on_services;
  on_services.add = [q](const std::shared_ptr<const Service>& svc, bool) {
    if (svc->spec().selector().empty()) q->Enqueue(informers::KeyOf(*svc));
  };
  on_services.update = [q](const std::shared_ptr<const Service>& old_svc,
                           const std::shared_ptr<const Service>& svc) {
    if (svc->spec().selector().empty() != old_svc->spec().selector().empty()) {
      q->Enqueue(informers::KeyOf(*svc));
    }
  };
  on_services.del = [q](const informers::TypedDeletedObject<Service>& d) {
    if (d.object != nullptr && d.object->spec().selector().empty()) q->Enqueue(d.key);
  };
  if (absl::Status s = Register<Service>(*services_, std::move(on_services)); !s.ok()) {
    return s;
  }

  // Slices: changes we did not make (as the EndpointSlice controller, with our
  // managed-by value).
  informers::TypedHandlerFuncs<EndpointSlice> on_slices;
  on_slices.add = [this](const std::shared_ptr<const EndpointSlice>& slice, bool) {
    if (ManagedByUs(*slice) && tracker_.ShouldSync(*slice)) QueueForSlice(*slice);
  };
  on_slices.update = [this](const std::shared_ptr<const EndpointSlice>& old_slice,
                            const std::shared_ptr<const EndpointSlice>& slice) {
    // The generation does not move on label changes: a slice moved to another Endpoints
    // by its service-name label resyncs both, whoever manages it.
    if (LabelOf(*slice, kLabelServiceName) != LabelOf(*old_slice, kLabelServiceName)) {
      QueueForSlice(*slice);
      QueueForSlice(*old_slice);
      return;
    }
    if (ManagedByUs(*old_slice) != ManagedByUs(*slice) ||
        (ManagedByUs(*slice) && tracker_.ShouldSync(*slice))) {
      QueueForSlice(*slice);
    }
  };
  on_slices.del = [this](const informers::TypedDeletedObject<EndpointSlice>& d) {
    const EndpointSlice* slice = d.object.get();
    if (slice == nullptr || !ManagedByUs(*slice) || !tracker_.Has(*slice)) return;
    // A deletion we did not ask for: resync.
    if (!tracker_.HandleDeletion(*slice)) QueueForSlice(*slice);
  };
  return Register<EndpointSlice>(*slices_, std::move(on_slices));
}

void MirroringController::Impl::QueueForSlice(const EndpointSlice& slice) {
  const std::string& name = LabelOf(slice, kLabelServiceName);
  if (name.empty()) {
    log::Error(absl::InvalidArgumentError(
                   absl::StrCat("EndpointSlice missing ", kLabelServiceName, " label")),
               "Couldn't get key for EndpointSlice", {{"endpointslice", log::KObj(slice)}});
    return;
  }
  std::string key = absl::StrCat(slice.metadata().namespace_(), "/", name);
  if (options_.updates_batch_period > absl::ZeroDuration()) {
    queue_->EnqueueAfter(key, options_.updates_batch_period);
  } else {
    queue_->Enqueue(key);
  }
}

absl::StatusOr<controller::Result> MirroringController::Impl::Process(const std::string& key) {
  const absl::Time start = absl::Now();
  absl::Status s = reconciler_->Sync(key, listers_);
  log::V(4).Info("Finished syncing EndpointSlices for Endpoints",
                 {{"key", key}, {"elapsedTime", absl::FormatDuration(absl::Now() - start)}});
  if (!s.ok()) {
    log::Info("Error mirroring EndpointSlices for Endpoints, retrying", {{"key", key}, {"err", s}});
    return s;
  }
  return controller::Result{};
}

absl::StatusOr<std::unique_ptr<MirroringController>> SetUpMirroringController(
    controller::Manager& manager, MirroringControllerOptions options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  auto impl = std::make_unique<MirroringController::Impl>(manager, options);
  if (absl::Status s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<MirroringController>(new MirroringController(std::move(impl)));
}

MirroringController::MirroringController(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MirroringController::~MirroringController() = default;

int64_t MirroringController::reconciled() const { return impl_->queue().reconciled(); }
int64_t MirroringController::failed() const { return impl_->queue().failed(); }

}  // namespace kslice::endpointslicemirroring
