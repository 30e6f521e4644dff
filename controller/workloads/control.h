// Writes the workload controllers make through the API server, and the claim step of
// upstream's ControllerRefManager (controller_ref_manager.go): given an owner and the
// objects of its namespace, keep the ones it controls and still selects, adopt matching
// orphans, release controlled ones it no longer selects.
#ifndef KSLICE_CONTROLLER_WORKLOADS_CONTROL_H_
#define KSLICE_CONTROLLER_WORKLOADS_CONTROL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "api/labels/selector.h"
#include "api/meta/v1/meta.pb.h"
#include "client/rest/client.h"
#include "client/rest/resource.h"
#include "controller/log/log.h"
#include "controller/workloads/util.h"
#include "informers/cache/object.h"

namespace kslice::workloads {

// The owner as claim needs it.
struct Owner {
  const ObjectMeta* meta = nullptr;  // not owned
  std::string api_version;           // "apps/v1"
  std::string kind;                  // "ReplicaSet"
};

// Claims objects of type T (Pods, ReplicaSets) for `owner` with `selector`. Adoption
// first calls `can_adopt` (upstream's RecheckDeletionTimestamp: a fresh read of the
// owner, refusing when it is being deleted or was replaced); an owner being deleted
// adopts nothing and releases nothing. Errors of individual patches are returned after
// every object was tried (NotFound ones are ignored: the object is gone).
template <typename T>
absl::Status Claim(client::RestClient& client, const Owner& owner, const labels::Selector& selector,
                   const std::vector<std::shared_ptr<const T>>& candidates,
                   const std::function<absl::Status()>& can_adopt,
                   std::vector<std::shared_ptr<const T>>* claimed) {
  const client::ResourceInfo* resource = client::ResourceFor(T::descriptor());
  const bool owner_deleting = owner.meta->has_deletiontimestamp();
  absl::Status first;
  bool adopt_checked = false;
  absl::Status adopt_ok;
  for (const std::shared_ptr<const T>& obj : candidates) {
    const ObjectMeta& m = obj->metadata();
    const OwnerReference* ref = GetControllerOf(m);
    const bool matches = selector.Matches(m.labels());
    if (ref != nullptr) {
      if (ref->uid() != owner.meta->uid()) continue;  // someone else's
      if (matches || owner_deleting) {
        claimed->push_back(obj);
        continue;
      }
      if (m.has_deletiontimestamp()) continue;
      absl::StatusOr<std::unique_ptr<google::protobuf::Message>> r =
          client.Patch(*resource, m.namespace_(), m.name(), client::PatchType::kStrategicMerge,
                       ReleasePatch(owner.meta->uid(), m.uid()));
      if (!r.ok() && !absl::IsNotFound(r.status()) && first.ok()) first = r.status();
      continue;
    }
    if (!matches || owner_deleting || m.has_deletiontimestamp()) continue;
    if (!adopt_checked) {
      adopt_ok = can_adopt();
      adopt_checked = true;
    }
    if (!adopt_ok.ok()) {
      if (first.ok()) first = adopt_ok;
      continue;
    }
    OwnerReference mine = NewControllerRef(*owner.meta, owner.api_version, owner.kind);
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> r =
        client.Patch(*resource, m.namespace_(), m.name(), client::PatchType::kStrategicMerge,
                     AdoptPatch(mine, m.uid()));
    if (!r.ok()) {
      if (!absl::IsNotFound(r.status()) && first.ok()) first = r.status();
      continue;
    }
    if ((*r)->GetDescriptor() == T::descriptor()) {
      claimed->push_back(std::make_shared<T>(static_cast<const T&>(**r)));
    }
  }
  return first;
}

// The controllers' expected-owner check for adoption: `fresh` is the owner read from the
// server; refuses (FailedPrecondition) when it is being deleted or has another uid.
absl::Status CheckCanAdopt(const ObjectMeta& cached, const absl::StatusOr<ObjectMeta>& fresh);

}  // namespace kslice::workloads

#endif  // KSLICE_CONTROLLER_WORKLOADS_CONTROL_H_
