// A small Prometheus client: counters, gauges, histograms, their labelled vectors, a
// registry and the text exposition format 0.0.4.
//
//   metrics::Registry registry;
//   auto requests = registry.NewCounterVec(
//       {.name = "http_requests_total", .help = "Requests served."}, {"code", "method"});
//   if (!requests.ok()) return requests.status();
//   metrics::Counter& ok_gets = (*requests)->WithLabelValues({"200", "GET"});
//   ok_gets.Inc();                      // lock-free; keep the reference for hot paths
//   std::string text = registry.Expose();
//
// Behavior follows the Go client (prometheus/client_golang with prometheus/common's
// expfmt), which is what Kubernetes components serve on /metrics:
//  - Families are exposed sorted by name; families without samples (a vector with no
//    children yet) are left out. Within a family the label pairs of each sample are
//    sorted by label name, samples are sorted by their label values, and a
//    histogram's `le` label comes last.
//  - Numbers are printed like Go's strconv.FormatFloat(v, 'g', -1, 64): the shortest
//    text that reads back to the same double, in exponent form when the decimal
//    exponent is below -4 or at least 6 ("1e-06", "1.5e+09"); "+Inf", "-Inf", "NaN".
//  - HELP text escapes `\` and newline; label values escape `\`, `"` and newline.
//
// Thread safety: every type here is thread-safe. Counter/Gauge/Histogram updates are
// lock-free atomics; WithLabelValues takes a shared lock and hashes the values, so hot
// paths should keep the returned reference (children live as long as their vector).
// Metrics are owned by the Registry that created them and live as long as it.
//
// Differences from the Go client: no summaries, exemplars, native histograms, const
// labels or protobuf exposition; an invalid call (wrong number of label values, a
// negative counter increment) is ignored instead of panicking (see each method).
#ifndef KSLICE_CONTROLLER_METRICS_METRICS_H_
#define KSLICE_CONTROLLER_METRICS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace kslice::controller::metrics {

// The text exposition format's content type, for an HTTP handler serving Expose().
inline constexpr char kTextContentType[] = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge, kHistogram, kUntyped };

// One exposition line: `<family name><suffix>{labels} value`.
struct Sample {
  std::string suffix;  // "", "_bucket", "_sum" or "_count"
  std::vector<std::pair<std::string, std::string>> labels;  // in exposition order
  double value = 0;
};

// A family as gathered: HELP/TYPE header and its samples in exposition order.
struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kUntyped;
  std::vector<Sample> samples;
};

// Something that produces families at gather time (the process collector, or metrics
// computed on demand). Collect must be thread-safe.
class Collector {
 public:
  virtual ~Collector() = default;
  // The family names this collector produces; registration rejects clashes.
  virtual std::vector<std::string> Describe() const = 0;
  // Appends the current families, each with its samples in exposition order (the
  // registry sorts families by name but leaves samples as given).
  virtual void Collect(std::vector<MetricFamily>& out) const = 0;
};

// Name and help of a metric family. The name is the full name (namespace and
// subsystem already joined with '_').
struct Opts {
  std::string name;
  std::string help;
};

// A monotonically increasing value.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Inc() { Add(1); }
  // Negative or NaN increments are ignored (the Go client panics).
  void Add(double v) {
    if (!(v >= 0)) return;
    value_.fetch_add(v, std::memory_order_relaxed);
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that can go up and down.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Sub(double v) { Add(-v); }
  // Sets the gauge to the current Unix time in seconds.
  void SetToCurrentTime();
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into cumulative buckets (`le` = upper bound, inclusive).
class Histogram {
 public:
  // `upper_bounds` must be strictly increasing and finite (Registry validates); the
  // +Inf bucket is implicit.
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // NaN observations are counted in the +Inf bucket and make the sum NaN, as in Go.
  void Observe(double v);

  struct Snapshot {
    std::vector<double> upper_bounds;      // without +Inf
    std::vector<uint64_t> cumulative;      // one per upper bound, then +Inf
    double sum = 0;
    uint64_t count = 0;                    // equals cumulative.back()
  };
  // A snapshot; under concurrent Observe calls the sum may lag the counts by the
  // observations in flight (the counts are always consistent with each other).
  Snapshot Read() const;
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  const std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, +Inf last
  std::atomic<double> sum_{0};
};

// Bucket helpers with the Go client's arithmetic (repeated addition/multiplication),
// so bounds print exactly as upstream's. Invalid arguments give an empty vector.
std::vector<double> LinearBuckets(double start, double width, int count);
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// The Go client's DefBuckets: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10.
std::vector<double> DefaultBuckets();

namespace internal {
// Validates label values (count and UTF-8) for a vector with `label_count` labels.
absl::Status CheckLabelValues(size_t label_count, absl::Span<const std::string> values);
}  // namespace internal

// A family of metrics of type M partitioned by label values. Children are created on
// first use and never deleted (Delete/Reset are not offered: queue names and similar
// label values are long-lived).
template <typename M>
class MetricVec {
 public:
  // Returns the child for these values (one per label name, in the order the labels
  // were declared), creating it on first use. Errors: InvalidArgument for a wrong
  // number of values or a value that is not UTF-8.
  absl::StatusOr<M*> GetMetricWithLabelValues(absl::Span<const std::string> values) {
    absl::Status s = internal::CheckLabelValues(label_names_.size(), values);
    if (!s.ok()) return s;
    std::vector<std::string> key(values.begin(), values.end());
    {
      std::shared_lock<std::shared_mutex> lock(mu_);
      auto it = children_.find(key);
      if (it != children_.end()) return it->second.get();
    }
    std::unique_lock<std::shared_mutex> lock(mu_);
    auto [it, inserted] = children_.try_emplace(std::move(key));
    if (inserted) it->second = make_();
    return it->second.get();
  }

  // Like GetMetricWithLabelValues, but on invalid values returns a detached metric
  // that is never exposed (the Go client panics), so a mistake cannot crash a
  // process. Use GetMetricWithLabelValues where the values come from input.
  M& WithLabelValues(std::initializer_list<std::string_view> values) {
    std::vector<std::string> v;
    v.reserve(values.size());
    for (std::string_view s : values) v.emplace_back(s);
    return WithLabelValues(absl::MakeConstSpan(v));
  }
  M& WithLabelValues(absl::Span<const std::string> values) {
    absl::StatusOr<M*> m = GetMetricWithLabelValues(values);
    return m.ok() ? **m : *invalid_;
  }

  const std::vector<std::string>& label_names() const { return label_names_; }

  // Calls fn(values, metric) for every child, in no particular order, under the
  // vector's shared lock.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    for (const auto& [values, m] : children_) fn(values, *m);
  }

 protected:
  MetricVec(std::vector<std::string> label_names, std::unique_ptr<M> (*make)())
      : label_names_(std::move(label_names)), make_(make), invalid_(make()) {}

 private:
  const std::vector<std::string> label_names_;
  std::unique_ptr<M> (*const make_)();
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_ ABSL_GUARDED_BY(mu_);
  const std::unique_ptr<M> invalid_;
};

