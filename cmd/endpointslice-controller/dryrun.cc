#include "cmd/endpointslice-controller/dryrun.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "api/codec/node.h"
#include "controller/endpointslice/memory_writer.h"
#include "controller/endpointslice/reconciler.h"
#include "controller/endpointslice/slice_tracker.h"
#include "controller/endpointslice/topologycache/topology_cache.h"
#include "controller/endpointslice/trigger_time_tracker.h"
#include "envtest/defaults/defaults.h"

namespace kslice::endpointslice::cmd {
namespace {

using api::core::v1::Node;
using api::core::v1::Pod;
using api::core::v1::Service;
using api::discovery::v1::EndpointSlice;
using codec::Format;

// ---------------------------------------------------------------------------------------
// Input

// Splits a YAML stream at document markers ("---" at the start of a line, alone or
// followed by white space or a comment). Documents holding only white space and
// comments are dropped.
std::vector<std::string> SplitYamlDocuments(absl::string_view data) {
  std::vector<std::string> docs;
  std::string current;
  bool has_content = false;
  auto flush = [&] {
    if (has_content) docs.push_back(std::move(current));
    current.clear();
    has_content = false;
  };
  for (absl::string_view line : absl::StrSplit(data, '\n')) {
    if (absl::StartsWith(line, "---") &&
        (line.size() == 3 || absl::ascii_isspace(static_cast<unsigned char>(line[3])) ||
         line[3] == '#')) {
      flush();
      continue;
    }
    if (line == "..." || absl::StartsWith(line, "... ")) {  // end-of-document marker
      flush();
      continue;
    }
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (!trimmed.empty() && trimmed[0] != '#') has_content = true;
    absl::StrAppend(&current, line, "\n");
  }
  flush();
  return docs;
}

// Splits a stream of concatenated JSON values (`kubectl get -o json` of several
// commands, `jq -c` output) at the end of each top-level object or array.
absl::StatusOr<std::vector<std::string>> SplitJsonStream(absl::string_view data) {
  std::vector<std::string> docs;
  size_t i = 0;
  while (true) {
    while (i < data.size() && absl::ascii_isspace(static_cast<unsigned char>(data[i]))) ++i;
    if (i == data.size()) break;
    if (data[i] != '{' && data[i] != '[') {
      return absl::InvalidArgumentError(
          absl::StrCat("JSON document ", docs.size() + 1, ": expected '{' at byte ", i));
    }
    const size_t start = i;
    int depth = 0;
    bool in_string = false;
    for (; i < data.size(); ++i) {
      const char c = data[i];
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++i;
          break;
        }
      }
    }
    if (depth != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("JSON document ", docs.size() + 1, " is not terminated"));
    }
    docs.emplace_back(data.substr(start, i - start));
  }
  return docs;
}

std::string StringMember(const codec::Node& node, absl::string_view key) {
  const codec::Node* v = node.Find(key);
  return v != nullptr && (v->is_string() || v->plain) ? v->text : std::string();
}

// Where an object came from, for error messages: "document 2, item 5".
std::string Where(int doc, int item) {
  return item < 0 ? absl::StrCat("document ", doc) : absl::StrCat("document ", doc, ", item ", item);
}

template <typename T>
absl::Status DecodeItem(const codec::Node& node, const std::string& where,
                        std::vector<std::shared_ptr<const T>>* out) {
  absl::StatusOr<std::string> json = codec::WriteJson(node);
  if (!json.ok()) return json.status();
  absl::StatusOr<T> object = codec::DecodeAs<T>(*json, Format::kJson);
  if (!object.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", object.status().message()));
  }
  // As the API server would have stored it: hand-written input (a container port
  // without protocol, a Service without ipFamilies) then behaves as in a cluster.
  envtest::defaults::Apply(&*object);
  out->push_back(std::make_shared<const T>(*std::move(object)));
  return absl::OkStatus();
}

