#include "controller/endpointslice/utils.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iterator>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/labels/validation.h"

namespace kslice::endpointslice {

using api::core::v1::Pod;
using api::core::v1::Service;
using api::core::v1::ServicePort;
using api::discovery::v1::Endpoint;
using api::discovery::v1::EndpointPort;
using api::discovery::v1::EndpointSlice;

namespace {

// Same values as reconciler.h (not included here so that :utils does not depend on the
// reconciler's headers).
constexpr char kLabelServiceName[] = "kubernetes.io/service-name";
constexpr char kLabelManagedBy[] = "endpointslice.kubernetes.io/managed-by";
constexpr char kLabelHeadless[] = "service.kubernetes.io/headless";
constexpr char kLabelTopologyZone[] = "topology.kubernetes.io/zone";
constexpr char kAnnotationTriggerTime[] = "endpoints.kubernetes.io/last-change-trigger-time";

// ---- IP parsing as Go 1.16 net.ParseIP (k8s.io/utils/net ParseIPSloppy) ----------------

using IP16 = std::array<uint8_t, 16>;

// Decimal digits at the front of s: value, count; fails on none or on overflow.
bool Dtoi(std::string_view s, int* n, size_t* consumed) {
  constexpr int kBig = 0xFFFFFF;
  int v = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    v = v * 10 + (s[i] - '0');
    if (v >= kBig) return false;
  }
  if (i == 0) return false;
  *n = v;
  *consumed = i;
  return true;
}

bool Xtoi(std::string_view s, int* n, size_t* consumed) {
  constexpr int kBig = 0xFFFFFF;
  int v = 0;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      break;
    }
    v = v * 16 + d;
    if (v >= kBig) return false;
  }
  if (i == 0) return false;
  *n = v;
  *consumed = i;
  return true;
}

// Dotted quad (leading zeros allowed) -> the 16-byte IPv4-mapped form.
bool ParseIPv4(std::string_view s, IP16* ip) {
  IP16 out{};
  out[10] = out[11] = 0xff;
  for (int i = 0; i < 4; ++i) {
    if (s.empty()) return false;
    if (i > 0) {
      if (s[0] != '.') return false;
      s.remove_prefix(1);
    }
    int n;
    size_t c;
    if (!Dtoi(s, &n, &c) || n > 0xFF) return false;
    s.remove_prefix(c);
    out[12 + i] = static_cast<uint8_t>(n);
  }
  if (!s.empty()) return false;
  *ip = out;
  return true;
}

bool ParseIPv6(std::string_view s, IP16* ip) {
  IP16 out{};
  int ellipsis = -1;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    ellipsis = 0;
    s.remove_prefix(2);
    if (s.empty()) {
      *ip = out;
      return true;
    }
  }
  int i = 0;
  while (i < 16) {
    int n;
    size_t c;
    if (!Xtoi(s, &n, &c) || n > 0xFFFF) return false;
    if (c < s.size() && s[c] == '.') {
      if (ellipsis < 0 && i != 12) return false;
      if (i + 4 > 16) return false;
      IP16 v4;
      if (!ParseIPv4(s, &v4)) return false;
      for (int k = 0; k < 4; ++k) out[i + k] = v4[12 + k];
      i += 4;
      s = {};
      break;
    }
    out[i] = static_cast<uint8_t>(n >> 8);
    out[i + 1] = static_cast<uint8_t>(n);
    i += 2;
    s.remove_prefix(c);
    if (s.empty()) break;
    if (s[0] != ':' || s.size() == 1) return false;
    s.remove_prefix(1);
    if (s[0] == ':') {
      if (ellipsis >= 0) return false;
      ellipsis = i;
      s.remove_prefix(1);
      if (s.empty()) break;
    }
  }
  if (!s.empty()) return false;
  if (i < 16) {
    if (ellipsis < 0) return false;
    int n = 16 - i;
    for (int j = i - 1; j >= ellipsis; --j) out[j + n] = out[j];
    for (int j = ellipsis + n - 1; j >= ellipsis; --j) out[j] = 0;
  } else if (ellipsis >= 0) {
    return false;
  }
  *ip = out;
  return true;
}

