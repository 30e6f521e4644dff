#include "client/flowcontrol/retry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "client/errors/errors.h"

namespace kslice::client::flowcontrol {

RequestRetry::RequestRetry(RequestKind kind, std::string verb, int max_retries,
                           bool body_replayable, Backoff* backoff)
    : kind_(kind),
      verb_(absl::AsciiStrToUpper(verb)),
      max_retries_(std::max(max_retries, 0)),
      body_replayable_(body_replayable),
      backoff_(backoff) {}

bool RequestRetry::IsRetryableTransportError(RequestKind kind, absl::string_view verb,
                                             TransportError error) {
  switch (kind) {
    case RequestKind::kRequest:
      // Writes are not idempotent: a reset may have come after the server acted.
      if (absl::AsciiStrToUpper(verb) != "GET") return false;
      return error == TransportError::kConnectionReset || error == TransportError::kProbableEof ||
             error == TransportError::kHttp2ConnectionLost;
    case RequestKind::kWatch:
      return error == TransportError::kProbableEof || error == TransportError::kTimeout;
    case RequestKind::kStream:
      return false;
  }
  return false;
}

std::optional<absl::Duration> RequestRetry::Decide(int http_code,
                                                   std::optional<int> retry_after_seconds) {
  if (!body_replayable_) return std::nullopt;
  ++attempts_;
  if (attempts_ > max_retries_) return std::nullopt;
  if (http_code != 429 && http_code < 500) return std::nullopt;
  if (!retry_after_seconds.has_value()) return std::nullopt;
  // A negative Retry-After parses (Go's Atoi) and means "no wait".
  absl::Duration wait = absl::Seconds(std::max(*retry_after_seconds, 0));
  if (backoff_ != nullptr) wait = backoff_->Next(wait);
  return wait;
}

std::optional<absl::Duration> RequestRetry::OnResponse(int http_code,
                                                       absl::string_view retry_after) {
  return Decide(http_code, kslice::client::ParseRetryAfterSeconds(retry_after));
}

std::optional<absl::Duration> RequestRetry::OnTransportError(TransportError error) {
  if (!IsRetryableTransportError(kind_, verb_, error)) {
    // Still an attempt; client-go counts it before looking at the error.
    if (body_replayable_) ++attempts_;
    return std::nullopt;
  }
  return Decide(500, 1);
}

}  // namespace kslice::client::flowcontrol
