// Service rules: k8s.io/kubernetes pkg/apis/core/validation/validation.go (ValidateService,
// validateServicePort, validateServiceClusterIPsRelatedFields, ValidateServiceUpdate,
// ValidateServiceStatusUpdate) and the node-port range check of the service REST storage
// (pkg/registry/core/service/portallocator).
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "envtest/validation/checks.h"
#include "envtest/validation/internal.h"

namespace kslice::envtest::validation::internal {
namespace {

using api::core::v1::Service;
using api::core::v1::ServicePort;
using api::core::v1::ServiceSpec;

constexpr int kNodePortMin = 30000;
constexpr int kNodePortMax = 32767;
constexpr int kMaxClientIPAffinitySeconds = 86400;

bool IsSupportedProtocol(const std::string& p) { return p == "TCP" || p == "UDP" || p == "SCTP"; }

// The internal core.ServicePort as encoding/json writes it (the type has no json tags).
std::string ServicePortKeyJson(const ServicePort& p) {
  return absl::StrCat("{\"Name\":\"\",\"Protocol\":", JsonString(p.protocol()),
                      ",\"AppProtocol\":null,\"Port\":", p.port(),
                      ",\"TargetPort\":0,\"NodePort\":0}");
}

void ValidateServicePort(const ServicePort& sp, bool require_name, std::set<std::string>* names,
                         const std::string& path, Errors* errs) {
  if (require_name && sp.name().empty()) {
    errs->push_back(Required(Child(path, "name")));
  } else if (!sp.name().empty()) {
    ValidateDNS1123Label(sp.name(), Child(path, "name"), errs);
    if (!names->insert(sp.name()).second)
      errs->push_back(Duplicate(Child(path, "name"), sp.name()));
  }
  for (const std::string& msg : IsValidPortNum(sp.port())) {
    errs->push_back(InvalidInt(Child(path, "port"), sp.port(), msg));
  }
  if (sp.protocol().empty()) {
    errs->push_back(Required(Child(path, "protocol")));
  } else if (!IsSupportedProtocol(sp.protocol())) {
    errs->push_back(NotSupported(Child(path, "protocol"), sp.protocol(), {"SCTP", "TCP", "UDP"}));
  }
  const std::string tp = Child(path, "targetPort");
  if (sp.targetport().type() == 1) {
    for (const std::string& msg : IsValidPortName(sp.targetport().strval())) {
      errs->push_back(Invalid(tp, sp.targetport().strval(), msg));
    }
  } else {
    for (const std::string& msg : IsValidPortNum(sp.targetport().intval())) {
      errs->push_back(InvalidInt(tp, sp.targetport().intval(), msg));
    }
  }
  if (sp.has_appprotocol())
    ValidateQualifiedName(sp.appprotocol(), Child(path, "appProtocol"), errs);
}

bool ExternallyAccessible(const ServiceSpec& spec) {
  return spec.type() == "LoadBalancer" || spec.type() == "NodePort" ||
         (spec.type() == "ClusterIP" && !spec.externalips().empty());
}

void ValidateClusterIPsRelatedFields(const ServiceSpec& spec, Errors* errs) {
  if (spec.type() == "ExternalName") return;
  const std::string ips_path = "spec.clusterIPs";
  if (!spec.clusterip().empty()) {
    if (spec.clusterips().empty()) {
      errs->push_back(Required(ips_path));
    } else if (spec.clusterips(0) != spec.clusterip()) {
      errs->push_back(InvalidJson(ips_path, JsonStringList(spec.clusterips()),
                                  "first value must match `clusterIP`"));
    }
  } else if (!spec.clusterips().empty()) {
    errs->push_back(InvalidJson(ips_path, JsonStringList(spec.clusterips()),
                                "must be empty when `clusterIP` is not specified"));
  }
  std::set<std::string> seen;
  for (int i = 0; i < spec.ipfamilies_size(); ++i) {
    const std::string& fam = spec.ipfamilies(i);
    if (fam != "IPv4" && fam != "IPv6") {
      errs->push_back(NotSupported(Index("spec.ipFamilies", i), fam, {"IPv4", "IPv6"}));
    }
    if (!seen.insert(fam).second) errs->push_back(Duplicate(Index("spec.ipFamilies", i), fam));
  }
  if (spec.has_ipfamilypolicy()) {
    const std::string& pol = spec.ipfamilypolicy();
    if (pol != "SingleStack" && pol != "PreferDualStack" && pol != "RequireDualStack") {
      errs->push_back(NotSupported("spec.ipFamilyPolicy", pol,
                                   {"PreferDualStack", "RequireDualStack", "SingleStack"}));
    }
  }
  if (spec.has_ipfamilypolicy() && spec.ipfamilypolicy() == "SingleStack") {
    if (spec.clusterips_size() > 1) {
      errs->push_back(Invalid("spec.ipFamilyPolicy", spec.ipfamilypolicy(),
                              "must be 'RequireDualStack' or 'PreferDualStack' when multiple "
                              "cluster IPs are specified"));
    }
    if (spec.ipfamilies_size() > 1) {
      errs->push_back(Invalid("spec.ipFamilyPolicy", spec.ipfamilypolicy(),
                              "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP "
                              "families are specified"));
    }
  }
  if (spec.ipfamilies_size() > 2) {
    errs->push_back(InvalidJson("spec.ipFamilies", JsonStringList(spec.ipfamilies()),
                                "may specify no more than 2 ip families"));
  }
  bool invalid_ips = false;
  for (int i = 0; i < spec.clusterips_size(); ++i) {
    const std::string& ip = spec.clusterips(i);
    if (i == 0 && ip == "None") {
      if (spec.clusterips_size() > 1) {
        invalid_ips = true;
        errs->push_back(InvalidJson(ips_path, JsonStringList(spec.clusterips()),
                                    "'None' must be the first and only value"));
      }
      continue;
    }
    const std::size_t before = errs->size();
    ValidateIPLegacy(ip, Index(ips_path, i), errs);
    invalid_ips = invalid_ips || errs->size() != before;
  }
  if (spec.clusterips_size() > 2) {
    errs->push_back(
        InvalidJson(ips_path, JsonStringList(spec.clusterips()), "may only hold up to 2 values"));
  }
  if (!invalid_ips && spec.clusterips_size() == 2 && spec.clusterips(0) != "None") {
    std::optional<ParsedIP> a = ParseIPSloppy(spec.clusterips(0));
    std::optional<ParsedIP> b = ParseIPSloppy(spec.clusterips(1));
    if (a && b && a->Is4() == b->Is4()) {
      errs->push_back(InvalidJson(ips_path, JsonStringList(spec.clusterips()),
                                  "may specify no more than one IP for each IP family"));
    }
  }
  // Families must match the IPs they describe.
  if (!invalid_ips) {
    for (int i = 0; i < spec.clusterips_size() && i < spec.ipfamilies_size(); ++i) {
      if (spec.clusterips(i) == "None") continue;
      std::optional<ParsedIP> ip = ParseIPSloppy(spec.clusterips(i));
      if (!ip) continue;
      const std::string fam = ip->Is4() ? "IPv4" : "IPv6";
      if (fam != spec.ipfamilies(i)) {
        errs->push_back(Invalid(Index("spec.clusterIPs", i), spec.clusterips(i),
                                absl::StrCat("expected an ", spec.ipfamilies(i),
                                             " value as indicated by `ipFamilies[", i, "]`")));
      }
    }
  }
}

}  // namespace

void ValidateService(const Service& svc, Errors* errs) {
  ValidateObjectMeta(svc.metadata(), true, NameRule::kDNS1035Label, errs);
  const ServiceSpec& spec = svc.spec();
  const bool headless = spec.clusterip() == "None";
  if (spec.ports().empty() && !headless && spec.type() != "ExternalName") {
    errs->push_back(Required("spec.ports"));
  }
  if (spec.type() == "LoadBalancer" || spec.type() == "NodePort") {
    if (headless) {
      errs->push_back(
          Invalid("spec.clusterIPs[0]", "None",
                  absl::StrCat("may not be set to 'None' for ", spec.type(), " services")));
    }
  } else if (spec.type() == "ExternalName") {
    if (!spec.clusterips().empty()) {
      errs->push_back(Forbidden("spec.clusterIPs", "may not be set for ExternalName services"));
    }
    if (!spec.ipfamilies().empty()) {
      errs->push_back(Forbidden("spec.ipFamilies", "may not be set for ExternalName services"));
    }
    if (spec.has_ipfamilypolicy()) {
      errs->push_back(Forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"));
    }
    std::string name = spec.externalname();
    if (!name.empty() && name.back() == '.') name.pop_back();
    if (!name.empty()) {
      ValidateDNS1123Subdomain(name, "spec.externalName", errs);
    } else {
      errs->push_back(Required("spec.externalName"));
    }
  }
  std::set<std::string> names;
  for (int i = 0; i < spec.ports_size(); ++i) {
    ValidateServicePort(spec.ports(i), spec.ports_size() > 1, &names, Index("spec.ports", i), errs);
  }
  ValidateLabels(spec.selector(), "spec.selector", errs);
  const std::string& aff = spec.sessionaffinity();
  if (aff.empty()) {
    errs->push_back(Required("spec.sessionAffinity"));
  } else if (aff != "ClientIP" && aff != "None") {
    errs->push_back(NotSupported("spec.sessionAffinity", aff, {"ClientIP", "None"}));
  }
  if (aff == "ClientIP") {
    const std::string p = "spec.sessionAffinityConfig";
    if (!spec.has_sessionaffinityconfig()) {
      errs->push_back(Required(p, "when session affinity type is ClientIP"));
    } else if (!spec.sessionaffinityconfig().has_clientip()) {
      errs->push_back(Required(Child(p, "clientIP"), "when session affinity type is ClientIP"));
    } else {
      const auto& cip = spec.sessionaffinityconfig().clientip();
      if (!cip.has_timeoutseconds()) {
        errs->push_back(Required(Child(Child(p, "clientIP"), "timeoutSeconds"),
                                 "when session affinity type is ClientIP"));
      } else if (cip.timeoutseconds() <= 0 || cip.timeoutseconds() > kMaxClientIPAffinitySeconds) {
        errs->push_back(InvalidInt(
            Child(Child(p, "clientIP"), "timeoutSeconds"), cip.timeoutseconds(),
            absl::StrCat("must be greater than 0 and less than ", kMaxClientIPAffinitySeconds)));
      }
    }
  } else if (aff == "None" && spec.has_sessionaffinityconfig()) {
    errs->push_back(
        Forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None"));
  }
  ValidateClusterIPsRelatedFields(spec, errs);
  for (int i = 0; i < spec.externalips_size(); ++i) {
    const std::string p = Index("spec.externalIPs", i);
    const std::size_t before = errs->size();
    ValidateIPLegacy(spec.externalips(i), p, errs);
    if (errs->size() == before) ValidateEndpointIP(spec.externalips(i), p, errs);
  }
  const std::string& type = spec.type();
  if (type.empty()) {
    errs->push_back(Required("spec.type"));
  } else if (type != "ClusterIP" && type != "NodePort" && type != "LoadBalancer" &&
             type != "ExternalName") {
    errs->push_back(
        NotSupported("spec.type", type, {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"}));
  }
  if (type == "ClusterIP" || type == "ExternalName") {
    for (int i = 0; i < spec.ports_size(); ++i) {
      if (spec.ports(i).nodeport() != 0) {
        errs->push_back(Forbidden(Child(Index("spec.ports", i), "nodePort"),
                                  absl::StrCat("may not be used when `type` is '", type, "'")));
      }
    }
  }
  // Node ports: unique per protocol, and in the service-node-port-range.
  std::set<std::pair<std::string, int>> node_ports;
  for (int i = 0; i < spec.ports_size(); ++i) {
    const ServicePort& p = spec.ports(i);
    if (p.nodeport() == 0) continue;
    const std::string path = Child(Index("spec.ports", i), "nodePort");
    if (!node_ports.insert({p.protocol(), p.nodeport()}).second) {
      errs->push_back(storage::DuplicateRenderedFieldError(path, absl::StrCat(p.nodeport())));
    }
    if ((type == "NodePort" || type == "LoadBalancer") &&
        (p.nodeport() < kNodePortMin || p.nodeport() > kNodePortMax)) {
      errs->push_back(InvalidInt(path, p.nodeport(),
                                 absl::StrCat("provided port is not in the valid range. The range "
                                              "of valid ports is ",
                                              kNodePortMin, "-", kNodePortMax)));
    }
  }
  std::set<std::pair<std::string, int>> ports;
  for (int i = 0; i < spec.ports_size(); ++i) {
    const ServicePort& p = spec.ports(i);
    if (!ports.insert({p.protocol(), p.port()}).second) {
      errs->push_back(
          storage::DuplicateRenderedFieldError(Index("spec.ports", i), ServicePortKeyJson(p)));
    }
  }
  if (!spec.loadbalancersourceranges().empty()) {
    const std::string p = "spec.LoadBalancerSourceRanges";
    if (type != "LoadBalancer") {
      errs->push_back(Forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    }
    for (int i = 0; i < spec.loadbalancersourceranges_size(); ++i) {
      // Upstream tolerates space padding here (a leftover of the annotation form).
      const std::string cidr(absl::StripAsciiWhitespace(spec.loadbalancersourceranges(i)));
      if (!IsCIDR(cidr)) {
        errs->push_back(Invalid(Index(p, i), cidr,
                                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
      }
    }
  }
  // External traffic policy and health-check node port.
  if (!ExternallyAccessible(spec)) {
    if (!spec.externaltrafficpolicy().empty()) {
      errs->push_back(Invalid("spec.externalTrafficPolicy", spec.externaltrafficpolicy(),
                              "may only be set for externally-accessible services"));
    }
  } else if (spec.externaltrafficpolicy().empty()) {
    errs->push_back(Required("spec.externalTrafficPolicy"));
  } else if (spec.externaltrafficpolicy() != "Cluster" && spec.externaltrafficpolicy() != "Local") {
    errs->push_back(NotSupported("spec.externalTrafficPolicy", spec.externaltrafficpolicy(),
                                 {"Cluster", "Local"}));
  }
  if (spec.healthchecknodeport() != 0) {
    if (type != "LoadBalancer" || spec.externaltrafficpolicy() != "Local") {
      errs->push_back(InvalidInt("spec.healthCheckNodePort", spec.healthchecknodeport(),
                                 "may only be set when `type` is 'LoadBalancer' and "
                                 "`externalTrafficPolicy` is 'Local'"));
    } else {
      for (const std::string& msg : IsValidPortNum(spec.healthchecknodeport())) {
        errs->push_back(InvalidInt("spec.healthCheckNodePort", spec.healthchecknodeport(), msg));
      }
    }
  }
  if (!spec.has_internaltrafficpolicy()) {
    if (type == "ClusterIP" || type == "NodePort" || type == "LoadBalancer") {
      errs->push_back(Required("spec.internalTrafficPolicy"));
    }
  } else if (spec.internaltrafficpolicy() != "Cluster" && spec.internaltrafficpolicy() != "Local") {
    errs->push_back(NotSupported("spec.internalTrafficPolicy", spec.internaltrafficpolicy(),
                                 {"Cluster", "Local"}));
  }
  // (On other types the field is dropped by the update strategy, not rejected.)
  if (type == "LoadBalancer" && !spec.has_allocateloadbalancernodeports()) {
    errs->push_back(Required("spec.allocateLoadBalancerNodePorts"));
  }
  if (spec.has_loadbalancerclass()) {
    if (type != "LoadBalancer") {
      errs->push_back(
          Forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"));
    } else {
      ValidateQualifiedName(spec.loadbalancerclass(), "spec.loadBalancerClass", errs);
    }
  }
}

void ValidateServiceUpdate(const Service& svc, const Service& old, Errors* errs) {
  ValidateObjectMetaUpdate(svc.metadata(), old.metadata(), errs);
  const ServiceSpec& spec = svc.spec();
  const ServiceSpec& old_spec = old.spec();
  // The allocated cluster IPs may not change (except to or from ExternalName, or when
  // adding / removing the secondary IP of a dual-stack service).
  if (spec.type() != "ExternalName" && old_spec.type() != "ExternalName" &&
      !(spec.clusterip() == "None" && old_spec.clusterip() == "None")) {
    const int n = std::min(spec.clusterips_size(), old_spec.clusterips_size());
    for (int i = 0; i < old_spec.clusterips_size(); ++i) {
      if (i >= n) break;
      if (spec.clusterips(i) != old_spec.clusterips(i)) {
        errs->push_back(InvalidJson(Index("spec.clusterIPs", i), JsonStringList(spec.clusterips()),
                                    "may not change once set"));
      }
    }
    if (old_spec.clusterips_size() > 0 && spec.clusterips_size() == 0) {
      errs->push_back(InvalidJson("spec.clusterIPs[0]", JsonStringList(spec.clusterips()),
                                  "primary clusterIP can not be unset"));
    }
    const int nf = std::min(spec.ipfamilies_size(), old_spec.ipfamilies_size());
    for (int i = 0; i < nf; ++i) {
      if (spec.ipfamilies(i) != old_spec.ipfamilies(i)) {
        errs->push_back(
            Invalid(Index("spec.ipFamilies", i), spec.ipfamilies(i), "may not change once set"));
      }
    }
  }
  ValidateService(svc, errs);
}

void ValidateServiceStatusUpdate(const Service& svc, const Service& old, Errors* errs) {
  ValidateObjectMetaUpdate(svc.metadata(), old.metadata(), errs);
  const auto& ingress = svc.status().loadbalancer().ingress();
  for (int i = 0; i < ingress.size(); ++i) {
    const std::string p = Index("status.loadBalancer.ingress", i);
    if (!ingress[i].ip().empty() && !ParseIPSloppy(ingress[i].ip())) {
      errs->push_back(Invalid(Child(p, "ip"), ingress[i].ip(), "must be a valid IP address"));
    }
    if (!ingress[i].hostname().empty()) {
      ValidateDNS1123Subdomain(ingress[i].hostname(), Child(p, "hostname"), errs);
      if (ParseIPSloppy(ingress[i].hostname())) {
        errs->push_back(Invalid(Child(p, "hostname"), ingress[i].hostname(),
                                "must be a DNS name, not an IP address"));
      }
    }
  }
}

}  // namespace kslice::envtest::validation::internal
