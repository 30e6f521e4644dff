#include "controller/record/event_correlator.h"
#include "api/codec/go_strings.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace kslice::controller::record {
namespace {

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsAlnumLower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// RFC 1123 subdomain: at most 253 characters, dot-separated labels of lower-case
// alphanumerics and '-', each starting and ending with an alphanumeric.
bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || !IsAlnumLower(label.front()) || !IsAlnumLower(label.back())) return false;
    for (char c : label) {
      if (!IsAlnumLower(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

std::string RandomUuid() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = 0, b = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    a = rng();
    b = rng();
  }
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFFF,
                         b >> 48, b & 0xFFFFFFFFFFFFULL);
}

// A JSON string as Go's encoding/json writes it.
void AppendGoJson(std::string* out, std::string_view s) { codec::AppendGoJsonString(out, s); }

api::meta::v1::Time FromTime(absl::Time t) {
  api::meta::v1::Time out;
  out.set_seconds(absl::ToUnixSeconds(t));  // metav1.Time keeps whole seconds on the wire
  return out;
}

std::string Rfc3339(const api::meta::v1::Time& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

}  // namespace

std::string EventKey(const Event& e) {
  const auto& o = e.involvedobject();
  return absl::StrCat(e.source().component(), e.source().host(), o.kind(), o.namespace_(),
                      o.name(), o.fieldpath(), o.uid(), o.apiversion(), e.type(), e.reason(),
                      e.message());
}

std::string SpamKey(const Event& e) {
  const auto& o = e.involvedobject();
  return absl::StrCat(e.source().component(), e.source().host(), o.kind(), o.namespace_(),
                      o.name(), o.uid(), o.apiversion(), e.type());
}

std::string AggregateKey(const Event& e) {
  const auto& o = e.involvedobject();
  return absl::StrCat(e.source().component(), e.source().host(), o.kind(), o.namespace_(),
                      o.name(), o.uid(), o.apiversion(), e.type(), e.reason(),
                      e.reportingcomponent(), e.reportinginstance());
}

std::string GenerateEventName(std::string_view ref_name, int64_t unix_nanos) {
  std::string name = absl::StrFormat("%s.%x", AV(ref_name), static_cast<uint64_t>(unix_nanos));
  if (!IsDnsSubdomain(name)) return RandomUuid();
  return name;
}

std::string RepeatPatch(const Event& e) {
  std::string out = "{";
  bool first = true;
  auto sep = [&] {
    if (!first) out.push_back(',');
    first = false;
  };
  if (e.count() != 0) {
    sep();
    absl::StrAppend(&out, "\"count\":", e.count());
  }
  if (!e.has_lasttimestamp()) {
    sep();
    out.append("\"lastTimestamp\":null");
  } else if (e.lasttimestamp().seconds() != 0) {
    sep();
    absl::StrAppend(&out, "\"lastTimestamp\":\"", Rfc3339(e.lasttimestamp()), "\"");
  }
  if (!e.message().empty()) {
    sep();
    out.append("\"message\":");
    AppendGoJson(&out, e.message());
  }
  out.push_back('}');
  return out;
}

EventCorrelator::EventCorrelator(CorrelatorOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &client::flowcontrol::Clock::Real()),
      spam_(options_.lru_size),
      aggregate_(options_.lru_size),
      log_(options_.lru_size) {
  if (options_.burst < 1) options_.burst = 1;
  if (options_.max_events < 1) options_.max_events = 1;
  if (!options_.now) options_.now = [] { return absl::Now(); };
}

absl::Time EventCorrelator::Now() const { return clock_->Now(); }

EventCorrelator::Result EventCorrelator::Correlate(const Event& input) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Time interval_now = Now();
  Result result;

  // 1. Aggregation.
  Event event = input;
  std::string key = EventKey(input);
  {
    std::string aggregate_key = AggregateKey(input);
    AggregateRecord record;
    if (AggregateRecord* found = aggregate_.Get(aggregate_key)) record = *found;
    if (interval_now - record.last_timestamp > options_.max_interval) record = AggregateRecord{};
    record.local_keys.insert(input.message());
    record.last_timestamp = interval_now;
    bool aggregate = record.local_keys.size() >= static_cast<size_t>(options_.max_events);
    // client-go pops an arbitrary key; we pop the smallest, which is deterministic.
    if (aggregate) record.local_keys.erase(record.local_keys.begin());
    aggregate_.Add(aggregate_key, record);
    if (aggregate) {
      absl::Time now = options_.now();
      Event combined;
      combined.mutable_metadata()->set_name(absl::StrFormat(
          "%s.%x", input.involvedobject().name(), static_cast<uint64_t>(absl::ToUnixNanos(now))));
      combined.mutable_metadata()->set_namespace_(input.metadata().namespace_());
      combined.set_count(1);
      *combined.mutable_firsttimestamp() = FromTime(now);
      *combined.mutable_involvedobject() = input.involvedobject();
      *combined.mutable_lasttimestamp() = FromTime(now);
      combined.set_message("(combined from similar events): " + input.message());
      combined.set_type(input.type());
      combined.set_reason(input.reason());
      *combined.mutable_source() = input.source();
      event = std::move(combined);
      key = std::move(aggregate_key);
    }
  }

  // 2. De-duplication against what was written before.
  if (EventLog* last = log_.Get(key); last != nullptr && last->count > 0) {
    event.mutable_metadata()->set_name(last->name);
    event.mutable_metadata()->set_resourceversion(last->resource_version);
    *event.mutable_firsttimestamp() = last->first_timestamp;
    event.set_count(last->count + 1);
    result.patch = RepeatPatch(event);
  }
  log_.Add(key, EventLog{event.count(), event.firsttimestamp(), event.metadata().name(),
                         event.metadata().resourceversion()});

  // 3. Spam filter (x/time/rate: a full bucket at first, refilled continuously).
  std::string spam_key = SpamKey(event);
  TokenBucket bucket{static_cast<double>(options_.burst), interval_now};
  if (TokenBucket* found = spam_.Get(spam_key)) bucket = *found;
  double elapsed = absl::ToDoubleSeconds(interval_now - bucket.last);
  if (elapsed > 0) {
    bucket.tokens = std::min<double>(options_.burst, bucket.tokens + elapsed * options_.qps);
    bucket.last = interval_now;
  }
  bool allowed = bucket.tokens >= 1;
  if (allowed) bucket.tokens -= 1;
  spam_.Add(spam_key, bucket);
  if (!allowed) {
    result.skip = true;
    return result;
  }
  result.event = std::move(event);
  return result;
}

void EventCorrelator::UpdateState(const Event& written) {
  std::lock_guard<std::mutex> lock(mu_);
  log_.Add(EventKey(written), EventLog{written.count(), written.firsttimestamp(),
                                       written.metadata().name(),
                                       written.metadata().resourceversion()});
}

}  // namespace kslice::controller::record
