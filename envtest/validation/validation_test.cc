#include "envtest/validation/validation.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "api/apps/v1/apps.pb.h"
#include "api/codec/codec.h"
#include "api/coordination/v1/coordination.pb.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "envtest/defaults/defaults.h"
#include "gtest/gtest.h"

namespace kslice::envtest::validation {
namespace {

namespace core = kslice::api::core::v1;
namespace coordination = kslice::api::coordination::v1;
namespace discovery = kslice::api::discovery::v1;
namespace apps = kslice::api::apps::v1;

template <typename T>
T FromYaml(const std::string& yaml) {
  absl::StatusOr<T> obj = kslice::codec::DecodeAs<T>(yaml, kslice::codec::Format::kYaml);
  EXPECT_TRUE(obj.ok()) << obj.status();
  T out = obj.ok() ? *obj : T();
  defaults::Apply(&out);
  return out;
}

std::vector<std::string> Strings(const std::vector<storage::FieldError>& errs) {
  std::vector<std::string> out;
  for (const storage::FieldError& e : errs) out.push_back(e.ToString());
  return out;
}

// Messages as upstream words them (k8s.io/apimachinery pkg/util/validation).
const std::string kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const std::string kLabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const std::string kDNS1035Msg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const std::string kLabelValueMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const std::string kNamePartMsg =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
    "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const std::string kPortRange = "must be between 1 and 65535, inclusive";

template <typename T>
struct Case {
  std::string name;
  std::function<void(T*)> mutate;
  std::vector<std::string> want;  // "field: body", in order
};

template <typename T>
void RunCreateCases(const T& valid, const std::vector<Case<T>>& cases) {
  EXPECT_EQ(Strings(ValidateCreate(valid)), std::vector<std::string>{}) << "base object";
  for (const Case<T>& c : cases) {
    T obj = valid;
    c.mutate(&obj);
    EXPECT_EQ(Strings(ValidateCreate(obj)), c.want) << c.name;
  }
}

// ---------------------------------------------------------------- object meta

const char kPod[] = R"(
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  volumes:
  - name: data
  containers:
  - name: web
    image: nginx:1.25
    ports: [{name: http, containerPort: 80}]
    volumeMounts: [{name: data, mountPath: /data}]
    resources:
      requests: {cpu: 100m}
      limits: {cpu: 200m}
    livenessProbe:
      httpGet: {port: http}
)";

TEST(ObjectMeta, CreateRules) {
  const core::Pod pod = FromYaml<core::Pod>(kPod);
  RunCreateCases<core::Pod>(
      pod,
      {
          {"no name",
           [](core::Pod* p) { p->mutable_metadata()->clear_name(); },
           {"metadata.name: Required value: name or generateName is required"}},
          {"bad name",
           [](core::Pod* p) { p->mutable_metadata()->set_name("Web_1"); },
           {"metadata.name: Invalid value: \"Web_1\": " + kSubdomainMsg}},
          {"generateName with trailing dash is fine",
           [](core::Pod* p) { p->mutable_metadata()->set_generatename("web-"); },
           {}},
          {"bad generateName",
           [](core::Pod* p) { p->mutable_metadata()->set_generatename("Web-"); },
           {"metadata.generateName: Invalid value: \"Web-\": " + kSubdomainMsg}},
          {"no namespace",
           [](core::Pod* p) { p->mutable_metadata()->clear_namespace_(); },
           {"metadata.namespace: Required value"}},
          {"bad namespace",
           [](core::Pod* p) { p->mutable_metadata()->set_namespace_("a.b"); },
           {"metadata.namespace: Invalid value: \"a.b\": must not contain dots"}},
          {"negative generation",
           [](core::Pod* p) { p->mutable_metadata()->set_generation(-1); },
           {"metadata.generation: Invalid value: -1: must be greater than or equal to 0"}},
          {"bad label key and value",
           [](core::Pod* p) {
             (*p->mutable_metadata()->mutable_labels())["-bad"] = "x";
             (*p->mutable_metadata()->mutable_labels())["ok"] = "no spaces";
           },
           {"metadata.labels: Invalid value: \"-bad\": " + kNamePartMsg,
            "metadata.labels: Invalid value: \"no spaces\": " + kLabelValueMsg}},
          {"annotation key prefix",
           [](core::Pod* p) { (*p->mutable_metadata()->mutable_annotations())["/x"] = "v"; },
           {"metadata.annotations: Invalid value: \"/x\": prefix part must be non-empty"}},
          {"annotations too large",
           [](core::Pod* p) {
             (*p->mutable_metadata()->mutable_annotations())["big"] = std::string(256 * 1024, 'x');
           },
           {"metadata.annotations: Too long: may not be more than 262144 bytes"}},
          {"owner reference fields",
           [](core::Pod* p) { p->mutable_metadata()->add_ownerreferences(); },
           {"metadata.ownerReferences[0].apiVersion: Required value: must not be empty",
            "metadata.ownerReferences[0].kind: Required value: must not be empty",
            "metadata.ownerReferences[0].name: Required value: must not be empty",
            "metadata.ownerReferences[0].uid: Required value: must not be empty"}},
          {"two controllers",
           [](core::Pod* p) {
             for (const char* n : {"a", "b"}) {
               auto* r = p->mutable_metadata()->add_ownerreferences();
               r->set_apiversion("apps/v1");
               r->set_kind("ReplicaSet");
               r->set_name(n);
               r->set_uid(n);
               r->set_controller(true);
             }
           },
           {"metadata.ownerReferences: Invalid value: "
            "[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"a\",\"uid\":\"a\","
            "\"controller\":true},{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":"
            "\"b\",\"uid\":\"b\",\"controller\":true}]: Only one reference can have Controller "
            "set to true. Found \"true\" in references for ReplicaSet/a and ReplicaSet/b"}},
          {"bad owner apiVersion",
           [](core::Pod* p) {
             auto* r = p->mutable_metadata()->add_ownerreferences();
             r->set_apiversion("a/b/c");
             r->set_kind("K");
             r->set_name("n");
             r->set_uid("u");
           },
           {"metadata.ownerReferences[0].apiVersion: Invalid value: \"a/b/c\": must be "
            "<group>/<version> or <version>"}},
          {"finalizers",
           [](core::Pod* p) {
             p->mutable_metadata()->add_finalizers("orphan");
             p->mutable_metadata()->add_finalizers("foregroundDeletion");
             p->mutable_metadata()->add_finalizers("a/b/c");
           },
           {"metadata.finalizers: Invalid value: \"a/b/c\": a valid label key must consist of "
            "alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
            "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
            "subdomain prefix and '/' (e.g. 'example.com/MyName')",
            "metadata.finalizers: Invalid value: [\"orphan\",\"foregroundDeletion\",\"a/b/c\"]: "
            "finalizer orphan and foregroundDeletion cannot be both set"}},
      });
}

TEST(ObjectMeta, UpdateRules) {
  core::Pod old = FromYaml<core::Pod>(kPod);
  old.mutable_metadata()->set_resourceversion("5");
  old.mutable_metadata()->set_uid("u1");
  old.mutable_metadata()->mutable_creationtimestamp()->set_seconds(1700000000);
  EXPECT_EQ(Strings(ValidateUpdate(old, old)), std::vector<std::string>{});

  core::Pod pod = old;
  pod.mutable_metadata()->set_uid("u2");
  pod.mutable_metadata()->set_namespace_("other");
  pod.mutable_metadata()->mutable_creationtimestamp()->set_seconds(1700000001);
  EXPECT_EQ(Strings(ValidateUpdate(pod, old)),
            (std::vector<std::string>{
                "metadata.namespace: Invalid value: \"other\": field is immutable",
                "metadata.uid: Invalid value: \"u2\": field is immutable",
                "metadata.creationTimestamp: Invalid value: \"2023-11-14T22:13:21Z\": field is "
                "immutable",
            }));

  pod = old;
  pod.mutable_metadata()->clear_resourceversion();
  pod.mutable_metadata()->set_name("other");
  EXPECT_EQ(Strings(ValidateUpdate(pod, old)),
            (std::vector<std::string>{
                "metadata.resourceVersion: Invalid value: \"\": must be specified for an update",
                "metadata.name: Invalid value: \"other\": field is immutable",
            }));

  // No new finalizers while deleting.
  core::Pod deleting = old;
  deleting.mutable_metadata()->mutable_deletiontimestamp()->set_seconds(1700000100);
  deleting.mutable_metadata()->add_finalizers("a.io/x");
  pod = deleting;
  pod.mutable_metadata()->add_finalizers("b.io/y");
  pod.mutable_metadata()->add_finalizers("a.io/z");
  EXPECT_EQ(Strings(ValidateUpdate(pod, deleting)),
            (std::vector<std::string>{
                "metadata.finalizers: Forbidden: no new finalizers can be added if the object is "
                "being deleted, found new finalizers []string{\"a.io/z\", \"b.io/y\"}",
            }));
  pod = deleting;
  pod.mutable_metadata()->clear_finalizers();
  EXPECT_EQ(Strings(ValidateUpdate(pod, deleting)), std::vector<std::string>{});
}

TEST(ObjectMeta, CauseTypes) {
  core::Pod pod = FromYaml<core::Pod>(kPod);
  pod.mutable_metadata()->clear_name();
  pod.mutable_spec()->set_restartpolicy("Sometimes");
  pod.mutable_spec()->mutable_containers(0)->set_name("web");
  pod.mutable_spec()->add_containers()->CopyFrom(pod.spec().containers(0));
  const std::vector<storage::FieldError> errs = ValidateCreate(pod);
  ASSERT_EQ(errs.size(), 3u);
  EXPECT_EQ(errs[0].type, "FieldValueRequired");
  EXPECT_EQ(errs[1].type, "FieldValueDuplicate");
  EXPECT_EQ(errs[1].ToString(), "spec.containers[1].name: Duplicate value: \"web\"");
  EXPECT_EQ(errs[2].type, "FieldValueNotSupported");
  EXPECT_EQ(errs[2].ToString(),
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
            "\"OnFailure\", \"Never\"");
}

// ---------------------------------------------------------------- Pod

TEST(Pod, CreateRules) {
  const core::Pod pod = FromYaml<core::Pod>(kPod);
  RunCreateCases<core::Pod>(
      pod,
      {
          {"no containers",
           [](core::Pod* p) { p->mutable_spec()->clear_containers(); },
           {"spec.containers: Required value"}},
          {"container name",
           [](core::Pod* p) { p->mutable_spec()->mutable_containers(0)->set_name("Web"); },
           {"spec.containers[0].name: Invalid value: \"Web\": " + kLabelMsg}},
          {"container name required",
           [](core::Pod* p) { p->mutable_spec()->mutable_containers(0)->clear_name(); },
           {"spec.containers[0].name: Required value"}},
          {"init container name clashes",
           [](core::Pod* p) {
             core::Container* c = p->mutable_spec()->add_initcontainers();
             *c = p->spec().containers(0);
             c->clear_ports();
             c->clear_livenessprobe();
           },
           {"spec.initContainers[0].name: Duplicate value: \"web\""}},
          {"image required",
           [](core::Pod* p) { p->mutable_spec()->mutable_containers(0)->clear_image(); },
           {"spec.containers[0].image: Required value"}},
          {"image whitespace",
           [](core::Pod* p) { p->mutable_spec()->mutable_containers(0)->set_image(" nginx"); },
           {"spec.containers[0].image: Invalid value: \" nginx\": must not have leading or "
            "trailing whitespace"}},
          {"container port range, protocol and name",
           [](core::Pod* p) {
             auto* port = p->mutable_spec()->mutable_containers(0)->add_ports();
             port->set_name("http");
             port->set_containerport(70000);
             port->set_protocol("HTTP");
           },
           {"spec.containers[0].ports[1].name: Duplicate value: \"http\"",
            "spec.containers[0].ports[1].containerPort: Invalid value: 70000: " + kPortRange,
            "spec.containers[0].ports[1].protocol: Unsupported value: \"HTTP\": supported "
            "values: \"SCTP\", \"TCP\", \"UDP\""}},
          {"port name rules",
           [](core::Pod* p) {
             p->mutable_spec()->mutable_containers(0)->mutable_ports(0)->set_name("-80");
           },
           {"spec.containers[0].ports[0].name: Invalid value: \"-80\": must contain at least "
            "one letter (a-z)",
            "spec.containers[0].ports[0].name: Invalid value: \"-80\": must not begin or end "
            "with a hyphen"}},
          {"containerPort required",
           [](core::Pod* p) {
             p->mutable_spec()->mutable_containers(0)->mutable_ports(0)->clear_containerport();
           },
           {"spec.containers[0].ports[0].containerPort: Required value"}},
          {"env",
           [](core::Pod* p) {
             auto* c = p->mutable_spec()->mutable_containers(0);
             c->add_env()->set_name("A=B");
             auto* e = c->add_env();
             e->set_name("FROM");
             e->set_value("x");
             e->mutable_valuefrom()
                 ->mutable_configmapkeyref()
                 ->mutable_localobjectreference()
                 ->set_name("cfg");
           },
           {"spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment "
            "variable name must consist only of printable ASCII characters other than '='",
            "spec.containers[0].env[1].valueFrom.configMapKeyRef.key: Required value",
            "spec.containers[0].env[1].valueFrom: Invalid value: \"\": may not be specified "
            "when `value` is not empty"}},
          {"restartPolicy",
           [](core::Pod* p) { p->mutable_spec()->clear_restartpolicy(); },
           {"spec.restartPolicy: Required value"}},
          {"dnsPolicy",
           [](core::Pod* p) { p->mutable_spec()->set_dnspolicy("Google"); },
           {"spec.dnsPolicy: Unsupported value: \"Google\": supported values: "
            "\"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\""}},
          {"imagePullPolicy",
           [](core::Pod* p) {
             p->mutable_spec()->mutable_containers(0)->set_imagepullpolicy("Sometimes");
           },
           {"spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported "
            "values: \"Always\", \"IfNotPresent\", \"Never\""}},
          {"requests above limits",
           [](core::Pod* p) {
             (*p->mutable_spec()
                   ->mutable_containers(0)
                   ->mutable_resources()
                   ->mutable_requests())["cpu"]
                 .set_string("500m");
           },
           {"spec.containers[0].resources.requests: Invalid value: \"500m\": must be less than "
            "or equal to cpu limit of 200m"}},
          {"unknown resource",
           [](core::Pod* p) {
             (*p->mutable_spec()
                   ->mutable_containers(0)
                   ->mutable_resources()
                   ->mutable_limits())["gpu"]
                 .set_string("1");
           },
           {"spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a "
            "standard resource for containers"}},
          {"probe without handler",
           [](core::Pod* p) {
             p->mutable_spec()->mutable_containers(0)->mutable_livenessprobe()->clear_handler();
           },
           {"spec.containers[0].livenessProbe: Required value: must specify a handler type"}},
          {"probe with two handlers",
           [](core::Pod* p) {
             p->mutable_spec()
                 ->mutable_containers(0)
                 ->mutable_livenessprobe()
                 ->mutable_handler()
                 ->mutable_tcpsocket()
                 ->mutable_port()
                 ->set_intval(80);
           },
           {"spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 "
            "handler type"}},
          {"liveness successThreshold",
           [](core::Pod* p) {
             p->mutable_spec()
                 ->mutable_containers(0)
                 ->mutable_livenessprobe()
                 ->set_successthreshold(2);
           },
           {"spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"}},
          {"negative probe period",
           [](core::Pod* p) {
             p->mutable_spec()->mutable_containers(0)->mutable_livenessprobe()->set_periodseconds(
                 -1);
           },
           {"spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater "
            "than or equal to 0"}},
          {"readiness probe grace period",
           [](core::Pod* p) {
             auto* probe = p->mutable_spec()->mutable_containers(0)->mutable_readinessprobe();
             *probe = p->spec().containers(0).livenessprobe();
             probe->set_terminationgraceperiodseconds(10);
           },
           {"spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: "
            "10: must not be set for readinessProbes"}},
          {"duplicate volumes",
           [](core::Pod* p) {
             auto* v = p->mutable_spec()->add_volumes();
             v->set_name("data");
             v->mutable_volumesource()->mutable_emptydir();
           },
           {"spec.volumes[1].name: Duplicate value: \"data\""}},
          {"volume with two sources",
           [](core::Pod* p) {
             p->mutable_spec()
                 ->mutable_volumes(0)
                 ->mutable_volumesource()
                 ->mutable_hostpath()
                 ->set_path("/tmp");
           },
           {"spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type"}},
          {"mount of a missing volume",
           [](core::Pod* p) {
             p->mutable_spec()->mutable_containers(0)->mutable_volumemounts(0)->set_name("nope");
           },
           {"spec.containers[0].volumeMounts[0].name: Not found: \"nope\""}},
          {"activeDeadlineSeconds",
           [](core::Pod* p) { p->mutable_spec()->set_activedeadlineseconds(0); },
           {"spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, "
            "inclusive"}},
          {"nodeName and hostname",
           [](core::Pod* p) {
             p->mutable_spec()->set_nodename("Node_1");
             p->mutable_spec()->set_hostname("a.b");
           },
           {"spec.nodeName: Invalid value: \"Node_1\": " + kSubdomainMsg,
            "spec.hostname: Invalid value: \"a.b\": must not contain dots"}},
          {"toleration value with Exists",
           [](core::Pod* p) {
             auto* t = p->mutable_spec()->add_tolerations();
             t->set_key("k");
             t->set_operator_("Exists");
             t->set_value("v");
           },
           {"spec.tolerations[0].operator: Invalid value: {\"Key\":\"k\",\"Operator\":\"Exists\","
            "\"Value\":\"v\",\"Effect\":\"\",\"TolerationSeconds\":null}: value must be empty "
            "when `operator` is 'Exists'"}},
          {"toleration without key needs Exists, seconds need NoExecute",
           [](core::Pod* p) {
             auto* t = p->mutable_spec()->add_tolerations();
             t->set_operator_("Equal");
             t->set_effect("NoSchedule");
             t->set_tolerationseconds(10);
           },
           {"spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists "
            "when `key` is empty, which means \"match all values and all keys\"",
            "spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be "
            "'NoExecute' when `tolerationSeconds` is set"}},
      });
}

TEST(Pod, UpdateRules) {
  core::Pod old = FromYaml<core::Pod>(kPod);
  old.mutable_metadata()->set_resourceversion("7");
  EXPECT_EQ(Strings(ValidateUpdate(old, old)), std::vector<std::string>{});

  // Allowed: image, activeDeadlineSeconds, added tolerations.
  core::Pod pod = old;
  pod.mutable_spec()->mutable_containers(0)->set_image("nginx:1.26");
  pod.mutable_spec()->set_activedeadlineseconds(60);
  pod.mutable_spec()->add_tolerations()->set_operator_("Exists");
  EXPECT_EQ(Strings(ValidateUpdate(pod, old)), std::vector<std::string>{});

  // activeDeadlineSeconds may only decrease.
  core::Pod with_deadline = pod;
  pod.mutable_spec()->set_activedeadlineseconds(120);
  EXPECT_EQ(Strings(ValidateUpdate(pod, with_deadline)),
            (std::vector<std::string>{"spec.activeDeadlineSeconds: Invalid value: 120: must be "
                                      "less than or equal to previous value"}));

  // An emptied image is only "Required", not a forbidden spec change.
  pod = old;
  pod.mutable_spec()->mutable_containers(0)->clear_image();
  EXPECT_EQ(Strings(ValidateUpdate(pod, old)),
            (std::vector<std::string>{"spec.containers[0].image: Required value"}));

  // Containers can not be added.
  pod = old;
  *pod.mutable_spec()->add_containers() = old.spec().containers(0);
  pod.mutable_spec()->mutable_containers(1)->set_name("two");
  pod.mutable_spec()->mutable_containers(1)->clear_ports();
  pod.mutable_spec()->mutable_containers(1)->clear_livenessprobe();
  EXPECT_EQ(Strings(ValidateUpdate(pod, old)),
            (std::vector<std::string>{
                "spec.containers: Forbidden: pod updates may not add or remove containers"}));

  // Anything else is forbidden.
  pod = old;
  pod.mutable_spec()->set_restartpolicy("Never");
  std::vector<std::string> errs = Strings(ValidateUpdate(pod, old));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].rfind("spec: Forbidden: pod updates may not change fields other than "
                          "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                          "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                          "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it "
                          "to be set to 1 if it was previously negative)\n",
                          0),
            0u)
      << errs[0];
  EXPECT_NE(errs[0].find("spec.restartPolicy"), std::string::npos) << errs[0];

  // Tolerations can not be removed.
  core::Pod tolerated = old;
  tolerated.mutable_spec()->add_tolerations()->set_operator_("Exists");
  EXPECT_EQ(Strings(ValidateUpdate(old, tolerated)),
            (std::vector<std::string>{
                "spec.tolerations: Forbidden: existing toleration can not "
                "be modified except its tolerationSeconds",
            }));
}

