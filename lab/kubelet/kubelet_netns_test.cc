// The lab kubelet on a real machine: a throwaway network namespace stands for the
// node (the test's main thread enters it before anything else starts, so the embedded
// API server, the kubelet and every command run "on the node"), with a pod bridge.
// Checks, against the embedded API server: an nginx pod with a readiness probe and a
// shell-tools pod become Running/Ready with the expected addresses; a request from one
// pod to the other gets nginx's page with X-Pod-Name, and a bad request line nginx's
// 400; a Service created later resolves in the pods; a killed container is restarted
// (restartCount 1); a restarted kubelet adopts its pods; a deletion with a grace
// period is seen terminating (still Ready while preStop runs) and then the pod and its
// namespace are gone; Cleanup leaves nothing.
//
// Needs root, `ip netns`, nginx (Debian's), curl and bash. Skips with a message where
// network namespaces cannot be created or nginx is absent. Run alone (tags in BUILD).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stop_token>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/rest/client.h"
#include "envtest/environment/environment.h"
#include "gtest/gtest.h"
#include "lab/kubelet/kubelet.h"
#include "lab/kubelet/runner.h"

namespace kslice::lab::kubelet {
namespace {

namespace fs = std::filesystem;
using api::core::v1::Pod;
using api::core::v1::PodList;

std::string g_skip;        // why the test cannot run here ("" = it can)
std::string g_node_netns;  // the namespace the main thread entered

int Sh(const std::string& cmd, std::string* out = nullptr) {
  std::string full = cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return -1;
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) s.append(buf, n);
  int rc = pclose(p);
  if (out != nullptr) *out = s;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Enters a fresh namespace on the main thread before any other thread exists.
class NodeNamespace : public ::testing::Environment {
 public:
  void SetUp() override {
    if (geteuid() != 0) {
      g_skip = "not root: network namespaces cannot be created";
      return;
    }
    g_node_netns = absl::StrCat("ksl-kt-", getpid(), "-node");
    if (Sh("ip netns add " + g_node_netns) != 0) {
      g_skip = "'ip netns add' is not allowed here (sandbox or missing CAP_SYS_ADMIN)";
      g_node_netns.clear();
      return;
    }
    int fd = open(("/run/netns/" + g_node_netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      g_skip = "cannot enter a network namespace (setns)";
      if (fd >= 0) close(fd);
      return;
    }
    close(fd);
    std::string out;
    if (Sh("ip link set lo up && ip link add cni0 type bridge && ip addr add 10.250.0.1/26 dev "
           "cni0 "
           "&& ip link set cni0 up",
           &out) != 0) {
      g_skip = "cannot build the node bridge: " + out;
      return;
    }
    if (access("/usr/sbin/nginx", X_OK) != 0) {
      g_skip = "Debian's nginx is not installed (/usr/sbin/nginx): apt-get install nginx-light";
    }
  }
  void TearDown() override {
    if (!g_node_netns.empty()) Sh("ip netns del " + g_node_netns);
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new NodeNamespace());

template <typename F>
bool WaitFor(F f, absl::Duration timeout = absl::Seconds(30)) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (f()) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return f();
}

bool Condition(const Pod& p, const std::string& type, const std::string& status = "True") {
  for (const auto& c : p.status().conditions()) {
    if (c.type() == type) return c.status() == status;
  }
  return false;
}

bool NetnsExists(const std::string& name) { return fs::exists("/run/netns/" + name); }

class KubeletNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!g_skip.empty()) GTEST_SKIP() << "SKIP: " << g_skip;
    auto env = envtest::Environment::Start();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    auto ns = env_->CreateNamespace("kt-");
    ASSERT_TRUE(ns.ok());
    ns_ = *ns;
    auto c = client::RestClient::Create(env_->config());
    ASSERT_TRUE(c.ok());
    client_ = *std::move(c);
    state_dir_ = absl::StrCat(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp", "/kt-state-",
                              getpid());
    options_.node_name = "kt-node";
    options_.node_ip = "172.31.0.2";
    options_.pod_cidr = "10.250.0.0/26";
    options_.first_pod_ip = "10.250.0.9";
    options_.pod_gateway = "10.250.0.1";
    options_.bridge = "cni0";
    options_.state_dir = state_dir_;
    options_.node_labels = {{"topology.kubernetes.io/zone", "zone-a"}};
    options_.node_status_period = absl::Seconds(1);
    options_.restart_backoff_base = absl::Seconds(1);
    options_.sync_period = absl::Milliseconds(300);
  }
  void TearDown() override {
    StopKubelet();
    if (!state_dir_.empty()) {
      (void)Cleanup(options_.node_name, state_dir_);
      fs::remove_all(state_dir_);
    }
  }

  void StartKubelet() {
    auto k = Kubelet::Create(env_->config(), options_);
    ASSERT_TRUE(k.ok()) << k.status();
    kubelet_ = *std::move(k);
    stop_ = std::stop_source();
    thread_ = std::thread([this] { EXPECT_TRUE(kubelet_->Run(stop_.get_token()).ok()); });
  }
  void StopKubelet() {
    if (!thread_.joinable()) return;
    stop_.request_stop();
    thread_.join();
    kubelet_.reset();
  }

