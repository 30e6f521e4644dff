#include "controller/metrics/process_collector.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace kslice::controller::metrics {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
}

class ProcFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = fs::path(tmp != nullptr ? tmp : "/tmp") / "fakeproc";
    fs::remove_all(root_);
    fs::create_directories(root_ / "42" / "fd");
    Write(root_ / "stat", "cpu  1 2 3\nbtime 1700000000\nprocesses 10\n");
    // comm contains a space and parentheses. utime=250 stime=50 (field 14, 15),
    // starttime=12345 (22), vsize=104857600 (23), rss=2560 (24).
    Write(root_ / "42" / "stat",
          "42 (my (odd) proc) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 12345 "
          "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n");
    Write(root_ / "42" / "limits",
          "Limit                     Soft Limit           Hard Limit           Units     \n"
          "Max cpu time              unlimited            unlimited            seconds   \n"
          "Max open files            1024                 524288               files     \n");
    for (int i = 0; i < 3; ++i) Write(root_ / "42" / "fd" / std::to_string(i), "");
  }
  void TearDown() override { fs::remove_all(root_); }

  ProcessCollectorOptions Options() const {
    ProcessCollectorOptions o;
    o.proc_root = root_.string();
    o.pid = "42";
    o.clock_ticks = 100;
    o.page_size = 4096;
    return o;
  }

  fs::path root_;
};

TEST_F(ProcFixture, ExposesGoClientNamesAndValues) {
  Registry r;
  ASSERT_TRUE(RegisterProcessCollector(r, Options()).ok());
  EXPECT_EQ(r.Expose(),
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
            "# TYPE process_cpu_seconds_total counter\n"
            "process_cpu_seconds_total 3\n"
            "# HELP process_max_fds Maximum number of open file descriptors.\n"
            "# TYPE process_max_fds gauge\n"
            "process_max_fds 1024\n"
            "# HELP process_open_fds Number of open file descriptors.\n"
            "# TYPE process_open_fds gauge\n"
            "process_open_fds 3\n"
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
            "# TYPE process_resident_memory_bytes gauge\n"
            "process_resident_memory_bytes 1.048576e+07\n"
            "# HELP process_start_time_seconds Start time of the process since unix epoch in "
            "seconds.\n"
            "# TYPE process_start_time_seconds gauge\n"
            "process_start_time_seconds 1.70000012345e+09\n"
            "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
            "# TYPE process_virtual_memory_bytes gauge\n"
            "process_virtual_memory_bytes 1.048576e+08\n");
  // Registering twice clashes.
  EXPECT_EQ(RegisterProcessCollector(r, Options()).code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(ProcFixture, UnreadableSourcesAreLeftOut) {
  fs::remove(root_ / "42" / "stat");
  fs::remove(root_ / "42" / "limits");
  Registry r;
  ASSERT_TRUE(RegisterProcessCollector(r, Options()).ok());
  EXPECT_EQ(r.Expose(),
            "# HELP process_open_fds Number of open file descriptors.\n"
            "# TYPE process_open_fds gauge\n"
            "process_open_fds 3\n");
}

TEST_F(ProcFixture, GarbageStatIsIgnored) {
  Write(root_ / "42" / "stat", "no parentheses here");
  Registry r;
  ProcessCollectorOptions o = Options();
  o.name_space = "kslice";
  ASSERT_TRUE(RegisterProcessCollector(r, o).ok());
  const std::string text = r.Expose();
  EXPECT_EQ(text.find("kslice_process_cpu_seconds_total"), std::string::npos);
  EXPECT_NE(text.find("kslice_process_open_fds 3\n"), std::string::npos);
  EXPECT_NE(text.find("kslice_process_max_fds 1024\n"), std::string::npos);
}

TEST(ProcessCollectorTest, RealProcessHasAllSixMetrics) {
  Registry r;
  ASSERT_TRUE(RegisterProcessCollector(r).ok());
  std::vector<MetricFamily> families = r.Gather();
  std::vector<std::string> names;
  for (const MetricFamily& f : families) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "process_cpu_seconds_total", "process_max_fds", "process_open_fds",
                       "process_resident_memory_bytes", "process_start_time_seconds",
                       "process_virtual_memory_bytes"}));
  for (const MetricFamily& f : families) {
    ASSERT_EQ(f.samples.size(), 1u);
    EXPECT_GE(f.samples[0].value, 0) << f.name;
    if (f.name == "process_resident_memory_bytes" || f.name == "process_open_fds") {
      EXPECT_GT(f.samples[0].value, 0) << f.name;
    }
    if (f.name == "process_start_time_seconds") {
      // Started within the last day, by the wall clock.
      const double now = static_cast<double>(time(nullptr));
      EXPECT_LE(f.samples[0].value, now + 1);
      EXPECT_GT(f.samples[0].value, now - 86400);
    }
  }
}

}  // namespace
}  // namespace kslice::controller::metrics