TEST(Pod, StatusUpdate) {
  core::Pod old = FromYaml<core::Pod>(kPod);
  old.mutable_metadata()->set_resourceversion("7");
  core::Pod pod = old;
  pod.mutable_status()->add_podips()->set_ip("10.0.0.300");
  EXPECT_EQ(Strings(ValidateStatusUpdate(pod, old)),
            (std::vector<std::string>{"status.podIPs[0]: Invalid value: \"10.0.0.300\": must be a "
                                      "valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"}));
  pod = old;
  pod.mutable_status()->add_podips()->set_ip("10.0.0.3");
  pod.mutable_status()->set_phase("Running");
  EXPECT_EQ(Strings(ValidateStatusUpdate(pod, old)), std::vector<std::string>{});
}

// ---------------------------------------------------------------- Service

const char kService[] = R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: https}
)";

TEST(Service, CreateRules) {
  const core::Service svc = FromYaml<core::Service>(kService);
  RunCreateCases<core::Service>(
      svc,
      {
          {"DNS-1035 name",
           [](core::Service* s) { s->mutable_metadata()->set_name("1web"); },
           {"metadata.name: Invalid value: \"1web\": " + kDNS1035Msg}},
          {"ports required",
           [](core::Service* s) { s->mutable_spec()->clear_ports(); },
           {"spec.ports: Required value"}},
          {"ports not required when headless",
           [](core::Service* s) {
             s->mutable_spec()->clear_ports();
             s->mutable_spec()->set_clusterip("None");
             s->mutable_spec()->add_clusterips("None");
           },
           {}},
          {"names required with several ports",
           [](core::Service* s) { s->mutable_spec()->mutable_ports(1)->clear_name(); },
           {"spec.ports[1].name: Required value"}},
          {"duplicate port names and numbers",
           [](core::Service* s) {
             s->mutable_spec()->mutable_ports(1)->set_name("http");
             s->mutable_spec()->mutable_ports(1)->set_port(80);
           },
           {"spec.ports[1].name: Duplicate value: \"http\"",
            "spec.ports[1]: Duplicate value: {\"Name\":\"\",\"Protocol\":\"TCP\",\"AppProtocol\""
            ":null,\"Port\":80,\"TargetPort\":0,\"NodePort\":0}"}},
          {"port range and protocol",
           [](core::Service* s) {
             s->mutable_spec()->mutable_ports(0)->set_port(0);
             s->mutable_spec()->mutable_ports(0)->set_protocol("ICMP");
           },
           {"spec.ports[0].port: Invalid value: 0: " + kPortRange,
            "spec.ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", "
            "\"TCP\", \"UDP\""}},
          {"targetPort",
           [](core::Service* s) {
             s->mutable_spec()->mutable_ports(0)->mutable_targetport()->set_intval(65536);
           },
           {"spec.ports[0].targetPort: Invalid value: 65536: " + kPortRange}},
          {"type",
           [](core::Service* s) { s->mutable_spec()->set_type("Internal"); },
           {"spec.type: Unsupported value: \"Internal\": supported values: \"ClusterIP\", "
            "\"ExternalName\", \"LoadBalancer\", \"NodePort\""}},
          {"clusterIP not an IP",
           [](core::Service* s) {
             s->mutable_spec()->set_clusterip("10.0.0.256");
             s->mutable_spec()->add_clusterips("10.0.0.256");
           },
           {"spec.clusterIPs[0]: Invalid value: \"10.0.0.256\": must be a valid IP address, "
            "(e.g. 10.9.8.7 or 2001:db8::ffff)"}},
          {"clusterIPs must follow clusterIP",
           [](core::Service* s) {
             s->mutable_spec()->set_clusterip("10.0.0.10");
             s->mutable_spec()->add_clusterips("10.0.0.11");
           },
           {"spec.clusterIPs: Invalid value: [\"10.0.0.11\"]: first value must match "
            "`clusterIP`"}},
          {"nodePort on a ClusterIP service",
           [](core::Service* s) { s->mutable_spec()->mutable_ports(0)->set_nodeport(30080); },
           {"spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"}},
          {"selector labels",
           [](core::Service* s) { (*s->mutable_spec()->mutable_selector())["app"] = "a b"; },
           {"spec.selector: Invalid value: \"a b\": " + kLabelValueMsg}},
          {"sessionAffinity",
           [](core::Service* s) { s->mutable_spec()->set_sessionaffinity("Sticky"); },
           {"spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: "
            "\"ClientIP\", \"None\""}},
          {"sessionAffinityConfig with None",
           [](core::Service* s) {
             s->mutable_spec()
                 ->mutable_sessionaffinityconfig()
                 ->mutable_clientip()
                 ->set_timeoutseconds(10);
           },
           {"spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is "
            "None"}},
          {"ClientIP timeout",
           [](core::Service* s) {
             s->mutable_spec()->set_sessionaffinity("ClientIP");
             s->mutable_spec()
                 ->mutable_sessionaffinityconfig()
                 ->mutable_clientip()
                 ->set_timeoutseconds(86401);
           },
           {"spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be "
            "greater than 0 and less than 86400"}},
          {"externalTrafficPolicy on ClusterIP",
           [](core::Service* s) { s->mutable_spec()->set_externaltrafficpolicy("Local"); },
           {"spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for "
            "externally-accessible services"}},
          {"appProtocol",
           [](core::Service* s) { s->mutable_spec()->mutable_ports(0)->set_appprotocol("a b"); },
           {"spec.ports[0].appProtocol: Invalid value: \"a b\": " + kNamePartMsg}},
      });
}

