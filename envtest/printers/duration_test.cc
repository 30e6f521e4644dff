#include "envtest/printers/duration.h"

#include "gtest/gtest.h"

namespace kslice::envtest::printers {
namespace {

struct Case {
  absl::Duration d;
  const char* want;
};

// Expected values worked out from k8s.io/apimachinery/pkg/util/duration.HumanDuration.
TEST(HumanDuration, Boundaries) {
  const Case cases[] = {
      {absl::Seconds(-3), "<invalid>"},
      {absl::Seconds(-2), "<invalid>"},
      {absl::Milliseconds(-1999), "0s"},  // int(-1.999) == -1: tolerated skew
      {absl::Seconds(-1), "0s"},
      {absl::ZeroDuration(), "0s"},
      {absl::Milliseconds(999), "0s"},
      {absl::Seconds(1), "1s"},
      {absl::Seconds(59), "59s"},
      {absl::Seconds(60), "60s"},
      {absl::Seconds(119), "119s"},
      {absl::Milliseconds(119999), "119s"},
      {absl::Seconds(120), "2m"},
      {absl::Seconds(123), "2m3s"},
      {absl::Seconds(599), "9m59s"},
      {absl::Seconds(600), "10m"},
      {absl::Seconds(659), "10m"},
      {absl::Minutes(179), "179m"},
      {absl::Minutes(180), "3h"},
      {absl::Minutes(181), "3h1m"},
      {absl::Minutes(8 * 60 - 1), "7h59m"},
      {absl::Hours(8), "8h"},
      {absl::Hours(47), "47h"},
      {absl::Hours(48), "2d"},
      {absl::Hours(49), "2d1h"},
      {absl::Hours(24 * 8 - 1), "7d23h"},
      {absl::Hours(24 * 8), "8d"},
      {absl::Hours(24 * 365 * 2 - 1), "729d"},
      {absl::Hours(24 * 365 * 2), "2y"},
      {absl::Hours(24 * 366 * 2), "2y2d"},
      {absl::Hours(24 * (365 * 8 - 1)), "7y364d"},
      {absl::Hours(24 * 365 * 8), "8y"},
      {absl::Hours(24 * 365 * 100), "100y"},
      // Go's Time.Sub saturates at the int64-nanosecond range (~292 years).
      {absl::Hours(24 * 365 * 1000), "292y"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(HumanDuration(c.d), c.want) << absl::FormatDuration(c.d);
  }
}

TEST(ShortHumanDuration, Boundaries) {
  const Case cases[] = {
      {absl::Seconds(-2), "<invalid>"}, {absl::Seconds(-1), "0s"},  {absl::Seconds(59), "59s"},
      {absl::Seconds(60), "1m"},        {absl::Minutes(59), "59m"}, {absl::Minutes(60), "1h"},
      {absl::Hours(23), "23h"},         {absl::Hours(24), "1d"},    {absl::Hours(24 * 364), "364d"},
      {absl::Hours(24 * 365), "1y"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ShortHumanDuration(c.d), c.want) << absl::FormatDuration(c.d);
  }
}

}  // namespace
}  // namespace kslice::envtest::printers
