#include "lab/kubelet/kubelet.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "api/coordination/v1/coordination.pb.h"
#include "client/config/version.h"
#include "client/errors/errors.h"
#include "controller/log/log.h"
#include "google/protobuf/util/message_differencer.h"
#include "informers/cache/object.h"

namespace kslice::lab::kubelet {

namespace fs = std::filesystem;
using api::core::v1::Node;
using api::core::v1::NodeList;
using api::core::v1::Pod;
using controller::record::kEventTypeNormal;
using controller::record::kEventTypeWarning;

struct Kubelet::Container {
  std::string name;
  ContainerState st;
  int pid = 0;
  int stop_signal = SIGTERM;
  int backoff_restarts = 0;  // restarts since the backoff was last reset
  absl::Time restart_at = absl::InfinitePast();
  bool ever_started = false;
  std::optional<ProbeTracker> readiness, liveness, startup;
};

struct Kubelet::PodRuntime {
  std::string key, ns, name, uid;
  std::string netns, veth, ip;
  bool sandbox = false;
  absl::Time start_time = absl::InfinitePast();
  std::vector<Container> containers;
  bool terminal = false;  // the kubelet decided the pod is done (no restarts, no sandbox)
  // Graceful termination.
  bool terminating = false;
  absl::Time grace_deadline = absl::InfiniteFuture();
  std::shared_ptr<std::atomic<bool>> prestop_done;
  std::jthread prestop;
  bool signaled = false;
  absl::Time kill_deadline = absl::InfiniteFuture();
  bool killed = false;
  std::optional<api::core::v1::PodStatus> last_written;
};

namespace {

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(ss.str()));
}

std::string GoArch() {
  utsname u{};
  uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (m == "armv7l") return "arm";
  return m;
}

std::string OsImage() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "PRETTY_NAME=")) {
      std::string v = line.substr(12);
      return std::string(absl::StripSuffix(absl::StripPrefix(v, "\""), "\""));
    }
  }
  return "Linux";
}

int64_t MemTotalKi() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t v = 0;
  std::string unit;
  while (in >> key >> v >> unit) {
    if (key == "MemTotal:") return v;
  }
  return 0;
}

