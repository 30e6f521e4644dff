#include "controller/metrics/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace kslice::controller::metrics {

namespace {

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
        (extra == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// Validates and normalizes buckets: empty -> defaults, trailing +Inf dropped.
absl::StatusOr<std::vector<double>> NormalizeBuckets(std::vector<double> buckets) {
  if (buckets.empty()) return DefaultBuckets();
  if (std::isinf(buckets.back()) && buckets.back() > 0) buckets.pop_back();
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (std::isnan(buckets[i])) return absl::InvalidArgumentError("histogram bucket is NaN");
    if (i > 0 && !(buckets[i] > buckets[i - 1])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "histogram buckets must be in increasing order: ", FormatFloat(buckets[i - 1]),
          " >= ", FormatFloat(buckets[i])));
    }
  }
  return buckets;
}

absl::Status CheckLabelNames(const std::string& metric, const std::vector<std::string>& names,
                             bool histogram) {
  std::set<std::string> seen;
  for (const std::string& n : names) {
    if (!IsValidLabelName(n)) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", metric, ": invalid label name \"", n, "\""));
    }
    if (histogram && n == "le") {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", metric, ": \"le\" is reserved in histograms"));
    }
    if (!seen.insert(n).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", metric, ": duplicate label name \"", n, "\""));
    }
  }
  return absl::OkStatus();
}

void AppendEscaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        if (quote) {
          out += "\\\"";
        } else {
          out += c;
        }
        break;
      default:
        out += c;
    }
  }
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kUntyped:
      return "untyped";
  }
  return "untyped";
}

// A child's label pairs sorted by label name (the Go client's order).
using LabelPairs = std::vector<std::pair<std::string, std::string>>;

LabelPairs SortedPairs(const std::vector<std::string>& names,
                       const std::vector<std::string>& values) {
  LabelPairs pairs;
  pairs.reserve(names.size());
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    pairs.emplace_back(names[i], values[i]);
  }
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

bool ValuesLess(const LabelPairs& a, const LabelPairs& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i].second != b[i].second) return a[i].second < b[i].second;
  }
  return a.size() < b.size();
}

void AppendHistogramSamples(const LabelPairs& labels, const Histogram& h,
                            std::vector<Sample>& out) {
  const Histogram::Snapshot snap = h.Read();
  for (size_t i = 0; i <= snap.upper_bounds.size(); ++i) {
    Sample s;
    s.suffix = "_bucket";
    s.labels = labels;
    s.labels.emplace_back(
        "le", i < snap.upper_bounds.size() ? FormatFloat(snap.upper_bounds[i]) : "+Inf");
    s.value = static_cast<double>(snap.cumulative[i]);
    out.push_back(std::move(s));
  }
  out.push_back(Sample{"_sum", labels, snap.sum});
  out.push_back(Sample{"_count", labels, static_cast<double>(snap.count)});
}

}  // namespace

// ---------------------------------------------------------------------------------
// Metrics

void Gauge::SetToCurrentTime() { Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch())); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) {
  // The first bucket whose bound is >= v (Go's sort.SearchFloat64s); NaN lands in +Inf.
  size_t i = upper_bounds_.size();
  if (!std::isnan(v)) {
    i = static_cast<size_t>(std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v) -
                            upper_bounds_.begin());
  }
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.upper_bounds = upper_bounds_;
  s.cumulative.resize(upper_bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  if (count < 1) return {};
  std::vector<double> b;
  b.reserve(count);
  for (int i = 0; i < count; ++i) {
    b.push_back(start);
    start += width;
  }
  return b;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  if (count < 1 || start <= 0 || factor <= 1) return {};
  std::vector<double> b;
  b.reserve(count);
  for (int i = 0; i < count; ++i) {
    b.push_back(start);
    start *= factor;
  }
  return b;
}

std::vector<double> DefaultBuckets() {
  return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
}

namespace internal {
absl::Status CheckLabelValues(size_t label_count, absl::Span<const std::string> values) {
  if (values.size() != label_count) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", label_count,
                                                   " label values but got ", values.size()));
  }
  for (const std::string& v : values) {
    if (!IsValidUtf8(v)) {
      return absl::InvalidArgumentError(absl::StrCat("label value is not valid UTF-8: ", v));
    }
  }
  return absl::OkStatus();
}
}  // namespace internal

HistogramVec::HistogramVec(std::vector<double> upper_bounds,
                           std::vector<std::string> label_names)
    : upper_bounds_(std::move(upper_bounds)),
      label_names_(std::move(label_names)),
      invalid_(std::make_unique<Histogram>(upper_bounds_)) {}

absl::StatusOr<Histogram*> HistogramVec::GetMetricWithLabelValues(
    absl::Span<const std::string> values) {
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
  if (inserted) it->second = std::make_unique<Histogram>(upper_bounds_);
  return it->second.get();
}

