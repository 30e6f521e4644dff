// The cluster behavior an API server alone does not have but clients rely on, run
// inside the embedded server (kube-controller-manager's garbage collector and
// namespace controller, and kubelet's final delete of terminated pods):
//
//   - Garbage collection through ownerReferences: a dependent whose owners are all
//     gone is deleted (background propagation); dangling references next to a live
//     owner are removed. An owner deleted with propagationPolicy=Foreground keeps its
//     `foregroundDeletion` finalizer until its dependents are gone (they are deleted
//     with Foreground too); with Orphan, its dependents lose the reference and then
//     the `orphan` finalizer is removed.
//   - Namespace deletion: a terminating namespace has its content deleted, then its
//     `kubernetes` finalizer removed, then it is deleted.
//   - Pods deleted gracefully are removed once their deletionTimestamp passes (with a
//     uid precondition), as kubelet does after stopping the containers; a kubelet
//     that deletes them earlier wins.
//
// One thread per watched resource feeds events to one worker thread; actions go
// through APIServer's write paths (strategies, watch events).
#ifndef KSLICE_ENVTEST_APISERVER_CONTROLLERS_H_
#define KSLICE_ENVTEST_APISERVER_CONTROLLERS_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/meta/v1/meta.pb.h"
#include "envtest/storage/event.h"
#include "envtest/storage/resource.h"
#include "envtest/storage/watcher.h"

namespace kslice::envtest::apiserver {

class APIServer;

class Controllers {
 public:
  explicit Controllers(APIServer* server);
  ~Controllers();  // stops the threads
  Controllers(const Controllers&) = delete;
  Controllers& operator=(const Controllers&) = delete;

  absl::Status Start();

 private:
  struct Item {
    const storage::ResourceConfig* config = nullptr;
    storage::WatchEvent event;
  };
  struct Node {
    const storage::ResourceConfig* config = nullptr;
    std::string ns, name;
    std::vector<kslice::api::meta::v1::OwnerReference> owners;
  };

  void WatchLoop(const storage::ResourceConfig* config,
                 std::shared_ptr<storage::Watcher> watcher);
  void WorkLoop();
  void Observe(const Item& item);
  void Periodic();
  void CheckDependent(const std::string& uid);
  // The objects in storage with an ownerReference to `uid`.
  absl::StatusOr<std::vector<Node>> DependentsOf(const std::string& uid) const;
  bool ProcessForeground(const std::string& uid);
  bool ProcessOrphan(const std::string& uid);
  bool ProcessNamespace(const std::string& name);
  // True when the owner exists: seen by this worker, or (events of different
  // resources arrive in any order) found in storage with the same uid.
  bool OwnerExists(const std::string& dependent_ns,
                   const kslice::api::meta::v1::OwnerReference& ref) const;

  APIServer* const server_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> watchers_;
  std::thread worker_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;  // guarded by mu_

  // Worker-thread state.
  absl::flat_hash_map<std::string, Node> nodes_;                   // uid -> object
  std::multimap<std::string, std::string> dependents_;             // owner uid -> dependent uid
  std::set<std::string> pending_checks_;                           // dependents to examine
  std::set<std::string> retry_checks_;                             // failed: next round
  std::set<std::string> foreground_, orphan_;                      // owners being processed
  std::set<std::string> terminating_namespaces_;
  // Pods to remove at their deletionTimestamp: (time, uid) -> (ns, name).
  std::map<std::pair<absl::Time, std::string>, std::pair<std::string, std::string>> pod_expiry_;
};

}  // namespace kslice::envtest::apiserver

#endif  // KSLICE_ENVTEST_APISERVER_CONTROLLERS_H_
