#include "informers/reflector.h"

#include <cstdio>
#include <random>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/errors/errors.h"

namespace kslice::informers {
namespace {

using client::watch::EventType;

constexpr int64_t kDefaultPageSize = 500;
constexpr absl::Duration kMinWatchTimeout = absl::Minutes(5);
// A watch that ends this fast without a single event is treated as an error.
constexpr absl::Duration kVeryShortWatch = absl::Seconds(1);
constexpr absl::string_view kTooLargeRvMessage = "Too large resource version";

bool IsInitialEventsEnd(const google::protobuf::Message& bookmark) {
  const auto& annotations = MetaOf(bookmark).annotations();
  auto it = annotations.find(std::string(client::watch::kInitialEventsEndAnnotation));
  return it != annotations.end() && it->second == "true";
}

// What to do after a watch stream ended.
enum class Next { kRewatch, kBackoffRewatch, kEndCycle };

}  // namespace

void DropManagedFields(google::protobuf::Message& object) {
  const google::protobuf::FieldDescriptor* f = object.GetDescriptor()->FindFieldByNumber(1);
  if (f == nullptr || f->message_type() != api::meta::v1::ObjectMeta::descriptor()) return;
  auto* meta = static_cast<api::meta::v1::ObjectMeta*>(
      object.GetReflection()->MutableMessage(&object, f));
  meta->clear_managedfields();
}

bool IsExpiredError(const absl::Status& status) { return client::IsGoneOrExpired(status); }

bool IsTooLargeResourceVersionError(const absl::Status& status) {
  std::optional<client::StatusError> e = client::FromStatus(status);
  if (!e.has_value()) return false;
  if (client::FindCause(*e, client::cause::kResourceVersionTooLarge).has_value()) return true;
  return client::IsTimeout(*e) && absl::StrContains(e->message(), kTooLargeRvMessage);
}

Reflector::Reflector(ListerWatcher& lw, ReflectorStore& store, ReflectorOptions options)
    : lw_(lw),
      store_(store),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &client::flowcontrol::Clock::Real()),
      backoff_(options_.backoff, clock_, options_.random) {
  if (options_.random) {
    random_ = options_.random;
  } else {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    random_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
}

std::string Reflector::LastSyncResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_sync_rv_;
}

bool Reflector::IsLastSyncResourceVersionUnavailable() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_unavailable_;
}

void Reflector::SetLastSync(const std::string& rv) {
  if (rv.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  last_sync_rv_ = rv;
}

void Reflector::SetUnavailable(bool v) {
  std::lock_guard<std::mutex> lock(mu_);
  rv_unavailable_ = v;
}

std::string Reflector::RelistResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (rv_unavailable_) return "";
  if (last_sync_rv_.empty()) return "0";
  return last_sync_rv_;
}

std::string Reflector::RewatchResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (rv_unavailable_) return "";
  return last_sync_rv_;
}

ObjectPtr Reflector::Finish(std::unique_ptr<google::protobuf::Message> object) const {
  if (options_.transform) options_.transform(*object);
  return ObjectPtr(std::move(object));
}

int64_t Reflector::WatchTimeoutSeconds() {
  absl::Duration min = std::max(options_.min_watch_timeout, kMinWatchTimeout);
  double r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    r = random_();
  }
  return static_cast<int64_t>(absl::ToDoubleSeconds(min) * (1.0 + r));
}

bool Reflector::Sleep(absl::Duration d, std::stop_token stop) {
  return clock_->SleepUntil(clock_->Now() + d, stop);
}

void Reflector::ReportError(const absl::Status& status) {
  if (options_.watch_error_handler) {
    options_.watch_error_handler(status);
  } else {
    std::fprintf(stderr, "reflector %s: %s\n", options_.name.c_str(), status.ToString().c_str());
  }
}

void Reflector::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    absl::Status s = ListAndWatch(stop);
    if (stop.stop_requested()) return;
    if (!s.ok()) ReportError(s);
    // As wait.BackoffUntil (sliding): every cycle, successful or not, is followed by a
    // backoff delay; the delays shrink back to 800 ms after two quiet minutes.
    if (!Sleep(backoff_.Next(), stop)) return;
  }
}

