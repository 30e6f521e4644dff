#include "envtest/fieldmanager/fieldmanager.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "api/codec/object.h"
#include "envtest/fieldmanager/internal/fieldset.h"
#include "envtest/fieldmanager/internal/typed.h"
#include "envtest/storage/errors.h"
#include "google/protobuf/message.h"

namespace kslice::envtest::fieldmanager {
namespace {

using codec::Node;
using internal::Path;
using internal::PathElement;
using internal::Set;
using internal::TypeRef;

constexpr absl::string_view kApply = "Apply";
constexpr absl::string_view kUpdate = "Update";
constexpr size_t kMaxUpdateManagers = 10;
constexpr size_t kFieldManagerMaxLength = 128;

// ---- Managers ----

// One manager's identity: upstream keys managers by the JSON of a ManagedFieldsEntry
// holding only these (apiVersion only for Update).
struct ManagerId {
  std::string manager;
  std::string operation;
  std::string api_version;  // Update only
  std::string subresource;

  // The JSON upstream uses as the key (json.Marshal of the reduced entry).
  std::string Key() const {
    Node n = Node::Object();
    if (!manager.empty()) n.Add("manager", Node::String(manager));
    if (!operation.empty()) n.Add("operation", Node::String(operation));
    if (!api_version.empty()) n.Add("apiVersion", Node::String(api_version));
    if (!subresource.empty()) n.Add("subresource", Node::String(subresource));
    absl::StatusOr<std::string> s = codec::WriteJson(n);
    return s.ok() ? *s : manager;
  }
};

struct Record {
  ManagerId id;
  Set set;
  std::string api_version;
  bool applied = false;
  std::optional<absl::Time> time;
};

// Keyed by ManagerId::Key().
using Managed = std::map<std::string, Record>;

std::string Str(const Node* n) { return n != nullptr && n->is_string() ? n->text : ""; }

const Node* Metadata(const Node& obj) {
  const Node* m = obj.Find("metadata");
  return m != nullptr && m->is_object() ? m : nullptr;
}

Node* MutableMetadata(Node* obj) {
  for (size_t i = obj->keys.size(); i-- > 0;) {
    if (obj->keys[i] == "metadata") return obj->values[i].is_object() ? &obj->values[i] : nullptr;
  }
  return nullptr;
}

void RemoveKey(Node* obj, absl::string_view key) {
  for (size_t i = obj->keys.size(); i-- > 0;) {
    if (obj->keys[i] == key) {
      obj->keys.erase(obj->keys.begin() + i);
      obj->values.erase(obj->values.begin() + i);
    }
  }
}

void SetKey(Node* obj, absl::string_view key, Node value) {
  for (size_t i = 0; i < obj->keys.size(); ++i) {
    if (obj->keys[i] == key) {
      obj->values[i] = std::move(value);
      return;
    }
  }
  obj->Add(std::string(key), std::move(value));
}

// `obj` without metadata.managedFields.
Node WithoutManagedFields(const Node& obj) {
  Node out = obj;
  if (Node* m = MutableMetadata(&out); m != nullptr) RemoveKey(m, "managedFields");
  return out;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", t, absl::UTCTimeZone());
}

int64_t Seconds(const std::optional<absl::Time>& t) {
  return t.has_value() ? absl::ToUnixSeconds(*t) : 0;
}

absl::StatusOr<Managed> DecodeManaged(const Node* entries) {
  Managed out;
  if (entries == nullptr || entries->is_null()) return out;
  if (!entries->is_array()) return absl::InvalidArgumentError("managedFields is not a list");
  for (size_t i = 0; i < entries->values.size(); ++i) {
    const Node& e = entries->values[i];
    if (!e.is_object()) return absl::InvalidArgumentError("managedFields entry is not an object");
    Record r;
    r.id.manager = Str(e.Find("manager"));
    r.id.operation = Str(e.Find("operation"));
    r.id.subresource = Str(e.Find("subresource"));
    r.api_version = Str(e.Find("apiVersion"));
    if (r.id.operation != kApply && r.id.operation != kUpdate) {
      return absl::InvalidArgumentError("operation must be `Apply` or `Update`");
    }
    if (r.api_version.empty()) return absl::InvalidArgumentError("apiVersion must not be empty");
    std::string fields_type = Str(e.Find("fieldsType"));
    if (fields_type.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing fieldsType in managed fields entry ", i));
    }
    if (fields_type != "FieldsV1") {
      return absl::InvalidArgumentError(absl::StrCat("invalid fieldsType ",
                                                     storage::GoQuote(fields_type),
                                                     " in managed fields entry ", i));
    }
    r.applied = r.id.operation == kApply;
    if (!r.applied) r.id.api_version = r.api_version;
    if (const Node* f = e.Find("fieldsV1"); f != nullptr && !f->is_null()) {
      absl::StatusOr<Set> set = internal::FromFieldsV1(*f);
      if (!set.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("error decoding versioned set: ", set.status().message()));
      }
      r.set = *std::move(set);
    }
    if (const Node* t = e.Find("time"); t != nullptr && t->is_string()) {
      absl::Time parsed;
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, t->text, &parsed, &err)) {
        return absl::InvalidArgumentError(absl::StrCat("invalid time ", t->text, ": ", err));
      }
      r.time = parsed;
    }
    std::string key = r.id.Key();
    out[key] = std::move(r);
  }
  return out;
}