bool ParseIP(std::string_view s, IP16* ip) {
  for (char c : s) {
    if (c == '.') return ParseIPv4(s, ip);
    if (c == ':') return ParseIPv6(s, ip);
  }
  return false;
}

bool IsV4(const IP16& ip) {
  for (int i = 0; i < 10; ++i) {
    if (ip[i] != 0) return false;
  }
  return ip[10] == 0xff && ip[11] == 0xff;
}

// Go's net.IP.String() for a 16-byte address that is not IPv4: RFC 5952 (longest run
// of two or more zero groups, first on ties, becomes "::"; lowercase hex).
std::string FormatIPv6(const IP16& ip) {
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 16; i += 2) {
    int j = i;
    while (j < 16 && ip[j] == 0 && ip[j + 1] == 0) j += 2;
    if (j - i > best_len && j - i >= 4) {
      best_start = i;
      best_len = j - i;
    }
    if (j > i) i = j - 2;  // loop adds 2
  }
  std::string out;
  out.reserve(39);
  char buf[8];
  for (int i = 0; i < 16; i += 2) {
    if (i == best_start) {
      out += "::";
      i += best_len - 2;
      continue;
    }
    if (i > 0 && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof(buf), "%x", (ip[i] << 8) | ip[i + 1]);
    out += buf;
  }
  return out;
}

bool StringPtrChanged(bool has_a, const std::string& a, bool has_b, const std::string& b) {
  if (has_a != has_b) return true;
  return has_a && a != b;
}

bool BoolPtrChanged(bool has_a, bool a, bool has_b, bool b) {
  if (has_a != has_b) return true;
  return has_a && a != b;
}

void AppendField(std::string* out, bool has, const std::string& v) {
  if (!has) {
    out->push_back('\x00');
    return;
  }
  out->push_back('\x01');
  absl::StrAppend(out, v.size(), ":", v);
}

std::string PortString(const EndpointPort& p) {
  std::string s;
  AppendField(&s, p.has_name(), p.name());
  if (p.has_port()) {
    absl::StrAppend(&s, "\x01", p.port(), ";");
  } else {
    s.push_back('\x00');
  }
  AppendField(&s, p.has_protocol(), p.protocol());
  AppendField(&s, p.has_appprotocol(), p.appprotocol());
  return s;
}

std::map<std::string, std::string> ToStdMap(const LabelMap& m) {
  return std::map<std::string, std::string>(m.begin(), m.end());
}

}  // namespace

// ---- Pods -------------------------------------------------------------------------

bool IsPodReady(const Pod& pod) {
  for (const auto& c : pod.status().conditions()) {
    if (c.type() == "Ready") return c.status() == "True";
  }
  return false;
}

bool ShouldPodBeInEndpoints(const Pod& pod, bool include_terminating) {
  const std::string& phase = pod.status().phase();
  if (phase == "Succeeded" || phase == "Failed") return false;
  if (pod.status().podip().empty() && pod.status().podips_size() == 0) return false;
  if (!include_terminating && pod.metadata().has_deletiontimestamp()) return false;
  return true;
}

bool ShouldSetHostname(const Pod& pod, const Service& service) {
  return !pod.spec().hostname().empty() && pod.spec().subdomain() == service.metadata().name() &&
         service.metadata().namespace_() == pod.metadata().namespace_();
}

std::pair<bool, std::string> CanonicalIP(std::string_view text) {
  IP16 ip;
  if (!ParseIP(text, &ip)) return {false, "<nil>"};
  if (IsV4(ip)) {
    return {false, absl::StrCat(ip[12], ".", ip[13], ".", ip[14], ".", ip[15])};
  }
  return {true, FormatIPv6(ip)};
}

namespace {
// The text is an IPv4 address as CanonicalIP would print it (four decimal octets of
// at most 255 without leading zeros): the common case, which needs no parsing and
// formatting.
bool IsCanonicalIPv4(std::string_view s) {
  int octets = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    int v = 0;
    while (i < s.size() && i - start < 4 && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    const size_t digits = i - start;
    if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[start] == '0')) return false;
    if (++octets == 4) return i == s.size();
    if (i >= s.size() || s[i] != '.') return false;
    ++i;
  }
}
}  // namespace

