// FakeIptables: a Runner that behaves like iptables, iptables-save and iptables-restore
// on an in-memory model of the chains (and the jump rules inserted into built-in
// chains), for tests of the backend and of the proxier. It records every command.
//
//   auto fake = std::make_unique<FakeIptables>();
//   FakeIptables* ipt = fake.get();
//   auto backend = IptablesBackend::Create(options, std::move(fake));
//   ...
//   EXPECT_TRUE(ipt->HasChain("nat", "KUBE-SVC-XPGD46QRK7WJZT7O"));
//
// Restores are checked like the kernel would: a rule may only jump to a chain that
// exists, and a chain still referenced by some rule cannot be deleted (-X); a failing
// restore changes nothing. Unknown commands fail the call with Unimplemented.
#ifndef KSLICE_PROXY_IPTABLES_FAKE_RUNNER_H_
#define KSLICE_PROXY_IPTABLES_FAKE_RUNNER_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "proxy/iptables/runner.h"

namespace kslice::proxy::iptables {

class FakeIptables : public Runner {
 public:
  struct Call {
    std::vector<std::string> argv;
    std::string input;
  };

  explicit FakeIptables(std::string version = "v1.8.9 (nf_tables)");

  absl::StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                                    absl::string_view input) override;

  // Makes the next `n` iptables-restore calls fail with exit status 2.
  void FailNextRestores(int n);
  // Adds a rule to a chain directly, as a third party (or a test) would.
  void AppendRule(const std::string& table, const std::string& chain, const std::string& rule);
  // Flushes everything (as `iptables -F; iptables -X` on every table would).
  void FlushAll();

  bool HasChain(const std::string& table, const std::string& chain) const;
  std::vector<std::string> Rules(const std::string& table, const std::string& chain) const;
  // Jump rules inserted into built-in chains with -I, as "<table> <chain> <args>".
  std::set<std::string> JumpRules() const;
  std::vector<Call> calls() const;
  std::vector<std::string> restore_inputs() const;

 private:
  using Table = std::map<std::string, std::vector<std::string>>;  // chain -> rules

  CommandResult Restore(absl::string_view input) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  CommandResult Iptables(const std::vector<std::string>& args) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::string version_;
  std::map<std::string, Table> tables_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> jumps_ ABSL_GUARDED_BY(mu_);
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  int fail_restores_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kslice::proxy::iptables

#endif  // KSLICE_PROXY_IPTABLES_FAKE_RUNNER_H_