// Whether pid's network namespace is the named one (same inode).
bool InNetns(int pid, const std::string& netns) {
  struct stat a {
  }, b{};
  if (stat(("/run/netns/" + netns).c_str(), &a) != 0) return false;
  if (stat(absl::StrCat("/proc/", pid, "/ns/net").c_str(), &b) != 0) return false;
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

bool NetnsExists(const std::string& netns) {
  struct stat a {};
  return stat(("/run/netns/" + netns).c_str(), &a) == 0;
}

void SetNodeCondition(Node& node, const std::string& type, const std::string& status,
                      const std::string& reason, const std::string& message, absl::Time now) {
  api::core::v1::NodeCondition* c = nullptr;
  for (auto& existing : *node.mutable_status()->mutable_conditions()) {
    if (existing.type() == type) c = &existing;
  }
  if (c == nullptr) {
    c = node.mutable_status()->add_conditions();
    c->set_type(type);
  }
  if (c->status() != status || !c->has_lasttransitiontime()) {
    *c->mutable_lasttransitiontime() = ToApiTime(now);
  }
  c->set_status(status);
  *c->mutable_lastheartbeattime() = ToApiTime(now);
  c->set_reason(reason);
  c->set_message(message);
}

bool ShouldRestart(const Pod& pod, const TerminatedRun& t) {
  const std::string& p = pod.spec().restartpolicy();
  if (p == "Never") return false;
  if (p == "OnFailure") return t.exit_code != 0;
  return true;  // Always (the default)
}

int StopSignalFor(const api::core::v1::Container& c) {
  return ImageRepositoryName(c.image()) == "nginx" ? SIGQUIT : SIGTERM;
}

const api::core::v1::Container* SpecOf(const Pod& pod, const std::string& name) {
  for (const auto& c : pod.spec().containers()) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

}  // namespace

absl::Status ValidateOptions(KubeletOptions* o) {
  if (o->node_name.empty()) return absl::InvalidArgumentError("--node-name is required");
  if (o->node_ip.empty()) return absl::InvalidArgumentError("--node-ip is required");
  if (absl::StatusOr<uint32_t> ip = ParseIPv4(o->node_ip); !ip.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--node-ip: ", ip.status().message()));
  }
  if (o->pod_cidr.empty()) return absl::InvalidArgumentError("--pod-cidr is required");
  if (o->pod_gateway.empty()) return absl::InvalidArgumentError("--pod-gateway is required");
  if (o->state_dir.empty()) return absl::InvalidArgumentError("--state-dir is required");
  if (o->bridge.empty()) return absl::InvalidArgumentError("--bridge must not be empty");
  if (o->first_pod_ip.empty()) {
    absl::StatusOr<uint32_t> gw = ParseIPv4(o->pod_gateway);
    if (!gw.ok())
      return absl::InvalidArgumentError(absl::StrCat("--pod-gateway: ", gw.status().message()));
    o->first_pod_ip = FormatIPv4(*gw + 1);
  }
  absl::StatusOr<IpAllocator> a = IpAllocator::Create(o->pod_cidr, o->first_pod_ip, o->pod_gateway);
  if (!a.ok()) return a.status();
  if (o->workers < 1) return absl::InvalidArgumentError("workers must be >= 1");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kubelet>> Kubelet::Create(const client::RestConfig& config,
                                                         KubeletOptions options,
                                                         std::unique_ptr<Runner> runner,
                                                         std::unique_ptr<ProbeExecutor> prober) {
  if (absl::Status st = ValidateOptions(&options); !st.ok()) return st;
  std::unique_ptr<Kubelet> k(new Kubelet());
  k->options_ = options;
  k->runner_ = runner ? std::move(runner) : NewSystemRunner();
  k->prober_ = prober ? std::move(prober) : NewProbeExecutor(*k->runner_);
  absl::StatusOr<IpAllocator> ipam =
      IpAllocator::Create(options.pod_cidr, options.first_pod_ip, options.pod_gateway);
  if (!ipam.ok()) return ipam.status();
  k->ipam_.emplace(*std::move(ipam));
  absl::StatusOr<StateDir> state = StateDir::Open(options.state_dir, options.node_name);
  if (!state.ok()) return state.status();
  k->state_.emplace(*std::move(state));
  client::RestConfig cfg = config;
  if (cfg.user_agent.empty())
    cfg.user_agent = absl::StrCat("kubelet/kslice-lab/", client::kVersion);
  absl::StatusOr<std::unique_ptr<client::RestClient>> c = client::RestClient::Create(cfg);
  if (!c.ok()) return c.status();
  k->client_ = *std::move(c);
  informers::FactoryOptions pods_opts;
  const std::string selector = "spec.nodeName=" + options.node_name;
  pods_opts.tweak = [selector](client::ListOptions& o) { o.field_selector = selector; };
  k->pod_factory_ = std::make_unique<informers::SharedInformerFactory>(*k->client_, pods_opts);
  k->svc_factory_ = std::make_unique<informers::SharedInformerFactory>(*k->client_);
  absl::StatusOr<std::unique_ptr<controller::record::Recorder>> rec =
      controller::record::Recorder::Create(*k->client_,
                                           {.component = "kubelet", .host = options.node_name});
  if (!rec.ok()) return rec.status();
  k->recorder_ = *std::move(rec);
  controller::ControllerOptions co;
  co.name = "lab-kubelet";
  co.workers = options.workers;
  co.max_retries = -1;  // a pod is never given up on
  k->registry_ = std::make_unique<controller::metrics::Registry>();
  co.registry = k->registry_.get();
  Kubelet* self = k.get();
  k->controller_ = std::make_unique<controller::Controller>(
      std::move(co), [self](const std::string& key) { return self->Sync(key); });
  return k;
}

Kubelet::~Kubelet() {
  if (health_) health_->Stop();
  controller_.reset();
  if (pod_factory_) pod_factory_->Shutdown();
  if (svc_factory_) svc_factory_->Shutdown();
  if (recorder_) recorder_->Shutdown();
  std::lock_guard<std::mutex> l(mu_);
  pods_rt_.clear();  // joins preStop threads still running
}

// ---------------------------------------------------------------------------------------
// Node

absl::Status Kubelet::RegisterNode() {
  client::Typed<Node, NodeList> nodes(*client_);
  Node want;
  want.mutable_metadata()->set_name(options_.node_name);
  auto& labels = *want.mutable_metadata()->mutable_labels();
  labels["kubernetes.io/hostname"] = options_.node_name;
  labels["kubernetes.io/os"] = "linux";
  labels["kubernetes.io/arch"] = GoArch();
  labels["beta.kubernetes.io/os"] = "linux";
  labels["beta.kubernetes.io/arch"] = GoArch();
  for (const auto& [k, v] : options_.node_labels) labels[k] = v;
  want.mutable_spec()->set_podcidr(options_.pod_cidr);
  want.mutable_spec()->add_podcidrs(options_.pod_cidr);
  for (const auto& t : options_.register_with_taints) *want.mutable_spec()->add_taints() = t;
  absl::StatusOr<Node> created = nodes.Create(want);
  Node node;
  if (created.ok()) {
    node = *created;
    log::Info("Successfully registered node", {{"node", options_.node_name}});
  } else if (absl::IsAlreadyExists(created.status())) {
    // Re-registration: bring labels and the pod CIDR up to date, add missing taints.
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<Node> cur = nodes.Get("", options_.node_name);
      if (!cur.ok()) return cur.status();
      Node upd = *cur;
      for (const auto& [k, v] : labels) (*upd.mutable_metadata()->mutable_labels())[k] = v;
      if (upd.spec().podcidr().empty()) {
        upd.mutable_spec()->set_podcidr(options_.pod_cidr);
        upd.mutable_spec()->clear_podcidrs();
        upd.mutable_spec()->add_podcidrs(options_.pod_cidr);
      }
      for (const auto& t : options_.register_with_taints) {
        bool have = false;
        for (const auto& e : upd.spec().taints())
          have = have || (e.key() == t.key() && e.effect() == t.effect());
        if (!have) *upd.mutable_spec()->add_taints() = t;
      }
      if (google::protobuf::util::MessageDifferencer::Equals(upd, *cur)) {
        node = *cur;
        break;
      }
      absl::StatusOr<Node> u = nodes.Update(upd);
      if (u.ok()) {
        node = *u;
        break;
      }
      if (!client::IsConflict(u.status()) || attempt >= 5) return u.status();
    }
    log::Info("Node already registered; updated it", {{"node", options_.node_name}});
  } else {
    return created.status();
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    node_uid_ = node.metadata().uid();
  }
  return UpdateNodeStatus();
}

absl::Status Kubelet::UpdateNodeStatus() {
  client::Typed<Node, NodeList> nodes(*client_);
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<Node> cur = nodes.Get("", options_.node_name);
    if (!cur.ok()) return cur.status();
    Node n = *cur;
    absl::Time now = absl::Now();
    api::core::v1::NodeStatus* st = n.mutable_status();
    auto set_q = [](google::protobuf::Map<std::string, api::resource::Quantity>* m,
                    const std::string& k, const std::string& v) { (*m)[k].set_string(v); };
    const std::string cpus = absl::StrCat(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
    const std::string mem = absl::StrCat(MemTotalKi(), "Ki");
    for (auto* m : {st->mutable_capacity(), st->mutable_allocatable()}) {
      set_q(m, "cpu", cpus);
      set_q(m, "memory", mem);
      set_q(m, "pods", "110");
      set_q(m, "ephemeral-storage", "10Gi");
    }
    st->clear_addresses();
    auto* a = st->add_addresses();
    a->set_type("InternalIP");
    a->set_address(options_.node_ip);
    a = st->add_addresses();
    a->set_type("Hostname");
    a->set_address(options_.node_name);
    auto* info = st->mutable_nodeinfo();
    info->set_machineid(ReadTrimmed("/etc/machine-id"));
    info->set_systemuuid(ReadTrimmed("/etc/machine-id"));
    info->set_bootid(ReadTrimmed("/proc/sys/kernel/random/boot_id"));
    utsname uts{};
    uname(&uts);
    info->set_kernelversion(uts.release);
    info->set_osimage(OsImage());
    info->set_containerruntimeversion(absl::StrCat("kslice-lab://", client::kVersion));
    info->set_kubeletversion(absl::StrCat("v1.34.0-kslice-lab+", client::kVersion));
    info->set_kubeproxyversion("");
    info->set_operatingsystem("linux");
    info->set_architecture(GoArch());
    SetNodeCondition(n, "MemoryPressure", "False", "KubeletHasSufficientMemory",
                     "kubelet has sufficient memory available", now);
    SetNodeCondition(n, "DiskPressure", "False", "KubeletHasNoDiskPressure",
                     "kubelet has no disk pressure", now);
    SetNodeCondition(n, "PIDPressure", "False", "KubeletHasSufficientPID",
                     "kubelet has sufficient PID available", now);
    SetNodeCondition(n, "Ready", "True", "KubeletReady", "kubelet is posting ready status", now);
    absl::StatusOr<Node> u = nodes.UpdateStatus(n);
    if (u.ok()) {
      last_node_status_ok_.store(absl::ToUnixSeconds(now));
      return absl::OkStatus();
    }
    if (!client::IsConflict(u.status()) || attempt >= 5) return u.status();
  }
}

absl::Status Kubelet::RenewLease() {
  const client::ResourceInfo* leases =
      client::ResourceFor(api::coordination::v1::Lease::descriptor());
  if (leases == nullptr) return absl::UnimplementedError("no Lease resource");
  absl::Time now = absl::Now();
  api::meta::v1::MicroTime renew;
  renew.set_seconds(absl::ToUnixSeconds(now));
  renew.set_nanos(static_cast<int32_t>((absl::ToUnixMicros(now) % 1000000) * 1000));
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> cur =
      client_->Get(*leases, "kube-node-lease", options_.node_name);
  if (cur.ok()) {
    auto* lease = dynamic_cast<api::coordination::v1::Lease*>(cur->get());
    if (lease == nullptr) return absl::InternalError("server answered with another kind");
    *lease->mutable_spec()->mutable_renewtime() = renew;
    lease->mutable_spec()->set_holderidentity(options_.node_name);
    lease->mutable_spec()->set_leasedurationseconds(options_.lease_duration_seconds);
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> u = client_->Update(*lease);
    return u.ok() ? absl::OkStatus() : u.status();
  }
  if (!absl::IsNotFound(cur.status())) return cur.status();
  api::coordination::v1::Lease lease;
  lease.mutable_metadata()->set_namespace_("kube-node-lease");
  lease.mutable_metadata()->set_name(options_.node_name);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!node_uid_.empty()) {
      auto* ref = lease.mutable_metadata()->add_ownerreferences();
      ref->set_apiversion("v1");
      ref->set_kind("Node");
      ref->set_name(options_.node_name);
      ref->set_uid(node_uid_);
    }
  }
  lease.mutable_spec()->set_holderidentity(options_.node_name);
  lease.mutable_spec()->set_leasedurationseconds(options_.lease_duration_seconds);
  *lease.mutable_spec()->mutable_renewtime() = renew;
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> c = client_->Create(lease);
  return c.ok() || absl::IsAlreadyExists(c.status()) ? absl::OkStatus() : c.status();
}

