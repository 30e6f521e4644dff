// Watch events as the store delivers them.
#ifndef KSLICE_ENVTEST_STORAGE_EVENT_H_
#define KSLICE_ENVTEST_STORAGE_EVENT_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "client/watch/event.h"
#include "envtest/storage/object.h"

namespace kslice::envtest::storage {

// The watch event types, their wire names ("ADDED", ...) and the annotation a BOOKMARK
// carries to end the initial events of a sendInitialEvents=true watch: the same as the
// client's (client/watch/event.h), so events pass between the two without conversion.
using EventType = kslice::client::watch::EventType;
using kslice::client::watch::EventTypeName;
using kslice::client::watch::kInitialEventsEndAnnotation;

struct WatchEvent {
  EventType type = EventType::kAdded;
  // ADDED / MODIFIED: the stored object. DELETED: the last state with
  // metadata.resourceVersion set to the deletion's RV. BOOKMARK: an empty object of
  // the watched kind with only metadata.resourceVersion (and, to end the initial
  // events, the k8s.io/initial-events-end annotation). ERROR: a
  // kslice::api::meta::v1::Status.
  Object object{};
  // The event's resourceVersion (the object's, the deletion's, or the bookmark's);
  // 0 for ERROR.
  uint64_t resource_version = 0;
};

}  // namespace kslice::envtest::storage

#endif  // KSLICE_ENVTEST_STORAGE_EVENT_H_
