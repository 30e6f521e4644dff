// Cells per kind. Every expected value is worked out by hand from upstream's printer
// (k8s.io/kubernetes pkg/printers/internalversion/printers.go) for the object built,
// not taken from our output.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/substitute.h"
#include "api/coordination/v1/coordination.pb.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "envtest/printers/table.h"
#include "envtest/printers/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kslice::envtest::printers {
namespace {

namespace core = kslice::api::core::v1;
namespace discovery = kslice::api::discovery::v1;
namespace coordination = kslice::api::coordination::v1;
using test_util::Ago;
using test_util::AgoMicro;
using test_util::CellsOf;
using test_util::FromJson;
using test_util::TableOf;
using ::testing::ElementsAre;

// ---- Pod ----

core::Pod PodJson(const std::string& spec, const std::string& status,
                  const std::string& extra_meta = "") {
  return FromJson<core::Pod>(absl::Substitute(
      R"({"metadata": {"name": "web", "namespace": "default",
                       "creationTimestamp": "$0" $1},
          "spec": $2, "status": $3})",
      Ago(absl::Hours(3) + absl::Minutes(5)), extra_meta, spec, status));
}

constexpr char kTwoContainers[] = R"({"containers": [{"name": "a"}, {"name": "b"}]})";
constexpr char kOneContainer[] = R"({"containers": [{"name": "a"}]})";

TEST(PodPrinter, OneOfTwoReadyWhileTheOtherIsCreated) {
  core::Pod pod = PodJson(kTwoContainers, R"({"phase": "Pending", "containerStatuses": [
      {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
      {"name": "b", "ready": false, "restartCount": 0,
       "state": {"waiting": {"reason": "ContainerCreating"}}}]})");
  // Statuses are walked last to first: b's waiting reason wins, a counts as ready.
  EXPECT_THAT(CellsOf(pod), ElementsAre("web", "1/2", "ContainerCreating", "0", "3h5m", "<none>",
                                        "<none>", "<none>", "<none>"));
}

TEST(PodPrinter, RunningWithRestartsShowsLastRestartAge) {
  core::Pod pod = PodJson(kOneContainer, absl::Substitute(R"({"phase": "Running",
      "podIPs": [{"ip": "10.1.0.7"}, {"ip": "fd00::7"}],
      "containerStatuses": [{"name": "a", "ready": true, "restartCount": 3,
        "state": {"running": {}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": "$0"}}}]})",
                                                          Ago(absl::Minutes(5))));
  EXPECT_THAT(CellsOf(pod), ElementsAre("web", "1/1", "Running", "3 (5m ago)", "3h5m", "10.1.0.7",
                                        "<none>", "<none>", "<none>"));
}

TEST(PodPrinter, RestartsWithoutTerminationTimeHaveNoAge) {
  core::Pod pod = PodJson(kOneContainer, R"({"phase": "Running", "containerStatuses": [
      {"name": "a", "ready": true, "restartCount": 2, "state": {"running": {}}}]})");
  EXPECT_EQ(CellsOf(pod)[3], "2");
}

TEST(PodPrinter, CrashLoopBackOff) {
  core::Pod pod = PodJson(kOneContainer, absl::Substitute(R"({"phase": "Running",
      "containerStatuses": [{"name": "a", "ready": false, "restartCount": 5,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 2, "reason": "Error", "finishedAt": "$0"}}}]})",
                                                          Ago(absl::Seconds(30))));
  EXPECT_THAT(CellsOf(pod), ElementsAre("web", "0/1", "CrashLoopBackOff", "5 (30s ago)", "3h5m",
                                        "<none>", "<none>", "<none>", "<none>"));
}

TEST(PodPrinter, LatestTerminationOfAnyContainerCounts) {
  core::Pod pod =
      PodJson(kTwoContainers, absl::Substitute(R"({"phase": "Running",
      "containerStatuses": [
        {"name": "a", "ready": true, "restartCount": 1, "state": {"running": {}},
         "lastState": {"terminated": {"exitCode": 1, "finishedAt": "$0"}}},
        {"name": "b", "ready": true, "restartCount": 2, "state": {"running": {}},
         "lastState": {"terminated": {"exitCode": 1, "finishedAt": "$1"}}}]})",
                                               Ago(absl::Minutes(2)), Ago(absl::Hours(1))));
  EXPECT_EQ(CellsOf(pod)[3], "3 (2m ago)");
  EXPECT_EQ(CellsOf(pod)[1], "2/2");
}

