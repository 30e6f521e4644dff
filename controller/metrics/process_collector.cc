#include "controller/metrics/process_collector.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace kslice::controller::metrics {

namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Fields of /proc/<pid>/stat after the command name, which is in parentheses and
// may itself contain spaces and parentheses. fields[0] is field 3 (state).
std::optional<std::vector<std::string>> StatFields(const std::string& stat) {
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::vector<std::string> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 1), ' ', absl::SkipWhitespace());
  return fields;
}

std::optional<double> StatField(const std::vector<std::string>& fields, int number) {
  const size_t i = static_cast<size_t>(number - 3);
  if (i >= fields.size()) return std::nullopt;
  uint64_t v = 0;
  if (!absl::SimpleAtoi(absl::string_view(fields[i].data(), fields[i].size()), &v)) {
    return std::nullopt;
  }
  return static_cast<double>(v);
}

std::optional<double> BootTime(const std::string& proc_stat) {
  for (absl::string_view line : absl::StrSplit(proc_stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      uint64_t v = 0;
      if (absl::SimpleAtoi(line, &v)) return static_cast<double>(v);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// The soft limit of the "Max open files" row of /proc/<pid>/limits.
std::optional<double> MaxOpenFiles(const std::string& limits) {
  for (absl::string_view line : absl::StrSplit(limits, '\n')) {
    if (!absl::ConsumePrefix(&line, "Max open files")) continue;
    std::vector<absl::string_view> cols = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (cols.empty()) return std::nullopt;
    if (cols[0] == "unlimited") return -1;  // procfs maps "unlimited" to -1 too
    uint64_t v = 0;
    if (absl::SimpleAtoi(cols[0], &v)) return static_cast<double>(v);
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

ProcessCollector::ProcessCollector(ProcessCollectorOptions options)
    : options_(std::move(options)),
      clock_ticks_(options_.clock_ticks > 0 ? options_.clock_ticks : sysconf(_SC_CLK_TCK)),
      page_size_(options_.page_size > 0 ? options_.page_size : sysconf(_SC_PAGESIZE)) {}

std::string ProcessCollector::Name(const char* base) const {
  return options_.name_space.empty() ? std::string(base) : options_.name_space + "_" + base;
}

std::vector<std::string> ProcessCollector::Describe() const {
  return {Name("process_cpu_seconds_total"),    Name("process_open_fds"),
          Name("process_max_fds"),              Name("process_virtual_memory_bytes"),
          Name("process_resident_memory_bytes"), Name("process_start_time_seconds")};
}

void ProcessCollector::Collect(std::vector<MetricFamily>& out) const {
  const std::string dir = options_.proc_root + "/" + options_.pid;
  auto add = [&](const char* name, const char* help, MetricType type, double v) {
    MetricFamily f;
    f.name = Name(name);
    f.help = help;
    f.type = type;
    f.samples.push_back(Sample{"", {}, v});
    out.push_back(std::move(f));
  };

  std::optional<std::vector<std::string>> fields;
  if (std::optional<std::string> stat = ReadFile(dir + "/stat")) fields = StatFields(*stat);
  if (fields) {
    std::optional<double> utime = StatField(*fields, 14);
    std::optional<double> stime = StatField(*fields, 15);
    if (utime && stime && clock_ticks_ > 0) {
      add("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
          MetricType::kCounter, (*utime + *stime) / static_cast<double>(clock_ticks_));
    }
    if (std::optional<double> vsize = StatField(*fields, 23)) {
      add("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::kGauge,
          *vsize);
    }
    if (std::optional<double> rss = StatField(*fields, 24)) {
      add("process_resident_memory_bytes", "Resident memory size in bytes.",
          MetricType::kGauge, *rss * static_cast<double>(page_size_));
    }
    std::optional<double> start = StatField(*fields, 22);
    std::optional<std::string> proc_stat = ReadFile(options_.proc_root + "/stat");
    std::optional<double> btime = proc_stat ? BootTime(*proc_stat) : std::nullopt;
    if (start && btime && clock_ticks_ > 0) {
      add("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
          MetricType::kGauge, *btime + *start / static_cast<double>(clock_ticks_));
    }
  }

  std::error_code ec;
  std::filesystem::directory_iterator it(dir + "/fd", ec);
  if (!ec) {
    double n = 0;
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      ++n;
    }
    if (!ec) {
      add("process_open_fds", "Number of open file descriptors.", MetricType::kGauge, n);
    }
  }
  if (std::optional<std::string> limits = ReadFile(dir + "/limits")) {
    if (std::optional<double> max = MaxOpenFiles(*limits)) {
      add("process_max_fds", "Maximum number of open file descriptors.", MetricType::kGauge,
          *max);
    }
  }
}

absl::Status RegisterProcessCollector(Registry& registry, ProcessCollectorOptions options) {
  return registry.Register(std::make_shared<ProcessCollector>(std::move(options)));
}

}  // namespace kslice::controller::metrics
