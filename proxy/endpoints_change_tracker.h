// EndpointsChangeTracker: EndpointSlices -> EndpointsMap, as kube-proxy's
// EndpointsChangeTracker and EndpointSliceCache (pkg/proxy/endpointschangetracker.go,
// endpointslicecache.go).
//
// Slices are grouped by Service (label kubernetes.io/service-name, not owner references)
// and kept by slice name in two layers: `applied` (what the last Apply() used) and
// `pending` (changed since). Apply() recomputes, for each Service with pending slices,
// its endpoints before and after, and replaces that Service's entries in the map.
//
// Rules (upstream's):
//  - A slice whose addressType is not the tracker's family ("IPv4"/"IPv6") is ignored,
//    as is one without the service-name label. An update equal to the pending (or else
//    applied) slice is not a change; deleting an unknown slice is a no-op.
//  - Slice ports without a name (null) or with port null/0 are skipped. Key = (service,
//    port name, port protocol).
//  - Endpoints without addresses are skipped; only addresses[0] is used, printed
//    canonically. ready/serving default to true, terminating to false. is_local: nodeName
//    equals the tracker's node name.
//  - Endpoints of all slices are merged by "ip:port"; a later duplicate replaces an
//    earlier one unless the later one is terminating. Slices are visited in name order
//    here (upstream's order is a Go map's, i.e. unspecified).
//  - Lists are sorted by "ip:port" (string order).
//  - Network programming latency: an added/updated slice whose
//    endpoints.kubernetes.io/last-change-trigger-time annotation parses (RFC 3339) and is
//    after the tracker's start time queues that time for its Service; deleting a slice
//    drops the Service's queued times. Apply() hands them out.
//
// Thread-safety: all methods may be called from any thread.
#ifndef KSLICE_PROXY_ENDPOINTS_CHANGE_TRACKER_H_
#define KSLICE_PROXY_ENDPOINTS_CHANGE_TRACKER_H_

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/discovery/v1/discovery.pb.h"
#include "proxy/types.h"

namespace kslice::proxy {

inline constexpr char kLastChangeTriggerTimeAnnotation[] =
    "endpoints.kubernetes.io/last-change-trigger-time";
inline constexpr char kServiceNameLabel[] = "kubernetes.io/service-name";

struct EndpointsTrackerOptions {
  std::string node_name;
  IPFamily family = IPFamily::kIPv4;
  // Trigger times at or before this are not measured (upstream: tracker creation).
  absl::Time start_time = absl::Now();
  // Feature gate PreferSameTrafficDistribution: read hints.forNodes.
  bool node_hints = true;
};

class EndpointsChangeTracker {
 public:
  explicit EndpointsChangeTracker(EndpointsTrackerOptions options);

  // Records an added/updated slice (remove=false) or a deleted one (remove=true).
  // Returns whether this call made a change that needs a sync. The slice is kept by
  // pointer (informer objects are immutable).
  bool EndpointSliceUpdate(std::shared_ptr<const api::discovery::v1::EndpointSlice> slice,
                           bool remove);

  // Services with pending slice changes.
  size_t PendingCount() const;

  struct Result {
    // "<namespace>/<name>" of Services with pending slice changes.
    std::set<std::string> updated_services;
    // Queued trigger times by Service, for kubeproxy_network_programming_duration_seconds.
    std::map<std::string, std::vector<absl::Time>> last_change_trigger_times;
  };
  // Applies and clears the pending changes. Ports whose endpoint list changed (added,
  // removed or different) go to `changed_ports` when not null.
  Result Apply(EndpointsMap& map, std::set<ServicePortName>* changed_ports);

  // The endpoints of one Service computed from a set of slices (exposed for tests).
  EndpointsMap EndpointsFor(
      const std::string& ns, const std::string& service,
      const std::map<std::string, std::shared_ptr<const api::discovery::v1::EndpointSlice>>&
          slices) const;

 private:
  using SliceByName =
      std::map<std::string, std::shared_ptr<const api::discovery::v1::EndpointSlice>>;
  struct Tracker {
    SliceByName applied;
    // A null value marks a pending removal.
    SliceByName pending;
  };

  const EndpointsTrackerOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Tracker> trackers_ ABSL_GUARDED_BY(mu_);  // by "<ns>/<service>"
  std::map<std::string, std::vector<absl::Time>> trigger_times_ ABSL_GUARDED_BY(mu_);
};

// Parses an RFC 3339 (optionally fractional) time as Go's time.RFC3339Nano layout.
bool ParseTriggerTime(const std::string& text, absl::Time* out);

}  // namespace kslice::proxy

#endif  // KSLICE_PROXY_ENDPOINTS_CHANGE_TRACKER_H_