TEST(PodPrinter, TerminatedWithoutReason) {
  core::Pod exit = PodJson(kOneContainer, R"({"phase": "Running", "containerStatuses": [
      {"name": "a", "ready": false, "restartCount": 0,
       "state": {"terminated": {"exitCode": 137}}}]})");
  EXPECT_EQ(CellsOf(exit)[2], "ExitCode:137");
  core::Pod signal = PodJson(kOneContainer, R"({"phase": "Running", "containerStatuses": [
      {"name": "a", "ready": false, "restartCount": 0,
       "state": {"terminated": {"exitCode": 0, "signal": 9}}}]})");
  EXPECT_EQ(CellsOf(signal)[2], "Signal:9");
}

TEST(PodPrinter, SucceededIsCompletedWithRowCondition) {
  core::Pod pod = PodJson(kOneContainer, R"({"phase": "Succeeded", "containerStatuses": [
      {"name": "a", "ready": false, "restartCount": 0,
       "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]})");
  codec::Node table = TableOf(pod);
  EXPECT_THAT(test_util::RowCells(table), ElementsAre("web", "0/1", "Completed", "0", "3h5m",
                                                      "<none>", "<none>", "<none>", "<none>"));
  const codec::Node* conditions = table.Find("rows")->values[0].Find("conditions");
  ASSERT_NE(conditions, nullptr);
  ASSERT_EQ(conditions->values.size(), 1u);
  EXPECT_EQ(conditions->values[0].Find("type")->text, "Completed");
  EXPECT_EQ(conditions->values[0].Find("status")->text, "True");
  EXPECT_EQ(conditions->values[0].Find("reason")->text, "Succeeded");
}

TEST(PodPrinter, FailedPodKeepsStatusReason) {
  core::Pod pod = PodJson(kOneContainer, R"({"phase": "Failed", "reason": "Evicted"})");
  codec::Node table = TableOf(pod);
  EXPECT_EQ(test_util::RowCells(table)[2], "Evicted");
  EXPECT_EQ(table.Find("rows")->values[0].Find("conditions")->values[0].Find("reason")->text,
            "Failed");
}

TEST(PodPrinter, RunningPodWithoutConditionsHasNone) {
  core::Pod pod = PodJson(kOneContainer, R"({"phase": "Running"})");
  EXPECT_EQ(TableOf(pod).Find("rows")->values[0].Find("conditions"), nullptr);
}

TEST(PodPrinter, CompletedContainerBesideARunningOne) {
  const std::string statuses = R"("containerStatuses": [
      {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
      {"name": "b", "ready": false, "restartCount": 0,
       "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}])";
  core::Pod ready = PodJson(kTwoContainers, absl::StrCat(R"({"phase": "Running",
      "conditions": [{"type": "Ready", "status": "True"}], )",
                                                         statuses, "}"));
  EXPECT_EQ(CellsOf(ready)[2], "Running");
  core::Pod not_ready = PodJson(kTwoContainers, absl::StrCat(R"({"phase": "Running",
      "conditions": [{"type": "Ready", "status": "False"}], )",
                                                             statuses, "}"));
  EXPECT_EQ(CellsOf(not_ready)[2], "NotReady");
}

TEST(PodPrinter, TerminatingAndUnknown) {
  const std::string deleted =
      absl::Substitute(R"(, "deletionTimestamp": "$0")", Ago(absl::Seconds(10)));
  core::Pod running = PodJson(kOneContainer, R"({"phase": "Running", "containerStatuses": [
      {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}}]})",
                              deleted);
  EXPECT_THAT(CellsOf(running), ElementsAre("web", "1/1", "Terminating", "0", "3h5m", "<none>",
                                            "<none>", "<none>", "<none>"));
  core::Pod lost = PodJson(kOneContainer, R"({"phase": "Running", "reason": "NodeLost"})", deleted);
  EXPECT_EQ(CellsOf(lost)[2], "Unknown");
  // A terminal pod being deleted keeps its status.
  core::Pod succeeded = PodJson(kOneContainer, R"({"phase": "Succeeded"})", deleted);
  EXPECT_EQ(CellsOf(succeeded)[2], "Succeeded");
}

TEST(PodPrinter, SchedulingGated) {
  core::Pod pod = PodJson(kOneContainer, R"({"phase": "Pending", "conditions": [
      {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]})");
  EXPECT_EQ(CellsOf(pod)[2], "SchedulingGated");
}