Histogram& HistogramVec::WithLabelValues(std::initializer_list<std::string_view> values) {
  std::vector<std::string> v;
  v.reserve(values.size());
  for (std::string_view s : values) v.emplace_back(s);
  return WithLabelValues(absl::MakeConstSpan(v));
}

Histogram& HistogramVec::WithLabelValues(absl::Span<const std::string> values) {
  absl::StatusOr<Histogram*> m = GetMetricWithLabelValues(values);
  return m.ok() ? **m : *invalid_;
}

// ---------------------------------------------------------------------------------
// Registry

namespace {
enum Kind { kSingle = 0, kVec = 1 };
}  // namespace

struct Registry::Entry {
  Opts opts;
  MetricType type = MetricType::kUntyped;
  int kind = kSingle;
  std::vector<std::string> label_names;
  std::vector<double> buckets;

  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
  std::unique_ptr<CounterVec> counter_vec;
  std::unique_ptr<GaugeVec> gauge_vec;
  std::unique_ptr<HistogramVec> histogram_vec;

  MetricFamily Gather() const {
    MetricFamily f;
    f.name = opts.name;
    f.help = opts.help;
    f.type = type;
    if (counter) f.samples.push_back(Sample{"", {}, counter->Value()});
    if (gauge) f.samples.push_back(Sample{"", {}, gauge->Value()});
    if (histogram) AppendHistogramSamples({}, *histogram, f.samples);
    // Vectors: sort children by their (name-sorted) label values.
    std::vector<std::pair<LabelPairs, double>> scalars;
    std::vector<std::pair<LabelPairs, const Histogram*>> hists;
    auto scalar = [&](const std::vector<std::string>& values, const auto& m) {
      scalars.emplace_back(SortedPairs(label_names, values), m.Value());
    };
    if (counter_vec) counter_vec->ForEach(scalar);
    if (gauge_vec) gauge_vec->ForEach(scalar);
    if (histogram_vec) {
      histogram_vec->ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
        hists.emplace_back(SortedPairs(label_names, values), &h);
      });
    }
    std::sort(scalars.begin(), scalars.end(),
              [](const auto& a, const auto& b) { return ValuesLess(a.first, b.first); });
    for (auto& [labels, v] : scalars) f.samples.push_back(Sample{"", std::move(labels), v});
    std::sort(hists.begin(), hists.end(),
              [](const auto& a, const auto& b) { return ValuesLess(a.first, b.first); });
    // Children are never deleted, so the pointers outlive the ForEach lock.
    for (const auto& [labels, h] : hists) AppendHistogramSamples(labels, *h, f.samples);
    return f;
  }
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry& Registry::Default() {
  static Registry* registry = new Registry();
  return *registry;
}

absl::StatusOr<Registry::Entry*> Registry::Define(const Opts& opts, MetricType type, int kind,
                                                  std::vector<std::string> label_names,
                                                  std::vector<double> buckets) {
  if (!IsValidMetricName(opts.name)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid metric name \"", opts.name, "\""));
  }
  absl::Status s = CheckLabelNames(opts.name, label_names, type == MetricType::kHistogram);
  if (!s.ok()) return s;
  if (type == MetricType::kHistogram) {
    absl::StatusOr<std::vector<double>> b = NormalizeBuckets(std::move(buckets));
    if (!b.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", opts.name, ": ", b.status().message()));
    }
    buckets = *std::move(b);
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& c : collectors_) {
    for (const std::string& n : c->Describe()) {
      if (n == opts.name) {
        return absl::AlreadyExistsError(
            absl::StrCat("metric ", opts.name, " is already registered by a collector"));
      }
    }
  }
  auto it = entries_.find(opts.name);
  if (it != entries_.end()) {
    const Entry& e = *it->second;
    if (e.type == type && e.kind == kind && e.opts.help == opts.help &&
        e.label_names == label_names && e.buckets == buckets) {
      return it->second.get();
    }
    return absl::AlreadyExistsError(absl::StrCat(
        "metric ", opts.name, " is already registered with a different definition"));
  }
  auto e = std::make_unique<Entry>();
  e->opts = opts;
  e->type = type;
  e->kind = kind;
  e->label_names = std::move(label_names);
  e->buckets = std::move(buckets);
  switch (type) {
    case MetricType::kCounter:
      if (kind == kSingle) {
        e->counter = std::make_unique<Counter>();
      } else {
        e->counter_vec = std::make_unique<CounterVec>(e->label_names);
      }
      break;
    case MetricType::kGauge:
      if (kind == kSingle) {
        e->gauge = std::make_unique<Gauge>();
      } else {
        e->gauge_vec = std::make_unique<GaugeVec>(e->label_names);
      }
      break;
    case MetricType::kHistogram:
      if (kind == kSingle) {
        e->histogram = std::make_unique<Histogram>(e->buckets);
      } else {
        e->histogram_vec = std::make_unique<HistogramVec>(e->buckets, e->label_names);
      }
      break;
    case MetricType::kUntyped:
      return absl::InvalidArgumentError("untyped metrics are not supported");
  }
  Entry* raw = e.get();
  entries_.emplace(opts.name, std::move(e));
  return raw;
}

