// Waiting for the API server before a binary starts its controllers, as
// kube-controller-manager's WaitForAPIServer does:
//
//   if (absl::Status s = apiserver::WaitForHealthz(config, absl::Seconds(10), stop); !s.ok()) {
//     if (absl::IsCancelled(s)) return 0;  // stopped by a signal
//     std::cerr << s.message() << "\n";
//     return 1;
//   }
#ifndef KSLICE_CMD_INTERNAL_APISERVER_WAIT_H_
#define KSLICE_CMD_INTERNAL_APISERVER_WAIT_H_

#include <stop_token>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/config/client_config.h"

namespace kslice::cmd::apiserver {

// GET /healthz once a second (5 s per request, no client retries) until it answers, for up
// to `timeout`. A 403 still proves the server is there (OK); a 401 will not get better
// (Unauthenticated at once). Cancelled when `stop` is requested, else Unavailable naming
// the server and the last error.
absl::Status WaitForHealthz(const client::RestConfig& config, absl::Duration timeout,
                            std::stop_token stop);

}  // namespace kslice::cmd::apiserver

#endif  // KSLICE_CMD_INTERNAL_APISERVER_WAIT_H_
