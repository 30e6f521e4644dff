#include "cmd/internal/apiserver/wait.h"

#include <chrono>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/rest/client.h"

namespace kslice::cmd::apiserver {

absl::Status WaitForHealthz(const client::RestConfig& config, absl::Duration timeout,
                            std::stop_token stop) {
  client::RestConfig probe = config;
  probe.timeout = absl::Seconds(5);
  client::ClientOptions options;
  options.max_retries = 0;
  absl::StatusOr<std::unique_ptr<client::RestClient>> c =
      client::RestClient::Create(probe, options);
  if (!c.ok()) return c.status();
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last;
  while (!stop.stop_requested()) {
    absl::StatusOr<client::Response> r = (*c)->Send("GET", "/healthz");
    if (r.ok() || absl::IsPermissionDenied(r.status())) return absl::OkStatus();
    last = r.status();
    if (absl::IsUnauthenticated(last)) {
      return absl::UnauthenticatedError(absl::StrCat(
          "the API server at ", config.host, " rejected the credentials: ", last.message()));
    }
    if (absl::Now() + absl::Seconds(1) > deadline) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (stop.stop_requested()) return absl::CancelledError("stopped");
  return absl::UnavailableError(absl::StrCat("cannot reach the API server at ", config.host,
                                             " (waited ", absl::FormatDuration(timeout),
                                             " for /healthz): ", last.message()));
}

}  // namespace kslice::cmd::apiserver
