// Human-readable ages, as kubectl shows them in AGE and "3 (5m ago)" cells.
//
//   HumanDuration(absl::Seconds(125))  -> "2m5s"
//   HumanDuration(absl::Hours(50))     -> "2d2h"
//
// These follow k8s.io/apimachinery/pkg/util/duration: precision falls as the duration
// grows (about two significant units), a duration down to one second in the past is
// "0s" (clock skew), and anything further in the past is "<invalid>".
#ifndef KSLICE_ENVTEST_PRINTERS_DURATION_H_
#define KSLICE_ENVTEST_PRINTERS_DURATION_H_

#include <string>

#include "absl/time/time.h"

namespace kslice::envtest::printers {

// "59s", "119s", "2m", "2m3s", "9m59s", "10m", "179m", "3h", "7h59m", "8h", "47h",
// "2d", "2d1h", "7d23h", "8d", "729d", "2y", "2y1d", "7y364d", "8y". Durations beyond
// Go's time.Duration range are clamped to it (about 292 years), as Go's Time.Sub does.
std::string HumanDuration(absl::Duration d);

// The coarser form: one unit ("59s", "1m", "59m", "1h", "23h", "1d", "364d", "1y").
std::string ShortHumanDuration(absl::Duration d);

}  // namespace kslice::envtest::printers

#endif  // KSLICE_ENVTEST_PRINTERS_DURATION_H_
