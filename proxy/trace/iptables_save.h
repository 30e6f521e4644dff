// Reading iptables rules as `iptables-save` prints them (and as `iptables-restore`
// reads them), so that kslice-trace can compare what a node has with what the proxy's
// own generator (proxy/iptables/ruleset.h) would write.
//
//   absl::StatusOr<SavedRuleset> live = ParseIptablesSave(iptables_save_output);
//   const SavedChain* svc = live->Find("nat", "KUBE-SVC-6IM33IEVEEV7U3GP");
//   for (const SavedRule& r : svc->rules) std::cout << r.Render() << "\n";
//
// The kernel does not give rules back as they were written: iptables-save puts
// addresses first with a mask (`-d 10.96.204.67/32`), the protocol before the
// matches, quotes every comment, prints marks without leading zeros, `--or-mark X` as
// `--set-xmark X/X`, probabilities with 11 digits of the 31-bit value the kernel keeps,
// and the defaults of `recent` (`--mask 255.255.255.255 --rsource`). `SavedRule::Key()`
// is a canonical form in which a restore line and the kernel's listing of it are
// equal, so the two sides can be compared rule by rule; `Render()` prints a rule the
// way iptables-save does (for output that looks like the node's).
//
// Accepted input: `*table` sections ending with `COMMIT`, `:CHAIN POLICY [p:b]`
// declarations, `-A CHAIN ...` rules (optionally preceded by `[p:b]` counters from
// `iptables-save -c`), `-X`/`-F`/`-N` lines (restore payloads), `#` comments and blank
// lines. Rule arguments follow the shell-like quoting iptables-save uses (double
// quotes, backslash escapes). Anything else is an InvalidArgument error naming the
// line: the parser never guesses.
#ifndef KSLICE_PROXY_TRACE_IPTABLES_SAVE_H_
#define KSLICE_PROXY_TRACE_IPTABLES_SAVE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kslice::proxy::trace {

// One `-m NAME ...` match (or the implicit protocol match of `-p tcp --dport 80`), or
// the target's options. `args` are the tokens after the name, "!" kept as a token.
struct SavedModule {
  std::string name;
  std::vector<std::string> args;
};

struct SavedRule {
  std::string chain;
  int line_number = 0;  // in the input, 1-based
  // Basic matches, with a leading "!" when negated ("!192.168.0.0/16"); "" when absent.
  std::string source, destination, protocol, in_interface, out_interface;
  std::vector<SavedModule> matches;  // in input order
  std::string target;                // "" for a rule without -j/-g (counts only)
  bool go_to = false;                // -g instead of -j
  std::vector<std::string> target_args;

  // The value of option `option` ("--comment") of match `module` ("comment"); the
  // first one; nullopt when absent. A negated option's value is returned without "!".
  std::optional<std::string> MatchOption(absl::string_view module, absl::string_view option) const;
  bool HasMatch(absl::string_view module) const;
  // The value of a target option ("--to-destination"), or nullopt.
  std::optional<std::string> TargetOption(absl::string_view option) const;

  // -m comment --comment, or "".
  std::string Comment() const;
  // -m statistic --mode random --probability P: P as written; nullopt otherwise.
  std::optional<std::string> Probability() const;

  // Canonical form for comparisons (see the file comment). Counter-only modules
  // (nfacct) are left out: they count packets, they do not change where they go.
  std::string Key() const;
  // The rule as iptables-save prints it: "-A CHAIN -d 10.96.204.67/32 -p tcp ...".
  std::string Render() const;
};

struct SavedChain {
  std::string name;
  std::string policy;  // "ACCEPT" for built-in chains, "-" for user chains
  std::vector<SavedRule> rules;
};

struct SavedTable {
  std::string name;
  std::vector<std::string> chain_order;       // as declared
  std::map<std::string, SavedChain> chains;  // by name
};

struct SavedRuleset {
  std::map<std::string, SavedTable> tables;  // "nat", "filter", ...

  // The chain, or null when the table or chain is absent. Valid while this lives.
  const SavedChain* Find(absl::string_view table, absl::string_view chain) const;
  // Adds the tables of `other`; a table present in both is replaced by other's.
  void Merge(SavedRuleset other);
};

// Parses iptables-save output or an iptables-restore payload. Several dumps may be
// concatenated (`iptables-save -t nat; iptables-save -t filter`).
absl::StatusOr<SavedRuleset> ParseIptablesSave(absl::string_view text);

// Splits one line into arguments as iptables-restore does: whitespace separates,
// double quotes group (and are removed), a backslash escapes the next character
// inside quotes. InvalidArgument for an unterminated quote.
absl::StatusOr<std::vector<std::string>> SplitRuleArgs(absl::string_view line);

// The probability the kernel stores for `--probability text` (xt_statistic keeps
// round(p * 2^31) in 32 bits), printed as iptables-save prints it ("0.50000000000").
// nullopt when `text` is not a number in [0, 1].
std::optional<std::string> KernelProbability(absl::string_view text);
// The same value as a number (for effective shares).
std::optional<double> KernelProbabilityValue(absl::string_view text);

}  // namespace kslice::proxy::trace

#endif  // KSLICE_PROXY_TRACE_IPTABLES_SAVE_H_
