#include "controller/endpointslicemirroring/utils.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kslice::endpointslicemirroring {

using api::core::v1::EndpointAddress;
using api::core::v1::Endpoints;
using api::core::v1::EndpointSubset;
using api::discovery::v1::Endpoint;
using api::discovery::v1::EndpointPort;
using api::discovery::v1::EndpointSlice;

namespace {

// Go's net package limit for dtoi/xtoi: larger values fail.
constexpr int kBig = 0xFFFFFF;

// Decimal digits at the start of s: (value, digits consumed, ok).
std::tuple<int, size_t, bool> Dtoi(std::string_view s) {
  int n = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    n = n * 10 + (s[i] - '0');
    if (n >= kBig) return {kBig, i, false};
  }
  if (i == 0) return {0, 0, false};
  return {n, i, true};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Hex digits at the start of s: (value, digits consumed, ok).
std::tuple<int, size_t, bool> Xtoi(std::string_view s) {
  int n = 0;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    int v = HexValue(s[i]);
    if (v < 0) break;
    n = n * 16 + v;
    if (n >= kBig) return {0, i, false};
  }
  if (i == 0) return {0, 0, false};
  return {n, i, true};
}

std::optional<IPBytes> ParseIPv4(std::string_view s) {
  IPBytes ip{};
  ip[10] = ip[11] = 0xff;
  for (int i = 0; i < 4; ++i) {
    if (s.empty()) return std::nullopt;
    if (i > 0) {
      if (s[0] != '.') return std::nullopt;
      s.remove_prefix(1);
    }
    auto [n, c, ok] = Dtoi(s);
    if (!ok || n > 0xFF) return std::nullopt;
    s.remove_prefix(c);
    ip[12 + i] = static_cast<uint8_t>(n);
  }
  if (!s.empty()) return std::nullopt;
  return ip;
}

std::optional<IPBytes> ParseIPv6(std::string_view s) {
  IPBytes ip{};
  int ellipsis = -1;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    ellipsis = 0;
    s.remove_prefix(2);
    if (s.empty()) return ip;
  }
  int i = 0;
  while (i < 16) {
    auto [n, c, ok] = Xtoi(s);
    if (!ok || n > 0xFFFF) return std::nullopt;
    if (c < s.size() && s[c] == '.') {
      if (ellipsis < 0 && i != 12) return std::nullopt;
      if (i + 4 > 16) return std::nullopt;
      std::optional<IPBytes> ip4 = ParseIPv4(s);
      if (!ip4.has_value()) return std::nullopt;
      for (int k = 0; k < 4; ++k) ip[i + k] = (*ip4)[12 + k];
      s = std::string_view();
      i += 4;
      break;
    }
    ip[i] = static_cast<uint8_t>(n >> 8);
    ip[i + 1] = static_cast<uint8_t>(n);
    i += 2;
    s.remove_prefix(c);
    if (s.empty()) break;
    if (s[0] != ':' || s.size() == 1) return std::nullopt;
    s.remove_prefix(1);
    if (s[0] == ':') {
      if (ellipsis >= 0) return std::nullopt;
      ellipsis = i;
      s.remove_prefix(1);
      if (s.empty()) break;
    }
  }
  if (!s.empty()) return std::nullopt;
  if (i < 16) {
    if (ellipsis < 0) return std::nullopt;
    int n = 16 - i;
    for (int j = i - 1; j >= ellipsis; --j) ip[j + n] = ip[j];
    for (int j = ellipsis + n - 1; j >= ellipsis; --j) ip[j] = 0;
  } else if (ellipsis >= 0) {
    return std::nullopt;  // "::" must stand for at least one group
  }
  return ip;
}

// Go's net.EndpointAddress ordering (LessEndpointAddress).
bool LessEndpointAddress(const EndpointAddress& a, const EndpointAddress& b) {
  int c = a.ip().compare(b.ip());
  if (c != 0) return c < 0;
  if (!b.has_targetref()) return false;
  if (!a.has_targetref()) return true;
  return a.targetref().uid() < b.targetref().uid();
}