void EndpointAddresses(const Pod& pod, std::string_view address_type,
                       google::protobuf::RepeatedPtrField<std::string>* out) {
  const bool want_v6 = address_type == kAddressTypeIPv6;
  const bool want_v4 = address_type == kAddressTypeIPv4;
  for (const auto& pod_ip : pod.status().podips()) {
    if (IsCanonicalIPv4(pod_ip.ip())) {
      if (want_v4) out->Add()->assign(pod_ip.ip());
      continue;
    }
    auto [is_v6, text] = CanonicalIP(pod_ip.ip());
    if ((is_v6 && want_v6) || (!is_v6 && want_v4)) *out->Add() = std::move(text);
  }
}

void PodToEndpoint(const Pod& pod, const api::core::v1::Node* node, const Service& service,
                   std::string_view address_type, Endpoint* ep) {
  ep->Clear();
  EndpointAddresses(pod, address_type, ep->mutable_addresses());
  const bool serving = IsPodReady(pod);
  const bool terminating = pod.metadata().has_deletiontimestamp();
  auto* cond = ep->mutable_conditions();
  cond->set_ready(service.spec().publishnotreadyaddresses() || (serving && !terminating));
  cond->set_serving(serving);
  cond->set_terminating(terminating);
  auto* ref = ep->mutable_targetref();
  ref->set_kind("Pod");
  ref->set_namespace_(pod.metadata().namespace_());
  ref->set_name(pod.metadata().name());
  ref->set_uid(pod.metadata().uid());
  if (!pod.spec().nodename().empty()) ep->set_nodename(pod.spec().nodename());
  if (node != nullptr) {
    auto it = node->metadata().labels().find(kLabelTopologyZone);
    if (it != node->metadata().labels().end() && !it->second.empty()) ep->set_zone(it->second);
  }
  if (ShouldSetHostname(pod, service)) ep->set_hostname(pod.spec().hostname());
}

// ---- Ports ------------------------------------------------------------------------

absl::StatusOr<int32_t> FindPort(const Pod& pod, const ServicePort& service_port) {
  const auto& target = service_port.targetport();
  if (target.type() == 1) {  // string
    const std::string& name = target.strval();
    for (const auto& c : pod.spec().containers()) {
      for (const auto& p : c.ports()) {
        if (p.name() == name && p.protocol() == service_port.protocol()) return p.containerport();
      }
    }
    for (const auto& c : pod.spec().initcontainers()) {
      if (!c.has_restartpolicy() || c.restartpolicy() != "Always") continue;
      for (const auto& p : c.ports()) {
        if (p.name() == name && p.protocol() == service_port.protocol()) return p.containerport();
      }
    }
    return absl::NotFoundError(
        absl::StrCat("no suitable port for manifest: ", pod.metadata().uid()));
  }
  if (target.type() == 0) return target.intval();
  return absl::NotFoundError(absl::StrCat("no suitable port for manifest: ", pod.metadata().uid()));
}

EndpointPorts GetEndpointPorts(const Service& service, const Pod& pod) {
  EndpointPorts out;
  if (service.spec().ports_size() == 0 && service.spec().clusterip() == "None") return out;
  for (const ServicePort& sp : service.spec().ports()) {
    absl::StatusOr<int32_t> port = FindPort(pod, sp);
    if (!port.ok()) continue;
    EndpointPort* ep = out.Add();
    ep->set_name(sp.name());
    ep->set_port(*port);
    ep->set_protocol(sp.protocol());
    if (sp.has_appprotocol()) ep->set_appprotocol(sp.appprotocol());
  }
  return out;
}

void SortEndpointPorts(EndpointPorts* ports) {
  if (ports->size() < 2) return;
  auto key = [](const EndpointPort& p) {
    return std::make_tuple(p.has_name(), p.name(), p.has_port(), p.port(), p.has_protocol(),
                           p.protocol(), p.has_appprotocol(), p.appprotocol());
  };
  std::stable_sort(ports->begin(), ports->end(), [&](const EndpointPort& a, const EndpointPort& b) {
    return key(a) < key(b);
  });
}