void Kubelet::NodeStatusLoop(std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any cv;
  bool lease_ok = true;
  while (!stop.stop_requested()) {
    {
      std::unique_lock<std::mutex> l(m);
      cv.wait_for(l, stop, absl::ToChronoSeconds(options_.node_status_period),
                  [] { return false; });
    }
    if (stop.stop_requested()) break;
    if (absl::Status st = UpdateNodeStatus(); !st.ok()) {
      log::Error(st, "Error updating node status, will retry", {{"node", options_.node_name}});
    }
    absl::Status lst = RenewLease();
    if (!lst.ok() && lease_ok)
      log::Error(lst, "Failed to update lease", {{"node", options_.node_name}});
    lease_ok = lst.ok();
  }
}

// ---------------------------------------------------------------------------------------
// Run

void Kubelet::Adopt() {
  std::vector<std::string> errors;
  std::vector<PodRecord> records = state_->Records(&errors);
  for (const std::string& e : errors) log::Warning("Unreadable pod record", {{"error", e}});
  std::set<std::string> recorded_netns;
  for (const PodRecord& r : records) {
    recorded_netns.insert(r.netns);
    const std::string key = r.ns + "/" + r.name;
    if (!NetnsExists(r.netns)) {
      log::Info("Pod sandbox is gone; forgetting it", {{"pod", log::KRef(r.ns, r.name)}});
      (void)TearDownSandbox(*runner_, r.netns, r.veth, options_.etc_netns_dir);
      (void)state_->UnmarkNetns(r.netns);
      (void)state_->RemovePod(r.ns, r.name);
      continue;
    }
    auto rt = std::make_shared<PodRuntime>();
    rt->key = key;
    rt->ns = r.ns;
    rt->name = r.name;
    rt->uid = r.uid;
    rt->netns = r.netns;
    rt->veth = r.veth;
    rt->ip = r.ip;
    rt->start_time = absl::FromUnixSeconds(r.start_time);
    if (!r.ip.empty()) {
      if (absl::Status st = ipam_->Reserve(key, r.ip); !st.ok()) {
        log::Error(st, "Cannot keep the address of an adopted pod",
                   {{"pod", log::KRef(r.ns, r.name)}});
      }
    }
    rt->sandbox = !r.ip.empty();
    for (const ContainerRecord& cr : r.containers) {
      Container c;
      c.name = cr.name;
      c.st.name = cr.name;
      c.st.restart_count = cr.restart_count;
      c.ever_started = cr.started_at != 0;
      if (cr.pid > 1 && InNetns(cr.pid, r.netns)) {
        c.pid = cr.pid;
        c.st.phase = ContainerState::Phase::kRunning;
        c.st.started_at = absl::FromUnixSeconds(cr.started_at);
        c.st.container_id = absl::StrCat("lab://", cr.pid);
        c.st.started = true;
      } else if (c.ever_started) {
        // It ended while nobody watched: a restart, with an unknown exit.
        TerminatedRun t;
        t.exit_code = 137;
        t.reason = "ContainerStatusUnknown";
        t.message = "The container ended while the kubelet was not running";
        t.started_at = absl::FromUnixSeconds(cr.started_at);
        t.finished_at = absl::Now();
        c.st.last = t;
        c.st.waiting_reason = "ContainerStatusUnknown";
      }
      rt->containers.push_back(std::move(c));
    }
    log::Info("Adopted pod from the state dir", {{"pod", log::KRef(r.ns, r.name)}, {"ip", r.ip}});
    std::lock_guard<std::mutex> l(mu_);
    pods_rt_[key] = rt;
  }
  // A marker without a record: a sandbox half built when the kubelet stopped.
  for (const std::string& netns : state_->MarkedNetns()) {
    if (recorded_netns.contains(netns)) continue;
    log::Info("Removing a half-built pod sandbox", {{"netns", netns}});
    if (TearDownSandbox(*runner_, netns, "", options_.etc_netns_dir).ok())
      (void)state_->UnmarkNetns(netns);
  }
}