// The identity of an Endpoints port as a Go map key: the value fields, and for a port
// with an appProtocol the occurrence (Go compares the *string pointer).
struct PortId {
  std::string name;
  int32_t port = 0;
  std::string protocol;
  bool has_app = false;
  std::string app;
  int64_t occurrence = -1;
  auto Tie() const { return std::tie(name, port, protocol, has_app, app, occurrence); }
  bool operator<(const PortId& o) const { return Tie() < o.Tie(); }
};

void AppendField(std::string& out, bool present, std::string_view value) {
  if (!present) {
    out += '0';
    return;
  }
  absl::StrAppend(&out, "1", value.size(), ":", std::string(value));
}

std::string PortEncoding(const EndpointPort& p) {
  std::string e;
  AppendField(e, p.has_name(), p.name());
  AppendField(e, p.has_protocol(), p.protocol());
  AppendField(e, p.has_port(), std::to_string(p.port()));
  AppendField(e, p.has_appprotocol(), p.appprotocol());
  return e;
}

template <typename Range>
std::string PortMapKeyOf(const Range& ports) {
  std::vector<std::string> parts;
  for (const EndpointPort& p : ports) parts.push_back(PortEncoding(p));
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const std::string& p : parts) absl::StrAppend(&out, p, ";");
  return out;
}

bool ObjectReferencesEqualIgnoringResourceVersion(const api::core::v1::ObjectReference& a,
                                                  const api::core::v1::ObjectReference& b) {
  return a.kind() == b.kind() && a.namespace_() == b.namespace_() && a.name() == b.name() &&
         a.uid() == b.uid() && a.apiversion() == b.apiversion() && a.fieldpath() == b.fieldpath();
}

}  // namespace

std::optional<IPBytes> ParseIPSloppy(std::string_view s) {
  for (char c : s) {
    if (c == '.') return ParseIPv4(s);
    if (c == ':') return ParseIPv6(s);
  }
  return std::nullopt;
}

bool IsIPv4(const IPBytes& ip) {
  for (int i = 0; i < 10; ++i) {
    if (ip[i] != 0) return false;
  }
  return ip[10] == 0xff && ip[11] == 0xff;
}

std::string FormatIP(const IPBytes& ip) {
  if (IsIPv4(ip)) return absl::StrFormat("%d.%d.%d.%d", ip[12], ip[13], ip[14], ip[15]);
  // The first longest run of zero groups (byte offsets e0..e1).
  int e0 = -1, e1 = -1;
  for (int i = 0; i < 16; i += 2) {
    int j = i;
    while (j < 16 && ip[j] == 0 && ip[j + 1] == 0) j += 2;
    if (j > i && j - i > e1 - e0) {
      e0 = i;
      e1 = j;
      i = j;
    }
  }
  if (e1 - e0 <= 2) e0 = e1 = -1;  // a single zero group is not compressed
  std::string out;
  for (int i = 0; i < 16; i += 2) {
    if (i == e0) {
      out += "::";
      i = e1;
      if (i >= 16) break;
    } else if (i > 0) {
      out += ':';
    }
    absl::StrAppendFormat(&out, "%x", (ip[i] << 8) | ip[i + 1]);
  }
  return out;
}

