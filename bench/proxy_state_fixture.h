// The synthetic proxy state every proxy benchmark uses, so figures of different backends
// (iptables, nftables, gRPC) describe the same workload:
//
//   ProxyState s = kslice::bench::MakeProxyState(10000, 10);
//
// `services` ClusterIP services `ns<i % 100>/svc<i>`, port "http" TCP 80, ClusterIPs
// 172.30.<i / 250>.<i % 250 + 1>, each with `endpoints` endpoints on port 8080 whose IPs
// count up through 10.0.0.0/8 and whose nodes cycle over node-0 .. node-99; the proxy's
// node is node-0. Endpoint lists are sorted as the change tracker sorts them.
#ifndef KSLICE_BENCH_PROXY_STATE_FIXTURE_H_
#define KSLICE_BENCH_PROXY_STATE_FIXTURE_H_

#include <cstddef>
#include <cstdint>

#include "proxy/types.h"

namespace kslice::bench {

proxy::ProxyState MakeProxyState(int services, int endpoints);

// `base` with the endpoint list of `port` cut to its first `keep` entries, as version
// `version` (a one-service change for partial-sync benchmarks).
proxy::ProxyState WithFewerEndpoints(const proxy::ProxyState& base,
                                     const proxy::ServicePortName& port, size_t keep,
                                     uint64_t version);

}  // namespace kslice::bench

#endif  // KSLICE_BENCH_PROXY_STATE_FIXTURE_H_