std::string PortMapKey(const EndpointPorts& ports) {
  if (ports.empty()) return "";
  if (ports.size() == 1) return PortString(ports[0]);
  std::vector<std::string> parts;
  parts.reserve(ports.size());
  for (const EndpointPort& p : ports) parts.push_back(PortString(p));
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const std::string& p : parts) absl::StrAppend(&out, p.size(), "|", p);
  return out;
}

// ---- Service ----------------------------------------------------------------------

bool IsServiceIPSet(const Service& service) {
  return service.spec().clusterip() != "None" && !service.spec().clusterip().empty();
}

std::vector<std::string> AddressTypesForService(const Service& service) {
  bool v4 = false, v6 = false;
  for (const std::string& family : service.spec().ipfamilies()) {
    if (family == "IPv4") v4 = true;
    if (family == "IPv6") v6 = true;
  }
  if (!v4 && !v6) {
    if (IsServiceIPSet(service)) {
      IP16 ip;
      // utilnet.IsIPv6String: parses and is not IPv4.
      if (ParseIP(service.spec().clusterip(), &ip) && !IsV4(ip)) {
        v6 = true;
      } else {
        v4 = true;
      }
    } else {
      v4 = v6 = true;
    }
  }
  std::vector<std::string> out;
  if (v4) out.push_back(kAddressTypeIPv4);
  if (v6) out.push_back(kAddressTypeIPv6);
  return out;
}

bool IsReservedLabelKey(std::string_view key) {
  return key == kLabelServiceName || key == kLabelManagedBy || key == kLabelHeadless;
}

LabelMap EndpointSliceLabels(const LabelMap& slice_labels, const Service& service,
                             std::string_view controller_name, bool* changed) {
  LabelMap out;
  const LabelMap& svc = service.metadata().labels();
  size_t svc_count = 0;
  for (const auto& [k, v] : svc) {
    if (IsReservedLabelKey(k)) continue;
    out[k] = v;
    ++svc_count;
  }
  if (changed != nullptr) {
    // Equal iff the non-reserved slice labels are exactly the non-reserved service labels.
    size_t slice_count = 0;
    bool differ = false;
    for (const auto& [k, v] : slice_labels) {
      if (IsReservedLabelKey(k)) continue;
      ++slice_count;
      auto it = out.find(k);
      if (it == out.end() || it->second != v) {
        differ = true;
        break;
      }
    }
    *changed = differ || slice_count != svc_count;
  }
  if (!IsServiceIPSet(service)) out[kLabelHeadless] = "";
  out[kLabelServiceName] = service.metadata().name();
  out[kLabelManagedBy] = std::string(controller_name);
  return out;
}

std::string EndpointSlicePrefix(std::string_view service_name) {
  std::string prefix = std::string(service_name) + "-";
  // NameIsDNSSubdomain(prefix, true): a trailing dash is masked before validation.
  std::string masked = prefix;
  if (masked.size() > 1 && masked.back() == '-') masked.back() = 'a';
  if (!labels::IsDNS1123Subdomain(masked).empty()) return std::string(service_name);
  return prefix;
}

EndpointSlice NewEndpointSlice(const Service& service, std::string_view address_type,
                               const EndpointPorts& ports, std::string_view controller_name) {
  EndpointSlice slice;
  auto* meta = slice.mutable_metadata();
  meta->set_generatename(EndpointSlicePrefix(service.metadata().name()));
  meta->set_namespace_(service.metadata().namespace_());
  auto* owner = meta->add_ownerreferences();
  owner->set_apiversion("v1");
  owner->set_kind("Service");
  owner->set_name(service.metadata().name());
  owner->set_uid(service.metadata().uid());
  owner->set_controller(true);
  owner->set_blockownerdeletion(true);
  *meta->mutable_labels() = EndpointSliceLabels(LabelMap(), service, controller_name, nullptr);
  slice.set_addresstype(std::string(address_type));
  *slice.mutable_ports() = ports;
  return slice;
}

