// An in-memory LeaseClient for tests: it keeps Leases by namespace/name, assigns
// increasing resourceVersions, answers like an API server (404 NotFound, 409
// AlreadyExists, 409 Conflict on a stale resourceVersion) and lets a test inject
// failures or observe every call. Thread-safe.
#ifndef KSLICE_CONTROLLER_LEADERELECTION_FAKE_LEASE_CLIENT_H_
#define KSLICE_CONTROLLER_LEADERELECTION_FAKE_LEASE_CLIENT_H_

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "controller/leaderelection/lease_lock.h"

namespace kslice::controller::leaderelection {

class FakeLeaseClient : public LeaseClient {
 public:
  enum class Verb { kGet, kCreate, kUpdate };

  absl::StatusOr<api::coordination::v1::Lease> Get(absl::string_view ns,
                                                   absl::string_view name) override;
  absl::StatusOr<api::coordination::v1::Lease> Create(
      const api::coordination::v1::Lease& lease) override;
  absl::StatusOr<api::coordination::v1::Lease> Update(
      const api::coordination::v1::Lease& lease) override;

  // Called before every request (outside the client's lock); a non-OK answer is
  // returned instead of serving the request.
  void set_interceptor(std::function<absl::Status(Verb)> f);

  // Stores `lease` as is (a new resourceVersion is assigned), bypassing checks.
  api::coordination::v1::Lease Put(api::coordination::v1::Lease lease);
  // The stored Lease, or NotFound.
  absl::StatusOr<api::coordination::v1::Lease> Stored(absl::string_view ns,
                                                      absl::string_view name) const;
  // Requests served (interceptor errors included), in order.
  std::vector<Verb> calls() const;
  void clear_calls();

 private:
  absl::Status Intercept(Verb verb);

  mutable std::mutex mu_;
  std::function<absl::Status(Verb)> interceptor_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, api::coordination::v1::Lease> leases_
      ABSL_GUARDED_BY(mu_);
  int64_t next_rv_ ABSL_GUARDED_BY(mu_) = 100;
  std::vector<Verb> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kslice::controller::leaderelection

#endif  // KSLICE_CONTROLLER_LEADERELECTION_FAKE_LEASE_CLIENT_H_
