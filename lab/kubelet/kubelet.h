// The lab kubelet: one per node, running inside the node's network namespace as root.
// It registers the Node (labels, taints, pod CIDR, addresses, capacity, conditions
// refreshed every node_status_period, and a Lease in kube-node-lease), watches the
// pods bound to its node (field selector spec.nodeName=<node>), and for each one
// builds a network sandbox (sandbox.h), starts its containers through the image
// runtime table (pod_files.h), runs their probes (probe.h) and writes their status
// through the status subresource (status.h). A pod with a deletionTimestamp is
// stopped gracefully — preStop hook (the pod stays Ready meanwhile, so its endpoint
// shows as terminating), stop signal, SIGKILL at the grace deadline — its sandbox
// removed, and then it is deleted with gracePeriodSeconds=0 and a uid precondition.
//
//   KubeletOptions o;
//   o.node_name = "lab-worker"; o.node_ip = "172.18.0.3"; o.pod_cidr = "192.168.202.192/26";
//   o.first_pod_ip = "192.168.202.194"; o.pod_gateway = "192.168.202.193"; o.state_dir = dir;
//   auto k = Kubelet::Create(rest_config, o);
//   (*k)->Run(stop_token);   // returns when stop is requested; pods keep running
//
// Threads: Run drives informers (pods of this node, all services), a work queue
// keyed by "ns/name" with `workers` workers (one pod is never synced by two workers
// at once), and a node-status thread. Per-pod work is in Sync(key); a running pod is
// synced again every sync_period (exits, restarts, probes) and on every change.
//
// Restart safety: what it built is recorded in the state dir; a new Kubelet on the
// same dir adopts running containers whose process is still in the pod's namespace
// (others are restarted, counted as restarts) and tears down pods that are gone.
#ifndef KSLICE_LAB_KUBELET_KUBELET_H_
#define KSLICE_LAB_KUBELET_KUBELET_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "client/config/rest_config.h"
#include "client/rest/client.h"
#include "controller/healthz/healthz.h"
#include "controller/metrics/metrics.h"
#include "controller/record/recorder.h"
#include "controller/runtime/controller.h"
#include "informers/factory.h"
#include "lab/kubelet/ipam.h"
#include "lab/kubelet/pod_files.h"
#include "lab/kubelet/probe.h"
#include "lab/kubelet/runner.h"
#include "lab/kubelet/sandbox.h"
#include "lab/kubelet/status.h"

namespace kslice::lab::kubelet {

struct KubeletOptions {
  std::string node_name;     // required
  std::string node_ip;       // required: InternalIP, pods' hostIP
  std::string pod_cidr;      // required: the node's block
  std::string first_pod_ip;  // empty: the first usable address after the gateway
  std::string pod_gateway;   // required: the bridge's address
  std::string bridge = "cni0";
  std::map<std::string, std::string> node_labels;  // on top of the well-known ones
  std::vector<api::core::v1::Taint> register_with_taints;
  std::string state_dir;  // required
  std::string cluster_domain = "cluster.local";
  std::string healthz_bind_address;  // "" or "0": no server; else "ADDR:PORT"
  // Where `ip netns exec` looks for per-namespace files.
  std::string etc_netns_dir = "/etc/netns";
  absl::Duration node_status_period = absl::Seconds(10);
  int lease_duration_seconds = 40;
  // Restart backoff: the first restart is immediate, then base, 2*base, ... max
  // (kubelet: 10 s doubling to 5 min); reset after a run of 2*max.
  absl::Duration restart_backoff_base = absl::Seconds(10);
  absl::Duration restart_backoff_max = absl::Minutes(5);
  // How often a pod is looked at without an API change (process exits, probes).
  absl::Duration sync_period = absl::Seconds(1);
  int workers = 4;
  RuntimeOptions runtime{};
};

// Checks the options (addresses parse, the block holds the gateway and first IP,
// names are set). Fills first_pod_ip when empty.
absl::Status ValidateOptions(KubeletOptions* options);

class Kubelet {
 public:
  // `runner` and `prober` may be null (the real ones are used). The client config is
  // copied.
  static absl::StatusOr<std::unique_ptr<Kubelet>> Create(
      const client::RestConfig& config, KubeletOptions options,
      std::unique_ptr<Runner> runner = nullptr, std::unique_ptr<ProbeExecutor> prober = nullptr);
  ~Kubelet();
  Kubelet(const Kubelet&) = delete;
  Kubelet& operator=(const Kubelet&) = delete;

