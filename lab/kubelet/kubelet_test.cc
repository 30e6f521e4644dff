// The Kubelet against the embedded API server with a fake Runner and a fake prober:
// node registration (labels, taints, pod CIDR, Lease), restart backoff, a pod that
// finishes under restartPolicy Never, readiness, graceful deletion with a preStop
// hook, and a pod deleted while its sandbox never came up. No root needed: nothing
// touches the machine except temp dirs. kubelet_netns_test runs the real thing.
#include "lab/kubelet/kubelet.h"

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stop_token>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "api/coordination/v1/coordination.pb.h"
#include "client/rest/client.h"
#include "envtest/environment/environment.h"
#include "gtest/gtest.h"
#include "lab/kubelet/fake_runner.h"

namespace kslice::lab::kubelet {
namespace {

namespace fs = std::filesystem;
using api::core::v1::Pod;
using api::core::v1::PodList;

class FakeProber : public ProbeExecutor {
 public:
  std::atomic<bool> ready{false};
  std::atomic<int> hooks{0};
  std::atomic<bool> hook_running{false};
  ProbeOutcome Run(const api::core::v1::ProbeHandler&, const ProbeTarget&,
                   absl::Duration) override {
    return {ready.load(), ready.load() ? "" : "HTTP probe failed with statuscode: 503"};
  }
  ProbeOutcome RunHook(const api::core::v1::LifecycleHandler&, const ProbeTarget&,
                       absl::Duration) override {
    hook_running = true;
    absl::SleepFor(absl::Milliseconds(1500));
    ++hooks;
    hook_running = false;
    return {true, ""};
  }
};

template <typename F>
bool WaitFor(F f, absl::Duration timeout = absl::Seconds(20)) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (f()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return f();
}

bool Condition(const Pod& p, const std::string& type, const std::string& status = "True") {
  for (const auto& c : p.status().conditions()) {
    if (c.type() == type) return c.status() == status;
  }
  return false;
}

int PidOf(const Pod& p) {
  int pid = 0;
  if (p.status().containerstatuses_size() == 0) return 0;
  (void)absl::SimpleAtoi(absl::StripPrefix(p.status().containerstatuses(0).containerid(), "lab://"),
                         &pid);
  return pid;
}

class KubeletTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto env = envtest::Environment::Start();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = env->release();
  }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }

  void SetUp() override {
    auto ns = env_->CreateNamespace("k-");
    ASSERT_TRUE(ns.ok());
    ns_ = *ns;
    auto c = client::RestClient::Create(env_->config());
    ASSERT_TRUE(c.ok());
    client_ = *std::move(c);
    const char* t = getenv("TEST_TMPDIR");
    dir_ = absl::StrCat(t ? t : "/tmp", "/kubelet-test-", ns_);
    options_.node_name = "node-" + ns_;
    options_.node_ip = "172.18.0.3";
    options_.pod_cidr = "192.168.202.192/26";
    options_.first_pod_ip = "192.168.202.194";
    options_.pod_gateway = "192.168.202.193";
    options_.state_dir = dir_ + "/state";
    options_.etc_netns_dir = dir_ + "/etc-netns";
    options_.node_status_period = absl::Seconds(1);
    options_.restart_backoff_base = absl::Seconds(2);
    options_.sync_period = absl::Milliseconds(100);
    options_.node_labels = {{"topology.kubernetes.io/zone", "zone-a"}};
    api::core::v1::Taint taint;
    taint.set_key("node-role.kubernetes.io/control-plane");
    taint.set_effect("NoSchedule");
    options_.register_with_taints = {taint};
  }
  void TearDown() override {
    if (thread_.joinable()) {
      stop_.request_stop();
      thread_.join();
    }
    kubelet_.reset();
    fs::remove_all(dir_);
  }

  void Start() {
    auto runner = std::make_unique<FakeRunner>();
    runner_ = runner.get();
    runner_->set_exit_on_signal(true);
    configure_runner_(*runner_);
    auto prober = std::make_unique<FakeProber>();
    prober_ = prober.get();
    auto k = Kubelet::Create(env_->config(), options_, std::move(runner), std::move(prober));
    ASSERT_TRUE(k.ok()) << k.status();
    kubelet_ = *std::move(k);
    thread_ = std::thread([this] { EXPECT_TRUE(kubelet_->Run(stop_.get_token()).ok()); });
    ASSERT_TRUE(WaitFor([&] { return kubelet_->Ready(); }));
  }

  Pod MakePod(const std::string& name, const std::string& image) {
    Pod p;
    p.mutable_metadata()->set_namespace_(ns_);
    p.mutable_metadata()->set_name(name);
    p.mutable_spec()->set_nodename(options_.node_name);
    auto* c = p.mutable_spec()->add_containers();
    c->set_name("c");
    c->set_image(image);
    return p;
  }
  absl::StatusOr<Pod> Get(const std::string& name) {
    return client::Typed<Pod, PodList>(*client_).Get(ns_, name);
  }
  bool Has(const std::string& cmd) {
    for (const std::string& c : runner_->commands()) {
      if (c == cmd) return true;
    }
    return false;
  }

  static envtest::Environment* env_;
  std::unique_ptr<client::RestClient> client_;
  std::string ns_, dir_;
  KubeletOptions options_;
  std::function<void(FakeRunner&)> configure_runner_ = [](FakeRunner&) {};
  FakeRunner* runner_ = nullptr;  // owned by the kubelet
  FakeProber* prober_ = nullptr;  // owned by the kubelet
  std::unique_ptr<Kubelet> kubelet_;
  std::stop_source stop_;
  std::thread thread_;
};
envtest::Environment* KubeletTest::env_ = nullptr;