absl::Status Kubelet::Run(std::stop_token stop) {
  if (!options_.healthz_bind_address.empty() && options_.healthz_bind_address != "0") {
    controller::healthz::ServerOptions ho;
    if (absl::Status st = controller::healthz::ParseBindAddress(options_.healthz_bind_address,
                                                                &ho.address, &ho.port);
        !st.ok()) {
      return st;
    }
    if (ho.address.empty()) ho.address = "0.0.0.0";
    absl::StatusOr<std::unique_ptr<controller::healthz::Server>> h =
        controller::healthz::Server::Start(ho);
    if (!h.ok()) return h.status();
    health_ = *std::move(h);
    (void)health_->AddHealthzCheck("syncloop", [this]() -> absl::Status {
      if (!ready_.load()) return absl::UnavailableError("pod cache not synced yet");
      int64_t last = last_node_status_ok_.load();
      if (absl::Now() - absl::FromUnixSeconds(last) > 6 * options_.node_status_period) {
        return absl::UnavailableError("node status not written recently");
      }
      return absl::OkStatus();
    });
  }
  Adopt();
  // The API server may come up after us (the lab starts everything at once).
  absl::Duration wait = absl::Milliseconds(200);
  while (!stop.stop_requested()) {
    absl::Status st = RegisterNode();
    if (st.ok()) break;
    log::Error(st, "Unable to register node with API server", {{"node", options_.node_name}});
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock<std::mutex> l(m);
    cv.wait_for(l, stop, absl::ToChronoMilliseconds(wait), [] { return false; });
    wait = std::min(wait * 2, absl::Seconds(7));
  }
  if (stop.stop_requested()) return absl::OkStatus();
  if (absl::Status st = RenewLease(); !st.ok()) log::Error(st, "Failed to create node lease");

  absl::StatusOr<informers::TypedInformer<Pod>> pods = pod_factory_->For<Pod>();
  if (!pods.ok()) return pods.status();
  absl::StatusOr<informers::TypedInformer<api::core::v1::Service>> svcs =
      svc_factory_->For<api::core::v1::Service>();
  if (!svcs.ok()) return svcs.status();
  pods_.emplace(pods->Lister());
  services_.emplace(svcs->Lister());
  controller::Controller* ctl = controller_.get();
  absl::StatusOr<std::shared_ptr<informers::HandlerRegistration>> r1 = pods->AddEventHandler({
      .add = [ctl](const std::shared_ptr<const Pod>& p,
                   bool) { ctl->Enqueue(informers::KeyOf(*p)); },
      .update = [ctl](const std::shared_ptr<const Pod>&,
                      const std::shared_ptr<const Pod>& p) { ctl->Enqueue(informers::KeyOf(*p)); },
      .del = [ctl](const informers::TypedDeletedObject<Pod>& d) { ctl->Enqueue(d.key); },
  });
  if (!r1.ok()) return r1.status();
  // A service change rewrites every pod's hosts file (through each pod's sync).
  auto all_pods = [this, ctl]() {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [key, rt] : pods_rt_) ctl->Enqueue(key);
  };
  absl::StatusOr<std::shared_ptr<informers::HandlerRegistration>> r2 = svcs->AddEventHandler({
      .add = [all_pods](const std::shared_ptr<const api::core::v1::Service>&, bool) { all_pods(); },
      .update = [all_pods](const std::shared_ptr<const api::core::v1::Service>&,
                           const std::shared_ptr<const api::core::v1::Service>&) { all_pods(); },
      .del =
          [all_pods](const informers::TypedDeletedObject<api::core::v1::Service>&) { all_pods(); },
  });
  if (!r2.ok()) return r2.status();
  pod_factory_->Start(stop);
  svc_factory_->Start(stop);
  std::jthread status_loop([this](std::stop_token s) { NodeStatusLoop(s); });
  std::stop_callback stop_status(stop, [&status_loop] { status_loop.request_stop(); });
  // Adopted pods that are no longer in the API are torn down by their sync.
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [key, rt] : pods_rt_) ctl->Enqueue(key);
  }
  informers::SharedIndexInformer* pi = &pods->Informer();
  informers::SharedIndexInformer* si = &svcs->Informer();
  std::jthread mark_ready([this, pi, si](std::stop_token s) {
    while (!s.stop_requested() && !(pi->HasSynced() && si->HasSynced()))
      absl::SleepFor(absl::Milliseconds(50));
    if (!s.stop_requested()) ready_.store(true);
  });
  absl::Status st =
      controller_->Run(stop, {[pi] { return pi->HasSynced(); }, [si] { return si->HasSynced(); }});
  mark_ready.request_stop();
  status_loop.request_stop();
  log::Info("Kubelet stopped; pods keep running", {{"node", options_.node_name}});
  return st.ok() || absl::IsCancelled(st) ? absl::OkStatus() : st;
}