absl::StatusOr<Counter*> Registry::NewCounter(const Opts& opts) {
  absl::StatusOr<Entry*> e = Define(opts, MetricType::kCounter, kSingle, {}, {});
  if (!e.ok()) return e.status();
  return (*e)->counter.get();
}

absl::StatusOr<Gauge*> Registry::NewGauge(const Opts& opts) {
  absl::StatusOr<Entry*> e = Define(opts, MetricType::kGauge, kSingle, {}, {});
  if (!e.ok()) return e.status();
  return (*e)->gauge.get();
}

absl::StatusOr<Histogram*> Registry::NewHistogram(const Opts& opts,
                                                  std::vector<double> buckets) {
  absl::StatusOr<Entry*> e =
      Define(opts, MetricType::kHistogram, kSingle, {}, std::move(buckets));
  if (!e.ok()) return e.status();
  return (*e)->histogram.get();
}

absl::StatusOr<CounterVec*> Registry::NewCounterVec(const Opts& opts,
                                                    std::vector<std::string> label_names) {
  absl::StatusOr<Entry*> e =
      Define(opts, MetricType::kCounter, kVec, std::move(label_names), {});
  if (!e.ok()) return e.status();
  return (*e)->counter_vec.get();
}

absl::StatusOr<GaugeVec*> Registry::NewGaugeVec(const Opts& opts,
                                                std::vector<std::string> label_names) {
  absl::StatusOr<Entry*> e = Define(opts, MetricType::kGauge, kVec, std::move(label_names), {});
  if (!e.ok()) return e.status();
  return (*e)->gauge_vec.get();
}

absl::StatusOr<HistogramVec*> Registry::NewHistogramVec(const Opts& opts,
                                                        std::vector<double> buckets,
                                                        std::vector<std::string> label_names) {
  absl::StatusOr<Entry*> e = Define(opts, MetricType::kHistogram, kVec, std::move(label_names),
                                    std::move(buckets));
  if (!e.ok()) return e.status();
  return (*e)->histogram_vec.get();
}

absl::Status Registry::Register(std::shared_ptr<const Collector> collector) {
  if (collector == nullptr) return absl::InvalidArgumentError("null collector");
  const std::vector<std::string> names = collector->Describe();
  std::set<std::string> mine;
  for (const std::string& n : names) {
    if (!IsValidMetricName(n)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid metric name \"", n, "\""));
    }
    if (!mine.insert(n).second) {
      return absl::InvalidArgumentError(absl::StrCat("collector describes ", n, " twice"));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& n : names) {
    if (entries_.count(n) > 0) {
      return absl::AlreadyExistsError(absl::StrCat("metric ", n, " is already registered"));
    }
    for (const auto& c : collectors_) {
      for (const std::string& other : c->Describe()) {
        if (other == n) {
          return absl::AlreadyExistsError(absl::StrCat("metric ", n, " is already registered"));
        }
      }
    }
  }
  collectors_.push_back(std::move(collector));
  return absl::OkStatus();
}

std::vector<MetricFamily> Registry::Gather() const {
  std::vector<MetricFamily> out;
  std::vector<std::shared_ptr<const Collector>> collectors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, e] : entries_) out.push_back(e->Gather());
    collectors = collectors_;
  }
  // Collectors run outside the registry lock: they may be slow (reading /proc).
  for (const auto& c : collectors) c->Collect(out);
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](const MetricFamily& f) { return f.samples.empty(); }),
            out.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const MetricFamily& a, const MetricFamily& b) { return a.name < b.name; });
  return out;
}

std::string Registry::Expose() const { return ExposeText(Gather()); }

// ---------------------------------------------------------------------------------
// Text format

std::string FormatFloat(double v) {
  if (v == 1) return "1";
  if (v == 0) return "0";
  if (v == -1) return "-1";
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest round-trip digits in exponent form tell the decimal exponent.
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  const size_t e = sci.find('e');
  int exp = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(),
                  exp);
  // Go's 'g' with the shortest precision switches to exponent form when the
  // exponent is < -4 or >= 6 (eprec is 6 for shortest).
  if (exp < -4 || exp >= 6) return sci;
  r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

std::string ExposeText(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const MetricFamily& f : families) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    AppendEscaped(out, f.help, /*quote=*/false);
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += TypeName(f.type);
    out += '\n';
    for (const Sample& s : f.samples) {
      out += f.name;
      out += s.suffix;
      if (!s.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < s.labels.size(); ++i) {
          if (i > 0) out += ',';
          out += s.labels[i].first;
          out += "=\"";
          AppendEscaped(out, s.labels[i].second, /*quote=*/true);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      out += FormatFloat(s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace kslice::controller::metrics
