#include "informers/cache/indexer.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kslice::informers {
namespace {

template <typename Container, typename T>
bool Has(const Container& c, const T& v) {
  return std::find(c.begin(), c.end(), v) != c.end();
}

absl::Status UnknownIndex(absl::string_view index) {
  return absl::NotFoundError(absl::StrCat("index with name ", index, " does not exist"));
}

}  // namespace

std::vector<std::string> NamespaceIndexFunc(const google::protobuf::Message& object) {
  return {MetaOf(object).namespace_()};
}

Indexer::Indexer(Indexers indexers, CacheMode mode) : mode_(mode) {
  for (auto& [name, func] : indexers) indices_[name].func = std::move(func);
}

Indexer::~Indexer() {
  // Decoded instances may outlive us; their deleters must not touch our entries.
  std::lock_guard<std::mutex> lock(memo_->mu);
  memo_->live.clear();
}

void Indexer::MemoDeleter::operator()(const google::protobuf::Message* message) const {
  {
    std::lock_guard<std::mutex> lock(state->mu);
    auto it = state->live.find(entry);
    // The entry still exists and remembers this very instance (an erased or rewritten
    // entry was removed from `live` first).
    if (it != state->live.end() && it->second == message) {
      it->first->memo.reset();
      state->live.erase(it);
    }
  }
  delete arena;  // owns `message`
}

void Indexer::ForgetMemoLocked(Entry& entry) {
  std::lock_guard<std::mutex> lock(memo_->mu);
  memo_->live.erase(&entry);
  entry.memo.reset();  // never runs a deleter: only weak references go
}

size_t Indexer::decoded_count() const {
  std::lock_guard<std::mutex> lock(memo_->mu);
  return memo_->live.size();
}

const google::protobuf::Message* Indexer::PrototypeLocked(const google::protobuf::Message& object) {
  std::unique_ptr<google::protobuf::Message>& p = prototypes_[object.GetDescriptor()];
  if (p == nullptr) p.reset(object.New());
  return p.get();
}

std::vector<Indexer::IndexData*> Indexer::AllIndexesLocked() {
  std::vector<IndexData*> out;
  out.reserve(indices_.size());
  for (auto& [name, index] : indices_) out.push_back(&index);
  return out;
}

void Indexer::BucketsFor(const google::protobuf::Message& object, const std::vector<IndexData*>& indexes,
                         absl::InlinedVector<BucketNode*, 1>* out) {
  for (IndexData* index : indexes) {
    if (!index->func) continue;
    for (std::string& value : index->func(object)) {
      auto it = index->buckets.find(value);
      if (it == index->buckets.end()) {
        it = index->buckets.emplace(std::move(value), Bucket{index, {}}).first;
      }
      BucketNode* node = &*it;
      if (!Has(*out, node)) out->push_back(node);
    }
  }
}

void Indexer::Unbucket(BucketNode* node, absl::string_view key) {
  Bucket& bucket = node->second;
  bucket.keys.erase(key);
  if (bucket.keys.empty()) {
    // Drop empty sets so a churn of index values does not leak (as upstream does).
    auto it = bucket.index->buckets.find(node->first);
    if (it != bucket.index->buckets.end()) bucket.index->buckets.erase(it);
  }
}

void Indexer::PutLocked(ObjectPtr obj) {
  auto [it, inserted] = items_.try_emplace(KeyOf(*obj));
  const absl::string_view key = it->first;
  Entry& entry = it->second;

  absl::InlinedVector<BucketNode*, 1> buckets;
  BucketsFor(*obj, AllIndexesLocked(), &buckets);
  for (BucketNode* old : entry.buckets) {
    if (!Has(buckets, old)) Unbucket(old, key);
  }
  for (BucketNode* node : buckets) {
    if (!Has(entry.buckets, node)) node->second.keys.insert(key);
  }
  entry.buckets = std::move(buckets);

  if (mode_ == CacheMode::kCompact) {
    ForgetMemoLocked(entry);
    std::string bytes;
    if (obj->SerializeToString(&bytes)) {
      if (bytes.capacity() > bytes.size()) bytes.shrink_to_fit();
      entry.bytes = std::move(bytes);
      entry.prototype = PrototypeLocked(*obj);
      entry.object.reset();
      return;
    }
    // Not serializable (a proto2 message missing required fields): keep it decoded.
    entry.bytes = std::string();
    entry.prototype = nullptr;
    entry.memo.reset();
  }
  entry.object = std::move(obj);
}