// ---------------------------------------------------------------------------------------
// Pods

std::vector<ServiceEntry> Kubelet::Services() const {
  std::vector<api::core::v1::Service> list;
  if (services_) {
    for (const auto& s : services_->List()) list.push_back(*s);
  }
  return ServiceEntries(list);
}

PodState Kubelet::StateOf(const PodRuntime& rt) const {
  PodState s;
  s.sandbox_ready = rt.sandbox;
  s.pod_ip = rt.ip;
  s.host_ip = options_.node_ip;
  s.start_time = rt.start_time;
  s.pod_is_terminal = rt.terminal;
  for (const Container& c : rt.containers) s.containers.push_back(c.st);
  return s;
}

void Kubelet::SaveRecord(const PodRuntime& rt) {
  PodRecord r;
  r.ns = rt.ns;
  r.name = rt.name;
  r.uid = rt.uid;
  r.netns = rt.netns;
  r.veth = rt.veth;
  r.ip = rt.ip;
  r.start_time = rt.start_time == absl::InfinitePast() ? 0 : absl::ToUnixSeconds(rt.start_time);
  for (const Container& c : rt.containers) {
    r.containers.push_back(
        {c.name, c.pid, c.st.restart_count,
         c.st.started_at == absl::InfinitePast() ? 0 : absl::ToUnixSeconds(c.st.started_at)});
  }
  if (absl::Status st = state_->WriteRecord(r); !st.ok()) {
    log::Error(st, "Cannot write the pod record", {{"pod", log::KRef(rt.ns, rt.name)}});
  }
}

absl::Status Kubelet::WriteNetnsFiles(const Pod& pod, PodRuntime& rt) {
  fs::path dir = fs::path(options_.etc_netns_dir) / rt.netns;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError("cannot create " + dir.string() + ": " + ec.message());
  absl::StatusOr<bool> h = WriteFileInPlace(
      (dir / "hosts").string(),
      RenderHosts(rt.ns, pod.metadata().name(), rt.ip, Services(), options_.cluster_domain));
  if (!h.ok()) return h.status();
  if (*h) {
    KSLICE_V(4).Info("Wrote the pod's hosts file", {{"pod", log::KObj(pod)}});
  }
  absl::StatusOr<bool> r = WriteFileInPlace((dir / "resolv.conf").string(),
                                            RenderResolvConf(rt.ns, options_.cluster_domain));
  return r.ok() ? absl::OkStatus() : r.status();
}

absl::Status Kubelet::EnsureSandbox(const Pod& pod, PodRuntime& rt) {
  if (rt.sandbox) return absl::OkStatus();
  absl::StatusOr<std::string> ip = ipam_->Allocate(rt.key);
  if (!ip.ok()) return ip.status();
  rt.ip = *ip;
  if (absl::Status st = state_->MarkNetns(rt.netns); !st.ok()) return st;
  SandboxSpec spec{rt.netns,       rt.veth, rt.ip, ipam_->prefix_length(), options_.pod_gateway,
                   options_.bridge};
  if (absl::Status st = SetUpSandbox(*runner_, spec); !st.ok()) {
    ipam_->Release(rt.key);
    rt.ip.clear();
    (void)state_->UnmarkNetns(rt.netns);
    return st;
  }
  rt.sandbox = true;
  if (rt.start_time == absl::InfinitePast())
    rt.start_time = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  log::Info("Pod sandbox ready", {{"pod", log::KObj(pod)}, {"ip", rt.ip}, {"netns", rt.netns}});
  SaveRecord(rt);
  return absl::OkStatus();
}

void Kubelet::TearDown(PodRuntime& rt) {
  if (absl::Status st = TearDownSandbox(*runner_, rt.netns, rt.veth, options_.etc_netns_dir);
      !st.ok()) {
    log::Error(st, "Cannot remove the pod sandbox", {{"pod", log::KRef(rt.ns, rt.name)}});
    return;
  }
  (void)state_->UnmarkNetns(rt.netns);
  ipam_->Release(rt.key);
  rt.sandbox = false;
}

absl::Status Kubelet::StartContainer(const Pod& pod, PodRuntime& rt, Container& c) {
  const api::core::v1::Container* spec = SpecOf(pod, c.name);
  if (spec == nullptr) return absl::InternalError("no such container " + c.name);
  const std::string dir = state_->PodDir(rt.ns, rt.name) + "/" + c.name;
  absl::StatusOr<ContainerLaunch> l = ResolveContainer(pod, *spec, dir, options_.runtime);
  if (!l.ok()) {
    c.st.phase = ContainerState::Phase::kWaiting;
    c.st.waiting_reason = "CreateContainerConfigError";
    c.st.waiting_message = std::string(l.status().message());
    return l.status();
  }
  std::error_code ec;
  for (const std::string& d : l->dirs) fs::create_directories(d, ec);
  for (const auto& [path, content] : l->files) {
    std::ofstream out(path, std::ios::trunc);
    out << content;
  }
  if (!c.ever_started) {
    recorder_->Eventf(pod, kEventTypeNormal, "Pulled",
                      "Container image \"%s\" already present on machine", spec->image());
  }
  recorder_->Eventf(pod, kEventTypeNormal, "Created", "Created container: %s", c.name);
  std::vector<std::string> argv =
      InPod(rt.netns, ContainerEnv(pod, *spec, rt.ip, options_.node_ip), l->argv);
  absl::StatusOr<int> pid = runner_->Start(argv, dir + "/" + c.name + ".log");
  if (!pid.ok()) {
    c.st.phase = ContainerState::Phase::kWaiting;
    c.st.waiting_reason = "RunContainerError";
    c.st.waiting_message = std::string(pid.status().message());
    recorder_->Eventf(pod, kEventTypeWarning, "Failed", "Error: %s", pid.status().message());
    return pid.status();
  }
  absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  if (c.ever_started) ++c.st.restart_count;
  c.ever_started = true;
  c.pid = *pid;
  c.stop_signal = l->stop_signal;
  c.st.phase = ContainerState::Phase::kRunning;
  c.st.image = spec->image();
  c.st.image_id = l->image_id;
  c.st.container_id = absl::StrCat("lab://", *pid);
  c.st.started_at = now;
  c.st.terminated.reset();
  c.st.waiting_message.clear();
  c.readiness.reset();
  c.liveness.reset();
  c.startup.reset();
  absl::Time real_start = absl::Now();
  if (spec->has_readinessprobe())
    c.readiness.emplace(spec->readinessprobe(), ProbeKind::kReadiness, real_start);
  if (spec->has_livenessprobe())
    c.liveness.emplace(spec->livenessprobe(), ProbeKind::kLiveness, real_start);
  if (spec->has_startupprobe())
    c.startup.emplace(spec->startupprobe(), ProbeKind::kStartup, real_start);
  c.st.started = !c.startup.has_value();
  c.st.ready = c.st.started && !c.readiness.has_value();
  recorder_->Eventf(pod, kEventTypeNormal, "Started", "Started container %s", c.name);
  log::Info(
      "Started container",
      {{"pod", log::KObj(pod)}, {"container", c.name}, {"pid", *pid}, {"runtime", l->runtime}});
  SaveRecord(rt);
  return absl::OkStatus();
}

