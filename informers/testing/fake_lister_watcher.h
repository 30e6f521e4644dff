// A ListerWatcher over an in-memory "server" of ConfigMaps, for unit tests: a resource
// version counter, a change history that watches replay from any version, compaction
// (older versions get 410 Expired), paging with continue tokens, bookmarks, streaming
// lists, scripted errors, and a record of every request.
#ifndef KSLICE_INFORMERS_TESTING_FAKE_LISTER_WATCHER_H_
#define KSLICE_INFORMERS_TESTING_FAKE_LISTER_WATCHER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/core/v1/core.pb.h"
#include "client/errors/errors.h"
#include "informers/lister_watcher.h"

namespace kslice::informers::testing {

using api::core::v1::ConfigMap;
using client::watch::EventType;

inline ConfigMap MakeConfigMap(const std::string& ns, const std::string& name,
                               const std::string& value = "v") {
  ConfigMap cm;
  cm.mutable_metadata()->set_namespace_(ns);
  cm.mutable_metadata()->set_name(name);
  (*cm.mutable_data())["k"] = value;
  return cm;
}

inline absl::Status ExpiredError(int64_t rv) {
  return client::ToStatus(
      client::NewResourceExpired(absl::StrCat("too old resource version: ", rv)));
}

class FakeListerWatcher : public ListerWatcher {
 public:
  explicit FakeListerWatcher(bool supports_watch_list = false)
      : supports_watch_list_(supports_watch_list) {}