std::vector<EndpointSubset> RepackSubsets(
    const google::protobuf::RepeatedPtrField<EndpointSubset>& subsets) {
  std::vector<EndpointAddress> all;                          // unique addresses, as first seen
  std::map<std::pair<std::string, std::string>, int> index;  // (ip, uid) -> all[]
  std::map<PortId, std::map<int, bool>> by_port;             // address -> ready
  std::map<PortId, api::core::v1::EndpointPort> port_objects;
  int64_t occurrence = 0;

  auto add = [&](const EndpointAddress& address, const PortId& port, bool ready) {
    std::pair<std::string, std::string> key{address.ip(), address.targetref().uid()};
    auto [it, inserted] = index.try_emplace(key, static_cast<int>(all.size()));
    if (inserted) all.push_back(address);
    std::map<int, bool>& set = by_port[port];
    auto found = set.find(it->second);
    // Not ready always wins over ready.
    if (found == set.end() || found->second) set[it->second] = ready;
  };
  for (const EndpointSubset& subset : subsets) {
    for (const api::core::v1::EndpointPort& p : subset.ports()) {
      PortId id{p.name(),        p.port(),
                p.protocol(),    p.has_appprotocol(),
                p.appprotocol(), p.has_appprotocol() ? occurrence++ : -1};
      port_objects.try_emplace(id, p);
      for (const EndpointAddress& a : subset.addresses()) add(a, id, true);
      for (const EndpointAddress& a : subset.notreadyaddresses()) add(a, id, false);
    }
  }

  // Ports served by the same (address, ready) set share a subset.
  std::map<std::vector<std::pair<int, bool>>, std::vector<PortId>> groups;
  for (const auto& [port, set] : by_port) {
    groups[std::vector<std::pair<int, bool>>(set.begin(), set.end())].push_back(port);
  }
  std::vector<std::pair<std::string, EndpointSubset>> keyed;
  for (const auto& [set, ports] : groups) {
    EndpointSubset s;
    for (const auto& [idx, ready] : set) {
      *(ready ? s.add_addresses() : s.add_notreadyaddresses()) = all[idx];
    }
    std::sort(s.mutable_addresses()->begin(), s.mutable_addresses()->end(), LessEndpointAddress);
    std::sort(s.mutable_notreadyaddresses()->begin(), s.mutable_notreadyaddresses()->end(),
              LessEndpointAddress);
    std::string key;
    for (const PortId& p : ports) {  // std::map order: canonical
      *s.add_ports() = port_objects[p];
      absl::StrAppend(&key, p.name, "/", p.port, "/", p.protocol, "/", p.has_app ? "1" : "0", p.app,
                      "/", p.occurrence, ";");
    }
    keyed.emplace_back(std::move(key), std::move(s));
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<EndpointSubset> out;
  out.reserve(keyed.size());
  for (auto& [key, s] : keyed) out.push_back(std::move(s));
  return out;
}

std::vector<EndpointPort> ToSlicePorts(
    const google::protobuf::RepeatedPtrField<api::core::v1::EndpointPort>& ports) {
  std::vector<EndpointPort> out;
  out.reserve(ports.size());
  for (const api::core::v1::EndpointPort& p : ports) {
    EndpointPort e;
    e.set_name(p.name());
    e.set_port(p.port());
    e.set_protocol(p.protocol());
    if (p.has_appprotocol()) e.set_appprotocol(p.appprotocol());
    out.push_back(std::move(e));
  }
  return out;
}

std::string PortMapKey(const std::vector<EndpointPort>& ports) { return PortMapKeyOf(ports); }

std::string PortMapKey(const google::protobuf::RepeatedPtrField<EndpointPort>& ports) {
  return PortMapKeyOf(ports);
}

std::string AddrTypePortMapKey(std::string_view address_type, const std::string& port_key) {
  return absl::StrCat(std::string(address_type), "-", port_key);
}

std::string EndpointIdentity(const Endpoint& endpoint) {
  std::vector<std::string> addresses(endpoint.addresses().begin(), endpoint.addresses().end());
  std::sort(addresses.begin(), addresses.end());
  std::string out = absl::StrCat(addresses.size(), "|");
  for (const std::string& a : addresses) absl::StrAppend(&out, a.size(), ":", a);
  const std::string& hostname = endpoint.hostname();
  const std::string& ns = endpoint.targetref().namespace_();
  const std::string& name = endpoint.targetref().name();
  absl::StrAppend(&out, "|", hostname.size(), ":", hostname, "|", ns.size(), ":", ns, "|",
                  name.size(), ":", name);
  return out;
}

bool EndpointsEqualBeyondHash(const Endpoint& a, const Endpoint& b) {
  auto str_changed = [](bool ha, const std::string& va, bool hb, const std::string& vb) {
    return ha != hb || (ha && va != vb);
  };
  auto bool_changed = [](bool ha, bool va, bool hb, bool vb) {
    return ha != hb || (ha && va != vb);
  };
  if (str_changed(a.has_nodename(), a.nodename(), b.has_nodename(), b.nodename())) return false;
  if (str_changed(a.has_zone(), a.zone(), b.has_zone(), b.zone())) return false;
  const auto& ca = a.conditions();
  const auto& cb = b.conditions();
  if (bool_changed(ca.has_ready(), ca.ready(), cb.has_ready(), cb.ready())) return false;
  if (bool_changed(ca.has_serving(), ca.serving(), cb.has_serving(), cb.serving())) return false;
  if (bool_changed(ca.has_terminating(), ca.terminating(), cb.has_terminating(),
                   cb.terminating())) {
    return false;
  }
  if (a.has_targetref() != b.has_targetref()) return false;
  if (a.has_targetref() &&
      !ObjectReferencesEqualIgnoringResourceVersion(a.targetref(), b.targetref())) {
    return false;
  }
  return true;
}

std::optional<MirroredEndpoint> AddressToEndpoint(const EndpointAddress& address, bool ready) {
  std::optional<IPBytes> ip = ParseIPSloppy(address.ip());
  if (!ip.has_value()) return std::nullopt;
  MirroredEndpoint out;
  out.address_type = IsIPv4(*ip) ? kAddressTypeIPv4 : kAddressTypeIPv6;
  Endpoint& e = out.endpoint;
  e.add_addresses(FormatIP(*ip));  // canonical form, whatever the Endpoints spelled
  e.mutable_conditions()->set_ready(ready);
  if (address.has_targetref()) *e.mutable_targetref() = address.targetref();
  if (address.has_nodename()) e.set_nodename(address.nodename());
  if (!address.hostname().empty()) e.set_hostname(address.hostname());
  return out;
}

bool ShouldMirror(const Endpoints& endpoints) {
  const auto& labels = endpoints.metadata().labels();
  auto skip = labels.find(kLabelSkipMirror);
  if (skip != labels.end() && skip->second == "true") return false;
  return !endpoints.metadata().annotations().contains(kAnnotationLeader);
}

std::string EndpointSlicePrefix(const std::string& name) {
  // "<name>-" validated as a DNS-subdomain prefix: only its length can fail (the
  // trailing dash is allowed in a prefix, and the name itself is a valid subdomain).
  if (name.size() + 1 > 253) return name;
  return absl::StrCat(name, "-");
}

EndpointSlice NewEndpointSlice(const Endpoints& endpoints, const std::vector<EndpointPort>& ports,
                               std::string_view address_type, const std::string& slice_name) {
  EndpointSlice slice;
  auto* meta = slice.mutable_metadata();
  meta->set_namespace_(endpoints.metadata().namespace_());
  auto& labels = *meta->mutable_labels();
  for (const auto& [k, v] : endpoints.metadata().labels()) labels[k] = v;
  labels[kLabelServiceName] = endpoints.metadata().name();
  labels[kLabelManagedBy] = kControllerName;
  auto& annotations = *meta->mutable_annotations();
  for (const auto& [k, v] : endpoints.metadata().annotations()) {
    if (k == kAnnotationTriggerTime || k == kAnnotationLastApplied) continue;
    annotations[k] = v;
  }
  auto* owner = meta->add_ownerreferences();
  owner->set_apiversion("v1");
  owner->set_kind("Endpoints");
  owner->set_name(endpoints.metadata().name());
  owner->set_uid(endpoints.metadata().uid());
  owner->set_controller(true);
  owner->set_blockownerdeletion(true);
  if (slice_name.empty()) {
    meta->set_generatename(EndpointSlicePrefix(endpoints.metadata().name()));
  } else {
    meta->set_name(slice_name);
  }
  slice.set_addresstype(std::string(address_type));
  for (const EndpointPort& p : ports) *slice.add_ports() = p;
  return slice;
}

}  // namespace kslice::endpointslicemirroring
