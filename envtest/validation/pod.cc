// Pod rules: k8s.io/kubernetes pkg/apis/core/validation/validation.go (ValidatePodCreate,
// ValidatePodSpec, validateContainers, validateProbe, ValidateResourceRequirements,
// ValidatePodUpdate, ValidatePodStatusUpdate), the parts listed in docs/validation.md.
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "api/resource/quantity.h"
#include "envtest/validation/checks.h"
#include "envtest/validation/internal.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"

namespace kslice::envtest::validation::internal {
namespace {

using api::core::v1::Container;
using api::core::v1::ContainerPort;
using api::core::v1::Pod;
using api::core::v1::PodSpec;
using api::core::v1::Probe;
using api::core::v1::ResourceRequirements;
using api::core::v1::Toleration;
using google::protobuf::RepeatedPtrField;
using google::protobuf::util::MessageDifferencer;

const std::vector<std::string> kPortProtocols = {"SCTP", "TCP", "UDP"};

bool IsSupportedProtocol(const std::string& p) { return p == "TCP" || p == "UDP" || p == "SCTP"; }

void ValidatePortNumOrName(const api::intstr::IntOrString& port, const std::string& path,
                           Errors* errs) {
  if (port.type() == 1) {
    for (const std::string& msg : IsValidPortName(port.strval())) {
      errs->push_back(Invalid(path, port.strval(), msg));
    }
  } else {
    for (const std::string& msg : IsValidPortNum(port.intval())) {
      errs->push_back(InvalidInt(path, port.intval(), msg));
    }
  }
}

void ValidateContainerPorts(const RepeatedPtrField<ContainerPort>& ports, const std::string& path,
                            Errors* errs) {
  std::set<std::string> names;
  for (int i = 0; i < ports.size(); ++i) {
    const ContainerPort& port = ports[i];
    const std::string p = Index(path, i);
    if (!port.name().empty()) {
      const std::vector<std::string> msgs = IsValidPortName(port.name());
      for (const std::string& msg : msgs)
        errs->push_back(Invalid(Child(p, "name"), port.name(), msg));
      if (msgs.empty() && !names.insert(port.name()).second) {
        errs->push_back(Duplicate(Child(p, "name"), port.name()));
      }
    }
    if (port.containerport() == 0) {
      errs->push_back(Required(Child(p, "containerPort")));
    } else {
      for (const std::string& msg : IsValidPortNum(port.containerport())) {
        errs->push_back(InvalidInt(Child(p, "containerPort"), port.containerport(), msg));
      }
    }
    if (port.hostport() != 0) {
      for (const std::string& msg : IsValidPortNum(port.hostport())) {
        errs->push_back(InvalidInt(Child(p, "hostPort"), port.hostport(), msg));
      }
    }
    if (port.protocol().empty()) {
      errs->push_back(Required(Child(p, "protocol")));
    } else if (!IsSupportedProtocol(port.protocol())) {
      errs->push_back(NotSupported(Child(p, "protocol"), port.protocol(), kPortProtocols));
    }
  }
}

// helper.IsNativeResource: no domain, or a kubernetes.io domain.
bool IsNativeResource(const std::string& name) {
  const std::size_t slash = name.find('/');
  if (slash == std::string::npos) return true;
  const std::string_view prefix = std::string_view(name).substr(0, slash);
  return prefix == "kubernetes.io" || absl::EndsWith(Sv(prefix), ".kubernetes.io");
}

bool IsHugePages(const std::string& name) { return absl::StartsWith(name, "hugepages-"); }

// helper.IsOvercommitAllowed: native resources other than huge pages.
bool IsOvercommitAllowed(const std::string& name) {
  return IsNativeResource(name) && !IsHugePages(name);
}

void ValidateContainerResourceName(const std::string& name, const std::string& path, Errors* errs) {
  const std::vector<std::string> msgs = IsQualifiedName(name);
  for (const std::string& msg : msgs) errs->push_back(Invalid(path, name, msg));
  if (!msgs.empty()) return;
  if (name.find('/') == std::string::npos) {
    if (name != "cpu" && name != "memory" && name != "ephemeral-storage" && !IsHugePages(name)) {
      errs->push_back(Invalid(path, name, "must be a standard resource for containers"));
    }
  } else if (!IsNativeResource(name) && absl::StartsWith(name, "requests.")) {
    errs->push_back(Invalid(path, name, "doesn't follow extended resource name standard"));
  }
}

std::optional<resource::Quantity> ParseQuantity(const api::resource::Quantity& q) {
  absl::StatusOr<resource::Quantity> parsed = resource::Quantity::Parse(q.string());
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

void ValidateResourceRequirements(const ResourceRequirements& req, const std::string& path,
                                  Errors* errs) {
  const std::string lim_path = Child(path, "limits");
  const std::string req_path = Child(path, "requests");
  for (const std::string& name : SortedKeys(req.limits())) {
    const std::string p = Key(lim_path, name);
    ValidateContainerResourceName(name, p, errs);
    std::optional<resource::Quantity> q = ParseQuantity(req.limits().at(name));
    if (q && q->Sign() < 0) {
      errs->push_back(Invalid(p, q->String(), "must be greater than or equal to 0"));
    }
  }
  for (const std::string& name : SortedKeys(req.requests())) {
    const std::string p = Key(req_path, name);
    ValidateContainerResourceName(name, p, errs);
    std::optional<resource::Quantity> q = ParseQuantity(req.requests().at(name));
    if (!q) continue;
    if (q->Sign() < 0) {
      errs->push_back(Invalid(p, q->String(), "must be greater than or equal to 0"));
    }
    auto limit_it = req.limits().find(name);
    if (limit_it != req.limits().end()) {
      std::optional<resource::Quantity> limit = ParseQuantity(limit_it->second);
      if (!limit) continue;
      const int cmp = q->Compare(*limit);
      if (cmp != 0 && !IsOvercommitAllowed(name)) {
        errs->push_back(
            Invalid(req_path, q->String(),
                    absl::StrCat("must be equal to ", name, " limit of ", limit->String())));
      } else if (cmp > 0) {
        errs->push_back(Invalid(
            req_path, q->String(),
            absl::StrCat("must be less than or equal to ", name, " limit of ", limit->String())));
      }
    } else if (!IsOvercommitAllowed(name)) {
      errs->push_back(Required(lim_path, "Limit must be set for non overcommitable resources"));
    }
  }
}

void ValidateHandler(const api::core::v1::ProbeHandler& h, const std::string& path, Errors* errs) {
  int handlers = 0;
  const auto count = [&](const char* name) {
    if (handlers > 0) {
      errs->push_back(Forbidden(Child(path, name), "may not specify more than 1 handler type"));
      return false;
    }
    ++handlers;
    return true;
  };
  if (h.has_exec() && count("exec")) {
    if (h.exec().command().empty())
      errs->push_back(Required(Child(Child(path, "exec"), "command")));
  }
  if (h.has_httpget() && count("httpGet")) {
    const auto& http = h.httpget();
    const std::string p = Child(path, "httpGet");
    if (http.path().empty()) errs->push_back(Required(Child(p, "path")));
    ValidatePortNumOrName(http.port(), Child(p, "port"), errs);
    if (http.scheme() != "HTTP" && http.scheme() != "HTTPS") {
      errs->push_back(NotSupported(Child(p, "scheme"), http.scheme(), {"HTTP", "HTTPS"}));
    }
  }
  if (h.has_tcpsocket() && count("tcpSocket")) {
    ValidatePortNumOrName(h.tcpsocket().port(), Child(Child(path, "tcpSocket"), "port"), errs);
  }
  if (h.has_grpc() && count("grpc")) {
    for (const std::string& msg : IsValidPortNum(h.grpc().port())) {
      errs->push_back(InvalidInt(Child(Child(path, "grpc"), "port"), h.grpc().port(), msg));
    }
  }
  if (handlers == 0) errs->push_back(Required(path, "must specify a handler type"));
}

enum class ProbeKind { kLiveness, kReadiness, kStartup };

void ValidateProbe(bool present, const Probe& probe, ProbeKind kind, const std::string& path,
                   Errors* errs) {
  if (!present) return;
  ValidateHandler(probe.handler(), path, errs);
  ValidateNonnegative(probe.initialdelayseconds(), Child(path, "initialDelaySeconds"), errs);
  ValidateNonnegative(probe.timeoutseconds(), Child(path, "timeoutSeconds"), errs);
  ValidateNonnegative(probe.periodseconds(), Child(path, "periodSeconds"), errs);
  ValidateNonnegative(probe.successthreshold(), Child(path, "successThreshold"), errs);
  ValidateNonnegative(probe.failurethreshold(), Child(path, "failureThreshold"), errs);
  if (probe.has_terminationgraceperiodseconds() && probe.terminationgraceperiodseconds() <= 0) {
    errs->push_back(InvalidInt(Child(path, "terminationGracePeriodSeconds"),
                               probe.terminationgraceperiodseconds(), "must be greater than 0"));
  }
  if (kind == ProbeKind::kReadiness) {
    if (probe.has_terminationgraceperiodseconds()) {
      errs->push_back(InvalidInt(Child(path, "terminationGracePeriodSeconds"),
                                 probe.terminationgraceperiodseconds(),
                                 "must not be set for readinessProbes"));
    }
  } else if (probe.successthreshold() != 1) {
    errs->push_back(
        InvalidInt(Child(path, "successThreshold"), probe.successthreshold(), "must be 1"));
  }
}

void ValidatePullPolicy(const std::string& policy, const std::string& path, Errors* errs) {
  if (policy == "Always" || policy == "IfNotPresent" || policy == "Never") return;
  if (policy.empty()) {
    errs->push_back(Required(path));
  } else {
    errs->push_back(NotSupported(path, policy, {"Always", "IfNotPresent", "Never"}));
  }
}

template <typename Selector>
void ValidateKeySelector(const Selector& sel, const std::string& path, Errors* errs) {
  const std::string& name = sel.localobjectreference().name();
  for (const std::string& msg : NameIsDNSSubdomain(name, false)) {
    errs->push_back(Invalid(Child(path, "name"), name, msg));
  }
  if (sel.key().empty()) {
    errs->push_back(Required(Child(path, "key")));
  } else {
    for (const std::string& msg : IsConfigMapKey(sel.key())) {
      errs->push_back(Invalid(Child(path, "key"), sel.key(), msg));
    }
  }
}

// ValidateEnv with RelaxedEnvironmentVariableValidation (on by default since v1.32).
void ValidateEnv(const RepeatedPtrField<api::core::v1::EnvVar>& env, const std::string& path,
                 Errors* errs) {
  for (int i = 0; i < env.size(); ++i) {
    const auto& ev = env[i];
    const std::string p = Index(path, i);
    if (ev.name().empty()) {
      errs->push_back(Required(Child(p, "name")));
      errs->push_back(Invalid(Child(p, "name"), "", "environment variable name must be non-empty"));
    }
    for (unsigned char c : ev.name()) {
      if (c < 0x20 || c > 0x7e || c == '=') {
        errs->push_back(Invalid(Child(p, "name"), ev.name(),
                                "a valid environment variable name must consist only of printable "
                                "ASCII characters other than '='"));
        break;
      }
    }
    if (!ev.has_valuefrom()) continue;
    const auto& from = ev.valuefrom();
    const std::string fp = Child(p, "valueFrom");
    int sources = 0;
    if (from.has_fieldref()) {
      ++sources;
      const std::string rp = Child(fp, "fieldRef");
      if (from.fieldref().apiversion().empty()) errs->push_back(Required(Child(rp, "apiVersion")));
      if (from.fieldref().fieldpath().empty()) errs->push_back(Required(Child(rp, "fieldPath")));
    }
    if (from.has_resourcefieldref()) {
      ++sources;
      if (from.resourcefieldref().resource().empty()) {
        errs->push_back(Required(Child(Child(fp, "resourceFieldRef"), "resource")));
      }
    }
    if (from.has_configmapkeyref()) {
      ++sources;
      ValidateKeySelector(from.configmapkeyref(), Child(fp, "configMapKeyRef"), errs);
    }
    if (from.has_secretkeyref()) {
      ++sources;
      ValidateKeySelector(from.secretkeyref(), Child(fp, "secretKeyRef"), errs);
    }
    if (from.has_filekeyref()) ++sources;
    if (sources == 0) {
      errs->push_back(Invalid(fp, "",
                              "must specify one of: `fieldRef`, `resourceFieldRef`, "
                              "`configMapKeyRef` or `secretKeyRef`"));
    } else if (!ev.value().empty()) {
      errs->push_back(Invalid(fp, "", "may not be specified when `value` is not empty"));
    } else if (sources > 1) {
      errs->push_back(Invalid(fp, "", "may not have more than one field specified at a time"));
    }
  }
}

// The checks shared by regular and init containers (validateContainerCommon).
void ValidateContainerCommon(const Container& ctr, const std::set<std::string>& volumes,
                             std::set<std::string>* names, const std::string& path, Errors* errs) {
  if (ctr.name().empty()) {
    errs->push_back(Required(Child(path, "name")));
  } else {
    ValidateDNS1123Label(ctr.name(), Child(path, "name"), errs);
    if (!names->insert(ctr.name()).second)
      errs->push_back(Duplicate(Child(path, "name"), ctr.name()));
  }
  if (ctr.image().empty()) {
    errs->push_back(Required(Child(path, "image")));
  } else if (ctr.image() != std::string(absl::StripAsciiWhitespace(ctr.image()))) {
    errs->push_back(
        Invalid(Child(path, "image"), ctr.image(), "must not have leading or trailing whitespace"));
  }
  const std::string& tmp = ctr.terminationmessagepolicy();
  if (tmp.empty()) {
    errs->push_back(Required(Child(path, "terminationMessagePolicy")));
  } else if (tmp != "File" && tmp != "FallbackToLogsOnError") {
    errs->push_back(NotSupported(Child(path, "terminationMessagePolicy"), tmp,
                                 {"File", "FallbackToLogsOnError"}));
  }
  ValidateContainerPorts(ctr.ports(), Child(path, "ports"), errs);
  ValidateEnv(ctr.env(), Child(path, "env"), errs);
  std::set<std::string> mount_paths;
  for (int i = 0; i < ctr.volumemounts_size(); ++i) {
    const auto& mnt = ctr.volumemounts(i);
    const std::string p = Index(Child(path, "volumeMounts"), i);
    if (mnt.name().empty()) {
      errs->push_back(Required(Child(p, "name")));
    } else if (volumes.count(mnt.name()) == 0) {
      errs->push_back(storage::NotFoundFieldError(Child(p, "name"), mnt.name()));
    }
    if (mnt.mountpath().empty()) {
      errs->push_back(Required(Child(p, "mountPath")));
    } else if (!mount_paths.insert(mnt.mountpath()).second) {
      errs->push_back(Invalid(Child(p, "mountPath"), mnt.mountpath(), "must be unique"));
    }
  }
  ValidatePullPolicy(ctr.imagepullpolicy(), Child(path, "imagePullPolicy"), errs);
  ValidateResourceRequirements(ctr.resources(), Child(path, "resources"), errs);
}

std::set<std::string> ValidateVolumes(const PodSpec& spec, Errors* errs) {
  std::set<std::string> names;
  for (int i = 0; i < spec.volumes_size(); ++i) {
    const auto& vol = spec.volumes(i);
    const std::string p = Index("spec.volumes", i);
    if (vol.name().empty()) {
      errs->push_back(Required(Child(p, "name")));
    } else {
      const std::vector<std::string> msgs = IsDNS1123Label(vol.name());
      for (const std::string& msg : msgs)
        errs->push_back(Invalid(Child(p, "name"), vol.name(), msg));
      if (msgs.empty()) {
        if (!names.insert(vol.name()).second)
          errs->push_back(Duplicate(Child(p, "name"), vol.name()));
      }
    }
    // Exactly one volume source.
    const google::protobuf::Message& src = vol.volumesource();
    const google::protobuf::Reflection* refl = src.GetReflection();
    std::vector<const google::protobuf::FieldDescriptor*> set_fields;
    refl->ListFields(src, &set_fields);
    std::sort(set_fields.begin(), set_fields.end(),
              [](const auto* a, const auto* b) { return a->index() < b->index(); });
    for (std::size_t k = 1; k < set_fields.size(); ++k) {
      errs->push_back(
          Forbidden(Child(p, set_fields[k]->name()), "may not specify more than 1 volume type"));
    }
    if (set_fields.empty()) errs->push_back(Required(p, "must specify a volume type"));
  }
  return names;
}

void ValidateTolerations(const RepeatedPtrField<Toleration>& tols, const std::string& path,
                         Errors* errs) {
  for (int i = 0; i < tols.size(); ++i) {
    const Toleration& t = tols[i];
    const std::string p = Index(path, i);
    if (!t.key().empty()) {
      ValidateQualifiedName(t.key(), Child(p, "key"), errs);
    }
    if (t.key().empty() && t.operator_() != "Exists") {
      errs->push_back(Invalid(Child(p, "operator"), t.operator_(),
                              "operator must be Exists when `key` is empty, which means \"match "
                              "all values and all keys\""));
    }
    if (t.has_tolerationseconds() && t.effect() != "NoExecute") {
      errs->push_back(Invalid(Child(p, "effect"), t.effect(),
                              "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (t.operator_().empty() || t.operator_() == "Equal") {
      const std::vector<std::string> msgs = IsValidLabelValue(t.value());
      if (!msgs.empty()) {
        errs->push_back(Invalid(Child(p, "operator"), t.value(), absl::StrJoin(msgs, ";")));
      }
    } else if (t.operator_() == "Exists") {
      if (!t.value().empty()) {
        // Upstream prints the whole (internal, untagged) Toleration struct.
        const std::string json = absl::StrCat(
            "{\"Key\":", JsonString(t.key()), ",\"Operator\":", JsonString(t.operator_()),
            ",\"Value\":", JsonString(t.value()), ",\"Effect\":", JsonString(t.effect()),
            ",\"TolerationSeconds\":",
            t.has_tolerationseconds() ? absl::StrCat(t.tolerationseconds()) : "null", "}");
        errs->push_back(InvalidJson(Child(p, "operator"), json,
                                    "value must be empty when `operator` is 'Exists'"));
      }
    } else {
      errs->push_back(NotSupported(Child(p, "operator"), t.operator_(), {"Equal", "Exists"}));
    }
    if (!t.effect().empty() && t.effect() != "NoSchedule" && t.effect() != "PreferNoSchedule" &&
        t.effect() != "NoExecute") {
      errs->push_back(NotSupported(Child(p, "effect"), t.effect(),
                                   {"NoSchedule", "PreferNoSchedule", "NoExecute"}));
    }
  }
}

void ValidatePodSpec(const PodSpec& spec, Errors* errs) {
  const std::set<std::string> volumes = ValidateVolumes(spec, errs);
  std::set<std::string> names;
  if (spec.containers().empty()) errs->push_back(Required("spec.containers"));
  for (int i = 0; i < spec.containers_size(); ++i) {
    const Container& ctr = spec.containers(i);
    const std::string p = Index("spec.containers", i);
    ValidateContainerCommon(ctr, volumes, &names, p, errs);
    ValidateProbe(ctr.has_livenessprobe(), ctr.livenessprobe(), ProbeKind::kLiveness,
                  Child(p, "livenessProbe"), errs);
    ValidateProbe(ctr.has_readinessprobe(), ctr.readinessprobe(), ProbeKind::kReadiness,
                  Child(p, "readinessProbe"), errs);
    ValidateProbe(ctr.has_startupprobe(), ctr.startupprobe(), ProbeKind::kStartup,
                  Child(p, "startupProbe"), errs);
  }
  for (int i = 0; i < spec.initcontainers_size(); ++i) {
    const Container& ctr = spec.initcontainers(i);
    const std::string p = Index("spec.initContainers", i);
    ValidateContainerCommon(ctr, volumes, &names, p, errs);
    const bool sidecar = ctr.has_restartpolicy() && ctr.restartpolicy() == "Always";
    if (ctr.has_restartpolicy() && !sidecar) {
      errs->push_back(NotSupported(Child(p, "restartPolicy"), ctr.restartpolicy(), {"Always"}));
    }
    if (!sidecar) {
      if (ctr.has_livenessprobe()) {
        errs->push_back(
            Forbidden(Child(p, "livenessProbe"),
                      "may not be set for init containers without restartPolicy=Always"));
      }
      if (ctr.has_readinessprobe()) {
        errs->push_back(
            Forbidden(Child(p, "readinessProbe"),
                      "may not be set for init containers without restartPolicy=Always"));
      }
      if (ctr.has_startupprobe()) {
        errs->push_back(
            Forbidden(Child(p, "startupProbe"),
                      "may not be set for init containers without restartPolicy=Always"));
      }
    } else {
      ValidateProbe(ctr.has_livenessprobe(), ctr.livenessprobe(), ProbeKind::kLiveness,
                    Child(p, "livenessProbe"), errs);
      ValidateProbe(ctr.has_readinessprobe(), ctr.readinessprobe(), ProbeKind::kReadiness,
                    Child(p, "readinessProbe"), errs);
      ValidateProbe(ctr.has_startupprobe(), ctr.startupprobe(), ProbeKind::kStartup,
                    Child(p, "startupProbe"), errs);
    }
  }
  const std::string& rp = spec.restartpolicy();
  if (rp.empty()) {
    errs->push_back(Required("spec.restartPolicy"));
  } else if (rp != "Always" && rp != "OnFailure" && rp != "Never") {
    errs->push_back(NotSupported("spec.restartPolicy", rp, {"Always", "OnFailure", "Never"}));
  }
  const std::string& dp = spec.dnspolicy();
  if (dp.empty()) {
    errs->push_back(Required("spec.dnsPolicy"));
  } else if (dp != "ClusterFirstWithHostNet" && dp != "ClusterFirst" && dp != "Default" &&
             dp != "None") {
    errs->push_back(NotSupported("spec.dnsPolicy", dp,
                                 {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"}));
  }
  ValidateLabels(spec.nodeselector(), "spec.nodeSelector", errs);
  if (!spec.serviceaccountname().empty()) {
    for (const std::string& msg : NameIsDNSSubdomain(spec.serviceaccountname(), false)) {
      errs->push_back(Invalid("spec.serviceAccountName", spec.serviceaccountname(), msg));
    }
  }
  if (!spec.nodename().empty()) {
    for (const std::string& msg : NameIsDNSSubdomain(spec.nodename(), false)) {
      errs->push_back(Invalid("spec.nodeName", spec.nodename(), msg));
    }
  }
  if (spec.has_activedeadlineseconds()) {
    const int64_t v = spec.activedeadlineseconds();
    if (v < 1 || v > 2147483647) {
      errs->push_back(
          InvalidInt("spec.activeDeadlineSeconds", v, InclusiveRangeError(1, 2147483647)));
    }
  }
  if (!spec.hostname().empty()) ValidateDNS1123Label(spec.hostname(), "spec.hostname", errs);
  if (!spec.subdomain().empty()) ValidateDNS1123Label(spec.subdomain(), "spec.subdomain", errs);
  ValidateTolerations(spec.tolerations(), "spec.tolerations", errs);
  if (!spec.priorityclassname().empty()) {
    for (const std::string& msg : NameIsDNSSubdomain(spec.priorityclassname(), false)) {
      errs->push_back(Invalid("spec.priorityClassName", spec.priorityclassname(), msg));
    }
  }
}

bool SameToleration(const Toleration& a, const Toleration& b) {
  return a.key() == b.key() && a.operator_() == b.operator_() && a.value() == b.value() &&
         a.effect() == b.effect();
}

}  // namespace

void ValidatePodTemplateSpec(const api::core::v1::PodTemplateSpec& tmpl, const std::string& path,
                             Errors* errs) {
  ValidateLabels(tmpl.metadata().labels(), Child(Child(path, "metadata"), "labels"), errs);
  // ValidatePodSpec names fields from "spec."; a template's spec sits under `path`.
  Errors spec_errs;
  ValidatePodSpec(tmpl.spec(), &spec_errs);
  for (FieldError& e : spec_errs) {
    e.field = Child(path, e.field);
    errs->push_back(std::move(e));
  }
}

void ValidatePod(const Pod& pod, Errors* errs) {
  ValidateObjectMeta(pod.metadata(), true, NameRule::kDNSSubdomain, errs);
  ValidatePodSpec(pod.spec(), errs);
}

void ValidatePodUpdate(const Pod& pod, const Pod& old, Errors* errs) {
  ValidateObjectMetaUpdate(pod.metadata(), old.metadata(), errs);
  ValidatePodSpec(pod.spec(), errs);
  const PodSpec& spec = pod.spec();
  const PodSpec& old_spec = old.spec();
  if (spec.containers_size() != old_spec.containers_size()) {
    errs->push_back(Forbidden("spec.containers", "pod updates may not add or remove containers"));
    return;
  }
  if (spec.initcontainers_size() != old_spec.initcontainers_size()) {
    errs->push_back(
        Forbidden("spec.initContainers", "pod updates may not add or remove containers"));
    return;
  }
  if (spec.has_activedeadlineseconds()) {
    const int64_t v = spec.activedeadlineseconds();
    if (v < 0 || v > 2147483647) {
      errs->push_back(
          InvalidInt("spec.activeDeadlineSeconds", v, InclusiveRangeError(0, 2147483647)));
      return;
    }
    if (old_spec.has_activedeadlineseconds() && old_spec.activedeadlineseconds() < v) {
      errs->push_back(InvalidInt("spec.activeDeadlineSeconds", v,
                                 "must be less than or equal to previous value"));
      return;
    }
  } else if (old_spec.has_activedeadlineseconds()) {
    errs->push_back(InvalidJson("spec.activeDeadlineSeconds", "null",
                                "must not update from a positive integer to nil value"));
  }
  // Tolerations may only be added (tolerationSeconds of existing ones may change).
  for (const Toleration& o : old_spec.tolerations()) {
    bool found = false;
    for (const Toleration& n : spec.tolerations()) found = found || SameToleration(o, n);
    if (!found) {
      errs->push_back(
          Forbidden("spec.tolerations",
                    "existing toleration can not be modified except its tolerationSeconds"));
      break;
    }
  }
  // Everything else is immutable: copy the mutable fields of the new spec into the old
  // one and compare.
  PodSpec munged = old_spec;
  // (An empty image is reported as Required by the spec checks above.)
  const auto copy_image = [](const Container& from, Container* to) {
    if (from.has_image()) {
      to->set_image(from.image());
    } else {
      to->clear_image();
    }
  };
  for (int i = 0; i < munged.containers_size(); ++i) {
    copy_image(spec.containers(i), munged.mutable_containers(i));
  }
  for (int i = 0; i < munged.initcontainers_size(); ++i) {
    copy_image(spec.initcontainers(i), munged.mutable_initcontainers(i));
  }
  if (spec.has_activedeadlineseconds()) {
    munged.set_activedeadlineseconds(spec.activedeadlineseconds());
  } else {
    munged.clear_activedeadlineseconds();
  }
  *munged.mutable_tolerations() = spec.tolerations();
  if (old_spec.has_terminationgraceperiodseconds() &&
      old_spec.terminationgraceperiodseconds() < 0 && spec.has_terminationgraceperiodseconds() &&
      spec.terminationgraceperiodseconds() == 1) {
    munged.set_terminationgraceperiodseconds(1);
  }
  // Scheduling gates may only be removed; the pod's nodeName is set through binding.
  *munged.mutable_schedulinggates() = spec.schedulinggates();
  if (!MessageDifferencer::Equals(munged, spec)) {
    // Upstream appends a cmp.Diff of the specs; we name the changed fields instead.
    std::vector<std::string> changed;
    const google::protobuf::Descriptor* d = PodSpec::descriptor();
    const google::protobuf::Reflection* r = munged.GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      PodSpec a = munged;
      PodSpec b = spec;
      for (int j = 0; j < d->field_count(); ++j) {
        if (j == i) continue;
        r->ClearField(&a, d->field(j));
        r->ClearField(&b, d->field(j));
      }
      if (!MessageDifferencer::Equals(a, b)) {
        changed.push_back(absl::StrCat("spec.", d->field(i)->json_name()));
      }
    }
    errs->push_back(Forbidden(
        "spec",
        absl::StrCat("pod updates may not change fields other than "
                     "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                     "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                     "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
                     "set to 1 if it was previously negative)\n  changed: ",
                     absl::StrJoin(changed, ", "))));
  }
}

void ValidatePodStatusUpdate(const Pod& pod, const Pod& old, Errors* errs) {
  ValidateObjectMetaUpdate(pod.metadata(), old.metadata(), errs);
  const auto& status = pod.status();
  if (!status.nominatednodename().empty()) {
    for (const std::string& msg : NameIsDNSSubdomain(status.nominatednodename(), false)) {
      errs->push_back(Invalid("status.nominatedNodeName", status.nominatednodename(), msg));
    }
  }
  for (int i = 0; i < status.podips_size(); ++i) {
    ValidateIPLegacy(status.podips(i).ip(), Index("status.podIPs", i), errs);
  }
  for (int i = 0; i < status.hostips_size(); ++i) {
    ValidateIPLegacy(status.hostips(i).ip(), Index("status.hostIPs", i), errs);
  }
}

}  // namespace kslice::envtest::validation::internal
