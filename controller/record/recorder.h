// An event recorder in the manner of client-go's tools/record: controllers report
// what they did to an object as core/v1 Events, written asynchronously.
//
//   auto recorder = Recorder::Create(client, {.component = "my-controller"});
//   (*recorder)->Eventf(pod, kEventTypeWarning, "FailedSync", "sync of %s failed: %s",
//                       key, status.message());
//
// Event() never blocks and never fails: the event goes on a bounded queue
// (queue_size, 1000 as upstream) and is dropped with an error log when the queue is
// full; a worker thread passes each event through an EventCorrelator (aggregation,
// de-duplication, spam filter; see event_correlator.h) and writes it: a new event
// with POST, a repeat with a strategic merge PATCH of count/lastTimestamp/message
// (falling back to POST when the earlier Event is gone). Transport errors are
// retried up to max_tries times (12), retry_sleep apart (10 s; the first wait is a
// random fraction of it); an answer of the server that refuses the event is not.
//
// What is not guaranteed: delivery (events are best-effort, dropped on a full
// queue, on persistent errors and at Shutdown), order between events of different
// objects, or that every occurrence is counted (the spam filter drops them).
#ifndef KSLICE_CONTROLLER_RECORD_RECORDER_H_
#define KSLICE_CONTROLLER_RECORD_RECORDER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "client/flowcontrol/clock.h"
#include "client/rest/client.h"
#include "controller/record/event_correlator.h"
#include "google/protobuf/message.h"

namespace kslice::controller::record {

inline constexpr std::string_view kEventTypeNormal = "Normal";
inline constexpr std::string_view kEventTypeWarning = "Warning";

// Where events are written (client-go's EventSink). The recorder's worker is the
// only caller.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // POST the event in its metadata.namespace.
  virtual absl::StatusOr<Event> Create(const Event& event) = 0;
  // PATCH (strategic merge) the Event event.metadata.namespace/name.
  virtual absl::StatusOr<Event> Patch(const Event& event, std::string_view patch) = 0;
};

// The sink over the REST client (not owned; must outlive the sink).
std::unique_ptr<EventSink> NewRestEventSink(client::RestClient& client);

// The reference an Event names: apiVersion/kind from the built-in scheme,
// namespace/name/uid/resourceVersion from the object's metadata. An
// api::core::v1::ObjectReference is taken as it is. Errors: a type the scheme does
// not know, or one without metadata.
absl::StatusOr<api::core::v1::ObjectReference> GetReference(const google::protobuf::Message& object);

struct RecorderOptions {
  std::string component;  // source.component and reportingComponent (required)
  std::string host{};     // source.host and reportingInstance
  size_t queue_size = 1000;
  int max_tries = 12;
  absl::Duration retry_sleep = absl::Seconds(10);
  CorrelatorOptions correlator{};
  // Sleeps between retries (not owned; nullptr: the real clock). Also the
  // correlator's clock unless correlator.clock is set.
  client::flowcontrol::Clock* clock = nullptr;
  // Wall-clock time of events (firstTimestamp, lastTimestamp, names); nullptr: absl::Now.
  std::function<absl::Time()> now{};
  // Also log every event at this verbosity ("Event occurred", as client-go's
  // StartStructuredLogging); negative: do not log.
  int log_verbosity = -1;
};

class Recorder {
 public:
  // Writes through `client` (not owned; must outlive the recorder).
  static absl::StatusOr<std::unique_ptr<Recorder>> Create(client::RestClient& client,
                                                         RecorderOptions options);
  static absl::StatusOr<std::unique_ptr<Recorder>> Create(std::unique_ptr<EventSink> sink,
                                                         RecorderOptions options);
  ~Recorder();  // Shutdown()
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Records an event about `object` (any registered kind, or an ObjectReference).
  // `type` is kEventTypeNormal or kEventTypeWarning; anything else is logged and
  // dropped, as are objects GetReference refuses.
  void Event(const google::protobuf::Message& object, std::string_view type,
             std::string_view reason, std::string_view message);
  template <typename... Args>
  void Eventf(const google::protobuf::Message& object, std::string_view type,
              std::string_view reason, const absl::FormatSpec<Args...>& format,
              const Args&... args) {
    Event(object, type, reason, absl::StrFormat(format, args...));
  }
  // With annotations on the Event's metadata.
  void AnnotatedEvent(const google::protobuf::Message& object,
                      const std::map<std::string, std::string>& annotations,
                      std::string_view type, std::string_view reason, std::string_view message);

  // Blocks until every event queued so far has been handled (written, skipped or
  // given up on), or the timeout passes (false).
  bool Flush(absl::Duration timeout);

  // Stops the worker: the event being written gets no more retries, queued ones are
  // dropped. Later events are dropped. Idempotent.
  void Shutdown();

  // Events dropped because the queue was full or the recorder shut down.
  int64_t dropped() const { return dropped_.load(); }

 private:
  Recorder(std::unique_ptr<EventSink> sink, RecorderOptions options);
  void Run(std::stop_token stop);
  void Write(const api::core::v1::Event& event, std::stop_token stop);
  // true: done (written, or refused for good); false: retry.
  bool WriteOnce(const EventCorrelator::Result& result);

  std::unique_ptr<EventSink> sink_;
  RecorderOptions options_;
  client::flowcontrol::Clock* clock_;  // not owned
  EventCorrelator correlator_;
  std::atomic<int64_t> dropped_{0};

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<api::core::v1::Event> queue_;  // guarded by mu_
  int64_t enqueued_ = 0;                    // guarded by mu_
  int64_t handled_ = 0;                     // guarded by mu_
  bool shut_down_ = false;                  // guarded by mu_
  std::jthread worker_;
};

}  // namespace kslice::controller::record

#endif  // KSLICE_CONTROLLER_RECORD_RECORDER_H_