TEST(Service, NodePortAndExternalName) {
  core::Service np = FromYaml<core::Service>(R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  ports: [{port: 80, nodePort: 30080}]
)");
  EXPECT_EQ(Strings(ValidateCreate(np)), std::vector<std::string>{});
  np.mutable_spec()->mutable_ports(0)->set_nodeport(8080);
  EXPECT_EQ(Strings(ValidateCreate(np)),
            (std::vector<std::string>{"spec.ports[0].nodePort: Invalid value: 8080: provided port "
                                      "is not in the valid range. The range of valid ports is "
                                      "30000-32767"}));
  np.mutable_spec()->mutable_ports(0)->set_nodeport(30080);
  np.mutable_spec()->set_clusterip("None");
  np.mutable_spec()->add_clusterips("None");
  EXPECT_EQ(Strings(ValidateCreate(np)),
            (std::vector<std::string>{"spec.clusterIPs[0]: Invalid value: \"None\": may not be set "
                                      "to 'None' for NodePort services"}));

  core::Service en = FromYaml<core::Service>(R"(
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec: {type: ExternalName, externalName: db.example.com.}
)");
  EXPECT_EQ(Strings(ValidateCreate(en)), std::vector<std::string>{});
  en.mutable_spec()->set_externalname("");
  EXPECT_EQ(Strings(ValidateCreate(en)),
            (std::vector<std::string>{"spec.externalName: Required value"}));
  en.mutable_spec()->set_externalname("DB");
  EXPECT_EQ(
      Strings(ValidateCreate(en)),
      (std::vector<std::string>{"spec.externalName: Invalid value: \"DB\": " + kSubdomainMsg}));
}

