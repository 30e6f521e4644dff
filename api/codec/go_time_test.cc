#include "api/codec/go_time.h"

#include "gtest/gtest.h"

namespace kslice::codec {
namespace {

TEST(Rfc3339, FormatsLikeGo) {
  EXPECT_EQ(*FormatRfc3339({1199149261, 0}, 0), "2008-01-01T01:01:01Z");
  EXPECT_EQ(*FormatRfc3339({1041382861, 3000}, 6), "2003-01-01T01:01:01.000003Z");
  EXPECT_EQ(*FormatRfc3339({0, 0}, 0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(*FormatRfc3339({-62135596800, 0}, 0), "0001-01-01T00:00:00Z");
  EXPECT_FALSE(FormatRfc3339({253402300800, 0}, 0).ok());  // year 10000
}

TEST(Rfc3339, Parses) {
  auto t = ParseRfc3339("2008-01-01T01:01:01Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->seconds, 1199149261);
  EXPECT_EQ(t->nanos, 0);
  t = ParseRfc3339("2008-01-01T03:01:01.5+02:00");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->seconds, 1199149261);
  EXPECT_EQ(t->nanos, 500000000);
  t = ParseRfc3339("2003-01-01T01:01:01.000003Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->nanos, 3000);
  for (const char* bad : {"", "2008-01-01", "2008-01-01T01:01:01", "2008-13-01T01:01:01Z",
                          "2008-02-30T01:01:01Z", "2008-01-01T25:01:01Z", "2008-01-01 01:01:01Z",
                          "2008-01-01T01:01:01.Z", "2008-01-01T01:01:01Zjunk", "20080-01-01T01:01:01Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).ok()) << bad;
  }
}

TEST(GoDuration, FormatsLikeTimeDurationString) {
  EXPECT_EQ(FormatGoDuration(0), "0s");
  EXPECT_EQ(FormatGoDuration(1), "1ns");
  EXPECT_EQ(FormatGoDuration(1500), "1.5\xc2\xb5s");
  EXPECT_EQ(FormatGoDuration(100000000), "100ms");
  EXPECT_EQ(FormatGoDuration(1500000000), "1.5s");
  EXPECT_EQ(FormatGoDuration(3600000000000), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(9900000000000 + 500000000), "2h45m0.5s");
  EXPECT_EQ(FormatGoDuration(-60000000000), "-1m0s");
  EXPECT_EQ(FormatGoDuration(INT64_MIN), "-2562047h47m16.854775808s");
}

TEST(GoDuration, Parses) {
  EXPECT_EQ(*ParseGoDuration("0"), 0);
  EXPECT_EQ(*ParseGoDuration("1h2m3s"), 3723000000000);
  EXPECT_EQ(*ParseGoDuration("1.5s"), 1500000000);
  EXPECT_EQ(*ParseGoDuration("-1m0s"), -60000000000);
  EXPECT_EQ(*ParseGoDuration("300ms"), 300000000);
  EXPECT_EQ(*ParseGoDuration("2us"), 2000);
  EXPECT_EQ(*ParseGoDuration("2\xc2\xb5s"), 2000);
  EXPECT_EQ(*ParseGoDuration(".5h"), 1800000000000);
  EXPECT_EQ(*ParseGoDuration("2562047h47m16.854775807s"), INT64_MAX);
  EXPECT_EQ(*ParseGoDuration("-2562047h47m16.854775808s"), INT64_MIN);
  for (const char* bad : {"", "1", "s", "1x", "1.s.", "9999999999h", "2562047h47m16.854775808s",
                          "--1s", "1h-1m"}) {
    EXPECT_FALSE(ParseGoDuration(bad).ok()) << bad;
  }
  for (int64_t v : {int64_t{1}, int64_t{999}, int64_t{1500}, int64_t{61000000000},
                    int64_t{-3723000000001}}) {
    EXPECT_EQ(*ParseGoDuration(FormatGoDuration(v)), v) << v;
  }
}

}  // namespace
}  // namespace kslice::codec
