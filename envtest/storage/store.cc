#include "envtest/storage/store.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string_view>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "api/codec/canonical.h"
#include "envtest/storage/continue_token.h"
#include "envtest/storage/errors.h"
#include "envtest/storage/watcher_state.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/message_differencer.h"

namespace kslice::envtest::storage {

using google::protobuf::Message;
using kslice::api::meta::v1::ObjectMeta;
using internal::WatcherState;

// One state of a key: the object, or nullptr once deleted (a tombstone, kept until
// the deletion leaves the history).
struct Store::Version {
  uint64_t rv = 0;
  Object object;
  // The object's labels in one allocation (EncodeLabels), so label selectors in lists
  // do not chase pointers through every object (the watch cache keeps label sets for
  // the same reason).
  std::string labels;
};

// The versions of one key in RV order: the newest version at or below the compacted
// RV (if not a tombstone) and every later one.
struct Store::KeyHistory {
  absl::InlinedVector<Version, 1> versions;
};

struct Store::ResourceState {
  const ResourceConfig* config = nullptr;  // the registry's
  // Keyed by "namespace/name" (or "name"), in the API server's list order. A B-tree
  // keeps neighbouring keys together, which halves the cost of scanning 100k objects
  // compared with std::map. Node-based references are not stable across writes: keep
  // none beyond the lock.
  absl::btree_map<std::string, KeyHistory> objects;
  std::vector<std::shared_ptr<WatcherState>> watchers;
  // Objects at the latest RV, in all and per namespace (remainingItemCount).
  int64_t live = 0;
  absl::flat_hash_map<std::string, int64_t> live_by_namespace;
};

// remainingItemCount of a page: the live keys at `snapshot` from `start` on.
struct Store::RemainingCount {
  const ResourceState* resource = nullptr;
  uint64_t snapshot = 0;
  std::string prefix;  // the list's range: "" or "namespace/"
  std::string start;   // absolute key
  int64_t count = 0;
};

// One committed write.
struct Store::LogEntry {
  uint64_t rv = 0;
  ResourceState* resource = nullptr;
  std::string key;
  EventType type = EventType::kAdded;
  Object object;      // the new state; for kDeleted the last state with RV = rv
  Object prev;        // the state before (nullptr for kAdded)
  Object prev_at_rv;  // made on demand: prev with RV = rv (DELETED for a selector exit)
};

namespace {

constexpr absl::string_view kNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";
constexpr size_t kGeneratedSuffixLength = 5;
constexpr size_t kMaxGeneratedPrefixLength = 63 - kGeneratedSuffixLength;
constexpr int kGenerateNameAttempts = 8;
// Pages whose remainingItemCount is remembered for the next page of the same list.
constexpr size_t kRemainingCacheSize = 64;

constexpr absl::string_view kListTooOld = "The resourceVersion for the provided list is too old.";
constexpr absl::string_view kInconsistentContinue =
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list.";

std::string StorageKey(const ResourceConfig& c, absl::string_view ns, absl::string_view name) {
  return c.namespaced ? absl::StrCat(ns, "/", name) : std::string(name);
}

// upstream path.IsValidPathSegmentName / IsValidPathSegmentPrefix.
void ValidatePathSegment(absl::string_view field, absl::string_view value, bool prefix,
                         std::vector<FieldError>* errs) {
  if (!prefix && (value == "." || value == "..")) {
    errs->push_back(FieldError::Invalid(std::string(field), value,
                                        absl::StrCat("may not be '", value, "'")));
    return;
  }
  for (absl::string_view bad : {"/", "%"}) {
    if (absl::StrContains(value, bad)) {
      errs->push_back(FieldError::Invalid(std::string(field), value,
                                          absl::StrCat("may not contain '", bad, "'")));
    }
  }
}

absl::Status CheckType(const ResourceConfig& c, const Message* object) {
  if (object == nullptr) return BadRequestError("no object given");
  if (object->GetReflection() != c.prototype->GetReflection()) {
    return BadRequestError(absl::StrCat("a ", object->GetDescriptor()->full_name(),
                                        " cannot be stored as ", c.key.String(), " (",
                                        c.prototype->GetDescriptor()->full_name(), ")"));
  }
  return absl::OkStatus();
}

// Fills what the server owns on create; validates names (422).
absl::Status PrepareForCreate(const ResourceConfig& c, ObjectMeta* m, absl::Time now) {
  std::vector<FieldError> errs;
  if (m->name().empty()) {
    if (m->generatename().empty()) {
      errs.push_back(FieldError::Required("metadata.name", "name or generateName is required"));
    } else {
      ValidatePathSegment("metadata.generateName", m->generatename(), true, &errs);
    }
  } else {
    ValidatePathSegment("metadata.name", m->name(), false, &errs);
  }
  if (c.namespaced) {
    if (m->namespace_().empty()) errs.push_back(FieldError::Required("metadata.namespace", ""));
  } else {
    m->clear_namespace_();
  }
  if (!errs.empty()) return InvalidError(c.key.group, c.kind, m->name(), errs);
  m->clear_uid();
  m->clear_selflink();
  m->clear_deletiontimestamp();
  m->clear_deletiongraceperiodseconds();
  const int64_t secs = absl::ToUnixSeconds(now);
  if (secs != 0) {
    m->mutable_creationtimestamp()->set_seconds(secs);
    m->mutable_creationtimestamp()->clear_nanos();
  } else {
    m->clear_creationtimestamp();
  }
  if (c.generation != GenerationPolicy::kNone) {
    m->set_generation(1);
  } else {
    m->clear_generation();
  }
  return absl::OkStatus();
}

std::string DeterministicBytes(const Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream sos(&out);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&cos);
  }
  return out;
}