class CounterVec : public MetricVec<Counter> {
 public:
  explicit CounterVec(std::vector<std::string> label_names)
      : MetricVec(std::move(label_names), [] { return std::make_unique<Counter>(); }) {}
};

class GaugeVec : public MetricVec<Gauge> {
 public:
  explicit GaugeVec(std::vector<std::string> label_names)
      : MetricVec(std::move(label_names), [] { return std::make_unique<Gauge>(); }) {}
};

class HistogramVec {
 public:
  HistogramVec(std::vector<double> upper_bounds, std::vector<std::string> label_names);

  absl::StatusOr<Histogram*> GetMetricWithLabelValues(absl::Span<const std::string> values);
  Histogram& WithLabelValues(std::initializer_list<std::string_view> values);
  Histogram& WithLabelValues(absl::Span<const std::string> values);
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

  template <typename Fn>
  void ForEach(Fn&& fn) const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    for (const auto& [values, m] : children_) fn(values, *m);
  }

 private:
  const std::vector<double> upper_bounds_;
  const std::vector<std::string> label_names_;
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Histogram>> children_
      ABSL_GUARDED_BY(mu_);
  const std::unique_ptr<Histogram> invalid_;
};

// Owns metrics and collectors and renders them.
//
// The New* methods validate the name (`[a-zA-Z_:][a-zA-Z0-9_:]*`), label names
// (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with "__", unique, and not "le" for
// histograms) and buckets (strictly increasing, no NaN; a trailing +Inf is dropped;
// empty means DefaultBuckets()), and return InvalidArgument otherwise. Creating a
// metric whose name is taken returns the existing metric when the definition (type,
// help, label names, buckets) is identical - so independent components, such as two
// work queues, can share one family - and AlreadyExists otherwise.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The process-wide registry (like client_golang's DefaultRegisterer or
  // component-base's legacyregistry); never destroyed. Work queues with a name
  // register here unless given another registry.
  static Registry& Default();

  absl::StatusOr<Counter*> NewCounter(const Opts& opts);
  absl::StatusOr<Gauge*> NewGauge(const Opts& opts);
  absl::StatusOr<Histogram*> NewHistogram(const Opts& opts, std::vector<double> buckets);
  absl::StatusOr<CounterVec*> NewCounterVec(const Opts& opts,
                                            std::vector<std::string> label_names);
  absl::StatusOr<GaugeVec*> NewGaugeVec(const Opts& opts,
                                        std::vector<std::string> label_names);
  absl::StatusOr<HistogramVec*> NewHistogramVec(const Opts& opts, std::vector<double> buckets,
                                                std::vector<std::string> label_names);

  // Registers a collector. Errors: InvalidArgument for an invalid family name,
  // AlreadyExists when one of its names is taken.
  absl::Status Register(std::shared_ptr<const Collector> collector);

  // All families with at least one sample, sorted as described at the top.
  std::vector<MetricFamily> Gather() const;
  // Gather() in the text exposition format 0.0.4.
  std::string Expose() const;

 private:
  struct Entry;
  absl::StatusOr<Entry*> Define(const Opts& opts, MetricType type, int kind,
                                std::vector<std::string> label_names,
                                std::vector<double> buckets);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<const Collector>> collectors_ ABSL_GUARDED_BY(mu_);
};

// Renders families (already sorted) in the text format 0.0.4.
std::string ExposeText(const std::vector<MetricFamily>& families);

// Go's strconv.FormatFloat(v, 'g', -1, 64) with expfmt's "+Inf"/"-Inf"/"NaN".
std::string FormatFloat(double v);

}  // namespace kslice::controller::metrics

#endif  // KSLICE_CONTROLLER_METRICS_METRICS_H_