TEST(Service, UpdateKeepsClusterIP) {
  core::Service old = FromYaml<core::Service>(kService);
  old.mutable_metadata()->set_resourceversion("3");
  old.mutable_spec()->set_clusterip("10.96.0.10");
  old.mutable_spec()->add_clusterips("10.96.0.10");
  EXPECT_EQ(Strings(ValidateUpdate(old, old)), std::vector<std::string>{});
  core::Service svc = old;
  svc.mutable_spec()->set_clusterip("10.96.0.11");
  svc.mutable_spec()->set_clusterips(0, "10.96.0.11");
  EXPECT_EQ(Strings(ValidateUpdate(svc, old)),
            (std::vector<std::string>{"spec.clusterIPs[0]: Invalid value: [\"10.96.0.11\"]: may "
                                      "not change once set"}));
}

TEST(Service, StatusUpdate) {
  core::Service old = FromYaml<core::Service>(kService);
  old.mutable_metadata()->set_resourceversion("3");
  core::Service svc = old;
  auto* ing = svc.mutable_status()->mutable_loadbalancer()->add_ingress();
  ing->set_ip("1.2.3");
  ing->set_hostname("10.0.0.1");
  EXPECT_EQ(Strings(ValidateStatusUpdate(svc, old)),
            (std::vector<std::string>{
                "status.loadBalancer.ingress[0].ip: Invalid value: \"1.2.3\": must be a valid IP "
                "address",
                "status.loadBalancer.ingress[0].hostname: Invalid value: \"10.0.0.1\": must be a "
                "DNS name, not an IP address"}));
}