bool SpecChanged(const Message& before, const Message& after) {
  const google::protobuf::FieldDescriptor* f = before.GetDescriptor()->FindFieldByName("spec");
  if (f == nullptr || f->is_repeated() ||
      f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
    return false;
  }
  const google::protobuf::Reflection* r = before.GetReflection();
  const bool had = r->HasField(before, f);
  const bool has = r->HasField(after, f);
  if (had != has) return true;
  if (!had) return false;
  return DeterministicBytes(r->GetMessage(before, f)) != DeterministicBytes(r->GetMessage(after, f));
}

// The annotations of `m` alone, for comparison.
ObjectMeta ObjectMetaAnnotations(const ObjectMeta& m) {
  ObjectMeta out;
  *out.mutable_annotations() = m.annotations();
  return out;
}

bool NonMetadataChanged(const Message& before, const Message& after) {
  google::protobuf::util::MessageDifferencer d;
  d.IgnoreField(before.GetDescriptor()->FindFieldByNumber(1));
  return !d.Compare(before, after);
}

Object WithResourceVersion(const Message& object, uint64_t rv) {
  std::unique_ptr<Message> copy = CopyObject(object);
  MutableMetaOf(copy.get())->set_resourceversion(absl::StrCat(rv));
  return Object(std::move(copy));
}

// The storage layer's "invalid object" error text that upstream wraps in a Conflict
// when a precondition fails inside GuaranteedUpdate.
std::string InvalidObjectDetail(const ResourceConfig& c, absl::string_view key,
                                absl::string_view detail) {
  return absl::StrCat("StorageError: invalid object, Code: 4, Key: ", c.storage_prefix, "/", key,
                      ", ResourceVersion: 0, AdditionalErrorMsg: ", detail);
}

bool Matches(const WatcherState::Params& p, const Message& object) {
  const ObjectMeta& m = MetaOf(object);
  if (!p.ns.empty() && m.namespace_() != p.ns) return false;
  if (!p.labels.Empty() && !p.labels.Matches(m.labels())) return false;
  return MatchesFields(*p.resource, p.fields, object);
}

// [u32 key length][u32 value length][key][value] per label.
std::string EncodeLabels(const google::protobuf::Map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    const uint32_t lengths[2] = {static_cast<uint32_t>(k.size()), static_cast<uint32_t>(v.size())};
    out.append(reinterpret_cast<const char*>(lengths), sizeof(lengths));
    out.append(k);
    out.append(v);
  }
  return out;
}

std::optional<std::string_view> FindLabel(std::string_view blob, std::string_view key) {
  size_t pos = 0;
  while (pos + 2 * sizeof(uint32_t) <= blob.size()) {
    uint32_t lengths[2];
    std::memcpy(lengths, blob.data() + pos, sizeof(lengths));
    pos += sizeof(lengths);
    if (lengths[0] == key.size() && blob.compare(pos, key.size(), key) == 0) {
      return blob.substr(pos + lengths[0], lengths[1]);
    }
    pos += lengths[0] + lengths[1];
  }
  return std::nullopt;
}

std::string_view NamespaceOfKey(std::string_view key) {
  const size_t slash = key.find('/');
  return slash == std::string_view::npos ? std::string_view() : key.substr(0, slash);
}

Object MetaStatusObject(const absl::Status& status) {
  return std::make_shared<MetaStatus>(ToApiStatus(status));
}

}  // namespace

// ---- construction ----

Store::Store(StoreOptions options)
    : options_(std::move(options)),
      registry_(options_.registry != nullptr ? options_.registry : &ResourceRegistry::Builtin()),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      rv_(options_.initial_resource_version),
      horizon_(options_.initial_resource_version),
      committed_(std::make_shared<std::atomic<uint64_t>>(options_.initial_resource_version)) {
  if (options_.random_seed.has_value()) {
    rng_.seed(*options_.random_seed);
  } else {
    std::random_device rd;
    rng_.seed((static_cast<uint64_t>(rd()) << 32) ^ rd());
  }
  for (const ResourceConfig* c : registry_->All()) {
    auto rs = std::make_unique<ResourceState>();
    rs->config = c;
    resources_.emplace(c->key, std::move(rs));
  }
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(StoreOptions options) {
  if (options.history_size == 0) return absl::InvalidArgumentError("history_size must be > 0");
  if (options.watch_queue_capacity == 0) {
    return absl::InvalidArgumentError("watch_queue_capacity must be > 0");
  }
  std::unique_ptr<Store> store(new Store(std::move(options)));
  if (Persistence* p = store->options_.persistence; p != nullptr) {
    std::unique_lock<std::shared_mutex> l(store->mu_);
    absl::Status s =
        p->Load([&store](const PersistedWrite& w) { return store->ApplyPersisted(w); });
    if (!s.ok()) return s;
    // History restarts at the loaded state, as the watch cache's does after a relist.
    store->horizon_ = store->rv_;
    store->committed_->store(store->rv_);
  }
  return store;
}

absl::Status Store::ApplyPersisted(const PersistedWrite& w) {
  auto it = resources_.find(w.resource);
  if (it == resources_.end()) {
    return absl::DataLossError(
        absl::StrCat("persisted write for unknown resource ", w.resource.String()));
  }
  if (w.resource_version <= rv_) {
    return absl::DataLossError(absl::StrCat("persisted write at resourceVersion ",
                                            w.resource_version, " is not after ", rv_));
  }
  ResourceState& rs = *it->second;
  auto existing = rs.objects.find(w.key);
  const bool was_live = existing != rs.objects.end();
  if (w.type == EventType::kDeleted) {
    if (was_live) {
      rs.objects.erase(existing);
      CountLive(rs, w.key, -1);
    }
  } else {
    if (w.object == nullptr ||
        w.object->GetReflection() != rs.config->prototype->GetReflection()) {
      return absl::DataLossError(absl::StrCat("persisted write at resourceVersion ",
                                              w.resource_version, " has no ",
                                              rs.config->kind, " object"));
    }
    KeyHistory& h = rs.objects[w.key];
    h.versions.clear();
    h.versions.push_back(
        Version{w.resource_version, w.object, EncodeLabels(MetaOf(*w.object).labels())});
    if (!was_live) CountLive(rs, w.key, +1);
  }
  rv_ = w.resource_version;
  return absl::OkStatus();
}

Store::~Store() {
  std::unique_lock<std::shared_mutex> l(mu_);
  for (auto& [key, rs] : resources_) {
    for (const auto& w : rs->watchers) w->Terminate(absl::CancelledError("storage is shutting down"));
    rs->watchers.clear();
  }
}

absl::StatusOr<Store::ResourceState*> Store::Resource(const ResourceKey& key) const {
  auto it = resources_.find(key);
  if (it == resources_.end()) return ResourceNotServedError(key);
  return it->second.get();
}

// ---- randomness ----

std::string Store::NewUidLocked() {
  uint64_t hi = rng_();
  uint64_t lo = rng_();
  hi = (hi & ~uint64_t{0xF000}) | uint64_t{0x4000};                  // version 4
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);         // RFC 4122 variant
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF,
                         lo >> 48, lo & uint64_t{0xFFFFFFFFFFFF});
}

