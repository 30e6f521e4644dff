#include "controller/leaderelection/lease_lock.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace kslice::controller::leaderelection {
namespace {

using api::coordination::v1::Lease;
using api::coordination::v1::LeaseList;

class RestLeaseClient : public LeaseClient {
 public:
  explicit RestLeaseClient(client::RestClient& client) : typed_(client) {}

  absl::StatusOr<Lease> Get(absl::string_view ns, absl::string_view name) override {
    return typed_.Get(ns, name);
  }
  absl::StatusOr<Lease> Create(const Lease& lease) override { return typed_.Create(lease); }
  absl::StatusOr<Lease> Update(const Lease& lease) override { return typed_.Update(lease); }

 private:
  client::Typed<Lease, LeaseList> typed_;
};

}  // namespace

std::unique_ptr<LeaseClient> NewRestLeaseClient(client::RestClient& client) {
  return std::make_unique<RestLeaseClient>(client);
}

LeaseLock::LeaseLock(LeaseClient& client, LeaseLockOptions options)
    : client_(client), options_(std::move(options)) {}

std::string LeaseLock::Describe() const {
  return absl::StrCat(options_.namespace_, "/", options_.name);
}

std::optional<Lease> LeaseLock::lease() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lease_;
}

absl::StatusOr<LeaderElectionRecord> LeaseLock::Get() {
  absl::StatusOr<Lease> got = client_.Get(options_.namespace_, options_.name);
  if (!got.ok()) return got.status();
  LeaderElectionRecord record = RecordFromLeaseSpec(got->spec());
  std::lock_guard<std::mutex> lock(mu_);
  lease_ = *std::move(got);
  return record;
}

absl::Status LeaseLock::Create(const LeaderElectionRecord& record) {
  Lease lease;
  lease.mutable_metadata()->set_namespace_(options_.namespace_);
  lease.mutable_metadata()->set_name(options_.name);
  for (const auto& [k, v] : options_.labels) (*lease.mutable_metadata()->mutable_labels())[k] = v;
  *lease.mutable_spec() = LeaseSpecFromRecord(record);
  absl::StatusOr<Lease> created = client_.Create(lease);
  if (!created.ok()) return created.status();
  std::lock_guard<std::mutex> lock(mu_);
  lease_ = *std::move(created);
  return absl::OkStatus();
}

absl::Status LeaseLock::Update(const LeaderElectionRecord& record) {
  Lease lease;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!lease_.has_value()) {
      return absl::FailedPreconditionError("lease not initialized, call get or create first");
    }
    lease = *lease_;
  }
  *lease.mutable_spec() = LeaseSpecFromRecord(record);
  for (const auto& [k, v] : options_.labels) (*lease.mutable_metadata()->mutable_labels())[k] = v;
  absl::StatusOr<Lease> updated = client_.Update(lease);
  if (!updated.ok()) return updated.status();
  std::lock_guard<std::mutex> lock(mu_);
  lease_ = *std::move(updated);
  return absl::OkStatus();
}

}  // namespace kslice::controller::leaderelection