// ---------------------------------------------------------------- EndpointSlice

const char kSlice[] = R"(
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc12, namespace: default}
addressType: IPv4
endpoints:
- addresses: [10.0.0.1]
  nodeName: node-1
  zone: us-east-1a
  hints: {forZones: [{name: us-east-1a}]}
ports: [{name: http, port: 80}]
)";

TEST(EndpointSlice, CreateRules) {
  const discovery::EndpointSlice slice = FromYaml<discovery::EndpointSlice>(kSlice);
  RunCreateCases<discovery::EndpointSlice>(
      slice,
      {
          {"addressType required",
           [](discovery::EndpointSlice* s) { s->clear_addresstype(); },
           {"addressType: Required value"}},
          {"addressType values",
           [](discovery::EndpointSlice* s) { s->set_addresstype("IP"); },
           {"addressType: Unsupported value: \"IP\": supported values: \"FQDN\", \"IPv4\", "
            "\"IPv6\""}},
          {"address does not match IPv4",
           [](discovery::EndpointSlice* s) {
             s->mutable_endpoints(0)->set_addresses(0, "fd00::1");
           },
           {"endpoints[0].addresses[0]: Invalid value: \"fd00::1\": must be a valid IPv4 address"}},
          {"special addresses",
           [](discovery::EndpointSlice* s) {
             s->mutable_endpoints(0)->set_addresses(0, "127.0.0.1");
             s->mutable_endpoints(0)->add_addresses("169.254.1.1");
           },
           {"endpoints[0].addresses[0]: Invalid value: \"127.0.0.1\": may not be in the loopback "
            "range (127.0.0.0/8, ::1/128)",
            "endpoints[0].addresses[1]: Invalid value: \"169.254.1.1\": may not be in the "
            "link-local range (169.254.0.0/16, fe80::/10)"}},
          {"at least one address",
           [](discovery::EndpointSlice* s) { s->mutable_endpoints(0)->clear_addresses(); },
           {"endpoints[0].addresses: Required value: must contain at least 1 address"}},
          {"too many addresses",
           [](discovery::EndpointSlice* s) {
             for (int i = 0; i < 100; ++i) {
               s->mutable_endpoints(0)->add_addresses(absl::StrCat("10.0.1.", i + 1));
             }
           },
           {"endpoints[0].addresses: Too many: 101: must have at most 100 items"}},
          {"too many endpoints",
           [](discovery::EndpointSlice* s) {
             for (int i = 0; i < 1000; ++i) *s->add_endpoints() = s->endpoints(0);
           },
           {"endpoints: Too many: 1001: must have at most 1000 items"}},
          {"nodeName",
           [](discovery::EndpointSlice* s) { s->mutable_endpoints(0)->set_nodename("Node_1"); },
           {"endpoints[0].nodeName: Invalid value: \"Node_1\": " + kSubdomainMsg}},
          {"hostname",
           [](discovery::EndpointSlice* s) { s->mutable_endpoints(0)->set_hostname("a.b"); },
           {"endpoints[0].hostname: Invalid value: \"a.b\": must not contain dots"}},
          {"zone hints",
           [](discovery::EndpointSlice* s) {
             auto* h = s->mutable_endpoints(0)->mutable_hints();
             h->add_forzones()->set_name("us-east-1a");
             h->add_forzones()->set_name("bad zone");
           },
           {"endpoints[0].hints.forZones[1].name: Duplicate value: \"us-east-1a\"",
            "endpoints[0].hints.forZones[2].name: Invalid value: \"bad zone\": " + kLabelValueMsg}},
          {"port name and protocol",
           [](discovery::EndpointSlice* s) {
             auto* p = s->add_ports();
             p->set_name("http");
             p->set_protocol("ICMP");
             s->add_ports()->set_name("Bad");
             s->mutable_ports(2)->set_protocol("TCP");
           },
           {"ports[1].name: Duplicate value: \"http\"",
            "ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", "
            "\"TCP\", \"UDP\"",
            "ports[2].name: Invalid value: \"Bad\": " + kLabelMsg}},
          {"FQDN",
           [](discovery::EndpointSlice* s) {
             s->set_addresstype("FQDN");
             s->mutable_endpoints(0)->set_addresses(0, "localhost");
           },
           {"endpoints[0].addresses[0]: Invalid value: \"localhost\": should be a domain with "
            "at least two segments separated by dots"}},
      });
}