// Adds one object (or the items of a list) to `in`. `api_version`/`kind` are the
// defaults for the items of a typed list, which carry no TypeMeta of their own.
absl::Status Collect(const codec::Node& node, int doc, int item, std::string api_version,
                     std::string kind, DryRunInput* in) {
  if (node.is_null()) return absl::OkStatus();
  if (!node.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(Where(doc, item), ": not an object"));
  }
  if (std::string v = StringMember(node, "apiVersion"); !v.empty()) api_version = v;
  if (std::string k = StringMember(node, "kind"); !k.empty()) kind = k;
  const codec::Node* items = node.Find("items");
  if (absl::EndsWith(kind, "List") && items != nullptr) {
    if (!items->is_array() && !items->is_null()) {
      return absl::InvalidArgumentError(absl::StrCat(Where(doc, item), ": items is not a list"));
    }
    // "List" items name their own kind; a PodList's items are Pods.
    std::string item_kind = kind == "List" ? "" : kind.substr(0, kind.size() - 4);
    for (size_t i = 0; i < items->values.size(); ++i) {
      if (absl::Status s = Collect(items->values[i], doc, static_cast<int>(i) + 1,
                                   item_kind.empty() ? "" : api_version, item_kind, in);
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }
  const bool core = api_version == "v1";
  const bool discovery = api_version == "discovery.k8s.io/v1";
  if (!(core && (kind == "Service" || kind == "Pod" || kind == "Node")) &&
      !(discovery && kind == "EndpointSlice")) {
    ++in->ignored;
    return absl::OkStatus();
  }
  // Items of a typed list: give them the TypeMeta the codec checks.
  codec::Node typed = node;
  if (node.Find("apiVersion") == nullptr) typed.Add("apiVersion", codec::Node::String(api_version));
  if (node.Find("kind") == nullptr) typed.Add("kind", codec::Node::String(kind));
  const std::string where = absl::StrCat(Where(doc, item), " (", kind, ")");
  if (kind == "Service") return DecodeItem(typed, where, &in->services);
  if (kind == "Pod") return DecodeItem(typed, where, &in->pods);
  if (kind == "Node") return DecodeItem(typed, where, &in->nodes);
  return DecodeItem(typed, where, &in->slices);
}

// ---------------------------------------------------------------------------------------
// Reconcile

std::string KeyOf(const std::string& ns, const std::string& name) { return absl::StrCat(ns, "/", name); }

bool Selects(const Service& service, const Pod& pod) {
  if (pod.metadata().namespace_() != service.metadata().namespace_()) return false;
  for (const auto& [k, v] : service.spec().selector()) {
    auto it = pod.metadata().labels().find(k);
    if (it == pod.metadata().labels().end() || it->second != v) return false;
  }
  return true;
}

std::string LabelOf(const EndpointSlice& slice, const std::string& key) {
  auto it = slice.metadata().labels().find(key);
  return it == slice.metadata().labels().end() ? std::string() : it->second;
}

bool Ours(const EndpointSlice& slice) { return LabelOf(slice, kLabelManagedBy) == kControllerName; }

std::string PortsText(const EndpointSlice& slice) {
  std::vector<std::string> ports;
  for (const auto& p : slice.ports()) {
    ports.push_back(absl::StrCat(p.has_name() && !p.name().empty() ? p.name() : "\"\"", ":",
                                 p.has_port() ? absl::StrCat(p.port()) : "*", "/",
                                 p.has_protocol() ? p.protocol() : "TCP"));
  }
  return ports.empty() ? "none" : absl::StrJoin(ports, ",");
}

}  // namespace

absl::StatusOr<DryRunInput> ParseDryRunInput(absl::string_view data) {
  DryRunInput in;
  std::vector<absl::StatusOr<codec::Node>> nodes;
  switch (codec::DetectFormat(data)) {
    case Format::kProtobuf:
      return absl::InvalidArgumentError("protobuf input is not supported; use YAML or JSON");
    case Format::kJson: {
      absl::StatusOr<std::vector<std::string>> docs = SplitJsonStream(data);
      if (!docs.ok()) return docs.status();
      for (const std::string& d : *docs) nodes.push_back(codec::ParseJson(d));
      break;
    }
    case Format::kYaml:
      for (const std::string& d : SplitYamlDocuments(data)) nodes.push_back(codec::ParseYaml(d));
      break;
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const int doc = static_cast<int>(i) + 1;
    if (!nodes[i].ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(doc, -1), ": ", nodes[i].status().message()));
    }
    if (absl::Status s = Collect(*nodes[i], doc, -1, "", "", &in); !s.ok()) return s;
  }
  return in;
}