void Kubelet::PollContainer(const Pod& pod, PodRuntime& rt, Container& c, absl::Time now) {
  if (c.pid == 0) return;
  std::optional<ExitInfo> e = runner_->Poll(c.pid);
  if (!e) return;
  TerminatedRun t;
  t.exit_code = e->exit_code;
  t.signal = e->signal;
  t.reason = e->exit_code == 0 ? "Completed" : "Error";
  if (!e->known) {
    t.exit_code = 137;
    t.reason = "ContainerStatusUnknown";
  }
  t.started_at = c.st.started_at;
  t.finished_at = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
  t.container_id = c.st.container_id;
  log::Info("Container exited",
            {{"pod", log::KObj(pod)}, {"container", c.name}, {"exitCode", t.exit_code}});
  c.pid = 0;
  c.st.ready = false;
  c.st.started = false;
  c.st.container_id.clear();
  if (rt.terminating || !ShouldRestart(pod, t)) {
    c.st.phase = ContainerState::Phase::kTerminated;
    c.st.terminated = t;
    c.st.container_id = t.container_id;
    SaveRecord(rt);
    return;
  }
  // Restart with kubelet's backoff: immediately the first time, then base, 2*base...
  if (now - c.st.started_at >= 2 * options_.restart_backoff_max) c.backoff_restarts = 0;
  absl::Duration delay = absl::ZeroDuration();
  if (c.backoff_restarts > 0) {
    delay = options_.restart_backoff_base;
    for (int i = 1; i < c.backoff_restarts && delay < options_.restart_backoff_max; ++i) delay *= 2;
    delay = std::min(delay, options_.restart_backoff_max);
  }
  ++c.backoff_restarts;
  c.restart_at = now + delay;
  c.st.last = t;
  c.st.phase = ContainerState::Phase::kWaiting;
  if (delay > absl::ZeroDuration()) {
    c.st.waiting_reason = "CrashLoopBackOff";
    c.st.waiting_message = absl::StrCat("back-off ", absl::FormatDuration(delay),
                                        " restarting failed container=", c.name, " pod=", rt.name,
                                        "_", rt.ns, "(", rt.uid, ")");
    recorder_->Eventf(pod, kEventTypeWarning, "BackOff",
                      "Back-off restarting failed container %s in pod %s_%s(%s)", c.name, rt.name,
                      rt.ns, rt.uid);
  } else {
    c.st.waiting_reason = "ContainerCreating";
    c.st.waiting_message.clear();
  }
  SaveRecord(rt);
}

void Kubelet::RunProbes(const Pod& pod, PodRuntime& rt, Container& c, absl::Time now) {
  if (c.pid == 0 || c.st.phase != ContainerState::Phase::kRunning) return;
  const api::core::v1::Container* spec = SpecOf(pod, c.name);
  if (spec == nullptr) return;
  ProbeTarget target{rt.ip, rt.netns, spec, ContainerEnv(pod, *spec, rt.ip, options_.node_ip)};
  auto attempt = [&](ProbeTracker& t) {
    ProbeOutcome o = prober_->Run(t.spec().handler(), target, t.timeout());
    t.Record(o.success, now);
    if (!o.success) {
      KSLICE_V(2).Info("Probe failed", {{"probeType", ProbeKindName(t.kind())},
                                        {"pod", log::KObj(pod)},
                                        {"container", c.name},
                                        {"output", o.message}});
      recorder_->Eventf(pod, kEventTypeWarning, "Unhealthy", "%s probe failed: %s",
                        ProbeKindName(t.kind()), o.message);
    }
    return o;
  };
  if (c.startup && !c.st.started) {
    if (c.startup->Due(now)) {
      attempt(*c.startup);
      if (c.startup->result()) {
        c.st.started = true;
      } else if (c.startup->FailedOut()) {
        recorder_->Eventf(pod, kEventTypeNormal, "Killing",
                          "Container %s failed startup probe, will be restarted", c.name);
        (void)runner_->Signal(c.pid, c.stop_signal);
      }
    }
    if (!c.st.started) return;
  }
  if (c.liveness && c.liveness->Due(now)) {
    bool before = c.liveness->result();
    attempt(*c.liveness);
    if (before && !c.liveness->result()) {
      recorder_->Eventf(pod, kEventTypeNormal, "Killing",
                        "Container %s failed liveness probe, will be restarted", c.name);
      (void)runner_->Signal(c.pid, c.stop_signal);
    }
  }
  if (c.readiness) {
    if (c.readiness->Due(now)) attempt(*c.readiness);
    c.st.ready = c.readiness->result();
  } else {
    c.st.ready = c.st.started;
  }
}