  // Adopts the state dir, registers the node (retrying until the server answers or
  // stop), then runs until `stop`. Pods keep running after it returns. Call once.
  absl::Status Run(std::stop_token stop);

  // True once the node is registered and the pod cache has synced.
  bool Ready() const { return ready_.load(); }

 private:
  struct Container;
  struct PodRuntime;

  Kubelet() = default;
  absl::Status RegisterNode();
  absl::Status UpdateNodeStatus();
  absl::Status RenewLease();
  void NodeStatusLoop(std::stop_token stop);
  void Adopt();
  absl::StatusOr<controller::Result> Sync(const std::string& key);
  absl::StatusOr<controller::Result> SyncRunning(const api::core::v1::Pod& pod, PodRuntime& rt);
  absl::StatusOr<controller::Result> SyncTerminating(const api::core::v1::Pod& pod, PodRuntime& rt);
  absl::Status EnsureSandbox(const api::core::v1::Pod& pod, PodRuntime& rt);
  absl::Status WriteNetnsFiles(const api::core::v1::Pod& pod, PodRuntime& rt);
  absl::Status StartContainer(const api::core::v1::Pod& pod, PodRuntime& rt, Container& c);
  void PollContainer(const api::core::v1::Pod& pod, PodRuntime& rt, Container& c, absl::Time now);
  void RunProbes(const api::core::v1::Pod& pod, PodRuntime& rt, Container& c, absl::Time now);
  void TearDown(PodRuntime& rt);
  absl::Status WriteStatus(const api::core::v1::Pod& pod, PodRuntime& rt, absl::Time now);
  void SaveRecord(const PodRuntime& rt);
  PodState StateOf(const PodRuntime& rt) const;
  std::vector<ServiceEntry> Services() const;

  KubeletOptions options_;
  std::unique_ptr<Runner> runner_;
  std::unique_ptr<ProbeExecutor> prober_;
  std::unique_ptr<client::RestClient> client_;
  std::unique_ptr<informers::SharedInformerFactory> pod_factory_;  // this node's pods
  std::unique_ptr<informers::SharedInformerFactory> svc_factory_;  // all services
  std::optional<informers::Lister<api::core::v1::Pod>> pods_;
  std::optional<informers::Lister<api::core::v1::Service>> services_;
  std::unique_ptr<controller::record::Recorder> recorder_;
  // The work queue's metrics (private to this kubelet; not served).
  std::unique_ptr<controller::metrics::Registry> registry_;
  std::unique_ptr<controller::Controller> controller_;
  std::unique_ptr<controller::healthz::Server> health_;
  std::optional<IpAllocator> ipam_;
  std::optional<StateDir> state_;
  std::atomic<bool> ready_{false};
  std::atomic<int64_t> last_node_status_ok_{0};  // unix seconds

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<PodRuntime>> pods_rt_ ABSL_GUARDED_BY(mu_);
  std::string node_uid_ ABSL_GUARDED_BY(mu_);
};

// `kslice-lab-kubelet --cleanup`: everything the kubelet created for `node_name`
// (sandbox.h CleanupNode with the real runner).
absl::Status Cleanup(const std::string& node_name, const std::string& state_dir,
                     const std::string& etc_netns_dir = "/etc/netns");

}  // namespace kslice::lab::kubelet

#endif  // KSLICE_LAB_KUBELET_KUBELET_H_