// The managedFields list, sorted as upstream: operation, time, manager, apiVersion,
// subresource.
Node EncodeManaged(const Managed& managed) {
  std::vector<const Record*> records;
  for (const auto& [key, r] : managed) records.push_back(&r);
  auto op = [](const Record* r) { return r->applied ? std::string(kApply) : r->id.operation; };
  std::stable_sort(records.begin(), records.end(), [&](const Record* p, const Record* q) {
    if (op(p) != op(q)) return op(p) < op(q);
    if (Seconds(p->time) != Seconds(q->time)) return Seconds(p->time) < Seconds(q->time);
    if (p->id.manager != q->id.manager) return p->id.manager < q->id.manager;
    if (p->api_version != q->api_version) return p->api_version < q->api_version;
    return p->id.subresource < q->id.subresource;
  });
  Node list = Node::Array();
  for (const Record* r : records) {
    Node e = Node::Object();
    if (!r->id.manager.empty()) e.Add("manager", Node::String(r->id.manager));
    e.Add("operation", Node::String(op(r)));
    e.Add("apiVersion", Node::String(r->api_version));
    if (r->time.has_value()) e.Add("time", Node::String(Rfc3339(*r->time)));
    e.Add("fieldsType", Node::String("FieldsV1"));
    e.Add("fieldsV1", internal::ToFieldsV1(r->set));
    if (!r->id.subresource.empty()) e.Add("subresource", Node::String(r->id.subresource));
    list.Push(std::move(e));
  }
  return list;
}

// Writes `managed` into obj's metadata (removing the key when there is nothing).
void StoreManaged(Node* obj, const Managed& managed) {
  Node* meta = MutableMetadata(obj);
  if (meta == nullptr) {
    if (managed.empty()) return;
    SetKey(obj, "metadata", Node::Object());
    meta = MutableMetadata(obj);
  }
  RemoveKey(meta, "managedFields");
  if (!managed.empty()) meta->Add("managedFields", EncodeManaged(managed));
}

// upstream's stripMetaManager: fields every object has that nobody owns.
const Set& StripSet() {
  static const Set* set = [] {
    auto* s = new Set;
    s->Insert({PathElement::Field("apiVersion")});
    s->Insert({PathElement::Field("kind")});
    s->Insert({PathElement::Field("metadata")});
    for (const char* f : {"name", "namespace", "creationTimestamp", "selfLink", "uid",
                          "clusterName", "generation", "managedFields", "resourceVersion"}) {
      s->Insert({PathElement::Field("metadata"), PathElement::Field(f)});
    }
    return s;
  }();
  return *set;
}

// The top-level fields a write through `subresource` may not own (upstream's reset
// fields): the main resource does not own status, the status subresource not spec.
std::vector<std::string> IgnoredFields(const TypeRef& root, const std::string& subresource) {
  const char* name = subresource.empty() ? "status" : (subresource == "status" ? "spec" : "");
  if (*name == '\0' || !internal::FieldType(root, name).has_value()) return {};
  return {name};
}

// ---- Errors ----