absl::StatusOr<DryRunResult> RunDryRun(const DryRunInput& input, const DryRunOptions& options) {
  DryRunResult result;
  // Slices stored without a name (the dry run's own output fed back in) get one, so each
  // stays a slice of its own.
  std::vector<std::shared_ptr<const EndpointSlice>> stored;
  for (const auto& slice : input.slices) {
    if (!slice->metadata().name().empty()) {
      stored.push_back(slice);
      continue;
    }
    auto named_copy = std::make_shared<EndpointSlice>(*slice);
    named_copy->mutable_metadata()->set_name(
        absl::StrCat(slice->metadata().generatename(), "unnamed-", stored.size()));
    stored.push_back(std::move(named_copy));
  }
  MemoryWriter writer;
  for (const auto& slice : stored) writer.Seed(*slice);

  std::map<std::string, std::shared_ptr<const Node>> nodes;
  for (const auto& node : input.nodes) nodes[node->metadata().name()] = node;
  NodeGetter get_node =
      [&nodes](const std::string& name) -> absl::StatusOr<std::shared_ptr<const Node>> {
    auto it = nodes.find(name);
    if (it == nodes.end()) return absl::NotFoundError(absl::StrCat("node \"", name, "\" not found"));
    return it->second;
  };
  SliceTracker tracker;
  // A controller that has never synced a service uses its creationTimestamp.
  TriggerTimeTracker trigger_times;
  topologycache::TopologyCache topology;
  topology.SetNodes(input.nodes);
  EventFunc on_event = [&result](const Service& service, std::string_view type,
                                 std::string_view reason, std::string_view message) {
    result.events.push_back(absl::StrCat(
        std::string(type), " ", std::string(reason), " ",
        KeyOf(service.metadata().namespace_(), service.metadata().name()), ": ",
        std::string(message)));
  };
  ReconcilerOptions ro;
  ro.max_endpoints_per_slice = options.max_endpoints_per_slice;
  Reconciler reconciler(&writer, get_node, &tracker, &topology, /*metrics=*/nullptr, on_event, ro);

  std::vector<std::shared_ptr<const Service>> services = input.services;
  std::sort(services.begin(), services.end(), [](const auto& a, const auto& b) {
    return std::tie(a->metadata().namespace_(), a->metadata().name()) <
           std::tie(b->metadata().namespace_(), b->metadata().name());
  });
  for (const auto& service : services) {
    const std::string& ns = service->metadata().namespace_();
    const std::string key = KeyOf(ns, service->metadata().name());
    // syncService's early returns: the service is going away, has type ExternalName, or
    // has no selector (its slices are written by someone else).
    if (service->metadata().has_deletiontimestamp() || service->spec().type() == "ExternalName" ||
        service->spec().selector().empty()) {
      continue;
    }
    std::vector<std::shared_ptr<const Pod>> pods;
    for (const auto& pod : input.pods) {
      if (Selects(*service, *pod)) pods.push_back(pod);
    }
    std::vector<std::shared_ptr<const EndpointSlice>> existing;
    for (const auto& slice : writer.SlicesOf(ns, service->metadata().name())) {
      if (Ours(*slice) && !slice->metadata().has_deletiontimestamp()) existing.push_back(slice);
    }
    writer.ClearActions();
    absl::Status s = reconciler.Reconcile(
        *service, pods, existing,
        trigger_times.ComputeEndpointLastChangeTriggerTime(ns, *service, pods));
    if (!s.ok()) result.errors.push_back(absl::StrCat(key, ": ", s.message()));
    for (const Action& a : writer.actions()) {
      PlannedAction p{.kind = a.kind == Action::Kind::kCreate   ? PlannedAction::Kind::kCreate
                              : a.kind == Action::Kind::kUpdate ? PlannedAction::Kind::kUpdate
                                                                : PlannedAction::Kind::kDelete,
                      .service = key,
                      .slice = a.slice};
      result.actions.push_back(std::move(p));
    }
  }

  // The slices after the run: ours from the input with the plan applied.
  std::map<std::pair<std::string, std::string>, EndpointSlice> named;
  for (const auto& slice : stored) {
    if (Ours(*slice) && !slice->metadata().has_deletiontimestamp()) {
      named[{slice->metadata().namespace_(), slice->metadata().name()}] = *slice;
    }
  }
  std::vector<EndpointSlice> created;
  for (const PlannedAction& a : result.actions) {
    const std::pair<std::string, std::string> id{a.slice.metadata().namespace_(),
                                                 a.slice.metadata().name()};
    switch (a.kind) {
      case PlannedAction::Kind::kCreate:
        created.push_back(a.slice);
        break;
      case PlannedAction::Kind::kUpdate:
        named[id] = a.slice;
        break;
      case PlannedAction::Kind::kDelete:
        named.erase(id);
        break;
    }
  }
  struct Entry {
    std::string ns, service;
    int order;  // 0: named, sorted by name; 1 + i: the i-th create
    std::string name;
    EndpointSlice slice;
  };
  std::vector<Entry> entries;
  for (auto& [id, slice] : named) {
    entries.push_back({id.first, LabelOf(slice, kLabelServiceName), 0, id.second, std::move(slice)});
  }
  for (size_t i = 0; i < created.size(); ++i) {
    entries.push_back({created[i].metadata().namespace_(), LabelOf(created[i], kLabelServiceName),
                       static_cast<int>(i) + 1, "", std::move(created[i])});
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.ns, a.service, a.order, a.name) < std::tie(b.ns, b.service, b.order, b.name);
  });
  for (Entry& e : entries) result.slices.push_back(std::move(e.slice));
  return result;
}