TEST_F(KubeletTest, RegistersTheNodeAndItsLease) {
  Start();
  client::Typed<api::core::v1::Node, api::core::v1::NodeList> nodes(*client_);
  auto n = nodes.Get("", options_.node_name);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->metadata().labels().at("kubernetes.io/hostname"), options_.node_name);
  EXPECT_EQ(n->metadata().labels().at("kubernetes.io/os"), "linux");
  EXPECT_TRUE(n->metadata().labels().contains("kubernetes.io/arch"));
  EXPECT_EQ(n->metadata().labels().at("topology.kubernetes.io/zone"), "zone-a");
  ASSERT_EQ(n->spec().taints_size(), 1);
  EXPECT_EQ(n->spec().taints(0).key(), "node-role.kubernetes.io/control-plane");
  EXPECT_EQ(n->spec().taints(0).effect(), "NoSchedule");
  EXPECT_EQ(n->spec().podcidr(), "192.168.202.192/26");
  ASSERT_EQ(n->spec().podcidrs_size(), 1);
  std::map<std::string, std::string> conds;
  for (const auto& c : n->status().conditions()) conds[c.type()] = c.status() + "/" + c.reason();
  EXPECT_EQ(conds["Ready"], "True/KubeletReady");
  EXPECT_EQ(conds["MemoryPressure"], "False/KubeletHasSufficientMemory");
  EXPECT_EQ(conds["DiskPressure"], "False/KubeletHasNoDiskPressure");
  EXPECT_EQ(conds["PIDPressure"], "False/KubeletHasSufficientPID");
  EXPECT_EQ(n->status().allocatable().at("pods").string(), "110");
  EXPECT_EQ(n->status().nodeinfo().operatingsystem(), "linux");
  // The heartbeat moves; the transition time does not.
  int64_t transition = 0, beat = 0;
  for (const auto& c : n->status().conditions()) {
    if (c.type() == "Ready")
      transition = c.lasttransitiontime().seconds(), beat = c.lastheartbeattime().seconds();
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        auto again = nodes.Get("", options_.node_name);
        for (const auto& c : again->status().conditions()) {
          if (c.type() == "Ready" && c.lastheartbeattime().seconds() > beat) {
            EXPECT_EQ(c.lasttransitiontime().seconds(), transition);
            return true;
          }
        }
        return false;
      },
      absl::Seconds(5)));
  const client::ResourceInfo* leases =
      client::ResourceFor(api::coordination::v1::Lease::descriptor());
  auto lease = client_->Get(*leases, "kube-node-lease", options_.node_name);
  ASSERT_TRUE(lease.ok()) << lease.status();
  auto* l = dynamic_cast<api::coordination::v1::Lease*>(lease->get());
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->spec().holderidentity(), options_.node_name);
  EXPECT_EQ(l->spec().leasedurationseconds(), 40);
}

