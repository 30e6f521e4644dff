// The text forms of Kubernetes time values, as Go's time package writes and reads them.
#ifndef KSLICE_API_CODEC_GO_TIME_H_
#define KSLICE_API_CODEC_GO_TIME_H_

#include <cstdint>
#include <string>


#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kslice::codec {

struct UnixTime {
  int64_t seconds = 0;
  int32_t nanos = 0;
};

// RFC 3339 in UTC: "2006-01-02T15:04:05Z" (fraction_digits 0) or with exactly
// fraction_digits fractional digits ("...05.000000Z" for 6). Years outside
// 0000..9999 are an error, as in Go.
absl::StatusOr<std::string> FormatRfc3339(UnixTime t, int fraction_digits);

// Parses RFC 3339 ("Z" or a numeric offset, optional fraction of up to 9 digits).
absl::StatusOr<UnixTime> ParseRfc3339(absl::string_view text);

// Go's time.Duration.String(): "0s", "1.5s", "100ms", "2h45m0.5s", "-1m0s".
std::string FormatGoDuration(int64_t nanos);

// Go's time.ParseDuration: a signed sequence of decimal numbers with units
// ns, us (µs, μs), ms, s, m, h; "0" alone is allowed. Overflow is an error.
absl::StatusOr<int64_t> ParseGoDuration(absl::string_view text);

}  // namespace kslice::codec

#endif  // KSLICE_API_CODEC_GO_TIME_H_
