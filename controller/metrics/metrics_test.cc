#include "controller/metrics/metrics.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace kslice::controller::metrics {
namespace {

TEST(FormatFloatTest, MatchesGoShortestG) {
  // Expected strings are Go's strconv.FormatFloat(v, 'g', -1, 64) (expfmt's writeFloat).
  struct Case {
    double v;
    const char* want;
  };
  const Case cases[] = {
      {0, "0"},
      {-0.0, "0"},
      {1, "1"},
      {-1, "-1"},
      {2.5, "2.5"},
      {-0.5, "-0.5"},
      {100, "100"},
      {123456, "123456"},
      {1234567, "1.234567e+06"},
      {1e6, "1e+06"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {1e-06, "1e-06"},
      {0.1, "0.1"},
      {1.7e9, "1.7e+09"},
      {1700000000.25, "1.70000000025e+09"},
      {1.0 / 3, "0.3333333333333333"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const Case& c : cases) EXPECT_EQ(FormatFloat(c.v), c.want) << c.want;
}

TEST(BucketsTest, ExponentialUsesRepeatedMultiplication) {
  // component-base's workqueue buckets, ExponentialBuckets(10e-9, 10, 10), as Go (and
  // kube-controller-manager's /metrics) prints them.
  std::vector<std::string> got;
  for (double b : ExponentialBuckets(10e-9, 10, 10)) got.push_back(FormatFloat(b));
  EXPECT_EQ(got, (std::vector<std::string>{"1e-08", "1e-07", "1e-06", "9.999999999999999e-06",
                                           "9.999999999999999e-05", "0.001", "0.01", "0.1", "1",
                                           "10"}));
  EXPECT_TRUE(ExponentialBuckets(0, 2, 3).empty());
  EXPECT_TRUE(ExponentialBuckets(1, 1, 3).empty());
  EXPECT_EQ(LinearBuckets(1, 2, 3), (std::vector<double>{1, 3, 5}));
  EXPECT_TRUE(LinearBuckets(1, 2, 0).empty());
}

TEST(RegistryTest, ExposesCounterGaugeHistogramExactly) {
  Registry r;
  Counter* c = *r.NewCounter({"requests_total", "Total requests."});
  Gauge* g = *r.NewGauge({"temperature", "Current temperature."});
  Histogram* h = *r.NewHistogram({"latency_seconds", "Latency."}, {0.1, 0.5, 1});
  c->Inc();
  c->Add(2.5);
  c->Add(-1);  // ignored
  g->Set(20);
  g->Dec();
  g->Sub(0.5);
  h->Observe(0.1);   // le is inclusive
  h->Observe(0.3);
  h->Observe(7);
  EXPECT_EQ(r.Expose(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{le=\"0.1\"} 1\n"
            "latency_seconds_bucket{le=\"0.5\"} 2\n"
            "latency_seconds_bucket{le=\"1\"} 2\n"
            "latency_seconds_bucket{le=\"+Inf\"} 3\n"
            "latency_seconds_sum 7.4\n"
            "latency_seconds_count 3\n"
            "# HELP requests_total Total requests.\n"
            "# TYPE requests_total counter\n"
            "requests_total 3.5\n"
            "# HELP temperature Current temperature.\n"
            "# TYPE temperature gauge\n"
            "temperature 18.5\n");
}

TEST(RegistryTest, VectorsSortLabelsAndChildrenAndEscape) {
  Registry r;
  // Declared as (method, code): exposed with labels sorted by name (code, method),
  // children sorted by those values.
  CounterVec* v = *r.NewCounterVec({"http_requests_total", "Requests.\nBy code \\ method."},
                                   {"method", "code"});
  v->WithLabelValues({"GET", "500"}).Inc();
  v->WithLabelValues({"POST", "200"}).Add(3);
  v->WithLabelValues({"GET", "200"}).Add(2);
  v->WithLabelValues({"GET", "200"}).Inc();
  GaugeVec* q = *r.NewGaugeVec({"queue_depth", "Depth."}, {"name"});
  q->WithLabelValues({"a\"b\\c\nd"}).Set(1);
  GaugeVec* empty = *r.NewGaugeVec({"unused", "No children."}, {"x"});
  (void)empty;
  HistogramVec* hv = *r.NewHistogramVec({"op_seconds", "Ops."}, {1}, {"op"});
  hv->WithLabelValues({"write"}).Observe(2);
  hv->WithLabelValues({"read"}).Observe(0.5);
  EXPECT_EQ(r.Expose(),
            "# HELP http_requests_total Requests.\\nBy code \\\\ method.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{code=\"200\",method=\"GET\"} 3\n"
            "http_requests_total{code=\"200\",method=\"POST\"} 3\n"
            "http_requests_total{code=\"500\",method=\"GET\"} 1\n"
            "# HELP op_seconds Ops.\n"
            "# TYPE op_seconds histogram\n"
            "op_seconds_bucket{op=\"read\",le=\"1\"} 1\n"
            "op_seconds_bucket{op=\"read\",le=\"+Inf\"} 1\n"
            "op_seconds_sum{op=\"read\"} 0.5\n"
            "op_seconds_count{op=\"read\"} 1\n"
            "op_seconds_bucket{op=\"write\",le=\"1\"} 0\n"
            "op_seconds_bucket{op=\"write\",le=\"+Inf\"} 1\n"
            "op_seconds_sum{op=\"write\"} 2\n"
            "op_seconds_count{op=\"write\"} 1\n"
            "# HELP queue_depth Depth.\n"
            "# TYPE queue_depth gauge\n"
            "queue_depth{name=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(RegistryTest, DefaultBucketsWhenEmpty) {
  Registry r;
  Histogram* h = *r.NewHistogram({"h", "H."}, {});
  EXPECT_EQ(h->upper_bounds(), DefaultBuckets());
  // A trailing +Inf is accepted and dropped.
  Histogram* h2 = *r.NewHistogram({"h2", "H."}, {1, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(h2->upper_bounds(), std::vector<double>{1});
}

TEST(RegistryTest, ValidationErrors) {
  Registry r;
  struct Case {
    const char* what;
    absl::Status status;
  };
  const Case cases[] = {
      {"empty name", r.NewCounter({"", "x"}).status()},
      {"digit first", r.NewCounter({"1abc", "x"}).status()},
      {"dash", r.NewGauge({"a-b", "x"}).status()},
      {"bad label", r.NewCounterVec({"c", "x"}, {"a-b"}).status()},
      {"reserved label", r.NewCounterVec({"c", "x"}, {"__name"}).status()},
      {"dup label", r.NewCounterVec({"c", "x"}, {"a", "a"}).status()},
      {"le in histogram", r.NewHistogramVec({"h", "x"}, {1}, {"le"}).status()},
      {"unsorted buckets", r.NewHistogram({"h", "x"}, {1, 1}).status()},
      {"nan bucket", r.NewHistogram({"h", "x"}, {std::nan("")}).status()},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), absl::StatusCode::kInvalidArgument) << c.what;
  }
  // Colons are allowed in metric names, and "le" is fine outside histograms.
  EXPECT_TRUE(r.NewCounterVec({"ns:c_total", "x"}, {"le"}).ok());
}

TEST(RegistryTest, IdenticalDefinitionIsSharedConflictingIsRejected) {
  Registry r;
  CounterVec* a = *r.NewCounterVec({"adds_total", "Adds."}, {"name"});
  absl::StatusOr<CounterVec*> b = r.NewCounterVec({"adds_total", "Adds."}, {"name"});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a, *b);
  EXPECT_EQ(r.NewCounterVec({"adds_total", "Other help."}, {"name"}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.NewCounterVec({"adds_total", "Adds."}, {"queue"}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.NewGaugeVec({"adds_total", "Adds."}, {"name"}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.NewCounter({"adds_total", "Adds."}).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(MetricVecTest, WrongLabelCountIsAnErrorNotACrash) {
  Registry r;
  CounterVec* v = *r.NewCounterVec({"c_total", "C."}, {"a", "b"});
  std::vector<std::string> one = {"x"};
  EXPECT_EQ(v->GetMetricWithLabelValues(one).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<std::string> bad_utf8 = {"x", "\xff"};
  EXPECT_EQ(v->GetMetricWithLabelValues(bad_utf8).status().code(),
            absl::StatusCode::kInvalidArgument);
  v->WithLabelValues({"only-one"}).Inc();  // goes to a detached metric
  EXPECT_EQ(r.Expose(), "");
  std::vector<std::string> utf8 = {"x", "h\xc3\xa9"};
  EXPECT_TRUE(v->GetMetricWithLabelValues(utf8).ok());
}

class FixedCollector : public Collector {
 public:
  std::vector<std::string> Describe() const override { return {"zeta", "alpha_total"}; }
  void Collect(std::vector<MetricFamily>& out) const override {
    out.push_back(MetricFamily{"zeta", "Z.", MetricType::kGauge, {Sample{"", {}, 0.25}}});
    out.push_back(
        MetricFamily{"alpha_total", "A.", MetricType::kCounter, {Sample{"", {{"k", "v"}}, 2}}});
  }
};

TEST(RegistryTest, CollectorsAreMergedInNameOrder) {
  Registry r;
  Gauge* g = *r.NewGauge({"middle", "M."});
  g->Set(-2);
  ASSERT_TRUE(r.Register(std::make_shared<FixedCollector>()).ok());
  EXPECT_EQ(r.Register(std::make_shared<FixedCollector>()).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.NewGauge({"zeta", "Z."}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.Register(nullptr).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Expose(),
            "# HELP alpha_total A.\n"
            "# TYPE alpha_total counter\n"
            "alpha_total{k=\"v\"} 2\n"
            "# HELP middle M.\n"
            "# TYPE middle gauge\n"
            "middle -2\n"
            "# HELP zeta Z.\n"
            "# TYPE zeta gauge\n"
            "zeta 0.25\n");
}

TEST(MetricsConcurrencyTest, ParallelUpdatesAreNotLost) {
  Registry r;
  CounterVec* v = *r.NewCounterVec({"c_total", "C."}, {"w"});
  Histogram* h = *r.NewHistogram({"h", "H."}, {0.5});
  constexpr int kThreads = 4;
  constexpr int kIters = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIters; ++i) {
        v->WithLabelValues({t % 2 == 0 ? "even" : "odd"}).Inc();
        h->Observe(i % 2 == 0 ? 0.25 : 1);
        if (i % 500 == 0) (void)r.Expose();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(v->WithLabelValues({"even"}).Value(), kThreads / 2 * kIters);
  EXPECT_EQ(v->WithLabelValues({"odd"}).Value(), kThreads / 2 * kIters);
  Histogram::Snapshot s = h->Read();
  EXPECT_EQ(s.count, static_cast<uint64_t>(kThreads * kIters));
  EXPECT_EQ(s.cumulative[0], static_cast<uint64_t>(kThreads * kIters / 2));
  EXPECT_DOUBLE_EQ(s.sum, kThreads * (kIters / 2 * 0.25 + kIters / 2 * 1.0));
}

}  // namespace
}  // namespace kslice::controller::metrics
