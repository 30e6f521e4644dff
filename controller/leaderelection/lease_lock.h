// The lock a LeaderElector competes for (client-go's resourcelock.Interface) and its
// implementation on a coordination.k8s.io/v1 Lease (resourcelock.LeaseLock).
//
//   auto rest = kslice::client::RestClient::Create(config);
//   std::unique_ptr<LeaseClient> leases = NewRestLeaseClient(**rest);
//   LeaseLock lock(*leases, {.namespace_ = "kube-system", .name = "my-controller",
//                            .identity = hostname});
//   // hand &lock to LeaderElectionConfig::lock
//
// LeaseClient is the narrow seam between the algorithm and the API server (get,
// create, update of one Lease): tests replace it with an in-memory fake, and a
// wrapper can cut a candidate's connection.
#ifndef KSLICE_CONTROLLER_LEADERELECTION_LEASE_LOCK_H_
#define KSLICE_CONTROLLER_LEADERELECTION_LEASE_LOCK_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/coordination/v1/coordination.pb.h"
#include "client/rest/client.h"
#include "controller/leaderelection/record.h"

namespace kslice::controller::leaderelection {

// Get/create/update of Leases. Errors follow client/errors (404 NotFound, 409
// Conflict, ...). Implementations must be thread-safe.
class LeaseClient {
 public:
  virtual ~LeaseClient() = default;
  virtual absl::StatusOr<api::coordination::v1::Lease> Get(absl::string_view ns,
                                                           absl::string_view name) = 0;
  // Creates the Lease in lease.metadata.namespace.
  virtual absl::StatusOr<api::coordination::v1::Lease> Create(
      const api::coordination::v1::Lease& lease) = 0;
  // Replaces the Lease; metadata.resourceVersion makes it conditional (409 Conflict
  // when someone else wrote in between).
  virtual absl::StatusOr<api::coordination::v1::Lease> Update(
      const api::coordination::v1::Lease& lease) = 0;
};

// A LeaseClient over the REST client (Typed<Lease, LeaseList>). `client` is not
// owned and must outlive the result. Set a request timeout in its RestConfig
// (`timeout`): a request that hangs delays the elector's reaction to a lost lease.
std::unique_ptr<LeaseClient> NewRestLeaseClient(client::RestClient& client);

// A lock: one record in one object, written by one identity.
class ResourceLock {
 public:
  virtual ~ResourceLock() = default;
  // Reads the record (NotFound when the object does not exist).
  virtual absl::StatusOr<LeaderElectionRecord> Get() = 0;
  // Creates the object holding `record` (AlreadyExists when someone was faster).
  virtual absl::Status Create(const LeaderElectionRecord& record) = 0;
  // Writes `record` over the object last read or written by this lock, conditional on
  // its resourceVersion (Conflict when it changed since). FailedPrecondition before
  // the first successful Get or Create.
  virtual absl::Status Update(const LeaderElectionRecord& record) = 0;
  // The identity this lock writes as holder.
  virtual std::string Identity() const = 0;
  // "namespace/name", for messages.
  virtual std::string Describe() const = 0;
};

struct LeaseLockOptions {
  std::string namespace_{};
  std::string name{};
  // This candidate's unique name (e.g. hostname + "_" + a random suffix).
  std::string identity{};
  // Labels set on create and merged into the Lease's labels on every update.
  std::map<std::string, std::string> labels{};
};

// ResourceLock on a Lease (lock type "leases"). Thread-safe.
class LeaseLock : public ResourceLock {
 public:
  LeaseLock(LeaseClient& client, LeaseLockOptions options);  // client: not owned

  absl::StatusOr<LeaderElectionRecord> Get() override;
  absl::Status Create(const LeaderElectionRecord& record) override;
  absl::Status Update(const LeaderElectionRecord& record) override;
  std::string Identity() const override { return options_.identity; }
  std::string Describe() const override;

  // The Lease as last read or written (nullopt before that).
  std::optional<api::coordination::v1::Lease> lease() const;

 private:
  LeaseClient& client_;
  const LeaseLockOptions options_;
  mutable std::mutex mu_;
  std::optional<api::coordination::v1::Lease> lease_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kslice::controller::leaderelection

#endif  // KSLICE_CONTROLLER_LEADERELECTION_LEASE_LOCK_H_