absl::Status Reflector::ListAndWatch(std::stop_token stop) {
  std::jthread resync;
  auto start_resync = [&] {
    if (options_.resync_period <= absl::ZeroDuration() || resync.joinable()) return;
    resync = std::jthread([this](std::stop_token t) {
      while (clock_->SleepUntil(clock_->Now() + options_.resync_period, t)) {
        if (!options_.should_resync || options_.should_resync()) store_.Resync();
      }
    });
  };

  if (options_.use_watch_list && lw_.SupportsWatchList()) {
    bool fallback = false;
    absl::Status s = WatchList(stop, &fallback, start_resync);
    if (!fallback || stop.stop_requested()) return s;
    ReportError(absl::Status(s.code(), absl::StrCat("streaming list failed, falling back to LIST: ",
                                                    s.message())));
  }
  if (stop.stop_requested()) return absl::OkStatus();
  if (absl::Status s = List(stop); !s.ok()) return s;
  start_resync();
  return WatchLoop(stop);
}

absl::Status Reflector::List(std::stop_token stop) {
  client::ListOptions options;
  options.resource_version = RelistResourceVersion();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (options_.page_size != 0) {
      options.limit = options_.page_size;
    } else if (paginated_result_) {
      options.limit = kDefaultPageSize;
    } else if (!options.resource_version.empty() && options.resource_version != "0") {
      options.limit = 0;
    } else {
      options.limit = kDefaultPageSize;
    }
  }

  // The pager: first page with limit and resourceVersion, the next ones with the
  // continue token only; an expired token means one full list at the original version.
  auto list_all = [&](const client::ListOptions& first_options,
                      bool* paginated) -> absl::StatusOr<ListResult> {
    absl::StatusOr<ListResult> first = lw_.List(first_options);
    if (!first.ok()) return first.status();
    *paginated = !first->continue_token.empty();
    ListResult all = *std::move(first);
    while (!all.continue_token.empty()) {
      if (stop.stop_requested()) return absl::CancelledError("stopped");
      client::ListOptions next = first_options;
      next.continue_token = all.continue_token;
      next.resource_version.clear();
      next.resource_version_match.clear();
      absl::StatusOr<ListResult> page = lw_.List(next);
      if (!page.ok()) {
        if (!client::IsResourceExpired(page.status())) return page.status();
        client::ListOptions full = first_options;
        full.limit = 0;
        full.continue_token.clear();
        return lw_.List(full);
      }
      for (auto& item : page->items) all.items.push_back(std::move(item));
      all.continue_token = page->continue_token;
    }
    return all;
  };

  bool paginated = false;
  absl::StatusOr<ListResult> result = list_all(options, &paginated);
  if (!result.ok() && (IsExpiredError(result.status()) ||
                       IsTooLargeResourceVersionError(result.status()))) {
    SetUnavailable(true);
    options.resource_version = RelistResourceVersion();
    // Upstream keeps the page size it chose for the first attempt.
    result = list_all(options, &paginated);
  }
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat("failed to list ", options_.name, ": ",
                                     result.status().message()));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (options.resource_version == "0" && paginated) paginated_result_ = true;
    rv_unavailable_ = false;
  }
  std::vector<ObjectPtr> items;
  items.reserve(result->items.size());
  for (auto& item : result->items) items.push_back(Finish(std::move(item)));
  store_.Replace(std::move(items), result->resource_version);
  SetLastSync(result->resource_version);
  return absl::OkStatus();
}

absl::Status Reflector::HandleEvent(WatchEvent event, int* count) {
  if (event.type == EventType::kError) {
    if (event.error.ok()) return absl::InternalError("watch ERROR event without a status");
    return event.error;
  }
  if (event.object == nullptr) return absl::OkStatus();
  std::string rv = MetaOf(*event.object).resourceversion();
  switch (event.type) {
    case EventType::kAdded:
      store_.Add(Finish(std::move(event.object)));
      break;
    case EventType::kModified:
      store_.Update(Finish(std::move(event.object)));
      break;
    case EventType::kDeleted:
      store_.Delete(Finish(std::move(event.object)));
      break;
    case EventType::kBookmark:
    case EventType::kError:
      break;
  }
  SetLastSync(rv);
  ++*count;
  return absl::OkStatus();
}

namespace {

// Upstream's classification of how a watch ended (reflector.go watch()/handleWatch).
Next Classify(const absl::Status& s, absl::Duration lasted, int events, absl::Status* error) {
  *error = absl::OkStatus();
  if (s.ok()) {
    if (events == 0 && lasted < kVeryShortWatch) {
      *error = absl::UnavailableError(
          "very short watch: the watch ended within a second without a single event");
      return Next::kEndCycle;
    }
    return Next::kRewatch;
  }
  if (IsExpiredError(s)) return Next::kEndCycle;  // relist from the last synced version
  std::optional<client::StatusError> api = client::FromStatus(s);
  if (api.has_value()) {
    if (client::IsTooManyRequests(*api)) return Next::kBackoffRewatch;
    *error = s;  // any other answer from the server: relist after a backoff
    return Next::kEndCycle;
  }
  // A transport failure. A stream that broke after it had delivered events (or had been
  // open a while) is reopened at once, as upstream does when the decoder sees EOF; one
  // that failed to open (connection refused, ...) is retried after a backoff.
  if (events > 0 || lasted >= kVeryShortWatch) return Next::kRewatch;
  return Next::kBackoffRewatch;
}

}  // namespace

