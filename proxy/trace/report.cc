#include "proxy/trace/report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace kslice::proxy::trace {
namespace {

std::string UsageText(const std::string& usage) {
  if (usage == "cluster") return "used for cluster-wide traffic";
  if (usage == "local") return "used for node-local traffic";
  if (usage == "cluster+local") return "used for cluster-wide and node-local traffic";
  return "not used on this node";
}

const EndpointNote* Find(const PortReport& p, const std::string& endpoint) {
  for (const EndpointNote& n : p.endpoints) {
    if (n.endpoint == endpoint) return &n;
  }
  return nullptr;
}

std::string Annotation(const PortReport& p, const std::string& endpoint) {
  if (endpoint.empty()) return "";
  const EndpointNote* n = Find(p, endpoint);
  return absl::StrCat(" [", n == nullptr ? "in no EndpointSlice" : n->Describe(), "]");
}

}  // namespace

std::string EndpointNote::Describe() const {
  if (!in_slices) return "not in any EndpointSlice";
  std::string s;
  if (ready) {
    s = "ready";
  } else {
    s = absl::StrCat("not ready, ", serving ? "serving" : "not serving");
  }
  if (terminating) absl::StrAppend(&s, ", terminating");
  if (!node.empty()) absl::StrAppend(&s, ", node ", node);
  if (!zone.empty()) absl::StrAppend(&s, ", zone ", zone);
  if (local) absl::StrAppend(&s, ", local");
  return s;
}

size_t Report::DriftCount() const {
  size_t n = 0;
  for (const PortReport& p : ports) n += p.drift.size();
  return n;
}

std::string RenderText(const Report& r) {
  std::string out = absl::StrCat("Service ", r.service, " on node ", r.node, " (", r.mode, ")\n");
  if (r.ports.empty()) {
    absl::StrAppend(&out, "\nno service ports with a ClusterIP: the proxy has no rules for it\n");
  }
  for (const PortReport& p : r.ports) {
    absl::StrAppend(&out, "\n", p.spn, "  ", p.address, " (", p.family, ")\n");
    absl::StrAppend(&out, "  ", p.summary, "\n");
    for (const std::string& n : p.notes) absl::StrAppend(&out, "  note: ", n, "\n");
    if (p.endpoints.empty()) {
      absl::StrAppend(&out, "  endpoints in the EndpointSlices: none\n");
    } else {
      absl::StrAppend(&out, "  endpoints in the EndpointSlices:\n");
      for (const EndpointNote& n : p.endpoints) {
        absl::StrAppend(&out, absl::StrFormat("    %-22s %s; %s\n", n.endpoint, n.Describe(),
                                              UsageText(n.usage)));
      }
    }
    if (p.entries.empty()) {
      absl::StrAppend(&out, "  entry points: none\n");
    } else {
      absl::StrAppend(&out, "  entry points:\n");
      for (const Entry& e : p.entries) {
        absl::StrAppend(&out, "    ", e.table, " ", e.chain, ": ", e.kind, ": ", e.what, "\n");
        absl::StrAppend(&out, "      ", e.rule, "\n");
      }
    }
    for (const ChainTrace& c : p.chains) {
      absl::StrAppend(&out, "  chain ", c.name, ": ", c.role, "\n");
      for (const Step& s : c.steps) {
        std::string line = absl::StrCat("    ", s.number, ". ", s.what);
        if (s.branch) {
          absl::StrAppend(&line, " -> ", s.target, " -> ",
                          s.endpoint.empty() ? "(no DNAT)" : absl::StrCat("DNAT ", s.endpoint),
                          Annotation(p, s.endpoint));
        } else if (!s.endpoint.empty()) {
          absl::StrAppend(&line, Annotation(p, s.endpoint));
        }
        absl::StrAppend(&out, line, "\n");
        if (!s.rule.empty()) absl::StrAppend(&out, "       ", s.rule, "\n");
      }
    }
    if (p.drift.empty()) {
      absl::StrAppend(&out, "  drift: none\n");
    } else {
      absl::StrAppend(&out, "  drift (", p.drift.size(), "):\n");
      for (const Drift& d : p.drift) absl::StrAppend(&out, "    ! ", d.kind, ": ", d.message, "\n");
    }
  }
  size_t n = r.DriftCount();
  if (n == 0) {
    absl::StrAppend(&out, "\nconsistent: no drift between the rules on ", r.node,
                    " and what the proxy would program for these objects\n");
  } else {
    absl::StrAppend(&out, "\nDRIFT: ", n, " difference", n == 1 ? "" : "s",
                    " between the rules on ", r.node, " and what the proxy would program\n");
  }
  return out;
}

std::string RenderJson(const Report& r) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  auto str = [&](const char* key, const std::string& v) {
    w.Key(key);
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  str("service", r.service);
  str("node", r.node);
  str("mode", r.mode);
  w.Key("consistent");
  w.Bool(r.DriftCount() == 0);
  w.Key("driftCount");
  w.Uint64(r.DriftCount());
  w.Key("ports");
  w.StartArray();
  for (const PortReport& p : r.ports) {
    w.StartObject();
    str("servicePort", p.spn);
    str("family", p.family);
    str("address", p.address);
    str("summary", p.summary);
    w.Key("notes");
    w.StartArray();
    for (const std::string& n : p.notes) w.String(n.c_str());
    w.EndArray();
    w.Key("endpoints");
    w.StartArray();
    for (const EndpointNote& n : p.endpoints) {
      w.StartObject();
      str("endpoint", n.endpoint);
      w.Key("ready");
      w.Bool(n.ready);
      w.Key("serving");
      w.Bool(n.serving);
      w.Key("terminating");
      w.Bool(n.terminating);
      str("nodeName", n.node);
      str("zone", n.zone);
      w.Key("local");
      w.Bool(n.local);
      str("usage", n.usage);
      w.EndObject();
    }
    w.EndArray();
    w.Key("entries");
    w.StartArray();
    for (const Entry& e : p.entries) {
      w.StartObject();
      str("kind", e.kind);
      str("table", e.table);
      str("chain", e.chain);
      str("rule", e.rule);
      str("explanation", e.what);
      str("target", e.target);
      w.EndObject();
    }
    w.EndArray();
    w.Key("chains");
    w.StartArray();
    for (const ChainTrace& c : p.chains) {
      w.StartObject();
      str("table", c.table);
      str("name", c.name);
      str("role", c.role);
      w.Key("rules");
      w.StartArray();
      for (const Step& s : c.steps) {
        w.StartObject();
        w.Key("number");
        w.Int(s.number);
        str("rule", s.rule);
        str("explanation", s.what);
        str("target", s.target);
        if (s.branch) {
          w.Key("branch");
          w.Bool(true);
          w.Key("affinity");
          w.Bool(s.affinity);
          str("probability", s.probability);
          if (s.share >= 0) {
            w.Key("share");
            w.Double(s.share);
          }
        }
        if (!s.endpoint.empty()) {
          str("endpoint", s.endpoint);
          const EndpointNote* n = Find(p, s.endpoint);
          w.Key("inEndpointSlices");
          w.Bool(n != nullptr);
        }
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.Key("drift");
    w.StartArray();
    for (const Drift& d : p.drift) {
      w.StartObject();
      str("kind", d.kind);
      str("message", d.message);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace kslice::proxy::trace