TEST(EndpointSlice, AddressTypeImmutable) {
  discovery::EndpointSlice old = FromYaml<discovery::EndpointSlice>(kSlice);
  old.mutable_metadata()->set_resourceversion("1");
  discovery::EndpointSlice slice = old;
  slice.set_addresstype("IPv6");
  slice.mutable_endpoints(0)->set_addresses(0, "fd00::1");
  EXPECT_EQ(Strings(ValidateUpdate(slice, old)),
            (std::vector<std::string>{"addressType: Invalid value: \"IPv6\": field is immutable"}));
}

// ---------------------------------------------------------------- other kinds

TEST(Namespace, Rules) {
  core::Namespace ns =
      FromYaml<core::Namespace>("{apiVersion: v1, kind: Namespace, metadata: {name: team-a}}");
  EXPECT_EQ(Strings(ValidateCreate(ns)), std::vector<std::string>{});
  core::Namespace bad = ns;
  bad.mutable_metadata()->set_name("team.a");
  bad.mutable_metadata()->set_namespace_("default");
  bad.mutable_spec()->add_finalizers("custom");
  EXPECT_EQ(Strings(ValidateCreate(bad)),
            (std::vector<std::string>{
                "metadata.name: Invalid value: \"team.a\": must not contain dots",
                "metadata.namespace: Forbidden: not allowed on this type",
                "spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer "
                "name nor is it fully qualified"}));
  // Status: phase must agree with deletionTimestamp.
  ns.mutable_metadata()->set_resourceversion("1");
  core::Namespace term = ns;
  term.mutable_status()->set_phase("Terminating");
  EXPECT_EQ(Strings(ValidateStatusUpdate(term, ns)),
            (std::vector<std::string>{"status.Phase: Invalid value: \"Terminating\": may only be "
                                      "'Active' if `deletionTimestamp` is empty"}));
}

