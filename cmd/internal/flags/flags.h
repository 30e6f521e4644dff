// Command-line parsing shared by the kslice binaries: pflag's syntax (what kube-proxy and
// kube-controller-manager accept), a table of flags, and setters that turn a value into
// a typed field with a message naming the flag when it cannot.
//
//   struct Options { std::string kubeconfig; bool verbose = false; absl::Duration period; };
//   Options o;
//   std::vector<flags::Flag> table = {
//       {{"kubeconfig"}, false, flags::StringSetter(&o.kubeconfig)},
//       {{"verbose"}, true, flags::BoolSetter("verbose", &o.verbose)},
//       {{"sync-period"}, false, flags::DurationSetter("sync-period", &o.period)},
//   };
//   if (absl::Status s = flags::ParseArgs(args, table); !s.ok()) { ...; return 2; }
//
// Syntax (ParseArgs): `--name=value` and `--name value`, one dash works too (`-f FILE`,
// `-h`); a boolean flag takes no value (`--verbose`) or an explicit one
// (`--verbose=false`; `--verbose false` is NOT a value: "false" would be a positional
// argument, as in pflag). Positional arguments and unknown flags are errors. A flag given
// twice is set twice (the last value wins for plain setters; list setters append).
//
// Every error is absl::InvalidArgumentError with a one-line message ("invalid value for
// --sync-period: \"soon\" is not a duration (examples: 0, 500ms, 1s, 1m30s)", "unknown
// flag: --x", "flag needs an argument: --kubeconfig"); binaries print it and exit 2.
// Range checks and cross-flag rules belong to each binary, after ParseArgs: use Bad() so
// their messages read the same. Logging flags (-v, --vmodule, --logging-format) are taken
// out earlier by kslice::log::ParseFlags, not here.
//
// Leader election: LeaderElectionFlags + AddLeaderElectionFlags give a binary
// kube-controller-manager's --leader-elect* flags, checked by ValidateLeaderElection as
// client-go's NewLeaderElector checks its config.
#ifndef KSLICE_CMD_INTERNAL_FLAGS_FLAGS_H_
#define KSLICE_CMD_INTERNAL_FLAGS_FLAGS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kslice::cmd::flags {

// Applies one value to its destination; InvalidArgument (made with Bad) when it cannot.
using Setter = std::function<absl::Status(const std::string& value)>;

// One flag: every name it answers to (without dashes), whether it is a boolean (takes no
// value of its own), and what to do with the value.
struct Flag {
  std::vector<std::string> names;
  bool boolean = false;
  Setter set;
};

// Parses `args` (argv without the program name) against `flags`; see the file comment.
// Stops at the first error.
absl::Status ParseArgs(const std::vector<std::string>& args, const std::vector<Flag>& flags);

// InvalidArgument "invalid value for --<flag>: <message>".
absl::Status Bad(absl::string_view flag, absl::string_view message);

// Setters. `name` is the flag's name for messages; `out` is not owned and must outlive
// the setter (it is written on every use).
Setter StringSetter(std::string* out);
Setter BoolSetter(std::string name, bool* out);     // true/false/1/0/t/f/yes/no (absl)
Setter IntSetter(std::string name, int* out);
Setter Int32Setter(std::string name, int32_t* out);
Setter FloatSetter(std::string name, float* out);
// Go duration syntax ("0", "500ms", "1s", "1m30s"), as time.ParseDuration.
Setter DurationSetter(std::string name, absl::Duration* out);
// Repeatable KEY=VALUE (e.g. --backend-opt grpc.listen=unix:/run/x.sock): each use adds
// one entry to `out`; the key must be non-empty and contain no whitespace, the value may
// be empty ("a=") and may contain '='; a key given twice keeps the last value.
Setter KeyValueSetter(std::string name, std::map<std::string, std::string>* out);

// kube-controller-manager's leader-election flags (client-go's defaults).
struct LeaderElectionFlags {
  bool leader_elect = true;                               // --leader-elect
  absl::Duration lease_duration = absl::Seconds(15);      // --leader-elect-lease-duration
  absl::Duration renew_deadline = absl::Seconds(10);      // --leader-elect-renew-deadline
  absl::Duration retry_period = absl::Seconds(2);         // --leader-elect-retry-period
  std::string lease_name;                                 // --leader-elect-resource-name
  std::string lease_namespace = "kube-system";            // --leader-elect-resource-namespace
  std::string lock = "leases";                            // --leader-elect-resource-lock
};

// Appends the --leader-elect* flags, writing into `out` (not owned; must outlive the
// table).
void AddLeaderElectionFlags(LeaderElectionFlags* out, std::vector<Flag>* table);

// The checks and messages of client-go's NewLeaderElector (lease > renew > retry x 1.2,
// all > 0), a non-empty Lease name and namespace, and "leases" as the only lock. Call
// only when leader election is on.
absl::Status ValidateLeaderElection(const LeaderElectionFlags& f);

}  // namespace kslice::cmd::flags

#endif  // KSLICE_CMD_INTERNAL_FLAGS_FLAGS_H_