  // ---- server side ----
  // Creates or updates; returns the new resourceVersion.
  int64_t Upsert(ConfigMap cm) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string key = Key(cm);
    bool exists = objects_.count(key) > 0;
    cm.mutable_metadata()->set_resourceversion(absl::StrCat(++rv_));
    objects_[key] = cm;
    history_.push_back({rv_, exists ? EventType::kModified : EventType::kAdded, cm});
    cv_.notify_all();
    return rv_;
  }
  int64_t Remove(const std::string& ns, const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(ns.empty() ? name : ns + "/" + name);
    if (it == objects_.end()) return rv_;
    ConfigMap last = it->second;
    objects_.erase(it);
    last.mutable_metadata()->set_resourceversion(absl::StrCat(++rv_));
    history_.push_back({rv_, EventType::kDeleted, last});
    cv_.notify_all();
    return rv_;
  }
  // Changes without history (what a watch that was away never sees).
  void UpsertSilently(ConfigMap cm) {
    std::lock_guard<std::mutex> lock(mu_);
    cm.mutable_metadata()->set_resourceversion(absl::StrCat(++rv_));
    objects_[Key(cm)] = cm;
  }
  void RemoveSilently(const std::string& ns, const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    objects_.erase(ns + "/" + name);
    ++rv_;
  }
  void SendBookmark() {
    std::lock_guard<std::mutex> lock(mu_);
    ConfigMap b;
    b.mutable_metadata()->set_resourceversion(absl::StrCat(++rv_));
    history_.push_back({rv_, EventType::kBookmark, b});
    cv_.notify_all();
  }
  // Watches from versions below the current one get 410 Expired.
  void Compact() {
    std::lock_guard<std::mutex> lock(mu_);
    compacted_ = rv_;
  }
  // Ends every open watch cleanly (as a server timeout does).
  void EndWatches() {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
    cv_.notify_all();
  }
  // The next List / Watch calls return these errors (in order) instead of answering.
  void FailLists(std::vector<absl::Status> errors) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& e : errors) list_errors_.push_back(std::move(e));
  }
  void FailWatches(std::vector<absl::Status> errors) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& e : errors) watch_errors_.push_back(std::move(e));
  }
  // Continue tokens expire (410) from now on.
  void ExpireContinueTokens() {
    std::lock_guard<std::mutex> lock(mu_);
    expire_continue_ = true;
  }
  // Watches end right away (with OK) without events while set.
  void set_empty_watches(bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    empty_watches_ = on;
  }

  std::vector<client::ListOptions> list_calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return list_calls_;
  }
  std::vector<client::ListOptions> watch_calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return watch_calls_;
  }
  int open_watches() const {
    std::lock_guard<std::mutex> lock(mu_);
    return open_watches_;
  }
  int64_t rv() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rv_;
  }
  // Blocks until a watch is open that has caught up with the history.
  bool AwaitWatching(int n = 1, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return caught_up_watches_ >= n; });
  }

  // ---- ListerWatcher ----
  absl::StatusOr<ListResult> List(const client::ListOptions& options) override {
    std::lock_guard<std::mutex> lock(mu_);
    list_calls_.push_back(options);
    if (!list_errors_.empty()) {
      absl::Status s = list_errors_.front();
      list_errors_.pop_front();
      return s;
    }
    size_t offset = 0;
    std::string rv = absl::StrCat(rv_);
    if (!options.continue_token.empty()) {
      if (expire_continue_) return ExpiredError(0);
      std::pair<std::string, std::string> parts = SplitToken(options.continue_token);
      if (!absl::SimpleAtoi(parts.first, &offset)) {
        return absl::InvalidArgumentError("bad continue token");
      }
      rv = parts.second;
    }
    ListResult result;
    result.resource_version = rv;
    size_t i = 0;
    for (const auto& [key, cm] : objects_) {
      if (i++ < offset) continue;
      if (options.limit > 0 && result.items.size() == static_cast<size_t>(options.limit)) {
        result.continue_token = absl::StrCat(i - 1, ":", rv);
        break;
      }
      result.items.push_back(std::make_unique<ConfigMap>(cm));
    }
    return result;
  }

  absl::Status Watch(const client::ListOptions& options,
                     const std::function<absl::Status(WatchEvent)>& on_event,
                     const client::CancelToken* cancel) override {
    std::unique_lock<std::mutex> lock(mu_);
    watch_calls_.push_back(options);
    if (!watch_errors_.empty()) {
      absl::Status s = watch_errors_.front();
      watch_errors_.pop_front();
      return s;
    }
    if (empty_watches_) return absl::OkStatus();
    int64_t from = 0;
    if (!options.resource_version.empty() &&
        !absl::SimpleAtoi(options.resource_version, &from)) {
      return absl::InvalidArgumentError("bad resourceVersion");
    }
    const bool initial = options.send_initial_events.value_or(false);
    if (initial && !supports_watch_list_) {
      return client::ToStatus(client::NewBadRequest("sendInitialEvents is not supported"));
    }
    if (from != 0 && from < compacted_) {
      WatchEvent e;
      e.type = EventType::kError;
      e.error = ExpiredError(from);
      lock.unlock();
      return on_event(std::move(e));
    }
    // Deliver without holding the lock (handlers may call back into the fake).
    auto deliver = [&](WatchEvent e) {
      lock.unlock();
      absl::Status s = on_event(std::move(e));
      lock.lock();
      return s;
    };
    if (initial || from == 0) {
      // Synthetic ADDED for the current state, at the current version.
      from = rv_;
      std::vector<ConfigMap> now;
      for (const auto& [key, cm] : objects_) now.push_back(cm);
      for (auto& cm : now) {
        WatchEvent e;
        e.type = EventType::kAdded;
        e.object = std::make_unique<ConfigMap>(std::move(cm));
        if (absl::Status s = deliver(std::move(e)); !s.ok()) return s;
      }
      if (initial) {
        WatchEvent e;
        e.type = EventType::kBookmark;
        auto b = std::make_unique<ConfigMap>();
        b->mutable_metadata()->set_resourceversion(absl::StrCat(from));
        (*b->mutable_metadata()->mutable_annotations())["k8s.io/initial-events-end"] = "true";
        e.object = std::move(b);
        if (absl::Status s = deliver(std::move(e)); !s.ok()) return s;
      }
    }
    ++open_watches_;
    int generation = generation_;
    bool counted = false;
    absl::Status result = absl::OkStatus();
    while (true) {
      size_t next = 0;
      while (next < history_.size() && history_[next].rv <= from) ++next;
      if (next < history_.size()) {
        const Change& c = history_[next];
        from = c.rv;
        if (c.type == EventType::kBookmark && !options.allow_watch_bookmarks) continue;
        WatchEvent e;
        e.type = c.type;
        e.object = std::make_unique<ConfigMap>(c.object);
        if (absl::Status s = deliver(std::move(e)); !s.ok()) {
          result = s;
          break;
        }
        continue;
      }
      if (!counted) {
        counted = true;
        ++caught_up_watches_;
        cv_.notify_all();
      }
      if (cancel != nullptr && cancel->cancelled()) {
        result = absl::CancelledError("watch cancelled");
        break;
      }
      if (generation != generation_) break;
      cv_.wait_for(lock, std::chrono::milliseconds(2));
    }
    if (counted) --caught_up_watches_;
    --open_watches_;
    return result;
  }

  bool SupportsWatchList() const override { return supports_watch_list_; }

 private:
  struct Change {
    int64_t rv;
    EventType type;
    ConfigMap object;
  };
  static std::string Key(const ConfigMap& cm) {
    return cm.metadata().namespace_().empty()
               ? cm.metadata().name()
               : cm.metadata().namespace_() + "/" + cm.metadata().name();
  }
  static std::pair<std::string, std::string> SplitToken(const std::string& t) {
    size_t colon = t.find(':');
    if (colon == std::string::npos) return {t, ""};
    return {t.substr(0, colon), t.substr(colon + 1)};
  }

  const bool supports_watch_list_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t rv_ = 0;
  int64_t compacted_ = 0;
  std::map<std::string, ConfigMap> objects_;
  std::vector<Change> history_;
  std::deque<absl::Status> list_errors_;
  std::deque<absl::Status> watch_errors_;
  bool expire_continue_ = false;
  bool empty_watches_ = false;
  int generation_ = 0;
  int open_watches_ = 0;
  int caught_up_watches_ = 0;
  std::vector<client::ListOptions> list_calls_;
  std::vector<client::ListOptions> watch_calls_;
};

}  // namespace kslice::informers::testing

#endif  // KSLICE_INFORMERS_TESTING_FAKE_LISTER_WATCHER_H_
