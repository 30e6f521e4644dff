// When to retry a REST request, following client-go's rest/with_retry.go.
//
//   RequestRetry retry(RequestKind::kRequest, "GET");
//   while (true) {
//     Response r = Send();
//     std::optional<absl::Duration> wait =
//         r.transport_error ? retry.OnTransportError(r.error_kind)
//                           : retry.OnResponse(r.code, r.header("Retry-After"));
//     if (!wait) return r;
//     clock.SleepUntil(clock.Now() + *wait, stop);
//     limiter.Wait(stop);   // client-go throttles every retry like a new request
//   }
//
// client-go's rules, as found in with_retry.go and request.go (v0.32 .. HEAD):
//   * A response is retried only when its code is 429 or any 5xx AND it carries a
//     Retry-After header that parses as an integer; the wait is that many seconds
//     (client-go's default URL backoff is "none", so the server alone decides). No
//     header, no retry. The verb does not matter: client-go retries a POST that got
//     "503 + Retry-After" too, trusting the server that asked for it.
//   * A request whose body cannot be replayed (streamed from a reader) is never retried.
//   * Transport errors (no response): plain requests retry only GETs, and only on a
//     connection reset, a probable EOF (connection closed, unexpected EOF) or a lost
//     HTTP/2 connection; watch opens retry on a probable EOF or a timeout whatever
//     the verb; streams (logs) never. A retried transport error waits 1 s, as if the
//     server had said "500, Retry-After: 1".
//   * At most max_retries retries (default 10, so up to 11 attempts).
// An optional Backoff makes the wait max(backoff delay, Retry-After), as client-go
// does when a URL backoff is configured.
#ifndef KSLICE_CLIENT_FLOWCONTROL_RETRY_H_
#define KSLICE_CLIENT_FLOWCONTROL_RETRY_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/flowcontrol/backoff.h"

namespace kslice::client::flowcontrol {

// client-go's Request.maxRetries default.
inline constexpr int kDefaultMaxRetries = 10;

enum class RequestKind {
  kRequest,  // Do / DoRaw
  kWatch,    // Watch (the stream open, not events on it)
  kStream,   // Stream (e.g. pod logs)
};

enum class TransportError {
  kConnectionReset,      // ECONNRESET ("connection reset by peer")
  kProbableEof,          // connection closed / unexpected EOF / "use of closed network connection"
  kHttp2ConnectionLost,  // HTTP/2 stream or connection torn down
  kTimeout,              // a network timeout
  kOther,                // anything else (connection refused, TLS failure, DNS, ...)
};

class RequestRetry {
 public:
  // `verb` is the HTTP method. `backoff` (not owned, may be null) must outlive this.
  explicit RequestRetry(RequestKind kind = RequestKind::kRequest, std::string verb = "GET",
                        int max_retries = kDefaultMaxRetries, bool body_replayable = true,
                        Backoff* backoff = nullptr);

  // After a response: how long to wait before retrying, or nullopt to stop and
  // return this response. `retry_after` is the raw header ("" when absent).
  std::optional<absl::Duration> OnResponse(int http_code, absl::string_view retry_after);

  // After a failure to get a response at all.
  std::optional<absl::Duration> OnTransportError(TransportError error);

  // Attempts judged so far (each On* call counts one).
  int attempts() const { return attempts_; }

  // Whether a transport error is retryable for this kind of request and verb.
  static bool IsRetryableTransportError(RequestKind kind, absl::string_view verb,
                                        TransportError error);

 private:
  std::optional<absl::Duration> Decide(int http_code, std::optional<int> retry_after_seconds);

  const RequestKind kind_;
  const std::string verb_;
  const int max_retries_;
  const bool body_replayable_;
  Backoff* const backoff_;  // not owned
  int attempts_ = 0;
};

}  // namespace kslice::client::flowcontrol

#endif  // KSLICE_CLIENT_FLOWCONTROL_RETRY_H_