TEST(Node, Rules) {
  core::Node node = FromYaml<core::Node>(R"(
apiVersion: v1
kind: Node
metadata: {name: node-1}
spec:
  podCIDRs: [10.244.0.0/24]
  taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
)");
  EXPECT_EQ(Strings(ValidateCreate(node)), std::vector<std::string>{});
  core::Node bad = node;
  bad.mutable_spec()->set_podcidrs(0, "10.244.0.0");
  auto* t = bad.mutable_spec()->add_taints();
  *t = node.spec().taints(0);
  t->set_effect("Sometimes");
  EXPECT_EQ(Strings(ValidateCreate(bad)),
            (std::vector<std::string>{
                "metadata.taints[1].effect: Unsupported value: \"Sometimes\": supported values: "
                "\"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
                "spec.podCIDRs[0]: Invalid value: \"10.244.0.0\": must be a valid CIDR value, "
                "(e.g. 10.9.8.0/24 or 2001:db8::/64)"}));
  node.mutable_metadata()->set_resourceversion("1");
  core::Node upd = node;
  upd.mutable_spec()->set_podcidrs(0, "10.244.1.0/24");
  upd.mutable_spec()->set_unschedulable(true);
  EXPECT_EQ(Strings(ValidateUpdate(upd, node)),
            (std::vector<std::string>{"spec.podCIDRs: Forbidden: node updates may not change "
                                      "podCIDR except from \"\" to valid"}));
}

TEST(Endpoints, Rules) {
  core::Endpoints ep = FromYaml<core::Endpoints>(R"(
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets:
- addresses: [{ip: 10.0.0.1, nodeName: node-1}]
  ports: [{name: http, port: 80}, {name: https, port: 443}]
)");
  EXPECT_EQ(Strings(ValidateCreate(ep)), std::vector<std::string>{});
  core::Endpoints bad = ep;
  bad.mutable_subsets(0)->mutable_addresses(0)->set_ip("127.0.0.1");
  bad.mutable_subsets(0)->mutable_ports(1)->clear_name();
  bad.add_subsets();
  EXPECT_EQ(Strings(ValidateCreate(bad)),
            (std::vector<std::string>{
                "subsets[0].addresses[0].ip: Invalid value: \"127.0.0.1\": may not be in the "
                "loopback range (127.0.0.0/8, ::1/128)",
                "subsets[0].ports[1].name: Required value",
                "subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`"}));
}

TEST(ConfigMap, Rules) {
  core::ConfigMap cm = FromYaml<core::ConfigMap>(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: default}
data: {app.conf: "x=1", KEY_1: v}
)");
  EXPECT_EQ(Strings(ValidateCreate(cm)), std::vector<std::string>{});
  core::ConfigMap bad = cm;
  (*bad.mutable_data())["a b"] = "";
  (*bad.mutable_data())[".."] = "";
  (*bad.mutable_binarydata())["KEY_1"] = "x";
  EXPECT_EQ(Strings(ValidateCreate(bad)),
            (std::vector<std::string>{
                "data[..]: Invalid value: \"..\": must not be '..'",
                "data[KEY_1]: Invalid value: \"KEY_1\": duplicate of key present in binaryData",
                "data[a b]: Invalid value: \"a b\": a valid config key must consist of "
                "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"}));
  core::ConfigMap big = cm;
  (*big.mutable_data())["big"] = std::string(1024 * 1024, 'x');
  EXPECT_EQ(Strings(ValidateCreate(big)),
            (std::vector<std::string>{": Too long: may not be more than 1048576 bytes"}));

  cm.mutable_metadata()->set_resourceversion("1");
  cm.set_immutable(true);
  core::ConfigMap upd = cm;
  (*upd.mutable_data())["KEY_1"] = "changed";
  upd.clear_immutable();
  EXPECT_EQ(
      Strings(ValidateUpdate(upd, cm)),
      (std::vector<std::string>{"immutable: Forbidden: field is immutable when `immutable` is set",
                                "data: Forbidden: field is immutable when `immutable` is set"}));
}

TEST(Lease, Rules) {
  coordination::Lease lease = FromYaml<coordination::Lease>(R"(
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: kube-scheduler, namespace: kube-system}
spec: {holderIdentity: a, leaseDurationSeconds: 15, leaseTransitions: 0}
)");
  EXPECT_EQ(Strings(ValidateCreate(lease)), std::vector<std::string>{});
  coordination::Lease bad = lease;
  bad.mutable_spec()->set_leasedurationseconds(0);
  bad.mutable_spec()->set_leasetransitions(-1);
  bad.mutable_spec()->set_preferredholder("b");
  EXPECT_EQ(Strings(ValidateCreate(bad)),
            (std::vector<std::string>{
                "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
                "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
                "spec.preferredHolder: Forbidden: may only be specified if `strategy` is "
                "defined"}));
}

