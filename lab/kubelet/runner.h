// The one door through which the lab kubelet touches the machine: running `ip`,
// `sysctl` and the pods' processes. Tests replace it with a fake that records the
// commands and answers from a script, so the netns plumbing is tested without root.
//
//   std::unique_ptr<Runner> r = NewSystemRunner();
//   absl::StatusOr<CommandResult> out = r->Run({"ip", "netns", "list"});
//   absl::StatusOr<int> pid = r->Start({"ip", "netns", "exec", "lab-pod-x", "sleep", "infinity"},
//                                      "/tmp/state/x.log");
//   std::optional<ExitInfo> done = r->Poll(*pid);   // nullopt while it runs
//
// Processes started with Start() lead a process group of their own, so Signal()
// reaches whatever they spawn (nginx's workers, a shell's children).
#ifndef KSLICE_LAB_KUBELET_RUNNER_H_
#define KSLICE_LAB_KUBELET_RUNNER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kslice::lab::kubelet {

struct CommandResult {
  int exit_code = 0;  // -1 when killed by a signal (then `signal` is set)
  int signal = 0;
  std::string output;  // stdout and stderr together
  bool timed_out = false;
};

struct ExitInfo {
  int exit_code = 0;  // 128 + signal when killed by a signal, as a shell reports it
  int signal = 0;     // 0 unless killed by a signal
  bool known = true;  // false: the process was not our child (adopted); code unknown
};

class Runner {
 public:
  virtual ~Runner() = default;

  // Runs argv[0] (looked up in PATH) to completion, at most `timeout` (then it is
  // killed and timed_out is set). An error only when it could not be started.
  virtual absl::StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                                            absl::Duration timeout = absl::Seconds(30)) = 0;

  // Starts argv in the background in a new process group, stdin from /dev/null,
  // stdout and stderr appended to `log_path`. Returns its pid.
  virtual absl::StatusOr<int> Start(const std::vector<std::string>& argv,
                                    const std::string& log_path) = 0;

  // Whether pid has ended: nullopt while it runs. Reaps our own children; for a
  // pid we did not start (adopted after a restart) it reports an unknown exit once
  // the process is gone.
  virtual std::optional<ExitInfo> Poll(int pid) = 0;

  // Sends `sig` to pid's process group (and to pid itself). A gone process is OK.
  virtual absl::Status Signal(int pid, int sig) = 0;
};

// The real machine: fork/exec, waitpid, kill.
std::unique_ptr<Runner> NewSystemRunner();

// "ip link del x" style rendering for logs and errors.
std::string JoinArgv(const std::vector<std::string>& argv);

}  // namespace kslice::lab::kubelet

#endif  // KSLICE_LAB_KUBELET_RUNNER_H_