std::string DescribeAction(const PlannedAction& action) {
  const auto& m = action.slice.metadata();
  switch (action.kind) {
    case PlannedAction::Kind::kCreate:
      return absl::StrCat("create ", m.namespace_(), "/", m.generatename(), "* (generateName) service=",
                          action.service, " addressType=", action.slice.addresstype(),
                          " endpoints=", action.slice.endpoints_size(),
                          " ports=", PortsText(action.slice));
    case PlannedAction::Kind::kUpdate:
      return absl::StrCat("update ", m.namespace_(), "/", m.name(), " service=", action.service,
                          " addressType=", action.slice.addresstype(),
                          " endpoints=", action.slice.endpoints_size(),
                          " ports=", PortsText(action.slice));
    case PlannedAction::Kind::kDelete:
      return absl::StrCat("delete ", m.namespace_(), "/", m.name(), " service=", action.service);
  }
  return "";
}

absl::StatusOr<std::string> EncodeSliceList(const std::vector<EndpointSlice>& slices,
                                            codec::Format format) {
  codec::Node list = codec::Node::Object();
  list.Add("apiVersion", codec::Node::String("v1"));
  codec::Node& items = list.Add("items", codec::Node::Array());
  for (const EndpointSlice& slice : slices) {
    absl::StatusOr<codec::Node> n = codec::ToNode(slice);
    if (!n.ok()) return n.status();
    items.Push(*std::move(n));
  }
  list.Add("kind", codec::Node::String("List"));
  switch (format) {
    case Format::kJson: {
      absl::StatusOr<std::string> out = codec::WriteJson(list, {.indent = 2});
      if (!out.ok()) return out.status();
      return *out + "\n";
    }
    case Format::kYaml:
      return codec::WriteYaml(list);
    case Format::kProtobuf:
      break;
  }
  return absl::InvalidArgumentError("a List is printed as yaml or json");
}

}  // namespace kslice::endpointslice::cmd