absl::Status Kubelet::WriteStatus(const Pod& pod, PodRuntime& rt, absl::Time now) {
  api::core::v1::PodStatus st = ComputePodStatus(pod, StateOf(rt), now);
  using google::protobuf::util::MessageDifferencer;
  if (MessageDifferencer::Equals(st, pod.status())) return absl::OkStatus();
  if (rt.last_written && MessageDifferencer::Equals(st, *rt.last_written)) return absl::OkStatus();
  Pod copy = pod;
  *copy.mutable_status() = st;
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> r = client_->Update(copy, "status");
  if (!r.ok()) return r.status();
  rt.last_written = st;
  KSLICE_V(3).Info("Pod status written", {{"pod", log::KObj(pod)}, {"phase", st.phase()}});
  return absl::OkStatus();
}

absl::StatusOr<controller::Result> Kubelet::Sync(const std::string& key) {
  auto [ns, name] = informers::SplitKey(key);
  std::shared_ptr<PodRuntime> rt;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto it = pods_rt_.find(key); it != pods_rt_.end()) rt = it->second;
  }
  absl::StatusOr<std::shared_ptr<const Pod>> got = pods_->Get(std::string(ns), std::string(name));
  if (!got.ok() && !absl::IsNotFound(got.status())) return got.status();
  auto forget = [&](PodRuntime& old, const char* why) {
    log::Info("Removing pod", {{"pod", log::KRef(old.ns, old.name)}, {"reason", why}});
    for (Container& c : old.containers) {
      if (c.pid != 0) (void)runner_->Signal(c.pid, SIGKILL);
    }
    TearDown(old);
    (void)state_->RemovePod(old.ns, old.name);
    std::lock_guard<std::mutex> l(mu_);
    pods_rt_.erase(old.key);
  };
  if (!got.ok()) {
    if (rt) forget(*rt, "the pod is gone from the API");
    return controller::Result{};
  }
  const Pod& pod = **got;
  if (rt && !rt->uid.empty() && rt->uid != pod.metadata().uid()) {
    forget(*rt, "replaced by a pod of the same name");
    rt.reset();
  }
  if (!rt) {
    const std::string& phase = pod.status().phase();
    if ((phase == "Succeeded" || phase == "Failed") && !pod.metadata().has_deletiontimestamp()) {
      return controller::Result{};  // finished before we knew it: nothing to run
    }
    rt = std::make_shared<PodRuntime>();
    rt->key = key;
    rt->ns = std::string(ns);
    rt->name = std::string(name);
    rt->netns = PodNetnsName(rt->ns, rt->name);
    rt->veth = VethName(rt->ns, rt->name);
    std::lock_guard<std::mutex> l(mu_);
    pods_rt_[key] = rt;
  }
  rt->uid = pod.metadata().uid();
  // Containers in spec order; adopted ones keep their state.
  std::vector<Container> ordered;
  for (const auto& spec : pod.spec().containers()) {
    Container* have = nullptr;
    for (Container& c : rt->containers) {
      if (c.name == spec.name()) have = &c;
    }
    if (have != nullptr) {
      ordered.push_back(std::move(*have));
    } else {
      Container c;
      c.name = spec.name();
      c.st.name = spec.name();
      ordered.push_back(std::move(c));
    }
    Container& c = ordered.back();
    c.st.image = spec.image();
    c.stop_signal = StopSignalFor(spec);
    if (c.pid != 0 && !c.readiness && !c.liveness && !c.startup && c.st.image_id.empty()) {
      // Adopted: probes start over from now.
      absl::StatusOr<ContainerLaunch> l =
          ResolveContainer(pod, spec, "/nonexistent", options_.runtime);
      if (l.ok()) c.st.image_id = l->image_id;
      if (spec.has_readinessprobe())
        c.readiness.emplace(spec.readinessprobe(), ProbeKind::kReadiness, absl::Now());
      if (spec.has_livenessprobe())
        c.liveness.emplace(spec.livenessprobe(), ProbeKind::kLiveness, absl::Now());
    }
  }
  rt->containers = std::move(ordered);
  if (pod.metadata().has_deletiontimestamp()) return SyncTerminating(pod, *rt);
  return SyncRunning(pod, *rt);
}

absl::StatusOr<controller::Result> Kubelet::SyncRunning(const Pod& pod, PodRuntime& rt) {
  absl::Time now = absl::Now();
  if (rt.terminal) {
    if (rt.sandbox) TearDown(rt);
    if (absl::Status st = WriteStatus(pod, rt, now); !st.ok()) return st;
    return controller::Result{};
  }
  if (absl::Status st = EnsureSandbox(pod, rt); !st.ok()) {
    recorder_->Eventf(pod, kEventTypeWarning, "FailedCreatePodSandBox",
                      "Failed to create pod sandbox: %s", st.message());
    (void)WriteStatus(pod, rt, now);
    return st;
  }
  if (absl::Status st = WriteNetnsFiles(pod, rt); !st.ok()) return st;
  absl::Time next = now + options_.sync_period;
  bool all_done = !rt.containers.empty();
  for (Container& c : rt.containers) {
    PollContainer(pod, rt, c, now);
    if (c.st.phase == ContainerState::Phase::kWaiting && c.pid == 0) {
      if (now >= c.restart_at) {
        if (absl::Status st = StartContainer(pod, rt, c); !st.ok()) {
          log::Error(st, "Cannot start container",
                     {{"pod", log::KObj(pod)}, {"container", c.name}});
          c.restart_at = now + options_.restart_backoff_base;
        }
      } else {
        next = std::min(next, c.restart_at);
      }
    }
    RunProbes(pod, rt, c, now);
    for (const auto* t : {&c.readiness, &c.liveness, &c.startup}) {
      if (t->has_value() && c.pid != 0) next = std::min(next, (*t)->NextDue());
    }
    all_done = all_done && c.st.phase == ContainerState::Phase::kTerminated;
  }
  if (all_done) {
    // restartPolicy Never/OnFailure and nothing left to run: the pod is finished.
    rt.terminal = true;
    TearDown(rt);
    SaveRecord(rt);
  }
  if (absl::Status st = WriteStatus(pod, rt, now); !st.ok()) return st;
  if (rt.terminal) return controller::Result{};
  return controller::Result{.requeue_after = std::max(next - absl::Now(), absl::Milliseconds(20))};
}