TEST_F(KubeletTest, RestartsWithBackoffAndCountsRestarts) {
  Start();
  Pod p = MakePod("crash", "busybox");
  p.mutable_spec()->mutable_containers(0)->add_command("false");
  client::Typed<Pod, PodList> pods(*client_);
  ASSERT_TRUE(pods.Create(p).ok());
  Pod got;
  ASSERT_TRUE(WaitFor([&] {
    auto g = Get("crash");
    if (!g.ok() || PidOf(*g) == 0 || g->status().phase() != "Running") return false;
    got = *g;
    return true;
  }));
  EXPECT_EQ(got.status().podip(), "192.168.202.194");
  EXPECT_TRUE(Condition(got, "Ready")) << "no readiness probe: ready when started";
  ASSERT_EQ(runner_->started().size(), 1u);
  EXPECT_EQ(
      runner_->started()[0].first,
      "ip netns exec lab-pod-" + ns_ +
          "-crash env -i "
          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOSTNAME=crash false");
  EXPECT_TRUE(Has("ip netns add lab-pod-" + ns_ + "-crash"));
  // The hosts file and resolv.conf are in place.
  std::string etc = options_.etc_netns_dir + "/lab-pod-" + ns_ + "-crash";
  EXPECT_TRUE(fs::exists(etc + "/hosts"));
  EXPECT_TRUE(fs::exists(etc + "/resolv.conf"));

  // First exit: restarted at once.
  int first = PidOf(got);
  runner_->Exit(first, {1, 0, true});
  ASSERT_TRUE(WaitFor([&] {
    auto g = Get("crash");
    return g.ok() && PidOf(*g) != 0 && PidOf(*g) != first &&
           g->status().containerstatuses(0).restartcount() == 1;
  }));
  got = *Get("crash");
  EXPECT_EQ(got.status().containerstatuses(0).laststate().terminated().exitcode(), 1);
  EXPECT_EQ(got.status().containerstatuses(0).laststate().terminated().reason(), "Error");
  // Second exit: CrashLoopBackOff for the base period (2 s), then restarted.
  int second = PidOf(got);
  absl::Time exited = absl::Now();
  runner_->Exit(second, {1, 0, true});
  ASSERT_TRUE(WaitFor([&] {
    auto g = Get("crash");
    return g.ok() &&
           g->status().containerstatuses(0).state().waiting().reason() == "CrashLoopBackOff";
  }));
  got = *Get("crash");
  EXPECT_TRUE(absl::StartsWith(got.status().containerstatuses(0).state().waiting().message(),
                               "back-off 2s"))
      << got.status().containerstatuses(0).state().waiting().message();
  EXPECT_FALSE(Condition(got, "Ready"));
  EXPECT_EQ(got.status().phase(), "Running");
  ASSERT_TRUE(WaitFor([&] {
    auto g = Get("crash");
    return g.ok() && g->status().containerstatuses(0).restartcount() == 2 && PidOf(*g) != 0;
  }));
  EXPECT_GE(absl::Now() - exited, absl::Milliseconds(1900)) << "restarted before the backoff ended";
}

TEST_F(KubeletTest, NeverPolicyFinishesAndFreesTheAddress) {
  Start();
  Pod p = MakePod("job", "busybox");
  p.mutable_spec()->set_restartpolicy("Never");
  p.mutable_spec()->mutable_containers(0)->add_command("true");
  client::Typed<Pod, PodList> pods(*client_);
  ASSERT_TRUE(pods.Create(p).ok());
  auto job_started = [&] {
    auto g = Get("job");
    return g.ok() && PidOf(*g) != 0;
  };
  ASSERT_TRUE(WaitFor(job_started));
  runner_->Exit(PidOf(*Get("job")), {0, 0, true});
  auto succeeded = [&] {
    auto g = Get("job");
    return g.ok() && g->status().phase() == "Succeeded";
  };
  ASSERT_TRUE(WaitFor(succeeded));
  Pod got = *Get("job");
  EXPECT_EQ(got.status().containerstatuses(0).state().terminated().reason(), "Completed");
  EXPECT_TRUE(Condition(got, "Ready", "False"));
  EXPECT_TRUE(WaitFor([&] { return Has("ip netns del lab-pod-" + ns_ + "-job"); }));
  // The address is free again.
  ASSERT_TRUE(pods.Create(MakePod("next", "busybox")).ok());
  auto has_ip = [&] {
    auto g = Get("next");
    return g.ok() && !g->status().podip().empty();
  };
  ASSERT_TRUE(WaitFor(has_ip));
  EXPECT_EQ(Get("next")->status().podip(), "192.168.202.194");
}

TEST_F(KubeletTest, ReadinessAndGracefulDeletionWithPreStop) {
  Start();
  Pod p = MakePod("web", "nginx:1.28");
  auto* c = p.mutable_spec()->mutable_containers(0);
  c->mutable_readinessprobe()->mutable_handler()->mutable_httpget()->mutable_port()->set_intval(80);
  c->mutable_readinessprobe()->set_periodseconds(1);
  c->mutable_lifecycle()->mutable_prestop()->mutable_exec()->add_command("sleep");
  client::Typed<Pod, PodList> pods(*client_);
  ASSERT_TRUE(pods.Create(p).ok());
  auto running = [&] {
    auto g = Get("web");
    return g.ok() && g->status().phase() == "Running";
  };
  ASSERT_TRUE(WaitFor(running));
  absl::SleepFor(absl::Milliseconds(1200));
  EXPECT_TRUE(Condition(*Get("web"), "Ready", "False")) << "the probe fails";
  prober_->ready = true;
  ASSERT_TRUE(WaitFor([&] { return Condition(*Get("web"), "Ready"); }));
  const std::string rv = Get("web")->metadata().resourceversion();
  absl::SleepFor(absl::Milliseconds(600));
  EXPECT_EQ(Get("web")->metadata().resourceversion(), rv)
      << "an unchanged status is not written again";
  int pid = PidOf(*Get("web"));

  api::meta::v1::DeleteOptions opts;
  opts.set_graceperiodseconds(20);
  ASSERT_TRUE(pods.Delete(ns_, "web", &opts).ok());
  ASSERT_TRUE(WaitFor([&] { return prober_->hook_running.load(); }));
  auto during = Get("web");
  ASSERT_TRUE(during.ok());
  EXPECT_TRUE(during->metadata().has_deletiontimestamp());
  EXPECT_TRUE(Condition(*during, "Ready")) << "Ready while preStop runs";
  for (const auto& [spid, sig] : runner_->signals())
    EXPECT_NE(spid, pid) << "signalled before preStop ended";
  ASSERT_TRUE(WaitFor([&] { return absl::IsNotFound(Get("web").status()); }));
  EXPECT_EQ(prober_->hooks.load(), 1);
  bool quit = false;
  for (const auto& [spid, sig] : runner_->signals()) quit = quit || (spid == pid && sig == SIGQUIT);
  EXPECT_TRUE(quit) << "nginx gets SIGQUIT, its graceful stop";
  EXPECT_TRUE(Has("ip netns del lab-pod-" + ns_ + "-web"));
  EXPECT_FALSE(fs::exists(options_.etc_netns_dir + "/lab-pod-" + ns_ + "-web"));
}

TEST_F(KubeletTest, AFailedLivenessProbeRestartsTheContainer) {
  Start();
  Pod p = MakePod("live", "busybox");
  auto* probe = p.mutable_spec()->mutable_containers(0)->mutable_livenessprobe();
  probe->mutable_handler()->mutable_tcpsocket()->mutable_port()->set_intval(8080);
  probe->set_periodseconds(1);
  probe->set_failurethreshold(2);
  client::Typed<Pod, PodList> pods(*client_);
  ASSERT_TRUE(pods.Create(p).ok());  // the fake prober fails every attempt
  ASSERT_TRUE(WaitFor([&] {
    auto g = Get("live");
    return g.ok() && g->status().containerstatuses_size() == 1 &&
           g->status().containerstatuses(0).restartcount() >= 1;
  }));
  bool termed = false;
  for (const auto& [pid, sig] : runner_->signals()) termed = termed || sig == SIGTERM;
  EXPECT_TRUE(termed) << "stopped with its stop signal";
  EXPECT_GE(runner_->started().size(), 2u);
}

TEST_F(KubeletTest, APodWhoseSandboxNeverCameUpIsStillDeleted) {
  configure_runner_ = [](FakeRunner& r) {
    r.On("ip netns add",
         CommandResult{1, 0, "Cannot create namespace file: Permission denied\n", false});
  };
  Start();
  client::Typed<Pod, PodList> pods(*client_);
  ASSERT_TRUE(pods.Create(MakePod("stuck", "busybox")).ok());
  ASSERT_TRUE(WaitFor([&] { return Has("ip netns add lab-pod-" + ns_ + "-stuck"); }));
  absl::SleepFor(absl::Milliseconds(300));
  auto g = Get("stuck");
  ASSERT_TRUE(g.ok());
  EXPECT_NE(g->status().phase(), "Running");
  EXPECT_TRUE(runner_->started().empty());
  api::meta::v1::DeleteOptions opts;
  opts.set_graceperiodseconds(30);
  ASSERT_TRUE(pods.Delete(ns_, "stuck", &opts).ok());
  ASSERT_TRUE(WaitFor([&] { return absl::IsNotFound(Get("stuck").status()); }, absl::Seconds(10)))
      << "the kubelet deletes it without waiting for the grace period";
}

}  // namespace
}  // namespace kslice::lab::kubelet
