#include "envtest/defaults/defaults.h"

#include <string>

#include "api/apps/v1/apps.pb.h"
#include "api/codec/codec.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace kslice::envtest::defaults {
namespace {

namespace core = kslice::api::core::v1;
namespace discovery = kslice::api::discovery::v1;
namespace apps = kslice::api::apps::v1;
using google::protobuf::util::MessageDifferencer;

template <typename T>
T FromYaml(const std::string& yaml) {
  absl::StatusOr<T> obj = kslice::codec::DecodeAs<T>(yaml, kslice::codec::Format::kYaml);
  EXPECT_TRUE(obj.ok()) << obj.status();
  return obj.ok() ? *obj : T();
}

template <typename T>
std::string Json(const T& obj) {
  absl::StatusOr<std::string> s = kslice::codec::Encode(obj, kslice::codec::Format::kJson);
  return s.ok() ? *s : s.status().ToString();
}

// Defaults `input` and compares with `expected`, what kube-apiserver returns for the same
// object (fields set by admission plugins and the registry, such as uid or clusterIP
// allocation, left out).
template <typename T>
void ExpectDefaulted(const std::string& input, const std::string& expected) {
  T obj = FromYaml<T>(input);
  Apply(&obj);
  const T want = FromYaml<T>(expected);
  EXPECT_TRUE(MessageDifferencer::Equals(obj, want))
      << "got:  " << Json(obj) << "\nwant: " << Json(want);
  // Idempotent.
  T again = obj;
  Apply(&again);
  EXPECT_TRUE(MessageDifferencer::Equals(obj, again)) << Json(again);
}

TEST(Defaults, MinimalPod) {
  ExpectDefaulted<core::Pod>(R"(
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
  - name: web
    image: nginx
)",
                             R"(
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
  - image: nginx
    imagePullPolicy: Always
    name: web
    resources: {}
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
  dnsPolicy: ClusterFirst
  enableServiceLinks: true
  restartPolicy: Always
  schedulerName: default-scheduler
  securityContext: {}
  terminationGracePeriodSeconds: 30
status:
  phase: Pending
  qosClass: BestEffort
)");
}

TEST(Defaults, PodContainersPortsProbesResources) {
  ExpectDefaulted<core::Pod>(R"(
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  restartPolicy: Never
  dnsPolicy: Default
  terminationGracePeriodSeconds: 5
  volumes:
  - name: scratch
  - name: cfg
    configMap: {name: cfg}
  initContainers:
  - name: init
    image: busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000
  containers:
  - name: web
    image: registry.example.com:5000/team/web:1.2
    ports:
    - containerPort: 80
    - containerPort: 53
      protocol: UDP
    resources:
      limits: {cpu: 500m, memory: 128Mi}
    livenessProbe:
      httpGet: {port: 80}
    readinessProbe:
      tcpSocket: {port: 80}
      periodSeconds: 5
    startupProbe:
      grpc: {port: 9000}
  - name: side
    image: example.com/side:latest
    imagePullPolicy: Never
)",
                             R"(
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  restartPolicy: Never
  dnsPolicy: Default
  enableServiceLinks: true
  schedulerName: default-scheduler
  securityContext: {}
  terminationGracePeriodSeconds: 5
  volumes:
  - name: scratch
    emptyDir: {}
  - name: cfg
    configMap: {name: cfg, defaultMode: 420}
  initContainers:
  - name: init
    image: busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000
    imagePullPolicy: IfNotPresent
    resources: {}
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
  containers:
  - name: web
    image: registry.example.com:5000/team/web:1.2
    imagePullPolicy: IfNotPresent
    ports:
    - {containerPort: 80, protocol: TCP}
    - {containerPort: 53, protocol: UDP}
    resources:
      limits: {cpu: 500m, memory: 128Mi}
      requests: {cpu: 500m, memory: 128Mi}
    livenessProbe:
      httpGet: {path: /, port: 80, scheme: HTTP}
      timeoutSeconds: 1
      periodSeconds: 10
      successThreshold: 1
      failureThreshold: 3
    readinessProbe:
      tcpSocket: {port: 80}
      timeoutSeconds: 1
      periodSeconds: 5
      successThreshold: 1
      failureThreshold: 3
    startupProbe:
      grpc: {port: 9000, service: ""}
      timeoutSeconds: 1
      periodSeconds: 10
      successThreshold: 1
      failureThreshold: 3
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
  - name: side
    image: example.com/side:latest
    imagePullPolicy: Never
    resources: {}
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
status:
  phase: Pending
  qosClass: Burstable
)");
}

