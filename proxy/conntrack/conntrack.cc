#include "proxy/conntrack/conntrack.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

extern char** environ;

namespace kslice::proxy::conntrack {
namespace {

class ExecRunner : public Runner {
 public:
  explicit ExecRunner(std::string program) : program_(std::move(program)) {}

  absl::StatusOr<Result> Run(const std::vector<std::string>& args) override {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
    if (pipe2(err, O_CLOEXEC) != 0) {
      close(out[0]);
      close(out[1]);
      return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program_.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, program_.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
      close(out[0]);
      close(err[0]);
      return absl::FailedPreconditionError(
          absl::StrCat("cannot run ", program_, ": ", strerror(rc)));
    }
    Result result;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_fds = 2;
    char buf[65536];
    while (open_fds > 0) {
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        ssize_t n = read(fds[i].fd, buf, sizeof(buf));
        if (n > 0) {
          sinks[i]->append(buf, static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
        }
      }
    }
    for (pollfd& p : fds) {
      if (p.fd >= 0) close(p.fd);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
  }

 private:
  const std::string program_;
};

const char* FamilyArg(IPFamily family) { return family == IPFamily::kIPv6 ? "ipv6" : "ipv4"; }

}  // namespace

std::unique_ptr<Runner> NewExecRunner(std::string program) {
  std::string found = FindProgram(program);
  return std::make_unique<ExecRunner>(found.empty() ? std::move(program) : std::move(found));
}

std::string FindProgram(const std::string& program) {
  auto executable = [](const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
  };
  if (program.find('/') != std::string::npos) return executable(program) ? program : "";
  const char* path = getenv("PATH");
  // The sbin folders too: conntrack lives in /usr/sbin, which a service manager's or a
  // test runner's PATH may leave out.
  const std::string dirs =
      absl::StrCat(path != nullptr ? path : "", ":/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin");
  for (absl::string_view dir : absl::StrSplit(dirs, ':')) {
    if (dir.empty()) continue;
    std::string candidate = absl::StrCat(dir, "/", program);
    if (executable(candidate)) return candidate;
  }
  return "";
}

bool ProgramAvailable(const std::string& program) { return !FindProgram(program).empty(); }

std::string CanonicalIP(const std::string& ip) {
  unsigned char buf[16];
  char text[INET6_ADDRSTRLEN];
  const int af = ip.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (inet_pton(af, ip.c_str(), buf) != 1 || inet_ntop(af, buf, text, sizeof(text)) == nullptr) {
    return ip;
  }
  return text;
}

std::vector<Flow> ParseFlows(const std::string& output) {
  std::vector<Flow> flows;
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> tokens = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (tokens.empty()) continue;
    // "-o extended" lines start with the family ("ipv4 2 udp 17 ..."): skip to the protocol.
    size_t first = 0;
    if ((tokens[0] == "ipv4" || tokens[0] == "ipv6") && tokens.size() > 2) first = 2;
    Flow f;
    f.protocol = std::string(tokens[first]);
    // First src/dst/sport/dport: original direction; the second set: reply.
    std::map<std::string, int> seen;
    bool ok = true;
    for (size_t i = first + 1; i < tokens.size() && ok; ++i) {
      std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(tokens[i], absl::MaxSplits('=', 1));
      if (kv.second.empty()) continue;
      const std::string key(kv.first);
      if (key != "src" && key != "dst" && key != "sport" && key != "dport") continue;
      const int n = seen[key]++;
      if (n > 1) continue;
      const bool orig = n == 0;
      if (key == "src") {
        (orig ? f.orig_src : f.reply_src) = CanonicalIP(std::string(kv.second));
      } else if (key == "dst") {
        (orig ? f.orig_dst : f.reply_dst) = CanonicalIP(std::string(kv.second));
      } else {
        int port = 0;
        if (!absl::SimpleAtoi(kv.second, &port)) ok = false;
        if (key == "sport") (orig ? f.orig_src_port : f.reply_src_port) = port;
        if (key == "dport") (orig ? f.orig_dst_port : f.reply_dst_port) = port;
      }
    }
    if (!ok || seen["src"] < 2 || seen["dst"] < 2 || seen["sport"] < 2 || seen["dport"] < 2) continue;
    flows.push_back(std::move(f));
  }
  return flows;
}

std::vector<std::string> Filter::Args(IPFamily family) const {
  std::vector<std::string> a = {"-f", FamilyArg(family), "-p", protocol};
  if (!orig_dst.empty()) a.insert(a.end(), {"--orig-dst", orig_dst});
  if (orig_dst_port != 0) a.insert(a.end(), {"--orig-port-dst", absl::StrCat(orig_dst_port)});
  if (!reply_src.empty()) a.insert(a.end(), {"--reply-src", reply_src});
  if (reply_src_port != 0) a.insert(a.end(), {"--reply-port-src", absl::StrCat(reply_src_port)});
  return a;
}

absl::StatusOr<std::vector<Flow>> Conntrack::List(IPFamily family, const std::string& protocol) {
  absl::StatusOr<Runner::Result> r = runner_.Run({"-L", "-f", FamilyArg(family), "-p", protocol});
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::UnavailableError(absl::StrCat("conntrack -L exited ", r->exit_code, ": ", r->err));
  }
  return ParseFlows(r->out);
}

absl::StatusOr<int> Conntrack::Delete(IPFamily family, const Filter& filter) {
  if (filter.orig_dst.empty() && filter.orig_dst_port == 0 && filter.reply_src.empty() &&
      filter.reply_src_port == 0) {
    return absl::InvalidArgumentError("conntrack: refusing a delete filter that matches everything");
  }
  std::vector<std::string> args = {"-D"};
  for (std::string& a : filter.Args(family)) args.push_back(std::move(a));
  absl::StatusOr<Runner::Result> r = runner_.Run(args);
  if (!r.ok()) return r.status();
  // "conntrack v1.4.7 (conntrack-tools): 3 flow entries have been deleted."; no match is
  // exit 1 with "0 flow entries".
  int deleted = -1;
  if (size_t at = r->err.find("): "); at != std::string::npos) {
    size_t end = r->err.find(' ', at + 3);
    int n = 0;
    if (end != std::string::npos && absl::SimpleAtoi(r->err.substr(at + 3, end - at - 3), &n)) {
      deleted = n;
    }
  }
  if (r->exit_code != 0 && deleted != 0) {
    return absl::UnavailableError(absl::StrCat("conntrack -D exited ", r->exit_code, ": ", r->err));
  }
  return deleted < 0 ? 0 : deleted;
}

}  // namespace kslice::proxy::conntrack