  absl::StatusOr<Pod> Get(const std::string& name) {
    return client::Typed<Pod, PodList>(*client_).Get(ns_, name);
  }
  Pod MakePod(const std::string& name, const std::string& image) {
    Pod p;
    p.mutable_metadata()->set_namespace_(ns_);
    p.mutable_metadata()->set_name(name);
    (*p.mutable_metadata()->mutable_labels())["app"] = name;
    p.mutable_spec()->set_nodename(options_.node_name);
    auto* c = p.mutable_spec()->add_containers();
    c->set_name(name == "web" ? "nginx" : "tools");
    c->set_image(image);
    return p;
  }
  bool RunningReady(const std::string& name, Pod* out = nullptr) {
    absl::StatusOr<Pod> p = Get(name);
    if (!p.ok() || p->status().phase() != "Running" || !Condition(*p, "Ready")) return false;
    if (out) *out = *p;
    return true;
  }

  std::unique_ptr<envtest::Environment> env_;
  std::unique_ptr<client::RestClient> client_;
  std::string ns_, state_dir_;
  KubeletOptions options_;
  std::unique_ptr<Kubelet> kubelet_;
  std::stop_source stop_;
  std::thread thread_;
};

TEST_F(KubeletNetnsTest, PodsRunServeResolveRestartAndGoAway) {
  StartKubelet();
  client::Typed<api::core::v1::Node, api::core::v1::NodeList> nodes(*client_);
  ASSERT_TRUE(WaitFor([&] {
    auto n = nodes.Get("", "kt-node");
    if (!n.ok()) return false;
    for (const auto& c : n->status().conditions()) {
      if (c.type() == "Ready" && c.status() == "True" && c.reason() == "KubeletReady") return true;
    }
    return false;
  })) << "node never became Ready";
  {
    auto n = nodes.Get("", "kt-node");
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n->metadata().labels().at("kubernetes.io/hostname"), "kt-node");
    EXPECT_EQ(n->metadata().labels().at("topology.kubernetes.io/zone"), "zone-a");
    EXPECT_EQ(n->spec().podcidr(), "10.250.0.0/26");
    ASSERT_GE(n->status().addresses_size(), 1);
    EXPECT_EQ(n->status().addresses(0).address(), "172.31.0.2");
    EXPECT_EQ(n->status().capacity().at("pods").string(), "110");
  }

  // nginx with a readiness probe and a preStop hook, then a tools pod.
  Pod web = MakePod("web", "docker.io/library/nginx:1.28");
  auto* probe = web.mutable_spec()->mutable_containers(0)->mutable_readinessprobe();
  probe->mutable_handler()->mutable_httpget()->mutable_port()->set_intval(80);
  probe->set_periodseconds(1);
  web.mutable_spec()
      ->mutable_containers(0)
      ->mutable_lifecycle()
      ->mutable_prestop()
      ->mutable_exec()
      ->add_command("sleep");
  web.mutable_spec()
      ->mutable_containers(0)
      ->mutable_lifecycle()
      ->mutable_prestop()
      ->mutable_exec()
      ->add_command("2");
  web.mutable_spec()->set_terminationgraceperiodseconds(10);
  client::Typed<Pod, PodList> pods(*client_);
  ASSERT_TRUE(pods.Create(web).ok());
  Pod got;
  ASSERT_TRUE(WaitFor([&] { return RunningReady("web", &got); })) << Get("web")->DebugString();
  EXPECT_EQ(got.status().podip(), "10.250.0.9");
  EXPECT_EQ(got.status().hostip(), "172.31.0.2");
  ASSERT_EQ(got.status().containerstatuses_size(), 1);
  const auto& cs = got.status().containerstatuses(0);
  EXPECT_TRUE(cs.ready());
  EXPECT_TRUE(cs.started());
  EXPECT_EQ(cs.restartcount(), 0);
  EXPECT_TRUE(absl::StartsWith(cs.containerid(), "lab://")) << cs.containerid();
  EXPECT_TRUE(cs.state().has_running());
  EXPECT_TRUE(Condition(got, "ContainersReady"));
  EXPECT_TRUE(Condition(got, "PodReadyToStartContainers"));
  EXPECT_TRUE(Condition(got, "Initialized"));

  ASSERT_TRUE(pods.Create(MakePod("tools", "wbitt/network-multitool")).ok());
  ASSERT_TRUE(WaitFor([&] { return RunningReady("tools", &got); }));
  EXPECT_EQ(got.status().podip(), "10.250.0.10");
  const std::string tools_ns = PodNetnsName(ns_, "tools");
  const std::string web_ns = PodNetnsName(ns_, "web");
  EXPECT_TRUE(NetnsExists(tools_ns));

  // Pod to pod: nginx's page with the headers; a bad request line gets nginx's 400.
  std::string out;
  ASSERT_EQ(
      Sh("ip netns exec " + tools_ns + " curl -sS -m 5 -D - -o /dev/null http://10.250.0.9/", &out),
      0)
      << out;
  EXPECT_TRUE(absl::StartsWith(out, "HTTP/1.1 200 OK")) << out;
  EXPECT_TRUE(absl::StrContains(out, "X-Pod-Name: web")) << out;
  EXPECT_TRUE(absl::StrContains(out, "X-Pod-IP: 10.250.0.9")) << out;
  ASSERT_EQ(Sh("ip netns exec " + tools_ns +
                   " bash -c 'exec 3<>/dev/tcp/10.250.0.9/80; printf \"get\\r\\n\" >&3; timeout 5 "
                   "cat <&3'",
               &out),
            0)
      << out;
  EXPECT_TRUE(absl::StartsWith(out, "HTTP/1.1 400 Bad Request")) << out;

  // A Service created now resolves inside the pods.
  api::core::v1::Service svc;
  svc.mutable_metadata()->set_namespace_(ns_);
  svc.mutable_metadata()->set_name("web-svc");
  (*svc.mutable_spec()->mutable_selector())["app"] = "web";
  auto* port = svc.mutable_spec()->add_ports();
  port->set_port(80);
  port->set_name("http");
  auto created =
      client::Typed<api::core::v1::Service, api::core::v1::ServiceList>(*client_).Create(svc);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string vip = created->spec().clusterip();
  ASSERT_FALSE(vip.empty());
  EXPECT_TRUE(WaitFor([&] {
    return Sh("ip netns exec " + tools_ns + " getent hosts web-svc", &out) == 0 &&
           absl::StartsWith(out, vip);
  })) << out;
  EXPECT_EQ(
      Sh("ip netns exec " + tools_ns + " getent hosts web-svc." + ns_ + ".svc.cluster.local", &out),
      0)
      << out;
  EXPECT_TRUE(absl::StartsWith(out, vip)) << out;

  // A killed container is restarted at once (the first restart has no backoff).
  int pid = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      absl::StripPrefix(got.status().containerstatuses(0).containerid(), "lab://"), &pid));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  EXPECT_TRUE(WaitFor([&] {
    absl::StatusOr<Pod> p = Get("tools");
    return p.ok() && p->status().containerstatuses(0).restartcount() == 1 &&
           p->status().containerstatuses(0).state().has_running() && Condition(*p, "Ready");
  })) << Get("tools")->DebugString();
  got = *Get("tools");
  EXPECT_TRUE(got.status().containerstatuses(0).laststate().has_terminated());
  EXPECT_EQ(got.status().containerstatuses(0).laststate().terminated().exitcode(), 137);

  // A new kubelet on the same state dir adopts the pods: same process, same address.
  const std::string tools_cid = got.status().containerstatuses(0).containerid();
  const std::string tools_rv = got.metadata().resourceversion();
  StopKubelet();
  StartKubelet();
  ASSERT_TRUE(WaitFor([&] { return kubelet_->Ready(); }));
  absl::SleepFor(absl::Seconds(2));
  ASSERT_TRUE(WaitFor([&] { return RunningReady("tools", &got) && RunningReady("web"); }));
  EXPECT_EQ(got.status().containerstatuses(0).containerid(), tools_cid);
  EXPECT_EQ(got.status().containerstatuses(0).restartcount(), 1);
  EXPECT_EQ(got.status().podip(), "10.250.0.10");

  // Graceful deletion: terminating and still Ready while preStop runs, then gone.
  api::meta::v1::DeleteOptions opts;
  opts.set_graceperiodseconds(10);
  ASSERT_TRUE(pods.Delete(ns_, "web", &opts).ok());
  absl::StatusOr<Pod> terminating = Get("web");
  ASSERT_TRUE(terminating.ok());
  EXPECT_TRUE(terminating->metadata().has_deletiontimestamp());
  absl::SleepFor(absl::Milliseconds(800));
  terminating = Get("web");
  ASSERT_TRUE(terminating.ok()) << "deleted before the preStop hook ended";
  EXPECT_TRUE(Condition(*terminating, "Ready")) << "a terminating pod stays Ready during preStop";
  ASSERT_TRUE(WaitFor([&] { return absl::IsNotFound(Get("web").status()); }, absl::Seconds(20)));
  EXPECT_FALSE(NetnsExists(web_ns));
  EXPECT_FALSE(fs::exists("/etc/netns/" + web_ns));

  // Cleanup removes the rest.
  StopKubelet();
  ASSERT_TRUE(Cleanup(options_.node_name, state_dir_).ok());
  EXPECT_FALSE(NetnsExists(tools_ns));
  EXPECT_FALSE(fs::exists("/etc/netns/" + tools_ns));
  EXPECT_NE(kill(pid, 0), 0);
  Sh("ip netns list", &out);
  EXPECT_FALSE(absl::StrContains(out, "lab-pod-" + ns_)) << out;
  Sh("ip -o link show type veth", &out);
  EXPECT_FALSE(absl::StrContains(out, "veth")) << out;
}

}  // namespace
}  // namespace kslice::lab::kubelet
