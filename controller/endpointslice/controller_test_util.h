// Helpers for the EndpointSlice controller's envtest tests and its resync benchmark:
// builders of Services and Pods, a pod made Running/Ready with an IP through the status
// subresource (as kubelet would), slice listing, polling, and reading a counter family
// out of a metrics registry. Not for production code.
#ifndef KSLICE_CONTROLLER_ENDPOINTSLICE_CONTROLLER_TEST_UTIL_H_
#define KSLICE_CONTROLLER_ENDPOINTSLICE_CONTROLLER_TEST_UTIL_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/core/v1/core.pb.h"
#include "api/discovery/v1/discovery.pb.h"
#include "client/rest/client.h"
#include "controller/metrics/metrics.h"

namespace kslice::endpointslice::testutil {

struct PortSpec {
  std::string name;
  int32_t port = 80;
  // The target: a container port name when non-empty, else target_number.
  std::string target_name{};
  int32_t target_number = 0;
};

// A ClusterIP Service (the server allocates the IP) selecting `selector`.
api::core::v1::Service MakeService(const std::string& ns, const std::string& name,
                                   const std::map<std::string, std::string>& selector,
                                   const std::vector<PortSpec>& ports);

// A pod with one container "app" exposing containerPort 8080 named "http", on
// `node` (may be empty), with `labels`.
api::core::v1::Pod MakePod(const std::string& ns, const std::string& name,
                           const std::map<std::string, std::string>& labels,
                           const std::string& node);

// Sets the status of `pod` (as stored: with its resourceVersion) to Running with `ip`
// and a Ready condition of `ready`, through the status subresource.
absl::StatusOr<api::core::v1::Pod> SetPodStatus(client::RestClient& c, api::core::v1::Pod pod,
                                                const std::string& ip, bool ready);

// MakePod + create + SetPodStatus.
absl::StatusOr<api::core::v1::Pod> CreateRunningPod(client::RestClient& c, const std::string& ns,
                                                    const std::string& name,
                                                    const std::map<std::string, std::string>& labels,
                                                    const std::string& ip, bool ready,
                                                    const std::string& node = "");

// "10.a.b.c" for index i (distinct for i < 2^24).
std::string IPForIndex(int i);

// Creates pods `prefix`0 .. `prefix`(count-1) with `labels` on `node`, Running and
// Ready with IPForIndex(first_ip + i), from `threads` threads sharing `c`.
absl::Status CreateRunningPods(client::RestClient& c, const std::string& ns,
                               const std::string& prefix, int count,
                               const std::map<std::string, std::string>& labels,
                               const std::string& node, int first_ip, int threads);

// The slices carrying kubernetes.io/service-name=<service>, read from the server.
absl::StatusOr<std::vector<api::discovery::v1::EndpointSlice>> SlicesOf(
    client::RestClient& c, const std::string& ns, const std::string& service);

// Endpoints over all slices.
int EndpointCount(const std::vector<api::discovery::v1::EndpointSlice>& slices);

// Polls `done` every 20 ms until it is true (true) or `timeout` passes (false).
bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout);

// The sum of every series of the counter/gauge family `name` in the registry's text
// exposition (0 when absent).
double MetricSum(controller::metrics::Registry& registry, std::string_view name);

}  // namespace kslice::endpointslice::testutil

#endif  // KSLICE_CONTROLLER_ENDPOINTSLICE_CONTROLLER_TEST_UTIL_H_