bool OwnedBy(const EndpointSlice& slice, const Service& service) {
  for (const auto& o : slice.metadata().ownerreferences()) {
    if (o.uid() == service.metadata().uid() && o.kind() == "Service" && o.apiversion() == "v1") {
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::string> ServiceControllerKey(const EndpointSlice& slice) {
  auto it = slice.metadata().labels().find(kLabelServiceName);
  if (it == slice.metadata().labels().end() || it->second.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("EndpointSlice missing ", kLabelServiceName, " label"));
  }
  return absl::StrCat(slice.metadata().namespace_(), "/", it->second);
}

std::string FormatRFC3339Nano(absl::Time t) {
  // Go's time has nanosecond resolution; absl's is finer.
  t = absl::FromUnixNanos(absl::ToUnixNanos(t));
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

void SetTriggerTimeAnnotation(EndpointSlice* slice, absl::Time trigger_time) {
  auto* annotations = slice->mutable_metadata()->mutable_annotations();
  if (trigger_time == absl::InfinitePast()) {
    annotations->erase(kAnnotationTriggerTime);
  } else {
    (*annotations)[kAnnotationTriggerTime] = FormatRFC3339Nano(trigger_time);
  }
}

// ---- Equality ---------------------------------------------------------------------

bool EndpointsEqualBeyondHash(const Endpoint& a, const Endpoint& b) {
  if (StringPtrChanged(a.has_nodename(), a.nodename(), b.has_nodename(), b.nodename())) {
    return false;
  }
  if (StringPtrChanged(a.has_zone(), a.zone(), b.has_zone(), b.zone())) return false;
  const auto& ca = a.conditions();
  const auto& cb = b.conditions();
  if (BoolPtrChanged(ca.has_ready(), ca.ready(), cb.has_ready(), cb.ready())) return false;
  if (BoolPtrChanged(ca.has_serving(), ca.serving(), cb.has_serving(), cb.serving())) return false;
  if (BoolPtrChanged(ca.has_terminating(), ca.terminating(), cb.has_terminating(),
                     cb.terminating())) {
    return false;
  }
  if (a.has_targetref() != b.has_targetref()) return false;
  if (a.has_targetref()) {
    const auto& ra = a.targetref();
    const auto& rb = b.targetref();
    // Go compares the struct's string values (unset == "").
    if (ra.kind() != rb.kind() || ra.namespace_() != rb.namespace_() || ra.name() != rb.name() ||
        ra.uid() != rb.uid() || ra.apiversion() != rb.apiversion() ||
        ra.fieldpath() != rb.fieldpath()) {
      return false;
    }
  }
  return true;
}

namespace {
bool EndpointDeepEqual(const Endpoint& a, const Endpoint& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}
}  // namespace

bool PlaceholderSliceEqual(const EndpointSlice& a, const EndpointSlice& b) {
  if (a.metadata().namespace_() != b.metadata().namespace_()) return false;
  const LabelMap& la = a.metadata().labels();
  const LabelMap& lb = b.metadata().labels();
  // Go: a missing key reads as "", so {k: ""} equals {} here, as upstream.
  for (const auto& [k, v] : la) {
    auto it = lb.find(k);
    if ((it == lb.end() ? std::string() : it->second) != v) return false;
  }
  for (const auto& [k, v] : lb) {
    auto it = la.find(k);
    if ((it == la.end() ? std::string() : it->second) != v) return false;
  }
  if (a.addresstype() != b.addresstype()) return false;
  if (a.ports_size() != b.ports_size() || a.endpoints_size() != b.endpoints_size()) return false;
  for (int i = 0; i < a.ports_size(); ++i) {
    if (a.ports(i).SerializeAsString() != b.ports(i).SerializeAsString()) return false;
  }
  for (int i = 0; i < a.endpoints_size(); ++i) {
    if (!EndpointDeepEqual(a.endpoints(i), b.endpoints(i))) return false;
  }
  return true;
}

// ---- Pod events -> services ---------------------------------------------------------

PodChange PodChangedHelper(const Pod& old_pod, const Pod& new_pod) {
  PodChange c;
  c.labels_changed = ToStdMap(old_pod.metadata().labels()) != ToStdMap(new_pod.metadata().labels()) ||
                     old_pod.spec().hostname() != new_pod.spec().hostname() ||
                     old_pod.spec().subdomain() != new_pod.spec().subdomain();
  // Upstream compares the two *metav1.Time pointers of distinct objects: changed
  // whenever either pod has a deletionTimestamp.
  if (old_pod.metadata().has_deletiontimestamp() || new_pod.metadata().has_deletiontimestamp()) {
    c.pod_changed = true;
    return c;
  }
  if (IsPodReady(old_pod) != IsPodReady(new_pod)) {
    c.pod_changed = true;
    return c;
  }
  const auto& a = old_pod.status().podips();
  const auto& b = new_pod.status().podips();
  if (a.size() != b.size()) {
    c.pod_changed = true;
    return c;
  }
  for (int i = 0; i < a.size(); ++i) {
    if (a[i].ip() != b[i].ip()) {
      c.pod_changed = true;
      return c;
    }
  }
  return c;
}

std::optional<PodProjectionKey> PodUpdateProjectionKey(const Pod* old_pod, const Pod* new_pod) {
  if (old_pod == nullptr && new_pod == nullptr) return std::nullopt;
  if (old_pod == nullptr || new_pod == nullptr) {
    const Pod& p = old_pod == nullptr ? *new_pod : *old_pod;
    PodProjectionKey key;
    key.ns = p.metadata().namespace_();
    key.labels = ToStdMap(p.metadata().labels());
    return key;
  }
  if (old_pod->metadata().resourceversion() == new_pod->metadata().resourceversion()) {
    return std::nullopt;
  }
  PodChange change = PodChangedHelper(*old_pod, *new_pod);
  if (!change.pod_changed && !change.labels_changed) return std::nullopt;
  PodProjectionKey key;
  key.ns = new_pod->metadata().namespace_();
  key.labels = ToStdMap(new_pod->metadata().labels());
  if (change.labels_changed) {
    key.old_labels = ToStdMap(old_pod->metadata().labels());
    key.pod_changed = change.pod_changed;
  }
  return key;
}

bool SelectorMatches(const Service& service, const std::map<std::string, std::string>& labels) {
  const auto& selector = service.spec().selector();
  if (selector.empty()) return false;
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

namespace {
std::set<std::string> MatchingServices(
    const std::vector<std::shared_ptr<const Service>>& services, const std::string& ns,
    const std::map<std::string, std::string>& labels) {
  std::set<std::string> out;
  for (const auto& s : services) {
    if (s == nullptr || s->metadata().namespace_() != ns) continue;
    if (SelectorMatches(*s, labels)) out.insert(absl::StrCat(ns, "/", s->metadata().name()));
  }
  return out;
}
}  // namespace

std::set<std::string> ServicesToUpdate(
    const std::vector<std::shared_ptr<const Service>>& services, const PodProjectionKey& key) {
  std::set<std::string> now = MatchingServices(services, key.ns, key.labels);
  if (!key.old_labels.has_value()) return now;
  std::set<std::string> before = MatchingServices(services, key.ns, *key.old_labels);
  std::set<std::string> out;
  if (key.pod_changed) {
    std::set_union(now.begin(), now.end(), before.begin(), before.end(),
                   std::inserter(out, out.end()));
  } else {
    std::set_symmetric_difference(now.begin(), now.end(), before.begin(), before.end(),
                                  std::inserter(out, out.end()));
  }
  return out;
}

std::set<std::string> ServicesToUpdateOnPodChange(
    const std::vector<std::shared_ptr<const Service>>& services, const Pod* old_pod,
    const Pod* new_pod) {
  std::optional<PodProjectionKey> key = PodUpdateProjectionKey(old_pod, new_pod);
  if (!key.has_value()) return {};
  return ServicesToUpdate(services, *key);
}

}  // namespace kslice::endpointslice