TEST(PodPrinter, InitContainers) {
  const std::string spec = R"({"initContainers": [{"name": "i1"}, {"name": "i2"}],
                               "containers": [{"name": "a"}]})";
  core::Pod second_running = PodJson(spec, R"({"phase": "Pending", "initContainerStatuses": [
      {"name": "i1", "ready": true, "restartCount": 0,
       "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
      {"name": "i2", "ready": false, "restartCount": 0, "state": {"running": {}}}],
      "containerStatuses": [{"name": "a", "ready": false, "restartCount": 0,
       "state": {"waiting": {"reason": "PodInitializing"}}}]})");
  // The main container is not looked at while initializing.
  EXPECT_THAT(CellsOf(second_running), ElementsAre("web", "0/1", "Init:1/2", "0", "3h5m", "<none>",
                                                   "<none>", "<none>", "<none>"));

  core::Pod waiting = PodJson(spec, R"({"phase": "Pending", "initContainerStatuses": [
      {"name": "i1", "ready": false, "restartCount": 4,
       "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]})");
  EXPECT_EQ(CellsOf(waiting)[2], "Init:CrashLoopBackOff");
  EXPECT_EQ(CellsOf(waiting)[3], "4");

  core::Pod pod_initializing = PodJson(spec, R"({"phase": "Pending", "initContainerStatuses": [
      {"name": "i1", "ready": false, "restartCount": 0,
       "state": {"waiting": {"reason": "PodInitializing"}}}]})");
  EXPECT_EQ(CellsOf(pod_initializing)[2], "Init:0/2");

  core::Pod error = PodJson(spec, R"({"phase": "Pending", "initContainerStatuses": [
      {"name": "i1", "ready": false, "restartCount": 0,
       "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]})");
  EXPECT_EQ(CellsOf(error)[2], "Init:Error");

  core::Pod exit_code = PodJson(spec, R"({"phase": "Pending", "initContainerStatuses": [
      {"name": "i1", "ready": false, "restartCount": 0,
       "state": {"terminated": {"exitCode": 3}}}]})");
  EXPECT_EQ(CellsOf(exit_code)[2], "Init:ExitCode:3");

  core::Pod signal = PodJson(spec, R"({"phase": "Pending", "initContainerStatuses": [
      {"name": "i1", "ready": false, "restartCount": 0,
       "state": {"terminated": {"exitCode": 3, "signal": 15}}}]})");
  EXPECT_EQ(CellsOf(signal)[2], "Init:Signal:15");
}

TEST(PodPrinter, InitializedConditionShowsMainContainers) {
  // An init container failing again after the pod was initialized (a restart of the
  // pod sandbox) does not hide the main containers' state.
  core::Pod pod =
      PodJson(R"({"initContainers": [{"name": "i1"}], "containers": [{"name": "a"}]})",
              R"({"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}],
          "initContainerStatuses": [{"name": "i1", "ready": false, "restartCount": 1,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
          "containerStatuses": [{"name": "a", "ready": true, "restartCount": 0,
            "state": {"running": {}}}]})");
  // Restarts start over from the restartable init containers' count (none here).
  EXPECT_THAT(CellsOf(pod), ElementsAre("web", "1/1", "Init:CrashLoopBackOff", "0", "3h5m",
                                        "<none>", "<none>", "<none>", "<none>"));
}

TEST(PodPrinter, SidecarContainersCount) {
  core::Pod pod = PodJson(
      R"({"initContainers": [{"name": "side", "restartPolicy": "Always"}],
          "containers": [{"name": "a"}]})",
      absl::Substitute(R"({"phase": "Running",
          "conditions": [{"type": "Initialized", "status": "True"}],
          "initContainerStatuses": [{"name": "side", "ready": true, "started": true,
            "restartCount": 2, "state": {"running": {}},
            "lastState": {"terminated": {"exitCode": 1, "finishedAt": "$0"}}}],
          "containerStatuses": [{"name": "a", "ready": true, "restartCount": 1,
            "state": {"running": {}},
            "lastState": {"terminated": {"exitCode": 1, "finishedAt": "$1"}}}]})",
                       Ago(absl::Minutes(20)), Ago(absl::Minutes(50))));
  // The sidecar adds to the total and to ready; its restarts and its newer restart
  // time count.
  EXPECT_THAT(CellsOf(pod), ElementsAre("web", "2/2", "Running", "3 (20m ago)", "3h5m", "<none>",
                                        "<none>", "<none>", "<none>"));
}

TEST(PodPrinter, WideColumns) {
  core::Pod pod = PodJson(
      R"({"containers": [{"name": "a"}], "nodeName": "node-1",
          "readinessGates": [{"conditionType": "example.com/lb"},
                             {"conditionType": "example.com/dns"}]})",
      R"({"phase": "Running", "nominatedNodeName": "node-2", "podIP": "10.0.0.9",
          "podIPs": [{"ip": "10.0.0.9"}],
          "conditions": [{"type": "example.com/lb", "status": "True"},
                         {"type": "example.com/dns", "status": "False"}]})");
  EXPECT_THAT(CellsOf(pod), ElementsAre("web", "0/1", "Running", "0", "3h5m", "10.0.0.9", "node-1",
                                        "node-2", "1/2"));
}

TEST(PodPrinter, UnknownAge) {
  core::Pod pod = FromJson<core::Pod>(R"({"metadata": {"name": "p"},
      "spec": {"containers": [{"name": "a"}]}})");
  EXPECT_THAT(CellsOf(pod), ElementsAre("p", "0/1", "", "0", "<unknown>", "<none>", "<none>",
                                        "<none>", "<none>"));
}

