#include "controller/record/recorder.h"

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/meta/v1/meta.pb.h"
#include "api/scheme/scheme.h"
#include "client/errors/errors.h"
#include "client/rest/resource.h"
#include "controller/log/log.h"

namespace kslice::controller::record {

using api::core::v1::ObjectReference;
using EventT = api::core::v1::Event;

namespace {

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

class RestEventSink : public EventSink {
 public:
  explicit RestEventSink(client::RestClient& client)
      : client_(client), resource_(client::ResourceFor(EventT::descriptor())) {}

  absl::StatusOr<EventT> Create(const EventT& event) override {
    return Cast(client_.Create(event));
  }

  absl::StatusOr<EventT> Patch(const EventT& event, std::string_view patch) override {
    if (resource_ == nullptr) return absl::InternalError("events are not a known resource");
    return Cast(client_.Patch(*resource_, event.metadata().namespace_(), event.metadata().name(),
                              client::PatchType::kStrategicMerge, AV(patch)));
  }

 private:
  static absl::StatusOr<EventT> Cast(
      absl::StatusOr<std::unique_ptr<google::protobuf::Message>> m) {
    if (!m.ok()) return m.status();
    if ((*m)->GetDescriptor() != EventT::descriptor()) {
      return absl::InternalError("server answered with another kind: " +
                                 (*m)->GetDescriptor()->full_name());
    }
    return std::move(static_cast<EventT&>(**m));
  }

  client::RestClient& client_;  // not owned
  const client::ResourceInfo* resource_;
};

bool ValidType(std::string_view type) {
  return type == kEventTypeNormal || type == kEventTypeWarning;
}

log::ObjectRef RefOf(const EventT& e) {
  return log::KRef(e.involvedobject().namespace_(), e.involvedobject().name());
}

}  // namespace

std::unique_ptr<EventSink> NewRestEventSink(client::RestClient& client) {
  return std::make_unique<RestEventSink>(client);
}

absl::StatusOr<ObjectReference> GetReference(const google::protobuf::Message& object) {
  const google::protobuf::Descriptor* d = object.GetDescriptor();
  if (d == ObjectReference::descriptor()) return static_cast<const ObjectReference&>(object);
  absl::StatusOr<api::TypeMeta> tm = api::Scheme::Builtin().TypeMetaFor(d);
  if (!tm.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot reference an object of type ", d->full_name(), ": ", tm.status().message()));
  }
  const google::protobuf::FieldDescriptor* f = d->FindFieldByName("metadata");
  if (f == nullptr || f->message_type() != api::meta::v1::ObjectMeta::descriptor()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot reference an object of type ", d->full_name(), ": no ObjectMeta"));
  }
  const auto& meta = static_cast<const api::meta::v1::ObjectMeta&>(
      object.GetReflection()->GetMessage(object, f));
  ObjectReference ref;
  ref.set_kind(tm->kind);
  ref.set_apiversion(tm->api_version);
  ref.set_name(meta.name());
  ref.set_namespace_(meta.namespace_());
  ref.set_uid(meta.uid());
  ref.set_resourceversion(meta.resourceversion());
  return ref;
}

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::Create(client::RestClient& client,
                                                          RecorderOptions options) {
  return Create(NewRestEventSink(client), std::move(options));
}

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::Create(std::unique_ptr<EventSink> sink,
                                                          RecorderOptions options) {
  if (sink == nullptr) return absl::InvalidArgumentError("recorder: no event sink");
  if (options.component.empty()) {
    return absl::InvalidArgumentError("recorder: options.component is required");
  }
  if (options.queue_size == 0) options.queue_size = 1;
  if (options.max_tries < 1) options.max_tries = 1;
  return std::unique_ptr<Recorder>(new Recorder(std::move(sink), std::move(options)));
}

namespace {
CorrelatorOptions WithDefaults(const RecorderOptions& o) {
  CorrelatorOptions c = o.correlator;
  if (c.clock == nullptr) c.clock = o.clock;
  if (!c.now) c.now = o.now;
  return c;
}
}  // namespace

Recorder::Recorder(std::unique_ptr<EventSink> sink, RecorderOptions options)
    : sink_(std::move(sink)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &client::flowcontrol::Clock::Real()),
      correlator_(WithDefaults(options_)) {
  if (!options_.now) options_.now = [] { return absl::Now(); };
  worker_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

Recorder::~Recorder() { Shutdown(); }

void Recorder::Event(const google::protobuf::Message& object, std::string_view type,
                     std::string_view reason, std::string_view message) {
  AnnotatedEvent(object, {}, type, reason, message);
}

void Recorder::AnnotatedEvent(const google::protobuf::Message& object,
                              const std::map<std::string, std::string>& annotations,
                              std::string_view type, std::string_view reason,
                              std::string_view message) {
  absl::StatusOr<ObjectReference> ref = GetReference(object);
  if (!ref.ok()) {
    log::Error(ref.status(), "Could not construct reference, will not report event",
               {{"eventType", type}, {"reason", reason}, {"message", message}});
    return;
  }
  if (!ValidType(type)) {
    log::Error(absl::OkStatus(), "Unsupported event type", {{"eventType", type}});
    return;
  }
  absl::Time now = options_.now();
  EventT event;
  auto* meta = event.mutable_metadata();
  meta->set_name(GenerateEventName(ref->name(), absl::ToUnixNanos(now)));
  meta->set_namespace_(ref->namespace_().empty() ? "default" : ref->namespace_());
  for (const auto& [k, v] : annotations) (*meta->mutable_annotations())[k] = v;
  *event.mutable_involvedobject() = *ref;
  event.set_reason(std::string(reason));
  event.set_message(std::string(message));
  event.mutable_firsttimestamp()->set_seconds(absl::ToUnixSeconds(now));
  event.mutable_lasttimestamp()->set_seconds(absl::ToUnixSeconds(now));
  event.set_count(1);
  event.set_type(std::string(type));
  event.mutable_source()->set_component(options_.component);
  if (!options_.host.empty()) event.mutable_source()->set_host(options_.host);
  event.set_reportingcomponent(options_.component);
  event.set_reportinginstance(options_.host);

  if (options_.log_verbosity >= 0) {
    if (log::Verbose v = log::V(options_.log_verbosity); v) {
      v.Info("Event occurred", {{"object", RefOf(event)},
                                {"fieldPath", ref->fieldpath()},
                                {"kind", ref->kind()},
                                {"apiVersion", ref->apiversion()},
                                {"type", type},
                                {"reason", reason},
                                {"message", message}});
    }
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!shut_down_ && queue_.size() < options_.queue_size) {
      queue_.push_back(std::move(event));
      ++enqueued_;
      cv_.notify_all();
      return;
    }
  }
  ++dropped_;
  log::Error(absl::OkStatus(), "Unable to record event: too many queued events, dropped event",
             {{"object", RefOf(event)}, {"reason", reason}, {"message", message}});
}

bool Recorder::Flush(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  int64_t target = enqueued_;
  return cv_.wait_for(lock, std::chrono::nanoseconds(absl::ToInt64Nanoseconds(timeout)),
                      [&] { return handled_ >= target || shut_down_; }) &&
         handled_ >= target;
}

void Recorder::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    dropped_ += static_cast<int64_t>(queue_.size());
    handled_ += static_cast<int64_t>(queue_.size());
    queue_.clear();
    cv_.notify_all();
  }
  worker_.request_stop();
  if (worker_.joinable()) worker_.join();
}

