// Namespace, Node, Endpoints, Event, ConfigMap (k8s.io/kubernetes
// pkg/apis/core/validation/validation.go and events.go), Lease
// (pkg/apis/coordination/validation) and EndpointSlice (pkg/apis/discovery/validation).
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "envtest/validation/checks.h"
#include "envtest/validation/internal.h"
#include "google/protobuf/util/message_differencer.h"

namespace kslice::envtest::validation::internal {
namespace {

using google::protobuf::util::MessageDifferencer;

bool IsSupportedProtocol(const std::string& p) { return p == "TCP" || p == "UDP" || p == "SCTP"; }

const std::vector<std::string> kProtocols = {"SCTP", "TCP", "UDP"};

// The internal core.Taint as encoding/json writes it.
std::string TaintJson(const api::core::v1::Taint& t) {
  return absl::StrCat("{\"Key\":", JsonString(t.key()), ",\"Value\":", JsonString(t.value()),
                      ",\"Effect\":", JsonString(t.effect()), ",\"TimeAdded\":null}");
}

void ValidateTaints(const google::protobuf::RepeatedPtrField<api::core::v1::Taint>& taints,
                    const std::string& path, Errors* errs) {
  std::set<std::pair<std::string, std::string>> seen;
  for (int i = 0; i < taints.size(); ++i) {
    const auto& t = taints[i];
    const std::string p = Index(path, i);
    ValidateQualifiedName(t.key(), Child(p, "key"), errs);
    const std::vector<std::string> msgs = IsValidLabelValue(t.value());
    if (!msgs.empty())
      errs->push_back(Invalid(Child(p, "value"), t.value(), absl::StrJoin(msgs, ";")));
    if (t.effect().empty()) {
      errs->push_back(Required(Child(p, "effect")));
    } else if (t.effect() != "NoSchedule" && t.effect() != "PreferNoSchedule" &&
               t.effect() != "NoExecute") {
      errs->push_back(NotSupported(Child(p, "effect"), t.effect(),
                                   {"NoSchedule", "PreferNoSchedule", "NoExecute"}));
    }
    if (!seen.insert({t.effect(), t.key()}).second) {
      FieldError e = storage::DuplicateRenderedFieldError(p, TaintJson(t));
      e.body += ": taints must be unique by key and effect pair";
      errs->push_back(std::move(e));
    }
  }
}

void ValidatePodCIDRs(const api::core::v1::NodeSpec& spec, Errors* errs) {
  for (int i = 0; i < spec.podcidrs_size(); ++i) {
    if (!IsCIDR(spec.podcidrs(i))) {
      errs->push_back(Invalid(Index("spec.podCIDRs", i), spec.podcidrs(i),
                              "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
    }
  }
  if (spec.podcidrs_size() > 1) {
    bool dual = spec.podcidrs_size() == 2;
    if (dual) {
      const auto a =
          ParseIPSloppy(std::string_view(spec.podcidrs(0)).substr(0, spec.podcidrs(0).find('/')));
      const auto b =
          ParseIPSloppy(std::string_view(spec.podcidrs(1)).substr(0, spec.podcidrs(1).find('/')));
      dual = a && b && a->Is4() != b->Is4();
    }
    if (!dual) {
      errs->push_back(InvalidJson("spec.podCIDRs", JsonStringList(spec.podcidrs()),
                                  "may specify no more than one CIDR for each IP family"));
    }
  }
}

void ValidateEndpointPortCore(const api::core::v1::EndpointPort& port, bool require_name,
                              const std::string& path, Errors* errs) {
  if (require_name && port.name().empty()) {
    errs->push_back(Required(Child(path, "name")));
  } else if (!port.name().empty()) {
    ValidateDNS1123Label(port.name(), Child(path, "name"), errs);
  }
  for (const std::string& msg : IsValidPortNum(port.port())) {
    errs->push_back(InvalidInt(Child(path, "port"), port.port(), msg));
  }
  if (port.protocol().empty()) {
    errs->push_back(Required(Child(path, "protocol")));
  } else if (!IsSupportedProtocol(port.protocol())) {
    errs->push_back(NotSupported(Child(path, "protocol"), port.protocol(), kProtocols));
  }
  if (port.has_appprotocol())
    ValidateQualifiedName(port.appprotocol(), Child(path, "appProtocol"), errs);
}

void ValidateEndpointAddress(const api::core::v1::EndpointAddress& addr, const std::string& path,
                             Errors* errs) {
  ValidateIPLegacy(addr.ip(), Child(path, "ip"), errs);
  if (!addr.hostname().empty())
    ValidateDNS1123Label(addr.hostname(), Child(path, "hostname"), errs);
  if (addr.has_nodename()) {
    for (const std::string& msg : NameIsDNSSubdomain(addr.nodename(), false)) {
      errs->push_back(Invalid(Child(path, "nodeName"), addr.nodename(), msg));
    }
  }
  ValidateEndpointIP(addr.ip(), Child(path, "ip"), errs);
}

void ValidateEndpointSubsets(const api::core::v1::Endpoints& ep, Errors* errs) {
  for (int i = 0; i < ep.subsets_size(); ++i) {
    const auto& ss = ep.subsets(i);
    const std::string p = Index("subsets", i);
    if (ss.addresses().empty() && ss.notreadyaddresses().empty()) {
      errs->push_back(Required(p, "must specify `addresses` or `notReadyAddresses`"));
    }
    for (int a = 0; a < ss.addresses_size(); ++a) {
      ValidateEndpointAddress(ss.addresses(a), Index(Child(p, "addresses"), a), errs);
    }
    for (int a = 0; a < ss.notreadyaddresses_size(); ++a) {
      ValidateEndpointAddress(ss.notreadyaddresses(a), Index(Child(p, "notReadyAddresses"), a),
                              errs);
    }
    for (int k = 0; k < ss.ports_size(); ++k) {
      ValidateEndpointPortCore(ss.ports(k), ss.ports_size() > 1, Index(Child(p, "ports"), k), errs);
    }
  }
}

// ValidatePathSegmentName, the generic name rule of the REST layer.
std::vector<std::string> PathSegmentName(std::string_view name) {
  if (name == "." || name == "..") return {absl::StrCat("may not be '", Sv(name), "'")};
  std::vector<std::string> out;
  if (name.find('/') != std::string_view::npos) out.push_back("may not contain '/'");
  if (name.find('%') != std::string_view::npos) out.push_back("may not contain '%'");
  return out;
}

void LegacyValidateEvent(const api::core::v1::Event& ev, Errors* errs) {
  const std::string& ns = ev.metadata().namespace_();
  const std::string& involved_ns = ev.involvedobject().namespace_();
  const bool has_event_time =
      ev.has_eventtime() && (ev.eventtime().seconds() != 0 || ev.eventtime().nanos() != 0);
  if (!has_event_time) {
    if (involved_ns.empty()) {
      if (!ns.empty() && ns != "default") {
        errs->push_back(
            Invalid("involvedObject.namespace", involved_ns, "does not match event.namespace"));
      }
    } else if (ns != involved_ns) {
      errs->push_back(
          Invalid("involvedObject.namespace", involved_ns, "does not match event.namespace"));
    }
  } else {
    if (involved_ns.empty() && ns != "default" && ns != "kube-system") {
      errs->push_back(
          Invalid("involvedObject.namespace", involved_ns, "does not match event.namespace"));
    }
    if (ev.reportingcomponent().empty()) errs->push_back(Required("reportingComponent"));
    ValidateQualifiedName(ev.reportingcomponent(), "reportingComponent", errs);
    if (ev.reportinginstance().empty()) errs->push_back(Required("reportingInstance"));
    if (ev.reportinginstance().size() > 128) {
      errs->push_back(Invalid("reportingInstance", "", "can have at most 128 characters"));
    }
    if (ev.action().empty()) errs->push_back(Required("action"));
    if (ev.action().size() > 128)
      errs->push_back(Invalid("action", "", "can have at most 128 characters"));
    if (ev.reason().empty()) errs->push_back(Required("reason"));
    if (ev.reason().size() > 128)
      errs->push_back(Invalid("reason", "", "can have at most 128 characters"));
    if (ev.message().size() > 1024) {
      errs->push_back(Invalid("message", "", "can have at most 1024 characters"));
    }
  }
  for (const std::string& msg : IsDNS1123Subdomain(ns))
    errs->push_back(Invalid("namespace", ns, msg));
}

// After the kind's own rules pass, the REST layer checks the metadata generically
// (names only need to be valid path segments).
void GenericEventMeta(const api::core::v1::Event& ev, Errors* errs) {
  const auto& meta = ev.metadata();
  if (meta.name().empty()) {
    errs->push_back(Required("metadata.name", "name or generateName is required"));
  } else {
    for (const std::string& msg : PathSegmentName(meta.name())) {
      errs->push_back(Invalid("metadata.name", meta.name(), msg));
    }
  }
  if (meta.namespace_().empty()) errs->push_back(Required("metadata.namespace"));
}

void ValidateLeaseSpec(const api::coordination::v1::LeaseSpec& spec, Errors* errs) {
  if (spec.has_leasedurationseconds() && spec.leasedurationseconds() <= 0) {
    errs->push_back(InvalidInt("spec.leaseDurationSeconds", spec.leasedurationseconds(),
                               "must be greater than 0"));
  }
  if (spec.has_leasetransitions() && spec.leasetransitions() < 0) {
    errs->push_back(InvalidInt("spec.leaseTransitions", spec.leasetransitions(),
                               "must be greater than or equal to 0"));
  }
  if (spec.has_strategy()) {
    const std::string& s = spec.strategy();
    if (s.find('/') == std::string::npos) {
      if (s != "OldestEmulationVersion") {
        errs->push_back(NotSupported("spec.strategy", s, {"OldestEmulationVersion"}));
      }
    } else {
      ValidateQualifiedName(s, "spec.strategy", errs);
    }
  }
  if (spec.has_preferredholder() && !spec.preferredholder().empty() &&
      (!spec.has_strategy() || spec.strategy().empty())) {
    errs->push_back(
        Forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"));
  }
}

// IsFullyQualifiedDomainName.
void ValidateFQDN(std::string_view name, const std::string& path, Errors* errs) {
  if (name.empty()) {
    errs->push_back(Required(path));
    return;
  }
  if (name.back() == '.') name.remove_suffix(1);
  const std::vector<std::string> msgs = IsDNS1123Subdomain(name);
  if (!msgs.empty()) {
    errs->push_back(Invalid(path, name, absl::StrJoin(msgs, ",")));
    return;
  }
  const std::vector<absl::string_view> labels = absl::StrSplit(Sv(name), '.');
  if (labels.size() < 2) {
    errs->push_back(
        Invalid(path, name, "should be a domain with at least two segments separated by dots"));
    return;
  }
  for (absl::string_view label : labels) {
    const std::vector<std::string> lm =
        IsDNS1123Label(std::string_view(label.data(), label.size()));
    if (!lm.empty()) {
      errs->push_back(
          Invalid(path, std::string_view(label.data(), label.size()), absl::StrJoin(lm, ",")));
      return;
    }
  }
}

void ValidateSliceEndpoints(const api::discovery::v1::EndpointSlice& slice, Errors* errs) {
  const auto& eps = slice.endpoints();
  if (eps.size() > 1000) {
    errs->push_back(TooMany("endpoints", eps.size(), 1000));
    return;
  }
  const std::string& type = slice.addresstype();
  for (int i = 0; i < eps.size(); ++i) {
    const auto& ep = eps[i];
    const std::string p = Index("endpoints", i);
    const std::string ap = Child(p, "addresses");
    if (ep.addresses().empty()) {
      errs->push_back(Required(ap, "must contain at least 1 address"));
    } else if (ep.addresses_size() > 100) {
      errs->push_back(TooMany(ap, ep.addresses_size(), 100));
    }
    for (int a = 0; a < ep.addresses_size(); ++a) {
      const std::string& addr = ep.addresses(a);
      const std::string path = Index(ap, a);
      if (type == "IPv4" || type == "IPv6") {
        std::optional<ParsedIP> ip = ParseIPSloppy(addr);
        if (!ip || ip->Is4() != (type == "IPv4")) {
          errs->push_back(Invalid(path, addr, absl::StrCat("must be a valid ", type, " address")));
        }
        ValidateEndpointIP(addr, path, errs);
      } else if (type == "FQDN") {
        ValidateFQDN(addr, path, errs);
      }
    }
    if (ep.has_nodename()) {
      for (const std::string& msg : NameIsDNSSubdomain(ep.nodename(), false)) {
        errs->push_back(Invalid(Child(p, "nodeName"), ep.nodename(), msg));
      }
    }
    const std::string tp = Child(p, "deprecatedTopology");
    if (ep.deprecatedtopology_size() > 16) {
      errs->push_back(TooMany(tp, static_cast<int>(ep.deprecatedtopology_size()), 16));
    }
    ValidateLabels(ep.deprecatedtopology(), tp, errs);
    if (ep.has_hostname()) ValidateDNS1123Label(ep.hostname(), Child(p, "hostname"), errs);
    if (ep.has_hints()) {
      const std::string hp = Child(p, "hints");
      const auto& zones = ep.hints().forzones();
      if (zones.size() > 8) {
        errs->push_back(TooMany(Child(hp, "forZones"), zones.size(), 8));
      } else {
        std::set<std::string> seen;
        for (int z = 0; z < zones.size(); ++z) {
          const std::string zp = Child(Index(Child(hp, "forZones"), z), "name");
          if (!seen.insert(zones[z].name()).second) errs->push_back(Duplicate(zp, zones[z].name()));
          for (const std::string& msg : IsValidLabelValue(zones[z].name())) {
            errs->push_back(Invalid(zp, zones[z].name(), msg));
          }
        }
      }
      const auto& nodes = ep.hints().fornodes();
      if (nodes.size() > 8) {
        errs->push_back(TooMany(Child(hp, "forNodes"), nodes.size(), 8));
      } else {
        std::set<std::string> seen;
        for (int n = 0; n < nodes.size(); ++n) {
          const std::string np = Child(Index(Child(hp, "forNodes"), n), "name");
          if (!seen.insert(nodes[n].name()).second) errs->push_back(Duplicate(np, nodes[n].name()));
          for (const std::string& msg : NameIsDNSSubdomain(nodes[n].name(), false)) {
            errs->push_back(Invalid(np, nodes[n].name(), msg));
          }
        }
      }
    }
  }
}

void ValidateSlicePorts(const api::discovery::v1::EndpointSlice& slice, Errors* errs) {
  const auto& ports = slice.ports();
  if (ports.size() > 20000) {
    errs->push_back(TooMany("ports", ports.size(), 20000));
    return;
  }
  std::set<std::string> names;
  for (int i = 0; i < ports.size(); ++i) {
    const auto& port = ports[i];
    const std::string p = Index("ports", i);
    const std::string& name = port.name();  // nil reads as "" (defaulting sets it)
    if (!name.empty()) ValidateDNS1123Label(name, Child(p, "name"), errs);
    if (!names.insert(name).second) errs->push_back(Duplicate(Child(p, "name"), name));
    if (!port.has_protocol()) {
      errs->push_back(Required(Child(p, "protocol")));
    } else if (!IsSupportedProtocol(port.protocol())) {
      errs->push_back(NotSupported(Child(p, "protocol"), port.protocol(), kProtocols));
    }
    if (port.has_appprotocol())
      ValidateQualifiedName(port.appprotocol(), Child(p, "appProtocol"), errs);
  }
}

}  // namespace

void ValidateNamespace(const api::core::v1::Namespace& ns, Errors* errs) {
  ValidateObjectMeta(ns.metadata(), false, NameRule::kDNSLabel, errs);
  for (const std::string& f : ns.spec().finalizers()) {
    const std::vector<std::string> msgs = IsQualifiedName(f);
    for (const std::string& msg : msgs) errs->push_back(Invalid("spec.finalizers", f, msg));
    if (f.find('/') == std::string::npos && f != "kubernetes" && f != "orphan" &&
        f != "foregroundDeletion") {
      errs->push_back(
          Invalid("spec.finalizers", f,
                  "name is neither a standard finalizer name nor is it fully qualified"));
    }
  }
}

void ValidateNamespaceUpdate(const api::core::v1::Namespace& ns,
                             const api::core::v1::Namespace& old, Errors* errs) {
  ValidateObjectMetaUpdate(ns.metadata(), old.metadata(), errs);
}

void ValidateNamespaceStatusUpdate(const api::core::v1::Namespace& ns,
                                   const api::core::v1::Namespace& old, Errors* errs) {
  ValidateObjectMetaUpdate(ns.metadata(), old.metadata(), errs);
  const std::string& phase = ns.status().phase();
  if (!ns.metadata().has_deletiontimestamp()) {
    if (phase != "Active") {
      errs->push_back(
          Invalid("status.Phase", phase, "may only be 'Active' if `deletionTimestamp` is empty"));
    }
  } else if (phase != "Terminating") {
    errs->push_back(Invalid("status.Phase", phase,
                            "may only be 'Terminating' if `deletionTimestamp` is not empty"));
  }
}

void ValidateNode(const api::core::v1::Node& node, Errors* errs) {
  ValidateObjectMeta(node.metadata(), false, NameRule::kDNSSubdomain, errs);
  // Upstream reports taint errors under "metadata.taints".
  ValidateTaints(node.spec().taints(), "metadata.taints", errs);
  ValidatePodCIDRs(node.spec(), errs);
}

void ValidateNodeUpdate(const api::core::v1::Node& node, const api::core::v1::Node& old,
                        Errors* errs) {
  ValidateObjectMetaUpdate(node.metadata(), old.metadata(), errs);
  const auto& spec = node.spec();
  const auto& old_spec = old.spec();
  if (!old_spec.podcidrs().empty()) {
    bool changed = old_spec.podcidrs_size() != spec.podcidrs_size();
    for (int i = 0; !changed && i < old_spec.podcidrs_size(); ++i) {
      changed = old_spec.podcidrs(i) != spec.podcidrs(i);
    }
    if (changed) {
      errs->push_back(Forbidden("spec.podCIDRs",
                                "node updates may not change podCIDR except from \"\" to valid"));
    }
  }
  if (!old_spec.providerid().empty() && old_spec.providerid() != spec.providerid()) {
    errs->push_back(Forbidden("spec.providerID",
                              "node updates may not change providerID except from \"\" to valid"));
  }
  ValidateTaints(spec.taints(), "metadata.taints", errs);
  if (spec.externalid() != old_spec.externalid()) {
    errs->push_back(Forbidden("spec.externalID", "may not be updated"));
  }
  ValidatePodCIDRs(spec, errs);
}

void ValidateEndpoints(const api::core::v1::Endpoints& ep, Errors* errs) {
  ValidateObjectMeta(ep.metadata(), true, NameRule::kDNSSubdomain, errs);
  ValidateEndpointSubsets(ep, errs);
}

void ValidateEndpointsUpdate(const api::core::v1::Endpoints& ep,
                             const api::core::v1::Endpoints& old, Errors* errs) {
  ValidateObjectMetaUpdate(ep.metadata(), old.metadata(), errs);
  ValidateEndpointSubsets(ep, errs);
}

void ValidateEvent(const api::core::v1::Event& ev, Errors* errs) {
  LegacyValidateEvent(ev, errs);
  if (errs->empty()) GenericEventMeta(ev, errs);
}

void ValidateEventUpdate(const api::core::v1::Event& ev, const api::core::v1::Event& old,
                         Errors* errs) {
  LegacyValidateEvent(ev, errs);
  if (errs->empty()) ValidateObjectMetaUpdate(ev.metadata(), old.metadata(), errs);
}

void ValidateConfigMap(const api::core::v1::ConfigMap& cm, Errors* errs) {
  ValidateObjectMeta(cm.metadata(), true, NameRule::kDNSSubdomain, errs);
  int64_t total = 0;
  for (const std::string& key : SortedKeys(cm.data())) {
    const std::string p = Key("data", key);
    for (const std::string& msg : IsConfigMapKey(key)) errs->push_back(Invalid(p, key, msg));
    if (cm.binarydata().count(key) > 0) {
      errs->push_back(Invalid(p, key, "duplicate of key present in binaryData"));
    }
    total += static_cast<int64_t>(cm.data().at(key).size());
  }
  for (const std::string& key : SortedKeys(cm.binarydata())) {
    for (const std::string& msg : IsConfigMapKey(key)) {
      errs->push_back(Invalid(Key("binaryData", key), key, msg));
    }
    total += static_cast<int64_t>(cm.binarydata().at(key).size());
  }
  if (total > 1024 * 1024) errs->push_back(TooLong("", 1024 * 1024));
}

void ValidateConfigMapUpdate(const api::core::v1::ConfigMap& cm,
                             const api::core::v1::ConfigMap& old, Errors* errs) {
  ValidateObjectMetaUpdate(cm.metadata(), old.metadata(), errs);
  if (old.has_immutable() && old.immutable()) {
    if (!cm.has_immutable() || !cm.immutable()) {
      errs->push_back(Forbidden("immutable", "field is immutable when `immutable` is set"));
    }
    api::core::v1::ConfigMap a, b;
    *a.mutable_data() = cm.data();
    *b.mutable_data() = old.data();
    if (!MessageDifferencer::Equals(a, b)) {
      errs->push_back(Forbidden("data", "field is immutable when `immutable` is set"));
    }
    a.Clear();
    b.Clear();
    *a.mutable_binarydata() = cm.binarydata();
    *b.mutable_binarydata() = old.binarydata();
    if (!MessageDifferencer::Equals(a, b)) {
      errs->push_back(Forbidden("binaryData", "field is immutable when `immutable` is set"));
    }
  }
  ValidateConfigMap(cm, errs);
}

void ValidateLease(const api::coordination::v1::Lease& lease, Errors* errs) {
  ValidateObjectMeta(lease.metadata(), true, NameRule::kDNSSubdomain, errs);
  ValidateLeaseSpec(lease.spec(), errs);
}

void ValidateLeaseUpdate(const api::coordination::v1::Lease& lease,
                         const api::coordination::v1::Lease& old, Errors* errs) {
  ValidateObjectMetaUpdate(lease.metadata(), old.metadata(), errs);
  ValidateLeaseSpec(lease.spec(), errs);
}

void ValidateEndpointSlice(const api::discovery::v1::EndpointSlice& slice, Errors* errs) {
  ValidateObjectMeta(slice.metadata(), true, NameRule::kDNSSubdomain, errs);
  const std::string& type = slice.addresstype();
  if (type.empty()) {
    errs->push_back(Required("addressType"));
  } else if (type != "IPv4" && type != "IPv6" && type != "FQDN") {
    errs->push_back(NotSupported("addressType", type, {"FQDN", "IPv4", "IPv6"}));
  }
  ValidateSliceEndpoints(slice, errs);
  ValidateSlicePorts(slice, errs);
}

void ValidateEndpointSliceUpdate(const api::discovery::v1::EndpointSlice& slice,
                                 const api::discovery::v1::EndpointSlice& old, Errors* errs) {
  ValidateObjectMetaUpdate(slice.metadata(), old.metadata(), errs);
  ValidateEndpointSlice(slice, errs);
  if (slice.addresstype() != old.addresstype()) {
    errs->push_back(Invalid("addressType", slice.addresstype(), kFieldImmutable));
  }
}

}  // namespace kslice::envtest::validation::internal