// ---- Service ----

core::Service ServiceJson(const std::string& spec, const std::string& status = "{}") {
  return FromJson<core::Service>(absl::Substitute(
      R"({"metadata": {"name": "svc", "creationTimestamp": "$0"}, "spec": $1, "status": $2})",
      Ago(absl::Hours(72)), spec, status));
}

TEST(ServicePrinter, ClusterIP) {
  core::Service svc = ServiceJson(R"({"type": "ClusterIP", "clusterIP": "10.96.0.10",
      "clusterIPs": ["10.96.0.10"], "selector": {"tier": "fe", "app": "web"},
      "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]})");
  EXPECT_THAT(CellsOf(svc), ElementsAre("svc", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP",
                                        "3d", "app=web,tier=fe"));
}

TEST(ServicePrinter, NodePortAndExternalIPs) {
  core::Service svc = ServiceJson(R"({"type": "NodePort", "clusterIPs": ["10.0.0.3"],
      "externalIPs": ["192.0.2.1", "192.0.2.2"],
      "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"},
                {"port": 443, "nodePort": 30443, "protocol": "TCP"}]})");
  EXPECT_THAT(CellsOf(svc), ElementsAre("svc", "NodePort", "10.0.0.3", "192.0.2.1,192.0.2.2",
                                        "80:30080/TCP,443:30443/TCP", "3d", "<none>"));
}

TEST(ServicePrinter, LoadBalancer) {
  const std::string spec = R"({"type": "LoadBalancer", "clusterIPs": ["10.0.0.4"],
      "ports": [{"port": 80, "nodePort": 31000, "protocol": "TCP"}]})";
  EXPECT_EQ(CellsOf(ServiceJson(spec))[3], "<pending>");
  const std::string status = R"({"loadBalancer": {"ingress": [
      {"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}, {"ip": "203.0.113.10"},
      {"ip": "203.0.113.9"}]}})";
  // Sorted and de-duplicated, never clipped (the server prints wide).
  EXPECT_EQ(CellsOf(ServiceJson(spec, status))[3], "203.0.113.10,203.0.113.9,lb.example.com");
  const std::string spec_with_external = R"({"type": "LoadBalancer", "externalIPs": ["192.0.2.7"],
      "ports": [{"port": 80, "protocol": "TCP"}]})";
  EXPECT_EQ(CellsOf(ServiceJson(spec_with_external, status))[3],
            "203.0.113.10,203.0.113.9,lb.example.com,192.0.2.7");
  EXPECT_EQ(CellsOf(ServiceJson(spec_with_external))[3], "192.0.2.7");
}

TEST(ServicePrinter, ExternalNameHeadlessAndUnknownType) {
  EXPECT_THAT(
      CellsOf(ServiceJson(R"({"type": "ExternalName", "externalName": "db.example.com"})")),
      ElementsAre("svc", "ExternalName", "<none>", "db.example.com", "<none>", "3d", "<none>"));
  EXPECT_EQ(CellsOf(ServiceJson(R"({"type": "ClusterIP", "clusterIPs": ["None"]})"))[2], "None");
  EXPECT_EQ(CellsOf(ServiceJson(R"({"clusterIPs": ["10.0.0.1"]})"))[3], "<unknown>");
}

// ---- Endpoints ----

core::Endpoints EndpointsJson(const std::string& subsets) {
  return FromJson<core::Endpoints>(
      absl::Substitute(R"({"metadata": {"name": "ep", "creationTimestamp": "$0"}, "subsets": $1})",
                       Ago(absl::Minutes(7)), subsets));
}

TEST(EndpointsPrinter, Formats) {
  EXPECT_THAT(CellsOf(EndpointsJson("[]")), ElementsAre("ep", "<none>", "7m"));
  EXPECT_EQ(CellsOf(EndpointsJson(R"([{"addresses": [{"ip": "10.1.0.1"}, {"ip": "10.1.0.2"}],
      "ports": [{"port": 8080}]}])"))[1],
            "10.1.0.1:8080,10.1.0.2:8080");
  // Two addresses times two ports: three shown, the count covers all four.
  EXPECT_EQ(CellsOf(EndpointsJson(R"([{"addresses": [{"ip": "10.1.0.1"}, {"ip": "10.1.0.2"}],
      "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]}])"))[1],
            "10.1.0.1:80,10.1.0.2:80,10.1.0.1:443 + 1 more...");
  EXPECT_EQ(CellsOf(EndpointsJson(R"([{"addresses": [{"ip": "fd00::1"}],
      "ports": [{"port": 80}]}])"))[1],
            "[fd00::1]:80");
  // Headless without ports: bare IPs.
  EXPECT_EQ(CellsOf(EndpointsJson(R"([{"addresses": [{"ip": "10.1.0.1"}, {"ip": "10.1.0.2"},
      {"ip": "10.1.0.3"}, {"ip": "10.1.0.4"}, {"ip": "10.1.0.5"}]}])"))[1],
            "10.1.0.1,10.1.0.2,10.1.0.3 + 2 more...");
  // Only not-ready addresses: nothing listed.
  EXPECT_EQ(CellsOf(EndpointsJson(R"([{"notReadyAddresses": [{"ip": "10.1.0.1"}],
      "ports": [{"port": 80}]}])"))[1],
            "");
}