void Indexer::EraseLocked(absl::string_view key) {
  auto it = items_.find(key);
  if (it == items_.end()) return;
  for (BucketNode* node : it->second.buckets) Unbucket(node, it->first);
  ForgetMemoLocked(it->second);
  items_.erase(it);
}

ObjectPtr Indexer::Materialize(const Entry& entry) const {
  if (entry.object != nullptr) return entry.object;
  if (entry.prototype == nullptr) return nullptr;
  {
    std::lock_guard<std::mutex> lock(memo_->mu);
    if (ObjectPtr live = entry.memo.lock()) return live;
  }
  // Decode outside the memo lock, so readers of different objects decode in parallel. Two
  // readers of one object may both decode; the first to publish wins.
  // On an arena whose first block fits the whole decoded message: one malloc instead of
  // one per field, and a cheap free. The block is sized from the decoded/serialized ratio
  // seen so far (a block too small would make the arena add one twice its size).
  const size_t size = entry.bytes.size();
  const uint32_t ratio = decode_ratio_x16_.load(std::memory_order_relaxed);
  google::protobuf::ArenaOptions options;
  options.start_block_size = std::clamp<size_t>(size * ratio / 16 + 512, 1024, 256 << 10);
  options.max_block_size = 256 << 10;
  auto arena = std::make_unique<google::protobuf::Arena>(options);
  google::protobuf::Message* decoded = entry.prototype->New(arena.get());
  if (!decoded->ParseFromString(entry.bytes)) return nullptr;  // bytes we serialized: never
  const uint64_t measured = arena->SpaceUsed() * 16 / std::max<size_t>(size, 1) + 1;
  if (measured > ratio) {
    decode_ratio_x16_.store(static_cast<uint32_t>(std::min<uint64_t>(measured, 1024 * 16)),
                            std::memory_order_relaxed);
  } else if (measured + ratio / 8 < ratio) {  // decay slowly towards smaller objects
    decode_ratio_x16_.store(ratio - static_cast<uint32_t>((ratio - measured) / 16),
                            std::memory_order_relaxed);
  }
  const google::protobuf::Message* raw = decoded;
  ObjectPtr fresh(decoded, MemoDeleter{memo_, &entry, arena.release()});
  ObjectPtr winner;
  {
    std::lock_guard<std::mutex> lock(memo_->mu);
    winner = entry.memo.lock();
    if (winner == nullptr) {
      entry.memo = fresh;
      memo_->live[&entry] = raw;
      return fresh;
    }
  }
  return winner;  // `fresh` is dropped here, outside the lock its deleter takes
}

void Indexer::Add(ObjectPtr obj) {
  if (obj == nullptr) return;
  std::unique_lock<std::shared_mutex> lock(mu_);
  PutLocked(std::move(obj));
}

void Indexer::Update(ObjectPtr obj) { Add(std::move(obj)); }

void Indexer::Delete(absl::string_view key) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  EraseLocked(key);
}

void Indexer::Replace(std::vector<ObjectPtr> objects) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  {
    std::lock_guard<std::mutex> memo_lock(memo_->mu);
    memo_->live.clear();
  }
  for (auto& [name, index] : indices_) index.buckets.clear();
  items_.clear();
  items_.reserve(objects.size());
  for (ObjectPtr& obj : objects) {
    if (obj != nullptr) PutLocked(std::move(obj));
  }
}

ObjectPtr Indexer::Get(absl::string_view key) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  return Materialize(it->second);
}

