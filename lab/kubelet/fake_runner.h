// A Runner for tests: records every command, answers from a script of
// (argv prefix -> result) rules, and keeps fake processes that tests end by hand.
// A command no rule matches succeeds with empty output, unless strict() is set, in
// which case it fails the test (an unexpected call is a bug, as client-go's catch-all
// reactor).
#ifndef KSLICE_LAB_KUBELET_FAKE_RUNNER_H_
#define KSLICE_LAB_KUBELET_FAKE_RUNNER_H_

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "lab/kubelet/runner.h"

namespace kslice::lab::kubelet {

class FakeRunner : public Runner {
 public:
  // Commands starting with `prefix` (space-joined argv) answer `result`.
  void On(const std::string& prefix, CommandResult result) {
    std::lock_guard<std::mutex> l(mu_);
    rules_.emplace_back(prefix, std::move(result));
  }
  void set_strict(bool s) { strict_ = s; }
  // Processes end when signalled (exit 128+sig, or 0 for SIGQUIT as nginx's graceful
  // stop), instead of only through Exit().
  void set_exit_on_signal(bool e) { exit_on_signal_ = e; }

  absl::StatusOr<CommandResult> Run(const std::vector<std::string>& argv, absl::Duration) override {
    std::lock_guard<std::mutex> l(mu_);
    std::string cmd = absl::StrJoin(argv, " ");
    commands_.push_back(cmd);
    for (const auto& [prefix, result] : rules_) {
      if (cmd.rfind(prefix, 0) == 0) return result;
    }
    if (strict_) return absl::InternalError("unexpected command: " + cmd);
    return CommandResult{};
  }

  absl::StatusOr<int> Start(const std::vector<std::string>& argv, const std::string& log) override {
    std::lock_guard<std::mutex> l(mu_);
    int pid = next_pid_++;
    started_.push_back({absl::StrJoin(argv, " "), log});
    running_[pid] = true;
    return pid;
  }

  std::optional<ExitInfo> Poll(int pid) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = exits_.find(pid);
    if (it == exits_.end()) return std::nullopt;
    return it->second;
  }

  absl::Status Signal(int pid, int sig) override {
    std::lock_guard<std::mutex> l(mu_);
    signals_.emplace_back(pid, sig);
    if (exit_on_signal_ && running_.contains(pid) && !exits_.contains(pid)) {
      exits_[pid] = sig == 3 ? ExitInfo{0, 0, true} : ExitInfo{128 + sig, sig, true};
    }
    return absl::OkStatus();
  }

  // Makes a fake process end.
  void Exit(int pid, ExitInfo e) {
    std::lock_guard<std::mutex> l(mu_);
    exits_[pid] = e;
  }

  std::vector<std::string> commands() const {
    std::lock_guard<std::mutex> l(mu_);
    return commands_;
  }
  std::vector<std::pair<std::string, std::string>> started() const {
    std::lock_guard<std::mutex> l(mu_);
    return started_;
  }
  std::vector<std::pair<int, int>> signals() const {
    std::lock_guard<std::mutex> l(mu_);
    return signals_;
  }

 private:
  mutable std::mutex mu_;
  bool strict_ = false;
  bool exit_on_signal_ = false;
  std::vector<std::pair<std::string, CommandResult>> rules_;
  std::vector<std::string> commands_;
  std::vector<std::pair<std::string, std::string>> started_;
  std::vector<std::pair<int, int>> signals_;
  std::map<int, bool> running_;
  std::map<int, ExitInfo> exits_;
  int next_pid_ = 1000;
};

}  // namespace kslice::lab::kubelet

#endif  // KSLICE_LAB_KUBELET_FAKE_RUNNER_H_