// ---- EndpointSlice ----

discovery::EndpointSlice SliceJson(const std::string& ports, const std::string& endpoints) {
  return FromJson<discovery::EndpointSlice>(absl::Substitute(
      R"({"metadata": {"name": "web-abc", "creationTimestamp": "$0"}, "addressType": "IPv4",
          "ports": $1, "endpoints": $2})",
      Ago(absl::Seconds(45)), ports, endpoints));
}

TEST(EndpointSlicePrinter, Formats) {
  EXPECT_THAT(CellsOf(SliceJson("[]", "[]")),
              ElementsAre("web-abc", "IPv4", "<unset>", "<unset>", "45s"));
  EXPECT_THAT(CellsOf(SliceJson(R"([{"port": 80, "name": "http"}, {"name": "metrics"}, {}])",
                                R"([{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}])")),
              ElementsAre("web-abc", "IPv4", "80,metrics,*", "10.0.0.1,10.0.0.2", "45s"));
  EXPECT_THAT(CellsOf(SliceJson(R"([{"port": 1}, {"port": 2}, {"port": 3}, {"port": 4},
                                   {"port": 5}])",
                                R"([{"addresses": ["10.0.0.1", "10.0.0.2"]},
                                    {"addresses": ["10.0.0.3", "10.0.0.4"]}])")),
              ElementsAre("web-abc", "IPv4", "1,2,3 + 2 more...",
                          "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...", "45s"));
}

// ---- Node ----

core::Node NodeJson(const std::string& labels, const std::string& spec, const std::string& status) {
  return FromJson<core::Node>(absl::Substitute(
      R"({"metadata": {"name": "node-1", "labels": $0, "creationTimestamp": "$1"},
          "spec": $2, "status": $3})",
      labels, Ago(absl::Hours(240)), spec, status));
}

TEST(NodePrinter, ReadyWithRolesAndWideColumns) {
  core::Node node = NodeJson(
      R"({"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/control-plane": "",
          "kubernetes.io/role": "master", "kubernetes.io/hostname": "node-1"})",
      R"({"unschedulable": true})",
      R"({"conditions": [{"type": "MemoryPressure", "status": "False"},
                         {"type": "Ready", "status": "True"}],
          "addresses": [{"type": "Hostname", "address": "node-1"},
                        {"type": "InternalIP", "address": "10.0.0.5"},
                        {"type": "InternalIP", "address": "10.0.0.6"}],
          "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian GNU/Linux 12",
                       "kernelVersion": "6.1.0", "containerRuntimeVersion": "containerd://1.7"}})");
  EXPECT_THAT(CellsOf(node),
              ElementsAre("node-1", "Ready,SchedulingDisabled", "control-plane,master,worker",
                          "10d", "v1.32.0", "10.0.0.5", "<none>", "Debian GNU/Linux 12", "6.1.0",
                          "containerd://1.7"));
}

TEST(NodePrinter, StatusVariants) {
  EXPECT_THAT(CellsOf(NodeJson("{}", "{}", "{}")),
              ElementsAre("node-1", "Unknown", "<none>", "10d", "", "<none>", "<none>", "<unknown>",
                          "<unknown>", "<unknown>"));
  EXPECT_EQ(CellsOf(NodeJson("{}", "{}",
                             R"({"conditions": [{"type": "Ready", "status": "Unknown"}]})"))[1],
            "NotReady");
  EXPECT_EQ(CellsOf(NodeJson("{}", R"({"unschedulable": true})", "{}"))[1],
            "Unknown,SchedulingDisabled");
  // An empty role suffix and an empty kubernetes.io/role are not roles.
  EXPECT_EQ(CellsOf(NodeJson(R"({"node-role.kubernetes.io/": "x", "kubernetes.io/role": ""})", "{}",
                             "{}"))[2],
            "<none>");
  EXPECT_EQ(CellsOf(NodeJson("{}", "{}", R"({"addresses": [
      {"type": "ExternalIP", "address": "198.51.100.4"}]})"))[6],
            "198.51.100.4");
}

// ---- Event ----

