#include "proxy/backend.h"

#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kslice::proxy {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, BackendFactory> factories;
};

Registry& GetRegistry() {
  static Registry* const r = new Registry();  // never destroyed
  return *r;
}

}  // namespace

absl::Status RegisterBackend(absl::string_view name, BackendFactory factory) {
  if (name.empty()) return absl::InvalidArgumentError("proxy backend: empty name");
  if (!factory) return absl::InvalidArgumentError("proxy backend: empty factory");
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> l(r.mu);
  auto [it, inserted] = r.factories.try_emplace(std::string(name), std::move(factory));
  if (!inserted) {
    return absl::AlreadyExistsError(absl::StrCat("proxy backend \"", name, "\" already registered"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Backend>> NewBackend(absl::string_view name,
                                                   const BackendOptions& options) {
  BackendFactory factory;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> l(r.mu);
    auto it = r.factories.find(std::string(name));
    if (it == r.factories.end()) {
      std::vector<std::string> names;
      for (const auto& [n, _] : r.factories) names.push_back(n);
      return absl::NotFoundError(absl::StrCat("unknown proxy mode \"", name,
                                              "\"; registered: ", absl::StrJoin(names, ", ")));
    }
    factory = it->second;
  }
  absl::StatusOr<std::unique_ptr<Backend>> backend = factory(options);
  if (backend.ok() && *backend == nullptr) {
    return absl::InternalError(absl::StrCat("proxy backend \"", name, "\" returned null"));
  }
  return backend;
}

std::vector<std::string> RegisteredBackends() {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> l(r.mu);
  std::vector<std::string> names;
  for (const auto& [n, _] : r.factories) names.push_back(n);
  return names;
}

namespace internal {
BackendRegistrar::BackendRegistrar(const char* name, BackendFactory factory) {
  // A duplicate registration is a programming error visible in RegisteredBackends();
  // there is no logger at static-init time, so it is ignored here.
  (void)RegisterBackend(name, std::move(factory));
}
}  // namespace internal

}  // namespace kslice::proxy
