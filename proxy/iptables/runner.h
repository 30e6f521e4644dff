// Runner: how the iptables backend runs iptables, iptables-save and iptables-restore.
//
// A small seam so that tests can replace the binaries with a fake that records the
// commands and answers them (runner_fake.h), while the real one (NewExecRunner) spawns
// the program with posix_spawn, writes `input` to its stdin and collects stdout and
// stderr. Writing and reading are interleaved with poll(), so multi-megabyte restore
// payloads and large iptables-save outputs cannot deadlock on full pipes.
#ifndef KSLICE_PROXY_IPTABLES_RUNNER_H_
#define KSLICE_PROXY_IPTABLES_RUNNER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kslice::proxy::iptables {

struct CommandResult {
  int exit_code = 0;  // the program's exit status; 128 + signal if it was killed
  std::string stdout_data;
  std::string stderr_data;
};

class Runner {
 public:
  virtual ~Runner() = default;
  // Runs argv[0] (looked up in PATH, then /usr/local/sbin, /usr/sbin, /sbin) with argv and `input` on its stdin, and waits for
  // it. A non-zero exit is a CommandResult, not an error; errors are reserved for
  // failing to run the program at all (NotFound when it does not exist).
  virtual absl::StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                                            absl::string_view input) = 0;
};

// The real runner. Thread-safe (each call spawns its own process). Creating it sets
// SIGPIPE to ignored for the process, so a program that exits without reading all of
// its stdin yields a write error here instead of killing the caller.
std::unique_ptr<Runner> NewExecRunner();

// argv joined for logs and error messages: "iptables-restore -w 5 --noflush".
std::string CommandString(const std::vector<std::string>& argv);

}  // namespace kslice::proxy::iptables

#endif  // KSLICE_PROXY_IPTABLES_RUNNER_H_