TEST(Defaults, HostNetworkPodCopiesContainerPortToHostPort) {
  core::Pod pod = FromYaml<core::Pod>(R"(
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  hostNetwork: true
  containers:
  - name: web
    image: nginx:1
    ports: [{containerPort: 8080}]
)");
  Apply(&pod);
  EXPECT_EQ(pod.spec().containers(0).ports(0).hostport(), 8080);
  EXPECT_EQ(pod.spec().containers(0).imagepullpolicy(), "IfNotPresent");
}

TEST(Defaults, GuaranteedPod) {
  core::Pod pod = FromYaml<core::Pod>(R"(
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
  - name: web
    image: nginx
    resources:
      limits: {cpu: "1", memory: 1Gi}
      requests: {cpu: 1000m}
)");
  Apply(&pod);
  EXPECT_EQ(pod.status().qosclass(), "Guaranteed");
}

TEST(Defaults, ClusterIPService) {
  ExpectDefaulted<core::Service>(R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports:
  - port: 80
  - name: metrics
    port: 9090
    targetPort: metrics
)",
                                 R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  type: ClusterIP
  sessionAffinity: None
  internalTrafficPolicy: Cluster
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv4]
  ports:
  - {port: 80, protocol: TCP, targetPort: 80}
  - {name: metrics, port: 9090, protocol: TCP, targetPort: metrics}
)");
}

TEST(Defaults, NodePortServiceWithClientIPAffinity) {
  ExpectDefaulted<core::Service>(R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.10
  sessionAffinity: ClientIP
  ports: [{port: 443, targetPort: 8443, protocol: TCP}]
)",
                                 R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10]
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 10800}}
  externalTrafficPolicy: Cluster
  internalTrafficPolicy: Cluster
  allocateLoadBalancerNodePorts: true
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv4]
  ports: [{port: 443, targetPort: 8443, protocol: TCP}]
)");
}

TEST(Defaults, ExternalNameServiceGetsNoIPFields) {
  ExpectDefaulted<core::Service>(R"(
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec: {type: ExternalName, externalName: db.example.com}
)",
                                 R"(
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec: {type: ExternalName, externalName: db.example.com, sessionAffinity: None}
)");
}

TEST(Defaults, HeadlessSelectorlessServicePrefersDualStack) {
  core::Service svc = FromYaml<core::Service>(R"(
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec: {clusterIP: None, ports: [{port: 5432}]}
)");
  Apply(&svc);
  EXPECT_EQ(svc.spec().ipfamilypolicy(), "PreferDualStack");
  ASSERT_EQ(svc.spec().clusterips_size(), 1);
  EXPECT_EQ(svc.spec().clusterips(0), "None");
}

TEST(Defaults, Namespace) {
  ExpectDefaulted<core::Namespace>(R"(
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
)",
                                   R"(
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
  labels: {kubernetes.io/metadata.name: team-a}
spec: {finalizers: [kubernetes]}
status: {phase: Active}
)");
}

TEST(Defaults, EndpointSlicePorts) {
  ExpectDefaulted<discovery::EndpointSlice>(R"(
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc, namespace: default}
addressType: IPv4
endpoints: [{addresses: [10.0.0.1]}]
ports: [{port: 80}, {name: dns, port: 53, protocol: UDP}]
)",
                                            R"(
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc, namespace: default}
addressType: IPv4
endpoints: [{addresses: [10.0.0.1]}]
ports: [{name: "", port: 80, protocol: TCP}, {name: dns, port: 53, protocol: UDP}]
)");
}

