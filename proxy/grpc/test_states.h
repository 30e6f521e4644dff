// Test and benchmark helper: ProxyStates that change the way the proxier changes them
// (copy-on-write maps, unchanged entries keep their pointers, version +1, a SyncHint
// naming what changed), driven by a seeded RNG so failures reproduce.
#ifndef KSLICE_PROXY_GRPC_TEST_STATES_H_
#define KSLICE_PROXY_GRPC_TEST_STATES_H_

#include <cstdint>
#include <random>
#include <string>

#include "proxy/backend.h"
#include "proxy/types.h"

namespace kslice::proxy::grpc::testing {

// `services` Services of one TCP port each ("ns-<i%7>/svc-<i>:http"), `endpoints`
// endpoints each, node "node-a" in zone "z1". Version 1.
ProxyState BigState(int services, int endpoints, IPFamily family = IPFamily::kIPv4);

class Churn {
 public:
  explicit Churn(uint64_t seed, IPFamily family = IPFamily::kIPv4);

  // The next state after `changes` random edits of `from` (add/remove/modify Service
  // ports, endpoints, endpoint-only entries, node labels now and then), and the hint
  // the proxier would give: partial naming the changed ports and Services.
  ProxyState Next(const ProxyState& from, int changes, SyncHint* hint);

  // One random endpoint flip on Service port `index` of a BigState-shaped state.
  ProxyState FlipEndpoint(const ProxyState& from, int index, SyncHint* hint);

 private:
  std::mt19937_64 rng_;
  IPFamily family_;
  int counter_ = 0;
};

// Whether two states hold equal maps and node (by value; versions not compared).
bool SameContent(const ProxyState& a, const ProxyState& b, std::string* why);

}  // namespace kslice::proxy::grpc::testing

#endif  // KSLICE_PROXY_GRPC_TEST_STATES_H_