std::string Store::GenerateNameLocked(absl::string_view prefix) {
  if (options_.name_generator) return options_.name_generator(prefix);
  std::string name(prefix);
  std::uniform_int_distribution<size_t> pick(0, kNameAlphabet.size() - 1);
  for (size_t i = 0; i < kGeneratedSuffixLength; ++i) name.push_back(kNameAlphabet[pick(rng_)]);
  return name;
}

// ---- waiting for a resourceVersion ----

absl::Status Store::WaitForResourceVersion(uint64_t minimum) const {
  if (committed_->load() >= minimum) return absl::OkStatus();
  std::unique_lock<std::mutex> l(rv_mu_);
  rv_waiters_.fetch_add(1);
  const bool reached = rv_cv_.wait_for(
      l, absl::ToChronoNanoseconds(std::max(options_.too_large_resource_version_wait,
                                            absl::ZeroDuration())),
      [&] { return committed_->load() >= minimum; });
  rv_waiters_.fetch_sub(1);
  if (!reached) return TooLargeResourceVersionError(minimum, committed_->load(), 1);
  return absl::OkStatus();
}

// ---- writes ----

absl::Status Store::CommitLocked(ResourceState& rs, const std::string& key, EventType type,
                                 Object object, Object prev, uint64_t rv) {
  if (options_.persistence != nullptr) {
    PersistedWrite w{rv, rs.config->key, key, type,
                     type == EventType::kDeleted ? nullptr : object};
    if (absl::Status s = options_.persistence->Append(w); !s.ok()) {
      // No payload: the HTTP layer reports it as a 500 InternalError.
      return absl::InternalError(absl::StrCat("persisting the write failed: ", s.message()));
    }
  }
  rv_ = rv;
  Object event_object = object;
  if (type == EventType::kDeleted) {
    event_object = WithResourceVersion(*prev, rv);
    object = nullptr;
  }
  std::string labels = object != nullptr ? EncodeLabels(MetaOf(*object).labels()) : std::string();
  rs.objects[key].versions.push_back(Version{rv, object, std::move(labels)});
  if (type == EventType::kAdded) CountLive(rs, key, +1);
  if (type == EventType::kDeleted) CountLive(rs, key, -1);
  log_.push_back(LogEntry{rv, &rs, key, type, std::move(event_object), std::move(prev), nullptr});
  DispatchLocked(rs, log_.back());
  TrimHistoryLocked(options_.history_size);
  committed_->store(rv);
  if (rv_waiters_.load() > 0) {
    std::lock_guard<std::mutex> g(rv_mu_);
    rv_cv_.notify_all();
  }
  return absl::OkStatus();
}

