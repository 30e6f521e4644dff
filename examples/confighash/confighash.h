// An example controller on the kslice library: it keeps the annotation
// `example.kslice.io/data-hash` of every ConfigMap equal to a hash of its data, the way
// operators stamp a hash on a Deployment's pod template so pods restart when their
// configuration changes. The whole pattern in one place: the Manager (client,
// informers, health, leader election), an informer with handlers that enqueue keys,
// a rate-limited work queue with workers, and a reconcile that reads the cache and
// writes through the client.
#ifndef KSLICE_EXAMPLES_CONFIGHASH_CONFIGHASH_H_
#define KSLICE_EXAMPLES_CONFIGHASH_CONFIGHASH_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "api/core/v1/core.pb.h"
#include "controller/manager/manager.h"

namespace kslice::examples {

inline constexpr char kHashAnnotation[] = "example.kslice.io/data-hash";

// FNV-1a of the ConfigMap's data and binaryData, in key order, as 16 hex digits.
std::string DataHash(const api::core::v1::ConfigMap& cm);

// Sets up the informer, handlers and controller on `manager` (not owned; the returned
// controller must outlive manager->Run).
absl::StatusOr<std::unique_ptr<controller::Controller>> SetUpConfigHash(
    controller::Manager& manager, int workers = 2);

}  // namespace kslice::examples

#endif  // KSLICE_EXAMPLES_CONFIGHASH_CONFIGHASH_H_
