#include "envtest/defaults/defaults.h"

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "api/apps/v1/apps.pb.h"
#include "api/codec/canonical.h"
#include "api/coordination/v1/coordination.pb.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "api/resource/quantity.h"

namespace kslice::envtest::defaults {
namespace {

namespace core = kslice::api::core::v1;
namespace discovery = kslice::api::discovery::v1;
namespace apps = kslice::api::apps::v1;

constexpr int32_t kDefaultMode = 0644;
constexpr int32_t kClientIPAffinitySeconds = 10800;

// parsers.ParseImageName's tag: "latest" when the reference names neither a tag nor a
// digest; "" when it has a digest only or does not parse.
std::string ImageTag(std::string_view image) {
  if (image.empty()) return "";
  for (char c : image) {
    if (c == ' ' || c == '\t' || c == '\n') return "";
  }
  std::string_view name = image;
  bool digest = false;
  if (const std::size_t at = name.find('@'); at != std::string_view::npos) {
    name = name.substr(0, at);
    digest = true;
  }
  const std::size_t slash = name.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? name : name.substr(slash + 1);
  // The repository path must be lower case (the registry host part may not be).
  const std::string_view path = slash == std::string_view::npos ? name : name.substr(0, slash);
  const std::size_t first_slash = path.find('/');
  const std::string_view repo_dirs =
      (slash == std::string_view::npos || first_slash == std::string_view::npos)
          ? std::string_view()
          : path.substr(first_slash + 1);
  const std::size_t colon = last.find(':');
  const std::string_view repo_last = colon == std::string_view::npos ? last : last.substr(0, colon);
  for (std::string_view part : {repo_dirs, repo_last}) {
    for (char c : part) {
      if (c >= 'A' && c <= 'Z') return "";
    }
  }
  if (colon != std::string_view::npos) return std::string(last.substr(colon + 1));
  return digest ? "" : "latest";
}

void DefaultHTTPGet(core::HTTPGetAction* http) {
  if (http->path().empty()) http->set_path("/");
  if (http->scheme().empty()) http->set_scheme("HTTP");
}

void DefaultProbe(core::Probe* probe) {
  if (probe->timeoutseconds() == 0) probe->set_timeoutseconds(1);
  if (probe->periodseconds() == 0) probe->set_periodseconds(10);
  if (probe->successthreshold() == 0) probe->set_successthreshold(1);
  if (probe->failurethreshold() == 0) probe->set_failurethreshold(3);
  core::ProbeHandler* h = probe->mutable_handler();
  if (h->has_httpget()) DefaultHTTPGet(h->mutable_httpget());
  if (h->has_grpc() && !h->grpc().has_service()) h->mutable_grpc()->set_service("");
}

void DefaultLifecycleHandler(core::LifecycleHandler* h) {
  if (h->has_httpget()) DefaultHTTPGet(h->mutable_httpget());
}

template <typename C>
void DefaultContainerFields(C* c) {
  if (c->imagepullpolicy().empty()) {
    c->set_imagepullpolicy(ImageTag(c->image()) == "latest" ? "Always" : "IfNotPresent");
  }
  if (c->terminationmessagepath().empty()) c->set_terminationmessagepath("/dev/termination-log");
  if (c->terminationmessagepolicy().empty()) c->set_terminationmessagepolicy("File");
  for (core::ContainerPort& p : *c->mutable_ports()) {
    if (p.protocol().empty()) p.set_protocol("TCP");
  }
  for (core::EnvVar& e : *c->mutable_env()) {
    if (e.has_valuefrom() && e.valuefrom().has_fieldref() &&
        e.valuefrom().fieldref().apiversion().empty()) {
      e.mutable_valuefrom()->mutable_fieldref()->set_apiversion("v1");
    }
  }
  if (c->has_livenessprobe()) DefaultProbe(c->mutable_livenessprobe());
  if (c->has_readinessprobe()) DefaultProbe(c->mutable_readinessprobe());
  if (c->has_startupprobe()) DefaultProbe(c->mutable_startupprobe());
  if (c->has_lifecycle()) {
    if (c->lifecycle().has_poststart()) {
      DefaultLifecycleHandler(c->mutable_lifecycle()->mutable_poststart());
    }
    if (c->lifecycle().has_prestop()) {
      DefaultLifecycleHandler(c->mutable_lifecycle()->mutable_prestop());
    }
  }
}

// SetDefaults_Pod: requests default to limits.
void DefaultRequestsFromLimits(core::Container* c) {
  if (!c->has_resources() || c->resources().limits().empty()) return;
  core::ResourceRequirements* r = c->mutable_resources();
  for (const auto& [name, q] : r->limits()) {
    if (r->requests().find(name) == r->requests().end()) (*r->mutable_requests())[name] = q;
  }
}

void DefaultHostNetworkPorts(google::protobuf::RepeatedPtrField<core::Container>* containers) {
  for (core::Container& c : *containers) {
    for (core::ContainerPort& p : *c.mutable_ports()) {
      if (p.hostport() == 0) p.set_hostport(p.containerport());
    }
  }
}

void DefaultVolume(core::Volume* v) {
  const core::VolumeSource& src = v->volumesource();
  std::vector<const google::protobuf::FieldDescriptor*> set;
  src.GetReflection()->ListFields(src, &set);
  if (set.empty()) {
    v->mutable_volumesource()->mutable_emptydir();
    return;
  }
  core::VolumeSource* s = v->mutable_volumesource();
  if (s->has_hostpath() && !s->hostpath().has_type()) s->mutable_hostpath()->set_type("");
  if (s->has_secret() && !s->secret().has_defaultmode()) {
    s->mutable_secret()->set_defaultmode(kDefaultMode);
  }
  if (s->has_configmap() && !s->configmap().has_defaultmode()) {
    s->mutable_configmap()->set_defaultmode(kDefaultMode);
  }
  if (s->has_downwardapi() && !s->downwardapi().has_defaultmode()) {
    s->mutable_downwardapi()->set_defaultmode(kDefaultMode);
  }
  if (s->has_projected()) {
    core::ProjectedVolumeSource* p = s->mutable_projected();
    if (!p->has_defaultmode()) p->set_defaultmode(kDefaultMode);
    for (core::VolumeProjection& proj : *p->mutable_sources()) {
      if (proj.has_serviceaccounttoken() && !proj.serviceaccounttoken().has_expirationseconds()) {
        proj.mutable_serviceaccounttoken()->set_expirationseconds(3600);
      }
    }
  }
}

// qos.GetPodQOS, for cpu and memory.
std::string QOSClass(const core::PodSpec& spec) {
  bool any = false;
  bool guaranteed = true;
  auto visit = [&](const core::Container& c) {
    for (const char* name : {"cpu", "memory"}) {
      const auto& req = c.resources().requests();
      const auto& lim = c.resources().limits();
      auto r = req.find(name);
      auto l = lim.find(name);
      const bool has_req = r != req.end() && r->second.string() != "0";
      const bool has_lim = l != lim.end() && l->second.string() != "0";
      any = any || has_req || has_lim;
      if (!has_lim || (has_req && r->second.string() != l->second.string())) {
        // Compare numerically when the strings differ.
        if (has_lim && has_req) {
          auto a = resource::Quantity::Parse(r->second.string());
          auto b = resource::Quantity::Parse(l->second.string());
          if (a.ok() && b.ok() && a->Compare(*b) == 0) continue;
        }
        guaranteed = false;
      }
    }
  };
  for (const core::Container& c : spec.initcontainers()) visit(c);
  for (const core::Container& c : spec.containers()) visit(c);
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

// SetDefaults_PodSpec and the defaults of everything inside a PodSpec: what a pod
// template (Deployment, ReplicaSet, DaemonSet) gets. Pod-only defaults (requests from
// limits, enableServiceLinks, host ports of host-network pods: a feature gate upstream
// keeps off for templates) are in DefaultPod.
void DefaultPodSpec(core::PodSpec* spec) {
  if (spec->dnspolicy().empty()) spec->set_dnspolicy("ClusterFirst");
  if (spec->restartpolicy().empty()) spec->set_restartpolicy("Always");
  if (!spec->has_securitycontext()) spec->mutable_securitycontext();
  if (!spec->has_terminationgraceperiodseconds()) spec->set_terminationgraceperiodseconds(30);
  if (spec->schedulername().empty()) spec->set_schedulername("default-scheduler");
  for (core::Volume& v : *spec->mutable_volumes()) DefaultVolume(&v);
  for (core::Container& c : *spec->mutable_containers()) DefaultContainerFields(&c);
  for (core::Container& c : *spec->mutable_initcontainers()) DefaultContainerFields(&c);
  for (core::EphemeralContainer& e : *spec->mutable_ephemeralcontainers()) {
    DefaultContainerFields(e.mutable_ephemeralcontainercommon());
  }
}

void DefaultPod(core::Pod* pod) {
  core::PodSpec* spec = pod->mutable_spec();
  for (core::Container& c : *spec->mutable_containers()) DefaultRequestsFromLimits(&c);
  for (core::Container& c : *spec->mutable_initcontainers()) DefaultRequestsFromLimits(&c);
  if (!spec->has_enableservicelinks()) spec->set_enableservicelinks(true);
  if (spec->hostnetwork()) {
    DefaultHostNetworkPorts(spec->mutable_containers());
    DefaultHostNetworkPorts(spec->mutable_initcontainers());
  }
  DefaultPodSpec(spec);
  // Pod strategy PrepareForCreate: phase and QoS class.
  if (pod->status().phase().empty()) pod->mutable_status()->set_phase("Pending");
  if (pod->status().qosclass().empty()) pod->mutable_status()->set_qosclass(QOSClass(*spec));
}

bool ExternallyAccessible(const core::ServiceSpec& spec) {
  return spec.type() == "LoadBalancer" || spec.type() == "NodePort" ||
         (spec.type() == "ClusterIP" && !spec.externalips().empty());
}

void DefaultService(core::Service* svc, bool ip_families) {
  core::ServiceSpec* spec = svc->mutable_spec();
  if (spec->sessionaffinity().empty()) spec->set_sessionaffinity("None");
  if (spec->sessionaffinity() == "None") spec->clear_sessionaffinityconfig();
  if (spec->sessionaffinity() == "ClientIP") {
    const core::SessionAffinityConfig& cfg = spec->sessionaffinityconfig();
    if (!cfg.has_clientip() || !cfg.clientip().has_timeoutseconds()) {
      spec->mutable_sessionaffinityconfig()->mutable_clientip()->set_timeoutseconds(
          kClientIPAffinitySeconds);
    }
  }
  if (spec->type().empty()) spec->set_type("ClusterIP");
  for (core::ServicePort& p : *spec->mutable_ports()) {
    if (p.protocol().empty()) p.set_protocol("TCP");
    const api::intstr::IntOrString& tp = p.targetport();
    const bool zero = tp.type() == 1 ? tp.strval().empty() : tp.intval() == 0;
    if (zero) {
      api::intstr::IntOrString* t = p.mutable_targetport();
      t->Clear();
      t->set_intval(p.port());
    }
  }
  if (ExternallyAccessible(*spec) && spec->externaltrafficpolicy().empty()) {
    spec->set_externaltrafficpolicy("Cluster");
  }
  if (!spec->has_internaltrafficpolicy() &&
      (spec->type() == "NodePort" || spec->type() == "LoadBalancer" ||
       spec->type() == "ClusterIP")) {
    spec->set_internaltrafficpolicy("Cluster");
  }
  if (spec->type() == "LoadBalancer" && !spec->has_allocateloadbalancernodeports()) {
    spec->set_allocateloadbalancernodeports(true);
  }
  // Registry (PrepareForCreate / the IP allocator): keep clusterIP and clusterIPs in step
  // and fill the IP family fields.
  if (ip_families && spec->type() != "ExternalName") {
    if (!spec->clusterip().empty() && spec->clusterips().empty()) {
      spec->add_clusterips(spec->clusterip());
    }
    const bool headless = spec->clusterip() == "None";
    if (!spec->has_ipfamilypolicy()) {
      spec->set_ipfamilypolicy(headless && spec->selector().empty() ? "PreferDualStack"
                                                                    : "SingleStack");
    }
    if (spec->ipfamilies().empty()) {
      bool v6 = false;
      if (!spec->clusterips().empty() && !headless) {
        v6 = spec->clusterips(0).find(':') != std::string::npos;
      }
      spec->add_ipfamilies(v6 ? "IPv6" : "IPv4");
    }
  }
}

void DefaultNamespace(core::Namespace* ns) {
  const std::string& name = ns->metadata().name();
  if (!name.empty() && ns->metadata().labels().count("kubernetes.io/metadata.name") == 0) {
    (*ns->mutable_metadata()->mutable_labels())["kubernetes.io/metadata.name"] = name;
  }
  if (ns->status().phase().empty()) ns->mutable_status()->set_phase("Active");
  // Namespace strategy PrepareForCreate: the "kubernetes" finalizer.
  bool has_kube = false;
  for (const std::string& f : ns->spec().finalizers()) has_kube = has_kube || f == "kubernetes";
  if (!has_kube && !ns->metadata().has_deletiontimestamp()) {
    ns->mutable_spec()->add_finalizers("kubernetes");
  }
}

void DefaultNode(core::Node* node) {
  const core::NodeStatus& st = node->status();
  if (st.allocatable().empty() && !st.capacity().empty()) {
    *node->mutable_status()->mutable_allocatable() = st.capacity();
  }
}

void DefaultEndpoints(core::Endpoints* ep) {
  for (core::EndpointSubset& ss : *ep->mutable_subsets()) {
    for (core::EndpointPort& p : *ss.mutable_ports()) {
      if (p.protocol().empty()) p.set_protocol("TCP");
    }
  }
}

void DefaultEndpointSlice(discovery::EndpointSlice* slice) {
  for (discovery::EndpointPort& p : *slice->mutable_ports()) {
    if (!p.has_name()) p.set_name("");
    if (!p.has_protocol()) p.set_protocol("TCP");
  }
}

// pkg/apis/apps/v1/defaults.go.
void SetIntOrString(api::intstr::IntOrString* v, int i) {
  v->Clear();
  v->set_type(0);
  v->set_intval(i);
}
void SetIntOrString(api::intstr::IntOrString* v, const std::string& s) {
  v->Clear();
  v->set_type(1);
  v->set_strval(s);
}

void DefaultDeployment(apps::Deployment* d) {
  apps::DeploymentSpec* spec = d->mutable_spec();
  if (!spec->has_replicas()) spec->set_replicas(1);
  apps::DeploymentStrategy* strategy = spec->mutable_strategy();
  if (strategy->type().empty()) strategy->set_type("RollingUpdate");
  if (strategy->type() == "RollingUpdate") {
    apps::RollingUpdateDeployment* ru = strategy->mutable_rollingupdate();
    if (!ru->has_maxunavailable()) SetIntOrString(ru->mutable_maxunavailable(), "25%");
    if (!ru->has_maxsurge()) SetIntOrString(ru->mutable_maxsurge(), "25%");
  }
  if (!spec->has_revisionhistorylimit()) spec->set_revisionhistorylimit(10);
  if (!spec->has_progressdeadlineseconds()) spec->set_progressdeadlineseconds(600);
  DefaultPodSpec(spec->mutable_template_()->mutable_spec());
}

void DefaultReplicaSet(apps::ReplicaSet* rs) {
  if (!rs->spec().has_replicas()) rs->mutable_spec()->set_replicas(1);
  DefaultPodSpec(rs->mutable_spec()->mutable_template_()->mutable_spec());
}

void DefaultDaemonSet(apps::DaemonSet* ds) {
  apps::DaemonSetSpec* spec = ds->mutable_spec();
  apps::DaemonSetUpdateStrategy* strategy = spec->mutable_updatestrategy();
  if (strategy->type().empty()) strategy->set_type("RollingUpdate");
  if (strategy->type() == "RollingUpdate") {
    apps::RollingUpdateDaemonSet* ru = strategy->mutable_rollingupdate();
    if (!ru->has_maxunavailable()) SetIntOrString(ru->mutable_maxunavailable(), 1);
    if (!ru->has_maxsurge()) SetIntOrString(ru->mutable_maxsurge(), 0);
  }
  if (!spec->has_revisionhistorylimit()) spec->set_revisionhistorylimit(10);
  DefaultPodSpec(spec->mutable_template_()->mutable_spec());
}

}  // namespace

void Apply(google::protobuf::Message* object) { Apply(object, Options()); }

void Apply(google::protobuf::Message* object, const Options& options) {
  if (object == nullptr) return;
  if (auto* pod = dynamic_cast<core::Pod*>(object)) {
    DefaultPod(pod);
  } else if (auto* svc = dynamic_cast<core::Service*>(object)) {
    DefaultService(svc, options.service_ip_families);
  } else if (auto* ns = dynamic_cast<core::Namespace*>(object)) {
    DefaultNamespace(ns);
  } else if (auto* node = dynamic_cast<core::Node*>(object)) {
    DefaultNode(node);
  } else if (auto* ep = dynamic_cast<core::Endpoints*>(object)) {
    DefaultEndpoints(ep);
  } else if (auto* slice = dynamic_cast<discovery::EndpointSlice*>(object)) {
    DefaultEndpointSlice(slice);
  } else if (auto* d = dynamic_cast<apps::Deployment*>(object)) {
    DefaultDeployment(d);
  } else if (auto* rs = dynamic_cast<apps::ReplicaSet*>(object)) {
    DefaultReplicaSet(rs);
  } else if (auto* ds = dynamic_cast<apps::DaemonSet*>(object)) {
    DefaultDaemonSet(ds);
  } else {
    return;  // ConfigMap, Event, Lease and other kinds have no defaults.
  }
  // Setting a field can only add non-zero values, but a mutable_*() on the way may leave
  // an empty value struct behind; canonicalizing drops it again. The object was
  // canonical before, so this cannot fail.
  absl::Status ignored = kslice::codec::Canonicalize(object);
  (void)ignored;
}

}  // namespace kslice::envtest::defaults
