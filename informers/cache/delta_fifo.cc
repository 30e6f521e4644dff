#include "informers/cache/delta_fifo.h"

#include <utility>

#include "absl/container/flat_hash_set.h"

namespace kslice::informers {

absl::string_view DeltaTypeName(DeltaType type) {
  switch (type) {
    case DeltaType::kAdded:
      return "Added";
    case DeltaType::kUpdated:
      return "Updated";
    case DeltaType::kDeleted:
      return "Deleted";
    case DeltaType::kReplaced:
      return "Replaced";
    case DeltaType::kSync:
      return "Sync";
  }
  return "Unknown";
}

DeltaFifo::DeltaFifo(const Indexer* known_objects, TransformFunc transform)
    : known_objects_(known_objects), transform_(std::move(transform)) {}

ObjectPtr DeltaFifo::Transform(ObjectPtr obj) const {
  if (obj == nullptr || !transform_) return obj;
  return transform_(std::move(obj));
}

void DeltaFifo::CheckSyncedLocked() {
  if (populated_ && initial_to_process_ == 0) synced_ = true;
}

void DeltaFifo::WaitIdleLocked(std::unique_lock<std::mutex>& lock) {
  ++idle_waiters_;
  cv_.wait(lock, [this] { return in_flight_ == 0; });
  --idle_waiters_;
}

void DeltaFifo::DoneIdleLocked() {
  // Pop calls held back by idle_waiters_ may go on.
  cv_.notify_all();
}

void DeltaFifo::QueueLocked(DeltaType type, ObjectPtr obj, std::string key,
                            bool final_state_unknown) {
  auto [it, inserted] = items_.try_emplace(key);
  std::vector<Delta>& deltas = it->second;
  deltas.push_back(Delta{type, std::move(obj), final_state_unknown, key});
  // Two consecutive deletions are one event: keep the older unless it is a tombstone
  // (the newer then knows more).
  const size_t n = deltas.size();
  if (n >= 2 && deltas[n - 1].type == DeltaType::kDeleted &&
      deltas[n - 2].type == DeltaType::kDeleted) {
    if (deltas[n - 2].final_state_unknown) deltas[n - 2] = std::move(deltas[n - 1]);
    deltas.pop_back();
  }
  if (inserted) queue_.push_back(std::move(key));
  cv_.notify_all();
}

void DeltaFifo::Add(ObjectPtr obj) {
  obj = Transform(std::move(obj));
  if (obj == nullptr) return;
  std::string key = KeyOf(*obj);
  std::lock_guard<std::mutex> lock(mu_);
  populated_ = true;
  CheckSyncedLocked();
  QueueLocked(DeltaType::kAdded, std::move(obj), std::move(key), false);
}

void DeltaFifo::Update(ObjectPtr obj) {
  obj = Transform(std::move(obj));
  if (obj == nullptr) return;
  std::string key = KeyOf(*obj);
  std::lock_guard<std::mutex> lock(mu_);
  populated_ = true;
  CheckSyncedLocked();
  QueueLocked(DeltaType::kUpdated, std::move(obj), std::move(key), false);
}

void DeltaFifo::Delete(ObjectPtr obj) {
  obj = Transform(std::move(obj));
  if (obj == nullptr) return;
  std::string key = KeyOf(*obj);
  std::unique_lock<std::mutex> lock(mu_);
  WaitIdleLocked(lock);
  populated_ = true;
  CheckSyncedLocked();
  const bool queued = items_.contains(key);
  const bool known = known_objects_ != nullptr && known_objects_->Contains(key);
  // Neither queued nor known: already reported deleted (e.g. by a relist).
  if (queued || known) QueueLocked(DeltaType::kDeleted, std::move(obj), std::move(key), false);
  DoneIdleLocked();
}

void DeltaFifo::Replace(std::vector<ObjectPtr> objects) {
  std::vector<ObjectPtr> transformed;
  transformed.reserve(objects.size());
  for (ObjectPtr& obj : objects) {
    if (ObjectPtr t = Transform(std::move(obj))) transformed.push_back(std::move(t));
  }
  objects.clear();

  std::unique_lock<std::mutex> lock(mu_);
  WaitIdleLocked(lock);
  absl::flat_hash_set<std::string> keys;
  keys.reserve(transformed.size());
  for (ObjectPtr& obj : transformed) {
    std::string key = KeyOf(*obj);
    keys.insert(key);
    QueueLocked(DeltaType::kReplaced, std::move(obj), std::move(key), false);
  }

  // Queued keys missing from the list were deleted while we were not watching; the
  // tombstone carries the newest queued state. (Upstream walks a Go map, so its order is
  // random; we go in queue order.)
  int queued_deletions = 0;
  for (size_t i = 0, n = queue_.size(); i < n; ++i) {
    const std::string& key = queue_[i];
    if (keys.contains(key)) continue;
    auto it = items_.find(key);
    ObjectPtr last;
    if (it != items_.end() && !it->second.empty()) last = it->second.back().object;
    ++queued_deletions;
    QueueLocked(DeltaType::kDeleted, std::move(last), std::string(key), true);
  }
  // Known keys with nothing queued and missing from the list: same, with the known state.
  if (known_objects_ != nullptr) {
    for (std::string& key : known_objects_->ListKeys()) {
      if (keys.contains(key)) continue;
      auto it = items_.find(key);
      if (it != items_.end() && !it->second.empty()) continue;
      ObjectPtr last = known_objects_->Get(key);  // null if it vanished meanwhile
      ++queued_deletions;
      QueueLocked(DeltaType::kDeleted, std::move(last), std::move(key), true);
    }
  }

  if (!populated_) {
    populated_ = true;
    initial_to_pop_ = static_cast<int>(keys.size()) + queued_deletions;
    initial_to_process_ = initial_to_pop_;
    CheckSyncedLocked();
  }
  DoneIdleLocked();
}

void DeltaFifo::Resync() {
  if (known_objects_ == nullptr) return;
  std::unique_lock<std::mutex> lock(mu_);
  WaitIdleLocked(lock);
  for (std::string& key : known_objects_->ListKeys()) {
    // A queued change would be followed by a Sync carrying the older, known state: skip.
    auto it = items_.find(key);
    if (it != items_.end() && !it->second.empty()) continue;
    ObjectPtr obj = known_objects_->Get(key);
    if (obj == nullptr) continue;
    QueueLocked(DeltaType::kSync, std::move(obj), std::move(key), false);
  }
  DoneIdleLocked();
}

absl::Status DeltaFifo::Pop(const ProcessFunc& process) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    while (queue_.empty() || idle_waiters_ > 0) {
      if (closed_ && queue_.empty()) return absl::CancelledError("DeltaFIFO: queue is closed");
      cv_.wait(lock);
    }
    const bool is_in_initial_list = !synced_;
    std::string key = std::move(queue_.front());
    queue_.pop_front();
    bool initial = false;
    if (initial_to_pop_ > 0) {
      --initial_to_pop_;
      initial = true;
    }
    auto it = items_.find(key);
    if (it == items_.end()) {  // cannot happen: queue_ and items_ move together
      if (initial) {
        --initial_to_process_;
        CheckSyncedLocked();
      }
      continue;
    }
    std::vector<Delta> deltas = std::move(it->second);
    items_.erase(it);
    ++in_flight_;
    lock.unlock();
    absl::Status status = process ? process(std::move(deltas), is_in_initial_list)
                                  : absl::OkStatus();
    lock.lock();
    --in_flight_;
    if (initial) {
      --initial_to_process_;
      CheckSyncedLocked();
    }
    cv_.notify_all();
    return status;
  }
}

bool DeltaFifo::HasSynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

void DeltaFifo::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

bool DeltaFifo::IsClosed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

size_t DeltaFifo::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

std::vector<std::string> DeltaFifo::ListKeys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::vector<std::string>(queue_.begin(), queue_.end());
}

std::optional<std::vector<Delta>> DeltaFifo::GetByKey(absl::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return std::nullopt;
  return it->second;
}

}  // namespace kslice::informers