absl::StatusOr<controller::Result> Kubelet::SyncTerminating(const Pod& pod, PodRuntime& rt) {
  absl::Time now = absl::Now();
  if (!rt.terminating) {
    rt.terminating = true;
    int64_t grace = pod.metadata().has_deletiongraceperiodseconds()
                        ? pod.metadata().deletiongraceperiodseconds()
                        : (pod.spec().has_terminationgraceperiodseconds()
                               ? pod.spec().terminationgraceperiodseconds()
                               : 30);
    rt.grace_deadline = now + absl::Seconds(std::max<int64_t>(grace, 0));
    auto done = std::make_shared<std::atomic<bool>>(false);
    rt.prestop_done = done;
    // preStop hooks of running containers, in a thread of their own so the sync
    // stays short; the pod stays Ready meanwhile (its endpoint: serving, terminating).
    struct Hook {
      api::core::v1::LifecycleHandler handler;
      ProbeTarget target;
      api::core::v1::Container spec;
    };
    std::vector<Hook> hooks;
    for (Container& c : rt.containers) {
      if (c.pid == 0) continue;
      recorder_->Eventf(pod, kEventTypeNormal, "Killing", "Stopping container %s", c.name);
      const api::core::v1::Container* spec = SpecOf(pod, c.name);
      if (spec != nullptr && spec->has_lifecycle() && spec->lifecycle().has_prestop()) {
        hooks.push_back(
            {spec->lifecycle().prestop(),
             {rt.ip, rt.netns, nullptr, ContainerEnv(pod, *spec, rt.ip, options_.node_ip)},
             *spec});
      }
    }
    log::Info("Killing pod",
              {{"pod", log::KObj(pod)}, {"gracePeriod", grace}, {"preStopHooks", hooks.size()}});
    if (hooks.empty()) {
      done->store(true);
    } else {
      ProbeExecutor* prober = prober_.get();
      absl::Duration budget = rt.grace_deadline - now;
      std::string pod_key = rt.key;
      rt.prestop =
          std::jthread([hooks = std::move(hooks), prober, budget, done, pod_key]() mutable {
            absl::Time end = absl::Now() + budget;
            for (Hook& h : hooks) {
              h.target.container = &h.spec;
              ProbeOutcome o = prober->RunHook(h.handler, h.target,
                                               std::max(end - absl::Now(), absl::Seconds(1)));
              if (!o.success)
                log::Warning("PreStop hook failed", {{"pod", pod_key}, {"error", o.message}});
            }
            done->store(true);
          });
    }
  }
  for (Container& c : rt.containers) PollContainer(pod, rt, c, now);
  bool any_running = false;
  for (const Container& c : rt.containers) any_running = any_running || c.pid != 0;
  if (any_running && !rt.prestop_done->load() && now < rt.grace_deadline) {
    if (absl::Status st = WriteStatus(pod, rt, now); !st.ok()) return st;
    return controller::Result{.requeue_after = absl::Milliseconds(200)};
  }
  if (any_running && !rt.signaled) {
    rt.signaled = true;
    // At least 2 s after the stop signal, as kubelet's minimum grace period.
    rt.kill_deadline = std::max(rt.grace_deadline, now + absl::Seconds(2));
    for (Container& c : rt.containers) {
      if (c.pid != 0) (void)runner_->Signal(c.pid, c.stop_signal);
    }
  }
  if (any_running && now >= rt.kill_deadline && !rt.killed) {
    rt.killed = true;
    for (Container& c : rt.containers) {
      if (c.pid != 0) (void)runner_->Signal(c.pid, SIGKILL);
    }
  }
  if (any_running) return controller::Result{.requeue_after = absl::Milliseconds(100)};
  // Everything stopped: containers that never ran count as terminated too.
  for (Container& c : rt.containers) {
    if (c.st.phase == ContainerState::Phase::kWaiting) {
      c.st.phase = ContainerState::Phase::kTerminated;
      TerminatedRun t = c.st.last.value_or(TerminatedRun{});
      if (!c.st.last) {
        t.exit_code = 0;
        t.reason = "ContainerStatusUnknown";
        t.message = "The container was never started";
      }
      c.st.terminated = t;
    }
    c.st.ready = false;
  }
  if (rt.sandbox) TearDown(rt);
  rt.terminal = true;
  if (absl::Status st = WriteStatus(pod, rt, now); !st.ok() && !absl::IsNotFound(st)) return st;
  api::meta::v1::DeleteOptions opts;
  opts.set_graceperiodseconds(0);
  opts.mutable_preconditions()->set_uid(pod.metadata().uid());
  absl::Status del =
      client_->Delete(*client::ResourceFor(Pod::descriptor()), rt.ns, rt.name, &opts);
  if (!del.ok() && !absl::IsNotFound(del) && !client::IsConflict(del)) return del;
  log::Info("Pod deleted", {{"pod", log::KObj(pod)}});
  (void)state_->RemovePod(rt.ns, rt.name);
  std::shared_ptr<PodRuntime> keep;  // destroyed outside the lock (joins the preStop thread)
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto it = pods_rt_.find(rt.key); it != pods_rt_.end() && it->second.get() == &rt) {
      keep = it->second;
      pods_rt_.erase(it);
    }
  }
  return controller::Result{};
}

absl::Status Cleanup(const std::string& node_name, const std::string& state_dir,
                     const std::string& etc_netns_dir) {
  std::unique_ptr<Runner> runner = NewSystemRunner();
  return CleanupNode(*runner, state_dir, node_name, etc_netns_dir);
}

}  // namespace kslice::lab::kubelet