TEST(EventPrinter, CoreEvent) {
  core::Event ev = FromJson<core::Event>(absl::Substitute(
      R"({"metadata": {"name": "web.17a", "namespace": "default"},
          "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{app}"},
          "reason": "BackOff", "message": "  Back-off restarting failed container\n",
          "source": {"component": "kubelet", "host": "node-1"},
          "firstTimestamp": "$0", "lastTimestamp": "$1", "count": 5, "type": "Warning"})",
      Ago(absl::Minutes(10)), Ago(absl::Minutes(2))));
  EXPECT_THAT(CellsOf(ev),
              ElementsAre("2m", "Warning", "BackOff", "pod/web-1", "spec.containers{app}",
                          "kubelet, node-1", "Back-off restarting failed container", "10m", "int:5",
                          "web.17a"));
}

TEST(EventPrinter, NewApiSingletonAndSeries) {
  core::Event single = FromJson<core::Event>(absl::Substitute(
      R"({"metadata": {"name": "e1"}, "involvedObject": {"kind": "Node"},
          "reason": "Starting", "type": "Normal", "eventTime": "$0",
          "reportingComponent": "kube-proxy", "reportingInstance": ""})",
      AgoMicro(absl::Seconds(30))));
  EXPECT_THAT(CellsOf(single), ElementsAre("30s", "Normal", "Starting", "node", "", "kube-proxy",
                                           "", "30s", "int:1", "e1"));

  core::Event series = FromJson<core::Event>(absl::Substitute(
      R"({"metadata": {"name": "e2"}, "involvedObject": {"kind": "Pod", "name": "p"},
          "reason": "Pulling", "type": "Normal", "eventTime": "$0",
          "series": {"count": 7, "lastObservedTime": "$1"},
          "reportingComponent": "kubelet", "reportingInstance": "node-3"})",
      AgoMicro(absl::Minutes(15)), AgoMicro(absl::Seconds(45))));
  EXPECT_THAT(CellsOf(series), ElementsAre("45s", "Normal", "Pulling", "pod/p", "",
                                           "kubelet, node-3", "", "15m", "int:7", "e2"));

  core::Event no_times = FromJson<core::Event>(
      R"({"metadata": {"name": "e3"}, "involvedObject": {"kind": "Pod", "name": "p"}})");
  EXPECT_EQ(CellsOf(no_times)[0], "<unknown>");
  EXPECT_EQ(CellsOf(no_times)[7], "<unknown>");
}

// ---- simple kinds ----

TEST(SimplePrinters, NamespaceConfigMapSecretServiceAccountLease) {
  const std::string meta = absl::Substitute(
      R"("metadata": {"name": "x", "creationTimestamp": "$0"})", Ago(absl::Hours(30)));
  EXPECT_THAT(
      CellsOf(FromJson<core::Namespace>("{" + meta + R"(, "status": {"phase": "Active"}})")),
      ElementsAre("x", "Active", "30h"));
  EXPECT_THAT(CellsOf(FromJson<core::ConfigMap>(
                  "{" + meta + R"(, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}})")),
              ElementsAre("x", "int:3", "30h"));
  EXPECT_THAT(CellsOf(FromJson<core::ConfigMap>("{" + meta + "}")),
              ElementsAre("x", "int:0", "30h"));
  EXPECT_THAT(CellsOf(FromJson<core::Secret>(
                  "{" + meta + R"(, "type": "Opaque", "data": {"u": "YQ==", "p": "Yg=="}})")),
              ElementsAre("x", "Opaque", "int:2", "30h"));
  EXPECT_THAT(
      CellsOf(FromJson<core::ServiceAccount>("{" + meta + R"(, "secrets": [{"name": "t"}]})")),
      ElementsAre("x", "int:1", "30h"));
  EXPECT_THAT(CellsOf(FromJson<coordination::Lease>("{" + meta +
                                                    R"(, "spec": {"holderIdentity": "node-1"}})")),
              ElementsAre("x", "node-1", "30h"));
  EXPECT_THAT(CellsOf(FromJson<coordination::Lease>("{" + meta + "}")),
              ElementsAre("x", "", "30h"));
}

TEST(SimplePrinters, PodTemplateAndReplicationController) {
  const std::string meta = absl::Substitute(
      R"("metadata": {"name": "x", "creationTimestamp": "$0"})", Ago(absl::Minutes(90)));
  const std::string tmpl = R"({"metadata": {"labels": {"app": "web"}},
      "spec": {"containers": [{"name": "a", "image": "nginx:1"}, {"name": "b", "image": "busybox"}]}})";
  EXPECT_THAT(CellsOf(FromJson<core::PodTemplate>("{" + meta + R"(, "template": )" + tmpl + "}")),
              ElementsAre("x", "a,b", "nginx:1,busybox", "app=web"));
  EXPECT_THAT(
      CellsOf(FromJson<core::ReplicationController>(
          "{" + meta + R"(, "spec": {"replicas": 3, "selector": {"app": "web"}, "template": )" +
          tmpl + R"(}, "status": {"replicas": 2, "readyReplicas": 1}})")),
      ElementsAre("x", "int:3", "int:2", "int:1", "90m", "a,b", "nginx:1,busybox", "app=web"));
}

