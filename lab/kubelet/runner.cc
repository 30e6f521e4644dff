#include "lab/kubelet/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace kslice::lab::kubelet {
namespace {

// Spawn attributes every child gets: its own process group, default signal
// dispositions and an empty mask (the kubelet may block SIGTERM for its handler
// thread; a pod's process must not inherit that).
class SpawnAttr {
 public:
  SpawnAttr() {
    posix_spawnattr_init(&attr_);
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr_, &empty);
    posix_spawnattr_setsigdefault(&attr_, &all);
    posix_spawnattr_setpgroup(&attr_, 0);
    posix_spawnattr_setflags(
        &attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr_); }
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

std::vector<char*> CArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const std::string& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// State 'Z' (or 'X') in /proc/<pid>/stat: ended, not reaped yet.
bool IsZombie(int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;  // gone between the two checks
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return true;
  buf[n] = 0;
  const char* paren = strrchr(buf, ')');  // the command may contain spaces and parens
  if (paren == nullptr || paren[1] != ' ') return false;
  return paren[2] == 'Z' || paren[2] == 'X';
}

ExitInfo FromWaitStatus(int status) {
  ExitInfo e;
  if (WIFEXITED(status)) {
    e.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
    e.exit_code = 128 + e.signal;
  }
  return e;
}

class SystemRunner : public Runner {
 public:
  absl::StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                                    absl::Duration timeout) override {
    if (argv.empty()) return absl::InvalidArgumentError("empty command");
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
      return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    SpawnAttr attr;
    std::vector<char*> cargv = CArgv(argv);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, cargv[0], &fa, attr.get(), cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      return absl::FailedPreconditionError(
          absl::StrCat("cannot run ", JoinArgv(argv), ": ", strerror(rc)));
    }
    CommandResult result;
    absl::Time deadline = absl::Now() + timeout;
    char buf[4096];
    while (true) {
      int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
      if (left <= 0) {
        result.timed_out = true;
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        break;
      }
      pollfd p{fds[0], POLLIN, 0};
      int n = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) continue;
      ssize_t r = read(fds[0], buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;  // EOF: every writer (the child and its children) is gone
      if (result.output.size() < (1 << 20)) result.output.append(buf, static_cast<size_t>(r));
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ExitInfo e = FromWaitStatus(status);
    result.signal = e.signal;
    result.exit_code = e.signal != 0 ? -1 : e.exit_code;
    return result;
  }

  absl::StatusOr<int> Start(const std::vector<std::string>& argv,
                            const std::string& log_path) override {
    if (argv.empty()) return absl::InvalidArgumentError("empty command");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    SpawnAttr attr;
    std::vector<char*> cargv = CArgv(argv);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, cargv[0], &fa, attr.get(), cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot start ", JoinArgv(argv), ": ", strerror(rc)));
    }
    return static_cast<int>(pid);
  }

  std::optional<ExitInfo> Poll(int pid) override {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return FromWaitStatus(status);
    if (r == 0) return std::nullopt;  // our child, still running
    // Not our child (ECHILD): alive while kill(pid, 0) finds it and it is not a
    // zombie waiting for its new parent (init) to reap it.
    if ((kill(pid, 0) == 0 || errno == EPERM) && !IsZombie(pid)) return std::nullopt;
    ExitInfo e;
    e.known = false;
    return e;
  }

  absl::Status Signal(int pid, int sig) override {
    if (pid <= 1) return absl::InvalidArgumentError(absl::StrCat("refusing to signal pid ", pid));
    kill(-pid, sig);  // the group; fails harmlessly when the leader's group is gone
    if (kill(pid, sig) != 0 && errno != ESRCH) {
      return absl::InternalError(absl::StrCat("kill ", pid, ": ", strerror(errno)));
    }
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<Runner> NewSystemRunner() { return std::make_unique<SystemRunner>(); }

std::string JoinArgv(const std::vector<std::string>& argv) { return absl::StrJoin(argv, " "); }

}  // namespace kslice::lab::kubelet