namespace {

// The event a watcher with `p` gets for `e`, if any (upstream's cacheWatcher rules).
std::optional<WatchEvent> EventFor(const WatcherState::Params& p, const Object& object,
                                   const Object& prev, EventType type, uint64_t rv,
                                   Object* prev_at_rv) {
  switch (type) {
    case EventType::kAdded:
      if (Matches(p, *object)) return WatchEvent{EventType::kAdded, object, rv};
      return std::nullopt;
    case EventType::kModified: {
      const bool now = Matches(p, *object);
      const bool before = Matches(p, *prev);
      if (now && before) return WatchEvent{EventType::kModified, object, rv};
      if (now) return WatchEvent{EventType::kAdded, object, rv};
      if (before) {
        if (*prev_at_rv == nullptr) *prev_at_rv = WithResourceVersion(*prev, rv);
        return WatchEvent{EventType::kDeleted, *prev_at_rv, rv};
      }
      return std::nullopt;
    }
    case EventType::kDeleted:
      if (Matches(p, *prev)) return WatchEvent{EventType::kDeleted, object, rv};
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace

void Store::CountLive(ResourceState& rs, std::string_view key, int delta) {
  rs.live += delta;
  if (!rs.config->namespaced) return;
  auto [it, inserted] = rs.live_by_namespace.try_emplace(std::string(NamespaceOfKey(key)), 0);
  it->second += delta;
  if (it->second == 0) rs.live_by_namespace.erase(it);
}

void Store::DispatchLocked(ResourceState& rs, LogEntry& e) {
  size_t kept = 0;
  for (size_t i = 0; i < rs.watchers.size(); ++i) {
    WatcherState& w = *rs.watchers[i];
    bool keep = !w.closed();
    if (keep && e.rv > w.params().start_rv) {
      std::optional<WatchEvent> ev =
          EventFor(w.params(), e.object, e.prev, e.type, e.rv, &e.prev_at_rv);
      if (ev.has_value() && w.Push(*std::move(ev)) != WatcherState::PushResult::kQueued) {
        keep = false;
      }
    }
    if (keep) {
      if (kept != i) rs.watchers[kept] = std::move(rs.watchers[i]);
      ++kept;
    }
  }
  rs.watchers.resize(kept);
}

void Store::PopHistoryLocked() {
  LogEntry& e = log_.front();
  horizon_ = e.rv;
  auto it = e.resource->objects.find(e.key);
  if (it != e.resource->objects.end()) {
    auto& v = it->second.versions;
    size_t drop = 0;
    while (drop < v.size() && v[drop].rv < e.rv) ++drop;
    if (drop < v.size() && v[drop].rv == e.rv && v[drop].object == nullptr) ++drop;
    v.erase(v.begin(), v.begin() + drop);
    if (v.empty()) e.resource->objects.erase(it);
  }
  log_.pop_front();
}

void Store::TrimHistoryLocked(size_t keep) {
  while (log_.size() > keep) PopHistoryLocked();
}

void Store::Compact(uint64_t resource_version) {
  std::unique_lock<std::shared_mutex> l(mu_);
  resource_version = std::min(resource_version, rv_);
  while (!log_.empty() && log_.front().rv <= resource_version) PopHistoryLocked();
  horizon_ = std::max(horizon_, resource_version);
}

absl::StatusOr<UpdateResult> Store::CreateLocked(ResourceState& rs,
                                                 std::unique_ptr<Message> object, bool dry_run) {
  const ResourceConfig& c = *rs.config;
  ObjectMeta* m = MutableMetaOf(object.get());
  m->set_uid(NewUidLocked());
  std::string key;
  auto live = [&rs](const std::string& k) -> const Object* {
    auto it = rs.objects.find(k);
    if (it == rs.objects.end() || it->second.versions.back().object == nullptr) return nullptr;
    return &it->second.versions.back().object;
  };
  if (m->name().empty()) {
    const std::string prefix = m->generatename().substr(0, kMaxGeneratedPrefixLength);
    std::string name;
    bool found = false;
    for (int attempt = 0; attempt < kGenerateNameAttempts && !found; ++attempt) {
      name = GenerateNameLocked(prefix);
      key = StorageKey(c, m->namespace_(), name);
      found = live(key) == nullptr;
    }
    if (!found) return GenerateNameConflictError(c.key, name, 1);
    m->set_name(name);
  } else {
    key = StorageKey(c, m->namespace_(), m->name());
    if (const Object* existing = live(key); existing != nullptr) {
      absl::Status s = AlreadyExistsError(c.key, m->name());
      if (MetaOf(**existing).has_deletiontimestamp()) {
        MetaStatus st = ToApiStatus(s);
        st.set_message(absl::StrCat("object is being deleted: ", st.message()));
        absl::Status out(s.code(), st.message());
        out.SetPayload(kStatusPayloadUrl, absl::Cord(st.SerializeAsString()));
        return out;
      }
      return s;
    }
  }
  if (dry_run) return UpdateResult{Object(std::move(object)), /*created=*/true};
  const uint64_t rv = rv_ + 1;
  m->set_resourceversion(absl::StrCat(rv));
  Object stored(std::move(object));
  if (absl::Status s = CommitLocked(rs, key, EventType::kAdded, stored, nullptr, rv); !s.ok()) {
    return s;
  }
  return UpdateResult{stored, /*created=*/true};
}

absl::StatusOr<Object> Store::Create(const ResourceKey& resource, std::unique_ptr<Message> object,
                                     const CreateOptions& options) {
  absl::StatusOr<ResourceState*> rs = Resource(resource);
  if (!rs.ok()) return rs.status();
  const ResourceConfig& c = *(*rs)->config;
  if (absl::Status s = CheckType(c, object.get()); !s.ok()) return s;
  if (!options.assume_canonical) {
    if (absl::Status s = kslice::codec::Canonicalize(object.get()); !s.ok()) {
      return BadRequestError(s.message());
    }
  }
  ObjectMeta* m = MutableMetaOf(object.get());
  if (!m->resourceversion().empty()) {
    return UnknownServerError("resourceVersion should not be set on objects to be created");
  }
  if (absl::Status s = PrepareForCreate(c, m, clock_->Now()); !s.ok()) return s;
  std::unique_lock<std::shared_mutex> l(mu_);
  absl::StatusOr<UpdateResult> r = CreateLocked(**rs, std::move(object), options.dry_run);
  if (!r.ok()) return r.status();
  return r->object;
}

absl::StatusOr<Object> Store::Create(const ResourceKey& resource, const Message& object,
                                     const CreateOptions& options) {
  return Create(resource, CopyObject(object), options);
}

namespace {

// Copies the server-owned metadata of `current` into `next` and bumps generation.
void CarryServerFields(const ResourceConfig& c, const Message& current, Message* next,
                       bool keep_generation) {
  const ObjectMeta& cm = MetaOf(current);
  ObjectMeta* m = MutableMetaOf(next);
  if (cm.uid().empty()) {
    m->clear_uid();
  } else {
    m->set_uid(cm.uid());
  }
  if (cm.has_creationtimestamp()) {
    *m->mutable_creationtimestamp() = cm.creationtimestamp();
  } else {
    m->clear_creationtimestamp();
  }
  m->clear_selflink();
  int64_t generation = cm.generation();
  switch (keep_generation ? GenerationPolicy::kNone : c.generation) {
    case GenerationPolicy::kNone:
      break;
    case GenerationPolicy::kSpec:
      if (SpecChanged(current, *next)) ++generation;
      break;
    case GenerationPolicy::kSpecOrAnnotations:
      if (SpecChanged(current, *next) ||
          !google::protobuf::util::MessageDifferencer::Equals(  // maps compare unordered
              ObjectMetaAnnotations(cm), ObjectMetaAnnotations(*m))) {
        ++generation;
      }
      break;
    case GenerationPolicy::kAllButMetadata:
      if (NonMetadataChanged(current, *next)) ++generation;
      break;
  }
  if (generation > 0 && !cm.has_deletiontimestamp() && m->has_deletiontimestamp()) ++generation;
  if (generation != 0) {
    m->set_generation(generation);
  } else {
    m->clear_generation();
  }
  m->set_resourceversion(cm.resourceversion());
}

}  // namespace

absl::StatusOr<UpdateResult> Store::UpdateLocked(ResourceState& rs, const std::string& key,
                                               std::unique_ptr<Message> object, Object current,
                                               bool dry_run, bool keep_generation) {
  CarryServerFields(*rs.config, *current, object.get(), keep_generation);
  if (DeterministicBytes(*object) == DeterministicBytes(*current)) {
    return UpdateResult{current, false, false, /*unchanged=*/true};
  }
  if (dry_run) return UpdateResult{Object(std::move(object))};
  const uint64_t rv = rv_ + 1;
  MutableMetaOf(object.get())->set_resourceversion(absl::StrCat(rv));
  Object stored(std::move(object));
  if (absl::Status s = CommitLocked(rs, key, EventType::kModified, stored, current, rv); !s.ok()) {
    return s;
  }
  return UpdateResult{stored};
}

absl::StatusOr<UpdateResult> Store::Update(const ResourceKey& resource,
                                           std::unique_ptr<Message> object,
                                           const UpdateOptions& options) {
  absl::StatusOr<ResourceState*> rs = Resource(resource);
  if (!rs.ok()) return rs.status();
  const ResourceConfig& c = *(*rs)->config;
  if (absl::Status s = CheckType(c, object.get()); !s.ok()) return s;
  if (!options.assume_canonical) {
    if (absl::Status s = kslice::codec::Canonicalize(object.get()); !s.ok()) {
      return BadRequestError(s.message());
    }
  }
  ObjectMeta* m = MutableMetaOf(object.get());
  if (!c.namespaced) m->clear_namespace_();
  std::vector<FieldError> errs;
  if (m->name().empty()) {
    errs.push_back(FieldError::Required("metadata.name", "name or generateName is required"));
  }
  if (c.namespaced && m->namespace_().empty()) {
    errs.push_back(FieldError::Required("metadata.namespace", ""));
  }
  if (!errs.empty()) return InvalidError(c.key.group, c.kind, m->name(), errs);
  const std::string name = m->name();
  const std::string key = StorageKey(c, m->namespace_(), name);

  std::unique_lock<std::shared_mutex> l(mu_);
  Object current;
  if (auto it = (*rs)->objects.find(key); it != (*rs)->objects.end()) {
    current = it->second.versions.back().object;
  }
  if (current == nullptr) {
    if (!options.allow_create) return NotFoundError(c.key, name);
    m->clear_resourceversion();
    if (absl::Status s = PrepareForCreate(c, m, clock_->Now()); !s.ok()) return s;
    return CreateLocked(**rs, std::move(object), options.dry_run);
  }
  const ObjectMeta& cm = MetaOf(*current);
  if (!m->uid().empty() && m->uid() != cm.uid()) {
    return ConflictError(
        c.key, name,
        InvalidObjectDetail(c, key,
                            absl::StrCat("Precondition failed: UID in precondition: ", m->uid(),
                                         ", UID in object meta: ", cm.uid())));
  }
  if (m->resourceversion().empty()) {
    if (!c.allow_unconditional_update) {
      return InvalidError(c.key.group, c.kind, name,
                          {FieldError{"FieldValueInvalid", "metadata.resourceVersion",
                                      "Invalid value: 0: must be specified for an update"}});
    }
  } else if (m->resourceversion() != cm.resourceversion()) {
    return ConflictError(c.key, name);
  }
  return UpdateLocked(**rs, key, std::move(object), current, options.dry_run);
}

absl::StatusOr<UpdateResult> Store::Update(const ResourceKey& resource, const Message& object,
                                           const UpdateOptions& options) {
  return Update(resource, CopyObject(object), options);
}

absl::StatusOr<UpdateResult> Store::GuaranteedUpdate(const ResourceKey& resource,
                                                     absl::string_view ns, absl::string_view name,
                                                     const UpdateFunc& update,
                                                     const GuaranteedUpdateOptions& options) {
  absl::StatusOr<ResourceState*> rs = Resource(resource);
  if (!rs.ok()) return rs.status();
  const ResourceConfig& c = *(*rs)->config;
  const std::string key = StorageKey(c, ns, name);
  const int attempts = std::max(options.max_attempts, 1);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    Object current;
    {
      std::shared_lock<std::shared_mutex> l(mu_);
      if (auto it = (*rs)->objects.find(key); it != (*rs)->objects.end()) {
        current = it->second.versions.back().object;
      }
    }
    if (current == nullptr && !options.ignore_not_found) return NotFoundError(c.key, name);
    if (current != nullptr) {
      const ObjectMeta& cm = MetaOf(*current);
      const Preconditions& p = options.preconditions;
      if (p.uid.has_value() && *p.uid != cm.uid()) {
        return ConflictError(
            c.key, name,
            InvalidObjectDetail(c, key,
                                absl::StrCat("Precondition failed: UID in precondition: ", *p.uid,
                                             ", UID in object meta: ", cm.uid())));
      }
      if (p.resource_version.has_value() && *p.resource_version != cm.resourceversion()) {
        return ConflictError(
            c.key, name,
            InvalidObjectDetail(
                c, key,
                absl::StrCat("Precondition failed: ResourceVersion in precondition: ",
                             *p.resource_version,
                             ", ResourceVersion in object meta: ", cm.resourceversion())));
      }
    }
    absl::StatusOr<std::unique_ptr<Message>> next = update(current.get());
    if (!next.ok()) return next.status();
    std::unique_ptr<Message> object = *std::move(next);
    if (object != nullptr) {
      if (absl::Status s = CheckType(c, object.get()); !s.ok()) return s;
      if (!options.assume_canonical) {
        if (absl::Status s = kslice::codec::Canonicalize(object.get()); !s.ok()) {
          return BadRequestError(s.message());
        }
      }
      ObjectMeta* m = MutableMetaOf(object.get());
      m->set_name(std::string(name));
      if (c.namespaced) {
        m->set_namespace_(std::string(ns));
      } else {
        m->clear_namespace_();
      }
    }

    std::unique_lock<std::shared_mutex> l(mu_);
    Object latest;
    if (auto it = (*rs)->objects.find(key); it != (*rs)->objects.end()) {
      latest = it->second.versions.back().object;
    }
    if (latest != current) continue;  // someone else wrote: run the function again
    if (object == nullptr) {
      if (current == nullptr) return NotFoundError(c.key, name);
      if (options.dry_run) return UpdateResult{current, false, /*deleted=*/true};
      const uint64_t rv = rv_ + 1;
      if (absl::Status s = CommitLocked(**rs, key, EventType::kDeleted, nullptr, current, rv);
          !s.ok()) {
        return s;
      }
      return UpdateResult{current, false, /*deleted=*/true};
    }
    ObjectMeta* m = MutableMetaOf(object.get());
    if (current == nullptr) {
      m->clear_resourceversion();
      if (absl::Status s = PrepareForCreate(c, m, clock_->Now()); !s.ok()) return s;
      return CreateLocked(**rs, std::move(object), options.dry_run);
    }
    return UpdateLocked(**rs, key, std::move(object), current, options.dry_run,
                        options.keep_generation);
  }
  return ConflictError(c.key, name);
}

absl::StatusOr<Object> Store::Delete(const ResourceKey& resource, absl::string_view ns,
                                     absl::string_view name, const DeleteOptions& options) {
  absl::StatusOr<ResourceState*> rs = Resource(resource);
  if (!rs.ok()) return rs.status();
  const ResourceConfig& c = *(*rs)->config;
  const std::string key = StorageKey(c, ns, name);
  std::unique_lock<std::shared_mutex> l(mu_);
  Object current;
  if (auto it = (*rs)->objects.find(key); it != (*rs)->objects.end()) {
    current = it->second.versions.back().object;
  }
  if (current == nullptr) return NotFoundError(c.key, name);
  const ObjectMeta& cm = MetaOf(*current);
  // upstream's rest.BeforeDelete names the Kind where the resource usually goes.
  const ResourceKey kind_as_resource{c.key.group, c.kind};
  const Preconditions& p = options.preconditions;
  if (p.uid.has_value() && *p.uid != cm.uid()) {
    return ConflictError(kind_as_resource, name,
                         absl::StrCat("the UID in the precondition (", *p.uid,
                                      ") does not match the UID in record (", cm.uid(),
                                      "). The object might have been deleted and then recreated"));
  }
  if (p.resource_version.has_value() && *p.resource_version != cm.resourceversion()) {
    return ConflictError(kind_as_resource, name,
                         absl::StrCat("the ResourceVersion in the precondition (",
                                      *p.resource_version,
                                      ") does not match the ResourceVersion in record (",
                                      cm.resourceversion(), "). The object might have been modified"));
  }
  if (options.dry_run) return current;
  const uint64_t rv = rv_ + 1;
  if (absl::Status s = CommitLocked(**rs, key, EventType::kDeleted, nullptr, current, rv);
      !s.ok()) {
    return s;
  }
  return current;
}

// ---- reads ----

absl::StatusOr<Object> Store::Get(const ResourceKey& resource, absl::string_view ns,
                                  absl::string_view name, const GetOptions& options) const {
  absl::StatusOr<ResourceState*> rs = Resource(resource);
  if (!rs.ok()) return rs.status();
  const ResourceConfig& c = *(*rs)->config;
  absl::StatusOr<uint64_t> min_rv = ParseResourceVersion(options.resource_version);
  if (!min_rv.ok()) return min_rv.status();
  if (*min_rv > 0) {
    if (absl::Status s = WaitForResourceVersion(*min_rv); !s.ok()) return s;
  }
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = (*rs)->objects.find(StorageKey(c, ns, name));
  if (it == (*rs)->objects.end() || it->second.versions.back().object == nullptr) {
    return NotFoundError(c.key, name);
  }
  return it->second.versions.back().object;
}

absl::StatusOr<ListResult> Store::List(const ResourceKey& resource,
                                       const ListOptions& options) const {
  absl::StatusOr<ResourceState*> rsor = Resource(resource);
  if (!rsor.ok()) return rsor.status();
  const ResourceState& rs = **rsor;
  const ResourceConfig& c = *rs.config;
  if (absl::Status s = ValidateListOptions(options, /*watch=*/false, options_.watch_list_enabled);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<kslice::fields::Selector> fields =
      ConvertFieldSelector(c, options.field_selector);
  if (!fields.ok()) return fields.status();
  const std::string prefix = c.namespaced && !options.ns.empty() ? options.ns + "/" : "";

  std::optional<uint64_t> exact;  // the snapshot to read; nullopt = latest
  uint64_t minimum = 0;           // "not older than"
  int64_t limit = std::max<int64_t>(options.limit, 0);
  std::string start = prefix;
  std::optional<std::string> continue_from;  // the token's start key
  if (!options.continue_token.empty()) {
    absl::StatusOr<ContinueToken> token = DecodeContinueToken(options.continue_token);
    if (!token.ok()) {
      return BadRequestError(absl::StrCat("invalid continue token: ", token.status().message()));
    }
    if (!options.resource_version.empty() && options.resource_version != "0") {
      return BadRequestError("specifying resource version is not allowed when using continue");
    }
    start = prefix + token->start_key;
    continue_from = token->start_key;
    if (token->resource_version > 0) exact = static_cast<uint64_t>(token->resource_version);
  } else {
    absl::StatusOr<uint64_t> rv = ParseResourceVersion(options.resource_version);
    if (!rv.ok()) return rv.status();
    if (options.resource_version_match == ResourceVersionMatch::kExact) {
      exact = *rv;
    } else if (*rv == 0) {
      // "0": served from the watch cache upstream, which ignores the limit.
      if (!options.resource_version.empty()) limit = 0;
    } else if (options.resource_version_match == ResourceVersionMatch::kUnset && limit > 0) {
      exact = *rv;  // the legacy rule: RV + limit without a match means Exact
    } else {
      minimum = *rv;
    }
  }
  if (exact.has_value()) minimum = *exact;
  if (minimum > 0) {
    if (absl::Status s = WaitForResourceVersion(minimum); !s.ok()) return s;
  }

  std::shared_lock<std::shared_mutex> l(mu_);
  uint64_t snapshot = rv_;
  if (exact.has_value()) {
    if (*exact < horizon_) {
      if (continue_from.has_value()) {
        return ExpiredError(kInconsistentContinue, EncodeContinueToken(-1, *continue_from));
      }
      return ExpiredError(kListTooOld);
    }
    snapshot = *exact;
  }
  // The version a key held at `snapshot`, or nullptr when it did not exist then.
  auto at_snapshot = [snapshot](const KeyHistory& h) -> const Version* {
    const auto& v = h.versions;
    if (v.back().rv <= snapshot) return v.back().object != nullptr ? &v.back() : nullptr;
    auto it = std::upper_bound(v.begin(), v.end(), snapshot,
                               [](uint64_t rv, const Version& x) { return rv < x.rv; });
    if (it == v.begin()) return nullptr;
    --it;
    return it->object != nullptr ? &*it : nullptr;
  };
  const kslice::labels::Selector& label_selector = options.label_selector;
  const bool select = !label_selector.Empty() || !fields->Empty();

  ListResult out;
  out.resource_version = snapshot;
  const std::string* last_key = nullptr;
  bool more = false;
  auto it = rs.objects.lower_bound(start);
  for (; it != rs.objects.end() && absl::StartsWith(it->first, prefix); ++it) {
    const Version* v = at_snapshot(it->second);
    if (v == nullptr) continue;
    if (limit > 0 && static_cast<int64_t>(out.items.size()) == limit) {
      more = true;
      break;
    }
    if (select) {
      if (!label_selector.Empty() &&
          !label_selector.Matches([&v](const std::string& key) { return FindLabel(v->labels, key); })) {
        continue;
      }
      if (!MatchesFields(c, *fields, *v->object)) continue;
    }
    out.items.push_back(v->object);
    last_key = &it->first;
  }
  if (!more || last_key == nullptr) return out;

  std::string next = last_key->substr(prefix.size());
  next.push_back('\0');
  out.continue_token = EncodeContinueToken(static_cast<int64_t>(snapshot), next);
  if (select) return out;  // upstream gives no count with selectors
  // Without selectors every live key is an item, so the keys this page consumed are
  // its items. Known totals: the latest state's live counts (first pages), or the
  // count the previous page of this snapshot left (continuations); else count.
  const auto consumed = static_cast<int64_t>(out.items.size());
  std::optional<int64_t> remaining;
  if (start == prefix && snapshot == rv_) {
    int64_t total = rs.live;
    if (!prefix.empty()) {
      auto n = rs.live_by_namespace.find(options.ns);
      total = n == rs.live_by_namespace.end() ? 0 : n->second;
    }
    remaining = total - consumed;
  } else {
    std::lock_guard<std::mutex> g(remaining_mu_);
    for (const RemainingCount& r : remaining_cache_) {
      if (r.resource == &rs && r.snapshot == snapshot && r.prefix == prefix && r.start == start) {
        remaining = r.count - consumed;
        break;
      }
    }
  }
  if (!remaining.has_value()) {
    int64_t n = 0;
    for (; it != rs.objects.end() && absl::StartsWith(it->first, prefix); ++it) {
      if (at_snapshot(it->second) != nullptr) ++n;
    }
    remaining = n;
  }
  out.remaining_item_count = remaining;
  {
    std::lock_guard<std::mutex> g(remaining_mu_);
    remaining_cache_.push_back(RemainingCount{&rs, snapshot, prefix, prefix + next, *remaining});
    if (remaining_cache_.size() > kRemainingCacheSize) remaining_cache_.pop_front();
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Watcher>> Store::Watch(const ResourceKey& resource,
                                                      const ListOptions& options) {
  absl::StatusOr<ResourceState*> rsor = Resource(resource);
  if (!rsor.ok()) return rsor.status();
  ResourceState& rs = **rsor;
  const ResourceConfig& c = *rs.config;
  if (absl::Status s = ValidateListOptions(options, /*watch=*/true, options_.watch_list_enabled);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<kslice::fields::Selector> fields =
      ConvertFieldSelector(c, options.field_selector);
  if (!fields.ok()) return fields.status();
  absl::StatusOr<uint64_t> rv = ParseResourceVersion(options.resource_version);
  if (!rv.ok()) return rv.status();

  WatcherState::Params p;
  p.resource = &c;
  p.ns = c.namespaced ? options.ns : "";
  p.labels = options.label_selector;
  p.fields = *std::move(fields);
  p.bookmarks = options.allow_watch_bookmarks;
  p.capacity =
      options.watch_queue_capacity > 0 ? options.watch_queue_capacity : options_.watch_queue_capacity;
  p.bookmark_interval = options_.bookmark_interval;
  p.clock = clock_;
  p.committed_rv = committed_;
  p.prototype = c.prototype;

  enum class Mode { kInitialState, kFromNow, kFromRv };
  Mode mode;
  bool end_bookmark = false;
  if (options.send_initial_events.has_value()) {
    if (*options.send_initial_events) {
      mode = Mode::kInitialState;
      end_bookmark = options.allow_watch_bookmarks;
    } else {
      mode = *rv == 0 ? Mode::kFromNow : Mode::kFromRv;
    }
  } else {
    mode = *rv == 0 ? Mode::kInitialState : Mode::kFromRv;
  }

  auto error_watch = [&p](const absl::Status& error) {
    p.bookmarks = false;
    auto st = std::make_shared<WatcherState>(std::move(p));
    st->SetInitial({WatchEvent{EventType::kError, MetaStatusObject(error), 0}});
    st->Terminate(error);
    return std::make_unique<Watcher>(std::move(st));
  };

  if (mode == Mode::kInitialState && *rv > 0) {
    if (absl::Status s = WaitForResourceVersion(*rv); !s.ok()) return error_watch(s);
  }

  std::unique_lock<std::shared_mutex> l(mu_);
  std::vector<WatchEvent> initial;
  if (mode == Mode::kFromRv) {
    if (*rv < horizon_) {
      const uint64_t horizon = horizon_;
      l.unlock();
      return error_watch(
          ExpiredError(absl::StrCat("too old resource version: ", *rv, " (", horizon, ")")));
    }
    p.start_rv = std::max(*rv, rv_);
    auto it = std::lower_bound(log_.begin(), log_.end(), *rv + 1,
                               [](const LogEntry& e, uint64_t v) { return e.rv < v; });
    for (; it != log_.end(); ++it) {
      if (it->resource != &rs) continue;
      std::optional<WatchEvent> ev = EventFor(p, it->object, it->prev, it->type, it->rv,
                                              &it->prev_at_rv);
      if (ev.has_value()) initial.push_back(*std::move(ev));
    }
  } else {
    p.start_rv = rv_;
    if (mode == Mode::kInitialState) {
      const std::string prefix = p.ns.empty() ? "" : p.ns + "/";
      for (auto it = rs.objects.lower_bound(prefix);
           it != rs.objects.end() && absl::StartsWith(it->first, prefix); ++it) {
        const Version& v = it->second.versions.back();
        if (v.object != nullptr && Matches(p, *v.object)) {
          initial.push_back(WatchEvent{EventType::kAdded, v.object, v.rv});
        }
      }
      if (end_bookmark) {
        std::unique_ptr<Message> obj(c.prototype->New());
        ObjectMeta* m = MutableMetaOf(obj.get());
        m->set_resourceversion(absl::StrCat(rv_));
        (*m->mutable_annotations())[std::string(kInitialEventsEndAnnotation)] = "true";
        initial.push_back(WatchEvent{EventType::kBookmark, Object(std::move(obj)), rv_});
      }
    }
  }
  // Drop watchers that ended since the last write.
  rs.watchers.erase(std::remove_if(rs.watchers.begin(), rs.watchers.end(),
                                   [](const auto& w) { return w->closed(); }),
                    rs.watchers.end());
  auto state = std::make_shared<WatcherState>(std::move(p));
  state->SetInitial(std::move(initial));
  rs.watchers.push_back(state);
  return std::make_unique<Watcher>(std::move(state));
}

uint64_t Store::CurrentResourceVersion() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return rv_;
}

uint64_t Store::CompactedResourceVersion() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return horizon_;
}

size_t Store::WatcherCount(const ResourceKey& resource) const {
  auto it = resources_.find(resource);
  if (it == resources_.end()) return 0;
  std::shared_lock<std::shared_mutex> l(mu_);
  size_t n = 0;
  for (const auto& w : it->second->watchers) n += w->closed() ? 0 : 1;
  return n;
}

}  // namespace kslice::envtest::storage