bool Indexer::Contains(absl::string_view key) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return items_.contains(key);
}

std::vector<ObjectPtr> Indexer::List() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [key, entry] : items_) {
    if (ObjectPtr obj = Materialize(entry)) out.push_back(std::move(obj));
  }
  return out;
}

std::vector<std::string> Indexer::ListKeys() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [key, entry] : items_) out.push_back(key);
  return out;
}

absl::StatusOr<std::vector<std::string>> Indexer::IndexKeys(absl::string_view index,
                                                            absl::string_view value) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto idx = indices_.find(index);
  if (idx == indices_.end()) return UnknownIndex(index);
  std::vector<std::string> out;
  auto bucket = idx->second.buckets.find(value);
  if (bucket == idx->second.buckets.end()) return out;
  out.reserve(bucket->second.keys.size());
  for (absl::string_view key : bucket->second.keys) out.emplace_back(key);
  return out;
}

absl::StatusOr<std::vector<ObjectPtr>> Indexer::ByIndex(absl::string_view index,
                                                        absl::string_view value) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto idx = indices_.find(index);
  if (idx == indices_.end()) return UnknownIndex(index);
  std::vector<ObjectPtr> out;
  auto bucket = idx->second.buckets.find(value);
  if (bucket == idx->second.buckets.end()) return out;
  out.reserve(bucket->second.keys.size());
  for (absl::string_view key : bucket->second.keys) {
    auto it = items_.find(key);
    if (it == items_.end()) continue;  // cannot happen: buckets follow items_
    if (ObjectPtr obj = Materialize(it->second)) out.push_back(std::move(obj));
  }
  return out;
}

absl::StatusOr<std::vector<ObjectPtr>> Indexer::Index(absl::string_view index,
                                                      const google::protobuf::Message& object) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto idx = indices_.find(index);
  if (idx == indices_.end()) return UnknownIndex(index);
  std::vector<ObjectPtr> out;
  if (!idx->second.func) return out;
  absl::flat_hash_set<absl::string_view> seen;
  for (const std::string& value : idx->second.func(object)) {
    auto bucket = idx->second.buckets.find(value);
    if (bucket == idx->second.buckets.end()) continue;
    for (absl::string_view key : bucket->second.keys) {
      if (!seen.insert(key).second) continue;
      auto it = items_.find(key);
      if (it == items_.end()) continue;
      if (ObjectPtr obj = Materialize(it->second)) out.push_back(std::move(obj));
    }
  }
  return out;
}

std::vector<std::string> Indexer::ListIndexFuncValues(absl::string_view index) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::vector<std::string> out;
  auto idx = indices_.find(index);
  if (idx == indices_.end()) return out;
  out.reserve(idx->second.buckets.size());
  for (const auto& [value, bucket] : idx->second.buckets) out.push_back(value);
  return out;
}

std::vector<std::string> Indexer::IndexerNames() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, index] : indices_) out.push_back(name);
  return out;
}

absl::Status Indexer::AddIndexers(Indexers more) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  std::vector<std::string> conflicts;
  for (const auto& [name, func] : more) {
    if (indices_.contains(name)) conflicts.push_back(name);
  }
  if (!conflicts.empty()) {
    return absl::AlreadyExistsError(
        absl::StrCat("indexer conflict: ", absl::StrJoin(conflicts, ", ")));
  }
  std::vector<IndexData*> added;
  for (auto& [name, func] : more) {
    IndexData& index = indices_[name];
    index.func = std::move(func);
    added.push_back(&index);
  }
  for (auto& [key, entry] : items_) {
    ObjectPtr obj = Materialize(entry);
    if (obj == nullptr) continue;
    absl::InlinedVector<BucketNode*, 1> buckets;
    BucketsFor(*obj, added, &buckets);
    for (BucketNode* node : buckets) {
      node->second.keys.insert(absl::string_view(key));
      entry.buckets.push_back(node);
    }
  }
  return absl::OkStatus();
}

size_t Indexer::size() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return items_.size();
}

}  // namespace kslice::informers