TEST(SimplePrinters, ComponentStatus) {
  EXPECT_THAT(CellsOf(FromJson<core::ComponentStatus>(R"({"metadata": {"name": "etcd-0"},
      "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}]})")),
              ElementsAre("etcd-0", "Healthy", "ok", ""));
  EXPECT_THAT(CellsOf(FromJson<core::ComponentStatus>(R"({"metadata": {"name": "s"}})")),
              ElementsAre("s", "Unknown", "", ""));
}

TEST(StoragePrinters, PersistentVolume) {
  core::PersistentVolume pv = FromJson<core::PersistentVolume>(absl::Substitute(
      R"({"metadata": {"name": "pv1", "creationTimestamp": "$0"},
          "spec": {"capacity": {"storage": "1024Mi"},
                   "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"],
                   "claimRef": {"namespace": "default", "name": "data"},
                   "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "fast",
                   "volumeMode": "Filesystem"},
          "status": {"phase": "Bound"}})",
      Ago(absl::Minutes(3))));
  // 1024Mi prints as its canonical 1Gi; modes in the fixed order RWO,ROX,RWX,RWOP.
  EXPECT_THAT(CellsOf(pv), ElementsAre("pv1", "1Gi", "RWO,RWX", "Retain", "Bound", "default/data",
                                       "fast", "<unset>", "", "3m", "Filesystem"));
  core::PersistentVolume released = FromJson<core::PersistentVolume>(absl::Substitute(
      R"({"metadata": {"name": "pv2", "creationTimestamp": "$0", "deletionTimestamp": "$0",
                       "annotations": {"volume.beta.kubernetes.io/storage-class": "old"}},
          "spec": {"storageClassName": "fast", "volumeAttributesClassName": "gold"},
          "status": {"phase": "Released", "reason": "Gone"}})",
      Ago(absl::Minutes(3))));
  EXPECT_THAT(CellsOf(released), ElementsAre("pv2", "0", "", "", "Terminating", "", "old", "gold",
                                             "Gone", "3m", "<unset>"));
}

TEST(StoragePrinters, PersistentVolumeClaim) {
  core::PersistentVolumeClaim bound = FromJson<core::PersistentVolumeClaim>(absl::Substitute(
      R"({"metadata": {"name": "data", "creationTimestamp": "$0"},
          "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pv1",
                   "storageClassName": "fast", "resources": {"requests": {"storage": "5Gi"}}},
          "status": {"phase": "Bound", "accessModes": ["ReadWriteOncePod", "ReadOnlyMany"],
                     "capacity": {"storage": "10Gi"}}})",
      Ago(absl::Minutes(3))));
  EXPECT_THAT(CellsOf(bound), ElementsAre("data", "Bound", "pv1", "10Gi", "ROX,RWOP", "fast",
                                          "<unset>", "3m", "<unset>"));
  core::PersistentVolumeClaim pending = FromJson<core::PersistentVolumeClaim>(absl::Substitute(
      R"({"metadata": {"name": "data", "creationTimestamp": "$0"},
          "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Block",
                   "resources": {"requests": {"storage": "5Gi"}}},
          "status": {"phase": "Pending"}})",
      Ago(absl::Minutes(3))));
  // Unbound: no capacity, no access modes, no class.
  EXPECT_THAT(CellsOf(pending),
              ElementsAre("data", "Pending", "", "", "", "", "<unset>", "3m", "Block"));
}

TEST(StoragePrinters, ResourceQuota) {
  core::ResourceQuota rq = FromJson<core::ResourceQuota>(absl::Substitute(
      R"({"metadata": {"name": "q", "creationTimestamp": "$0"},
          "status": {"hard": {"pods": "10", "requests.cpu": "2", "limits.memory": "2Gi",
                              "limits.cpu": "4000m"},
                     "used": {"pods": "3", "requests.cpu": "500m", "limits.cpu": "1"}}})",
      Ago(absl::Minutes(3))));
  EXPECT_THAT(CellsOf(rq), ElementsAre("q", "pods: 3/10, requests.cpu: 500m/2",
                                       "limits.cpu: 1/4, limits.memory: 0/2Gi", "3m"));
}

