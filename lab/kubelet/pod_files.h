// What the lab kubelet derives from a Pod without touching the machine: the names of
// its network namespace and host veth, its /etc/hosts and resolv.conf (the contract's
// service name resolution), and the image runtime table that turns a container into
// a host command.
#ifndef KSLICE_LAB_KUBELET_POD_FILES_H_
#define KSLICE_LAB_KUBELET_POD_FILES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/core/v1/core.pb.h"

namespace kslice::lab::kubelet {

// Prefix of every network namespace the lab kubelet creates. It never touches a
// namespace without this prefix, nor one without its marker in the state dir.
inline constexpr char kPodNetnsPrefix[] = "lab-pod-";

// "lab-pod-<namespace>-<name>" (what `./dev lab exec POD` enters).
std::string PodNetnsName(const std::string& ns, const std::string& name);
// "veth" + 8 hex digits of a hash (FNV-1a, 32 bits) of "ns/name": 12 characters,
// under IFNAMSIZ, stable across restarts.
std::string VethName(const std::string& ns, const std::string& name);

// One Service with a cluster IP, for the hosts file.
struct ServiceEntry {
  std::string ns;
  std::string name;
  std::string cluster_ip;
};

// The Services of a list that get names: a cluster IP that is set and not "None"
// (headless and ExternalName services have none).
std::vector<ServiceEntry> ServiceEntries(const std::vector<api::core::v1::Service>& services);

// The pod's /etc/hosts: localhost lines, the pod's own address and hostname, and for
// every service `<ip> <name>.<ns>.svc.<domain> <name>.<ns>.svc <name>.<ns>`, plus the
// bare `<name>` for services of the pod's own namespace. Sorted by namespace and
// name, so equal inputs give equal bytes (and no rewrite).
std::string RenderHosts(const std::string& pod_ns, const std::string& pod_name,
                        const std::string& pod_ip, const std::vector<ServiceEntry>& services,
                        const std::string& cluster_domain);

// search <ns>.svc.<domain> svc.<domain> <domain>, options ndots:5 (kubelet's
// ClusterFirst file, without a nameserver: the lab has no DNS server; names come
// from the hosts file).
std::string RenderResolvConf(const std::string& pod_ns, const std::string& cluster_domain);

// The repository name of an image reference: "nginx" for "nginx", "nginx:1.28",
// "docker.io/library/nginx@sha256:..." or "registry:5000/team/nginx:v1".
std::string ImageRepositoryName(const std::string& image);

// Where the image runtime finds things on the host (tests point them elsewhere).
struct RuntimeOptions {
  std::string nginx_binary = "/usr/sbin/nginx";
  std::string nginx_mime_types = "/etc/nginx/mime.types";
  std::string web_root = "/var/www/html";  // Debian's default page lives here
};

// How one container runs on the host.
struct ContainerLaunch {
  std::string runtime;                       // "nginx" or "exec"
  std::vector<std::string> argv;             // the process, before entering the pod
  std::map<std::string, std::string> files;  // written (path -> content) before start
  std::vector<std::string> dirs;             // created before start
  std::string image_id;                      // containerStatuses[].imageID
  int stop_signal = 15;                      // SIGTERM; nginx: SIGQUIT (graceful)
};

// The image runtime table. An image whose repository is `nginx` runs options.
// nginx_binary with a generated config in `dir` (daemon off, pid/logs/temp paths in
// dir, listen 80, the web root, X-Pod-IP and X-Pod-Name headers); any other image runs
// command + args when given (args alone run as the command, as there is no image
// entrypoint to prepend them to), else `sleep infinity`.
absl::StatusOr<ContainerLaunch> ResolveContainer(const api::core::v1::Pod& pod,
                                                 const api::core::v1::Container& container,
                                                 const std::string& dir,
                                                 const RuntimeOptions& options = {});

// nginx's configuration for a pod's container living in `dir`.
std::string NginxConfig(const std::string& pod_name, const std::string& dir,
                        const RuntimeOptions& options);

// The container's environment: PATH, HOSTNAME=<pod name>, then env[] with literal
// values and the fieldRefs metadata.name, metadata.namespace, metadata.uid,
// spec.nodeName, status.podIP, status.hostIP (others are skipped).
std::vector<std::string> ContainerEnv(const api::core::v1::Pod& pod,
                                      const api::core::v1::Container& container,
                                      const std::string& pod_ip, const std::string& host_ip);

// argv entering the pod's namespace: ip netns exec <netns> env -i <env...> <argv...>.
// `ip netns exec` bind-mounts /etc/netns/<netns>/{hosts,resolv.conf} over /etc.
std::vector<std::string> InPod(const std::string& netns, const std::vector<std::string>& env,
                               const std::vector<std::string>& argv);

}  // namespace kslice::lab::kubelet

#endif  // KSLICE_LAB_KUBELET_POD_FILES_H_
