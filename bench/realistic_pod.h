// The benchmarks' production-like pod: 3 containers (ports, env, resources, probes,
// mounts), labels, annotations, an owner reference, managedFields, 5 conditions and 3
// container statuses — about 2.8 KB of protobuf, 4.8 KB of JSON.
#ifndef KSLICE_BENCH_REALISTIC_POD_H_
#define KSLICE_BENCH_REALISTIC_POD_H_

#include "api/core/v1/core.pb.h"

namespace kslice::bench {

// The i-th pod of a large deployment: name, namespace (20 of them), node (100), pod IP
// and a "shard" label (10 values, for 10% selectors) vary with i. with_server_fields
// adds what an API server assigns (uid, resourceVersion, creationTimestamp).
kslice::api::core::v1::Pod RealisticPod(int i = 0, bool with_server_fields = true);

}  // namespace kslice::bench

#endif  // KSLICE_BENCH_REALISTIC_POD_H_