absl::Status WithPayload(absl::StatusCode code, const storage::MetaStatus& status) {
  absl::Status s(code, status.message());
  std::string bytes;
  status.SerializeToString(&bytes);
  s.SetPayload(storage::kStatusPayloadUrl, absl::Cord(bytes));
  return s;
}

// printManager: `"kubectl"`, `"ctl" with subresource "status"`, `"ctl" using apps/v1`.
std::string PrintManager(const ManagerId& id) {
  std::string out = storage::GoQuote(id.manager);
  if (!id.subresource.empty()) {
    absl::StrAppend(&out, " with subresource ", storage::GoQuote(id.subresource));
  }
  if (id.operation == kUpdate) absl::StrAppend(&out, " using ", id.api_version);
  return out;
}

absl::Status ApplyConflictError(const std::vector<std::pair<ManagerId, Set>>& conflicts) {
  storage::MetaStatus st;
  st.set_status("Failure");
  st.set_code(409);
  st.set_reason("Conflict");
  auto* details = st.mutable_details();
  size_t total = 0;
  std::vector<std::string> lines;
  std::string single;
  for (const auto& [id, set] : conflicts) {
    lines.push_back(absl::StrCat("conflicts with ", PrintManager(id), ":"));
    set.Iterate([&](const Path& p) {
      auto* cause = details->add_causes();
      cause->set_reason("FieldManagerConflict");
      cause->set_message(absl::StrCat("conflict with ", PrintManager(id)));
      cause->set_field(internal::PathToString(p));
      lines.push_back(absl::StrCat("- ", internal::PathToString(p)));
      single = absl::StrCat("conflict with ", PrintManager(id), ": ", internal::PathToString(p));
      ++total;
    });
  }
  if (total == 1) {
    st.set_message(absl::StrCat("Apply failed with 1 conflict: ", single));
  } else {
    st.set_message(absl::StrCat("Apply failed with ", total,
                                " conflicts: ", absl::StrJoin(lines, "\n")));
  }
  return WithPayload(absl::StatusCode::kAborted, st);
}

// "apps/v1" -> "apps"; "v1" -> "".
std::string GroupOf(const std::string& api_version) {
  size_t slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

// GroupVersionKind's %v: "apps/v1, Kind=Deployment", "/v1, Kind=Pod".
std::string GvkString(const std::string& api_version, const std::string& kind) {
  std::string gv = api_version.find('/') == std::string::npos ? absl::StrCat("/", api_version)
                                                              : api_version;
  return absl::StrCat(gv, ", Kind=", kind);
}

std::vector<storage::FieldError> ValidateManager(const std::string& manager, bool apply) {
  std::vector<storage::FieldError> errs;
  if (apply && manager.empty()) {
    errs.push_back(storage::FieldError::Required("fieldManager", "is required for apply patch"));
  }
  if (manager.size() > kFieldManagerMaxLength) {
    errs.push_back({"FieldValueTooLong", "fieldManager",
                    absl::StrCat("Too long: may not be more than ", kFieldManagerMaxLength,
                                 " bytes")});
  }
  for (size_t i = 0; i < manager.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(manager[i]);
    if (c < 0x20 || c == 0x7f) {
      errs.push_back(storage::FieldError::Invalid(
          "fieldManager", manager,
          absl::StrFormat("invalid character U+%04X (at position %d)", c, i)));
    }
  }
  return errs;
}

// ---- The SMD updater ----

// The zero object of `type`, as the codec writes it, with apiVersion and kind.
Node EmptyObject(const google::protobuf::Descriptor* type, const std::string& api_version,
                 const std::string& kind) {
  Node out = Node::Object();
  out.Add("apiVersion", Node::String(api_version));
  out.Add("kind", Node::String(kind));
  const google::protobuf::Message* proto =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type);
  if (proto != nullptr) {
    absl::StatusOr<Node> n = codec::MessageToNode(*proto);
    if (n.ok() && n->is_object()) {
      for (size_t i = 0; i < n->keys.size(); ++i) out.Add(n->keys[i], n->values[i]);
    }
  }
  return out;
}

absl::Status TypedError(absl::string_view what, const Node& obj, const absl::Status& err) {
  const Node* meta = Metadata(obj);
  std::string ns = meta != nullptr ? Str(meta->Find("namespace")) : "";
  std::string name = meta != nullptr ? Str(meta->Find("name")) : "";
  return storage::UnknownServerError(absl::StrCat(
      what, " (", ns, "/", name, "; ",
      GvkString(Str(obj.Find("apiVersion")), Str(obj.Find("kind"))), "): ", err.message()));
}

