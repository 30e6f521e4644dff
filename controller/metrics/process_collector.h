// Process metrics from /proc, with the names, help texts and types of the Go client's
// process collector (prometheus/client_golang collectors.NewProcessCollector):
//
//   process_cpu_seconds_total       counter  user+system CPU time (utime+stime of stat)
//   process_open_fds                gauge    entries of /proc/<pid>/fd
//   process_max_fds                 gauge    soft "Max open files" of /proc/<pid>/limits
//   process_virtual_memory_bytes    gauge    vsize of stat
//   process_resident_memory_bytes   gauge    rss of stat times the page size
//   process_start_time_seconds      gauge    btime of /proc/stat + starttime of stat
//
//   if (absl::Status s = RegisterProcessCollector(metrics::Registry::Default()); !s.ok()) ...
//
// The files are read at every gather. A metric whose source cannot be read or parsed
// is left out of that gather (the Go client reports a collection error instead).
// Linux only. Not exported (unlike the Go client): process_virtual_memory_max_bytes
// and the network counters.
#ifndef KSLICE_CONTROLLER_METRICS_PROCESS_COLLECTOR_H_
#define KSLICE_CONTROLLER_METRICS_PROCESS_COLLECTOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "controller/metrics/metrics.h"

namespace kslice::controller::metrics {

struct ProcessCollectorOptions {
  // The proc file system and the process directory inside it; tests point these at
  // a fixture.
  std::string proc_root = "/proc";
  std::string pid = "self";
  // Clock ticks per second and page size; 0 means sysconf(_SC_CLK_TCK) and
  // sysconf(_SC_PAGESIZE).
  long clock_ticks = 0;
  long page_size = 0;
  // Prepended with '_' to every name when not empty (the Go client's Namespace).
  std::string name_space;
};

class ProcessCollector : public Collector {
 public:
  explicit ProcessCollector(ProcessCollectorOptions options = {});

  std::vector<std::string> Describe() const override;
  void Collect(std::vector<MetricFamily>& out) const override;

 private:
  std::string Name(const char* base) const;
  const ProcessCollectorOptions options_;
  const long clock_ticks_;
  const long page_size_;
};

// Registers a ProcessCollector for the current process in `registry`.
absl::Status RegisterProcessCollector(Registry& registry, ProcessCollectorOptions options = {});

}  // namespace kslice::controller::metrics

#endif  // KSLICE_CONTROLLER_METRICS_PROCESS_COLLECTOR_H_
