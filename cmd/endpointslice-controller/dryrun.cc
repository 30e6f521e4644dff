#include "cmd/endpointslice-controller/dryrun.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "api/codec/node.h"
#include "cmd/internal/objectfile/objectfile.h"
#include "controller/endpointslice/memory_writer.h"
#include "controller/endpointslice/reconciler.h"
#include "controller/endpointslice/slice_tracker.h"
#include "controller/endpointslice/topologycache/topology_cache.h"
#include "controller/endpointslice/trigger_time_tracker.h"

namespace kslice::endpointslice::cmd {
namespace {

using api::core::v1::Node;
using api::core::v1::Pod;
using api::core::v1::Service;
using api::discovery::v1::EndpointSlice;
using codec::Format;

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
  absl::StatusOr<::kslice::cmd::objectfile::ObjectSet> objects = ::kslice::cmd::objectfile::ReadObjects(data);
  if (!objects.ok()) return objects.status();
  DryRunInput in;
  in.services = std::move(objects->services);
  in.pods = std::move(objects->pods);
  in.nodes = std::move(objects->nodes);
  in.slices = std::move(objects->slices);
  in.ignored = objects->ignored;
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