// SMD's Updater.update: takes the fields that changed from lhs to rhs away from every
// manager but `workflow` (conflicts when !force), and removed fields from everyone.
absl::StatusOr<internal::Comparison> UpdateOwners(const Node& lhs, const Node& rhs,
                                                  const TypeRef& type,
                                                  const std::vector<std::string>& ignored,
                                                  Managed* managed, const std::string& workflow,
                                                  bool force) {
  absl::StatusOr<internal::Comparison> cmp = internal::Diff(lhs, rhs, type);
  if (!cmp.ok()) return TypedError("failed to compare objects", rhs, cmp.status());
  internal::Comparison c = cmp->FilterTopLevel(ignored);
  Set changed = c.modified.Union(c.added);
  std::vector<std::pair<ManagerId, Set>> conflicts;
  for (auto& [key, r] : *managed) {
    if (key == workflow) continue;
    Set conflict = r.set.Intersection(changed);
    if (!conflict.Empty()) conflicts.emplace_back(r.id, std::move(conflict));
  }
  if (!force && !conflicts.empty()) return ApplyConflictError(conflicts);
  for (auto it = managed->begin(); it != managed->end();) {
    if (it->first != workflow) {
      it->second.set = it->second.set.Difference(changed).Difference(c.removed);
    }
    if (it->second.set.Empty()) {
      it = managed->erase(it);
    } else {
      ++it;
    }
  }
  return c;
}

// The Update chain of upstream's field manager below skipNonApplied: capManagers,
// buildManagerInfo, managedFieldsUpdater, stripMeta, structuredMerge.
absl::Status TrackUpdate(const Node& live, const Node& updated, const TypeRef& type,
                         const std::vector<std::string>& ignored, const ManagerId& id,
                         const std::string& api_version, absl::Time now, Managed* managed) {
  const std::string current = "current-operation";
  absl::StatusOr<internal::Comparison> c =
      UpdateOwners(live, updated, type, ignored, managed, current, true);
  if (!c.ok()) return c.status();
  Set set = c->modified.Union(c->added).Difference(StripSet());
  if (!set.Empty()) {
    std::string key = id.Key();
    auto it = managed->find(key);
    Record r;
    r.id = id;
    r.api_version = api_version;
    r.applied = false;
    r.set = it != managed->end() ? set.Union(it->second.set) : std::move(set);
    r.time = now;
    (*managed)[key] = std::move(r);
  }
  // capManagers: at most kMaxUpdateManagers Update entries; the oldest are merged
  // into "ancient-changes" per apiVersion.
  std::vector<std::string> updaters;
  for (const auto& [key, r] : *managed) {
    if (!r.applied) updaters.push_back(key);
  }
  if (updaters.size() <= kMaxUpdateManagers) return absl::OkStatus();
  std::stable_sort(updaters.begin(), updaters.end(),
                   [&](const std::string& a, const std::string& b) {
                     int64_t sa = Seconds(managed->at(a).time), sb = Seconds(managed->at(b).time);
                     if (sa != sb) return sa < sb;
                     return a < b;
                   });
  std::map<std::string, std::string> first_of_version;
  size_t length = updaters.size();
  for (size_t i = 0; i < updaters.size() && length > kMaxUpdateManagers; ++i) {
    auto rec = managed->find(updaters[i]);
    if (rec == managed->end()) continue;
    std::string version = rec->second.api_version;
    ManagerId bucket_id{"ancient-changes", std::string(kUpdate), version, ""};
    std::string bucket = bucket_id.Key();
    auto first = first_of_version.find(version);
    if (first == first_of_version.end()) {
      first_of_version[version] = updaters[i];
      continue;
    }
    if (managed->find(bucket) == managed->end()) {
      Record moved = std::move(managed->at(first->second));
      managed->erase(first->second);
      moved.id = bucket_id;
      (*managed)[bucket] = std::move(moved);
    }
    rec = managed->find(updaters[i]);
    Record& b = (*managed)[bucket];
    b.set = rec->second.set.Union(b.set);
    b.api_version = version;
    b.applied = false;
    b.time = rec->second.time;
    if (rec->first != bucket) managed->erase(rec);
    --length;
  }
  return absl::OkStatus();
}

