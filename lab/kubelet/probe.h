// Container probes as kubelet runs them (pkg/kubelet/prober): what one probe attempt
// does (ProbeExecutor: httpGet and tcpSocket from the kubelet's own network
// namespace — the node's — against the pod IP, exec inside the pod's namespace), and
// when results count (ProbeTracker: initialDelaySeconds, periodSeconds,
// successThreshold, failureThreshold, timeoutSeconds), driven by a clock the caller
// passes in, so tests step time by hand.
//
//   ProbeTracker ready(container.readinessprobe(), ProbeKind::kReadiness, started_at);
//   if (ready.Due(now)) ready.Record(executor.Run(handler, target, ready.timeout()).success, now);
//   bool is_ready = ready.result();
#ifndef KSLICE_LAB_KUBELET_PROBE_H_
#define KSLICE_LAB_KUBELET_PROBE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "lab/kubelet/runner.h"

namespace kslice::lab::kubelet {

enum class ProbeKind { kReadiness, kLiveness, kStartup };
const char* ProbeKindName(ProbeKind kind);  // "Readiness", "Liveness", "Startup"

struct ProbeOutcome {
  bool success = false;
  std::string message;  // why it failed (kubelet's wording where cheap)
};

// Where a probe goes.
struct ProbeTarget {
  std::string pod_ip;
  std::string netns;                                    // exec probes run here
  const api::core::v1::Container* container = nullptr;  // named ports; not owned
  std::vector<std::string> env;                         // exec probes' environment
};

class ProbeExecutor {
 public:
  virtual ~ProbeExecutor() = default;
  // One attempt, at most `timeout`.
  virtual ProbeOutcome Run(const api::core::v1::ProbeHandler& handler, const ProbeTarget& target,
                           absl::Duration timeout) = 0;
  // A lifecycle hook (preStop/postStart): exec, httpGet, tcpSocket or sleep.
  virtual ProbeOutcome RunHook(const api::core::v1::LifecycleHandler& handler,
                               const ProbeTarget& target, absl::Duration timeout) = 0;
};

// The real one: sockets for httpGet/tcpSocket, `runner` (not owned) for exec.
std::unique_ptr<ProbeExecutor> NewProbeExecutor(Runner& runner);

// The result of one probe of one container over time (kubelet's probe worker).
// Before the first counted result: readiness is false, liveness true, startup false.
class ProbeTracker {
 public:
  ProbeTracker(const api::core::v1::Probe& spec, ProbeKind kind, absl::Time container_started);

  // Whether an attempt is due at `now`: not before started + initialDelaySeconds,
  // then every periodSeconds after the previous attempt.
  bool Due(absl::Time now) const;
  // When the next attempt is due.
  absl::Time NextDue() const;
  // Counts an attempt made at `now`; the reported result changes only after
  // successThreshold successes / failureThreshold failures in a row. Returns whether
  // the reported result changed.
  bool Record(bool success, absl::Time now);

  bool result() const { return result_; }
  // failureThreshold failures in a row (a startup probe that gives up).
  bool FailedOut() const { return any_attempt_ && !last_attempt_ok_ && run_ >= failure_threshold_; }
  absl::Duration timeout() const { return timeout_; }
  absl::Duration period() const { return period_; }
  ProbeKind kind() const { return kind_; }
  const api::core::v1::Probe& spec() const { return spec_; }

 private:
  api::core::v1::Probe spec_;
  ProbeKind kind_;
  absl::Time first_due_;
  absl::Time last_attempt_ = absl::InfinitePast();
  absl::Duration period_, timeout_;
  int success_threshold_, failure_threshold_;
  bool result_;
  bool last_attempt_ok_ = false;
  bool any_attempt_ = false;
  int run_ = 0;  // attempts in a row with the same outcome
};

}  // namespace kslice::lab::kubelet

#endif  // KSLICE_LAB_KUBELET_PROBE_H_
