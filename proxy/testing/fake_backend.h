// FakeBackend: a Backend for tests that records every Sync and can be told to fail.
#ifndef KSLICE_PROXY_TESTING_FAKE_BACKEND_H_
#define KSLICE_PROXY_TESTING_FAKE_BACKEND_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proxy/backend.h"

namespace kslice::proxy::testing {

class FakeBackend : public Backend {
 public:
  struct Call {
    ProxyState state;
    SyncHint hint;
  };

  absl::string_view name() const override { return "fake"; }

  absl::Status Sync(const ProxyState& state, const SyncHint& hint) override {
    std::lock_guard<std::mutex> l(mu_);
    calls_.push_back({state, hint});
    cv_.notify_all();
    if (fail_next_ > 0) {
      --fail_next_;
      return absl::UnavailableError("fake backend: told to fail");
    }
    return absl::OkStatus();
  }
  absl::Status Cleanup() override {
    std::lock_guard<std::mutex> l(mu_);
    ++cleanups_;
    return absl::OkStatus();
  }

  // The next n Syncs fail with Unavailable.
  void FailNext(int n) {
    std::lock_guard<std::mutex> l(mu_);
    fail_next_ = n;
  }
  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }
  // Waits (real time, up to `timeout`) for a recorded call satisfying `pred`; returns it.
  bool WaitFor(const std::function<bool(const Call&)>& pred, Call* out,
               absl::Duration timeout = absl::Seconds(30)) {
    std::unique_lock<std::mutex> l(mu_);
    size_t seen = 0;
    absl::Time deadline = absl::Now() + timeout;
    while (true) {
      for (; seen < calls_.size(); ++seen) {
        if (pred(calls_[seen])) {
          if (out != nullptr) *out = calls_[seen];
          return true;
        }
      }
      if (absl::Now() >= deadline) return false;
      cv_.wait_for(l, absl::ToChronoMilliseconds(absl::Milliseconds(100)));
    }
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
  int fail_next_ = 0;
  int cleanups_ = 0;
};

}  // namespace kslice::proxy::testing

#endif  // KSLICE_PROXY_TESTING_FAKE_BACKEND_H_