TEST(Defaults, EndpointsPortsAndNodeAllocatable) {
  core::Endpoints ep = FromYaml<core::Endpoints>(R"(
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets: [{addresses: [{ip: 10.0.0.1}], ports: [{port: 80}]}]
)");
  Apply(&ep);
  EXPECT_EQ(ep.subsets(0).ports(0).protocol(), "TCP");

  core::Node node = FromYaml<core::Node>(R"(
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {capacity: {cpu: "4", pods: "110"}}
)");
  Apply(&node);
  EXPECT_EQ(node.status().allocatable().size(), 2u);
  EXPECT_EQ(node.status().allocatable().at("cpu").string(), "4");
}

TEST(Defaults, OtherKindsUntouched) {
  core::ConfigMap cm = FromYaml<core::ConfigMap>(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: default}
data: {a: b}
)");
  const core::ConfigMap before = cm;
  Apply(&cm);
  EXPECT_TRUE(MessageDifferencer::Equals(cm, before));
  Apply(nullptr);  // no crash
}

// What kube-apiserver returns for a minimal Deployment: the apps/v1 defaults, and the
// PodSpec defaults (not the Pod-only ones: no enableServiceLinks) in the template.
TEST(Defaults, Deployment) {
  ExpectDefaulted<apps::Deployment>(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: nginx}]
)",
                                    R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  revisionHistoryLimit: 10
  progressDeadlineSeconds: 600
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 25%, maxSurge: 25%}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx
        imagePullPolicy: Always
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
      restartPolicy: Always
      dnsPolicy: ClusterFirst
      securityContext: {}
      terminationGracePeriodSeconds: 30
      schedulerName: default-scheduler
)");
}

TEST(Defaults, DeploymentRecreateGetsNoRollingUpdate) {
  auto d = FromYaml<apps::Deployment>(R"(
apiVersion: apps/v1
kind: Deployment
spec:
  replicas: 0
  strategy: {type: Recreate}
)");
  Apply(&d);
  EXPECT_EQ(d.spec().replicas(), 0);
  EXPECT_FALSE(d.spec().strategy().has_rollingupdate());
  // Idempotent.
  apps::Deployment again = d;
  Apply(&again);
  EXPECT_TRUE(MessageDifferencer::Equals(d, again));
}

TEST(Defaults, ReplicaSetAndDaemonSet) {
  auto rs = FromYaml<apps::ReplicaSet>("apiVersion: apps/v1\nkind: ReplicaSet\n");
  Apply(&rs);
  EXPECT_EQ(rs.spec().replicas(), 1);
  EXPECT_EQ(rs.spec().template_().spec().restartpolicy(), "Always");

  ExpectDefaulted<apps::DaemonSet>(R"(
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: tools}
spec:
  selector: {matchLabels: {app: tools}}
  template:
    metadata: {labels: {app: tools}}
    spec:
      hostNetwork: true
      containers: [{name: c, image: "tools:1", ports: [{containerPort: 53}]}]
)",
                                   R"(
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: tools}
spec:
  revisionHistoryLimit: 10
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 1, maxSurge: 0}
  selector: {matchLabels: {app: tools}}
  template:
    metadata: {labels: {app: tools}}
    spec:
      hostNetwork: true
      containers:
      - name: c
        image: "tools:1"
        ports: [{containerPort: 53, protocol: TCP}]
        imagePullPolicy: IfNotPresent
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
      restartPolicy: Always
      dnsPolicy: ClusterFirst
      securityContext: {}
      terminationGracePeriodSeconds: 30
      schedulerName: default-scheduler
)");
}

// The API server decides service IP families itself (dual-stack CIDRs).
TEST(Defaults, ServiceIpFamiliesCanBeLeftToTheServer) {
  auto svc = FromYaml<core::Service>(R"(
apiVersion: v1
kind: Service
spec: {ports: [{port: 80}]}
)");
  Options o;
  o.service_ip_families = false;
  Apply(&svc, o);
  EXPECT_EQ(svc.spec().type(), "ClusterIP");
  EXPECT_FALSE(svc.spec().has_ipfamilypolicy());
  EXPECT_EQ(svc.spec().ipfamilies_size(), 0);
}

}  // namespace
}  // namespace kslice::envtest::defaults
