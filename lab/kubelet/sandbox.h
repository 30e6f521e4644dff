// A pod's network sandbox, built and removed through the Runner (so tests check the
// exact `ip` commands), and the records in the kubelet's --state-dir that let a
// restarted kubelet adopt its pods and let `--cleanup` remove everything it created.
//
// Sandbox: network namespace lab-pod-<ns>-<name>; a veth pair whose host end
// (veth<hash>) joins the node bridge and whose pod end is eth0 with the pod IP and the
// block's prefix length (/26 in the lab: pods on one bridge reach each other directly,
// the node's bridge-nf-call-iptables makes those packets pass kube-proxy's rules);
// loopback up; default route via the bridge's gateway address.
//
// State dir layout:
//   <dir>/node                     the node name the dir belongs to
//   <dir>/netns/<netns>            marker: this kubelet created that namespace
//   <dir>/pods/<ns>_<name>/record  the pod's record (PodRecord), rewritten on change
//   <dir>/pods/<ns>_<name>/<container>/  container files and <container>.log
#ifndef KSLICE_LAB_KUBELET_SANDBOX_H_
#define KSLICE_LAB_KUBELET_SANDBOX_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lab/kubelet/runner.h"

namespace kslice::lab::kubelet {

struct SandboxSpec {
  std::string netns;
  std::string veth;
  std::string ip;
  int prefix_length = 26;
  std::string gateway;
  std::string bridge;
};

// Creates the sandbox. A veth of the same name left over is deleted first. On a
// failure the half-built sandbox is removed and the failing command's output returned.
absl::Status SetUpSandbox(Runner& runner, const SandboxSpec& spec);

// Kills whatever still runs in the namespace (SIGKILL), deletes the veth and the
// namespace, and removes <etc_netns_dir>/<netns>. Missing pieces are fine. Refuses a
// namespace without the lab-pod- prefix.
absl::Status TearDownSandbox(Runner& runner, const std::string& netns, const std::string& veth,
                             const std::string& etc_netns_dir);

// What the state dir remembers of one pod.
struct ContainerRecord {
  std::string name;
  int pid = 0;  // 0: not running
  int restart_count = 0;
  int64_t started_at = 0;  // unix seconds
};
struct PodRecord {
  std::string ns, name, uid;
  std::string netns, veth, ip;
  int64_t start_time = 0;
  std::vector<ContainerRecord> containers;
};

std::string SerializeRecord(const PodRecord& r);
absl::StatusOr<PodRecord> ParseRecord(const std::string& text);

class StateDir {
 public:
  // Creates the dir if needed; FailedPrecondition if it belongs to another node.
  static absl::StatusOr<StateDir> Open(const std::string& dir, const std::string& node_name);

  const std::string& path() const { return dir_; }
  std::string PodDir(const std::string& ns, const std::string& name) const;

  absl::Status MarkNetns(const std::string& netns);
  absl::Status UnmarkNetns(const std::string& netns);
  std::vector<std::string> MarkedNetns() const;

  absl::Status WriteRecord(const PodRecord& r);  // atomically (temp + rename)
  absl::Status RemovePod(const std::string& ns, const std::string& name);  // the whole pod dir
  // Every readable record (unreadable ones are reported in `errors`).
  std::vector<PodRecord> Records(std::vector<std::string>* errors = nullptr) const;

 private:
  std::string dir_;
};

// Writes `content` to `path` in place (truncate + one write) when it differs; the
// file must stay the same inode: `ip netns exec` bind-mounts it, so a rename would
// leave running processes on the old one. Returns whether it wrote.
absl::StatusOr<bool> WriteFileInPlace(const std::string& path, const std::string& content);

// Everything this kubelet created for its node: processes in its marked namespaces,
// the veths named in records, the namespaces, /etc/netns entries, the pod dirs.
// Namespaces without the lab-pod- prefix or without a marker are never touched.
absl::Status CleanupNode(Runner& runner, const std::string& state_dir, const std::string& node_name,
                         const std::string& etc_netns_dir);

}  // namespace kslice::lab::kubelet

#endif  // KSLICE_LAB_KUBELET_SANDBOX_H_