TEST(GenericPrinter, NameAndCreatedAt) {
  core::LimitRange lr = FromJson<core::LimitRange>(
      R"({"metadata": {"name": "limits", "creationTimestamp": "2026-01-02T03:04:05Z"}})");
  EXPECT_FALSE(HasPrinter(core::LimitRange::descriptor()));
  EXPECT_THAT(CellsOf(lr), ElementsAre("limits", "2026-01-02T03:04:05Z"));
  core::LimitRange no_time = FromJson<core::LimitRange>(R"({"metadata": {"name": "l"}})");
  EXPECT_THAT(CellsOf(no_time), ElementsAre("l", "0001-01-01T00:00:00Z"));
}

// ---- column definitions ----

std::vector<std::string> Names(const std::vector<Column>& columns, int priority) {
  std::vector<std::string> out;
  for (const Column& c : columns) {
    if (c.priority == priority) out.push_back(c.name);
  }
  return out;
}

TEST(Columns, MatchUpstream) {
  EXPECT_THAT(Names(ColumnsFor(core::Pod::descriptor()), 0),
              ElementsAre("Name", "Ready", "Status", "Restarts", "Age"));
  EXPECT_THAT(Names(ColumnsFor(core::Pod::descriptor()), 1),
              ElementsAre("IP", "Node", "Nominated Node", "Readiness Gates"));
  EXPECT_THAT(Names(ColumnsFor(core::Service::descriptor()), 0),
              ElementsAre("Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"));
  EXPECT_THAT(Names(ColumnsFor(core::Service::descriptor()), 1), ElementsAre("Selector"));
  EXPECT_THAT(Names(ColumnsFor(core::Node::descriptor()), 0),
              ElementsAre("Name", "Status", "Roles", "Age", "Version"));
  EXPECT_THAT(
      Names(ColumnsFor(core::Node::descriptor()), 1),
      ElementsAre("Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"));
  EXPECT_THAT(Names(ColumnsFor(core::Event::descriptor()), 0),
              ElementsAre("Last Seen", "Type", "Reason", "Object", "Message"));
  EXPECT_THAT(Names(ColumnsFor(core::Event::descriptor()), 1),
              ElementsAre("Subobject", "Source", "First Seen", "Count", "Name"));
  EXPECT_THAT(Names(ColumnsFor(discovery::EndpointSlice::descriptor()), 0),
              ElementsAre("Name", "AddressType", "Ports", "Endpoints", "Age"));
  EXPECT_THAT(Names(ColumnsFor(core::Endpoints::descriptor()), 0),
              ElementsAre("Name", "Endpoints", "Age"));
  EXPECT_THAT(Names(ColumnsFor(core::Namespace::descriptor()), 0),
              ElementsAre("Name", "Status", "Age"));
  EXPECT_THAT(Names(ColumnsFor(core::ConfigMap::descriptor()), 0),
              ElementsAre("Name", "Data", "Age"));
  EXPECT_THAT(Names(ColumnsFor(coordination::Lease::descriptor()), 0),
              ElementsAre("Name", "Holder", "Age"));
  EXPECT_THAT(Names(ColumnsFor(core::LimitRange::descriptor()), 0),
              ElementsAre("Name", "Created At"));
  EXPECT_EQ(ColumnsFor(core::LimitRange::descriptor())[1].type, "date");
  EXPECT_EQ(ColumnsFor(core::Pod::descriptor())[0].format, "name");
  EXPECT_EQ(ColumnsFor(core::ReplicationController::descriptor())[1].type, "integer");
}

// Every printer fills exactly one cell per column.
TEST(Columns, CellCountMatchesColumns) {
  std::vector<std::unique_ptr<google::protobuf::Message>> objects;
  objects.push_back(std::make_unique<core::Pod>());
  objects.push_back(std::make_unique<core::PodTemplate>());
  objects.push_back(std::make_unique<core::ReplicationController>());
  objects.push_back(std::make_unique<core::Service>());
  objects.push_back(std::make_unique<core::Endpoints>());
  objects.push_back(std::make_unique<discovery::EndpointSlice>());
  objects.push_back(std::make_unique<core::Node>());
  objects.push_back(std::make_unique<core::Event>());
  objects.push_back(std::make_unique<core::Namespace>());
  objects.push_back(std::make_unique<core::ConfigMap>());
  objects.push_back(std::make_unique<core::Secret>());
  objects.push_back(std::make_unique<core::ServiceAccount>());
  objects.push_back(std::make_unique<core::ComponentStatus>());
  objects.push_back(std::make_unique<coordination::Lease>());
  objects.push_back(std::make_unique<core::PersistentVolume>());
  objects.push_back(std::make_unique<core::PersistentVolumeClaim>());
  objects.push_back(std::make_unique<core::ResourceQuota>());
  objects.push_back(std::make_unique<core::LimitRange>());
  for (const auto& o : objects) {
    EXPECT_EQ(CellsOf(*o).size(), ColumnsFor(o->GetDescriptor()).size())
        << o->GetDescriptor()->full_name();
  }
}

}  // namespace
}  // namespace kslice::envtest::printers
