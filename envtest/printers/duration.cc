#include "envtest/printers/duration.h"

#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"

namespace kslice::envtest::printers {
namespace {

// Go's time.Duration is int64 nanoseconds; Time.Sub saturates at its bounds.
int64_t ClampedNanos(absl::Duration d) {
  if (d >= absl::Nanoseconds(std::numeric_limits<int64_t>::max())) {
    return std::numeric_limits<int64_t>::max();
  }
  if (d <= absl::Nanoseconds(std::numeric_limits<int64_t>::min())) {
    return std::numeric_limits<int64_t>::min();
  }
  return absl::ToInt64Nanoseconds(d);
}

constexpr int64_t kSecond = 1000000000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;

}  // namespace

std::string HumanDuration(absl::Duration duration) {
  const int64_t d = ClampedNanos(duration);
  // Integer division truncates toward zero, as Go's int(d.Seconds()) does.
  const int64_t seconds = d / kSecond;
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return absl::StrCat(seconds, "s");
  const int64_t minutes = d / kMinute;
  if (minutes < 10) {
    const int64_t s = seconds % 60;
    if (s == 0) return absl::StrCat(minutes, "m");
    return absl::StrCat(minutes, "m", s, "s");
  }
  if (minutes < 60 * 3) return absl::StrCat(minutes, "m");
  const int64_t hours = d / kHour;
  if (hours < 8) {
    const int64_t m = minutes % 60;
    if (m == 0) return absl::StrCat(hours, "h");
    return absl::StrCat(hours, "h", m, "m");
  }
  if (hours < 48) return absl::StrCat(hours, "h");
  if (hours < 24 * 8) {
    const int64_t h = hours % 24;
    if (h == 0) return absl::StrCat(hours / 24, "d");
    return absl::StrCat(hours / 24, "d", h, "h");
  }
  if (hours < 24 * 365 * 2) return absl::StrCat(hours / 24, "d");
  if (hours < 24 * 365 * 8) {
    const int64_t days = (hours / 24) % 365;
    if (days == 0) return absl::StrCat(hours / 24 / 365, "y");
    return absl::StrCat(hours / 24 / 365, "y", days, "d");
  }
  return absl::StrCat(hours / 24 / 365, "y");
}

std::string ShortHumanDuration(absl::Duration duration) {
  const int64_t d = ClampedNanos(duration);
  const int64_t seconds = d / kSecond;
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60) return absl::StrCat(seconds, "s");
  const int64_t minutes = d / kMinute;
  if (minutes < 60) return absl::StrCat(minutes, "m");
  const int64_t hours = d / kHour;
  if (hours < 24) return absl::StrCat(hours, "h");
  if (hours < 24 * 365) return absl::StrCat(hours / 24, "d");
  return absl::StrCat(hours / 24 / 365, "y");
}

}  // namespace kslice::envtest::printers
