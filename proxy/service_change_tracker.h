// ServiceChangeTracker: Services -> ServicePortMap, as kube-proxy's ServiceChangeTracker
// (pkg/proxy/servicechangetracker.go, serviceport.go).
//
// Informer handlers call Update(previous, current) for every add/update/delete; the
// tracker keeps, per Service, the port map before the first pending change and after the
// latest one, and forgets the Service when they are equal again (an update that is
// undone before the next sync costs nothing). The sync loop calls Apply() to move the
// pending changes into its ServicePortMap.
//
// Which Services are tracked: not ExternalName, a ClusterIP that is neither "" nor
// "None", and a cluster IP of the tracker's family (clusterIPs, else clusterIP). One
// entry per spec.ports[] item (ServicePortToInfo says what it holds).
//
// Thread-safety: all methods may be called from any thread.
#ifndef KSLICE_PROXY_SERVICE_CHANGE_TRACKER_H_
#define KSLICE_PROXY_SERVICE_CHANGE_TRACKER_H_

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "api/core/v1/core.pb.h"
#include "proxy/types.h"

namespace kslice::proxy {

// The tracked ports of `service` for `family`; empty when the service is skipped.
ServicePortMap ServiceToServicePortMap(const api::core::v1::Service& service, IPFamily family);

class ServiceChangeTracker {
 public:
  explicit ServiceChangeTracker(IPFamily family) : family_(family) {}

  // Records a change: add (previous null), update, or delete (current null). Returns
  // whether any change is pending afterwards (for this or another Service), as upstream.
  bool Update(const api::core::v1::Service* previous, const api::core::v1::Service* current);

  // Services with pending changes.
  size_t PendingCount() const;

  struct Result {
    // "<namespace>/<name>" of Services whose ports were added, changed or removed.
    std::set<std::string> updated_services;
  };
  // Applies and clears the pending changes: entries of a changed Service are replaced by
  // its current ports. Every port added, removed or changed is added to
  // `changed_ports` when not null.
  Result Apply(ServicePortMap& map, std::set<ServicePortName>* changed_ports);

 private:
  struct Change {
    ServicePortMap previous;
    ServicePortMap current;
  };
  const IPFamily family_;
  mutable std::mutex mu_;
  std::map<std::string, Change> items_ ABSL_GUARDED_BY(mu_);  // by "<ns>/<name>"
};

// Deep equality of port maps (by value, not pointer).
bool ServicePortMapsEqual(const ServicePortMap& a, const ServicePortMap& b);

}  // namespace kslice::proxy

#endif  // KSLICE_PROXY_SERVICE_CHANGE_TRACKER_H_
