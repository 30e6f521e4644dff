#include "controller/leaderelection/fake_lease_client.h"

#include "absl/strings/str_cat.h"
#include "client/errors/errors.h"

namespace kslice::controller::leaderelection {

using api::coordination::v1::Lease;

namespace {
const client::GroupResource kLeases{"coordination.k8s.io", "leases"};
}  // namespace

void FakeLeaseClient::set_interceptor(std::function<absl::Status(Verb)> f) {
  std::lock_guard<std::mutex> lock(mu_);
  interceptor_ = std::move(f);
}

absl::Status FakeLeaseClient::Intercept(Verb verb) {
  std::function<absl::Status(Verb)> f;
  {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(verb);
    f = interceptor_;
  }
  return f ? f(verb) : absl::OkStatus();
}

absl::StatusOr<Lease> FakeLeaseClient::Get(absl::string_view ns, absl::string_view name) {
  if (absl::Status s = Intercept(Verb::kGet); !s.ok()) return s;
  return Stored(ns, name);
}

absl::StatusOr<Lease> FakeLeaseClient::Create(const Lease& lease) {
  if (absl::Status s = Intercept(Verb::kCreate); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_pair(lease.metadata().namespace_(), lease.metadata().name());
  if (leases_.count(key) != 0) {
    return client::ToStatus(client::NewAlreadyExists(kLeases, key.second));
  }
  Lease stored = lease;
  stored.mutable_metadata()->set_resourceversion(absl::StrCat(next_rv_++));
  leases_[key] = stored;
  return stored;
}

absl::StatusOr<Lease> FakeLeaseClient::Update(const Lease& lease) {
  if (absl::Status s = Intercept(Verb::kUpdate); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_pair(lease.metadata().namespace_(), lease.metadata().name());
  auto it = leases_.find(key);
  if (it == leases_.end()) return client::ToStatus(client::NewNotFound(kLeases, key.second));
  if (!lease.metadata().resourceversion().empty() &&
      lease.metadata().resourceversion() != it->second.metadata().resourceversion()) {
    return client::ToStatus(client::NewConflict(kLeases, key.second));
  }
  Lease stored = lease;
  stored.mutable_metadata()->set_resourceversion(absl::StrCat(next_rv_++));
  it->second = stored;
  return stored;
}

Lease FakeLeaseClient::Put(Lease lease) {
  std::lock_guard<std::mutex> lock(mu_);
  lease.mutable_metadata()->set_resourceversion(absl::StrCat(next_rv_++));
  leases_[{lease.metadata().namespace_(), lease.metadata().name()}] = lease;
  return lease;
}

absl::StatusOr<Lease> FakeLeaseClient::Stored(absl::string_view ns,
                                              absl::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find({std::string(ns), std::string(name)});
  if (it == leases_.end()) {
    return client::ToStatus(client::NewNotFound(kLeases, std::string(name)));
  }
  return it->second;
}

std::vector<FakeLeaseClient::Verb> FakeLeaseClient::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

void FakeLeaseClient::clear_calls() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.clear();
}

}  // namespace kslice::controller::leaderelection
