// Behavior follows k8s.io/kubernetes pkg/printers/internalversion/printers.go
// (read, not copied); see docs/tables.md for the cell rules of each kind.
#include "envtest/printers/internal/kinds.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/apps/v1/apps.pb.h"
#include "api/coordination/v1/coordination.pb.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "api/labels/meta_selector.h"
#include "api/resource/quantity.h"
#include "api/resource/quantity.pb.h"
#include "envtest/printers/duration.h"

namespace kslice::envtest::printers::internal {
namespace {

namespace core = kslice::api::core::v1;
namespace discovery = kslice::api::discovery::v1;
namespace coordination = kslice::api::coordination::v1;
namespace apps = kslice::api::apps::v1;
namespace meta = kslice::api::meta::v1;
using google::protobuf::Descriptor;
using google::protobuf::Message;

// ---- cells ----

codec::Node Str(std::string s) { return codec::Node::String(std::move(s)); }
codec::Node Int(int64_t v) { return codec::Node::Number(std::to_string(v)); }

template <typename T>
bool ZeroTime(const T& t) {
  if (!t.has_seconds() && !t.has_nanos()) return true;
  return t.seconds() == kZeroTimeSeconds && t.nanos() == 0;
}

template <typename T>
absl::Time AsTime(const T& t) {
  if (ZeroTime(t)) return absl::FromUnixSeconds(kZeroTimeSeconds);
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// translateTimestampSince: "<unknown>" for the zero time, else the age.
template <typename T>
std::string Since(const T& t, absl::Time now) {
  if (ZeroTime(t)) return "<unknown>";
  return HumanDuration(now - AsTime(t));
}

std::string Age(const meta::ObjectMeta& m, absl::Time now) {
  return Since(m.creationtimestamp(), now);
}

// labels.FormatLabels: "k=v,k2=v2" sorted by key, "<none>" when empty.
std::string FormatLabels(const google::protobuf::Map<std::string, std::string>& labels) {
  std::map<std::string, std::string> sorted(labels.begin(), labels.end());
  std::string out = absl::StrJoin(sorted, ",", absl::PairFormatter("="));
  return out.empty() ? "<none>" : out;
}

std::string OrNone(const std::string& s) { return s.empty() ? "<none>" : s; }

// Go's net.JoinHostPort.
std::string JoinHostPort(const std::string& host, int32_t port) {
  if (absl::StrContains(host, ':')) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

// The object as its generated type (a DynamicMessage of the same type is copied).
template <typename T>
const T& As(const Message& m, T* scratch) {
  if (const T* p = dynamic_cast<const T*>(&m)) return *p;
  scratch->CopyFrom(m);
  return *scratch;
}

// ---- column definitions ----

constexpr char kNameDoc[] = "Name of the object (unique in its namespace).";
constexpr char kAgeDoc[] = "Time since the object was created (creationTimestamp).";

Column NameCol() { return Column{"Name", "string", "name", kNameDoc, 0}; }
Column AgeCol() { return Column{"Age", "string", "", kAgeDoc, 0}; }
Column Col(std::string name, std::string type, std::string doc, int32_t priority = 0) {
  return Column{std::move(name), std::move(type), "", std::move(doc), priority};
}

// ---- Pod ----

bool IsRestartableInit(const core::Container* c) {
  return c != nullptr && c->has_restartpolicy() && c->restartpolicy() == "Always";
}

bool HasCondition(const core::PodStatus& status, absl::string_view type) {
  for (const auto& c : status.conditions()) {
    if (c.type() == type && c.status() == "True") return true;
  }
  return false;
}

// The first condition of the type decides (isPodInitializedConditionTrue).
bool FirstConditionTrue(const core::PodStatus& status, absl::string_view type) {
  for (const auto& c : status.conditions()) {
    if (c.type() == type) return c.status() == "True";
  }
  return false;
}

void LaterOf(const core::ContainerStatus& cs, absl::Time* last) {
  if (!cs.laststate().has_terminated()) return;
  absl::Time finished = AsTime(cs.laststate().terminated().finishedat());
  if (*last < finished) *last = finished;
}

absl::Status PrintPod(const Message& object, absl::Time now, Row* row) {
  core::Pod scratch;
  const core::Pod& pod = As(object, &scratch);
  const core::PodSpec& spec = pod.spec();
  const core::PodStatus& status = pod.status();
  const absl::Time zero = absl::FromUnixSeconds(kZeroTimeSeconds);

  int64_t restarts = 0;
  int64_t restartable_init_restarts = 0;
  int64_t total = spec.containers_size();
  int64_t ready = 0;
  absl::Time last_restart = zero;
  absl::Time last_restartable_init_restart = zero;

  const std::string& phase = status.phase();
  std::string reason = status.reason().empty() ? phase : status.reason();
  for (const auto& c : status.conditions()) {
    if (c.type() == "PodScheduled" && c.reason() == "SchedulingGated") reason = "SchedulingGated";
  }

  if (phase == "Succeeded") {
    row->conditions.push_back({"Completed", "True", "Succeeded", "The pod has succeeded."});
  } else if (phase == "Failed") {
    row->conditions.push_back({"Completed", "True", "Failed", "The pod has failed."});
  }

  absl::flat_hash_map<std::string, const core::Container*> init_containers;
  for (const auto& c : spec.initcontainers()) {
    init_containers[c.name()] = &c;
    if (IsRestartableInit(&c)) ++total;
  }

  bool initializing = false;
  for (int i = 0; i < status.initcontainerstatuses_size(); ++i) {
    const core::ContainerStatus& cs = status.initcontainerstatuses(i);
    restarts += cs.restartcount();
    LaterOf(cs, &last_restart);
    auto it = init_containers.find(cs.name());
    const bool restartable = IsRestartableInit(it == init_containers.end() ? nullptr : it->second);
    if (restartable) {
      restartable_init_restarts += cs.restartcount();
      LaterOf(cs, &last_restartable_init_restart);
    }
    const core::ContainerState& state = cs.state();
    if (state.has_terminated() && state.terminated().exitcode() == 0) continue;
    if (restartable && cs.has_started() && cs.started()) {
      if (cs.ready()) ++ready;
      continue;
    }
    if (state.has_terminated()) {
      const auto& t = state.terminated();
      if (t.reason().empty()) {
        reason = t.signal() != 0 ? absl::StrCat("Init:Signal:", t.signal())
                                 : absl::StrCat("Init:ExitCode:", t.exitcode());
      } else {
        reason = absl::StrCat("Init:", t.reason());
      }
    } else if (state.has_waiting() && !state.waiting().reason().empty() &&
               state.waiting().reason() != "PodInitializing") {
      reason = absl::StrCat("Init:", state.waiting().reason());
    } else {
      reason = absl::StrCat("Init:", i, "/", spec.initcontainers_size());
    }
    initializing = true;
    break;
  }

  if (!initializing || FirstConditionTrue(status, "Initialized")) {
    restarts = restartable_init_restarts;
    last_restart = last_restartable_init_restart;
    bool has_running = false;
    for (int i = status.containerstatuses_size() - 1; i >= 0; --i) {
      const core::ContainerStatus& cs = status.containerstatuses(i);
      restarts += cs.restartcount();
      LaterOf(cs, &last_restart);
      const core::ContainerState& state = cs.state();
      if (state.has_waiting() && !state.waiting().reason().empty()) {
        reason = state.waiting().reason();
      } else if (state.has_terminated() && !state.terminated().reason().empty()) {
        reason = state.terminated().reason();
      } else if (state.has_terminated()) {
        const auto& t = state.terminated();
        reason = t.signal() != 0 ? absl::StrCat("Signal:", t.signal())
                                 : absl::StrCat("ExitCode:", t.exitcode());
      } else if (cs.ready() && state.has_running()) {
        has_running = true;
        ++ready;
      }
    }
    // A pod whose last-listed container completed is still Running while another runs.
    if (reason == "Completed" && has_running) {
      reason = HasCondition(status, "Ready") ? "Running" : "NotReady";
    }
  }

  if (pod.metadata().has_deletiontimestamp() && status.reason() == "NodeLost") {
    reason = "Unknown";
  } else if (pod.metadata().has_deletiontimestamp() && phase != "Succeeded" && phase != "Failed") {
    reason = "Terminating";
  }

  std::string restarts_cell = absl::StrCat(restarts);
  if (restarts != 0 && last_restart != zero) {
    restarts_cell = absl::StrCat(restarts, " (", HumanDuration(now - last_restart), " ago)");
  }

  row->cells.push_back(Str(pod.metadata().name()));
  row->cells.push_back(Str(absl::StrCat(ready, "/", total)));
  row->cells.push_back(Str(reason));
  row->cells.push_back(Str(restarts_cell));
  row->cells.push_back(Str(Age(pod.metadata(), now)));

  // Wide columns (the server always fills them).
  std::string pod_ip = status.podips_size() > 0 ? status.podips(0).ip() : "";
  std::string gates = "<none>";
  if (spec.readinessgates_size() > 0) {
    int true_conditions = 0;
    for (const auto& gate : spec.readinessgates()) {
      for (const auto& c : status.conditions()) {
        if (c.type() == gate.conditiontype()) {
          if (c.status() == "True") ++true_conditions;
          break;
        }
      }
    }
    gates = absl::StrCat(true_conditions, "/", spec.readinessgates_size());
  }
  row->cells.push_back(Str(OrNone(pod_ip)));
  row->cells.push_back(Str(OrNone(spec.nodename())));
  row->cells.push_back(Str(OrNone(status.nominatednodename())));
  row->cells.push_back(Str(gates));
  return absl::OkStatus();
}

// ---- PodTemplate, ReplicationController ----

void ContainerCells(const google::protobuf::RepeatedPtrField<core::Container>& containers,
                    Row* row) {
  std::vector<std::string> names, images;
  for (const auto& c : containers) {
    names.push_back(c.name());
    images.push_back(c.image());
  }
  row->cells.push_back(Str(absl::StrJoin(names, ",")));
  row->cells.push_back(Str(absl::StrJoin(images, ",")));
}

absl::Status PrintPodTemplate(const Message& object, absl::Time, Row* row) {
  core::PodTemplate scratch;
  const core::PodTemplate& t = As(object, &scratch);
  row->cells.push_back(Str(t.metadata().name()));
  ContainerCells(t.template_().spec().containers(), row);
  row->cells.push_back(Str(FormatLabels(t.template_().metadata().labels())));
  return absl::OkStatus();
}

absl::Status PrintReplicationController(const Message& object, absl::Time now, Row* row) {
  core::ReplicationController scratch;
  const core::ReplicationController& rc = As(object, &scratch);
  // spec.replicas is defaulted to 1 by the API server.
  const int64_t desired = rc.spec().has_replicas() ? rc.spec().replicas() : 1;
  row->cells.push_back(Str(rc.metadata().name()));
  row->cells.push_back(Int(desired));
  row->cells.push_back(Int(rc.status().replicas()));
  row->cells.push_back(Int(rc.status().readyreplicas()));
  row->cells.push_back(Str(Age(rc.metadata(), now)));
  ContainerCells(rc.spec().template_().spec().containers(), row);
  row->cells.push_back(Str(FormatLabels(rc.spec().selector())));
  return absl::OkStatus();
}

// ---- Deployment, ReplicaSet, DaemonSet ----

// metav1.LabelSelectorAsSelector(...).String(), "<invalid>" when it does not convert.
std::string SelectorString(bool present, const meta::LabelSelector& selector) {
  absl::StatusOr<labels::Selector> s = labels::FromLabelSelector(present ? &selector : nullptr);
  if (!s.ok()) return "<invalid>";
  return s->String();
}

absl::Status PrintDeployment(const Message& object, absl::Time now, Row* row) {
  apps::Deployment scratch;
  const apps::Deployment& d = As(object, &scratch);
  row->cells.push_back(Str(d.metadata().name()));
  row->cells.push_back(
      Str(absl::StrCat(d.status().readyreplicas(), "/", d.spec().replicas())));
  row->cells.push_back(Int(d.status().updatedreplicas()));
  row->cells.push_back(Int(d.status().availablereplicas()));
  row->cells.push_back(Str(Age(d.metadata(), now)));
  ContainerCells(d.spec().template_().spec().containers(), row);
  row->cells.push_back(Str(SelectorString(d.spec().has_selector(), d.spec().selector())));
  return absl::OkStatus();
}

absl::Status PrintReplicaSet(const Message& object, absl::Time now, Row* row) {
  apps::ReplicaSet scratch;
  const apps::ReplicaSet& rs = As(object, &scratch);
  row->cells.push_back(Str(rs.metadata().name()));
  row->cells.push_back(Int(rs.spec().replicas()));
  row->cells.push_back(Int(rs.status().replicas()));
  row->cells.push_back(Int(rs.status().readyreplicas()));
  row->cells.push_back(Str(Age(rs.metadata(), now)));
  ContainerCells(rs.spec().template_().spec().containers(), row);
  row->cells.push_back(Str(SelectorString(rs.spec().has_selector(), rs.spec().selector())));
  return absl::OkStatus();
}

absl::Status PrintDaemonSet(const Message& object, absl::Time now, Row* row) {
  apps::DaemonSet scratch;
  const apps::DaemonSet& ds = As(object, &scratch);
  const apps::DaemonSetStatus& st = ds.status();
  row->cells.push_back(Str(ds.metadata().name()));
  row->cells.push_back(Int(st.desirednumberscheduled()));
  row->cells.push_back(Int(st.currentnumberscheduled()));
  row->cells.push_back(Int(st.numberready()));
  row->cells.push_back(Int(st.updatednumberscheduled()));
  row->cells.push_back(Int(st.numberavailable()));
  row->cells.push_back(Str(FormatLabels(ds.spec().template_().spec().nodeselector())));
  row->cells.push_back(Str(Age(ds.metadata(), now)));
  ContainerCells(ds.spec().template_().spec().containers(), row);
  row->cells.push_back(Str(SelectorString(ds.spec().has_selector(), ds.spec().selector())));
  return absl::OkStatus();
}

// ---- Service ----

std::string ServiceExternalIP(const core::Service& svc) {
  const core::ServiceSpec& spec = svc.spec();
  const std::string external = absl::StrJoin(spec.externalips(), ",");
  const std::string& type = spec.type();
  if (type == "ClusterIP" || type == "NodePort") return OrNone(external);
  if (type == "LoadBalancer") {
    // Sorted, de-duplicated ingress IPs (or hostnames); never clipped, as the
    // server prints wide.
    std::set<std::string> ingress;
    for (const auto& in : svc.status().loadbalancer().ingress()) {
      if (!in.ip().empty()) {
        ingress.insert(in.ip());
      } else if (!in.hostname().empty()) {
        ingress.insert(in.hostname());
      }
    }
    std::vector<std::string> all(ingress.begin(), ingress.end());
    if (spec.externalips_size() > 0) {
      all.insert(all.end(), spec.externalips().begin(), spec.externalips().end());
      return absl::StrJoin(all, ",");
    }
    if (!all.empty()) return absl::StrJoin(all, ",");
    return "<pending>";
  }
  if (type == "ExternalName") return spec.externalname();
  return "<unknown>";
}

absl::Status PrintService(const Message& object, absl::Time now, Row* row) {
  core::Service scratch;
  const core::Service& svc = As(object, &scratch);
  const core::ServiceSpec& spec = svc.spec();
  std::vector<std::string> ports;
  for (const auto& p : spec.ports()) {
    if (p.nodeport() > 0) {
      ports.push_back(absl::StrCat(p.port(), ":", p.nodeport(), "/", p.protocol()));
    } else {
      ports.push_back(absl::StrCat(p.port(), "/", p.protocol()));
    }
  }
  row->cells.push_back(Str(svc.metadata().name()));
  row->cells.push_back(Str(spec.type()));
  row->cells.push_back(Str(spec.clusterips_size() > 0 ? spec.clusterips(0) : "<none>"));
  row->cells.push_back(Str(ServiceExternalIP(svc)));
  row->cells.push_back(Str(OrNone(absl::StrJoin(ports, ","))));
  row->cells.push_back(Str(Age(svc.metadata(), now)));
  row->cells.push_back(Str(FormatLabels(spec.selector())));
  return absl::OkStatus();
}

// ---- Endpoints, EndpointSlice ----

constexpr size_t kMaxListed = 3;

std::string FormatEndpoints(const core::Endpoints& ep) {
  if (ep.subsets_size() == 0) return "<none>";
  std::vector<std::string> list;
  bool more = false;
  int64_t count = 0;
  for (const auto& ss : ep.subsets()) {
    if (ss.ports_size() == 0) {  // headless services may have no ports
      count += ss.addresses_size();
      for (const auto& a : ss.addresses()) {
        if (list.size() == kMaxListed) {
          more = true;
          break;
        }
        list.push_back(a.ip());
      }
      continue;
    }
    for (const auto& port : ss.ports()) {
      count += ss.addresses_size();
      for (const auto& a : ss.addresses()) {
        if (list.size() == kMaxListed) {
          more = true;
          break;
        }
        list.push_back(JoinHostPort(a.ip(), port.port()));
      }
    }
  }
  std::string out = absl::StrJoin(list, ",");
  if (more) return absl::StrCat(out, " + ", count - static_cast<int64_t>(kMaxListed), " more...");
  return out;
}

absl::Status PrintEndpoints(const Message& object, absl::Time now, Row* row) {
  core::Endpoints scratch;
  const core::Endpoints& ep = As(object, &scratch);
  row->cells.push_back(Str(ep.metadata().name()));
  row->cells.push_back(Str(FormatEndpoints(ep)));
  row->cells.push_back(Str(Age(ep.metadata(), now)));
  return absl::OkStatus();
}

// listWithMoreString: at most three entries, "+ N more...", "<unset>" when empty.
std::string ListWithMore(const std::vector<std::string>& list, bool more, int64_t count) {
  std::string out = absl::StrJoin(list, ",");
  if (more) return absl::StrCat(out, " + ", count - static_cast<int64_t>(kMaxListed), " more...");
  return out.empty() ? "<unset>" : out;
}

absl::Status PrintEndpointSlice(const Message& object, absl::Time now, Row* row) {
  discovery::EndpointSlice scratch;
  const discovery::EndpointSlice& slice = As(object, &scratch);
  std::vector<std::string> ports;
  bool more_ports = false;
  int64_t port_count = 0;
  for (const auto& p : slice.ports()) {
    if (ports.size() < kMaxListed) {
      if (p.has_port()) {
        ports.push_back(absl::StrCat(p.port()));
      } else if (p.has_name()) {
        ports.push_back(p.name());
      } else {
        ports.push_back("*");
      }
    } else if (ports.size() == kMaxListed) {
      more_ports = true;
    }
    ++port_count;
  }
  std::vector<std::string> addresses;
  bool more_addresses = false;
  int64_t address_count = 0;
  for (const auto& e : slice.endpoints()) {
    for (const auto& a : e.addresses()) {
      if (addresses.size() < kMaxListed) {
        addresses.push_back(a);
      } else if (addresses.size() == kMaxListed) {
        more_addresses = true;
      }
      ++address_count;
    }
  }
  row->cells.push_back(Str(slice.metadata().name()));
  row->cells.push_back(Str(slice.addresstype()));
  row->cells.push_back(Str(ListWithMore(ports, more_ports, port_count)));
  row->cells.push_back(Str(ListWithMore(addresses, more_addresses, address_count)));
  row->cells.push_back(Str(Age(slice.metadata(), now)));
  return absl::OkStatus();
}

// ---- Node ----

std::string NodeAddress(const core::Node& node, absl::string_view type) {
  for (const auto& a : node.status().addresses()) {
    if (a.type() == type) return a.address();
  }
  return "<none>";
}

absl::Status PrintNode(const Message& object, absl::Time now, Row* row) {
  core::Node scratch;
  const core::Node& node = As(object, &scratch);
  // Only the Ready condition is shown; the last one of that type counts.
  const core::NodeCondition* ready = nullptr;
  for (const auto& c : node.status().conditions()) {
    if (c.type() == "Ready") ready = &c;
  }
  std::vector<std::string> status;
  if (ready != nullptr) status.push_back(ready->status() == "True" ? "Ready" : "NotReady");
  if (status.empty()) status.push_back("Unknown");
  if (node.spec().unschedulable()) status.push_back("SchedulingDisabled");

  constexpr absl::string_view kRolePrefix = "node-role.kubernetes.io/";
  std::set<std::string> roles;
  for (const auto& [k, v] : node.metadata().labels()) {
    if (absl::StartsWith(k, kRolePrefix)) {
      std::string role = k.substr(kRolePrefix.size());
      if (!role.empty()) roles.insert(std::move(role));
    } else if (k == "kubernetes.io/role" && !v.empty()) {
      roles.insert(v);
    }
  }
  const core::NodeSystemInfo& info = node.status().nodeinfo();
  auto or_unknown = [](const std::string& s) { return s.empty() ? std::string("<unknown>") : s; };

  row->cells.push_back(Str(node.metadata().name()));
  row->cells.push_back(Str(absl::StrJoin(status, ",")));
  row->cells.push_back(Str(OrNone(absl::StrJoin(roles, ","))));
  row->cells.push_back(Str(Age(node.metadata(), now)));
  row->cells.push_back(Str(info.kubeletversion()));
  row->cells.push_back(Str(NodeAddress(node, "InternalIP")));
  row->cells.push_back(Str(NodeAddress(node, "ExternalIP")));
  row->cells.push_back(Str(or_unknown(info.osimage())));
  row->cells.push_back(Str(or_unknown(info.kernelversion())));
  row->cells.push_back(Str(or_unknown(info.containerruntimeversion())));
  return absl::OkStatus();
}

// ---- Event ----

absl::Status PrintEvent(const Message& object, absl::Time now, Row* row) {
  core::Event scratch;
  const core::Event& ev = As(object, &scratch);
  std::string first =
      ZeroTime(ev.firsttimestamp()) ? Since(ev.eventtime(), now) : Since(ev.firsttimestamp(), now);
  std::string last = ZeroTime(ev.lasttimestamp()) ? first : Since(ev.lasttimestamp(), now);
  int64_t count = ev.count();
  if (ev.has_series()) {
    last = Since(ev.series().lastobservedtime(), now);
    count = ev.series().count();
  } else if (count == 0) {
    count = 1;  // singleton events of the events.k8s.io API carry no count
  }
  const core::ObjectReference& involved = ev.involvedobject();
  std::string target = absl::AsciiStrToLower(involved.kind());
  if (!involved.name().empty()) absl::StrAppend(&target, "/", involved.name());

  const std::string& component =
      ev.source().component().empty() ? ev.reportingcomponent() : ev.source().component();
  const std::string& instance =
      ev.source().host().empty() ? ev.reportinginstance() : ev.source().host();
  std::string source = instance.empty() ? component : absl::StrCat(component, ", ", instance);

  row->cells.push_back(Str(last));
  row->cells.push_back(Str(ev.type()));
  row->cells.push_back(Str(ev.reason()));
  row->cells.push_back(Str(target));
  row->cells.push_back(Str(involved.fieldpath()));
  row->cells.push_back(Str(source));
  row->cells.push_back(Str(std::string(absl::StripAsciiWhitespace(ev.message()))));
  row->cells.push_back(Str(first));
  row->cells.push_back(Int(count));
  row->cells.push_back(Str(ev.metadata().name()));
  return absl::OkStatus();
}

// ---- PersistentVolume, PersistentVolumeClaim, ResourceQuota ----

// Quantity.String() of a map entry; a missing entry is the zero quantity "0".
std::string QuantityOf(const google::protobuf::Map<std::string, kslice::api::resource::Quantity>& m,
                       const std::string& key) {
  auto it = m.find(key);
  if (it == m.end() || it->second.string().empty()) return "0";
  absl::StatusOr<std::string> canonical = kslice::resource::CanonicalString(it->second.string());
  return canonical.ok() ? *canonical : it->second.string();
}

// helper.GetAccessModesAsString: fixed order RWO, ROX, RWX, RWOP; duplicates and
// unknown modes dropped.
std::string AccessModes(const google::protobuf::RepeatedPtrField<std::string>& modes) {
  auto has = [&](absl::string_view m) {
    return std::find(modes.begin(), modes.end(), m) != modes.end();
  };
  std::vector<std::string> out;
  if (has("ReadWriteOnce")) out.push_back("RWO");
  if (has("ReadOnlyMany")) out.push_back("ROX");
  if (has("ReadWriteMany")) out.push_back("RWX");
  if (has("ReadWriteOncePod")) out.push_back("RWOP");
  return absl::StrJoin(out, ",");
}

constexpr char kBetaStorageClassAnnotation[] = "volume.beta.kubernetes.io/storage-class";

absl::Status PrintPersistentVolume(const Message& object, absl::Time now, Row* row) {
  core::PersistentVolume scratch;
  const core::PersistentVolume& pv = As(object, &scratch);
  const core::PersistentVolumeSpec& spec = pv.spec();
  std::string claim;
  if (spec.has_claimref())
    claim = absl::StrCat(spec.claimref().namespace_(), "/", spec.claimref().name());
  std::string phase = pv.metadata().has_deletiontimestamp() ? "Terminating" : pv.status().phase();
  auto annotation = pv.metadata().annotations().find(kBetaStorageClassAnnotation);
  std::string storage_class = annotation != pv.metadata().annotations().end()
                                  ? annotation->second
                                  : spec.storageclassname();
  row->cells.push_back(Str(pv.metadata().name()));
  row->cells.push_back(Str(QuantityOf(spec.capacity(), "storage")));
  row->cells.push_back(Str(AccessModes(spec.accessmodes())));
  row->cells.push_back(Str(spec.persistentvolumereclaimpolicy()));
  row->cells.push_back(Str(phase));
  row->cells.push_back(Str(claim));
  row->cells.push_back(Str(storage_class));
  row->cells.push_back(
      Str(spec.has_volumeattributesclassname() ? spec.volumeattributesclassname() : "<unset>"));
  row->cells.push_back(Str(pv.status().reason()));
  row->cells.push_back(Str(Age(pv.metadata(), now)));
  row->cells.push_back(Str(spec.has_volumemode() ? spec.volumemode() : "<unset>"));
  return absl::OkStatus();
}

absl::Status PrintPersistentVolumeClaim(const Message& object, absl::Time now, Row* row) {
  core::PersistentVolumeClaim scratch;
  const core::PersistentVolumeClaim& pvc = As(object, &scratch);
  const core::PersistentVolumeClaimSpec& spec = pvc.spec();
  std::string phase = pvc.metadata().has_deletiontimestamp() ? "Terminating" : pvc.status().phase();
  // Capacity and access modes only once bound to a volume.
  std::string capacity, access_modes;
  if (!spec.volumename().empty()) {
    access_modes = AccessModes(pvc.status().accessmodes());
    capacity = QuantityOf(pvc.status().capacity(), "storage");
  }
  auto annotation = pvc.metadata().annotations().find(kBetaStorageClassAnnotation);
  std::string storage_class;
  if (annotation != pvc.metadata().annotations().end()) {
    storage_class = annotation->second;
  } else if (spec.has_storageclassname()) {
    storage_class = spec.storageclassname();
  }
  row->cells.push_back(Str(pvc.metadata().name()));
  row->cells.push_back(Str(phase));
  row->cells.push_back(Str(spec.volumename()));
  row->cells.push_back(Str(capacity));
  row->cells.push_back(Str(access_modes));
  row->cells.push_back(Str(storage_class));
  row->cells.push_back(
      Str(spec.has_volumeattributesclassname() ? spec.volumeattributesclassname() : "<unset>"));
  row->cells.push_back(Str(Age(pvc.metadata(), now)));
  row->cells.push_back(Str(spec.has_volumemode() ? spec.volumemode() : "<unset>"));
  return absl::OkStatus();
}

absl::Status PrintResourceQuota(const Message& object, absl::Time now, Row* row) {
  core::ResourceQuota scratch;
  const core::ResourceQuota& rq = As(object, &scratch);
  std::map<std::string, std::string> hard;  // sorted by resource name
  for (const auto& [name, q] : rq.status().hard())
    hard[name] = QuantityOf(rq.status().hard(), name);
  std::vector<std::string> requests, limits;
  for (const auto& [name, hard_value] : hard) {
    std::string entry =
        absl::StrCat(name, ": ", QuantityOf(rq.status().used(), name), "/", hard_value);
    // "limits.cpu" goes to the Limit column; everything else to Request.
    const size_t dot = name.find('.');
    if (dot != std::string::npos && name.substr(0, dot) == "limits") {
      limits.push_back(std::move(entry));
    } else {
      requests.push_back(std::move(entry));
    }
  }
  row->cells.push_back(Str(rq.metadata().name()));
  row->cells.push_back(Str(absl::StrJoin(requests, ", ")));
  row->cells.push_back(Str(absl::StrJoin(limits, ", ")));
  row->cells.push_back(Str(Age(rq.metadata(), now)));
  return absl::OkStatus();
}

// ---- simple kinds ----

absl::Status PrintNamespace(const Message& object, absl::Time now, Row* row) {
  core::Namespace scratch;
  const core::Namespace& ns = As(object, &scratch);
  row->cells.push_back(Str(ns.metadata().name()));
  row->cells.push_back(Str(ns.status().phase()));
  row->cells.push_back(Str(Age(ns.metadata(), now)));
  return absl::OkStatus();
}

absl::Status PrintConfigMap(const Message& object, absl::Time now, Row* row) {
  core::ConfigMap scratch;
  const core::ConfigMap& cm = As(object, &scratch);
  row->cells.push_back(Str(cm.metadata().name()));
  row->cells.push_back(Int(static_cast<int64_t>(cm.data_size()) + cm.binarydata_size()));
  row->cells.push_back(Str(Age(cm.metadata(), now)));
  return absl::OkStatus();
}

absl::Status PrintSecret(const Message& object, absl::Time now, Row* row) {
  core::Secret scratch;
  const core::Secret& secret = As(object, &scratch);
  row->cells.push_back(Str(secret.metadata().name()));
  row->cells.push_back(Str(secret.type()));
  row->cells.push_back(Int(secret.data_size()));
  row->cells.push_back(Str(Age(secret.metadata(), now)));
  return absl::OkStatus();
}

absl::Status PrintServiceAccount(const Message& object, absl::Time now, Row* row) {
  core::ServiceAccount scratch;
  const core::ServiceAccount& sa = As(object, &scratch);
  row->cells.push_back(Str(sa.metadata().name()));
  row->cells.push_back(Int(sa.secrets_size()));
  row->cells.push_back(Str(Age(sa.metadata(), now)));
  return absl::OkStatus();
}

absl::Status PrintComponentStatus(const Message& object, absl::Time, Row* row) {
  core::ComponentStatus scratch;
  const core::ComponentStatus& cs = As(object, &scratch);
  std::string status = "Unknown", message, error;
  for (const auto& c : cs.conditions()) {
    if (c.type() == "Healthy") {
      status = c.status() == "True" ? "Healthy" : "Unhealthy";
      message = c.message();
      error = c.error();
      break;
    }
  }
  row->cells.push_back(Str(cs.metadata().name()));
  row->cells.push_back(Str(status));
  row->cells.push_back(Str(message));
  row->cells.push_back(Str(error));
  return absl::OkStatus();
}

absl::Status PrintLease(const Message& object, absl::Time now, Row* row) {
  coordination::Lease scratch;
  const coordination::Lease& lease = As(object, &scratch);
  row->cells.push_back(Str(lease.metadata().name()));
  row->cells.push_back(Str(lease.spec().holderidentity()));
  row->cells.push_back(Str(Age(lease.metadata(), now)));
  return absl::OkStatus();
}

// ---- registry ----

using Registry = absl::flat_hash_map<const Descriptor*, KindPrinter>;

Registry* BuildRegistry() {
  auto* r = new Registry();
  (*r)[core::Pod::descriptor()] = KindPrinter{
      {NameCol(), Col("Ready", "string", "Ready containers out of all containers of the pod."),
       Col("Status", "string", "Summary of the pod's phase and container states."),
       Col("Restarts", "string", "Container restarts, with the time since the last one."), AgeCol(),
       Col("IP", "string", "The pod's (first) IP address.", 1),
       Col("Node", "string", "The node the pod is bound to.", 1),
       Col("Nominated Node", "string", "The node the scheduler nominated for preemption.", 1),
       Col("Readiness Gates", "string", "Readiness gates that are True, out of all gates.", 1)},
      &PrintPod};
  (*r)[core::PodTemplate::descriptor()] =
      KindPrinter{{NameCol(), Col("Containers", "string", "Container names of the template."),
                   Col("Images", "string", "Container images of the template."),
                   Col("Pod Labels", "string", "Labels of the pod template.")},
                  &PrintPodTemplate};
  (*r)[core::ReplicationController::descriptor()] = KindPrinter{
      {NameCol(), Col("Desired", "integer", "Desired number of replicas (spec.replicas)."),
       Col("Current", "integer", "Observed number of replicas."),
       Col("Ready", "integer", "Number of ready replicas."), AgeCol(),
       Col("Containers", "string", "Container names of the template.", 1),
       Col("Images", "string", "Container images of the template.", 1),
       Col("Selector", "string", "The label selector of the controller.", 1)},
      &PrintReplicationController};
  (*r)[apps::Deployment::descriptor()] = KindPrinter{
      {NameCol(), Col("Ready", "string", "Ready replicas out of desired (spec.replicas)."),
       Col("Up-to-date", "integer", "Replicas running the current template."),
       Col("Available", "integer", "Replicas available to users (ready for minReadySeconds)."),
       AgeCol(), Col("Containers", "string", "Container names of the template.", 1),
       Col("Images", "string", "Container images of the template.", 1),
       Col("Selector", "string", "The label selector of the deployment.", 1)},
      &PrintDeployment};
  (*r)[apps::ReplicaSet::descriptor()] = KindPrinter{
      {NameCol(), Col("Desired", "integer", "Desired number of replicas (spec.replicas)."),
       Col("Current", "integer", "Observed number of replicas."),
       Col("Ready", "integer", "Number of ready replicas."), AgeCol(),
       Col("Containers", "string", "Container names of the template.", 1),
       Col("Images", "string", "Container images of the template.", 1),
       Col("Selector", "string", "The label selector of the replica set.", 1)},
      &PrintReplicaSet};
  (*r)[apps::DaemonSet::descriptor()] = KindPrinter{
      {NameCol(), Col("Desired", "integer", "Nodes that should run the daemon pod."),
       Col("Current", "integer", "Nodes running at least one daemon pod."),
       Col("Ready", "integer", "Nodes whose daemon pod is ready."),
       Col("Up-to-date", "integer", "Nodes running the current template."),
       Col("Available", "integer", "Nodes whose daemon pod is available."),
       Col("Node Selector", "string", "The node selector of the template."), AgeCol(),
       Col("Containers", "string", "Container names of the template.", 1),
       Col("Images", "string", "Container images of the template.", 1),
       Col("Selector", "string", "The label selector of the daemon set.", 1)},
      &PrintDaemonSet};
  (*r)[core::Service::descriptor()] =
      KindPrinter{{NameCol(), Col("Type", "string", "The service type (spec.type)."),
                   Col("Cluster-IP", "string", "The (first) cluster IP of the service."),
                   Col("External-IP", "string", "External IPs or load-balancer ingress addresses."),
                   Col("Port(s)", "string", "Service ports as port[:nodePort]/protocol."), AgeCol(),
                   Col("Selector", "string", "The pod label selector of the service.", 1)},
                  &PrintService};
  (*r)[core::Endpoints::descriptor()] = KindPrinter{
      {NameCol(), Col("Endpoints", "string", "Ready endpoint addresses (ip:port)."), AgeCol()},
      &PrintEndpoints};
  (*r)[discovery::EndpointSlice::descriptor()] = KindPrinter{
      {NameCol(), Col("AddressType", "string", "The address type of the slice's endpoints."),
       Col("Ports", "string", "Ports of the slice."),
       Col("Endpoints", "string", "Endpoint addresses of the slice."), AgeCol()},
      &PrintEndpointSlice};
  (*r)[core::Node::descriptor()] = KindPrinter{
      {NameCol(), Col("Status", "string", "The node's Ready condition and schedulability."),
       Col("Roles", "string", "Roles from the node's role labels."), AgeCol(),
       Col("Version", "string", "The kubelet version."),
       Col("Internal-IP", "string", "The node's first InternalIP address.", 1),
       Col("External-IP", "string", "The node's first ExternalIP address.", 1),
       Col("OS-Image", "string", "The node's OS image.", 1),
       Col("Kernel-Version", "string", "The node's kernel version.", 1),
       Col("Container-Runtime", "string", "The node's container runtime version.", 1)},
      &PrintNode};
  (*r)[core::Event::descriptor()] =
      KindPrinter{{Col("Last Seen", "string", "Time since the event was last seen."),
                   Col("Type", "string", "The event type (Normal, Warning)."),
                   Col("Reason", "string", "The reason of the event."),
                   Col("Object", "string", "The object the event is about (kind/name)."),
                   Col("Subobject", "string", "The field path inside the object.", 1),
                   Col("Source", "string", "The component (and host) that reported the event.", 1),
                   Col("Message", "string", "The event message."),
                   Col("First Seen", "string", "Time since the event was first seen.", 1),
                   Col("Count", "string", "How many times the event occurred.", 1),
                   Column{"Name", "string", "name", kNameDoc, 1}},
                  &PrintEvent};
  (*r)[core::Namespace::descriptor()] = KindPrinter{
      {NameCol(), Col("Status", "string", "The namespace phase."), AgeCol()}, &PrintNamespace};
  (*r)[core::ConfigMap::descriptor()] = KindPrinter{
      {NameCol(), Col("Data", "string", "Number of data and binaryData entries."), AgeCol()},
      &PrintConfigMap};
  (*r)[core::Secret::descriptor()] =
      KindPrinter{{NameCol(), Col("Type", "string", "The secret type."),
                   Col("Data", "string", "Number of data entries."), AgeCol()},
                  &PrintSecret};
  (*r)[core::ServiceAccount::descriptor()] = KindPrinter{
      {NameCol(), Col("Secrets", "string", "Number of secrets of the service account."), AgeCol()},
      &PrintServiceAccount};
  (*r)[core::ComponentStatus::descriptor()] =
      KindPrinter{{NameCol(), Col("Status", "string", "Healthy, Unhealthy or Unknown."),
                   Col("Message", "string", "Message of the Healthy condition."),
                   Col("Error", "string", "Error of the Healthy condition.")},
                  &PrintComponentStatus};
  (*r)[core::PersistentVolume::descriptor()] =
      KindPrinter{{NameCol(), Col("Capacity", "string", "The volume's storage capacity."),
                   Col("Access Modes", "string", "Access modes (RWO, ROX, RWX, RWOP)."),
                   Col("Reclaim Policy", "string", "What happens to the volume when released."),
                   Col("Status", "string", "The volume phase."),
                   Col("Claim", "string", "The bound claim (namespace/name)."),
                   Col("StorageClass", "string", "The volume's storage class."),
                   Col("VolumeAttributesClass", "string", "The volume's attributes class."),
                   Col("Reason", "string", "Why the volume is in its phase."), AgeCol(),
                   Col("VolumeMode", "string", "Filesystem or Block.", 1)},
                  &PrintPersistentVolume};
  (*r)[core::PersistentVolumeClaim::descriptor()] =
      KindPrinter{{NameCol(), Col("Status", "string", "The claim phase."),
                   Col("Volume", "string", "The bound volume."),
                   Col("Capacity", "string", "The bound volume's capacity."),
                   Col("Access Modes", "string", "Access modes of the bound volume."),
                   Col("StorageClass", "string", "The claim's storage class."),
                   Col("VolumeAttributesClass", "string", "The claim's attributes class."),
                   AgeCol(), Col("VolumeMode", "string", "Filesystem or Block.", 1)},
                  &PrintPersistentVolumeClaim};
  (*r)[core::ResourceQuota::descriptor()] =
      KindPrinter{{NameCol(), Col("Request", "string", "Used/hard of the non-limit resources."),
                   Col("Limit", "string", "Used/hard of the limits.* resources."), AgeCol()},
                  &PrintResourceQuota};
  (*r)[coordination::Lease::descriptor()] = KindPrinter{
      {NameCol(), Col("Holder", "string", "The lease's holder identity."), AgeCol()}, &PrintLease};
  return r;
}

}  // namespace

const KindPrinter* FindPrinter(const Descriptor* item_type) {
  static const Registry* registry = BuildRegistry();
  auto it = registry->find(item_type);
  return it == registry->end() ? nullptr : &it->second;
}

bool IsZeroTime(const meta::Time& time) { return ZeroTime(time); }
absl::Time TimeOf(const meta::Time& time) { return AsTime(time); }

}  // namespace kslice::envtest::printers::internal