// An object's apiVersion and kind.
struct ObjectType {
  std::string api_version;
  std::string kind;
};

bool IsResetManagedFields(const Node* mf) {
  if (mf == nullptr || !mf->is_array()) return false;
  if (mf->values.empty()) return true;
  if (mf->values.size() == 1) {
    const Node& e = mf->values[0];
    if (e.is_object()) {
      for (const Node& v : e.values) {
        if (!v.is_null() && !(v.is_string() && v.text.empty())) return false;
      }
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<Node> Apply(const Node* live, const Node& config,
                           const google::protobuf::Descriptor* type, const Options& options) {
  if (std::vector<storage::FieldError> errs = ValidateManager(options.manager, true);
      !errs.empty()) {
    return storage::InvalidError("meta.k8s.io", "PatchOptions", "", errs);
  }
  if (type == nullptr) return storage::UnknownServerError("no type for the applied object");
  if (!config.is_object()) {
    return storage::BadRequestError("error decoding YAML: the apply configuration is not an object");
  }
  // The expected type: the URL's, else the live object's, else the configuration's.
  ObjectType want{options.api_version, options.kind};
  if (want.api_version.empty() && live != nullptr) want.api_version = Str(live->Find("apiVersion"));
  if (want.kind.empty() && live != nullptr) want.kind = Str(live->Find("kind"));
  ObjectType got{Str(config.Find("apiVersion")), Str(config.Find("kind"))};
  if (want.api_version.empty()) want.api_version = got.api_version;
  if (want.kind.empty()) want.kind = got.kind;
  if (got.api_version != want.api_version || got.kind != want.kind || got.kind.empty() ||
      got.api_version.empty()) {
    return storage::BadRequestError(
        absl::StrCat("invalid object type: ", GvkString(got.api_version, got.kind)));
  }
  const Node* config_meta = Metadata(config);
  if (const Node* mf = config_meta != nullptr ? config_meta->Find("managedFields") : nullptr;
      mf != nullptr && !mf->is_null()) {
    return storage::BadRequestError("metadata.managedFields must be nil");
  }
  std::string name = config_meta != nullptr ? Str(config_meta->Find("name")) : "";
  if (live != nullptr) {
    const Node* live_meta = Metadata(*live);
    std::string live_name = live_meta != nullptr ? Str(live_meta->Find("name")) : "";
    if (name != live_name) {
      return storage::BadRequestError(absl::StrCat("the name of the object (", name,
                                                   ") does not match the name on the URL (",
                                                   live_name, ")"));
    }
  } else if (name.empty()) {
    return storage::InvalidError(
        GroupOf(want.api_version), want.kind, "",
        {storage::FieldError::Required("metadata.name", "name or generateName is required")});
  }

  TypeRef root = internal::RootType(type);
  std::vector<std::string> ignored = IgnoredFields(root, options.subresource);
  Node empty = EmptyObject(type, want.api_version, want.kind);
  Node live_node = live != nullptr ? WithoutManagedFields(*live) : empty;

  Managed managed;
  if (live != nullptr) {
    const Node* meta = Metadata(*live);
    absl::StatusOr<Managed> decoded =
        DecodeManaged(meta != nullptr ? meta->Find("managedFields") : nullptr);
    if (!decoded.ok()) {
      return storage::UnknownServerError(
          absl::StrCat("failed to decode managed fields: ", decoded.status().message()));
    }
    managed = *std::move(decoded);
  }
  // skipNonApplied: an object nobody tracked yet gets its fields attributed to
  // "before-first-apply" first.
  if (managed.empty() && live != nullptr) {
    ManagerId before{"before-first-apply", std::string(kUpdate), want.api_version,
                     options.subresource};
    if (absl::Status s = TrackUpdate(empty, live_node, root, ignored, before, want.api_version,
                                     options.now, &managed);
        !s.ok()) {
      return s;
    }
  }

  absl::StatusOr<Set> applied = internal::ToFieldSet(config, root);
  if (!applied.ok()) return TypedError("failed to create typed patch object", config, applied.status());
  absl::StatusOr<Node> merged = internal::Merge(live_node, config, root);
  if (!merged.ok()) {
    return storage::UnknownServerError(
        absl::StrCat("failed to merge config: ", merged.status().message()));
  }

  ManagerId id{options.manager, std::string(kApply), "", options.subresource};
  std::string key = id.Key();
  std::optional<Set> last;
  std::optional<absl::Time> last_time;
  if (auto it = managed.find(key); it != managed.end()) {
    last = it->second.set;
    last_time = it->second.time;
  }
  Record record;
  record.id = id;
  record.set = applied->WithoutTopLevelFields(ignored);
  record.api_version = want.api_version;
  record.applied = true;
  record.time = last_time;
  managed[key] = std::move(record);

  if (last.has_value() && !last->Empty()) {
    Set owned;
    for (const auto& [k, r] : managed) owned = owned.Union(r.set);
    internal::Prune(&*merged, root, *last, owned);
  }
  absl::StatusOr<internal::Comparison> c =
      UpdateOwners(live_node, *merged, root, ignored, &managed, key, options.force);
  if (!c.ok()) return c.status();

  bool noop = merged->Equals(live_node);
  if (auto it = managed.find(key); it != managed.end()) {
    it->second.set = it->second.set.Difference(StripSet());
    if (it->second.set.Empty()) {
      managed.erase(it);
    } else if (!noop) {
      it->second.time = options.now;
    }
  }
  Node result = noop ? std::move(live_node) : *std::move(merged);
  StoreManaged(&result, managed);
  return result;
}

absl::StatusOr<Node> Update(const Node* live, const Node& updated,
                            const google::protobuf::Descriptor* type, const Options& options) {
  if (type == nullptr) return storage::UnknownServerError("no type for the updated object");
  if (!updated.is_object()) return storage::BadRequestError("the object is not a JSON object");
  std::string api_version = Str(updated.Find("apiVersion"));
  std::string kind = Str(updated.Find("kind"));
  if (api_version.empty() && live != nullptr) api_version = Str(live->Find("apiVersion"));
  if (kind.empty() && live != nullptr) kind = Str(live->Find("kind"));
  if (!options.api_version.empty()) api_version = options.api_version;
  if (!options.kind.empty()) kind = options.kind;

  // decodeLiveOrNew: the managedFields of the request unless it is for a subresource,
  // resets them, or sends none (or undecodable ones); then the live object's.
  const Node* live_meta = live != nullptr ? Metadata(*live) : nullptr;
  const Node* live_mf = live_meta != nullptr ? live_meta->Find("managedFields") : nullptr;
  const Node* new_meta = Metadata(updated);
  const Node* new_mf = new_meta != nullptr ? new_meta->Find("managedFields") : nullptr;
  Managed managed;
  if (!options.subresource.empty()) {
    managed = DecodeManaged(live_mf).value_or(Managed());
  } else if (IsResetManagedFields(new_mf)) {
    // tracking reset: start empty
  } else {
    absl::StatusOr<Managed> from_new = DecodeManaged(new_mf);
    if (from_new.ok() && !from_new->empty()) {
      managed = *std::move(from_new);
    } else {
      managed = DecodeManaged(live_mf).value_or(Managed());
    }
  }

  Node result = WithoutManagedFields(updated);
  // skipNonApplied: an existing object without managedFields stays untracked.
  bool has_uid = live_meta != nullptr && !Str(live_meta->Find("uid")).empty();
  if (managed.empty() && live != nullptr && has_uid) return result;

  TypeRef root = internal::RootType(type);
  std::vector<std::string> ignored = IgnoredFields(root, options.subresource);
  Node live_node =
      live != nullptr ? WithoutManagedFields(*live) : EmptyObject(type, api_version, kind);
  ManagerId id{options.manager.empty() ? "unknown" : options.manager, std::string(kUpdate),
               api_version, options.subresource};
  Managed tracked = managed;
  absl::Status s =
      TrackUpdate(live_node, result, root, ignored, id, api_version, options.now, &tracked);
  if (!s.ok()) {
    // UpdateNoErrors: keep the live object's managedFields.
    if (live_mf != nullptr) {
      if (Node* m = MutableMetadata(&result); m != nullptr) m->Add("managedFields", *live_mf);
    }
    return result;
  }
  StoreManaged(&result, tracked);
  return result;
}

}  // namespace kslice::envtest::fieldmanager
