// Watch events: what a Kubernetes watch stream delivers (metav1.WatchEvent decoded).
#ifndef KSLICE_CLIENT_WATCH_EVENT_H_
#define KSLICE_CLIENT_WATCH_EVENT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "api/codec/node.h"
#include "api/meta/v1/meta.pb.h"
#include "google/protobuf/message.h"

namespace kslice::client::watch {

enum class EventType { kAdded, kModified, kDeleted, kBookmark, kError };

// "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR" (the wire names).
absl::string_view EventTypeName(EventType type);
// The type for a wire name (case-sensitive, as upstream); nullopt for anything else.
std::optional<EventType> ParseEventType(absl::string_view name);

// The annotation a BOOKMARK carries (value "true") to mark the end of the initial
// events of a watch opened with sendInitialEvents=true.
inline constexpr absl::string_view kInitialEventsEndAnnotation = "k8s.io/initial-events-end";

struct Event {
  EventType type = EventType::kAdded;

  // The object, decoded through the Scheme (typed mode). ERROR events always carry
  // their metav1.Status here, in every mode. For DELETED it is the object's last
  // state; for BOOKMARK an otherwise empty object of the watched kind with only
  // metadata.resourceVersion (and possibly the initial-events-end annotation).
  std::unique_ptr<google::protobuf::Message> object;

  // Dynamic mode, JSON streams: the object as a JSON tree (custom resources, kinds
  // the Scheme does not know). kNull otherwise.
  kslice::codec::Node node;

  // The object's bytes as they were on the wire: its JSON text in JSON streams, its
  // enveloped protobuf ("k8s\0" + Unknown) in protobuf streams. Filled in dynamic
  // mode, and in typed mode when DecoderOptions::keep_raw is set.
  std::string raw;
};

// metadata.resourceVersion of the event's object (typed or dynamic); "" when the
// object has none (e.g. the Status of an ERROR event).
std::string ResourceVersion(const Event& event);

// True for a BOOKMARK whose object has annotation k8s.io/initial-events-end: "true".
bool IsInitialEventsEnd(const Event& event);

// The Status of an ERROR event; nullptr for other events. Build a
// kslice::client::StatusError from it (client/errors) to classify it.
const kslice::api::meta::v1::Status* EventStatus(const Event& event);

}  // namespace kslice::client::watch

#endif  // KSLICE_CLIENT_WATCH_EVENT_H_