void Recorder::Run(std::stop_token stop) {
  while (true) {
    EventT event;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, stop, [&] { return !queue_.empty() || shut_down_; });
      if (stop.stop_requested() || shut_down_) return;
      event = std::move(queue_.front());
      queue_.pop_front();
    }
    Write(event, stop);
    std::lock_guard<std::mutex> lock(mu_);
    ++handled_;
    cv_.notify_all();
  }
}

void Recorder::Write(const EventT& event, std::stop_token stop) {
  EventCorrelator::Result result = correlator_.Correlate(event);
  if (result.skip) return;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  for (int tries = 0;;) {
    if (WriteOnce(result)) return;
    ++tries;
    if (tries >= options_.max_tries) {
      log::Error(absl::OkStatus(), "Unable to write event (retry limit exceeded!)",
                 {{"object", RefOf(event)}, {"reason", event.reason()}});
      return;
    }
    absl::Duration delay = options_.retry_sleep;
    if (tries == 1) delay = delay * std::uniform_real_distribution<double>(0, 1)(rng);
    if (!clock_->SleepUntil(clock_->Now() + delay, stop)) {
      log::Error(absl::OkStatus(), "Unable to write event (recorder is shut down)",
                 {{"object", RefOf(event)}, {"reason", event.reason()}});
      return;
    }
  }
}

bool Recorder::WriteOnce(const EventCorrelator::Result& result) {
  EventT event = result.event;
  bool update = event.count() > 1;
  absl::StatusOr<EventT> written = absl::UnknownError("not sent");
  if (update) written = sink_->Patch(event, result.patch);
  bool not_found = false;
  if (update && !written.ok()) {
    std::optional<client::StatusError> e = client::FromStatus(written.status());
    not_found = e.has_value() && e->code() == 404;
  }
  if (!update || not_found) {
    event.mutable_metadata()->clear_resourceversion();
    written = sink_->Create(event);
  }
  if (written.ok()) {
    correlator_.UpdateState(*written);
    return true;
  }
  const absl::Status& err = written.status();
  if (std::optional<client::StatusError> e = client::FromStatus(err)) {
    bool quiet = client::IsAlreadyExists(*e) ||
                 client::FindCause(*e, "NamespaceTerminating").has_value();
    if (quiet) {
      KSLICE_V(5).Info("Server rejected event (will not retry!)",
                       {{"object", RefOf(event)}, {"reason", event.reason()}, {"err", err}});
    } else {
      log::Error(err, "Server rejected event (will not retry!)",
                 {{"object", RefOf(event)}, {"reason", event.reason()}});
    }
    return true;
  }
  if (err.code() == absl::StatusCode::kInvalidArgument) {  // the request could not be built
    log::Error(err, "Unable to construct event (will not retry!)",
               {{"object", RefOf(event)}, {"reason", event.reason()}});
    return true;
  }
  log::Error(err, "Unable to write event (may retry after sleeping)",
             {{"object", RefOf(event)}, {"reason", event.reason()}});
  return false;
}

}  // namespace kslice::controller::record
