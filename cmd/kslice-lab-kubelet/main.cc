// kslice-lab-kubelet: the lab kubelet (lab/kubelet/kubelet.h) as a process, one per
// node of the network-namespace lab, run as root inside the node's namespace.
//
//   kslice-lab-kubelet --kubeconfig /tmp/kslice-lab/kubeconfig --node-name lab-worker
//       --node-ip 172.18.0.3 --pod-cidr 192.168.202.192/26 --first-pod-ip 192.168.202.194
//       --pod-gateway 192.168.202.193 --bridge cni0 --state-dir /tmp/kslice-lab/kubelet/lab-worker
//       --node-labels topology.kubernetes.io/zone=zone-a -v 2          (one command line)
//   kslice-lab-kubelet --cleanup --node-name lab-worker --state-dir
//   /tmp/kslice-lab/kubelet/lab-worker
//
// Exit status: 0 after SIGTERM/SIGINT (pods keep running; a new kubelet on the same
// state dir adopts them) or a successful --cleanup; 1 on a runtime error; 2 on bad flags.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/config/client_config.h"
#include "cmd/kslice-lab-kubelet/flags.h"
#include "controller/log/log.h"
#include "controller/manager/manager.h"
#include "lab/kubelet/kubelet.h"

namespace {

constexpr char kProgram[] = "kslice-lab-kubelet";

std::string NsLink(const std::string& path) {
  char buf[128] = {};
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// `ip netns exec NODE kslice-lab-kubelet ...` runs us in a private mount namespace
// (a slave of the host's). A pod namespace the kubelet then creates with `ip netns
// add` is a bind mount on /run/netns/<name> that the host never sees, so `ip netns
// exec lab-pod-...` from the host would fail. When an ancestor is in another mount
// namespace, go back to that one (the network namespace stays). Must run before any
// thread exists (setns(CLONE_NEWNS) refuses multithreaded callers). Returns what it
// did, for the log.
std::string LeavePrivateMountNamespace() {
  const std::string self = NsLink("/proc/self/ns/mnt");
  if (self.empty()) return "";
  // The nearest ancestor in another mount namespace (`ip netns exec` may have run a
  // shell that started us), at most a few levels up.
  int pid = getppid();
  for (int level = 0; level < 8 && pid > 1; ++level) {
    const std::string path = "/proc/" + std::to_string(pid) + "/ns/mnt";
    const std::string ns = NsLink(path);
    if (ns.empty()) return "";  // not readable: leave things as they are
    if (ns != self) {
      int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return "cannot open " + path + ": " + strerror(errno);
      int rc = setns(fd, CLONE_NEWNS);
      int err = errno;
      close(fd);
      if (rc != 0)
        return "cannot enter the parent's mount namespace: " + std::string(strerror(err));
      return "left the private mount namespace (ip netns exec) for " + ns + " of pid " +
             std::to_string(pid);
    }
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    int ppid = 0;
    while (std::getline(status, line)) {
      if (line.rfind("PPid:", 0) == 0) ppid = std::atoi(line.c_str() + 5);
    }
    pid = ppid;
  }
  return "";
}

// --netns NAME: enter /run/netns/NAME (before any thread exists).
absl::Status EnterNetns(const std::string& name) {
  const std::string path = "/run/netns/" + name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError("cannot open " + path + ": " + strerror(errno));
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc != 0) return absl::PermissionDeniedError("cannot enter " + path + ": " + strerror(err));
  return absl::OkStatus();
}

int UsageError(absl::string_view message) {
  std::cerr << kProgram << ": " << message << "\nRun '" << kProgram << " --help' for usage.\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<kslice::log::Options> logging = kslice::log::ParseFlags(&argc, argv);
  if (!logging.ok()) return UsageError(logging.status().message());
  if (absl::Status st = kslice::log::Configure(*logging); !st.ok()) return UsageError(st.message());
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<kslice::lab::cmd::Flags> flags = kslice::lab::cmd::ParseFlags(args);
  if (!flags.ok()) return UsageError(flags.status().message());
  if (flags->help) {
    std::cout << kslice::lab::cmd::kUsage;
    return 0;
  }
  // Namespaces first, while the process has one thread.
  // With --netns the mount namespace is the caller's own choice and stays.
  const std::string mount_note = flags->netns.empty() ? LeavePrivateMountNamespace() : "";
  if (!flags->netns.empty()) {
    if (absl::Status st = EnterNetns(flags->netns); !st.ok()) {
      std::cerr << kProgram << ": --netns: " << st.message() << "\n";
      return 1;
    }
  }
  if (!mount_note.empty()) kslice::log::Info("Mount namespace", {{"note", mount_note}});
  if (flags->cleanup) {
    absl::Status st =
        kslice::lab::kubelet::Cleanup(flags->options.node_name, flags->options.state_dir);
    if (!st.ok()) {
      std::cerr << kProgram << ": cleanup: " << st.message() << "\n";
      return 1;
    }
    return 0;
  }
  if (absl::Status st = kslice::lab::kubelet::ValidateOptions(&flags->options); !st.ok()) {
    return UsageError(st.message());
  }
  kslice::client::ClientConfigOptions co;
  co.kubeconfig = flags->kubeconfig;
  absl::StatusOr<kslice::client::RestConfig> config = kslice::client::LoadRestConfig(co);
  if (!config.ok()) {
    std::cerr << kProgram << ": " << config.status().message() << "\n";
    return 1;
  }
  std::stop_token stop = kslice::controller::SetupSignalHandler();
  auto kubelet = kslice::lab::kubelet::Kubelet::Create(*config, flags->options);
  if (!kubelet.ok()) {
    std::cerr << kProgram << ": " << kubelet.status().message() << "\n";
    return 1;
  }
  absl::Status st = (*kubelet)->Run(stop);
  if (!st.ok()) {
    kslice::log::Error(st, "kubelet stopped");
    return 1;
  }
  return 0;
}
