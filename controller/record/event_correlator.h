// EventCorrelator: what client-go's tools/record does to an event before writing
// it, so that a controller that repeats itself does not flood the API server.
//
//   EventCorrelator correlator({.clock = &clock});
//   EventCorrelator::Result r = correlator.Correlate(event);
//   if (r.skip) return;                       // spam filter
//   if (r.event.count() > 1) PATCH r.patch    // a repeat of an event already written
//   else CREATE r.event
//   correlator.UpdateState(written);          // remember the server's name and RV
//
// Three steps, each keyed on fields of the event and each with an LRU cache of
// `lru_size` keys (client-go's EventCorrelator):
//  1. Aggregation. Events alike but for the message (same source, object, type,
//     reason, reporting controller/instance) are counted by distinct message; once
//     `max_events` distinct messages were seen with no pause longer than
//     `max_interval` between them, the event is replaced by one with message
//     "(combined from similar events): <message>", keyed on the group rather than
//     the message, so the group becomes one Event whose count grows.
//  2. De-duplication. An event identical to one seen before (same key) becomes a
//     repeat: the earlier Event's name, resourceVersion and firstTimestamp, count + 1,
//     and a strategic merge patch {"count":N,"lastTimestamp":"...","message":"..."}.
//  3. Spam filter. A token bucket per source + object + type (burst `burst`,
//     refilled at `qps`, 1 per 5 minutes by default); an event without a token is
//     skipped.
//
// Thread-safe.
#ifndef KSLICE_CONTROLLER_RECORD_EVENT_CORRELATOR_H_
#define KSLICE_CONTROLLER_RECORD_EVENT_CORRELATOR_H_

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "client/flowcontrol/clock.h"

namespace kslice::controller::record {

using api::core::v1::Event;

struct CorrelatorOptions {
  int lru_size = 4096;
  int burst = 25;             // spam filter bucket size
  double qps = 1.0 / 300.0;   // spam filter refill rate
  int max_events = 10;        // distinct messages before aggregation
  absl::Duration max_interval = absl::Seconds(600);
  // Time source of the spam filter and aggregation windows (not owned; nullptr:
  // the real clock). Events' timestamps come from `now`.
  client::flowcontrol::Clock* clock = nullptr;
  // Wall-clock time for aggregated events' timestamps and names; nullptr: absl::Now.
  std::function<absl::Time()> now{};
};

// A small LRU map (k8s.io/utils/lru semantics: Get refreshes, Add evicts the
// least recently used key when full).
template <typename V>
class LruCache {
 public:
  explicit LruCache(int size) : size_(size < 1 ? 1 : static_cast<size_t>(size)) {}
  V* Get(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }
  void Add(const std::string& key, V value) {
    if (V* v = Get(key)) {
      *v = std::move(value);
      return;
    }
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
    if (order_.size() > size_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }
  size_t size() const { return order_.size(); }

 private:
  size_t size_;
  std::list<std::pair<std::string, V>> order_;
  std::unordered_map<std::string, typename std::list<std::pair<std::string, V>>::iterator> index_;
};

// client-go's getEventKey / getSpamKey / EventAggregatorByReasonFunc.
std::string EventKey(const Event& e);
std::string SpamKey(const Event& e);
std::string AggregateKey(const Event& e);

// "<name>.<hex unix nanos>", or a random UUID when that is not a valid DNS
// subdomain (client-go's util.GenerateEventName).
std::string GenerateEventName(std::string_view ref_name, int64_t unix_nanos);

// The strategic merge patch client-go sends for a repeated event: the JSON object
// of the fields that differ from a copy with count 0, lastTimestamp at the epoch
// and no message; keys sorted, as encoding/json writes a map.
std::string RepeatPatch(const Event& e);

class EventCorrelator {
 public:
  explicit EventCorrelator(CorrelatorOptions options = {});

  struct Result {
    Event event;
    std::string patch;  // set when event.count() > 1
    bool skip = false;  // dropped by the spam filter
  };
  Result Correlate(const Event& event);

  // Records what the server returned for a written event (its name and RV).
  void UpdateState(const Event& written);

 private:
  struct TokenBucket {
    double tokens = 0;
    absl::Time last;
  };
  struct AggregateRecord {
    std::set<std::string> local_keys;
    absl::Time last_timestamp = absl::InfinitePast();
  };
  struct EventLog {
    int32_t count = 0;
    api::meta::v1::Time first_timestamp;
    std::string name;
    std::string resource_version;
  };

  absl::Time Now() const;  // the interval clock

  CorrelatorOptions options_;
  client::flowcontrol::Clock* clock_;
  std::mutex mu_;
  LruCache<TokenBucket> spam_;           // guarded by mu_
  LruCache<AggregateRecord> aggregate_;  // guarded by mu_
  LruCache<EventLog> log_;               // guarded by mu_
};

}  // namespace kslice::controller::record

#endif  // KSLICE_CONTROLLER_RECORD_EVENT_CORRELATOR_H_