TEST(Event, Rules) {
  core::Event ev = FromYaml<core::Event>(R"(
apiVersion: v1
kind: Event
metadata: {name: web.1, namespace: default}
involvedObject: {kind: Pod, name: web, namespace: default}
reason: Started
message: started
)");
  EXPECT_EQ(Strings(ValidateCreate(ev)), std::vector<std::string>{});
  core::Event bad = ev;
  bad.mutable_involvedobject()->set_namespace_("other");
  EXPECT_EQ(Strings(ValidateCreate(bad)),
            (std::vector<std::string>{"involvedObject.namespace: Invalid value: \"other\": does "
                                      "not match event.namespace"}));
  // A "new" event (eventTime set) needs the reporting fields.
  bad = ev;
  bad.mutable_eventtime()->set_seconds(1700000000);
  EXPECT_EQ(
      Strings(ValidateCreate(bad)),
      (std::vector<std::string>{"reportingComponent: Required value",
                                // upstream also runs the qualified-name check on ""
                                "reportingComponent: Invalid value: \"\": name part must "
                                "be non-empty",
                                "reportingComponent: Invalid value: \"\": " + kNamePartMsg,
                                "reportingInstance: Required value", "action: Required value"}));
}

TEST(Validation, BecomesA422) {
  core::Pod pod = FromYaml<core::Pod>(kPod);
  pod.mutable_spec()->clear_containers();
  pod.mutable_spec()->set_dnspolicy("");
  const absl::Status st = storage::InvalidError("", "Pod", "web", ValidateCreate(pod));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "Pod \"web\" is invalid: [spec.containers: Required value, spec.dnsPolicy: Required "
            "value]");
  const storage::MetaStatus api = storage::ToApiStatus(st);
  EXPECT_EQ(api.code(), 422);
  ASSERT_EQ(api.details().causes_size(), 2);
  EXPECT_EQ(api.details().causes(0).reason(), "FieldValueRequired");
  EXPECT_EQ(api.details().causes(0).field(), "spec.containers");
}

TEST(Validation, OtherKindsAndMismatchedOld) {
  kslice::api::meta::v1::Status st;
  EXPECT_TRUE(ValidateCreate(st).empty());
  core::Pod pod = FromYaml<core::Pod>(kPod);
  core::Service svc = FromYaml<core::Service>(kService);
  std::vector<storage::FieldError> errs = ValidateUpdate(pod, svc);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].field, "kind");
}

// ---- apps/v1 ----

constexpr char kDaemonSet[] = R"(
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: tools, namespace: default}
spec:
  selector: {matchLabels: {app: tools}}
  template:
    metadata: {labels: {app: tools}}
    spec: {containers: [{name: c, image: i}]}
)";

TEST(Apps, ValidDaemonSetAndDeployment) {
  EXPECT_TRUE(ValidateCreate(FromYaml<apps::DaemonSet>(kDaemonSet)).empty());
  EXPECT_TRUE(ValidateCreate(FromYaml<apps::Deployment>(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  selector:
    matchExpressions: [{key: app, operator: In, values: [web, www]}]
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: i}]}
)"))
                  .empty());
}

TEST(Apps, DaemonSetRules) {
  auto ds = FromYaml<apps::DaemonSet>(kDaemonSet);
  ds.mutable_spec()->mutable_updatestrategy()->mutable_rollingupdate()->mutable_maxsurge()->set_intval(1);
  EXPECT_EQ(Strings(ValidateCreate(ds)),
            std::vector<std::string>{
                "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "
                "intstr.IntOrString{Type:0, IntVal:1, StrVal:\"\"}: may not be set when "
                "maxUnavailable is non-zero"});
  ds.mutable_spec()->mutable_updatestrategy()->set_type("Sometimes");
  EXPECT_EQ(Strings(ValidateCreate(ds)),
            std::vector<std::string>{"spec.updateStrategy: Unsupported value: \"Sometimes\": "
                                     "supported values: \"RollingUpdate\", \"OnDelete\""});

  auto empty = FromYaml<apps::DaemonSet>(kDaemonSet);
  empty.mutable_spec()->mutable_selector()->clear_matchlabels();
  EXPECT_EQ(Strings(ValidateCreate(empty)),
            std::vector<std::string>{"spec.selector: Invalid value: "
                                     "v1.LabelSelector{MatchLabels:map[string]string(nil), "
                                     "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty "
                                     "selector is invalid for daemonset"});
  auto deadline = FromYaml<apps::DaemonSet>(kDaemonSet);
  deadline.mutable_spec()->mutable_template_()->mutable_spec()->set_activedeadlineseconds(5);
  EXPECT_EQ(Strings(ValidateCreate(deadline)),
            std::vector<std::string>{"spec.template.spec.activeDeadlineSeconds: Invalid value: 5: "
                                     "activeDeadlineSeconds in DaemonSet is not Supported"});
}

TEST(Apps, DeploymentStrategyAndDeadline) {
  auto d = FromYaml<apps::Deployment>(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  minReadySeconds: 700
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 0%}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: i}]}
)");
  EXPECT_EQ(Strings(ValidateCreate(d)),
            (std::vector<std::string>{
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "
                "intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` "
                "is 0",
                "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than "
                "minReadySeconds"}));
  d.mutable_spec()->mutable_strategy()->set_type("Recreate");
  d.mutable_spec()->set_minreadyseconds(0);
  EXPECT_EQ(Strings(ValidateCreate(d)),
            std::vector<std::string>{"spec.strategy.rollingUpdate: Forbidden: may not be "
                                     "specified when strategy `type` is 'Recreate'"});
}

TEST(Apps, StatusCounters) {
  auto rs = FromYaml<apps::ReplicaSet>(R"(
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web, namespace: default, resourceVersion: "1"}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: i}]}
)");
  apps::ReplicaSet next = rs;
  next.mutable_status()->set_replicas(1);
  next.mutable_status()->set_readyreplicas(2);
  EXPECT_EQ(Strings(ValidateStatusUpdate(next, rs)),
            std::vector<std::string>{
                "status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas"});
}

}  // namespace
}  // namespace kslice::envtest::validation
