// DryRunOnce: what the backend registered under a --proxy-mode name prints for one
// state in dry-run mode, for the registration tests of each backend.
//
//   BackendOptions o;
//   o.node_name = "node-a";
//   o.cluster_cidrs = {"192.168.0.0/16"};
//   absl::StatusOr<std::string> out = proxy::testing::DryRunOnce("iptables", o, state);
#ifndef KSLICE_PROXY_TESTING_DRY_RUN_H_
#define KSLICE_PROXY_TESTING_DRY_RUN_H_

#include <string>

#include "absl/status/statusor.h"
#include "proxy/backend.h"
#include "proxy/types.h"

namespace kslice::proxy::testing {

// Makes the backend registered as `mode` with `options` (dry_run and dry_run_output are
// set here), checks that it calls itself `mode`, syncs `state` once in full and returns
// what it wrote. Errors: NewBackend's or Sync's; Internal when the name differs.
absl::StatusOr<std::string> DryRunOnce(const std::string& mode, BackendOptions options,
                                       const ProxyState& state);

}  // namespace kslice::proxy::testing

#endif  // KSLICE_PROXY_TESTING_DRY_RUN_H_
