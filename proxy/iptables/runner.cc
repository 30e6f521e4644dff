#include "proxy/iptables/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace kslice::proxy::iptables {
namespace {

// The program to run for `name`: a path as is; otherwise the first executable match in
// PATH, then in the sbin directories, where Debian installs iptables and nft but which a
// non-login environment (a test runner, a systemd unit) often leaves out of PATH.
std::string ResolveProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* env = std::getenv("PATH");
  std::string path = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  absl::StrAppend(&path, ":/usr/local/sbin:/usr/sbin:/sbin");
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;  // posix_spawnp reports ENOENT
}

// Closes the descriptors it holds on every path out of Run.
struct Pipes {
  int fds[6] = {-1, -1, -1, -1, -1, -1};  // stdin r/w, stdout r/w, stderr r/w
  ~Pipes() {
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  }
  void Close(int i) {
    if (fds[i] >= 0) close(fds[i]);
    fds[i] = -1;
  }
};

absl::Status Errno(absl::string_view what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(err)));
}

class ExecRunner : public Runner {
 public:
  absl::StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                                    absl::string_view input) override {
    if (argv.empty()) return absl::InvalidArgumentError("empty command");
    Pipes p;
    for (int i = 0; i < 3; ++i) {
      if (pipe2(&p.fds[2 * i], O_CLOEXEC) != 0) return Errno("pipe", errno);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, p.fds[0], 0);
    posix_spawn_file_actions_adddup2(&actions, p.fds[3], 1);
    posix_spawn_file_actions_adddup2(&actions, p.fds[5], 2);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const std::string program = ResolveProgram(argv[0]);
    int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      if (rc == ENOENT) {
        return absl::NotFoundError(absl::StrCat(argv[0], ": not found in PATH"));
      }
      return Errno(absl::StrCat("spawn ", argv[0]), rc);
    }
    p.Close(0);
    p.Close(3);
    p.Close(5);
    // Non-blocking ends: a blocking write of a large payload would wait for the child
    // to read it all while the child waits for us to drain its stdout.
    for (int i : {1, 2, 4}) fcntl(p.fds[i], F_SETFL, fcntl(p.fds[i], F_GETFL) | O_NONBLOCK);
    if (input.empty()) p.Close(1);

    CommandResult result;
    size_t written = 0;
    char buf[65536];
    while (p.fds[1] >= 0 || p.fds[2] >= 0 || p.fds[4] >= 0) {
      pollfd fds[3];
      int n = 0;
      int which[3];
      if (p.fds[1] >= 0) {
        fds[n] = {p.fds[1], POLLOUT, 0};
        which[n++] = 1;
      }
      if (p.fds[2] >= 0) {
        fds[n] = {p.fds[2], POLLIN, 0};
        which[n++] = 2;
      }
      if (p.fds[4] >= 0) {
        fds[n] = {p.fds[4], POLLIN, 0};
        which[n++] = 4;
      }
      if (poll(fds, n, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        int fd_index = which[i];
        if (fd_index == 1) {
          ssize_t w = write(p.fds[1], input.data() + written, input.size() - written);
          if (w < 0 && errno != EINTR && errno != EAGAIN) {
            p.Close(1);  // the child stopped reading (EPIPE): it will report why
          } else if (w > 0) {
            written += static_cast<size_t>(w);
            if (written == input.size()) p.Close(1);
          }
        } else {
          ssize_t r = read(p.fds[fd_index], buf, sizeof(buf));
          if (r > 0) {
            (fd_index == 2 ? result.stdout_data : result.stderr_data).append(buf, r);
          } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
            p.Close(fd_index);
          }
        }
      }
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return Errno("waitpid", errno);
    }
    if (WIFEXITED(status)) {
      result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result.exit_code = 128 + WTERMSIG(status);
    }
    return result;
  }
};

}  // namespace

std::unique_ptr<Runner> NewExecRunner() {
  // A child that exits before reading all of stdin must not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  return std::make_unique<ExecRunner>();
}

std::string CommandString(const std::vector<std::string>& argv) { return absl::StrJoin(argv, " "); }

}  // namespace kslice::proxy::iptables