absl::Status Reflector::WatchLoop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    client::ListOptions options;
    options.resource_version = RewatchResourceVersion();
    options.timeout_seconds = WatchTimeoutSeconds();
    options.allow_watch_bookmarks = true;
    client::CancelToken cancel;
    std::stop_callback on_stop(stop, [&cancel] { cancel.Cancel(); });
    int count = 0;
    absl::Time start = clock_->Now();
    absl::Status s = lw_.Watch(
        options, [&](WatchEvent e) { return HandleEvent(std::move(e), &count); }, &cancel);
    if (stop.stop_requested()) return absl::OkStatus();
    absl::Status error;
    switch (Classify(s, clock_->Now() - start, count, &error)) {
      case Next::kRewatch:
        continue;
      case Next::kBackoffRewatch:
        if (!Sleep(backoff_.Next(), stop)) return absl::OkStatus();
        continue;
      case Next::kEndCycle:
        return error;
    }
  }
  return absl::OkStatus();
}

absl::Status Reflector::WatchList(std::stop_token stop, bool* fallback,
                                  const std::function<void()>& synced) {
  *fallback = false;
  while (!stop.stop_requested()) {
    client::ListOptions options;
    options.resource_version = RewatchResourceVersion();
    options.resource_version_match = "NotOlderThan";
    options.send_initial_events = true;
    options.allow_watch_bookmarks = true;
    options.timeout_seconds = WatchTimeoutSeconds();
    client::CancelToken cancel;
    std::stop_callback on_stop(stop, [&cancel] { cancel.Cancel(); });

    absl::flat_hash_map<std::string, ObjectPtr> initial;
    bool initial_done = false;
    int count = 0;
    absl::Time start = clock_->Now();
    absl::Status s = lw_.Watch(
        options,
        [&](WatchEvent e) -> absl::Status {
          if (initial_done) return HandleEvent(std::move(e), &count);
          if (e.type == EventType::kError) {
            return e.error.ok() ? absl::InternalError("watch ERROR event without a status")
                                : e.error;
          }
          if (e.object == nullptr) return absl::OkStatus();
          ++count;
          switch (e.type) {
            case EventType::kAdded:
            case EventType::kModified: {
              ObjectPtr obj = Finish(std::move(e.object));
              initial[KeyOf(*obj)] = obj;
              break;
            }
            case EventType::kDeleted:
              initial.erase(KeyOf(*e.object));
              break;
            case EventType::kBookmark:
              if (IsInitialEventsEnd(*e.object)) {
                std::string rv = MetaOf(*e.object).resourceversion();
                std::vector<ObjectPtr> items;
                items.reserve(initial.size());
                for (auto& [key, obj] : initial) items.push_back(std::move(obj));
                initial.clear();
                store_.Replace(std::move(items), rv);
                SetLastSync(rv);
                SetUnavailable(false);
                initial_done = true;
                synced();
              }
              break;
            case EventType::kError:
              break;
          }
          return absl::OkStatus();
        },
        &cancel);
    if (stop.stop_requested()) return absl::OkStatus();
    if (!initial_done) {
      std::optional<client::StatusError> api = client::FromStatus(s);
      if (IsExpiredError(s) || IsTooLargeResourceVersionError(s)) {
        SetUnavailable(true);
        continue;
      }
      if ((api.has_value() && client::IsTooManyRequests(*api)) ||
          (!api.has_value() && s.code() == absl::StatusCode::kUnavailable && count == 0)) {
        if (!Sleep(backoff_.Next(), stop)) return absl::OkStatus();
        continue;
      }
      *fallback = true;
      if (s.ok()) {
        return absl::InternalError(
            "the watch ended before the initial-events-end bookmark (no streaming list support?)");
      }
      return s;
    }
    // The initial list is in: the rest of the stream was an ordinary watch.
    absl::Status error;
    switch (Classify(s, clock_->Now() - start, count, &error)) {
      case Next::kRewatch:
        return WatchLoop(stop);
      case Next::kBackoffRewatch:
        if (!Sleep(backoff_.Next(), stop)) return absl::OkStatus();
        return WatchLoop(stop);
      case Next::kEndCycle:
        return error;
    }
  }
  return absl::OkStatus();
}

}  // namespace kslice::informers
